#!/usr/bin/env bash
# bench/service.sh - a swarm service with a 100 MB volume moves from one
# node to another with `docker migrate service` while a client asks it
# for a page every 50 ms at both nodes (bench/probe.c): total time, bytes
# sent, the downtime the plugin measures (from the service scaled to
# nothing to its task running at the destination) and the longest time
# the client heard nothing.  Its task also appends a line every 100 ms to
# the volume: every line written at the old node must be at the new one.
#
#   bench/service.sh [--reps N] [--vol-size MB] [--links LIST] [--out DIR]
#
# As root, on its own lab (LAB_ID, default 5, started and torn down):
# node1 the manager, node2 and node3 workers, 20.10 engines.  Links:
# RATE values for `lab.sh shape` on both workers (`none` = unshaped).
# Results: DIR/results.csv and DIR/table.md (default
# bench/results/service-DATE; --latest also copies the table to
# bench/latest/service/).
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=3 VOL_MB=100 LINKS=none,100mbit OUT= LATEST=0
while (($#)); do
	case $1 in
	--reps) REPS=$2; shift ;;
	--vol-size) VOL_MB=$2; shift ;;
	--links) LINKS=$2; shift ;;
	--out) OUT=$2; shift ;;
	--latest) LATEST=1 ;;
	-h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "service.sh: unknown option $1" >&2; exit 125 ;;
	esac
	shift
done
[[ $REPS =~ ^[1-9][0-9]?$ && $VOL_MB =~ ^[1-9][0-9]{0,4}$ ]] ||
	{ echo "service.sh: --reps 1..99, --vol-size 1..99999" >&2; exit 125; }
(($(id -u) == 0)) || { echo "service.sh: run as root (the lab)" >&2; exit 1; }

export LAB_ID=${LAB_ID:-5}
LAB=test/lab/lab.sh
DM_BIN=${DM_BIN:-build/default/docker-migrate}
[[ -x $DM_BIN ]] || { echo "service.sh: no plugin at $DM_BIN (make)" >&2; exit 1; }
OUT=${OUT:-bench/results/service-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/dm-bench-service.XXXXXX)
PROBE_PID=
SVC=bench-svc PORT=18080

cleanup() {
	[[ -n $PROBE_PID ]] && kill "$PROBE_PID" 2>/dev/null
	"$LAB" down >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

d() { "$LAB" docker "$@"; }
now_ms() { date +%s%3N; }
log() { printf '%s\n' "$*" >&2; }

# wait_for SECS CMD...: until CMD succeeds, 0.2 s apart.
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 5; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	log "timed out after $secs s: $*"
	return 1
}

task_on() {
	[[ $(d node1 service ps "$SVC" --filter desired-state=running \
		--format '{{.Node}} {{.CurrentState}}') == "$1 Running"* ]]
}

answers() { curl -fsS -m 1 -o /dev/null "http://$1:$PORT/"; }

# The longest time no node answered (the probe's ticks, sorted by the
# time of their first answer), less one interval.
client_gap() {
	awk '$2 == 1 || $3 == 1 { print $1 }' "$1" | sort -n |
		awk -v iv=50 '{ if (last != "" && $1 - last > gap) gap = $1 - last; last = $1 }
		END { g = gap - iv; print (g < 0 ? 0 : g) }'
}

lab_up() {
	"$LAB" up node1 node2 node3 >/dev/null
	eval "$("$LAB" env)"
	local tok
	d node1 swarm init --advertise-addr "$LAB_NODE1_ADDR" >/dev/null
	tok=$(d node1 swarm join-token -q worker)
	d node2 swarm join --token "$tok" "$LAB_NODE1_ADDR:2377" >/dev/null
	d node3 swarm join --token "$tok" "$LAB_NODE1_ADDR:2377" >/dev/null
	BASE_ID=$(d node1 image inspect -f '{{.Id}}' "$LAB_BASE_IMAGE")
	mkdir -p "$WORK/cfg/cli-plugins"
	ln -sf "$(realpath "$DM_BIN")" "$WORK/cfg/cli-plugins/docker-migrate"
	cc -O2 -o "$WORK/probe" bench/probe.c
}

# The service on node2: a page, a log appended every 100 ms, VOL_MB of
# data in its volume (made once, before the service starts).
service_up() {
	d node1 service rm "$SVC" >/dev/null 2>&1 || true
	wait_for 30 bash -c "[[ -z \$($LAB docker node2 ps -aq --filter label=com.docker.swarm.service.name=$SVC) && -z \$($LAB docker node3 ps -aq --filter label=com.docker.swarm.service.name=$SVC) ]]"
	local n
	for n in node2 node3; do d "$n" volume rm -f bench-data >/dev/null 2>&1 || true; done
	d node2 run --rm -v bench-data:/d "$BASE_ID" sh -c "
		mkdir -p /d/www && echo hello >/d/www/index.html && : >/d/log &&
		dd if=/dev/urandom of=/d/big bs=1M count=$VOL_MB 2>/dev/null"
	d node1 service create --detach --name "$SVC" --no-resolve-image \
		--constraint node.hostname==node2 \
		--publish "mode=host,target=80,published=$PORT" \
		--mount type=volume,src=bench-data,dst=/data "$BASE_ID" sh -c '
		httpd -p 80 -h /data/www; trap "exit 0" TERM INT
		i=0
		while :; do i=$((i+1)); echo "$i" >>/data/log; sleep 0.1 & wait $!; done' >/dev/null
	wait_for 60 task_on node2
	wait_for 20 answers "$LAB_NODE2_ADDR"
}

