"""The ``sms123-sync`` command line: parses options, calls the library, renders.

No business logic lives here: every command is one call into the library, and every
library error becomes a message and its exit code (see DESIGN: 0 done, 1 partly
failed, 2 usage/input, 3 refused by a guard, 4 authentication/account).
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from sms123_sync import __version__, render
from sms123_sync.adopt import import_existing
from sms123_sync.apply import EXIT_INTERRUPTED, ApplyOptions
from sms123_sync.client import RetryPolicy
from sms123_sync.connection import WORK_DIR, ConnectionSettings, connect
from sms123_sync.errors import Sms123Error
from sms123_sync.logs import setup_logging
from sms123_sync.pipeline import read_desired
from sms123_sync.plan import Plan, PlanOptions, parse_max_delete
from sms123_sync.report import (
    journal_document,
    plan_document,
    summary,
    sync_document,
    write_problems_csv,
    write_reports,
)
from sms123_sync.sandbox import Account, Faults, Sandbox
from sms123_sync.send import parse_when, prepare_send, send_sms
from sms123_sync.state import DEFAULT_STATE, StateStore
from sms123_sync.sync import file_hash, make_plan, run_sync
from sms123_sync.wire import WireFormat

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("sms123_sync")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

SHARE = click.FloatRange(0, 1)  # a fault rate: the share of requests it hits
PORT = click.IntRange(0, 65535)


class _Cli(click.Group):
    """Turns library errors into a one-line message and the documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Sms123Error as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            err.print("interrupted; the next run settles any call left in flight")
            ctx.exit(EXIT_INTERRUPTED)


class Duration(click.ParamType[float, Any]):
    """Seconds, or a number with s, m or h: ``90``, ``90s``, ``30m``, ``1.5h``."""

    name = "duration"
    _UNITS: ClassVar[dict[str, int]] = {"": 1, "s": 1, "m": 60, "h": 3600}
    _FORM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$", re.IGNORECASE)
    MAXIMUM = 7 * 24 * 3600

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float):
            seconds = float(value)
        else:
            match = self._FORM.match(str(value))
            if match is None:
                self.fail(f"{value!r}: give seconds (90) or a number with s, m or h (30m, 2h)", param, ctx)
            seconds = float(match.group(1)) * self._UNITS[match.group(2).lower()]
        if not 0 < seconds <= self.MAXIMUM:
            self.fail(f"{value!r}: must be more than 0 and at most 7 days", param, ctx)
        return seconds


