#!/usr/bin/env bash
# bench/memory.sh - what moving a container's memory costs and saves: the
# downtime of `docker migrate container --checkpoint` (CRIU: the process
# goes on where it was) against the default stop-and-start (the copy starts
# afresh and must build its memory again), for a service on the host's
# network holding SIZE MB in memory, over links of RATE, between two
# dockerd 28.5 nodes (CRIU 4.2.1) of the lab.
#
#   bench/memory.sh                      # --sizes 100,1000 --links 1gbit,100mbit --reps 2
#   bench/memory.sh --sizes 20 --links 1gbit --reps 1 --out /tmp/m   # a quick look
#
# The service: busybox sh that fills a shell variable with SIZE MB of
# base64 of random bytes (about 3/4 incompressible, as gzip sees it),
# prints "filled", then counts, one number a line, into its log and into
# /count in its own layer (so the default move is a stop-and-start: the
# layer travels after the stop); it exits on SIGTERM, as a service does.  Measured per run, from the plugin's own
# record (--format json): its downtime (from the stop, or the dump, to the
# copy running), the total, the checkpoint's dump, carry and restore times,
# the checkpoint's size and the bytes sent; then whether the memory was
# kept (the copy's first line is the number after the source's last) and,
# for the default, how long the copy took to fill its memory again after
# the move (polled every 100 ms: the state is back only then).
#
# Links: tc tbf on both nodes' links to the lab bridge, each way, as
# bench/run.sh shapes them (no added round-trip time).  As root; the lab
# of LAB_ID (default 6: not the test suite's 0, not run.sh's 5) is started
# with node1=28 node2=28 and torn down unless --use-running-lab.  Results:
# OUT/results.csv and OUT/table.txt (OUT: bench/results/memory-DATE); a run
# with the defaults also copies them to bench/latest/memory/.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=100,1000 LINKS=1gbit,100mbit REPS=2 OUT="" USE_RUNNING=0 DEFAULTS=1
usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
	case $1 in
	--sizes) SIZES=$2; DEFAULTS=0; shift 2 ;;
	--links) LINKS=$2; DEFAULTS=0; shift 2 ;;
	--reps) REPS=$2; DEFAULTS=0; shift 2 ;;
	--out) OUT=$2; DEFAULTS=0; shift 2 ;;
	--use-running-lab) USE_RUNNING=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench/memory.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[[ $(id -u) == 0 ]] || { echo "bench/memory.sh: run as root (the lab)" >&2; exit 1; }
export LAB_ID=${LAB_ID:-6}
DM_BIN=${DM_BIN:-$PWD/build/default/docker-migrate}
[[ -x $DM_BIN ]] || { echo "bench/memory.sh: no plugin at $DM_BIN (make)" >&2; exit 1; }
LAB=test/lab/lab.sh
OUT=${OUT:-bench/results/memory-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
NAME=dmb-mem

die() { echo "bench/memory.sh: $*" >&2; exit 1; }
dk() { local n=$1; shift; "$LAB" docker "$n" "$@"; }
now_ms() { date +%s%3N; }

if ((!USE_RUNNING)); then
	"$LAB" up node1=28 node2=28 >/dev/null
	trap '"$LAB" down >/dev/null 2>&1 || true' EXIT
fi
eval "$("$LAB" env)"
[[ $LAB_NODE1_ENGINE == 28* && $LAB_NODE2_ENGINE == 28* ]] ||
	die "node1 and node2 must be sid nodes (28 or 28c): CRIU 3.17 cannot dump here"
CFG=$(mktemp -d)
trap 'rm -rf "$CFG"; ((USE_RUNNING)) || "$LAB" down >/dev/null 2>&1 || true' EXIT
mkdir -p "$CFG/cli-plugins"
ln -s "$DM_BIN" "$CFG/cli-plugins/docker-migrate"
export DOCKER_CONFIG=$CFG DOCKER_MIGRATE_SSH_CONFIG=$LAB_SSH_CONFIG

if ((LAB_ID == 0)); then VETH=dmv- NS=dmlab-; else VETH=dmv$LAB_ID- NS=dmlab$LAB_ID-; fi
# shape RATE: tbf each way on node1's and node2's links (burst: what the
# rate gives in 4 ms, at least 140 kB; queue 50 ms), as bench/run.sh does
shape() {
	local rate=$1 bps burst n
	case $rate in
	*gbit) bps=$((${rate%gbit} * 1000000000)) ;;
	*mbit) bps=$((${rate%mbit} * 1000000)) ;;
	*) die "a link is RATE in gbit or mbit: $rate" ;;
	esac
	burst=$((bps / 8 / 250))
	((burst < 140000)) && burst=140000
	for n in node1 node2; do
		tc qdisc replace dev "$VETH$n" root tbf rate "$rate" burst "$burst" latency 50ms
		nsenter --net="/run/netns/$NS$n" -- tc qdisc replace dev eth0 root tbf \
			rate "$rate" burst "$burst" latency 50ms
	done
}
unshape() {
	local n
	for n in node1 node2; do
		tc qdisc del dev "$VETH$n" root 2>/dev/null || true
		nsenter --net="/run/netns/$NS$n" -- tc qdisc del dev eth0 root 2>/dev/null || true
	done
}

clean() { dk node1 rm -f "$NAME" >/dev/null 2>&1 || true; dk node2 rm -f "$NAME" >/dev/null 2>&1 || true; }

# wait_log NODE PATTERN SECS: until the container's log has a line matching
wait_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		dk "$1" logs "$NAME" 2>/dev/null | grep -q "$2" && return 0
		sleep 0.1
	done
	return 1
}