vol_log() { d "$1" run --rm -v bench-data:/d "$BASE_ID" cat /d/log; }

one_run() {
	local link=$1 rep=$2 t0 t1 rc=0 rep_json old new n gap
	service_up
	"$WORK/probe" 50 1000 "$LAB_NODE2_ADDR:$PORT" "$LAB_NODE3_ADDR:$PORT" >"$WORK/probe.log" &
	PROBE_PID=$!
	sleep 0.5
	t0=$(now_ms)
	DOCKER_CONFIG=$WORK/cfg DOCKER_HOST=$LAB_NODE1_SOCK \
		DOCKER_MIGRATE_SSH_CONFIG=$LAB_SSH_CONFIG \
		timeout 600 docker migrate service "$SVC" --to node3 --format json \
		>"$WORK/report.json" 2>"$WORK/err" || rc=$?
	t1=$(now_ms)
	wait_for 20 answers "$LAB_NODE3_ADDR" || true
	sleep 0.5
	kill "$PROBE_PID"
	wait "$PROBE_PID" 2>/dev/null || true
	PROBE_PID=
	((rc == 0)) || { log "run $link/$rep failed ($rc): $(tail -n 3 "$WORK/err")"; return 1; }
	gap=$(client_gap "$WORK/probe.log")
	old=$(vol_log node2)
	n=$(wc -l <<<"$old")
	new=$(vol_log node3 | head -n "$n")
	[[ $old == "$new" ]] || { log "run $link/$rep: lines of node2 missing at node3"; return 1; }
	rep_json=$(<"$WORK/report.json")
	printf '%s,%s,%s,%s,%s,%s,%s\n' "$link" "$rep" "$((t1 - t0))" \
		"$(jq -r .bytes <<<"$rep_json")" "$(jq -r .downtime_ms <<<"$rep_json")" \
		"$gap" "$n" >>"$OUT/results.csv"
	log "$link rep $rep: $((t1 - t0)) ms, $(jq -r .bytes <<<"$rep_json") B, downtime $(jq -r .downtime_ms <<<"$rep_json") ms, client gap $gap ms"
}

table() {
	{
		echo "| link | runs | total s (min-max) | sent MB | plugin downtime ms (min-max) | client heard nothing ms (min-max) |"
		echo "| --- | --- | --- | --- | --- | --- |"
		awk -F, 'NR > 1 {
			k = $1; n[k]++; if (!(k in o)) { o[k] = ++nk; key[nk] = k }
			t[k] = t[k] " " $3; b[k] = $4; dm[k] = dm[k] " " $5; g[k] = g[k] " " $6 }
			function mm(s,   a, i, lo, hi, c) { c = split(s, a, " "); lo = hi = a[1]
				for (i = 2; i <= c; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
				return lo "-" hi }
			END { for (i = 1; i <= nk; i++) { k = key[i]; split(mm(t[k]), tt, "-")
				printf "| %s | %d | %.1f-%.1f | %.1f | %s | %s |\n", k, n[k], tt[1] / 1000, tt[2] / 1000,
					b[k] / 1e6, mm(dm[k]), mm(g[k]) } }' "$OUT/results.csv"
	} >"$OUT/table.md"
	cat "$OUT/table.md"
}

echo "link,rep,total_ms,bytes,downtime_ms,client_gap_ms,lines" >"$OUT/results.csv"
lab_up
IFS=, read -r -a links <<<"$LINKS"
for link in "${links[@]}"; do
	"$LAB" shape node2 "${link/none/off}" >/dev/null
	"$LAB" shape node3 "${link/none/off}" >/dev/null
	for ((rep = 1; rep <= REPS; rep++)); do
		one_run "$link" "$rep" || exit 1
	done
done
table
if ((LATEST)); then
	mkdir -p bench/latest/service
	{
		echo "# Swarm service move: ${VOL_MB} MB volume, client every 50 ms"
		echo
		echo "bench/service.sh --reps $REPS --vol-size $VOL_MB --links $LINKS, $(date -u +%Y-%m-%d), plugin $(git rev-parse --short HEAD)"
		echo
		cat "$OUT/table.md"
	} >bench/latest/service/README.md
fi
