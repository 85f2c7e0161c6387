"""The ``sms123-sync`` command line: parses options, calls the library, renders.

No business logic lives here: every command is one call into the library, and every
library error becomes a message and its exit code (docs/design.md, "Exit codes": 0 done, 1 partly
failed, 2 usage/input, 3 deletes held by the deletion guard (the rest applied),
4 authentication/account; 70 an unexpected error, its trace saved to a file, never printed).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import stat
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar

import click
from rich.console import Console
from rich.text import Text

from sms123_sync import __version__, click_i18n, i18n
from sms123_sync.api.wire import WireFormat
from sms123_sync.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, InputError, Sms123Error
from sms123_sync.files import DEFAULT_STATE, WORK_DIR, open_private, output_problem
from sms123_sync.i18n import N_, _, english, lazy_gettext, ngettext
from sms123_sync.logs import setup_logging, stop_logging
from sms123_sync.mapping.ready import SYSTEMS, ready_names, resolve_mapping
from sms123_sync.memory import prefer_jemalloc
from sms123_sync.redact import redact
from sms123_sync.reports.document import SCHEMA_VERSION, summary
from sms123_sync.reports.writers import formats, prepare_reports, write_reports
from sms123_sync.text import printable

# Each command imports the stages it runs in its own body: ``--help``, ``balance`` and
# ``send --to`` must start without pandas, pyarrow, the pipeline or the sandbox
# (tests/test_startup.py).
if TYPE_CHECKING:
    from sms123_sync.api.connection import ConnectionSettings
    from sms123_sync.campaigns.prepare import CampaignRequest
    from sms123_sync.campaigns.run import Preview
    from sms123_sync.reconcile.plan import Plan, PlanOptions

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("sms123_sync")
click_i18n.install()  # click's own words (Usage:, Error: …) in the reader's language

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

SHARE = click.FloatRange(0, 1)  # a fault rate: the share of requests it hits
PORT = click.IntRange(0, 65535)


# What the running command told the error handler, in the context's shared ``meta``.
_AS_JSON = "sms123.as_json"
_JSON_DONE = "sms123.json_done"
_SECRETS = "sms123.secrets"
_LOG_FILE = "sms123.log_file"
_LOG_HANDLER = "sms123.log_handler"
# An unexpected error's message is cut to this length on the terminal (the trace file has it all).
_MAX_SHOWN = 300


class _Cli(click_i18n.Group):
    """Turns every error into one line and the documented exit code; no traceback.

    Errors reach ``--log-file`` too, and ``--json`` still prints one summary object.
    An unexpected exception (a bug) prints one line and saves its trace to the log
    file, or to ``.sms123-sync/crash-….log``; the exit code is EXIT_INTERNAL (70).
    """

    group_class = click_i18n.Group  # the subgroups speak the reader's language; the errors are caught here

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        # The language --lang chooses lasts to the end of this call, error lines included.
        with i18n.scope():
            argv = list(sys.argv[1:] if args is None else args)
            # Click reads the command line before any option's callback, and refuses an
            # unknown option there: --lang is looked for first, so that refusal speaks it too.
            _choose_language_early(argv)
            return super().main(argv, *rest, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except click.ClickException as exc:
            _record_failure(ctx, _ClickText(exc), exc.exit_code)
            raise
        except Sms123Error as exc:
            _fail(ctx, exc, exc.exit_code)
        except KeyboardInterrupt:
            err.print(_("interrupted; the next run settles any call left in flight"))
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            from sms123_sync.reconcile.state import state_error_of

            known = state_error_of(exc)
            if known is not None:
                _fail(ctx, known, known.exit_code)
            _internal_error(ctx, exc)
        finally:
            stop_logging(ctx.meta.pop(_LOG_HANDLER, None))


def _choose_language_early(argv: list[str]) -> None:
    """Speaks the language of a valid ``--lang`` on the command line, if there is one."""
    for i, arg in enumerate(argv):
        if arg == "--":
            return
        value = argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else arg.removeprefix("--lang=")
        if (arg == "--lang" or arg.startswith("--lang=")) and value in i18n.LANGUAGES:
            i18n.choose(value)
            return


def _record_failure(ctx: click.Context, message: object, code: int) -> str:
    """Logs a failure and prints the ``--json`` error summary, both in English whatever
    ``--lang`` says; returns the redacted text in the reader's language, for the terminal."""
    secrets = ctx.meta.get(_SECRETS, ())
    neutral = redact(english(message), secrets)
    _log_error(ctx, f"{neutral} (exit code {code})")
    if ctx.meta.get(_AS_JSON) and not ctx.meta.get(_JSON_DONE):
        ctx.meta[_JSON_DONE] = True
        click.echo(json.dumps({**summary_error(neutral), "exit_code": code}, ensure_ascii=False))
    return redact(str(message), secrets)


def _log_error(ctx: click.Context, message: str) -> None:
    """To ``--log-file`` only: without one, Python's fallback would print it a second time."""
    if ctx.meta.get(_LOG_HANDLER) is not None:
        log.error("%s", message)


def _log_held(plan: Plan) -> None:
    """The guard's verdict to ``--log-file`` (only there: the terminal has it already)."""
    if plan.guard is not None and plan.guard.tripped and click.get_current_context().meta.get(_LOG_HANDLER):
        log.warning("%s", plan.guard.verdict())


def summary_error(message: str) -> dict[str, Any]:
    """The ``--json`` summary of a run that failed before it had a report."""
    return {"schema": "sms123-sync/summary", "version": SCHEMA_VERSION, "error": message}


def _fail(ctx: click.Context, message: object, code: int) -> NoReturn:
    """One error line on stderr in the reader's language (``message``: a string, a
    :class:`~sms123_sync.i18n.Text` or an error); English in ``--json`` and the log."""
    shown = _record_failure(ctx, message, code)
    err.print(Text.assemble((_("error:"), "bold red"), " ", shown))
    ctx.exit(code)


