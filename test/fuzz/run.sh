#!/bin/sh
# run.sh NAME... - fuzz each target build/fuzz/fuzz_NAME for $FUZZ_SECONDS
# on a copy of its seed corpus (build/fuzz/corpus/NAME: what it finds is
# kept there between runs, never in test/fuzz/corpus), then run it once
# over each input of test/fuzz/regressions/NAME.  Prints one line per
# target (executions per second, coverage) and fails if any crashed;
# a crash's input is left in build/fuzz/crashes/NAME/.
set -u
secs=${FUZZ_SECONDS:-20}
# UBSan's reports with the stack, like ASan's
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
b=build/fuzz
failed=
# the targets' scratch files, in memory when possible; gone even after a
# crash (which skips the targets' own cleanup)
TMPDIR=$(mktemp -d -p /dev/shm dm-fuzz.XXXXXX 2>/dev/null || mktemp -d)
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
for n in "$@"; do
	corpus=$b/corpus/$n crashes=$b/crashes/$n log=$b/log/$n.log
	mkdir -p "$corpus" "$crashes" "$b/log"
	cp -p test/fuzz/corpus/"$n"/* "$corpus"/ 2>/dev/null
	case $n in
	json | recreate | context | stream | record) opts=-dict=test/fuzz/json.dict ;;
	*) opts= ;;
	esac
	# a bad record is warned about on stderr at every input: closed,
	# libFuzzer and the sanitizers keep a copy of their own
	[ "$n" = record ] && opts="$opts -close_fd_mask=2"
	t0=$(date +%s)
	"$b/fuzz_$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=512 \
		-print_final_stats=1 $opts \
		-artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1
	rc=$? t=$(($(date +%s) - t0))
	stats=$(awk '
		/^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED).*cov:/ {
			for (i = 1; i <= NF; i++) if ($i == "cov:") cov = $(i + 1)
		}
		/^stat::number_of_executed_units:/ { runs = $2 }
		/^stat::average_exec_per_sec:/ { eps = $2 }
		/^stat::peak_rss_mb:/ { rss = $2 }
		END { printf "%s runs, %s exec/s, cov %s, rss %s MB", runs, eps, cov, rss }
	' "$log")
	echo "fuzz_$n: ${t}s, $(ls test/fuzz/corpus/"$n" | wc -l) seeds, corpus now $(ls "$corpus" | wc -l), $stats"
	if [ $rc -ne 0 ]; then
		echo "fuzz_$n: CRASHED (exit $rc), see $log and $crashes/" >&2
		grep -m 3 -E 'ERROR: |runtime error|invariant broken' "$log" >&2
		failed="$failed $n"
	fi
	# files given one by one: libFuzzer runs each once and stops
	regs=$(find test/fuzz/regressions/"$n" -type f ! -name '.*' | sort)
	if [ -n "$regs" ] &&
	   ! "$b/fuzz_$n" $regs >"$b/log/$n.regressions.log" 2>&1; then
		echo "fuzz_$n: a regression input crashes, see $b/log/$n.regressions.log" >&2
		failed="$failed $n(regressions)"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed" >&2
	exit 1
fi
echo "fuzz: all targets ran without a crash"
