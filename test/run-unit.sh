#!/bin/sh
# run-unit.sh BIN... - run the cmocka unit test programs, tally their tests
# and print "unit: N passed, N failed"; the tally also goes to $TALLY_FILE.
set -u
pass=0 fail=0 progs_failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	rc=0
	"$t" >"$log" 2>&1 || rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	[ "$rc" -eq 0 ] || progs_failed=$((progs_failed + 1))
	# a program that died without a summary, or failed after it (a leak
	# that LeakSanitizer reports at exit), counts as one failure more:
	# the tally must not read all green when the run is red
	if [ -z "$p$f" ] || { [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; }; then
		fail=$((fail + 1))
		echo "unit: $t exited with status $rc" >&2
	fi
done
echo "unit: $pass passed, $fail failed"
[ -n "${TALLY_FILE:-}" ] && echo "$pass $fail 0" >>"$TALLY_FILE"
[ "$fail" -eq 0 ] && [ "$progs_failed" -eq 0 ]
