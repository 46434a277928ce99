#!/usr/bin/env bash
# bench/project.sh - the project row of the benchmark (issue 17): a
# three-container Compose project (bench/project/compose.yaml: a db with
# a volume of VOL MB written to ten times a second, an app, a web front
# with a published port, each answering only when the next one does)
# moved from node1 to node2 of the lab three ways:
#
#   project   docker migrate project: one plan, one downtime window
#   one-by-one  docker migrate container for each, db, app, web
#   baseline  docker save | ssh docker load, docker compose stop, the
#             volume by tar | ssh | tar, docker compose up there
#
# and for each: the total time, the bytes the plugin reports sent (the
# baseline: the bytes through its pipes), the plugin's downtime window,
# and the longest time a client asking the web front every 50 ms heard
# nothing (bench/probe.c, at both nodes).  Separate from bench/run.sh.
#
# usage: LAB_ID=N bench/project.sh [--vol MB] [--reps N] [--out FILE]
# The lab of LAB_ID is used as it is if up (node1, node2), else started
# and torn down.  Needs root and the docker compose plugin.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$ROOT/bench/project
VOL=100
REPS=1
OUT=
PROJ=benchp
PORT=8090
while (($#)); do
	case $1 in
	--vol) VOL=$2; shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	-h | --help) sed -n 2,20p "$0"; exit 0 ;;
	*) echo "bench/project.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
: "${LAB_ID:?set LAB_ID to your lab}"
export LAB_ID
DM_BIN=${DM_BIN:-$ROOT/build/default/docker-migrate}
DOCKER=${LAB_DOCKER:-/usr/local/bin/docker}

# shellcheck source=../test/lab/lab.bash
source "$ROOT/test/lab/lab.bash"
STARTED=0
if ! DOCKER_HOST=$(lab_sock node1) "$DOCKER" info >/dev/null 2>&1 ||
	! DOCKER_HOST=$(lab_sock node2) "$DOCKER" info >/dev/null 2>&1; then
	"$ROOT/test/lab/lab.sh" up node1 node2 >&2
	STARTED=1
fi
eval "$("$ROOT/test/lab/lab.sh" env)"
WORK=$(mktemp -d /tmp/dm-bench-project.XXXXXX)
PROBE_PID=
cleanup() {
	[[ -z $PROBE_PID ]] || kill "$PROBE_PID" 2>/dev/null || true
	rm -rf "$WORK"
	((STARTED == 0)) || "$ROOT/test/lab/lab.sh" down >&2 || true
}
trap cleanup EXIT

mkdir -p "$WORK/cfg/cli-plugins"
ln -s "$DM_BIN" "$WORK/cfg/cli-plugins/docker-migrate"
export DOCKER_CONFIG=$WORK/cfg DOCKER_MIGRATE_SSH_CONFIG=$LAB_SSH_CONFIG
mkdir -p "$ROOT/build/bench"
PROBE=$ROOT/build/bench/probe
[[ -x $PROBE && $PROBE -nt $ROOT/bench/probe.c ]] ||
	${CC:-cc} -O2 -Wall -Wextra -Werror -o "$PROBE" "$ROOT/bench/probe.c"

now_ms() { date +%s%3N; }
compose() {
	local node=$1
	shift
	(cd "$DIR" && DOCKER_HOST=$(lab_sock "$node") "$DOCKER" compose -p $PROJ "$@")
}
dm() { DOCKER_HOST=$(lab_sock node1) "$DOCKER" migrate "$@"; }

# A fresh start: the project up at node1 with its volume filled.
prepare() {
	lab_clean node1 node2 >/dev/null
	printf 'FROM %s\nCOPY www /www\n' "$LAB_BASE_IMAGE" |
		cat >"$WORK/Dockerfile"
	ldocker node1 build -q -t dmbench/chain:1 -f "$WORK/Dockerfile" "$DIR" >/dev/null 2>&1
	compose node1 up -d >/dev/null 2>&1
	ldocker node1 exec $PROJ-db-1 dd if=/dev/urandom of=/data/blob bs=1M count="$VOL" 2>/dev/null
	lab_wait_http "http://$LAB_NODE1_ADDR:$PORT/" 20
}