class _UsageError(click.UsageError):
    """A usage error said in the reader's language on the terminal, in English in ``--json``."""

    def __init__(self, text: i18n.Text) -> None:
        self.text = text
        super().__init__(str(text))


class _BadParameter(click.BadParameter):
    """An option's bad value, said as :class:`_UsageError` is."""

    def __init__(self, text: i18n.Text, **kwargs: Any) -> None:
        self.text = text
        super().__init__(str(text), **kwargs)


def _usage(text: i18n.Text) -> _UsageError:
    return _UsageError(text)


class _ClickText:
    """A click error's message as click formats it (``Invalid value for '--x': …``), in
    any language: ours when we raised it with a Text, else click's own English."""

    def __init__(self, exc: click.ClickException) -> None:
        self.exc = exc

    def in_language(self, language: str) -> str:
        exc = self.exc
        if isinstance(exc, _BadParameter):
            again = click.BadParameter(
                exc.text.in_language(language), ctx=exc.ctx, param=exc.param, param_hint=exc.param_hint
            )
            with i18n.use(language):  # click's frame ("Invalid value for …") in that language too
                return again.format_message()
        if isinstance(exc, _UsageError):
            return exc.text.in_language(language)
        # Click's own error: its message was said when raised, in the reader's language;
        # the frame around it is said now.
        with i18n.use(language):
            return exc.format_message()

    def __str__(self) -> str:
        return self.in_language(i18n.current())


def _internal_error(ctx: click.Context, exc: Exception) -> NoReturn:
    """One line for the user; the whole (redacted) trace in the log or a crash file."""
    secrets = ctx.meta.get(_SECRETS, ())
    trace = redact("".join(traceback.format_exception(exc)), secrets)
    where = ctx.meta.get(_LOG_FILE) if ctx.meta.get(_LOG_HANDLER) is not None else None
    if where is not None:
        _log_error(ctx, f"internal error, full trace:\n{trace}")
    else:
        where = _save_crash(trace)
    if where is not None:
        saved = lazy_gettext("full trace in {path}").format(path=where)
    else:
        saved = lazy_gettext("the trace could not be saved")
    text = str(exc)
    text = text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"
    message = lazy_gettext("internal error: {kind}: {text} — {saved}")
    _fail(ctx, message.format(kind=type(exc).__name__, text=text, saved=saved), EXIT_INTERNAL)


def _save_crash(trace: str) -> Path | None:
    """Writes ``trace`` to a new 0600 file under the work folder (else the temp folder)."""
    name = f"crash-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for folder in (WORK_DIR, Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open_private(folder / name, "w", encoding="utf-8") as handle:
                handle.write(trace)
        except OSError:
            continue
        return folder / name
    return None


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
                raise _BadParameter(
                    lazy_gettext("{value}: give seconds (90) or a number with s, m or h (30m, 2h)").format(
                        value=repr(value)
                    ),
                    ctx=ctx,
                    param=param,
                )
            seconds = float(match.group(1)) * self._UNITS[match.group(2).lower()]
        if not 0 < seconds <= self.MAXIMUM:
            raise _BadParameter(
                lazy_gettext("{value}: must be more than 0 and at most 7 days").format(value=repr(value)),
                ctx=ctx,
                param=param,
            )
        return seconds


