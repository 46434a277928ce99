#!/usr/bin/env bash
# bench/volumes.sh - docker migrate volumes against the way the migration
# studies copy a volume (tar in a container | ssh | tar in a container),
# in the lab (test/lab/lab.sh), per link and per kind of volume: wall
# time, bytes on the destination's link (rx + tx of node2's eth0, which
# carries all of it: the plugin and the baseline run in the root
# namespace and reach node2 over SSH) and the plugin's peak RSS; and the
# peak RSS of a copy of N empty files, for its growth with the count.
# Separate from bench/run.sh (images and containers).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LABSH=$ROOT/test/lab/lab.sh

usage() {
	cat <<'EOF2'
usage: bench/volumes.sh [OPTIONS]

  --links LIST     node2's link, comma-separated: unshaped or a tc rate
                   (100mbit, 20mbit...); default unshaped,100mbit
  --size MB        the large volumes (one random file; text) (default 1024)
  --files N        the volume of N files of 10 kB (default 100000)
  --empty N        the volume of N empty files in N/300 directories
                   (default 301000)
  --rss LIST       copies of that many empty files, their peak RSS only
                   (default 100000,1000000; "" for none)
  --kinds LIST     random,text,small,empty (default: all four)
  --reps N         repetitions, methods alternating (default 1)
  --plugin PATH    default $DM_BIN, else build/default/docker-migrate
  -h, --help

Environment: LAB_ID (required: never a lab in use).  Starts the lab (node1 node2) and tears
it down.  Needs root.  Prints a Markdown table on stdout.
EOF2
}

LINKS=unshaped,100mbit SIZE=1024 FILES=100000 EMPTY=301000
RSS=100000,1000000 KINDS=random,text,small,empty REPS=1
PLUGIN=${DM_BIN:-$ROOT/build/default/docker-migrate}
while (($#)); do
	case $1 in
	--links) LINKS=$2; shift ;;
	--size) SIZE=$2; shift ;;
	--files) FILES=$2; shift ;;
	--empty) EMPTY=$2; shift ;;
	--rss) RSS=$2; shift ;;
	--kinds) KINDS=$2; shift ;;
	--reps) REPS=$2; shift ;;
	--plugin) PLUGIN=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
: "${LAB_ID:?set LAB_ID: the lab this benchmark may start and tear down}"
export LAB_ID

L() { "$LABSH" "$@"; }
"$LABSH" up node1 node2 >&2
trap '"$LABSH" shape node2 off >/dev/null 2>&1 || true; "$LABSH" down >&2' EXIT
eval "$("$LABSH" env)"
CFG=$(mktemp -d /tmp/dmbench-vol-XXXXXX)
mkdir -p "$CFG/cli-plugins"
ln -s "$PLUGIN" "$CFG/cli-plugins/docker-migrate"
export DOCKER_CONFIG=$CFG DOCKER_MIGRATE_SSH_CONFIG=$LAB_SSH_CONFIG
export DOCKER_HOST=$LAB_NODE1_SOCK
D1() { docker -H "$LAB_NODE1_SOCK" "$@"; }
D2() { docker -H "$LAB_NODE2_SOCK" "$@"; }

# the volume's directory on the host (a node's /var/lib/docker is
# $LAB_DIR/NODE/docker): filled from here, fast
host_dir() {
	local mp
	mp=$(docker -H "$(eval echo "\$LAB_${1^^}_SOCK")" volume inspect -f '{{.Mountpoint}}' "$2")
	printf '%s/%s/docker%s\n' "$LAB_DIR" "$1" "${mp#/var/lib/docker}"
}

make_volume() {	# KIND NAME
	D1 volume create "$2" >/dev/null
	local d
	d=$(host_dir node1 "$2")
	case $1 in
	random) head -c "$((SIZE << 20))" /dev/urandom >"$d/random" ;;
	text) python3 - "$d/text" "$SIZE" <<'PY'