def connection_options(func: F) -> F:
    """The options of every command that talks to the API."""
    options = [
        click.option("--base-url", envvar="SMS123_BASE_URL", help="API base URL (default: the real 123-SMS API)."),
        click.option("--user", envvar="SMS123_USER", help="Account user/email [env SMS123_USER]."),
        click.option(
            "--api-key", envvar="SMS123_API_KEY", help="API key (cleAPI) [env SMS123_API_KEY]; prefer the env."
        ),
        click.option(
            "--wire-format",
            type=click.Choice([f.value for f in WireFormat]),
            default="json",
            show_default=True,
            help="Request body format.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(0.1, 600),
            default=15.0,
            show_default=True,
            help="Seconds each HTTP request may take in all (connect, headers, body).",
        ),
        click.option("--retries", type=click.IntRange(1, 20), default=5, show_default=True, help="Attempts per call."),
        click.option(
            "--sandbox",
            "use_sandbox",
            is_flag=True,
            help=f"Talk to a local sandbox (data in {WORK_DIR}/sandbox.sqlite) instead of the real account.",
        ),
    ]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["connection"] = ConnectionSettings(
            user=kwargs.pop("user"),
            api_key=kwargs.pop("api_key"),
            base_url=kwargs.pop("base_url"),
            wire_format=WireFormat(kwargs.pop("wire_format")),
            timeout=kwargs.pop("timeout"),
            retry=RetryPolicy(attempts=kwargs.pop("retries")),
            sandbox=kwargs.pop("use_sandbox"),
        )
        return func(*args, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sms123-sync")
def cli() -> None:
    """Keep 123-SMS.NET contact groups in step with a CRM export, and send SMS."""


@cli.command()
@connection_options
def balance(connection: ConnectionSettings) -> None:
    """Show the account's balance (SMS credits)."""
    with connect(connection) as client:
        value = client.balance().value
    out.print(f"balance: {value}")


@cli.command()
@click.option("--to", "numbers", multiple=True, required=True, help="Recipient number; repeat for several.")
@click.option("--message", "-m", required=True, help="The text to send.")
@click.option("--at", "at_text", help="Schedule for this Paris time, e.g. '2026-12-01 15:30'.")
@click.option("--cancel", is_flag=True, help="Cancel the send scheduled --at that time.")
@click.option("--flash", is_flag=True, help="Flash SMS: shown on screen, not stored.")
@click.option("--sender", help="Sender id (at most 11 letters/digits).")
@click.option("--tts", is_flag=True, help="Voice message read to a landline.")
@click.option("--test", "test_mode", is_flag=True, help="Test mode: checked by the API, not sent, not charged.")
@click.option("--long", "allow_long", is_flag=True, help="Allow a message longer than one SMS.")
@click.option("--region", default="FR", show_default=True, help="Region for numbers written nationally.")
@connection_options
def send(
    numbers: tuple[str, ...],
    message: str,
    at_text: str | None,
    cancel: bool,
    flash: bool,
    sender: str | None,
    tts: bool,
    test_mode: bool,
    allow_long: bool,
    region: str,
    connection: ConnectionSettings,
) -> None:
    """Send an SMS (or schedule, cancel, flash, voice, test) to one or more numbers."""
    split = tuple(n.strip() for raw in numbers for n in raw.split(",") if n.strip())
    request = prepare_send(
        split,
        message,
        at=parse_when(at_text) if at_text else None,
        cancel=cancel,
        flash=flash,
        sender=sender,
        tts=tts,
        test=test_mode,
        allow_long=allow_long,
        region=region,
    )
    out.print(f"message: {request.shape.units} {request.shape.encoding} characters, {request.shape.segments} SMS")
    with connect(connection) as client:
        outcomes = send_sms(client, request)
    failed = 0
    for outcome in outcomes:
        mark = "ok" if outcome.result.ok else "FAILED"
        failed += not outcome.result.ok
        ref = f" ref {outcome.result.reference}" if outcome.result.reference else ""
        out.print(f"{outcome.number}: {mark} {outcome.result.code} {outcome.result.info.en}{ref}")
    click.get_current_context().exit(1 if failed else 0)


@cli.group()
def sandbox() -> None:
    """A local 123-SMS server for trying mappings and for tests."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", type=PORT, default=8123, show_default=True, help="Port (0 picks a free one).")
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=WORK_DIR / "sandbox.sqlite",
    show_default=True,
    help="SQLite file holding the sandbox account.",
)
@click.option("--user", default="sandbox", show_default=True, help="The account user the sandbox accepts.")
@click.option("--api-key", default="sandbox-key", show_default=True, help="The API key the sandbox accepts.")
@click.option("--balance", "initial_balance", type=Decimal, help="Set the balance (SMS credits) at start.")
@click.option(
    "--style", type=click.Choice(["plain", "json", "xml"]), default="plain", show_default=True, help="Answer style."
)
@click.option("--references", is_flag=True, help="Answer sends with a delivery reference ('80 refaccuse=N').")
@click.option("--latency-ms", type=click.FloatRange(0, 60_000), default=0.0, help="Delay every answer (milliseconds).")
@click.option("--technical-rate", type=SHARE, default=0.0, help="Share of requests answered -2.")
@click.option("--http500-rate", type=SHARE, default=0.0, help="Share answered HTTP 500.")
@click.option("--http429-rate", type=SHARE, default=0.0, help="Share answered HTTP 429 with Retry-After.")
@click.option("--drop-rate", type=SHARE, default=0.0, help="Share of connections dropped before handling.")
@click.option("--lost-answer-rate", type=SHARE, default=0.0, help="Share applied, then dropped without answer.")
@click.option("--seed", type=int, help="Seed for the fault draws (repeatable runs).")
def sandbox_serve(
    host: str,
    port: int,
    data: Path,
    user: str,
    api_key: str,
    initial_balance: Decimal | None,
    style: str,
    references: bool,
    latency_ms: float,
    technical_rate: float,
    http500_rate: float,
    http429_rate: float,
    drop_rate: float,
    lost_answer_rate: float,
    seed: int | None,
) -> None:
    """Run the sandbox server until interrupted."""
    faults = Faults(latency_ms, technical_rate, http500_rate, http429_rate, 0.05, drop_rate, lost_answer_rate)
    server = Sandbox(
        data,
        host=host,
        port=port,
        account=Account(user=user, api_key=api_key),
        faults=faults,
        style=style,
        references=references,
        seed=seed,
        balance=initial_balance,
    )
    out.print(f"sandbox listening on {server.url} (data {data}); Ctrl-C to stop")
    sys.stdout.flush()
    server.serve_forever()


@sandbox.command("show")
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=WORK_DIR / "sandbox.sqlite",
    show_default=True,
    help="SQLite file holding the sandbox account.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole account as JSON.")
def sandbox_show(data: Path, as_json: bool) -> None:
    """Show what the sandbox account holds: balance, groups, contacts."""
    import json

    from sms123_sync.sandbox import AccountStore

    if not data.exists():
        raise click.UsageError(f"no sandbox data at {data}")
    store = AccountStore(data)
    try:
        snap = store.snapshot()
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(snap, ensure_ascii=False, indent=2))
        return
    out.print(f"balance: {snap['balance']}")
    for group in snap["groups"]:
        members = [c for c in snap["contacts"] if c["groupe"] == group]
        out.print(f"{group}: {len(members)} contact(s)")


@cli.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--mapping", "-m", "mapping_path", type=click.Path(path_type=Path), required=True, help="YAML mapping.")
@click.option(
    "--rejects", "rejects_path", type=click.Path(path_type=Path), help="Write every rejected row to this CSV."
)
@click.option(
    "--show",
    type=click.IntRange(0, 100_000),
    default=10,
    show_default=True,
    help="How many rejects and warnings to print.",
)
def validate(source: Path, mapping_path: Path, rejects_path: Path | None, show: int) -> None:
    """Read SOURCE through the mapping and report what would be synced, without any call."""
    result = read_desired(source, mapping_path)
    render.print_stats(out, result.stats)
    render.print_problems(out, "rejected rows", result.rejects, str(source), show)
    render.print_problems(out, "warnings", result.warnings, str(source), show)
    if rejects_path is not None:
        write_problems_csv(rejects_path, result.rejects)
        out.print(f"wrote {len(result.rejects)} reject(s) to {rejects_path}")


def _plan_options(max_delete: str, allow_empty: bool) -> PlanOptions:
    try:
        options = parse_max_delete(max_delete)
    except ValueError:
        raise click.BadParameter(
            f"{max_delete!r}: give a count (500), a share (25%) or none", param_hint="--max-delete"
        ) from None
    return PlanOptions(options.max_delete, options.max_delete_count, allow_empty)


def _state_option(func: F) -> F:
    return click.option(
        "--state",
        "state_path",
        type=click.Path(path_type=Path),
        envvar="SMS123_STATE",
        default=DEFAULT_STATE,
        show_default=True,
        help="State file [env SMS123_STATE].",
    )(func)


def sync_inputs(func: F) -> F:
    """SOURCE, mapping, state and guard options shared by plan and sync."""
    decorators = [
        click.argument("source", type=click.Path(path_type=Path)),
        click.option(
            "--mapping", "-m", "mapping_path", type=click.Path(path_type=Path), required=True, help="YAML mapping."
        ),
        _state_option,
        click.option(
            "--max-delete", default="10%", show_default=True, help="Most contacts a run may remove: N, P% or none."
        ),
        click.option(
            "--allow-empty", is_flag=True, help="Allow an export with no usable contact (empties the groups)."
        ),
        click.option("--verbose", "-v", is_flag=True, help="List every change, not the first ones."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def report_options(func: F) -> F:
    """--report, --json and --log-file, shared by plan and sync."""
    decorators = [
        click.option(
            "--report",
            "reports",
            multiple=True,
            help="Write a report; format from the extension (.json .csv .xlsx .html); {date} and {time} expand.",
        ),
        click.option(
            "--json", "as_json", is_flag=True, help="Print one JSON summary on stdout and nothing else there."
        ),
        click.option("--log-file", type=click.Path(path_type=Path), help="Append timestamped log lines to this file."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _human(as_json: bool) -> Console:
    """Where human-readable output goes: stderr when stdout carries the JSON summary."""
    return err if as_json else out


def _finish(document: dict[str, Any], reports: tuple[str, ...], as_json: bool) -> None:
    for path in write_reports(reports, document):
        _human(as_json).print(f"report written to {path}")
    if as_json:
        click.echo(json.dumps(summary(document), ensure_ascii=False))


def _run_info(source: Path, mapping_path: Path, state_path: Path, mode: str) -> dict[str, Any]:
    return {
        "source": str(source),
        "source_hash": file_hash(source),
        "mapping": str(mapping_path),
        "mapping_hash": file_hash(mapping_path),
        "state": str(state_path),
        "mode": mode,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@cli.command("plan")
@sync_inputs
@report_options
def plan_command(
    source: Path,
    mapping_path: Path,
    state_path: Path,
    max_delete: str,
    allow_empty: bool,
    verbose: bool,
    reports: tuple[str, ...],
    as_json: bool,
    log_file: Path | None,
) -> None:
    """Show what a sync would change, without any API call."""
    setup_logging(log_file)
    run = _run_info(source, mapping_path, state_path, "")
    desired, plan = make_plan(source, mapping_path, state_path, _plan_options(max_delete, allow_empty))
    console = _human(as_json)
    render.print_stats(console, desired.stats)
    render.print_problems(console, "rejected rows", desired.rejects, str(source), 10)
    render.print_plan(console, plan, None if verbose else 20)
    run["mode"] = desired.state.mode
    _finish(plan_document(desired, plan, run), reports, as_json)


@cli.command("sync")
@sync_inputs
@click.option("--dry-run", is_flag=True, help="Plan only (same as the plan command).")
@click.option("--yes", "-y", is_flag=True, help="Apply without asking (needed without a terminal).")
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True, help="Calls in flight.")
@click.option("--rate", type=click.FloatRange(0.1, 10_000), help="At most this many requests per second.")
@click.option(
    "--deadline",
    type=Duration(),
    help="Start no operation after this long (90, 90s, 30m, 2h; at most 7 days): "
    "calls in flight finish, the rest waits for the next run, exit 1.",
)
@report_options
@connection_options
def sync_command(
    source: Path,
    mapping_path: Path,
    state_path: Path,
    max_delete: str,
    allow_empty: bool,
    verbose: bool,
    dry_run: bool,
    yes: bool,
    concurrency: int,
    rate: float | None,
    deadline: float | None,
    reports: tuple[str, ...],
    as_json: bool,
    log_file: Path | None,
    connection: ConnectionSettings,
) -> None:
    """Make the account's groups match SOURCE: plan, confirm, apply.

    Ctrl-C or SIGTERM while applying: the calls in flight finish and are recorded, no
    other starts, exit 130; the next run continues. A second one stops at once.
    """
    ctx = click.get_current_context()
    deadline_at = None if deadline is None else time.monotonic() + deadline
    if dry_run:
        ctx.invoke(
            plan_command,
            source=source,
            mapping_path=mapping_path,
            state_path=state_path,
            max_delete=max_delete,
            allow_empty=allow_empty,
            verbose=verbose,
            reports=reports,
            as_json=as_json,
            log_file=log_file,
        )
        return
    setup_logging(log_file, connection.credentials().secrets())
    console = _human(as_json)
    if not yes and not sys.stdin.isatty():
        raise click.UsageError("no terminal to confirm on: pass --yes to apply without asking")
    run = _run_info(source, mapping_path, state_path, "")
    progress = render.ApplyProgress(console)

    def confirm(plan: Plan) -> bool:
        if not (yes or click.confirm(f"apply these {len(plan)} operation(s)?", default=False, err=as_json)):
            return False
        progress.start(len(plan))
        return True

    try:
        report = run_sync(
            source,
            mapping_path,
            state_path,
            connection,
            plan_options=_plan_options(max_delete, allow_empty),
            apply_options=ApplyOptions(
                concurrency=concurrency, rate=rate, deadline_at=deadline_at, handle_signals=True
            ),
            confirm=confirm,
            on_done=progress.advance,
            before_apply=lambda plan: render.print_plan(console, plan, None if verbose else 20),
        )
    finally:
        progress.stop()
    render.print_outcome(console, report)
    run["mode"] = report.desired.state.mode
    run["ended"] = datetime.now(UTC).isoformat(timespec="seconds")
    _finish(sync_document(report, run), reports, as_json)
    log.info("sync of %s ended with exit code %d", source, report.exit_code)
    ctx.exit(report.exit_code)


@cli.group(invoke_without_command=True)
@_state_option
@click.option("--limit", type=click.IntRange(1, 100_000), default=30, show_default=True, help="How many runs to list.")
@click.pass_context
def runs(ctx: click.Context, state_path: Path, limit: int) -> None:
    """Past runs, newest first: when, how long, source, counts, exit code."""
    ctx.obj = state_path
    if ctx.invoked_subcommand is not None:
        return
    store = StateStore(state_path)
    try:
        render.print_runs(out, store.runs(limit))
    finally:
        store.close()


@runs.command("show")
@click.argument("run_id", type=int)
@click.option("--report", "reports", multiple=True, help="Write this run's report (.json .csv .xlsx .html).")
@click.pass_obj
def runs_show(state_path: Path, run_id: int, reports: tuple[str, ...]) -> None:
    """One run's operations, failures and conflicts."""
    store = StateStore(state_path)
    try:
        run = next((r for r in store.runs(10_000) if r["id"] == run_id), None)
        if run is None:
            raise click.UsageError(f"no run {run_id} in {state_path}")
        journal = store.journal_of(run_id)
    finally:
        store.close()
    document = journal_document({k: run[k] for k in ("id", "started", "ended", "source", "mode", "exit_code")}, journal)
    render.print_journal(out, run, document)
    _finish(document, reports, False)


@cli.group()
def state() -> None:
    """Inspect or change the last-known state of the account."""


@state.command("show")
@_state_option
def state_show(state_path: Path) -> None:
    """Groups and contact counts the tool knows."""
    store = StateStore(state_path)
    try:
        known = store.load()
    finally:
        store.close()
    render.print_known(out, known)


@state.command("export")
@click.argument("target", type=click.Path(path_type=Path))
@_state_option
def state_export(target: Path, state_path: Path) -> None:
    """Write the known memberships to a CSV."""
    store = StateStore(state_path)
    try:
        frame = store.export_members()
    finally:
        store.close()
    frame.to_csv(target, sep=";", index=False, encoding="utf-8-sig")
    out.print(f"wrote {len(frame)} membership(s) to {target}")


@state.command("import")
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@click.option("--group", help="Put every row in this group (when the CSV has no 'groupe' column).")
@click.option("--region", default="FR", show_default=True, help="Region for numbers written nationally.")
@_state_option
def state_import(source: Path, group: str | None, region: str, state_path: Path) -> None:
    """Adopt contacts that already exist in the account (CSV with numero[, groupe, nom…])."""
    count = import_existing(source, state_path, group=group, region=region)
    out.print(f"adopted {count} membership(s) from {source}")


@state.command("reset")
@_state_option
@click.option("--yes", is_flag=True, help="Do not ask.")
def state_reset(state_path: Path, yes: bool) -> None:
    """Forget everything the state holds (the account is not touched)."""
    if not yes:
        click.confirm(f"forget everything in {state_path}?", abort=True)
    store = StateStore(state_path)
    try:
        store.reset()
    finally:
        store.close()
    out.print(f"{state_path} reset")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="sms123-sync")
