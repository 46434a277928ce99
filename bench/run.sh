#!/usr/bin/env bash
# bench/run.sh - the benchmark of docker-migrate against the usual ways of
# moving an image (docker save | ssh docker load; save -o, scp, load -i;
# push/pull through a registry), on emulated links, in the lab
# (test/lab/lab.sh).  See bench/README.md; `bench/run.sh --help`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROG=bench/run.sh
LABSH=$ROOT/test/lab/lab.sh

usage() {
	cat <<'EOF'
usage: bench/run.sh [OPTIONS]

  --links LIST        links to emulate, RATE:RTT,... (tc rates: kbit, mbit,
                      gbit; RTT in ms; "none" = no shaping)
                      default 1gbit:0ms,100mbit:10ms,20mbit:40ms
  --size MB           app data of the workload image (default 16)
  --incompressible P  share of it that is incompressible, in % (default 25;
                      the rest is text-like, ~3.8x smaller under gzip -1)
  --vol-size MB       the service's volume (container scenario; default 4)
  --reps N            repetitions of every (link, scenario, method) (default 3)
  --pairs LIST        engine kinds of source and destination, SRC:DST,...
                      (kinds of test/lab/lab.sh: 20.10, 28 = dockerd 28.5 with
                      overlay2, 28c = 28.5 with the containerd image store);
                      default 20.10:20.10; the lab is started anew per pair
  --scenarios LIST    base,none,all,container (default: all four)
                        base       the destination has the base image only
                        none       the destination has nothing
                        all        the destination has every layer (the image
                                   sent differs only by its config)
                        container  move a running service (probed every 50 ms)
                                   with a volume written to during the move
  --methods LIST      save-ssh-load,save-scp-load,push-pull and migrate-STRATEGY
                      for each strategy of the plugin (default: all of them;
                      "delta" is short for migrate-delta)
  --container-methods LIST  methods of the container scenario
                      (default: save-ssh-load and every migrate-STRATEGY)
  --quick             smoke test: one link (100mbit:10ms), 1 rep, 8 MB image,
                      2 MB volume (any option given explicitly wins)
  --use-running-lab   use the lab of $LAB_ID as it is (must be up) and leave it
                      up; without it the lab is started and torn down
  --keep-lab          do not tear down the lab this run started
  --keep-workload     leave the workload images (dmbench/app:1, :2) on node1
  --plugin PATH       the plugin binary (default $DM_BIN, else
                      build/default/docker-migrate)
  --out DIR           results directory (default bench/results/DATE)
  --no-plot           no gnuplot
  --no-latest         do not copy the table and plot to bench/latest/
                      (--quick and --out imply it)
  --latest-as NAME    copy them to bench/latest/NAME/ instead (even with --out)
  --seed N            seed of the generated data (default 1)
  -h, --help

Environment: LAB_ID (default 5: a test suite running in lab 0 is never
touched); DMBENCH_DEBUG=1 runs the plugin with -D and keeps each run's log
(where its time goes) as logs/SEQ.log in the results directory.  Needs root.
EOF
}

die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

# ------------------------------------------------------------------ options

PAIRS='' IMG1_ID='' LINKS='' SIZE='' INCOMP='' VOL_SIZE='' REPS='' SCENARIOS='' METHODS='' CMETHODS=''
QUICK=0 USE_RUNNING=0 KEEP_LAB=0 KEEP_WORKLOAD=0 PLOT=1 LATEST=1 LATEST_AS='' OUT='' SEED=1
PLUGIN=${DM_BIN:-$ROOT/build/default/docker-migrate}
while (($#)); do
	case $1 in
	--links) LINKS=$2; shift ;;
	--pairs) PAIRS=$2; shift ;;
	--size) SIZE=$2; shift ;;
	--incompressible) INCOMP=$2; shift ;;
	--vol-size) VOL_SIZE=$2; shift ;;
	--reps) REPS=$2; shift ;;
	--scenarios) SCENARIOS=$2; shift ;;
	--methods) METHODS=$2; shift ;;
	--container-methods) CMETHODS=$2; shift ;;
	--quick) QUICK=1 ;;
	--use-running-lab) USE_RUNNING=1 ;;
	--keep-lab) KEEP_LAB=1 ;;
	--keep-workload) KEEP_WORKLOAD=1 ;;
	--plugin) PLUGIN=$2; shift ;;
	--out) OUT=$2; LATEST=0; shift ;;
	--no-plot) PLOT=0 ;;
	--no-latest) LATEST=0 ;;
	--latest-as) LATEST_AS=$2; shift ;;
	--seed) SEED=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option: $1" ;;
	esac
	shift
done
[[ -z $LATEST_AS || $LATEST_AS =~ ^[A-Za-z0-9_-]+$ ]] || die "--latest-as takes a plain name"
if ((QUICK)); then
	LATEST=0
	: "${LINKS:=100mbit:10ms}" "${REPS:=1}" "${SIZE:=8}" "${VOL_SIZE:=2}"
fi
: "${LINKS:=1gbit:0ms,100mbit:10ms,20mbit:40ms}" "${REPS:=3}" "${SIZE:=16}"
: "${VOL_SIZE:=4}" "${INCOMP:=25}" "${SCENARIOS:=base,none,all,container}"
[[ $SIZE =~ ^[0-9]+$ && $SIZE -ge 1 ]] || die "--size takes a number of MB"
[[ $VOL_SIZE =~ ^[0-9]+$ ]] || die "--vol-size takes a number of MB"
[[ $INCOMP =~ ^[0-9]+$ && $INCOMP -le 100 ]] || die "--incompressible takes 0..100"
[[ $REPS =~ ^[0-9]+$ && $REPS -ge 1 ]] || die "--reps takes a positive number"
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed takes a number"
IFS=, read -r -a SCEN_LIST <<<"$SCENARIOS"
for s in "${SCEN_LIST[@]}"; do
	case $s in base | none | all | container) ;; *) die "unknown scenario: $s" ;; esac
done
IFS=, read -r -a LINK_LIST <<<"$LINKS"
: "${PAIRS:=20.10:20.10}"
IFS=, read -r -a PAIR_LIST <<<"$PAIRS"
for p in "${PAIR_LIST[@]}"; do
	[[ $p =~ ^(20\.10|28|28c):(20\.10|28|28c)$ ]] ||
		die "bad pair '$p' (SRC:DST, each 20.10, 28 or 28c)"
