#!/bin/sh
# run-unit.sh BIN... - run the cmocka unit tests and tally them.
set -u
pass=0 fail=0
for t in "$@"; do
	if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "unit test programs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
