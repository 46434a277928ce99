#!/bin/sh
# check.sh UNIT_BIN... - all the tests: unit, then system (SYSTEM_FILES,
# when set, names the system test files; all by default); the last line
# is the total, "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.." || exit 1
TALLY_FILE=$(mktemp)
export TALLY_FILE
trap 'rm -f "$TALLY_FILE"' EXIT
rc=0
./test/run-unit.sh "$@" || rc=1
# shellcheck disable=SC2086
./test/run-system.sh ${SYSTEM_FILES:-} || rc=1
awk '{ p += $1; f += $2; s += $3 } END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$TALLY_FILE"
exit $rc