def connection_options(func: F) -> F:
    """The options of every command that talks to the API."""
    options = [
        click.option("--base-url", envvar="SMS123_BASE_URL", help=N_("API base URL (default: the real 123-SMS API).")),
        click.option("--user", envvar="SMS123_USER", help=N_("Account user/email [env SMS123_USER].")),
        click.option(
            "--api-key",
            envvar="SMS123_API_KEY",
            help=N_(
                "API key (cleAPI) [env SMS123_API_KEY]. Other users of the machine see it in `ps`:"
                " prefer the env or --api-key-file."
            ),
        ),
        click.option(
            "--api-key-file",
            type=click.Path(path_type=Path, dir_okay=False),
            help=N_("Read the API key from this file (one line; keep it chmod 600: a warning otherwise)."),
        ),
        click.option(
            "--wire-format",
            type=click.Choice([f.value for f in WireFormat]),
            default="json",
            show_default=True,
            help=N_("Request body format."),
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(0.1, 600),
            default=15.0,
            show_default=True,
            help=N_("Seconds each HTTP request may take in all (connect, headers, body)."),
        ),
        click.option(
            "--retries", type=click.IntRange(1, 20), default=5, show_default=True, help=N_("Attempts per call.")
        ),
        click.option(
            "--sandbox",
            "use_sandbox",
            is_flag=True,
            help=click_i18n.filled(
                N_("Talk to a local sandbox (data in {folder}/sandbox.sqlite) instead of the real account."),
                folder=WORK_DIR,
            ),
        ),
    ]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sms123_sync.api.client import RetryPolicy
        from sms123_sync.api.connection import ConnectionSettings

        api_key, key_file = kwargs.pop("api_key"), kwargs.pop("api_key_file")
        if key_file is not None:
            source = click.get_current_context().get_parameter_source("api_key")
            if source is click.core.ParameterSource.COMMANDLINE:
                raise _usage(lazy_gettext("give --api-key or --api-key-file, not both"))
            api_key = read_key_file(key_file)
        kwargs["connection"] = ConnectionSettings(
            user=kwargs.pop("user"),
            api_key=api_key,
            base_url=kwargs.pop("base_url"),
            wire_format=WireFormat(kwargs.pop("wire_format")),
            timeout=kwargs.pop("timeout"),
            retry=RetryPolicy(attempts=kwargs.pop("retries")),
            sandbox=kwargs.pop("use_sandbox"),
        )
        click.get_current_context().meta[_SECRETS] = kwargs["connection"].credentials().secrets()
        return func(*args, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def read_key_file(path: Path) -> str:
    """The API key held in ``path``: one line, its newline stripped.

    A file that group or others may read only warns (the key is still used): refusing
    would break setups where a secret store mounts files 0644 in a private container.
    """
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else lazy_gettext("not UTF-8 text")
        raise InputError(
            lazy_gettext("--api-key-file {path}: cannot read it ({reason})").format(path=path, reason=reason)
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        err.print(
            _("warning: --api-key-file {path} can be read by other users (mode {mode}); run: chmod 600 {path}").format(
                path=path, mode=f"{stat.S_IMODE(mode):04o}"
            ),
            markup=False,
        )
    key = text.removesuffix("\n").removesuffix("\r")
    if not key.strip() or any(c in key for c in "\r\n"):
        raise InputError(
            lazy_gettext("--api-key-file {path}: must hold the API key alone, on one line").format(path=path)
        )
    return key


def _choose_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # Eager: chosen before the other options are read, so their errors speak it too; it
    # lasts to the end of the call (_Cli.main's scope), the final error line included.
    # Not given: the language stays the one chosen before (the top level's --lang, else the locale).
    if value is not None:
        i18n.choose(value)


def language_option(func: F) -> F:
    """--lang: the language of what people read (terminal and reports; JSON never changes)."""
    return click.option(
        "--lang",
        type=click.Choice(["fr", "en"]),
        is_eager=True,
        expose_value=False,
        callback=_choose_language,
        help=N_("Language of the terminal text and the reports (else LC_ALL/LANG, else en); JSON is the same in all."),
    )(func)


@click.group(
    cls=_Cli,
    context_settings={"help_option_names": ["-h", "--help"]},
    help=N_("Keep 123-SMS.NET contact groups in step with a CRM export, and send SMS."),
)
@click.version_option(__version__, prog_name="sms123-sync")
@language_option
def cli() -> None:
    pass


@cli.command(help=N_("Show the account's balance (SMS credits)."))
@connection_options
def balance(connection: ConnectionSettings) -> None:
    from sms123_sync.api.connection import connect

    with connect(connection) as client:
        value = client.balance().value
    out.print(_("balance: {value}").format(value=value))


@cli.group(help=N_("A local 123-SMS server for trying mappings and for tests."))
def sandbox() -> None:
    pass


@sandbox.command("serve", help=N_("Run the sandbox server until interrupted (on loopback only, by default)."))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help=N_("Address to bind: loopback only (127.0.0.0/8, ::1, localhost) unless --insecure-listen."),
)
@click.option(
    "--insecure-listen",
    is_flag=True,
    help=N_("Allow a non-loopback --host: anyone who reaches it can use the key and read the account."),
)
@click.option("--port", type=PORT, default=8123, show_default=True, help=N_("Port (0 picks a free one)."))
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=WORK_DIR / "sandbox.sqlite",
    show_default=True,
    help=N_("SQLite file holding the sandbox account."),
)
@click.option("--user", default="sandbox", show_default=True, help=N_("The account user the sandbox accepts."))
@click.option("--api-key", default="sandbox-key", show_default=True, help=N_("The API key the sandbox accepts."))
@click.option("--balance", "initial_balance", type=Decimal, help=N_("Set the balance (SMS credits) at start."))
@click.option(
    "--style", type=click.Choice(["plain", "json", "xml"]), default="plain", show_default=True, help=N_("Answer style.")
)
@click.option("--references", is_flag=True, help=N_("Answer sends with a delivery reference ('80 refaccuse=N')."))
@click.option(
    "--latency-ms", type=click.FloatRange(0, 60_000), default=0.0, help=N_("Delay every answer (milliseconds).")
)
@click.option("--technical-rate", type=SHARE, default=0.0, help=N_("Share of requests answered -2."))
@click.option("--http500-rate", type=SHARE, default=0.0, help=N_("Share answered HTTP 500."))
@click.option("--http429-rate", type=SHARE, default=0.0, help=N_("Share answered HTTP 429 with Retry-After."))
@click.option("--drop-rate", type=SHARE, default=0.0, help=N_("Share of connections dropped before handling."))
@click.option("--lost-answer-rate", type=SHARE, default=0.0, help=N_("Share applied, then dropped without answer."))
@click.option("--seed", type=int, help=N_("Seed for the fault draws (repeatable runs)."))
def sandbox_serve(
    host: str,
    insecure_listen: bool,
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
    from sms123_sync.sandbox.server import Account, Faults, Sandbox, check_listen

    check_listen(host, insecure_listen)
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
        insecure_listen=insecure_listen,
    )
    if insecure_listen:
        err.print(
            _(
                "warning: the sandbox on {host} lets anyone who reaches it use the key and read every contact"
                " (GET /_sandbox/state)"
            ).format(host=host),
            markup=False,
        )
    out.print(_("sandbox listening on {url} (data {data}); Ctrl-C to stop").format(url=server.url, data=data))
    sys.stdout.flush()
    server.serve_forever()