done
((${#PAIR_LIST[@]} == 1 || !USE_RUNNING)) || die "--use-running-lab takes one pair (its node1 and node2)"
for l in "${LINK_LIST[@]}"; do
	[[ $l == none || $l =~ ^[0-9]+(kbit|mbit|gbit):[0-9]+ms$ ]] ||
		die "bad link '$l' (RATE:RTT, e.g. 100mbit:10ms, or none)"
done

[[ $(id -u) == 0 ]] || die "needs root (the lab, tc, iptables)"
[[ -x $PLUGIN ]] || die "no plugin binary at $PLUGIN (make first)"
PLUGIN=$(realpath "$PLUGIN")
export LAB_ID=${LAB_ID:-5}
unset LAB_DIR
DOCKER=${LAB_DOCKER:-/usr/local/bin/docker}
[[ -x $DOCKER ]] || DOCKER=$(command -v docker) || die "no docker CLI"

# ------------------------------------------------------------------- tools

# Debian packages the benchmark needs beyond `make deps`: gnuplot-nox (the
# plot), time (GNU time: the plugin's peak memory) and libdeflate-tools
# (libdeflate-gzip: the layers compressed as the delta strategy sends them).
bench_deps() {
	local want=() p
	[[ -x /usr/bin/time ]] || want+=(time)
	command -v libdeflate-gzip >/dev/null || want+=(libdeflate-tools)
	((PLOT)) && ! command -v gnuplot >/dev/null && want+=(gnuplot-nox)
	for p in jq curl iptables; do command -v "$p" >/dev/null || want+=("$p"); done
	((${#want[@]})) || return 0
	log "installing Debian packages: ${want[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "${want[@]}" >&2 ||
		{ apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${want[@]}" >&2; } ||
		die "cannot install ${want[*]}"
}

# The C helpers (no library): built into build/bench/ when older than source.
TOOLS=$ROOT/build/bench
build_tools() {
	local t
	mkdir -p "$TOOLS"
	for t in nfqdelay probe gendata; do
		if [[ ! -x $TOOLS/$t || $ROOT/bench/$t.c -nt $TOOLS/$t ]]; then
			${CC:-cc} -O2 -Wall -Wextra -Werror -o "$TOOLS/$t" "$ROOT/bench/$t.c" ||
				die "cannot build bench/$t.c"
		fi
	done
}

# ------------------------------------------------------------------- lab

LAB_STARTED=0
WORK=
NFQ_PIDS=()
PROBE_PID=
cleanup() {
	local rc=$?
	set +e
	[[ -n $PROBE_PID ]] && kill "$PROBE_PID" 2>/dev/null
	if [[ -n ${LAB_DIR:-} ]]; then
		unshape
		if ((USE_RUNNING)) && [[ -n ${LAB_NODE1_SOCK:-} && -n $WORK ]]; then
			# leave the running lab as we found it: nothing of ours left
			for n in node1 node2; do
				dk "$n" rm -f bench-web >/dev/null 2>&1
				dk "$n" volume rm -f bench-vol >/dev/null 2>&1
				if [[ $n == node1 ]] && ((KEEP_WORKLOAD)); then
					dk "$n" rmi "$LAB_REGISTRY/$IMG1" "$LAB_REGISTRY/$IMG2" "$LAB_REGISTRY/dmlab/busybox:1" >/dev/null 2>&1
					continue
				fi
				dk "$n" images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null |
					grep -E '(^|/)dmbench/app:' | xargs -r "$DOCKER" -H "$(sock_of "$n")" rmi -f >/dev/null 2>&1
				dk "$n" rmi "$LAB_REGISTRY/dmlab/busybox:1" >/dev/null 2>&1
			done
			# the registry's content as it was
			if [[ -d $WORK/reg/saved ]]; then
				rm -rf "$REG_DATA/docker"
				[[ -d $WORK/reg/saved/docker ]] && cp -a "$WORK/reg/saved/docker" "$REG_DATA/"
			fi
			# node2's base image, if the last run removed it
			dk node2 image inspect "$LAB_BASE_IMAGE" >/dev/null 2>&1 ||
				dk node2 load -q -i "$LAB_BASE_TAR" >/dev/null 2>&1
		fi
	fi
	if ((LAB_STARTED && !KEEP_LAB)); then
		"$LABSH" down >/dev/null 2>&1
	fi
	[[ -n $WORK ]] && rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# lab_start SRC DST: node1 runs an engine of kind SRC, node2 one of kind DST
# (a lab of their own: `up` starts from scratch; a running lab must match)
lab_start() {
	local src=$1 dst=$2
	if ((USE_RUNNING)); then
		"$LABSH" status >/dev/null 2>&1 || die "--use-running-lab: lab $LAB_ID is not up"
	else
		log "starting lab $LAB_ID: node1 $src, node2 $dst"
		LAB_STARTED=1
		"$LABSH" up "node1=$src" "node2=$dst" >&2 || die "cannot start lab $LAB_ID"
	fi
	eval "$("$LABSH" env)"
	[[ ${LAB_NODE1_ENGINE:-20.10} == "$src" && ${LAB_NODE2_ENGINE:-20.10} == "$dst" ]] ||
		die "lab $LAB_ID has node1 ${LAB_NODE1_ENGINE:-20.10}, node2 ${LAB_NODE2_ENGINE:-20.10}, not $src, $dst"
	if ((LAB_ID == 0)); then NSPFX=dmlab- VETHPFX=dmv-; else NSPFX=dmlab$LAB_ID- VETHPFX=dmv$LAB_ID-; fi
	for n in node1 node2; do
		[[ -e /run/netns/$NSPFX$n && -e /sys/class/net/$VETHPFX$n ]] ||
			die "lab $LAB_ID has no $n (netns $NSPFX$n, veth $VETHPFX$n)"
	done
	REG_DATA=$LAB_DIR/registry/data
}

sock_of() {
	local s="LAB_${1^^}_SOCK"
	printf '%s\n' "${!s}"
}
dk() {
	local n=$1
	shift
	DOCKER_CONFIG=$WORK/cli-config DOCKER_BUILDKIT=0 "$DOCKER" -H "$(sock_of "$n")" "$@"
}
innode() {
	local n=$1
	shift
	nsenter --net="/run/netns/$NSPFX$n" -- "$@"
}
lssh() { ssh -F "$LAB_SSH_CONFIG" "$@"; }
now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- shaping

# shape RATE RTT_MS: each node's link to the lab bridge (where the plugin,
# the ssh of the baselines and the registry are) carries at most RATE each
# way (tbf on the bridge side of its veth and on the node's eth0), and a
# round trip to a node takes RTT more: every packet waits RTT/2 where it
# arrives (nfqdelay on an NFQUEUE): in the node's PREROUTING for what goes
# to it, in the root namespace's PREROUTING from the lab bridge for what
# comes from it.  Delaying at the receiver, never in the sender's own
# stack: a packet held there still counts against its socket (TCP small
# queues) and would throttle the sender far below RATE.  This kernel has
# no netem; tbf and NFQUEUE are what it offers.
NFQ_NUM=$((7700 + LAB_ID))
nfq_rule() { # nfq_rule -A|-D NODE|root
	local chain_args=(PREROUTING -i eth0)
	[[ $2 == root ]] && chain_args=(PREROUTING -i "dmlab$LAB_ID")
	if [[ $2 == root ]]; then
		iptables -w 5 -t mangle "$1" "${chain_args[@]}" -m comment --comment "dmbench$LAB_ID" \
			-j NFQUEUE --queue-num "$NFQ_NUM" --queue-bypass
	else
		innode "$2" iptables -w 5 -t mangle "$1" "${chain_args[@]}" -m comment --comment "dmbench$LAB_ID" \
			-j NFQUEUE --queue-num "$NFQ_NUM" --queue-bypass
	fi
}
nfq_start() { # nfq_start NODE|root DELAY_US  ($! of nsenter is nfqdelay's pid: it execs)
	if [[ $1 == root ]]; then
		"$TOOLS/nfqdelay" "$NFQ_NUM" "$2" </dev/null >/dev/null 2>>"$WORK/nfqdelay.log" &
	else
		nsenter --net="/run/netns/$NSPFX$1" -- "$TOOLS/nfqdelay" "$NFQ_NUM" "$2" \
			</dev/null >/dev/null 2>>"$WORK/nfqdelay.log" &
	fi
	NFQ_PIDS+=($!)
}
shape() {
	local rate=$1 rtt=$2 n bps burst p
	unshape
	case $rate in
	*gbit) bps=$((${rate%gbit} * 1000000000)) ;;
	*mbit) bps=$((${rate%mbit} * 1000000)) ;;
	*kbit) bps=$((${rate%kbit} * 1000)) ;;
	esac
	# burst: what the rate gives in 4 ms (a jiffy at HZ=250), at least two
	# 64 KiB GSO packets; queue: 50 ms at the rate
	burst=$((bps / 8 / 250))
	((burst < 140000)) && burst=140000
	for n in node1 node2; do
		tc qdisc replace dev "$VETHPFX$n" root tbf rate "$rate" burst "$burst" latency 50ms
		innode "$n" tc qdisc replace dev eth0 root tbf rate "$rate" burst "$burst" latency 50ms
		if ((rtt > 0)); then
			nfq_rule -A "$n"
			nfq_start "$n" $((rtt * 500))
		fi
	done
	if ((rtt > 0)); then
		nfq_rule -A root
		nfq_start root $((rtt * 500))
	fi
	sleep 0.3
	for p in "${NFQ_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || die "nfqdelay failed: $(cat "$WORK/nfqdelay.log")"; done
}
unshape() {
	local n p
	for p in "${NFQ_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${NFQ_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	NFQ_PIDS=()
	for n in node1 node2; do
		[[ -e /run/netns/$NSPFX$n ]] || continue
		tc qdisc del dev "$VETHPFX$n" root 2>/dev/null || true
		innode "$n" tc qdisc del dev eth0 root 2>/dev/null || true
		while nfq_rule -D "$n" 2>/dev/null; do :; done
	done
	while nfq_rule -D root 2>/dev/null; do :; done
	return 0
}

# Interface counters of the bridge side of each node's veth: tx = towards
# the node, rx = from it.
counters() {
	local n d
	for n in node1 node2; do
		d=/sys/class/net/$VETHPFX$n/statistics
		printf '%s %s ' "$(<"$d/tx_bytes")" "$(<"$d/rx_bytes")"
	done
}

# ---------------------------------------------------------------- workload

IMG1=dmbench/app:1		# base + incompressible layer + compressible layer
IMG2=dmbench/app:2		# the same layers, another config (a label)
PORT=18080
# The service: busybox httpd, and a writer appending a counter to the
# volume ten times a second (it continues the count it finds there).
# shellcheck disable=SC2016,SC2089  # a command line for the container's sh
APP_CMD='httpd -p 80 -h /www; trap "exit 0" TERM INT; i=$(wc -l </data/log); while :; do i=$((i+1)); echo $i >>/data/log; sleep 0.1 & wait $!; done'

build_workload() {
	local bn=$1 ctx=$WORK/ctx total rnd txt
	total=$((SIZE * 1000000))
	rnd=$((total * INCOMP / 100))
	txt=$((total - rnd))
	log "workload: $SIZE MB of app data ($rnd incompressible, $txt text-like bytes), seed $SEED"
	mkdir -p "$ctx/l1/app/blob" "$ctx/l2/app/text" "$ctx/l2/www"
	"$TOOLS/gendata" rand "$SEED" "$rnd" >"$ctx/l1/app/blob/data.bin"
	# text in 1 MB files, like a tree of sources or logs
	"$TOOLS/gendata" text "$SEED" "$txt" | (cd "$ctx/l2/app/text" && split -d -a 4 -b 1000000 - part.)
	printf '<html><body>docker-migrate bench service</body></html>\n' >"$ctx/l2/www/index.html"
	cat >"$ctx/Dockerfile" <<EOF
FROM $LAB_BASE_IMAGE
COPY l1 /
COPY l2 /
EOF
	# fixed times: the same content gives the same layers
	find "$ctx" -exec touch -h -d @1700000000 {} +
	dk "$bn" rmi -f "$IMG1" "$IMG2" >/dev/null 2>&1 || true
	dk "$bn" build -q -t "$IMG1" "$ctx" >"$WORK/build.log" 2>&1 ||
		{ cat "$WORK/build.log" >&2; die "building $IMG1 failed"; }
	printf 'FROM %s\nLABEL bench.version=2\n' "$IMG1" | dk "$bn" build -q -t "$IMG2" - >>"$WORK/build.log" 2>&1 ||
		{ cat "$WORK/build.log" >&2; die "building $IMG2 failed"; }
	rm -rf "$ctx"
	dk "$bn" save -o "$WORK/app1.tar" "$IMG1"
	dk "$bn" save -o "$WORK/workload.tar" "$IMG1" "$IMG2"
	# what an image costs: layer sizes, raw, under gzip -1 and under
	# libdeflate-gzip -1 (independent of the plugin: the delta strategy
	# compresses with libdeflate level 1, so the latter are its expected
	# bytes; gzip -1 is what zlib-based tools would send)
	local x=$WORK/x
	mkdir -p "$x"
	tar -C "$x" -xf "$WORK/app1.tar"
	LAYER_RAW=() LAYER_GZ=() LAYER_LD=()
	local l
	for l in $(jq -r '.[0].Layers[]' "$x/manifest.json"); do
		LAYER_RAW+=("$(stat -c %s "$x/$l")")
		LAYER_GZ+=("$(gzip -1 -n <"$x/$l" | wc -c)")
		LAYER_LD+=("$(libdeflate-gzip -1 -c <"$x/$l" | wc -c)")
	done
	rm -rf "$x"
	IMG1_ID=$(dk "$bn" image inspect -f '{{.Id}}' "$IMG1")
	IMG2_ID=$(dk "$bn" image inspect -f '{{.Id}}' "$IMG2")
	IMG_DIFF_IDS=$(dk "$bn" image inspect -f '{{json .RootFS.Layers}}' "$IMG1")
	IMG_SIZE=$(dk "$bn" image inspect -f '{{.Size}}' "$IMG1")
	IMG1_IDENT=$(identity "$bn" "$IMG1")
	IMG2_IDENT=$(identity "$bn" "$IMG2")
	log "images: $IMG1 $IMG1_ID ($IMG_SIZE bytes), layers raw ${LAYER_RAW[*]}, gzip -1 ${LAYER_GZ[*]}, libdeflate -1 ${LAYER_LD[*]}"
}

# The workload is built once, on a 20.10 node (as the lab's base image is),
# and every source gets it the same way: `docker load` of that node's
# `docker save` of both images (its layers uncompressed, as every store
# then holds them; the containerd store names them by the same digests).
workload_on_source() {
	local bn=node1 added=
	if [[ -z $IMG1_ID ]]; then
		if [[ ${LAB_NODE1_ENGINE:-20.10} != 20.10 ]]; then
			if [[ ${LAB_NODE2_ENGINE:-20.10} == 20.10 ]]; then
				bn=node2
			else
				bn=node3 added=1
				"$LABSH" add node3 --engine 20.10 >&2 || die "cannot add a 20.10 node to build the workload"
				eval "$("$LABSH" env)"
			fi
		fi
		build_workload "$bn"
		dk "$bn" rmi -f "$IMG2" "$IMG1" >/dev/null
		[[ -n $added ]] && { "$LABSH" remove node3 >&2 || die "cannot remove node3"; }
		cp "$LAB_BASE_TAR" "$WORK/base.tar"
		BASE_IDENT=$(identity node1 "$LAB_BASE_IMAGE")
	fi
	# Every lab builds a base image of its own (other layer digests): the
	# workload's, that of the first lab, replaces it on both nodes, and is
	# what the destination is given in the runs.
	LAB_BASE_TAR=$WORK/base.tar
	if [[ $(identity node1 "$LAB_BASE_IMAGE") != "$BASE_IDENT" || $(identity node2 "$LAB_BASE_IMAGE") != "$BASE_IDENT" ]]; then
		log "base image: the workload's on both nodes (this lab built its own)"
		dk node1 load -q -i "$LAB_BASE_TAR" >/dev/null && dk node2 load -q -i "$LAB_BASE_TAR" >/dev/null ||
			die "cannot load the workload's base image"
		dk node1 image prune -f >/dev/null && dk node2 image prune -f >/dev/null
		[[ $(identity node1 "$LAB_BASE_IMAGE") == "$BASE_IDENT" && $(identity node2 "$LAB_BASE_IMAGE") == "$BASE_IDENT" ]] ||
			die "the base image on the nodes is not the workload's"
	fi
	dk node1 rmi -f "$IMG2" "$IMG1" >/dev/null 2>&1 || true
	log "workload: loaded on node1 (${LAB_NODE1_ENGINE:-20.10}) from the save of the 20.10 node that built it"
	dk node1 load -q -i "$WORK/workload.tar" >/dev/null || die "cannot load the workload on node1"
	[[ $(identity node1 "$IMG1") == "$IMG1_IDENT" && $(identity node1 "$IMG2") == "$IMG2_IDENT" ]] ||
		die "the workload loaded on node1 (${LAB_NODE1_ENGINE:-20.10}) is not the one built"
}

# identity NODE REF: what is the same image on every store (the containerd
# store names an image by its manifest: its id differs), without a save:
# the diff ids, the config's labels and creation time
identity() {
	api "$1" GET "/images/$(jq -rn --arg r "$2" '$r | @uri')/json" 2>/dev/null |
		jq -c '[.RootFS.Layers, .Config.Labels, .Created]'
}

# Registry contents per scenario, prepared once (unshaped) and put back
# before each push-pull run: the registry holds what the destination has
# (what is deployed came through it).  The lab's registry has no cache: its
# files are the whole truth.
prepare_registry() {
	local s
	rm -rf "$WORK/reg"
	mkdir -p "$WORK/reg/saved" "$WORK/reg/none" "$WORK/reg/base" "$WORK/reg/all"
	if [[ -d $REG_DATA/docker ]]; then cp -a "$REG_DATA/docker" "$WORK/reg/saved/"; fi
	rm -rf "$REG_DATA/docker"
	dk node1 tag "$LAB_BASE_IMAGE" "$LAB_REGISTRY/dmlab/busybox:1"
	dk node1 push -q "$LAB_REGISTRY/dmlab/busybox:1" >/dev/null
	cp -a "$REG_DATA/docker" "$WORK/reg/base/"
	dk node1 tag "$IMG1" "$LAB_REGISTRY/$IMG1"
	dk node1 push -q "$LAB_REGISTRY/$IMG1" >/dev/null
	cp -a "$REG_DATA/docker" "$WORK/reg/all/"
	# the layers as the engine's push compressed them: what the registry
	# and layers strategies carry on each hop
	LAYER_REG=$(curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$LAB_REGISTRY/v2/${IMG1%:*}/manifests/${IMG1#*:}" | jq -c '[.layers[].size]') ||
		die "reading $IMG1's manifest from the lab registry"
	log "registry blobs of $IMG1: $LAYER_REG"
	dk node1 tag "$IMG2" "$LAB_REGISTRY/$IMG2"
	# node2 pulls once what it will be given in the runs: its engine then
	# knows which registry blob is which of its layers (a layer that only
	# came by docker load is downloaded again by a pull); as if what node2
	# runs had come through this registry.  Kept by the engine after rmi.
	dk node2 pull -q "$LAB_REGISTRY/dmlab/busybox:1" >/dev/null
	dk node2 pull -q "$LAB_REGISTRY/$IMG1" >/dev/null
	rm -rf "$REG_DATA/docker"
	for s in none base all; do [[ -d $WORK/reg/$s ]] || die "registry snapshot $s"; done
}
registry_state() {
	rm -rf "$REG_DATA/docker"
	if [[ -d $WORK/reg/$1/docker ]]; then cp -a "$WORK/reg/$1/docker" "$REG_DATA/"; fi
}

# dest_state SCENARIO: node2 holds exactly what the scenario says, loaded
# through its local socket (nothing crosses the shaped link): none:
# nothing; base/container: the base image (from the lab's own tar: the very
# same layers as node1's); all: the base and $IMG1.  Images that should stay
# are kept (fewer reloads), every other tag and image goes.
dest_state() {
	local wanted=() keep rm=() ref id
	# (the Engine API by curl for the bookkeeping: a docker CLI call costs
	# a few hundred ms on a busy machine)
	for id in $(api node2 GET '/containers/json?all=1' | jq -r '.[].Id'); do
		api node2 DELETE "/containers/$id?force=1&v=1" >/dev/null
	done
	for id in $(api node2 GET /volumes | jq -r '.Volumes[]?.Name'); do
		api node2 DELETE "/volumes/$id?force=1" >/dev/null
	done
	case $1 in
	base | container) wanted=("$LAB_BASE_IMAGE") ;;
	all) wanted=("$LAB_BASE_IMAGE" "$IMG1") ;;
	esac
	keep=" ${wanted[*]} "
	while read -r ref id; do
		[[ -n $ref ]] || continue
		if [[ $ref == *"<none>"* ]]; then rm+=("$id"); elif [[ $keep != *" $ref "* ]]; then rm+=("$ref"); fi
	done < <(api node2 GET '/images/json?all=1' | jq -r '.[] | (.RepoTags // ["<none>:<none>"])[] as $t | "\($t) \(.Id)"')
	for ref in "${rm[@]}"; do
		api node2 DELETE "/images/$(jq -rn --arg r "$ref" '$r | @uri')?force=1" >/dev/null 2>&1 || true
	done
	for ref in "${wanted[@]}"; do
		api node2 GET "/images/$(jq -rn --arg r "$ref" '$r | @uri')/json" >/dev/null 2>&1 && continue
		if [[ $ref == "$LAB_BASE_IMAGE" ]]; then
			dk node2 load -q -i "$LAB_BASE_TAR" >/dev/null
		else
			dk node2 load -q -i "$WORK/app1.tar" >/dev/null
		fi
	done
	ref=$(api node2 GET /images/json | jq -r '[.[] | (.RepoTags // [])[]] | sort | join(" ")')
	[[ $ref == "$(printf '%s\n' "${wanted[@]}" | sort | xargs)" ]] ||
		die "node2 holds '$ref', not what scenario $1 wants"
}

# api NODE METHOD PATH: the node's Engine API through its socket.
api() {
	curl -fsS --noproxy '*' -m 60 -X "$2" --unix-socket "$LAB_DIR/$1/run/docker.sock" "http://engine$3"
}

# ------------------------------------------------------------ the methods

# Each method moves image $1 from node1 to node2; the caller times it.
# Their output goes to $RUNLOG; the plugin's JSON report to $WORK/report.json.
m_save-ssh-load() {
	dk node1 save "$1" | lssh node2 docker load -q
}
m_save-scp-load() {
	local f=$WORK/image.tar rf=$LAB_DIR/node2/tmp/dmbench-image.tar
	dk node1 save -o "$f" "$1" &&
		scp -q -F "$LAB_SSH_CONFIG" "$f" "node2:$rf" &&
		lssh node2 docker load -q -i "$rf"
	local rc=$?
	rm -f "$f" "$rf"
	return $rc
}
m_push-pull() {
	dk node1 tag "$1" "$LAB_REGISTRY/$1" &&
		dk node1 push -q "$LAB_REGISTRY/$1" &&
		dk node2 pull -q "$LAB_REGISTRY/$1" &&
		dk node2 tag "$LAB_REGISTRY/$1" "$1"
}
# migrate KIND OBJECT STRATEGY: the plugin through the real docker CLI; the
# CLI runs it through the wrapper in cli-plugins/, which records its peak
# memory (GNU time, the plugin process alone, not the CLI).
# The registry and layers strategies go through the lab's registry, which holds what
# node2 holds (as for push-pull).
m_migrate() {
	local extra=()
	[[ $3 == registry || $3 == layers ]] && extra=(--registry "$LAB_REGISTRY")
	rm -f "$WORK/maxrss"
	DOCKER_CONFIG=$WORK/cli-config DOCKER_MIGRATE_SSH_CONFIG=$LAB_SSH_CONFIG \
		DMBENCH_MAXRSS=$WORK/maxrss "$DOCKER" ${DMBENCH_DEBUG:+-D} -H "$LAB_NODE1_SOCK" \
		migrate "$1" "$2" --to node2 \
		--strategy "$3" "${extra[@]}" --format json >"$WORK/report.json"
}

plugin_wrapper() {
	mkdir -p "$WORK/cli-config/cli-plugins"
	chmod 700 "$WORK/cli-config"
	cat >"$WORK/cli-config/cli-plugins/docker-migrate" <<EOF
#!/bin/sh
# the plugin under test; its peak RSS (kB) to \$DMBENCH_MAXRSS
if [ -n "\${DMBENCH_MAXRSS:-}" ] && [ "\${1:-}" != docker-cli-plugin-metadata ]; then
	exec /usr/bin/time -q -o "\$DMBENCH_MAXRSS" -f %M "$PLUGIN" "\$@"
fi
exec "$PLUGIN" "\$@"
EOF
	chmod 755 "$WORK/cli-config/cli-plugins/docker-migrate"
	"$DOCKER" --config "$WORK/cli-config" migrate version --help >/dev/null 2>&1 ||
		"$DOCKER" --config "$WORK/cli-config" migrate --help >/dev/null ||
		die "the docker CLI does not find the plugin"
}

# The plugin's strategies, as its completion lists them.
plugin_strategies() {
	"$PLUGIN" __complete migrate image --strategy "" 2>/dev/null | grep -v '^:' | cut -f1
}

# bounded FUNCTION ARGS...: a method in a bash of its own under timeout (a
# hung transfer ends the run, not the benchmark).
BOUND_SECS=1800
bounded() {
	timeout "$BOUND_SECS" bash -c 'set -o pipefail; "$@"' _ "$@"
}
export_for_bounded() {
	export -f sock_of dk lssh now_ms wait_node2 m_migrate m_container_manual \
		m_save-ssh-load m_save-scp-load m_push-pull
	# shellcheck disable=SC2090
	export WORK DOCKER IMG1 PORT APP_CMD
}

# --------------------------------------------------------------- the runs

CSV_HEADER="link,rate,rtt_ms,scenario,method,rep,seq,ok,total_ms,phases,plugin_total_ms,plugin_bytes,link_bytes,node2_tx,node2_rx,node1_tx,node1_rx,peak_rss_kb,downtime_ms,plugin_downtime_ms,lost_writes,error,pair"
SEQ=0

# Fields of the current run, reset by run_begin.
run_begin() {
	R_OK=1 R_TOTAL='' R_PHASES='' R_PTOTAL='' R_PBYTES='' R_RSS='' R_DOWN='' R_PDOWN='' R_LOST='' R_ERR=''
	RUNLOG=$WORK/run.log
	# with DMBENCH_DEBUG, each run's log is kept, named by its seq column
	[[ -n ${DMBENCH_DEBUG:-} ]] && mkdir -p "$OUT/logs" && RUNLOG=$OUT/logs/$((SEQ + 1)).log
	: >"$RUNLOG"
}
fail_run() {
	R_OK=0
	R_ERR=$(printf '%s' "$*" | tr '\n,"' '  ' | cut -c1-200)
	log "  FAILED: $R_ERR"
}
plugin_report() {
	if [[ -f $WORK/maxrss ]]; then R_RSS=$(tail -n 1 "$WORK/maxrss"); fi
	[[ $R_RSS =~ ^[0-9]+$ ]] || R_RSS=
	[[ -s $WORK/report.json ]] || return 0
	if jq -e . "$WORK/report.json" >/dev/null 2>&1; then
		R_PHASES=$(jq -r '[.phases[]? | "\(.name)=\(.ms)"] | join(";")' "$WORK/report.json")
		R_PTOTAL=$(jq -r '.total_ms // empty' "$WORK/report.json")
		R_PBYTES=$(jq -r '.bytes // empty' "$WORK/report.json")
		R_PDOWN=$(jq -r '.downtime_ms // empty' "$WORK/report.json")
		local st
		st=$(jq -r '.status // empty' "$WORK/report.json")
		[[ $st == completed ]] || fail_run "plugin status $st: $(jq -r '.error // empty' "$WORK/report.json")"
	fi
}

record() {
	local link=$1 rate=$2 rtt=$3 scen=$4 method=$5 rep=$6 c0=$7 c1=$8
	local a b n1tx n1rx n2tx n2rx
	read -r -a a <<<"$c0"
	read -r -a b <<<"$c1"
	n1tx=$((b[0] - a[0])) n1rx=$((b[1] - a[1])) n2tx=$((b[2] - a[2])) n2rx=$((b[3] - a[3]))
	local linkb=$((n1tx + n1rx + n2tx + n2rx))
	SEQ=$((SEQ + 1))
	printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,"%s",%s\n' \
		"$link" "$rate" "$rtt" "$scen" "$method" "$rep" "$SEQ" "$R_OK" "$R_TOTAL" "$R_PHASES" \
		"$R_PTOTAL" "$R_PBYTES" "$linkb" "$n2tx" "$n2rx" "$n1tx" "$n1rx" "$R_RSS" "$R_DOWN" \
		"$R_PDOWN" "$R_LOST" "$R_ERR" "$PAIR_LABEL" >>"$OUT/results.csv"
	jq -cn --arg pair "$PAIR_LABEL" --arg src "$SRC_ENGINE" --arg dst "$DST_ENGINE" --arg link "$link" --arg rate "$rate" --argjson rtt "$rtt" --arg scen "$scen" \
		--arg method "$method" --argjson rep "$rep" --argjson seq "$SEQ" --argjson ok "$R_OK" \
		--arg total "$R_TOTAL" --arg phases "$R_PHASES" --arg ptotal "$R_PTOTAL" \
		--arg pbytes "$R_PBYTES" --argjson linkb "$linkb" --argjson n2tx "$n2tx" \
		--argjson n2rx "$n2rx" --argjson n1tx "$n1tx" --argjson n1rx "$n1rx" --arg rss "$R_RSS" \
		--arg down "$R_DOWN" --arg pdown "$R_PDOWN" --arg lost "$R_LOST" --arg err "$R_ERR" '
		def num: if . == "" then null else tonumber end;
		{pair: $pair, src_engine: $src, dst_engine: $dst, link: $link, rate: $rate, rtt_ms: $rtt, scenario: $scen, method: $method, rep: $rep,
		 seq: $seq, ok: ($ok == 1), total_ms: ($total | num),
		 phases: (if $phases == "" then {} else ($phases | split(";") | map(split("=") | {(.[0]): (.[1] | tonumber)}) | add) end),
		 plugin_total_ms: ($ptotal | num), plugin_bytes: ($pbytes | num),
		 link_bytes: $linkb, node2_tx: $n2tx, node2_rx: $n2rx, node1_tx: $n1tx, node1_rx: $n1rx,
		 peak_rss_kb: ($rss | num), downtime_ms: ($down | num),
		 plugin_downtime_ms: ($pdown | num), lost_writes: ($lost | num),
		 error: (if $err == "" then null else $err end)}' >>"$WORK/runs.jsonl"
	local extra=
	[[ -n $R_RSS ]] && extra+=" rss=$((R_RSS / 1024))MB"
	[[ -n $R_DOWN ]] && extra+=" downtime=${R_DOWN}ms lost=$R_LOST"
	log "  $(printf '%-11s %-13s %-9s %-14s rep %s' "$PAIR_LABEL" "$link" "$scen" "$method" "$rep"): $(awk -v t="$R_TOTAL" 'BEGIN{printf "%.2f s", t/1000}') $(awk -v b="$linkb" 'BEGIN{printf "%.1f MB", b/1e6}')$extra$( ((R_OK)) || echo " FAILED")"
}

# image_run LINK RATE RTT SCENARIO METHOD REP
image_run() {
	local link=$1 rate=$2 rtt=$3 scen=$4 method=$5 rep=$6 img=$IMG1 want_id=$IMG1_ID c0 c1 t0 t1 rc=0
	local want_ident=$IMG1_IDENT
	[[ $scen == all ]] && img=$IMG2 want_id=$IMG2_ID want_ident=$IMG2_IDENT
	run_begin
	dest_state "$scen"
	[[ $method == push-pull || $method == migrate-registry || $method == migrate-layers ]] && registry_state "$scen"
	rm -f "$WORK/report.json" "$WORK/maxrss"
	c0=$(counters)
	t0=$(now_ms)
	case $method in
	migrate-*) bounded m_migrate image "$img" "${method#migrate-}" >>"$RUNLOG" 2>&1 || rc=$? ;;
	*) bounded "m_$method" "$img" >>"$RUNLOG" 2>&1 || rc=$? ;;
	esac
	t1=$(now_ms)
	c1=$(counters)
	R_TOTAL=$((t1 - t0))
	[[ $method == migrate-* ]] && plugin_report
	((rc == 0)) || fail_run "exit $rc: $(tail -n 3 "$RUNLOG")"
	# the same image: its id where ids are config digests; in the
	# containerd store (ids are manifest digests) its diff ids and config
	if ((R_OK)) && [[ $DST_ENGINE != 28c ]] &&
		[[ $(api node2 GET "/images/$(jq -rn --arg r "$img" '$r | @uri')/json" 2>&1 | jq -r .Id 2>&1) != "$want_id" ]]; then
		fail_run "$img did not arrive at node2 with id $want_id"
	fi
	if ((R_OK)) && [[ $(identity node2 "$img") != "$want_ident" ]]; then
		fail_run "$img did not arrive at node2 with diff ids and config $want_ident"
	fi
	record "$link" "$rate" "$rtt" "$scen" "$method" "$rep" "$c0" "$c1"
}

# The container scenario: the service on node1 with a volume of VOL_SIZE MB
# being written to; the client asks both nodes every 50 ms.
service_start() {
	local i
	api node1 DELETE '/containers/bench-web?force=1' >/dev/null 2>&1 || true
	api node1 DELETE '/volumes/bench-vol?force=1' >/dev/null 2>&1 || true
	dk node1 volume create bench-vol >/dev/null
	"$TOOLS/gendata" rand $((SEED + 1)) $((VOL_SIZE * 1000000)) |
		dk node1 run -i --rm -v bench-vol:/d "$LAB_BASE_IMAGE" sh -c 'cat >/d/data.bin && : >/d/log'
	dk node1 run -d --name bench-web -p "$PORT:80" -v bench-vol:/data --stop-timeout 5 \
		"$IMG1" sh -c "$APP_CMD" >/dev/null
	for ((i = 0; i < 100; i++)); do
		curl -fsS -m 1 -o /dev/null "http://$LAB_NODE1_ADDR:$PORT/" 2>/dev/null && return 0
		sleep 0.1
	done
	die "the service does not answer on node1"
}
wait_node2() {
	local i
	for ((i = 0; i < 600; i++)); do
		curl -fsS -m 1 -o /dev/null "http://$LAB_NODE2_ADDR:$PORT/" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# the manual move: the image by METHOD while the service runs, then stop
# it, copy the volume (tar through ssh), start it at node2, wait for it
m_container_manual() {
	local method=$1 t a
	t=$(now_ms)
	"m_$method" "$IMG1" || return 1
	a=$(now_ms); MANUAL_PHASES="transfer=$((a - t))"; t=$a
	dk node1 stop bench-web >/dev/null || return 1
	a=$(now_ms); MANUAL_PHASES+=";stop-source=$((a - t))"; t=$a
	dk node1 run --rm -v bench-vol:/d:ro "$LAB_BASE_IMAGE" tar -C /d -cf - . |
		lssh node2 docker run -i --rm -v bench-vol:/d "$LAB_BASE_IMAGE" tar -C /d -xf - || return 1
	a=$(now_ms); MANUAL_PHASES+=";volume=$((a - t))"; t=$a
	lssh node2 docker run -d --name bench-web -p "$PORT:80" -v bench-vol:/data --stop-timeout 5 \
		"$IMG1" sh -c "$(printf '%q' "$APP_CMD")" >/dev/null || return 1
	wait_node2 || return 1
	a=$(now_ms); MANUAL_PHASES+=";start=$((a - t))"
	echo "$MANUAL_PHASES" >"$WORK/manual.phases"
}

# vol_content NODE: md5 of the volume's data file, then its log, read
# through the archive endpoint of the service's container (stopped or not).
vol_content() {
	local t=$WORK/vol.tar
	api "$1" GET '/containers/bench-web/archive?path=/data' >"$t" || return 1
	tar -xOf "$t" data/data.bin | md5sum | cut -d' ' -f1
	tar -xOf "$t" data/log
	rm -f "$t"
}

# downtime from the probe log (T OK1 OK2 per tick, T the time of the
# tick's first answer): the longest time between two answers from either
# node, from the migration's start to the end of probing, less one
# interval (no gap at all gives 0).  Answers come in time order once
# sorted: a held request answered late is heard when it is answered.
downtime_of() {
	awk '$2 == 1 || $3 == 1 { print $1 }' "$1" | sort -n |
		awk -v t0="$2" -v iv=50 '
		{ if (last != "" && $1 >= t0 && $1 - last > gap) gap = $1 - last; last = $1 }
		END { if (last == "" || last < t0) print -1; else { g = gap - iv; print (g < 0 ? 0 : g) } }'
}

container_run() {
	local link=$1 rate=$2 rtt=$3 method=$4 rep=$5 c0 c1 t0 t1 rc=0 src dst
	run_begin
	dest_state container
	[[ $method == push-pull || $method == migrate-registry || $method == migrate-layers ]] && registry_state base
	service_start
	rm -f "$WORK/report.json" "$WORK/maxrss"
	"$TOOLS/probe" 50 1000 "$LAB_NODE1_ADDR:$PORT" "$LAB_NODE2_ADDR:$PORT" >"$WORK/probe.log" &
	PROBE_PID=$!
	sleep 0.3
	c0=$(counters)
	t0=$(now_ms)
	rm -f "$WORK/manual.phases"
	case $method in
	migrate-*) bounded m_migrate container bench-web "${method#migrate-}" >>"$RUNLOG" 2>&1 || rc=$? ;;
	*) bounded m_container_manual "$method" >>"$RUNLOG" 2>&1 || rc=$? ;;
	esac
	t1=$(now_ms)
	c1=$(counters)
	R_TOTAL=$((t1 - t0))
	wait_node2 || true
	sleep 0.3
	kill "$PROBE_PID" 2>/dev/null || true
	wait "$PROBE_PID" 2>/dev/null || true
	PROBE_PID=
	if [[ $method == migrate-* ]]; then
		plugin_report
	elif [[ -s $WORK/manual.phases ]]; then
		R_PHASES=$(<"$WORK/manual.phases")
	fi
	((rc == 0)) || fail_run "exit $rc: $(tail -n 3 "$RUNLOG")"
	R_DOWN=$(downtime_of "$WORK/probe.log" "$t0")
	if ((R_OK)); then
		if ! curl -fsS -m 2 -o /dev/null "http://$LAB_NODE2_ADDR:$PORT/"; then
			fail_run "the service does not answer on node2"
		fi
		# every line the source wrote must be at the destination, and the
		# volume's data file must be identical
		src=$(vol_content node1) || src=
		dst=$(vol_content node2) || dst=
		if [[ -z $src || -z $dst || ${src%%$'\n'*} != "${dst%%$'\n'*}" ]]; then
			fail_run "the volume's data did not arrive intact"
		fi
		# lines of the source's log missing from the destination's
		R_LOST=$(awk 'NR == FNR { s[FNR] = $0; n = FNR; next }
			FNR > 1 && !broken { if (FNR <= n && s[FNR] == $0) same = FNR; else broken = 1 }
			END { print n - (same ? same : 1) }' <(printf '%s\n' "$src") <(printf '%s\n' "$dst"))
		[[ $(api node1 GET /containers/bench-web/json 2>/dev/null | jq -r .State.Running) == false ]] ||
			fail_run "the source still runs"
	fi
	record "$link" "$rate" "$rtt" container "$method" "$rep" "$c0" "$c1"
	api node1 DELETE '/containers/bench-web?force=1' >/dev/null 2>&1 || true
	api node1 DELETE '/volumes/bench-vol?force=1' >/dev/null 2>&1 || true
}

# ------------------------------------------------------------------ report

# table.txt: per link, scenario and method the median over the reps, with
# min-max, of the total time and of the bytes on the links, their ratios to
# save-ssh-load (same link, same scenario, this run), the median transfer
# phase of the plugin, its largest peak memory, and for the container
# scenario the downtime seen by the client and the writes lost.
report() {
	jq -s '.' "$WORK/runs.jsonl" >"$WORK/runs.json"
	jq -n --slurpfile runs "$WORK/runs.json" --slurpfile meta "$WORK/meta.json" \
		--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --argjson secs "$(($(date +%s) - T_START))" \
		--arg dockerd "$(dockerd_versions)" \
		'$meta[0] | .machine.loadavg_end = $load | .machine.dockerd = $dockerd | .duration_s = $secs | . + {runs: $runs[0]}' >"$OUT/results.json"
	"$ROOT/bench/table.sh" "$OUT/results.json" >"$OUT/table.txt"
	cat "$OUT/table.txt"
	if ((PLOT)); then
		# one group of bars per engine pair and link
		jq 'if ([.runs[].pair] | unique | length) > 1 then .runs |= map(.link = "\(.pair) \(.link)") else . end' \
			"$OUT/results.json" >"$WORK/plot.json"
		"$ROOT/bench/plot.sh" "$WORK/plot.json" "$OUT/plot.png" || log "warning: no plot"
	fi
}

# the engines' versions: one, or each with the kinds that ran it
declare -A DOCKERD_VERS=()
dockerd_versions() {
	local k v out=()
	if ((${#DOCKERD_VERS[@]} == 1)); then printf '%s\n' "${DOCKERD_VERS[@]}"; return; fi
	for v in $(printf '%s\n' "${DOCKERD_VERS[@]}" | sort -u); do
		out+=("$v ($(for k in "${!DOCKERD_VERS[@]}"; do [[ ${DOCKERD_VERS[$k]} == "$v" ]] && echo "$k"; done | sort | paste -sd, -))")
	done
	local IFS=';'
	printf '%s\n' "${out[*]}" | sed 's/;/, /g'
}
write_meta() {
	local cpu mem commit dirty dockerd_v
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
	# BENCH_PLUGIN_COMMIT: when the plugin was built elsewhere than this tree
	commit=${BENCH_PLUGIN_COMMIT:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}
	dirty=
	if [[ -z ${BENCH_PLUGIN_COMMIT:-} ]] && git -C "$ROOT" status --porcelain -- src plugin include 2>/dev/null | grep -q .; then
		dirty="+uncommitted changes"
	fi
	dockerd_v=$(dockerd_versions)
	local lr lg ll
	lr=$(printf '%s\n' "${LAYER_RAW[@]}" | jq -s -c .)
	lg=$(printf '%s\n' "${LAYER_GZ[@]}" | jq -s -c .)
	ll=$(printf '%s\n' "${LAYER_LD[@]}" | jq -s -c .)
	jq -n --arg date "$(date -u '+%Y-%m-%d %H:%M UTC')" --arg host "$(hostname)" \
		--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
		--arg cpu "$cpu" --argjson cores "$(nproc)" --arg mem "$mem" --arg kernel "$(uname -r)" \
		--arg os "Debian $(cat /etc/debian_version 2>/dev/null)" --arg dockerd "$dockerd_v" \
		--arg commit "$commit$dirty" --arg plugin "$("$PLUGIN" docker-cli-plugin-metadata | jq -r .Version)" \
		--arg links "$LINKS" --arg pairs "$PAIRS" --argjson size "$SIZE" --argjson incomp "$INCOMP" \
		--argjson vol "$VOL_SIZE" --argjson reps "$REPS" --arg scen "$SCENARIOS" \
		--arg methods "${METHOD_LIST[*]}" --arg cmethods "${CMETHOD_LIST[*]}" --argjson seed "$SEED" \
		--arg img1 "$IMG1_ID" --arg img2 "$IMG2_ID" --argjson isize "$IMG_SIZE" \
		--argjson diff "$IMG_DIFF_IDS" --argjson raw "$lr" --argjson gz "$lg" --argjson ld "$ll" --argjson reg "${LAYER_REG:-null}" --argjson quick "$QUICK" '
		{date: $date, machine: {host: $host, cpu: $cpu, cores: $cores, memory: $mem,
		  kernel: $kernel, os: $os, dockerd: $dockerd, loadavg_start: $load},
		 plugin: {version: $plugin, commit: $commit},
		 options: {pairs: $pairs, links: $links, size_mb: $size, incompressible_pct: $incomp, vol_size_mb: $vol,
		  reps: $reps, scenarios: $scen, methods: ($methods | split(" ")),
		  container_methods: ($cmethods | split(" ")), seed: $seed, quick: ($quick == 1)},
		 workload: {image: "dmbench/app:1", id: $img1, image2_id: $img2, size: $isize,
		  diff_ids: $diff, layer_bytes: $raw, layer_gzip1_bytes: $gz, layer_libdeflate1_bytes: $ld,
		  layer_registry_bytes: $reg}}' >"$WORK/meta.json"
}

# ------------------------------------------------------------------- main

bench_deps
build_tools
WORK=$(mktemp -d /tmp/dmbench.XXXXXX)
chmod 700 "$WORK"
if [[ -z $OUT ]]; then OUT=$ROOT/bench/results/$(date +%Y%m%d-%H%M%S); fi
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
plugin_wrapper
export_for_bounded

mapfile -t STRATS < <(plugin_strategies)
((${#STRATS[@]})) || die "the plugin lists no strategy"
ALL_METHODS=(save-ssh-load save-scp-load push-pull)
for s in "${STRATS[@]}"; do ALL_METHODS+=("migrate-$s"); done
expand_methods() {
	local m out=()
	IFS=, read -r -a in <<<"$1"
	for m in "${in[@]}"; do
		[[ " ${ALL_METHODS[*]} " == *" migrate-$m "* ]] && m=migrate-$m
		[[ " ${ALL_METHODS[*]} " == *" $m "* ]] || die "unknown method '$m' (known: ${ALL_METHODS[*]})"
		out+=("$m")
	done
	printf '%s\n' "${out[@]}"
}
if [[ -n $METHODS ]]; then mapfile -t METHOD_LIST < <(expand_methods "$METHODS"); else METHOD_LIST=("${ALL_METHODS[@]}"); fi
if [[ -n $CMETHODS ]]; then
	mapfile -t CMETHOD_LIST < <(expand_methods "$CMETHODS")
else
	CMETHOD_LIST=()
	for m in "${METHOD_LIST[@]}"; do
		[[ $m == save-ssh-load || $m == migrate-* ]] && CMETHOD_LIST+=("$m")
	done
fi

log "plugin $PLUGIN (strategies: ${STRATS[*]}); lab $LAB_ID; results in $OUT"
log "engine pairs ${PAIR_LIST[*]}; links ${LINK_LIST[*]}; scenarios ${SCEN_LIST[*]}; methods ${METHOD_LIST[*]}; reps $REPS"
echo "$CSV_HEADER" >"$OUT/results.csv"
: >"$WORK/runs.jsonl"

T_START=$(date +%s)
for pair in "${PAIR_LIST[@]}"; do
	SRC_ENGINE=${pair%%:*} DST_ENGINE=${pair#*:}
	PAIR_LABEL="$SRC_ENGINE->$DST_ENGINE"
	log "engines: node1 $SRC_ENGINE, node2 $DST_ENGINE"
	lab_start "$SRC_ENGINE" "$DST_ENGINE"
	DOCKERD_VERS[$SRC_ENGINE]=$(dk node1 version -f '{{.Server.Version}}' 2>/dev/null || echo '?')
	DOCKERD_VERS[$DST_ENGINE]=$(dk node2 version -f '{{.Server.Version}}' 2>/dev/null || echo '?')
	workload_on_source
	# the registry matters only to the methods that go through it
	case " ${METHOD_LIST[*]} ${CMETHOD_LIST[*]} " in
	*" push-pull "* | *" migrate-registry "* | *" migrate-layers "*) prepare_registry ;;
	esac
	[[ -f $WORK/meta.json ]] || write_meta
	for link in "${LINK_LIST[@]}"; do
		if [[ $link == none ]]; then
			rate=none rtt=0
			unshape
		else
			rate=${link%%:*} rtt=${link#*:}
			rtt=${rtt%ms}
			shape "$rate" "$rtt"
		fi
		label="$rate/${rtt}ms"
		[[ $link == none ]] && label=unshaped
		log "link $label"
		for ((rep = 1; rep <= REPS; rep++)); do
			for scen in "${SCEN_LIST[@]}"; do
				if [[ $scen == container ]]; then list=("${CMETHOD_LIST[@]}"); else list=("${METHOD_LIST[@]}"); fi
				((${#list[@]})) || continue
				# alternating order: rotated by the rep, reversed every other rep
				n=${#list[@]} order=()
				for ((i = 0; i < n; i++)); do order+=("${list[(i + rep - 1) % n]}"); done
				if ((rep % 2 == 0)); then
					for ((i = 0, j = n - 1; i < j; i++, j--)); do
						tmp=${order[i]} order[i]=${order[j]} order[j]=$tmp
					done
				fi
				for m in "${order[@]}"; do
					if [[ $scen == container ]]; then
						container_run "$label" "$rate" "$rtt" "$m" "$rep"
					else
						image_run "$label" "$rate" "$rtt" "$scen" "$m" "$rep"
					fi
				done
			done
		done
	done
	unshape
done
log "runs done in $(($(date +%s) - T_START)) s"
report
if ((LATEST)) || [[ -n $LATEST_AS ]]; then
	dest=$ROOT/bench/latest${LATEST_AS:+/$LATEST_AS}
	mkdir -p "$dest"
	cp "$OUT/table.txt" "$dest/table.txt"
	rm -f "$dest/plot.png"
	if [[ -f $OUT/plot.png ]]; then cp "$OUT/plot.png" "$dest/plot.png"; fi
	jq 'del(.runs)' "$OUT/results.json" >"$dest/meta.json"
	"$ROOT/bench/readme-section.sh" >"$ROOT/bench/README-section.md"
	log "${dest#"$ROOT"/}/ and bench/README-section.md updated"
fi
log "results: $OUT/{results.csv,results.json,table.txt$( ((PLOT)) && echo ,plot.png)}"
