"""Writes docs/cli.md from the click commands themselves, so the reference cannot drift.

python docs/cli_reference.py          # rewrite docs/cli.md
python docs/cli_reference.py --check  # exit 1 if docs/cli.md is stale (the test does this)
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

from sms123_sync import i18n
from sms123_sync.cli import cli

TARGET = Path(__file__).with_name("cli.md")
INTRO = """# Command reference

Generated from the commands by `python docs/cli_reference.py`; a test fails when it is
stale. The README explains what the commands are for; this page lists every option.
"""


def _walk(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from _walk(command.commands[name], (*path, name))


def _option_row(param: click.Parameter, ctx: click.Context) -> str | None:
    record = param.get_help_record(ctx)
    if record is None:
        return None
    names, text = (part.replace("|", "\\|") for part in record)
    return f"| `{names}` | {text} |"


def _section(path: tuple[str, ...], command: click.Command) -> str:
    ctx = click.Context(command, info_name=" ".join(path))
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines = [f"## `{' '.join(path)}`", "", f"    {' '.join(path)} {usage}", ""]
    if command.help:
        lines += [click.unstyle(command.help).strip(), ""]
    rows = [row for param in command.get_params(ctx) if (row := _option_row(param, ctx)) is not None]
    if rows:
        lines += ["| option | meaning |", "|---|---|", *rows, ""]
    if isinstance(command, click.Group) and command.commands:
        lines += ["Commands: " + ", ".join(f"`{name}`" for name in sorted(command.commands)) + ".", ""]
    return "\n".join(lines)


def render() -> str:
    """The whole reference page, one section per command and subcommand."""
    with i18n.use("en"):  # the reference is English, whatever the locale of whoever runs this
        sections = [_section(path, command) for path, command in _walk(cli, ("sms123-sync",))]
    return INTRO + "\n" + "\n".join(sections)


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is stale: run python docs/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
