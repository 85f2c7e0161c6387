"""An export where half the numbers are rejects, as a ratio of the same export with valid numbers.

    python bench/bench_rejects.py [--rows 1000000] [--share 0.5]

Both files are read through the same mapping and their rejects written to a CSV, as
``validate --rejects`` does; each run is a fresh interpreter. Prints the wall and CPU
times of both, the ratio (goal <= 1.5x) and the peak memory.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from bench.bench_read import MAPPING, _run, allocator, peak_kb  # noqa: E402


def _invalid(rng: np.random.Generator, n: int) -> list[str]:
    """Numbers a CRM holds that are not mobiles, each drawn afresh (few repeat):
    French-looking numbers in no plan (the overseas regions are tried for these),
    numbers a digit short or long, landlines, and text."""
    digits = rng.integers(0, 10**8, size=n)
    style = rng.integers(0, 5, size=n)
    out = []
    for d, s in zip(digits.tolist(), style.tolist(), strict=True):
        body = f"{d:08d}"
        if s == 0:
            out.append(f"07 0{body[0]} {body[1:3]} {body[3:5]} {body[5:7]}")  # 070…: no such range
        elif s == 1:
            out.append(f"06{body[:7]}")  # a digit short
        elif s == 2:
            out.append(f"06 {body} {d % 10}")  # a digit long
        elif s == 3:
            out.append(f"01 {body[:2]} {body[2:4]} {body[4:6]} {body[6:8]}")  # a landline: refused
        else:
            out.append(f"tel {body[:4]}")  # a comment with a few digits
    return out


def _validate(path: str, mapping: str, rejects: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    from sms123_sync.mapping.pipeline import read_desired
    from sms123_sync.reports.csv_writer import write_problems_csv

    start, cpu = time.perf_counter(), time.process_time()
    result = read_desired(path, mapping)
    write_problems_csv(Path(rejects), result.rejects)
    out.put((time.perf_counter() - start, time.process_time() - cpu, len(result.rejects), peak_kb()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"Arrow allocator: {allocator()}")
    from bench.exports import make_export

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        mapping = tmp / "m.yaml"
        mapping.write_text(MAPPING, encoding="utf-8")
        valid = make_export(args.rows)
        valid.to_csv(tmp / "valid.csv", sep=";", index=False)
        rng = np.random.default_rng(5)
        bad = np.flatnonzero(rng.random(args.rows) < args.share)
        invalid = valid.copy()
        invalid.loc[bad, "Mobile"] = _invalid(rng, len(bad))
        invalid.to_csv(tmp / "invalid.csv", sep=";", index=False)
        del valid, invalid
        results: dict[str, list[tuple[float, float, int, int]]] = {"valid": [], "invalid": []}
        for _ in range(args.runs):  # alternated, so a busy spell of the machine hits both
            for name in results:
                run = _run(_validate, str(tmp / f"{name}.csv"), str(mapping), str(tmp / "rejects.csv"))
                results[name].append(run)  # type: ignore[arg-type]
    best = {name: min(runs, key=lambda r: r[0]) for name, runs in results.items()}
    for name, (wall, cpu, rejects, rss) in best.items():
        walls = ", ".join(f"{r[0]:.2f}" for r in results[name])
        print(
            f"{name:8s} export of {args.rows} rows: best {wall:.2f} s wall ({walls}), {cpu:.2f} s CPU, "
            f"{rejects} rejects written, peak {rss / 1024:.0f} MB"
        )
    ratio = best["invalid"][0] / best["valid"][0]
    cpu_ratio = best["invalid"][1] / best["valid"][1]
    print(f"ratio: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU the valid export (goal <= 1.5x)")


if __name__ == "__main__":
    main()
