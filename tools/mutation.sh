#!/usr/bin/env bash
# Mutation testing of the core logic with mutmut (issue 16). Slow: never run in CI.
#
#   pip install -e '.[test,mutation]'
#   tools/mutation.sh            # the scope below, one worker (the machine is shared)
#   tools/mutation.sh full       # every function of the six modules (hours on 2 cores)
#   MUTATION_JOBS=2 tools/mutation.sh
#
# Then `mutmut results` lists the survivors and `mutmut show NAME` shows one.
# mutmut mutates code inside functions only: the code tables and the overseas regions
# are module-level data, so tools/mutants_by_hand.py covers them (and the mutants the
# audit found) by hand; this script runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="${MUTATION_JOBS:-1}"
# The properties replay their fixed examples plus a few drawn ones, so one mutant costs
# seconds, not minutes.
export CONVERGE_EXAMPLES="${CONVERGE_EXAMPLES:-2}"

if [[ -z "${SKIP_BY_HAND:-}" ]]; then
    python tools/mutants_by_hand.py
fi

# The default scope, about 350 mutants (about 30 minutes with one worker): the deletion
# guard and --max-delete, the rename pairing, the journal settle, how answers become
# outcomes, the journal's methods, the code lookup and the phone normalisation.
# `full` adds the rest of the apply logic, the planner's matching and the run (hours).
scope=(
    "sms123_sync.reconcile.plan.x_check_guard*"
    "sms123_sync.reconcile.plan.x__over*"
    "sms123_sync.reconcile.plan.x__release*"
    "sms123_sync.reconcile.plan.x_parse_max_delete*"
    "sms123_sync.reconcile.plan.x__renames*"
    "sms123_sync.reconcile.sync.x__settle*"
    "sms123_sync.reconcile.apply.xǁApplierǁ_judge*"
    "sms123_sync.reconcile.state.xǁStateStoreǁjournal_*"
    "sms123_sync.reconcile.state.xǁStateStoreǁopen_entries*"
    "sms123_sync.reconcile.state.xǁStateStoreǁtake_open_entries*"
    "sms123_sync.api.codes.x_lookup*"
    "sms123_sync.mapping.normalize.x__overseas*"
    "sms123_sync.mapping.normalize.x__explicit_country*"
    "sms123_sync.mapping.normalize.x__prepare*"
    "sms123_sync.mapping.normalize.x__parse*"
)
if [[ "${1:-}" == "full" ]]; then
    scope+=(
        "sms123_sync.reconcile.plan.x__losses*"
        "sms123_sync.reconcile.plan.x__match*"
        "sms123_sync.reconcile.plan.x_plan_changes*"
        "sms123_sync.reconcile.sync.x_run_sync*"
        "sms123_sync.reconcile.apply.xǁApplierǁ_execute*"
        "sms123_sync.reconcile.apply.xǁApplierǁ_add*"
        "sms123_sync.reconcile.apply.xǁApplierǁ_update*"
        "sms123_sync.reconcile.apply.xǁApplierǁ_take_over*"
        "sms123_sync.reconcile.apply.xǁApplierǁ_record*"
        "sms123_sync.mapping.normalize.x_normalize_phones*"
        "sms123_sync.mapping.normalize.x__fast_decide*"
    )
fi
mutmut run --max-children "$jobs" "${scope[@]}" || true
# The score over the scope (mutmut's own count includes every mutant it generated).
mutmut results --all true | python -c '
import fnmatch, sys
from collections import Counter
scope = sys.argv[1:]
seen = Counter()
for line in sys.stdin:
    name, _, status = line.strip().rpartition(": ")
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in scope):
        seen[status] += 1
        if status == "survived":
            print("survived:", name)
tested = seen["killed"] + seen["survived"] + seen["timeout"]
print(dict(seen))
print(f"score: {seen['killed'] + seen['timeout']} of {tested} killed ({(seen['killed'] + seen['timeout']) / max(tested, 1):.1%})")
' "${scope[@]}"