# service SIZE_MB: running on node1 with its memory filled
service() {
	local bytes=$(($1 * 750000))
	dk node1 run -d --name "$NAME" --network host "$LAB_BASE_IMAGE" sh -c \
		"trap 'exit 0' TERM; x=\$(head -c $bytes /dev/urandom | base64 -w0); echo filled \${#x}; i=0; while :; do i=\$((i+1)); echo \$i >/count; echo \$i; sleep 0.1; done" >/dev/null
	wait_log node1 '^filled' 600 || die "the service did not fill its memory"
	wait_log node1 '^3$' 30 || die "the service does not count"
}

step_ms() { jq -r --arg s "$2" '[.steps[] | select(.step == $s) | .ms][0] // ""' <<<"$1"; }

# one SIZE RATE METHOD REP: a run, one line of results.csv
one() {
	local size=$1 link=$2 method=$3 rep=$4 flag="" json t0 t1 last first kept refill size_txt
	[[ $method == checkpoint ]] && flag=--checkpoint
	clean
	service "$size"
	shape "$link"
	t0=$(now_ms)
	json=$(DOCKER_HOST=$LAB_NODE1_SOCK "${LAB_DOCKER:-/usr/local/bin/docker}" migrate container \
		"$NAME" --to node2 $flag --format json 2>"$OUT/last.err") ||
		{ unshape; cat "$OUT/last.err" >&2; die "the move failed ($size MB, $link, $method)"; }
	t1=$(now_ms)
	unshape
	last=$(dk node1 logs "$NAME" | grep -v filled | tail -n 1)
	refill=0
	if [[ $method == checkpoint ]]; then
		wait_log node2 "^$((last + 1))\$" 30 || true
		first=$(dk node2 logs "$NAME" | sed -n 1p)
		kept=no
		[[ $first == "$((last + 1))" ]] && kept=yes
	else
		wait_log node2 '^filled' 600 || die "the copy did not fill its memory"
		refill=$(($(now_ms) - t1))
		kept=no
	fi
	size_txt=$(jq -r '[.steps[] | select(.step == "checkpoint") | .object][0] // ""' <<<"$json" |
		sed -n 's/.*(\(.*\))$/\1/p')
	printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$size" "$link" "$method" "$rep" \
		"$(jq -r .downtime_ms <<<"$json")" "$((t1 - t0))" \
		"$(step_ms "$json" checkpoint)" "$(step_ms "$json" carry)" "$(step_ms "$json" restore)" \
		"${size_txt// /}" "$(jq -r .bytes <<<"$json")" "$kept" "$refill" >>"$OUT/results.csv"
	tail -n 1 "$OUT/results.csv"
	clean
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "size_mb,link,method,rep,downtime_ms,total_ms,dump_ms,carry_ms,restore_ms,checkpoint_size,sent_bytes,memory_kept,refill_ms" >"$OUT/results.csv"
IFS=, read -ra sizes <<<"$SIZES"
IFS=, read -ra links <<<"$LINKS"
for size in "${sizes[@]}"; do
	for link in "${links[@]}"; do
		for ((rep = 1; rep <= REPS; rep++)); do
			# alternate the order: neither method always runs on a
			# freshly quiet machine
			if ((rep % 2)); then order=(checkpoint default); else order=(default checkpoint); fi
			for m in "${order[@]}"; do one "$size" "$link" "$m" "$rep"; done
		done
	done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# the table: per size, link and method, the median and range of each time
{
	echo "docker-migrate memory benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'): plugin $("$DM_BIN" version 2>/dev/null | head -n 1)"
	echo "engines: node1 $LAB_NODE1_ENGINE, node2 $LAB_NODE2_ENGINE (dockerd 28.5.2, CRIU 4.2.1); $(nproc) cores; load average at start / end: $load0 / $load1"
	echo "service: --network host, SIZE MB of base64 in a shell variable, counting into its log and layer; $REPS run(s) each"
	echo "downtime: the plugin's (stop or dump -> copy running); +refill: until the default's copy has its memory again"
	echo
	printf '%-6s %-8s %-10s %-17s %-17s %-11s %-11s %-11s %-9s %-6s %s\n' \
		size link method downtime_ms downtime+refill dump_ms carry_ms restore_ms ckpt kept runs
	awk -F, 'NR > 1 {
		k = $1 " " $2 " " $3; keys[k] = 1; n[k]++
		dt[k, n[k]] = $5; dr[k, n[k]] = $5 + $13; du[k, n[k]] = $7; ca[k, n[k]] = $8; re[k, n[k]] = $9
		sz[k] = $10; kept[k] = kept[k] (kept[k] == "" ? "" : "/") $12
	}
	function med(a, k, m,    i, j, t, v) {
		for (i = 1; i <= m; i++) v[i] = a[k, i] + 0
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		if (a[k, 1] == "") return "-"
		return (m % 2 ? v[(m + 1) / 2] : int((v[m / 2] + v[m / 2 + 1]) / 2)) " (" v[1] "-" v[m] ")"
	}
	END {
		for (k in keys) {
			split(k, f, " ")
			printf "%-6s %-8s %-10s %-17s %-17s %-11s %-11s %-11s %-9s %-6s %d\n", f[1] "MB", f[2], f[3],
				med(dt, k, n[k]), med(dr, k, n[k]), med(du, k, n[k]), med(ca, k, n[k]), med(re, k, n[k]),
				(sz[k] == "" ? "-" : sz[k]), kept[k], n[k]
		}
	}' "$OUT/results.csv" | sort -k1,1n -k2,2 -k3,3
} >"$OUT/table.txt"
cat "$OUT/table.txt"
if ((DEFAULTS)); then
	mkdir -p bench/latest/memory
	cp "$OUT/results.csv" "$OUT/table.txt" bench/latest/memory/
fi