import random, sys
random.seed(1)
words = [''.join(random.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(random.randint(2, 9))) for _ in range(5000)]
with open(sys.argv[1], 'w') as f:
    left = int(sys.argv[2]) << 20
    while left > 0:
        line = ' '.join(random.choice(words) for _ in range(12)) + '\n'
        f.write(line)
        left -= len(line)
PY
		;;
	small) python3 - "$d" "$FILES" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    sub = os.path.join(d, 'd%04d' % (i // 1000))
    if i % 1000 == 0:
        os.mkdir(sub)
    with open(os.path.join(sub, 'f%06d' % i), 'wb') as f:
        f.write(os.urandom(10240))
PY
		;;
	empty) empty_files "$d" "$EMPTY" ;;
	esac
}

empty_files() {	# DIR N: N empty files, 300 to a directory
	python3 - "$1" "$2" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    sub = os.path.join(d, 'd%05d' % (i // 300))
    if i % 300 == 0:
        os.mkdir(sub)
    open(os.path.join(sub, 'e%07d' % i), 'wb').close()
PY
}

link_bytes() { L exec node2 cat /proc/net/dev | awk '$1 == "eth0:" { print $2 + $10 }'; }

# one run: prints "SECONDS BYTES RSS_KB"
run_plugin() {	# VOLUME
	D2 volume rm -f "$1" >/dev/null 2>&1 || true
	local b0 b1 t0 t1 log
	log=$(mktemp)
	b0=$(link_bytes)
	t0=$(date +%s.%N)
	/usr/bin/time -f 'RSS %M' docker migrate volumes "$1" --to node2 >"$log" 2>&1 ||
		{ cat "$log" >&2; rm -f "$log"; return 1; }
	t1=$(date +%s.%N)
	b1=$(link_bytes)
	echo "$(echo "$t1 - $t0" | bc) $((b1 - b0)) $(awk '/^RSS/ { print $2 }' "$log")"
	rm -f "$log"
}

run_tar() {	# VOLUME
	D2 volume rm -f "$1" >/dev/null 2>&1 || true
	local b0 b1 t0 t1
	b0=$(link_bytes)
	t0=$(date +%s.%N)
	D1 run --rm -v "$1":/v "$LAB_BASE_IMAGE" tar -C /v -cf - . |
		ssh -F "$LAB_SSH_CONFIG" node2 docker run --rm -i -v "$1":/v \
			"$LAB_BASE_IMAGE" tar -C /v -xf -
	t1=$(date +%s.%N)
	b1=$(link_bytes)
	echo "$(echo "$t1 - $t0" | bc) $((b1 - b0)) -"
}

echo "| volume | link | method | time (s) | bytes on node2's link | peak RSS (kB) |"
echo "|---|---|---|---|---|---|"
IFS=, read -ra kinds <<<"$KINDS"
IFS=, read -ra links <<<"$LINKS"
for kind in "${kinds[@]}"; do
	make_volume "$kind" "dmb-$kind"
	for link in "${links[@]}"; do
		if [[ $link == unshaped ]]; then
			L shape node2 off >/dev/null
		else
			L shape node2 "$link" >/dev/null
		fi
		for ((r = 0; r < REPS; r++)); do
			for m in plugin tar; do
				read -r t b rss < <("run_$m" "dmb-$kind")
				echo "| $kind | $link | $m | $t | $b | $rss |"
			done
		done
	done
	L shape node2 off >/dev/null
	D1 volume rm -f "dmb-$kind" >/dev/null
	D2 volume rm -f "dmb-$kind" >/dev/null 2>&1 || true
done

IFS=, read -ra counts <<<"$RSS"
for n in "${counts[@]}"; do
	[[ -n $n ]] || continue
	D1 volume create "dmb-rss" >/dev/null
	empty_files "$(host_dir node1 dmb-rss)" "$n"
	read -r t b rss < <(run_plugin dmb-rss)
	echo "| $n empty files | unshaped | plugin | $t | $b | $rss |"
	D1 volume rm -f dmb-rss >/dev/null
	D2 volume rm -f dmb-rss >/dev/null 2>&1 || true
done
rm -rf "$CFG"
