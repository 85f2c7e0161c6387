"""An unchanged nightly re-run over a large state makes no call at all."""

from __future__ import annotations

from pathlib import Path

from bench.bench_read import MAPPING
from bench.exports import make_export
from sms123_sync.api.connection import ConnectionSettings
from sms123_sync.mapping.pipeline import read_desired
from sms123_sync.reconcile.state import StateStore
from sms123_sync.reconcile.sync import run_sync
from sms123_sync.sandbox.server import Sandbox
from tests.helpers import FAST_RETRY


def test_unchanged_rerun_over_100k_contacts_makes_zero_calls(tmp_path: Path, sandbox: Sandbox) -> None:
    export = tmp_path / "export.csv"
    make_export(100_000).to_csv(export, sep=";", index=False)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    desired = read_desired(export, mapping).state
    assert len(desired.contacts) > 85_000
    # Last night's sync, recorded as it would have been: every membership known.
    rows = desired.memberships.merge(desired.contacts, on="key").rename(columns={"group": "groupe"})
    store = StateStore(tmp_path / "state.sqlite")
    store.import_members(rows, origin="created")
    store.close()
    settings = ConnectionSettings(user="sandbox", api_key="sandbox-key", base_url=sandbox.url, retry=FAST_RETRY)
    report = run_sync(export, mapping, tmp_path / "state.sqlite", settings)
    assert len(report.plan) == 0
    assert sandbox.total_calls() == 0 and sandbox.requests == []
