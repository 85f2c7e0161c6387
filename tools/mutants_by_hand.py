"""The mutants the suite audit found surviving (issue 16), applied one at a time.

Each mutant is a small textual change to the core logic; the script copies the
package to a scratch directory, applies one change there (the worktree is never
touched), runs the tests that should kill it, and reports KILLED or SURVIVED. A
survivor means the suite no longer guards that rule: exit status 1.

    python tools/mutants_by_hand.py            # every mutant
    python tools/mutants_by_hand.py guard-gte  # some, by name
    python tools/mutants_by_hand.py --tests tests/test_converge_hard.py  # other tests

Not run in CI (a few minutes); tools/mutation.sh runs the broad mutmut pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    """One change: in ``path``, the only occurrence of ``old`` becomes ``new``."""

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


SYNC = "sms123_sync/reconcile/sync.py"
APPLY = "sms123_sync/reconcile/apply.py"
PLAN = "sms123_sync/reconcile/plan.py"
CODES = "sms123_sync/api/codes.py"
NORMALIZE = "sms123_sync/mapping/normalize.py"
CRASH_TESTS = ("tests/test_mutants.py", "tests/test_crash_process.py", "tests/test_interrupt.py")

MUTANTS = (
    Mutant(
        "no-settle",
        SYNC,
        "    open_entries = store.take_open_entries()\n    if not open_entries:",
        "    open_entries = []\n    if not open_entries:",
        CRASH_TESTS,
    ),
    Mutant(
        "close-maybe-applied",
        APPLY,
        '                return Outcome(op, Status.FAILED, None, f"{exc}; outcome unknown, settled by the next run")\n'
        "            outcome = Outcome(",
        "                pass\n            outcome = Outcome(",
        CRASH_TESTS,
    ),
    Mutant(
        "settle-not-suspect",
        SYNC,
        "for op in open_entries], suspect=True)",
        "for op in open_entries], suspect=False)",
        CRASH_TESTS,
    ),
    Mutant(
        "no-rename-echo",
        APPLY,
        "echo = (result.maybe_applied or suspect) and op.kind is OpKind.GROUP_RENAME",
        "echo = False",
        CRASH_TESTS,
    ),
    Mutant(
        "guard-gte",
        PLAN,
        "vanished > options.max_delete * known",
        "vanished >= options.max_delete * known",
        ("tests/test_guard.py", "tests/test_mutants.py"),
    ),
    Mutant(
        "guard-share-x5",
        PLAN,
        "vanished > options.max_delete * known",
        "vanished > options.max_delete * 5 * known",
        ("tests/test_guard.py", "tests/test_mutants.py"),
    ),
    Mutant(
        "guard-count-x5",
        PLAN,
        "return vanished > options.max_delete_count",
        "return vanished > options.max_delete_count * 5",
        ("tests/test_guard.py", "tests/test_mutants.py"),
    ),
    Mutant(
        "max-delete-count-as-share",
        PLAN,
        "return PlanOptions(max_delete=None, max_delete_count=int(text))",
        "return PlanOptions(max_delete=int(text) / 100)",
        ("tests/test_guard.py", "tests/test_mutants.py"),
    ),
    Mutant(
        "max-delete-share-as-count",
        PLAN,
        "return PlanOptions(max_delete=float(text[:-1]) / 100)",
        "return PlanOptions(max_delete=None, max_delete_count=int(float(text[:-1])))",
        ("tests/test_guard.py", "tests/test_mutants.py"),
    ),
    Mutant(
        "rename-overlap-0.1",
        PLAN,
        "RENAME_OVERLAP = 0.5",
        "RENAME_OVERLAP = 0.1",
        ("tests/test_plan.py", "tests/test_sync.py", "tests/test_mutants.py"),
    ),
    Mutant(
        "rename-overlap-1.0",
        PLAN,
        "RENAME_OVERLAP = 0.5",
        "RENAME_OVERLAP = 1.0",
        ("tests/test_plan.py", "tests/test_sync.py", "tests/test_mutants.py"),
    ),
    Mutant(
        "contact-del-508-not-found",
        CODES,
        '"no such contact (already deleted)",\n        Category.ALREADY_DONE,',
        '"no such contact (already deleted)",\n        Category.NOT_FOUND,',
        ("tests/test_client_codes.py", "tests/test_sync.py", "tests/test_mutants.py"),
    ),
    Mutant(
        "contact-del-517-not-found",
        CODES,
        '"group does not exist (contact already gone)",\n        Category.ALREADY_DONE,',
        '"group does not exist (contact already gone)",\n        Category.NOT_FOUND,',
        ("tests/test_client_codes.py", "tests/test_sync.py", "tests/test_mutants.py"),
    ),
    Mutant(
        "no-french-guiana",
        NORMALIZE,
        '"MQ", "GF", "PM"',
        '"MQ", "PM"',
        ("tests/test_real_phones.py", "tests/test_mutants.py"),
    ),
    Mutant(
        "no-mayotte",
        NORMALIZE,
        '("RE", "YT", "GP"',
        '("RE", "GP"',
        ("tests/test_real_phones.py", "tests/test_mutants.py"),
    ),
)


def run(mutant: Mutant, scratch: Path, tests: list[str]) -> str | None:
    """The test that kills ``mutant`` (fails with it applied), or None when it survives."""
    package = scratch / "sms123_sync"
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(ROOT / "sms123_sync", package, ignore=shutil.ignore_patterns("__pycache__"))
    target = scratch / mutant.path
    text = target.read_text(encoding="utf-8")
    if text.count(mutant.old) != 1:
        raise SystemExit(f"{mutant.name}: the text to change is not found once in {mutant.path}; update the mutant")
    target.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")
    # The scratch package comes first on the path, for pytest and for the real
    # `sms123-sync` processes the crash tests start.
    env = {**os.environ, "PYTHONPATH": f"{scratch}{os.pathsep}{ROOT}", "PYTHONDONTWRITEBYTECODE": "1"}
    tests = tests or [t for t in mutant.tests if (ROOT / t).exists()]
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-rfE", "-p", "no:cacheprovider", *tests]
    done = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return None
    failed = [line.split()[1] for line in done.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    return failed[0] if failed else f"pytest exit {done.returncode}"


def main(args: list[str]) -> int:
    tests: list[str] = []
    if "--tests" in args:
        at = args.index("--tests")
        tests = args[at + 1].split(",")
        args = args[:at] + args[at + 2 :]
    names = args
    chosen = [m for m in MUTANTS if not names or m.name in names]
    survivors = []
    with tempfile.TemporaryDirectory(prefix="sms123-mutant-") as tmp:
        scratch = Path(tmp)
        (scratch / "tests").symlink_to(ROOT / "tests")
        for name in ("pyproject.toml", "docs", "samples", "mappings", "bench", "README.md", "CHANGELOG.md"):
            if (ROOT / name).exists():
                (scratch / name).symlink_to(ROOT / name)
        for mutant in chosen:
            killer = run(mutant, scratch, tests)
            print(f"KILLED   {mutant.name} by {killer}" if killer else f"SURVIVED {mutant.name}", flush=True)
            if killer is None:
                survivors.append(mutant.name)
    print(f"{len(chosen) - len(survivors)} of {len(chosen)} killed")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
