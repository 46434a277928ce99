#!/bin/sh
# run-unit.sh BIN... - run the cmocka unit test programs, tally their tests
# and print "unit: N passed, N failed"; the tally also goes to $TALLY_FILE.
set -u
pass=0 fail=0 progs_failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	if ! "$t" >"$log" 2>&1; then
		progs_failed=$((progs_failed + 1))
	fi
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	# a program that died without a summary counts as one failure
	if [ -z "$p$f" ]; then fail=$((fail + 1)); fi
done
echo "unit: $pass passed, $fail failed"
[ -n "${TALLY_FILE:-}" ] && echo "$pass $fail 0" >>"$TALLY_FILE"
[ "$fail" -eq 0 ] && [ "$progs_failed" -eq 0 ]
