"""The deletion guard: what it counts, its rule for small lists, and what "held" means.

Against the sandbox over real HTTP, through the command line (every exit code checked):
a tripped guard holds the suspicious deletes, applies everything else and exits 3; the
held deletes are in every report and in ``runs show``; ``--max-delete`` with the figure
the verdict gives releases them on the next run.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from sms123_sync.api.codes import Endpoint
from sms123_sync.cli import cli
from sms123_sync.errors import GuardError
from sms123_sync.reconcile.plan import OpKind, PlanOptions, check_guard, parse_max_delete, plan_changes
from sms123_sync.sandbox.server import Sandbox
from tests.test_plan import Person, desired, known

MAPPING = (
    "identity: Id\nfields: {numero: Tel, nom: Nom}\n"
    "groups: {column: Segments, separator: ',', always: [Tous]}\n"
    "filter:\n  - {column: SMS, not_equals: STOP}\nmode: %s\naccount: %s\n"
)
# Nine people: 1-5 in VIP, 6-9 in Pro, everyone in Tous.
NINE = [(str(i), f"06123456{i:02d}", f"Nom{i}", "", "VIP" if i <= 5 else "Pro") for i in range(1, 10)]
Row = tuple[str, str, str, str, str]


class Night:
    """A sandbox account synced nightly through the command line."""

    def __init__(self, tmp: Path, sandbox: Sandbox, account: str = "shared", mode: str = "mirror") -> None:
        self.tmp, self.sandbox, self.n = tmp, sandbox, 0
        self.mapping = tmp / "m.yaml"
        self.mapping.write_text(MAPPING % (mode, account), encoding="utf-8")
        self.state = tmp / "state.sqlite"

    def export(self, rows: list[Row]) -> Path:
        self.n += 1
        path = self.tmp / f"night{self.n}.csv"
        body = "".join(";".join(row) + "\n" for row in rows)
        path.write_text("Id;Tel;Nom;SMS;Segments\n" + body, encoding="utf-8")
        return path

    def cli(self, command: str, rows: list[Row], *extra: str) -> Result:
        args = [command, str(self.export(rows)), "-m", str(self.mapping), "--state", str(self.state), *extra]
        if command == "sync":
            args += ["--yes", "--base-url", self.sandbox.url, "--user", "sandbox", "--api-key", "sandbox-key"]
        result = CliRunner().invoke(cli, args)
        assert "Traceback" not in result.output, result.output
        return result

    def sync(self, rows: list[Row], *extra: str) -> Result:
        for endpoint in self.sandbox.calls:
            self.sandbox.calls[endpoint] = 0
        return self.cli("sync", rows, *extra)

    def calls(self) -> dict[Endpoint, int]:
        return {e: c for e, c in self.sandbox.calls.items() if c}

    def remote(self) -> set[tuple[str, str]]:
        return set(self.sandbox.store.memberships())

    def runs_show(self, run_id: int) -> Result:
        result = CliRunner().invoke(cli, ["runs", "--state", str(self.state), "show", str(run_id)])
        assert result.exit_code == 0, result.output
        return result


def _expected(rows: list[Row]) -> set[tuple[str, str]]:
    kept = [r for r in rows if r[3] != "STOP"]
    return {(g, "336" + r[1][2:]) for r in kept for g in ("Tous", *[s for s in r[4].split(",") if s])}


@pytest.fixture
def night(tmp_path: Path, sandbox: Sandbox) -> Night:
    first = Night(tmp_path, sandbox)
    assert first.sync(NINE).exit_code == 0
    return first


def test_opt_outs_are_applied_at_once_whatever_their_share(night: Night) -> None:
    # Four STOPs on a list of nine (VIP loses 4 of 5): explained, never held.
    rows = [(i, t, n, "STOP" if int(i) <= 4 else s, g) for i, t, n, s, g in NINE]
    result = night.sync(rows)
    assert result.exit_code == 0, result.output
    assert night.calls() == {Endpoint.CONTACT_DEL: 8}
    assert night.remote() == _expected(rows)
    assert "filtered out by the mapping" in result.output


def test_one_person_leaving_a_list_of_nine_is_applied(night: Night) -> None:
    result = night.sync(NINE[:-1])
    assert result.exit_code == 0, result.output
    assert night.calls() == {Endpoint.CONTACT_DEL: 2}
    assert night.remote() == _expected(NINE[:-1])


@pytest.mark.parametrize("account", ["shared", "exclusive"])
def test_a_file_cut_at_half_holds_every_delete_and_applies_the_rest(
    tmp_path: Path, sandbox: Sandbox, account: str
) -> None:
    night = Night(tmp_path, sandbox, account)
    assert night.sync(NINE).exit_code == 0
    cut = [("1", NINE[0][1], "Martin", "", "VIP"), *NINE[1:4], ("10", "0612345610", "Nouveau", "", "VIP")]
    result = night.sync(cut, "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 3, result.output
    # The update (Tous and VIP) and the new contact went through; not one delete.
    assert night.calls() == {Endpoint.CONTACT_UPD: 2, Endpoint.CONTACT_ADD: 1}
    assert night.remote() == _expected(NINE) | _expected(cut[-1:])
    assert "5 of 9 known contacts vanished" in result.output and "--max-delete 5" in result.output
    document = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    held = [op for op in document["operations"] if op["held"]]
    deletes = 5 if account == "exclusive" else 10  # group-less, or one per group
    assert len(held) == deletes + 1 == document["guard"]["held"]  # + the delete of group Pro
    assert {op["outcome"]["status"] for op in held} == {"held"}
    assert document["guard"]["tripped"] and "--max-delete 5" in document["guard"]["release"]
    assert document["run"]["exit_code"] == 3
    shown = night.runs_show(2)
    assert f"{deletes + 1} deletes held by the deletion guard" in shown.output
    assert "HELD contact_del 33612345609" in shown.output and "--max-delete 5" in shown.output

    released = night.sync(cut, "--max-delete", "5")
    assert released.exit_code == 0, released.output
    assert night.calls() == {Endpoint.CONTACT_DEL: deletes, Endpoint.GROUP_DEL: 1}
    assert night.remote() == _expected(cut)


@pytest.mark.parametrize("account", ["shared", "exclusive"])
def test_an_empty_file_holds_every_delete(tmp_path: Path, sandbox: Sandbox, account: str) -> None:
    night = Night(tmp_path, sandbox, account)
    assert night.sync(NINE).exit_code == 0
    result = night.sync([], "--json")
    assert result.exit_code == 3, result.output
    assert night.calls() == {} and night.remote() == _expected(NINE)
    summary = json.loads(result.stdout)
    assert summary["exit_code"] == 3 and summary["held"] == (9 if account == "exclusive" else 18) + 3
    assert "--allow-empty --max-delete 9" in summary["guard"]
    assert "HELD contact_del" in night.runs_show(2).output
    assert night.sync([], "--allow-empty").exit_code == 3  # still 9 vanished, over the limit
    released = night.sync([], "--allow-empty", "--max-delete", "9")
    assert released.exit_code == 0, released.output
    assert night.remote() == set() and night.calls()[Endpoint.GROUP_DEL] == 3


def test_a_segments_column_that_came_out_empty_deletes_nothing(night: Night) -> None:
    # Everyone is still in Tous: no contact vanished, but VIP and Pro lost every member.
    rows = [(i, t, "Renamed" if i == "1" else n, s, "") for i, t, n, s, _ in NINE]
    result = night.sync(rows)
    assert result.exit_code == 3, result.output
    assert night.calls() == {Endpoint.CONTACT_UPD: 1}  # the rest of the night still applies
    assert night.remote() == _expected(NINE)
    assert "group 'VIP' lost 5 of its 5 members" in result.output and "--max-delete 5" in result.output


def test_plan_shows_the_held_deletes_and_the_verdict_last(night: Night) -> None:
    result = night.cli("plan", NINE[:4])
    assert result.exit_code == 3, result.output
    assert "HELD contact del 33612345609 in Pro" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("held: deletion guard: 11 delete(s) held")
    passing = night.cli("plan", NINE[:4], "--max-delete", "none")
    assert passing.exit_code == 0 and "HELD" not in passing.output


def test_every_report_marks_the_held_deletes(night: Night, tmp_path: Path) -> None:
    reports = [str(tmp_path / f"r.{ext}") for ext in ("csv", "xlsx", "html")]
    result = night.cli("plan", NINE[:4], *(a for r in reports for a in ("--report", r)))
    assert result.exit_code == 3, result.output
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    held = [r for r in rows if r["Status"] == "held"]
    assert len(held) == 11 and all("--max-delete 5" in r["Note"] for r in held)
    book = load_workbook(tmp_path / "r.xlsx")
    statuses = [row[6] for row in book["Changes"].iter_rows(min_row=2, values_only=True)]
    assert statuses.count("held") == 11
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row}
    assert summary["Held deletions"] == 11 and "--max-delete 5" in str(summary["Deletion guard"])
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.count('<span class="status held">held</span>') == 11
    assert "11 deletions are held back by the deletion guard" in page and "--max-delete 5" in page


def test_upsert_is_unchanged_by_a_cut_file(tmp_path: Path, sandbox: Sandbox) -> None:
    night = Night(tmp_path, sandbox, mode="upsert")
    assert night.sync(NINE).exit_code == 0
    for rows in (NINE[:2], []):
        result = night.sync(rows)
        assert result.exit_code == 0, result.output
        assert night.calls() == {} and night.remote() == _expected(NINE)


# -- the rule on its own ----------------------------------------------------------------

LIST: list[Person] = [(str(i), f"336123456{i:02d}", "N", ("A", "B") if i <= 4 else ("A",)) for i in range(1, 21)]


def _verdict(now: list[Person], options: PlanOptions | None = None, filtered: frozenset[str] = frozenset()) -> int:
    plan = plan_changes(replace(desired(now), filtered_out=filtered), known(LIST))
    return len(check_guard(plan, options or PlanOptions()).held)


def test_up_to_three_vanished_pass_then_the_share_applies() -> None:
    assert _verdict(LIST[:-3]) == 0  # 3 of 20 (15 %): the small-list floor
    assert _verdict(LIST[:-4]) == 4  # 4 of 20 (20 %): held
    assert _verdict(LIST[:-4], PlanOptions(max_delete=0.2)) == 0
    assert _verdict(LIST[:-4], parse_max_delete("4")) == 0
    assert _verdict(LIST[:-4], parse_max_delete("3")) == 4
    assert _verdict(LIST[:-4], parse_max_delete("none")) == 0


def test_a_group_losing_most_members_trips_even_when_no_contact_vanishes() -> None:
    out_of_b: list[Person] = [(k, n, name, ("A",)) for k, n, name, _ in LIST]
    plan = plan_changes(desired(out_of_b), known(LIST))
    verdict = check_guard(plan, PlanOptions())
    assert [(g.group, g.vanished, g.known) for g in plan.group_losses] == [("B", 4, 4)]
    assert plan.vanished_contacts == 0 and verdict.tripped
    assert sorted(op.kind for op in verdict.held) == [OpKind.CONTACT_DEL] * 4 + [OpKind.GROUP_DEL]


def test_filtered_out_contacts_never_count_and_are_never_held() -> None:
    assert _verdict(LIST[:-6], filtered=frozenset(str(i) for i in range(15, 21))) == 0
    # Two of them filtered out, four vanished: only the four are held.
    assert _verdict(LIST[:-6], filtered=frozenset({"19", "20"})) == 4


def test_the_verdict_can_still_be_raised_by_a_library_caller() -> None:
    plan = plan_changes(desired(LIST[:10]), known(LIST))
    verdict = check_guard(plan, PlanOptions())
    with pytest.raises(GuardError, match="--max-delete 10"):
        raise verdict.error()
    assert verdict.exit_code == GuardError.exit_code


def test_the_desired_state_names_the_filtered_out_keys(tmp_path: Path) -> None:
    from sms123_sync.mapping.pipeline import read_desired

    export = tmp_path / "e.csv"
    export.write_text("Tel;SMS;G\n0612345601;STOP;A\n0612345602;;A\n06 12 34 56 03;STOP;A\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "fields: {numero: Tel}\ngroups: {column: G}\nfilter:\n  - {column: SMS, not_equals: STOP}\n", encoding="utf-8"
    )
    # Without an identity column the key is the number, normalised as a kept row's would be.
    assert read_desired(export, mapping).state.filtered_out == {"33612345601", "33612345603"}
