"""Planning a night's sync at scale, as a ratio of a raw pyarrow read of the export.

    python bench/bench_plan.py [--rows 1000000] [--churn 0.03]

Builds last night's state (every contact of a generated export, loaded into the SQLite
state), then times tonight's plan as ``sms123-sync plan`` makes it (``make_plan``): read +
normalise the churned export while the state loads, diff, guard. Prints time and peak
memory next to ``pandas.read_csv(engine="pyarrow")`` of the same file, measured in the
same run, each in its own child process: the best of three runs on each side, the two
sides alternated (a plan does not change the state).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from bench.bench_read import MAPPING, _paired, allocator, peak_kb, walls  # noqa: E402


def _plan(path: str, mapping: str, state: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    """What ``sms123-sync plan`` does: :func:`make_plan` reads the export while the state
    loads, plans, and weighs the guard."""
    from sms123_sync.reconcile.plan import PlanOptions
    from sms123_sync.reconcile.sync import make_plan

    start, cpu = time.perf_counter(), time.process_time()
    _, plan = make_plan(path, mapping, state, PlanOptions())
    elapsed = time.perf_counter() - start
    out.put((elapsed, len(plan), peak_kb(), time.process_time() - cpu))


def _build_state(path: Path, mapping: Path, state: Path) -> int:
    from sms123_sync.mapping.pipeline import read_desired
    from sms123_sync.reconcile.state import StateStore

    desired = read_desired(path, mapping).state
    rows = desired.memberships.merge(desired.contacts, on="key").rename(columns={"group": "groupe"})
    store = StateStore(state)
    try:
        return store.import_members(rows, origin="created")
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--churn", type=float, default=0.03)
    args = parser.parse_args()
    print(f"Arrow allocator: {allocator()}")
    from bench.exports import churn, make_export

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        mapping = tmp / "m.yaml"
        mapping.write_text(MAPPING, encoding="utf-8")
        yesterday = make_export(args.rows)
        yesterday.to_csv(tmp / "yesterday.csv", sep=";", index=False)
        churn(yesterday, args.churn).to_csv(tmp / "tonight.csv", sep=";", index=False)
        state = tmp / "state.sqlite"
        start = time.perf_counter()
        members = _build_state(tmp / "yesterday.csv", mapping, state)
        print(f"state: {members} memberships loaded in {time.perf_counter() - start:.1f} s")
        tonight = str(tmp / "tonight.csv")
        raw, best, runs = _paired(_plan, (tonight, str(mapping), str(state)), tonight)
    raw_t, raw_n, raw_rss, raw_cpu = raw
    plan_t, ops, _, plan_cpu = best
    peak = max(r[2] for r in runs)  # the memory goal holds for every run
    print(
        f"raw pandas.read_csv(engine='pyarrow') of tonight's {raw_n} rows, best of 3: {raw_t:.2f} s "
        f"({raw_cpu:.2f} s CPU), "
        f"peak {raw_rss / 1024:.0f} MB"
    )
    print(
        f"read + normalise + load state + plan, best of 3: {plan_t:.2f} s ({walls(runs)}), {plan_cpu:.2f} s CPU, "
        f"peak {peak / 1024:.0f} MB, {ops} operations"
    )
    print(f"ratio: {plan_t / raw_t:.1f}x the raw read (goal <= 15x); peak {peak / 1024:.0f} MB (goal < 2048 MB)")


if __name__ == "__main__":
    main()