@sandbox.command("show", help=N_("Show what the sandbox account holds: balance, groups, contacts, messages accepted."))
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=WORK_DIR / "sandbox.sqlite",
    show_default=True,
    help=N_("SQLite file holding the sandbox account."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the whole account as JSON."))
def sandbox_show(data: Path, as_json: bool) -> None:
    import json

    from sms123_sync.sandbox.server import AccountStore

    if not data.exists():
        raise _usage(lazy_gettext("no sandbox data at {path}").format(path=data))
    store = AccountStore(data)
    try:
        snap = store.snapshot()
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(snap, ensure_ascii=False, indent=2))
        return
    out.print(_("balance: {value}").format(value=snap["balance"]))
    for group in snap["groups"]:
        members = [c for c in snap["contacts"] if c["groupe"] == group]
        out.print(
            ngettext("{group}: {n} contact", "{group}: {n} contacts", len(members)).format(group=group, n=len(members)),
            markup=False,
        )
    sends = len(snap["sends"])
    out.print(ngettext("{n} message accepted", "{n} messages accepted", sends).format(n=sends), markup=False)
    for sent in snap["sends"]:
        if sent["diff"]:
            when = _("for {when}").format(when=sent["diff"])
        else:
            when = _("at {when}").format(when=sent["sent_at"])
        text = printable(str(sent["message"]))
        out.print(f"  #{sent['id']} {sent['numero']} {sent['status']} {when}: {text}", markup=False)


class _MappingPath(click.ParamType[Path, Any]):
    """A mapping file, or the name of a ready mapping (``-m hubspot``); a file that exists wins."""

    name = "mapping"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        return resolve_mapping(value)


MAPPING = _MappingPath()
MAPPING_HELP = N_("YAML mapping file, or a ready mapping's name (see: sms123-sync mappings).")


@cli.command("mappings", help=N_("List the ready mappings: give a name to -m, or let init pick one from an export."))
def mappings_command() -> None:
    for system in SYSTEMS:
        out.print(f"{system.name:<16} {system.summary}", markup=False, soft_wrap=True)
    out.print(_("use: sms123-sync init EXPORT (adapts one to the export's columns), or -m NAME"), markup=False)


@cli.command(
    "init",
    help=N_(
        "Write a mapping for EXPORT: a ready one when its system is recognised, else one guessed from its"
        " columns, then show what it would sync."
    ),
)
@click.argument("source", metavar="EXPORT")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=Path("mapping.yaml"),
    show_default=True,
    help=N_("Where to write the mapping."),
)
@click.option(
    "--from",
    "system_name",
    type=click.Choice(ready_names()),
    help=N_("The system the export comes from (default: recognised from its header)."),
)
@click.option("--force", is_flag=True, help=N_("Overwrite the output file if it exists."))
@language_option
def init_command(source: str, output: Path, system_name: str | None, force: bool) -> None:
    if output.exists() and not force:
        raise InputError(
            lazy_gettext("{path} exists: give --force to overwrite it, or -o another file").format(path=output)
        )
    _check_output("--output", output)
    from sms123_sync.mapping.pipeline import read_desired
    from sms123_sync.mapping.ready import propose_mapping
    from sms123_sync.reports import terminal as render
    from sms123_sync.sources import read_source

    text, lines = propose_mapping(source, read_source(source), system_name)
    for line in lines:
        out.print(line, markup=False, soft_wrap=True)
    output.write_text(text, encoding="utf-8")
    out.print(_("wrote {path}; what it reads in {source}:").format(path=output, source=source), markup=False)
    result = read_desired(source, output)
    render.print_stats(out, result.stats)
    render.print_rejects(out, result.rejects, str(source), 5)
    render.print_warnings(out, result.warnings, str(source), 5)
    first = result.state.contacts.head(5)
    if len(first):
        out.print(_("first contacts:"))
        for record in first.to_dict("records"):
            shown = ", ".join(f"{k}={record[k]}" for k in ("numero", "prenom", "nom", "v1") if record.get(k))
            out.print(f"  {shown}", markup=False, soft_wrap=True)
    out.print(
        _("next: sms123-sync sync {source} -m {path}").format(source=source, path=output), markup=False, soft_wrap=True
    )


@cli.command(help=N_("Read SOURCE through the mapping and report what would be synced, without any call."))
@click.argument("source", metavar="SOURCE")
@click.option("--mapping", "-m", "mapping_path", type=MAPPING, required=True, help=MAPPING_HELP)
@click.option(
    "--rejects", "rejects_path", type=click.Path(path_type=Path), help=N_("Write every rejected row to this CSV.")
)
@click.option(
    "--show",
    type=click.IntRange(0, 100_000),
    default=10,
    show_default=True,
    help=N_("How many rejects and warnings to print."),
)
@language_option
def validate(source: str, mapping_path: Path, rejects_path: Path | None, show: int) -> None:
    from sms123_sync.mapping.pipeline import read_desired
    from sms123_sync.reports import terminal as render
    from sms123_sync.reports.csv_writer import write_problems_csv

    if rejects_path is not None:
        _check_output("--rejects", rejects_path)
    result = read_desired(source, mapping_path)
    render.print_stats(out, result.stats)
    render.print_rejects(out, result.rejects, str(source), show)
    render.print_warnings(out, result.warnings, str(source), show)
    if rejects_path is not None:
        write_problems_csv(rejects_path, result.rejects)
        count = len(result.rejects)
        out.print(
            ngettext("wrote {n} reject to {path}", "wrote {n} rejects to {path}", count).format(
                n=count, path=rejects_path
            ),
            markup=False,
        )


def _check_output(option: str, path: Path) -> None:
    """Refuses an output path that cannot be written, before any work is done."""
    problem = output_problem(path)
    if problem is not None:
        raise InputError(lazy_gettext("{option} {path}: {problem}").format(option=option, path=path, problem=problem))


def _plan_options(max_delete: str, allow_empty: bool) -> PlanOptions:
    from sms123_sync.reconcile.plan import PlanOptions, parse_max_delete

    try:
        options = parse_max_delete(max_delete)
    except ValueError:
        raise _BadParameter(
            lazy_gettext("{value}: give a count (500), a share (25%) or none").format(value=repr(max_delete)),
            param_hint="--max-delete",
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
        help=N_("State file [env SMS123_STATE]."),
    )(func)


