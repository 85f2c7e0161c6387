"""Campaigns against the sandbox: personalised, one per number, timed, refused before any send."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sms123_sync.api.client import Client
from sms123_sync.api.connection import ConnectionSettings
from sms123_sync.campaigns.hours import PARIS
from sms123_sync.campaigns.plan import CampaignPlan, SendOptions
from sms123_sync.campaigns.prepare import CampaignRequest, prepare_campaign
from sms123_sync.campaigns.run import CampaignOptions, CampaignResult, SendStatus, run_campaign
from sms123_sync.errors import AccountError, GuardError, InputError, RetryableError
from sms123_sync.reconcile.state import StateStore
from sms123_sync.sandbox.server import Faults, Sandbox
from tests.helpers import CREDS, FAST_RETRY

MEMBERS = [
    # groupe, numero, prenom, nom
    ("Clients", "33611111111", "Alice", "Martin"),
    ("Clients", "33622222222", "", "Durand"),
    ("Clients", "33633333333", "Chloé", "Petit"),
    ("Club", "33611111111", "Alicia", "Martin"),  # in both groups, other fields here
    ("Club", "33644444444", "Denis", "Roux"),
]


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


class World:
    """A state file with known members, and a sandbox whose clock says ``now``."""

    def __init__(self, tmp: Path, now: datetime, balance: Decimal = Decimal(1000)) -> None:
        self.tmp = tmp
        self.now = now
        self.state = tmp / "state.sqlite"
        frame = pd.DataFrame(MEMBERS, columns=["groupe", "numero", "prenom", "nom"])
        with StateStore(self.state) as store:
            store.import_members(frame)
        # The sandbox compares ``diff`` (Paris wall time) with its clock: give it Paris wall time.
        self.sandbox = Sandbox(tmp / "sandbox.sqlite", balance=balance, clock=self.wall_clock, seed=4).start()
        self.client = Client(CREDS, base_url=self.sandbox.url, retry=FAST_RETRY, timeout=5)

    def wall_clock(self) -> datetime:
        return self.now.astimezone(PARIS).replace(tzinfo=None)

    def close(self) -> None:
        self.client.close()
        self.sandbox.stop()

    def plan(self, message: str, **changes: Any) -> CampaignPlan:
        return prepare_campaign(CampaignRequest(message, self.state, **changes), self.now)

    def run(self, plan: CampaignPlan, **options: Any) -> CampaignResult:
        return run_campaign(
            plan,
            self.state,
            ConnectionSettings(),
            options=CampaignOptions(concurrency=4, **options),
            client=self.client,
            now=lambda: self.now,
        )

    def sends(self) -> list[dict[str, Any]]:
        return list(self.sandbox.snapshot()["sends"])


@pytest.fixture
def make_world(tmp_path: Path) -> Iterator[Callable[..., World]]:
    made: list[World] = []

    def factory(now: str = "2026-11-30 10:00", **kw: Any) -> World:
        world = World(tmp_path, paris(now), **kw)
        made.append(world)
        return world

    yield factory
    for world in made:
        world.close()


def test_a_group_campaign_sends_each_number_one_personalised_message(make_world: Callable[..., World]) -> None:
    world = make_world()
    plan = world.plan("Bonjour {prenom|Madame, Monsieur} {nom}, -10% ce lundi", groups=("Clients", "Club"))
    result = world.run(plan)
    assert result.exit_code == 0
    sent = {s["numero"]: s["message"] for s in world.sends()}
    assert len(world.sends()) == 4, "the contact in both groups gets one message"
    assert sent == {
        "33611111111": "Bonjour Alice Martin, -10% ce lundi",  # the fields of the first group named
        "33622222222": "Bonjour Madame, Monsieur Durand, -10% ce lundi",
        "33633333333": "Bonjour Chloé Petit, -10% ce lundi",
        "33644444444": "Bonjour Denis Roux, -10% ce lundi",
    }
    assert {s["status"] for s in world.sends()} == {"sent"}
    # "Chloé" is GSM-7 (é is in the alphabet); the count is per personalised message.
    assert plan.sms_total == 4

    again = world.run(world.plan("Bonjour {prenom|Madame, Monsieur} {nom}, -10% ce lundi", groups=("Clients", "Club")))
    assert again.preview.already_done == 4 and not again.outcomes
    assert len(world.sends()) == 4, "a re-run of the same campaign sends nothing"


def test_a_missing_field_is_listed_before_any_send(make_world: Callable[..., World]) -> None:
    world = make_world()
    with pytest.raises(InputError) as caught:
        world.plan("Bonjour {prenom}", groups=("Clients",))
    assert "33622222222" in str(caught.value) and "{prenom}" in str(caught.value)
    assert "group Clients" in str(caught.value)
    with pytest.raises(InputError, match="do not have"):
        world.plan("Bonjour {surnom}", groups=("Clients",))
    assert world.sandbox.total_calls() == 0


def test_a_campaign_over_the_balance_is_refused_with_zero_sends(make_world: Callable[..., World]) -> None:
    world = make_world(balance=Decimal(2))
    plan = world.plan("Bonjour {nom}", groups=("Clients",))
    with pytest.raises(AccountError) as caught:
        world.run(plan)
    assert caught.value.exit_code == 4
    assert "needs 3 SMS" in str(caught.value)
    assert world.sends() == []
    partial = world.run(plan, allow_partial=True)
    assert Counter(o.status for o in partial.outcomes)[SendStatus.SENT] == 2
    assert partial.exit_code == 4, "the credit ran out: the run stops as for an account error"


@pytest.mark.parametrize(
    ("now", "expected"),
    [("2026-11-28 21:00", "2026-11-30T08:00:00"), ("2026-07-14 10:00", "2026-07-15T08:00:00")],
    ids=["saturday-21h", "14-july"],
)
def test_a_marketing_campaign_outside_lawful_hours_is_deferred(
    make_world: Callable[..., World], now: str, expected: str
) -> None:
    world = make_world(now)
    plan = world.plan("Promo {nom}", groups=("Club",))
    assert plan.deferred == 2
    result = world.run(plan)
    assert result.exit_code == 0
    assert [(s["status"], s["diff"]) for s in world.sends()] == [("scheduled", expected)] * 2
    assert {o.status for o in result.outcomes} == {SendStatus.SCHEDULED}
    with pytest.raises(GuardError, match="outside the lawful hours"):
        world.plan("Promo {nom}", groups=("Club",), defer=False)
    transactional = world.plan("Rappel {nom}", groups=("Club",), transactional=True)
    assert transactional.deferred == 0 and all(m.at is None for m in transactional.messages)
    assert "does not apply" in transactional.rule


def test_an_export_schedules_each_row_across_daylight_saving_changes(make_world: Callable[..., World]) -> None:
    world = make_world("2026-03-20 12:00")
    export = world.tmp / "rdv.csv"
    export.write_text(
        "Tel;Nom;G;Date RDV\n"
        "0655555501;Leroy;RDV;2026-03-29 10:00\n"  # the day summer time starts
        "0655555502;Moreau;RDV;2026-10-25 10:00\n"  # the day it ends
        "0655555503;Fournier;RDV;2026-03-01 10:00\n"  # passed
        "0655555504;Girard;RDV;demain\n"  # unreadable
        "pas un numéro;Bonnet;RDV;2026-03-29 11:00\n",  # rejected by the mapping
        encoding="utf-8",
    )
    mapping = world.tmp / "rdv.yaml"
    mapping.write_text("fields: {numero: Tel, nom: Nom}\ngroups: {column: G}\n", encoding="utf-8")
    plan = world.plan(
        "{nom}, rappel de votre RDV du {Date RDV}",
        export=str(export),
        mapping=mapping,
        at_column="Date RDV",
        before=24 * 3600,
        transactional=True,
    )
    assert [s.where for s in plan.skipped] == ["row 4", "row 5"]
    assert [r.row for r in plan.rejects] == [6]
    result = world.run(plan)
    assert result.exit_code == 0
    sends = {s["numero"]: s for s in world.sends()}
    # 24 elapsed hours before 10:00 summer time is 09:00 winter time, and the other way round.
    assert sends["33655555501"]["diff"] == "2026-03-28T09:00:00"
    assert sends["33655555502"]["diff"] == "2026-10-24T11:00:00"
    assert sends["33655555501"]["message"] == "Leroy, rappel de votre RDV du 2026-03-29 10:00"
    assert len(sends) == 2


def test_with_lost_answers_and_technical_errors_each_recipient_gets_exactly_one(
    make_world: Callable[..., World],
) -> None:
    world = make_world()
    many = pd.DataFrame(
        [("Masse", f"3367{i:07d}", f"P{i}", "X") for i in range(40)], columns=["groupe", "numero", "prenom", "nom"]
    )
    with StateStore(world.state) as store:
        store.import_members(many)
    world.sandbox.faults = Faults(technical_rate=0.2, lost_answer_rate=0.3, drop_rate=0.05)
    plan = world.plan("Bonjour {prenom}", groups=("Masse",))
    for _ in range(6):
        try:
            result = world.run(plan)
        except RetryableError:
            continue  # the balance could not be read through the faults: nothing was sent
        if not any(o.status is SendStatus.PENDING for o in result.outcomes):
            break
    world.sandbox.faults = Faults()
    final = world.run(plan)
    assert not final.outcomes and final.preview.already_done == 40
    per_number = Counter(s["numero"] for s in world.sends())
    assert len(per_number) == 40 and set(per_number.values()) == {1}


def test_a_name_reused_for_another_message_is_refused(make_world: Callable[..., World]) -> None:
    world = make_world()
    world.run(world.plan("Premier {nom}", groups=("Club",), name="novembre"))
    with pytest.raises(InputError, match="another message"):
        world.run(world.plan("Second {nom}", groups=("Club",), name="novembre"))
    assert len(world.sends()) == 2


def test_a_sender_id_needs_the_stop_mention(make_world: Callable[..., World]) -> None:
    world = make_world()
    with pytest.raises(InputError, match="STOP SMS au 36177"):
        world.plan("Promo {nom}", groups=("Club",), options=SendOptions(sender="MONCLUB"))
    plan = world.plan("Promo {nom} STOP SMS au 36177", groups=("Club",), options=SendOptions(sender="MONCLUB"))
    assert world.run(plan).exit_code == 0


def test_the_send_command_previews_sends_reports_and_lists_the_campaign(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from click.testing import CliRunner

    from sms123_sync.cli import cli

    monkeypatch.setenv("SMS123_API_KEY", "sandbox-key")
    state = tmp_path / "state.sqlite"
    with StateStore(state) as store:
        store.import_members(pd.DataFrame(MEMBERS, columns=["groupe", "numero", "prenom", "nom"]))
    common = ["--state", str(state), "--base-url", sandbox.url, "--user", "sandbox", "--transactional"]
    message = ["--group", "Club", "--group", "Clients", "-m", "Rappel {prenom|Madame, Monsieur} {nom}: cotisation"]
    runner = CliRunner()

    preview = runner.invoke(cli, ["send", *message, *common, "--dry-run"])
    assert preview.exit_code == 0, preview.output
    assert "recipients: 4" in preview.output
    assert "Rappel Alicia Martin: cotisation" in preview.output  # Club was named first
    assert "SMS needed: 4; balance: 1000 SMS credits" in preview.output
    assert sandbox.snapshot()["sends"] == []

    no_tty = runner.invoke(cli, ["send", *message, *common])
    assert no_tty.exit_code == 2 and "--yes" in no_tty.output

    report = tmp_path / "campagne.csv"
    sent = runner.invoke(cli, ["send", *message, *common, "--yes", "--json", "--report", str(report)])
    assert sent.exit_code == 0, sent.output
    summary = json.loads(sent.stdout.strip().splitlines()[-1])
    assert summary["counts"]["outcomes"] == {"sent": 4} and summary["exit_code"] == 0
    assert report.read_text(encoding="utf-8-sig").count("\n") == 5
    assert oct(report.stat().st_mode & 0o777) == "0o600"

    listed = runner.invoke(cli, ["runs", "--state", str(state)])
    assert listed.exit_code == 0 and "campaigns:" in listed.output and "4 sent" in listed.output
    shown = runner.invoke(cli, ["runs", "--state", str(state), "show", "1"])
    assert shown.exit_code == 0, shown.output
    assert "4 recipients: 4 sent" in shown.output and "33644444444: sent 80" in shown.output

    sandbox_listing = runner.invoke(cli, ["sandbox", "show", "--data", str(tmp_path / "sandbox.sqlite")])
    assert sandbox_listing.exit_code == 0
    assert "4 messages accepted" in sandbox_listing.output
    assert "33622222222 sent at" in sandbox_listing.output
    assert "Rappel Madame, Monsieur Durand" in sandbox_listing.output

    mixed = runner.invoke(cli, ["send", "--to", "0612345678", *message, *common])
    assert mixed.exit_code == 2 and "single sends" in mixed.output


def test_the_reports_neutralise_formulas_and_escape_html(make_world: Callable[..., World]) -> None:
    import json

    from openpyxl import load_workbook

    from sms123_sync.campaigns.report import campaign_document, write_campaign_reports

    world = make_world()
    with StateStore(world.state) as store:
        hostile = [("Piège", "33655500001", "=HYPERLINK(1)", "<script>x</script>")]
        store.import_members(pd.DataFrame(hostile, columns=["groupe", "numero", "prenom", "nom"]))
    plan = world.plan("{prenom} {nom}", groups=("Piège",))
    result = world.run(plan)
    document = campaign_document(result.preview, result, world.now)
    paths = [world.tmp / f"c.{ext}" for ext in ("json", "csv", "xlsx", "html")]
    written = write_campaign_reports(paths, document)
    assert written.failed == [] and written.paths == paths
    entry = json.loads(paths[0].read_text(encoding="utf-8"))["recipients"][0]
    assert entry["status"] == "sent" and entry["segments"] == 1 and entry["message"].startswith("=HYPERLINK")
    assert "'=HYPERLINK(1) <script>" in paths[1].read_text(encoding="utf-8-sig")
    sheet = load_workbook(paths[2])["Recipients"]
    assert str(sheet["K2"].value).startswith("'=")
    page = paths[3].read_text(encoding="utf-8")
    assert "<script>x" not in page and "&lt;script&gt;x" in page


def test_a_state_file_of_schema_2_gains_the_campaign_tables(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with StateStore(path):
        pass
    db = sqlite3.connect(path)
    db.executescript(
        "DROP TABLE campaign_sends; DROP TABLE campaigns; UPDATE meta SET value = '2' WHERE key = 'schema_version';"
    )
    db.close()
    with StateStore(path) as store:
        campaign_id, template = store.open_campaign("c", "Bonjour", "marketing", "groups A")
        assert template == "Bonjour" and store.campaign_sends(campaign_id) == []
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)
    db.close()


def test_a_message_sent_after_the_window_closed_mid_run_is_deferred(make_world: Callable[..., World]) -> None:
    world = make_world("2026-12-01 19:59")
    plan = world.plan("Promo {nom}", groups=("Club",))
    assert plan.deferred == 0
    world.now = paris("2026-12-01 20:01")  # the campaign ran past 20:00
    world.run(plan)
    assert {s["diff"] for s in world.sends()} == {"2026-12-02T08:00:00"}
