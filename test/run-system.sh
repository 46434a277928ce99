#!/usr/bin/env bash
# run-system.sh [BATS_FILE...] - the system tests: start the lab (real
# dockerd, sshd and registry in network namespaces), run the bats files
# against it with the real docker CLI, tear the lab down, and print
# "system: N passed, N failed, N skipped" (also appended to $TALLY_FILE).
set -u
cd "$(dirname "$0")/.." || exit 1
: "${DM_BIN:?DM_BIN must name the plugin binary}"
lab=test/lab/lab.sh
files=("$@")
[ ${#files[@]} -eq 0 ] && files=(test/system/*.bats)

if [ "$(id -u)" -ne 0 ]; then
	echo "system tests need root (network namespaces, dockerd)" >&2
	exit 1
fi
if ! "$lab" up >/tmp/dm-lab-up.$$ 2>&1; then
	cat /tmp/dm-lab-up.$$ >&2
	rm -f /tmp/dm-lab-up.$$
	echo "system: cannot start the lab"
	"$lab" down >/dev/null 2>&1
	exit 1
fi
rm -f /tmp/dm-lab-up.$$
trap '"$lab" down >/dev/null 2>&1' EXIT

tap=$(mktemp)
trap 'rm -f "$tap"; "$lab" down >/dev/null 2>&1' EXIT
DM_BIN=$DM_BIN bats --formatter tap "${files[@]}" | tee "$tap"
pass=$(grep -c '^ok .*' "$tap" | tr -d ' ')
skip=$(grep -c '^ok .*# skip' "$tap" | tr -d ' ')
fail=$(grep -c '^not ok ' "$tap" | tr -d ' ')
pass=$((pass - skip))
planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$tap" | head -n 1)
# tests that never reported (bats died) are failures too
ran=$((pass + skip + fail))
if [ -n "$planned" ] && [ "$ran" -lt "$planned" ]; then
	fail=$((fail + planned - ran))
fi
echo "system: $pass passed, $fail failed, $skip skipped"
[ -n "${TALLY_FILE:-}" ] && echo "$pass $fail $skip" >>"$TALLY_FILE"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
