#!/usr/bin/env bash
# run-system.sh [BATS_FILE...] - the system tests: start the lab (real
# dockerd, sshd and registry in network namespaces), run the bats files
# against it with the real docker CLI, tear the lab down, and print
# "system: N passed, N failed, N skipped" (also appended to $TALLY_FILE).
#
# A plugin built with ThreadSanitizer (make SANITIZE=thread) stops at its
# first report (exit 66) and writes it to a file of the run: any report
# fails the run and is printed at the end, also when the test that met it
# expected the plugin to fail or did not look at its status.
#
# SYSTEM_JOBS=N (default 2) runs the files in N labs side by side, each
# with its own LAB_ID (LAB_ID, LAB_ID+5, ... modulo 10): the tests wait on
# engines and links far more than they compute, so two labs on two cores
# take little more than half the time of one.  SYSTEM_JOBS=1: one lab.
set -u
cd "$(dirname "$0")/.." || exit 1
: "${DM_BIN:?DM_BIN must name the plugin binary}"
lab=test/lab/lab.sh
files=("$@")
[ ${#files[@]} -eq 0 ] && files=(test/system/*.bats)
jobs=${SYSTEM_JOBS:-2}
base=${LAB_ID:-0}

if [ "$(id -u)" -ne 0 ]; then
	echo "system tests need root (network namespaces, dockerd)" >&2
	exit 1
fi
[[ $jobs =~ ^[1-5]$ ]] || { echo "SYSTEM_JOBS must be 1 to 5" >&2; exit 1; }
((jobs > ${#files[@]})) && jobs=${#files[@]}

# Minutes a file takes on this 2-core machine, measured: the heaviest go
# first to the least loaded lab.  Files not listed count as one minute.
weight() {
	case ${1##*/} in
	042-*) echo 7 ;; 055-*) echo 6 ;; 041-*|043-*) echo 4 ;;
	036-*|035-*|066-*) echo 3 ;;
	020-*|040-*|050-*) echo 2 ;; 080-*|030-*|075-*|092-*) echo 2 ;;
	*) echo 1 ;;
	esac
}

ids=() groups=() load=()
for ((j = 0; j < jobs; j++)); do
	ids+=($(((base + 5 * j) % 10)))
	groups+=("")
	load+=(0)
done
while read -r w f; do
	best=0
	for ((j = 1; j < jobs; j++)); do
		((load[j] < load[best])) && best=$j
	done
	groups[best]+="$f "
	load[best]=$((load[best] + w))
done < <(for f in "${files[@]}"; do echo "$(weight "$f") $f"; done | sort -rn -k1,1 -s)

tmp=$(mktemp -d)
mkdir "$tmp/sanitizer"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 log_path=$tmp/sanitizer/tsan${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
down_all() {
	local id
	for id in "${ids[@]}"; do LAB_ID=$id "$lab" down >/dev/null 2>&1; done
	rm -rf "$tmp"
}
trap down_all EXIT

# the labs start side by side; any that fails stops the run
for ((j = 0; j < jobs; j++)); do
	LAB_ID=${ids[j]} "$lab" up >"$tmp/up.$j" 2>&1 &
	echo $! >"$tmp/uppid.$j"
done
ok=1
for ((j = 0; j < jobs; j++)); do
	if ! wait "$(cat "$tmp/uppid.$j")"; then
		cat "$tmp/up.$j" >&2
		ok=0
	fi
done
if [ $ok -eq 0 ]; then
	echo "system: cannot start the lab"
	exit 1
fi

# each lab's bats; its TAP kept whole, and shown line by line as it comes
for ((j = 0; j < jobs; j++)); do
	# shellcheck disable=SC2086
	(LAB_ID=${ids[j]} DM_BIN=$DM_BIN bats --timing --formatter tap ${groups[j]} \
		>"$tmp/tap.$j" 2>&1) &
	echo $! >"$tmp/pid.$j"
done
if [ "$jobs" -gt 1 ]; then
	for ((j = 0; j < jobs; j++)); do
		tail -n +1 -F --pid="$(cat "$tmp/pid.$j")" "$tmp/tap.$j" 2>/dev/null |
			sed -u "s/^/[lab ${ids[j]}] /" &
	done
else
	tail -n +1 -F --pid="$(cat "$tmp/pid.0")" "$tmp/tap.0" 2>/dev/null &
fi
for ((j = 0; j < jobs; j++)); do wait "$(cat "$tmp/pid.$j")"; done
wait	# the tails end with their bats

pass=0 skip=0 fail=0
for ((j = 0; j < jobs; j++)); do
	t=$tmp/tap.$j
	p=$(grep -c '^ok .*' "$t")
	s=$(grep -c '^ok .*# skip' "$t")
	f=$(grep -c '^not ok ' "$t")
	planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$t" | head -n 1)
	# tests that never reported (bats died) are failures too
	if [ -n "$planned" ] && [ $((p + f)) -lt "$planned" ]; then
		f=$((f + planned - p - f))
	fi
	[ -z "$planned" ] && f=$((f + 1))	# bats did not even start
	pass=$((pass + p - s)) skip=$((skip + s)) fail=$((fail + f))
done
reports=$(find "$tmp/sanitizer" -type f | wc -l)
if [ "$reports" -gt 0 ]; then
	n=0
	for r in "$tmp"/sanitizer/*; do
		# the first three whole; the same race usually repeats
		n=$((n + 1))
		if [ $n -le 3 ]; then
			echo "--- sanitizer report ${r##*/}:"
			head -n 80 "$r"
		else
			echo "--- sanitizer report ${r##*/}: $(grep -m 1 WARNING "$r")"
		fi
	done
	echo "system: $reports sanitizer report(s): failed"
	fail=$((fail + reports))
fi
echo "system: $pass passed, $fail failed, $skip skipped"
[ -n "${TALLY_FILE:-}" ] && echo "$pass $fail $skip" >>"$TALLY_FILE"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