# The longest gap between two answers, from t0 on, less one interval.
downtime_of() {
	awk '$2 == 1 || $3 == 1 { print $1 }' "$1" | sort -n |
		awk -v t0="$2" -v iv=50 '
		{ if (last != "" && $1 >= t0 && $1 - last > gap) gap = $1 - last; last = $1 }
		END { if (last == "" || last < t0) print -1; else { g = gap - iv; print (g < 0 ? 0 : g) } }'
}

m_project() {
	dm project $PROJ --to node2 -q --format json >"$WORK/r.json"
	BYTES=$(jq .bytes "$WORK/r.json")
	WINDOW=$(jq .downtime_ms "$WORK/r.json")
}

m_one_by_one() {
	local c b w
	BYTES=0 WINDOW=0
	for c in db app web; do
		dm container $PROJ-$c-1 --to node2 -q --format json >"$WORK/r.json"
		b=$(jq .bytes "$WORK/r.json")
		w=$(jq .downtime_ms "$WORK/r.json")
		BYTES=$((BYTES + b))
		((w < 0)) || WINDOW=$((WINDOW + w))
	done
}

m_baseline() {
	local n
	ldocker node1 save dmbench/chain:1 | tee >(wc -c >"$WORK/b1") |
		lab_ssh node2 docker load >/dev/null
	compose node2 up --no-start >/dev/null 2>&1
	compose node1 stop >/dev/null 2>&1
	ldocker node1 run --rm -v ${PROJ}_dbdata:/d "$LAB_BASE_IMAGE" tar -C /d -cf - . |
		tee >(wc -c >"$WORK/b2") |
		lab_ssh node2 "docker run --rm -i -v ${PROJ}_dbdata:/d $LAB_BASE_IMAGE tar -C /d -xf -"
	compose node2 up -d >/dev/null 2>&1
	sleep 0.2
	n=$(($(<"$WORK/b1") + $(<"$WORK/b2")))
	BYTES=$n WINDOW=-1
}

row() {
	local method=$1 t0 t1 down last
	prepare
	"$PROBE" 50 1000 "$LAB_NODE1_ADDR:$PORT" "$LAB_NODE2_ADDR:$PORT" >"$WORK/probe.log" &
	PROBE_PID=$!
	sleep 0.5
	t0=$(now_ms)
	"m_${method//-/_}"
	t1=$(now_ms)
	lab_wait_http "http://$LAB_NODE2_ADDR:$PORT/" 30
	sleep 0.5
	kill "$PROBE_PID"
	wait "$PROBE_PID" 2>/dev/null || true
	PROBE_PID=
	down=$(downtime_of "$WORK/probe.log" "$t0")
	# the db's last write at node1 must be at node2
	last=$(ldocker node1 run --rm -v ${PROJ}_dbdata:/d "$LAB_BASE_IMAGE" tail -n1 /d/log)
	ldocker node2 run --rm -v ${PROJ}_dbdata:/d "$LAB_BASE_IMAGE" grep -qxF "$last" /d/log ||
		echo "bench/project.sh: $method lost the db's last write" >&2
	printf '%-11s %8.2f %12s %10s %10s\n' "$method" "$(((t1 - t0)))e-3" "$BYTES" \
		"$WINDOW" "$down"
}

{
	echo "# project of 3 containers, db volume $VOL MB written to 10/s; lab $LAB_ID, $(date -u +%FT%TZ)"
	printf '%-11s %8s %12s %10s %10s\n' method total_s bytes window_ms client_ms
	for ((r = 0; r < REPS; r++)); do
		for m in project one-by-one baseline; do
			row "$m"
		done
	done
} | tee ${OUT:+"$OUT"}