def sync_inputs(func: F) -> F:
    """SOURCE, mapping, state and guard options shared by plan and sync."""
    decorators = [
        click.argument("source", metavar="SOURCE"),
        click.option("--mapping", "-m", "mapping_path", type=MAPPING, required=True, help=MAPPING_HELP),
        _state_option,
        click.option(
            "--max-delete",
            default="10%",
            show_default=True,
            help=N_(
                "Most vanished contacts, and members of any one group, a run may delete before the guard "
                "holds the deletes (exit 3, the rest applied): N, P% (of more than 3) or none."
            ),
        ),
        click.option(
            "--allow-empty",
            is_flag=True,
            help=N_("Allow an export with no usable contact to delete (empties the groups)."),
        ),
        click.option("--verbose", "-v", is_flag=True, help=N_("List every change, not the first ones.")),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def report_options(func: F) -> F:
    """--report, --json and --log-file, shared by plan and sync.

    Before the command runs: the log file is opened and every report path checked, so
    a bad ``--report`` is refused before planning, not after applying. The command
    receives the expanded report paths.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        meta = click.get_current_context().meta
        meta[_AS_JSON] = kwargs["as_json"]
        log_file = kwargs.pop("log_file")
        meta[_LOG_FILE] = log_file
        meta[_LOG_HANDLER] = setup_logging(log_file, meta.get(_SECRETS, ()))
        kwargs["reports"] = prepare_reports(kwargs["reports"])
        return func(*args, **kwargs)

    decorators = [
        click.option(
            "--report",
            "reports",
            multiple=True,
            help=click_i18n.filled(
                N_("Write a report; format from the extension ({formats}); {{date}} and {{time}} expand."),
                formats=" ".join(formats()),
            ),
        ),
        click.option(
            "--json", "as_json", is_flag=True, help=N_("Print one JSON summary on stdout and nothing else there.")
        ),
        click.option(
            "--log-file", type=click.Path(path_type=Path), help=N_("Append timestamped log lines to this file (0600).")
        ),
    ]
    for decorator in reversed(decorators):
        wrapper = decorator(wrapper)
    return wrapper  # type: ignore[return-value]


def _human(as_json: bool) -> Console:
    """Where human-readable output goes: stderr when stdout carries the JSON summary."""
    return err if as_json else out


def _finish(document: dict[str, Any], reports: list[Path], as_json: bool, exit_code: int = 0) -> int:
    """Writes every report, then the summary; returns the exit code, 1 at least if a report failed.

    A report that cannot be written does not stop the others, nor the summary.
    """
    written = write_reports(reports, document)
    for path in written.paths:
        _human(as_json).print(_("report written to {path}").format(path=path), markup=False)
    for path, reason in written.failed:
        message = lazy_gettext("report {path} could not be written: {reason}").format(path=path, reason=reason)
        err.print(Text.assemble((_("error:"), "bold red"), " ", str(message)))
        _log_error(click.get_current_context(), english(message))
    if written.failed:
        exit_code = max(exit_code, 1)
    if as_json:
        ctx = click.get_current_context()
        ctx.meta[_JSON_DONE] = True
        result = {**summary(document), "exit_code": exit_code}
        if written.failed:
            result["failed_reports"] = [str(path) for path, _ in written.failed]
        click.echo(json.dumps(result, ensure_ascii=False))
    return exit_code


def _run_info(
    source: str, mapping_path: Path, state_path: Path, started: datetime, fingerprints: tuple[str, str], mode: str
) -> dict[str, Any]:
    """What the reports say about the run; the fingerprints are the ones the run recorded."""
    return {
        "source": source,
        "source_hash": fingerprints[0],
        "mapping": str(mapping_path),
        "mapping_hash": fingerprints[1],
        "state": str(state_path),
        "mode": mode,
        "started": started.isoformat(timespec="seconds"),
    }


@cli.command("plan", help=N_("Show what a sync would change, without any API call."))
@sync_inputs
@report_options
@language_option
def plan_command(
    source: str,
    mapping_path: Path,
    state_path: Path,
    max_delete: str,
    allow_empty: bool,
    verbose: bool,
    reports: list[Path],
    as_json: bool,
) -> None:
    _plan(source, mapping_path, state_path, max_delete, allow_empty, verbose, reports, as_json)


def _plan(
    source: str,
    mapping_path: Path,
    state_path: Path,
    max_delete: str,
    allow_empty: bool,
    verbose: bool,
    reports: list[Path],
    as_json: bool,
) -> None:
    from sms123_sync.reconcile.sync import make_plan
    from sms123_sync.reports import terminal as render
    from sms123_sync.reports.document import plan_document
    from sms123_sync.sources import source_fingerprint
    from sms123_sync.sources.files import file_fingerprint

    started = datetime.now(UTC)
    desired, plan = make_plan(source, mapping_path, state_path, _plan_options(max_delete, allow_empty))
    fingerprints = (source_fingerprint(source), file_fingerprint(mapping_path))
    run = _run_info(source, mapping_path, state_path, started, fingerprints, desired.state.mode)
    console = _human(as_json)
    render.print_stats(console, desired.stats)
    render.print_rejects(console, desired.rejects, str(source), 10)
    render.print_plan(console, plan, None if verbose else 20)
    _log_held(plan)
    exit_code = plan.guard.exit_code if plan.guard is not None else 0
    click.get_current_context().exit(_finish(plan_document(desired, plan, run), reports, as_json, exit_code))


@cli.command(
    "sync",
    help=N_(
        "Make the account's groups match SOURCE: plan, confirm, apply.\n\n"
        "Ctrl-C or SIGTERM while applying: the calls in flight finish and are recorded, no other starts, "
        "exit 130; the next run continues. A second one stops at once."
    ),
)
@sync_inputs
@click.option("--dry-run", is_flag=True, help=N_("Plan only (same as the plan command)."))
@click.option("--yes", "-y", is_flag=True, help=N_("Apply without asking (needed without a terminal)."))
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True, help=N_("Calls in flight."))
@click.option("--rate", type=click.FloatRange(0.1, 10_000), help=N_("At most this many requests per second."))
@click.option(
    "--deadline",
    type=Duration(),
    help=N_(
        "Start no operation after this long (90, 90s, 30m, 2h; at most 7 days): "
        "calls in flight finish, the rest waits for the next run, exit 1."
    ),
)
@report_options
@connection_options
@language_option
def sync_command(
    source: str,
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
    reports: list[Path],
    as_json: bool,
    connection: ConnectionSettings,
) -> None:
    from sms123_sync.reconcile.apply import ApplyOptions
    from sms123_sync.reconcile.sync import run_sync
    from sms123_sync.reports import terminal as render
    from sms123_sync.reports.document import sync_document

    ctx = click.get_current_context()
    deadline_at = None if deadline is None else time.monotonic() + deadline
    if dry_run:
        _plan(source, mapping_path, state_path, max_delete, allow_empty, verbose, reports, as_json)
        return
    console = _human(as_json)
    if not yes and not sys.stdin.isatty():
        raise _usage(lazy_gettext("no terminal to confirm on: pass --yes to apply without asking"))
    started = datetime.now(UTC)
    progress = render.ApplyProgress(console)

    def confirm(plan: Plan) -> bool:
        count = len(plan.applicable)
        question = ngettext("apply this {n} operation?", "apply these {n} operations?", count).format(n=count)
        if not (yes or click.confirm(question, default=False, err=as_json)):
            return False
        progress.start(count)
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
    _log_held(report.plan)
    fingerprints = (report.source_fingerprint, report.mapping_fingerprint)
    run = _run_info(source, mapping_path, state_path, started, fingerprints, report.desired.state.mode)
    run["ended"] = datetime.now(UTC).isoformat(timespec="seconds")
    exit_code = _finish(sync_document(report, run), reports, as_json, report.exit_code)
    log.info("sync of %s ended with exit code %d", source, exit_code)
    ctx.exit(exit_code)


@cli.group(invoke_without_command=True, help=N_("Past runs, newest first: when, how long, source, counts, exit code."))
@_state_option
@click.option(
    "--limit", type=click.IntRange(1, 100_000), default=30, show_default=True, help=N_("How many runs to list.")
)
@language_option
@click.pass_context
def runs(ctx: click.Context, state_path: Path, limit: int) -> None:
    from sms123_sync.campaigns import report as campaigns_report
    from sms123_sync.reconcile.state import StateStore
    from sms123_sync.reports import terminal as render

    ctx.obj = state_path
    if ctx.invoked_subcommand is not None:
        return
    with StateStore(state_path) as store:
        render.print_runs(out, store.runs(limit))
        campaigns_report.print_campaigns(out, store.campaigns(limit))


@runs.command(
    "show", help=N_("One run's operations, failures and conflicts; for a campaign, each recipient's outcome.")
)
@click.argument("run_id", type=int)
@click.option(
    "--report",
    "reports",
    multiple=True,
    help=click_i18n.filled(N_("Write this run's report ({formats})."), formats=" ".join(formats())),
)
@language_option
@click.pass_obj
def runs_show(state_path: Path, run_id: int, reports: tuple[str, ...]) -> None:
    from sms123_sync.campaigns import report as campaigns_report
    from sms123_sync.reconcile.state import StateStore
    from sms123_sync.reports import terminal as render
    from sms123_sync.reports.document import journal_document

    paths = prepare_reports(reports)
    with StateStore(state_path) as store:
        run = store.run(run_id)
        if run is None:
            raise _usage(lazy_gettext("no run {id} in {path}").format(id=run_id, path=state_path))
        journal = store.journal_of(run_id)
        campaign = store.campaign_named(str(run["source"])) if run["command"] == "send" else None
        sends = store.campaign_sends(int(campaign["id"] or 0)) if campaign is not None else []
    if campaign is not None:
        campaigns_report.print_sends(out, campaign, sends)
        written = campaigns_report.write_campaign_reports(paths, campaigns_report.journal_document(campaign, sends))
        for path in written.paths:
            out.print(_("report written to {path}").format(path=path), markup=False)
        click.get_current_context().exit(1 if written.failed else 0)
    verdict = str(json.loads(str(run["counts"] or "{}")).get("guard") or "")
    document = journal_document(
        {k: run[k] for k in ("id", "started", "ended", "source", "mode", "exit_code")}, journal, verdict
    )
    render.print_journal(out, run, document)
    click.get_current_context().exit(_finish(document, paths, False))


@cli.group(help=N_("Inspect or change the last-known state of the account."))
def state() -> None:
    pass


@state.command("show", help=N_("Groups and contact counts the tool knows."))
@_state_option
@language_option
def state_show(state_path: Path) -> None:
    from sms123_sync.reconcile.state import StateStore
    from sms123_sync.reports import terminal as render

    with StateStore(state_path) as store:
        known = store.load()
    render.print_known(out, known)


@state.command("export", help=N_("Write the known memberships to a CSV (created 0600: it holds names and numbers)."))
@click.argument("target", type=click.Path(path_type=Path))
@_state_option
def state_export(target: Path, state_path: Path) -> None:
    from sms123_sync.reconcile.state import StateStore

    _check_output("state export", target)
    with StateStore(state_path) as store:
        frame = store.export_members()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open_private(target, "w", encoding="utf-8-sig", newline="") as handle:
        frame.to_csv(handle, sep=";", index=False)
    out.print(
        ngettext("wrote {n} membership to {path}", "wrote {n} memberships to {path}", len(frame)).format(
            n=len(frame), path=target
        ),
        markup=False,
    )


@state.command("import", help=N_("Adopt contacts that already exist in the account (CSV with numero[, groupe, nom…])."))
@click.argument("source", metavar="SOURCE")
@click.option("--group", help=N_("Put every row in this group (when the CSV has no 'groupe' column)."))
@click.option("--region", default="FR", show_default=True, help=N_("Region for numbers written nationally."))
@_state_option
@language_option
def state_import(source: str, group: str | None, region: str, state_path: Path) -> None:
    from sms123_sync.reconcile.adopt import import_existing

    count = import_existing(source, state_path, group=group, region=region)
    out.print(
        ngettext("adopted {n} membership from {source}", "adopted {n} memberships from {source}", count).format(
            n=count, source=source
        ),
        markup=False,
    )


@state.command("reset", help=N_("Forget everything the state holds (the account is not touched)."))
@_state_option
@click.option("--yes", is_flag=True, help=N_("Do not ask."))
def state_reset(state_path: Path, yes: bool) -> None:
    from sms123_sync.reconcile.state import StateStore

    if not yes:
        click.confirm(_("forget everything in {path}?").format(path=state_path), abort=True)
    with StateStore(state_path) as store:
        store.reset()
    out.print(_("{path} reset").format(path=state_path), markup=False)


# -- send: single messages and campaigns ----------------------------------------------


@cli.command(
    help=N_(
        "Send an SMS to numbers (--to), or a personalised campaign to groups or an export.\n\n"
        "A campaign sends each recipient one message, exactly once: a re-run after a crash or Ctrl-C "
        "sends only to those not yet sent. Marketing messages go out Monday to Saturday within --hours of"
        " the recipient's time, never on Sundays or public holidays; one due outside is deferred to the "
        "next lawful time."
    )
)
@click.option("--to", "numbers", multiple=True, help=N_("Recipient number; repeat for several (one message for all)."))
@click.option(
    "--group", "groups", multiple=True, help=N_("Campaign to every contact the state knows in this group; repeat.")
)
@click.option("--export", "export", help=N_("Campaign to the contacts of this export (CSV/XLSX), read with --mapping."))
@click.option(
    "--mapping", "mapping_path", type=MAPPING, help=N_("YAML mapping (or a ready mapping's name) for --export.")
)
@click.option("--at-column", help=N_("Export column holding each row's own time (Paris): its message is scheduled."))
@click.option(
    "--before",
    type=Duration(),
    help=N_("With --at-column: send this long before the row's time (24h, 90m; elapsed time)."),
)
@click.option(
    "--message", "-m", required=True, help=N_("The text; {prenom}, {Date RDV} or {prenom|Madame} personalise.")
)
@click.option("--at", "at_text", help=N_("Schedule for this Paris time, e.g. '2026-12-01 15:30'."))
@click.option("--cancel", is_flag=True, help=N_("Cancel the send scheduled --at that time (--to only)."))
@click.option("--flash", is_flag=True, help=N_("Flash SMS: shown on screen, not stored."))
@click.option("--sender", help=N_("Sender id (at most 11 letters/digits)."))
@click.option("--tts", is_flag=True, help=N_("Voice message read to a landline."))
@click.option("--test", "test_mode", is_flag=True, help=N_("Test mode: checked by the API, not sent, not charged."))
@click.option("--long", "allow_long", is_flag=True, help=N_("Allow a message longer than one SMS."))
@click.option("--region", default="FR", show_default=True, help=N_("Region for numbers written nationally."))
@click.option("--name", help=N_("Campaign name (default: from the message and the recipients); a re-run continues it."))
@click.option("--dry-run", is_flag=True, help=N_("Show recipients, first messages and the SMS count; send nothing."))
@click.option("--yes", "-y", is_flag=True, help=N_("Send the campaign without asking (needed without a terminal)."))
@click.option(
    "--allow-partial", is_flag=True, help=N_("Send what the balance allows instead of refusing the campaign.")
)
@click.option(
    "--hours",
    "hours_text",
    default="08:00-20:00",
    show_default=True,
    help=N_("Lawful window for marketing messages (recipient's time, Monday-Saturday, no public holidays)."),
)
@click.option("--no-defer", is_flag=True, help=N_("Refuse the campaign if a message falls outside the lawful hours."))
@click.option("--transactional", is_flag=True, help=N_("Reminders and alerts: the lawful-hours rule does not apply."))
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True, help=N_("Calls in flight."))
@click.option("--rate", type=click.FloatRange(0.1, 10_000), help=N_("At most this many requests per second."))
@_state_option
@report_options
@connection_options
@language_option
def send(
    numbers: tuple[str, ...],
    groups: tuple[str, ...],
    export: str | None,
    mapping_path: Path | None,
    at_column: str | None,
    before: float | None,
    message: str,
    at_text: str | None,
    cancel: bool,
    flash: bool,
    sender: str | None,
    tts: bool,
    test_mode: bool,
    allow_long: bool,
    region: str,
    name: str | None,
    dry_run: bool,
    yes: bool,
    allow_partial: bool,
    hours_text: str,
    no_defer: bool,
    transactional: bool,
    concurrency: int,
    rate: float | None,
    state_path: Path,
    reports: list[Path],
    as_json: bool,
    connection: ConnectionSettings,
) -> None:
    from sms123_sync.api.send import parse_when

    at = parse_when(at_text) if at_text else None
    if not (groups or export):
        if not numbers:
            raise _usage(lazy_gettext("give --to numbers, or --group / --export for a campaign"))
        if reports or as_json or dry_run:
            raise _usage(lazy_gettext("--report, --json and --dry-run are for campaigns (--group or --export)"))
        _send_to(numbers, message, at, cancel, flash, sender, tts, test_mode, allow_long, region, connection)
        return
    if numbers or cancel:
        raise _usage(lazy_gettext("--to and --cancel are for single sends; a campaign takes --group or --export"))
    if groups and export:
        raise _usage(lazy_gettext("give --group or --export, not both"))
    from sms123_sync.campaigns.hours import Window
    from sms123_sync.campaigns.plan import SendOptions
    from sms123_sync.campaigns.prepare import CampaignRequest

    request = CampaignRequest(
        message,
        state_path,
        groups=groups,
        export=export,
        mapping=mapping_path,
        at_column=at_column,
        before=before or 0.0,
        at=at,
        name=name,
        options=SendOptions(sender or None, flash, tts, test_mode, allow_long),
        transactional=transactional,
        window=Window.parse(hours_text),
        defer=not no_defer,
    )
    _campaign(request, dry_run, yes, allow_partial, concurrency, rate, reports, as_json, connection)


def _send_to(
    numbers: tuple[str, ...],
    message: str,
    at: datetime | None,
    cancel: bool,
    flash: bool,
    sender: str | None,
    tts: bool,
    test_mode: bool,
    allow_long: bool,
    region: str,
    connection: ConnectionSettings,
) -> None:
    """The single send to numbers typed on the command line: one message for all."""
    from sms123_sync.api.connection import connect
    from sms123_sync.api.send import prepare_send, send_sms

    split = tuple(n.strip() for raw in numbers for n in raw.split(",") if n.strip())
    request = prepare_send(
        split,
        message,
        at=at,
        cancel=cancel,
        flash=flash,
        sender=sender,
        tts=tts,
        test=test_mode,
        allow_long=allow_long,
        region=region,
    )
    shape = request.shape
    out.print(
        ngettext(
            "message: {units} {encoding} characters, {n} SMS",
            "message: {units} {encoding} characters, {n} SMS",
            shape.units,
        ).format(units=shape.units, encoding=shape.encoding, n=shape.segments),
        markup=False,
    )
    with connect(connection) as client:
        outcomes = send_sms(client, request)
    failed = 0
    for outcome in outcomes:
        mark = _("ok") if outcome.result.ok else _("FAILED")
        failed += not outcome.result.ok
        ref = " " + _("ref {reference}").format(reference=outcome.result.reference) if outcome.result.reference else ""
        info = outcome.result.info
        meaning = info.fr if i18n.current() == "fr" else info.en  # the API's own table says both
        out.print(f"{outcome.number}: {mark} {outcome.result.code} {meaning}{ref}", markup=False)
    click.get_current_context().exit(1 if failed else 0)


def _campaign(
    request: CampaignRequest,
    dry_run: bool,
    yes: bool,
    allow_partial: bool,
    concurrency: int,
    rate: float | None,
    reports: list[Path],
    as_json: bool,
    connection: ConnectionSettings,
) -> None:
    """Plans the campaign, shows it, confirms, sends; renders the outcome and the reports."""
    from sms123_sync.api.client import PARIS
    from sms123_sync.campaigns import report as campaigns_report
    from sms123_sync.campaigns.prepare import prepare_campaign
    from sms123_sync.campaigns.run import CampaignOptions, run_campaign
    from sms123_sync.campaigns.run import dry_run as campaign_dry_run
    from sms123_sync.reports import terminal as render

    ctx = click.get_current_context()
    console = _human(as_json)
    started = datetime.now(UTC)
    plan = prepare_campaign(request, datetime.now(PARIS))
    if dry_run:
        preview = campaign_dry_run(plan, request.state, connection)
        campaigns_report.print_preview(console, preview)
        ctx.exit(_finish_campaign(campaigns_report.campaign_document(preview, None, started), reports, as_json, 0))
    if not yes and not sys.stdin.isatty():
        raise _usage(lazy_gettext("no terminal to confirm on: pass --yes to send without asking"))
    progress = render.ApplyProgress(console)

    def confirm(preview: Preview) -> bool:
        campaigns_report.print_preview(console, preview)
        count = len(preview.to_send)
        question = ngettext("send {n} message?", "send {n} messages?", count).format(n=count)
        if not (yes or click.confirm(question, default=False, err=as_json)):
            return False
        progress.start(len(preview.to_send))
        return True

    try:
        result = run_campaign(
            plan,
            request.state,
            connection,
            options=CampaignOptions(concurrency, rate, allow_partial, handle_signals=True),
            confirm=confirm,
            on_done=progress.advance,
        )
    finally:
        progress.stop()
    campaigns_report.print_result(console, result)
    document = campaigns_report.campaign_document(result.preview, result, started)
    exit_code = _finish_campaign(document, reports, as_json, result.exit_code)
    log.info("campaign %s ended with exit code %d", plan.name, exit_code)
    ctx.exit(exit_code)


def _finish_campaign(document: dict[str, Any], reports: list[Path], as_json: bool, exit_code: int) -> int:
    """Writes the campaign's reports, then its ``--json`` summary; as :func:`_finish`."""
    from sms123_sync.campaigns import report as campaigns_report

    written = campaigns_report.write_campaign_reports(reports, document)
    for path in written.paths:
        _human(as_json).print(_("report written to {path}").format(path=path), markup=False)
    for path, reason in written.failed:
        message = _("report {path} could not be written: {reason}").format(path=path, reason=reason)
        err.print(Text.assemble((_("error:"), "bold red"), " ", message))
    if written.failed:
        exit_code = max(exit_code, 1)
    if as_json:
        click.get_current_context().meta[_JSON_DONE] = True
        click.echo(json.dumps(campaigns_report.campaign_summary(document, exit_code), ensure_ascii=False))
    return exit_code


def main() -> None:
    """Console-script entry point."""
    prefer_jemalloc()  # before any command imports pyarrow (sms123_sync/memory.py)
    cli(prog_name="sms123-sync")
