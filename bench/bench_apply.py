"""Apply throughput against a sandbox with injected latency, journal included.

    python bench/bench_apply.py [--ops 3000]

The sandbox runs in its own process (as the real API would be remote). For each
(concurrency, latency) pair it prints: the bound (concurrency / latency), a baseline
of bare ``Client`` calls on the same pool with no journal, and the full applier
(journal + state commits), each as operations per second and as a fraction of the bound.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from sms123_sync.api.client import Client, RetryPolicy  # noqa: E402
from sms123_sync.api.wire import Credentials  # noqa: E402
from sms123_sync.contact import ContactFields  # noqa: E402
from sms123_sync.reconcile.apply import Applier, ApplyOptions  # noqa: E402
from sms123_sync.reconcile.plan import Operation, OpKind  # noqa: E402
from sms123_sync.reconcile.state import StateStore  # noqa: E402
from sms123_sync.sandbox.server import DEFAULT_KEY, DEFAULT_USER  # noqa: E402


def _serve(tmp: Path, latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sms123_sync",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--data",
            str(tmp / "sb.sqlite"),
            "--latency-ms",
            str(latency_ms),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    url = line.split("listening on ")[1].split(" ")[0]
    return proc, url


def _ops(n: int, offset: int) -> list[Operation]:
    """Contact adds as the planner makes them (with the fields' digest)."""
    import pandas as pd

    from sms123_sync.mapping.desired import fields_hash

    fields = ContactFields(nom="Bench")
    digest = int(fields_hash(pd.DataFrame([fields.as_dict()]))[0])
    return [
        Operation(
            OpKind.CONTACT_ADD,
            "bench",
            ("Bench",),
            f"336{offset + i:08d}",
            key=str(offset + i),
            fields=fields,
            fields_hash=digest,
        )
        for i in range(n)
    ]


def measure(ops: int, concurrency: int, latency_ms: float) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        proc, url = _serve(tmp, latency_ms)
        try:
            creds = Credentials(DEFAULT_USER, DEFAULT_KEY)
            with Client(creds, base_url=url, retry=RetryPolicy(attempts=3), max_connections=concurrency) as client:
                client.group_add("Bench")
                bound = concurrency / (latency_ms / 1000)
                start = time.perf_counter()
                with ThreadPoolExecutor(concurrency) as pool:
                    list(pool.map(lambda op: client.contact_add(op.groups, op.number, op.fields), _ops(ops, 0)))
                bare = ops / (time.perf_counter() - start)
                store = StateStore(tmp / "state.sqlite")
                run = store.begin_run("bench")
                applier = Applier(client, store, run, ApplyOptions(concurrency=concurrency))
                start = time.perf_counter()
                result = applier.run(_ops(ops, ops))
                full = ops / (time.perf_counter() - start)
                store.close()
                assert result.exit_code == 0
        finally:
            proc.terminate()
            proc.wait()
    print(
        f"{concurrency:>2} in flight, {latency_ms:>3.0f} ms: bound {bound:6.0f}/s | bare client {bare:6.1f}/s "
        f"({bare / bound:.2f} of bound) | applier+journal {full:6.1f}/s ({full / bound:.2f} of bound, "
        f"{full / bare:.2f} of bare)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=3000)
    args = parser.parse_args()
    measure(args.ops, 8, 50)
    measure(args.ops, 16, 20)


if __name__ == "__main__":
    main()
