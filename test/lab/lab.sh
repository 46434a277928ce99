#!/usr/bin/env bash
# lab.sh - a throw-away multi-host Docker lab for docker-migrate system tests.
#
# Each "node" is a network namespace (dmlab-NODE) plus a private mount
# namespace in which /run, /etc/docker and /var/lib/docker are the node's own
# directories under $LAB_DIR/NODE; inside it run a dockerd (with its own
# containerd) and an sshd.  A bridge dmlab0 (10.77.0.1/24) in the root
# namespace joins the nodes, and a docker-registry serves 10.77.0.1:5000.
#
# LAB_ID=N (0..9, default 0) selects one of ten independent labs: for N > 0
# the names get an N (dmlabN bridge, dmlabN-NODE namespaces, dmvN-NODE veths,
# /dmlabN-NODE cgroups, LAB_DIR /tmp/dmlab-N) and every address is in
# 10.(77+N).0.0/16.  LAB_ID=0 is the lab as it always was.
#
# Usage: lab.sh up [NODE[=ENGINE]...] | down | env | status |
#        docker NODE ARGS... | exec NODE CMD... | ssh NODE [CMD...] |
#        add NODE [--engine ENGINE] [--no-docker-cli] [--disk MB] |
#        remove NODE | stop-dockerd|start-dockerd|restart-dockerd NODE |
#        stop-sshd|start-sshd NODE | pid NODE dockerd|sshd | shape NODE RATE|off
# See test/lab/README.md.
set -euo pipefail

PROG=lab.sh

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

LAB_ID=${LAB_ID:-0}
[[ $LAB_ID =~ ^[0-9]$ ]] || die "LAB_ID must be one digit 0..9, not '$LAB_ID'"
readonly LAB_ID
if ((LAB_ID == 0)); then
	LAB_DIR=${LAB_DIR:-/tmp/dmlab}
	# network namespace and cgroup parent of node N: dmlab-nodeN
	readonly PFX=dmlab-
	# host side of its veth: dmv-nodeN
	readonly VETH_PFX=dmv-
else
	LAB_DIR=${LAB_DIR:-/tmp/dmlab-$LAB_ID}
	readonly PFX=dmlab$LAB_ID-
	# at most 11 characters (dmv9-node15), under IFNAMSIZ
	readonly VETH_PFX=dmv$LAB_ID-
fi
# Lab traffic never goes through a proxy of the caller's environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
# The lab's own 10.(77+LAB_ID).0.0/16: every address of the lab is in it.
readonly NET16=10.$((77 + LAB_ID))
readonly NET_PREFIX=$NET16.0
readonly BRIDGE=dmlab$LAB_ID
readonly BRIDGE_ADDR=$NET16.0.1
readonly REGISTRY_ADDR=$BRIDGE_ADDR:5000
readonly BASE_IMAGE=dmlab/busybox:1
# The docker CLI v28 (Debian's /usr/bin/docker 20.10 only if that is absent).
if [[ -n ${LAB_DOCKER:-} ]]; then
	DOCKER=$LAB_DOCKER
elif [[ -x /usr/local/bin/docker ]]; then
	DOCKER=/usr/local/bin/docker
else
	DOCKER=/usr/bin/docker
fi
readonly DOCKER
readonly DOCKERD=/usr/sbin/dockerd
readonly SSHD=/usr/sbin/sshd
readonly REGISTRY_BIN=/usr/bin/docker-registry
readonly BUSYBOX=/bin/busybox
readonly WAIT_SECS=${LAB_WAIT_SECS:-30}
readonly DEFAULT_NODES=(node1 node2)
# Engine kinds of a node: 20.10 (Debian 12's dockerd, the default), 28 (the
# sid root's dockerd 28.5, overlay2) and 28c (the same with the containerd
# image store).  The sid root is shared by every node of every lab and never
# written: each sid node sees it through an overlay of its own.
readonly ENGINES=(20.10 28 28c)
readonly DEFAULT_ENGINE=20.10
LAB_SH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly LAB_SH_DIR
readonly SID_ROOT_SH=$LAB_SH_DIR/../../scripts/sid-root.sh
# What kill_all, netns_list and cgroup_list act on: every node (a glob), and
# every pid file (the registry's too); remove NODE narrows both to one node.
SCOPE='node[1-9]*'
PID_SCOPE='*'
readonly MARKER=.dmlab-lab
# $LAB_DIR/LAB_ID_FILE: the id of the lab living in LAB_DIR (absent: 0)
readonly LAB_ID_FILE=lab-id
if ((LAB_ID == 0)); then readonly FW_COMMENT=dmlab; else readonly FW_COMMENT=dmlab$LAB_ID; fi
# Shared by all labs of the machine: a lock for the few steps that touch what
# they share (/var/lib/docker in the root namespace), and the mark that a lab
# created /var/lib/docker (the last lab to go down removes it again).
readonly SHARED_LOCK=/run/dmlab.lock
readonly SHARED_VLD_MARK=/run/dmlab-created-var-lib-docker

# die_log LOGFILE MESSAGE: show the end of a daemon log, then fail.
die_log() {
	local f=$1; shift
	if [[ -s $f ]]; then
		printf -- '--- last lines of %s ---\n' "$f" >&2
		tail -n 25 "$f" >&2 || true
		printf -- '---\n' >&2
	fi
	die "$*"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

check_lab_dir() {
	[[ $LAB_DIR == /* ]] || die "LAB_DIR must be an absolute path: $LAB_DIR"
	LAB_DIR=$(realpath -m -- "$LAB_DIR")
	case $LAB_DIR in
	/ | /tmp | /var | /var/tmp | /root | /home | /run | /usr | /etc | /opt | /srv | /work)
		die "refusing LAB_DIR=$LAB_DIR" ;;
	esac
	if [[ -e $LAB_DIR && ! -e $LAB_DIR/$MARKER ]] &&
		[[ -n $(find "$LAB_DIR" -mindepth 1 -maxdepth 1 -print -quit 2>/dev/null) ]]; then
		die "$LAB_DIR exists, is not empty and is not a lab directory (no $MARKER)"
	fi
	# Never act on another lab's directory (e.g. a LAB_DIR left in the
	# environment by the env of another LAB_ID).
	if [[ -e $LAB_DIR/$MARKER ]]; then
		local id=0
		if [[ -e $LAB_DIR/$LAB_ID_FILE ]]; then id=$(<"$LAB_DIR/$LAB_ID_FILE"); fi
		[[ $id == "$LAB_ID" ]] ||
			die "$LAB_DIR belongs to the lab LAB_ID=$id, not LAB_ID=$LAB_ID (set LAB_ID or LAB_DIR)"
	fi
	# The node sockets are seen from the root namespace under $LAB_DIR.
	local sock="$LAB_DIR/node00/run/docker.sock"
	((${#sock} < 100)) || die "LAB_DIR too long for unix socket paths: $LAB_DIR"
}

# node_index NODE: prints N for nodeN (1..15).
node_index() {
	[[ $1 =~ ^node([1-9][0-9]?)$ ]] || die "bad node name '$1' (expected node1 .. node15)"
	local i=${BASH_REMATCH[1]}
	((i <= 15)) || die "bad node name '$1' (expected node1 .. node15)"
	printf '%s\n' "$i"
}
node_addr() { printf '%s.%s\n' "$NET_PREFIX" "$((10 + $(node_index "$1")))"; }
node_sock() { printf 'unix://%s/%s/run/docker.sock\n' "$LAB_DIR" "$1"; }

# is_sid ENGINE: true for the engine kinds that run from the sid root.
is_sid() { [[ $1 == 28 || $1 == 28c ]]; }

# check_engine ENGINE: fail unless ENGINE is one of ENGINES.
check_engine() {
	local e
	for e in "${ENGINES[@]}"; do [[ $1 == "$e" ]] && return 0; done
	die "unknown engine '$1' (expected one of: ${ENGINES[*]})"
}

# node_engine NODE: the engine kind NODE runs (recorded by setup_node).
node_engine() {
	if [[ -s $LAB_DIR/$1/engine ]]; then cat "$LAB_DIR/$1/engine"; else echo "$DEFAULT_ENGINE"; fi
}

# need_sid_root: build the sid root if it is missing or stale (scripts/
# sid-root.sh: about a minute on a fresh machine, then reused) and remember
# its path for the holders of sid nodes.
need_sid_root() {
	local root
	[[ -s $LAB_DIR/sid-root ]] && return 0
	[[ -x $SID_ROOT_SH ]] || die "missing $SID_ROOT_SH (needed for the 28 and 28c engines)"
	root=$("$SID_ROOT_SH") || die "$SID_ROOT_SH failed: no sid root for the 28 and 28c engines"
	[[ -x $root/usr/sbin/dockerd && -x $root/usr/sbin/sshd ]] ||
		die "$root is not a sid root with dockerd and sshd"
	printf '%s\n' "$root" >"$LAB_DIR/sid-root"
}

# Nodes of the current lab (as recorded by up), else the defaults.
lab_nodes() {
	if [[ -s $LAB_DIR/nodes ]]; then
		cat "$LAB_DIR/nodes"
	else
		printf '%s\n' "${DEFAULT_NODES[@]}"
	fi
}

# node_list: the lab's nodes as up takes them (node1 node3=28 ...).
node_list() {
	local n e out=()
	for n in $(lab_nodes); do
		e=$(node_engine "$n")
		if [[ $e == "$DEFAULT_ENGINE" ]]; then out+=("$n"); else out+=("$n=$e"); fi
	done
	printf '%s\n' "${out[*]}"
}

# ---------------------------------------------------------------- processes

# proc_start PID: the process start time (field 22 of /proc/PID/stat).
proc_start() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	# a zombie counts as gone
	[[ $1 != Z && $1 != X ]] || return 1
	printf '%s\n' "${20}"
}

# record PIDFILE PID: remember a pid together with its start time, so that a
# recycled pid is never signalled later.
record() {
	local st
	st=$(proc_start "$2") || st=0
	printf '%s %s\n' "$2" "$st" >"$1"
}

# recorded_pid PIDFILE: prints the pid if that very process still runs.
recorded_pid() {
	local pid st cur
	[[ -r $1 ]] || return 1
	read -r pid st <"$1" || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	cur=$(proc_start "$pid") || return 1
	[[ $cur == "$st" ]] || return 1
	printf '%s\n' "$pid"
}

# spawn LOG PIDFILE CMD...: start a daemon in its own session with a clean
# environment (no proxy or DOCKER_* variables of the caller) and no inherited
# file descriptors beyond 0-2 (bats waits on fd 3), record its pid.
spawn() {
	local logf=$1 pidf=$2 pid
	shift 2
	(
		local fd
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			if ((fd > 2)); then exec {fd}>&-; fi
		done
		cd /
		exec setsid env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 "$@" </dev/null >>"$logf" 2>&1
	) &
	pid=$!
	record "$pidf" "$pid"
}

# The nodes' mount namespaces, as " INODE INODE ...": those of the recorded
# holders and daemons that still run, held open (fds MNT_FDS) while kill_all
# runs.  The kernel gives the number of a freed namespace to the next one at
# once, so a number recorded earlier (a dead node's) or not held could match
# the processes of another lab or of the machine.
MNT_WANT=
MNT_FDS=()
hold_mntns() {
	local f p fd ino self
	self=$(stat -L -c %i /proc/self/ns/mnt)
	for f in "$LAB_DIR"/pids/$SCOPE-holder.pid "$LAB_DIR"/pids/$SCOPE-dockerd.pid "$LAB_DIR"/pids/$SCOPE-sshd.pid; do
		[[ -e $f ]] || continue
		p=$(recorded_pid "$f") || continue
		exec {fd}<"/proc/$p/ns/mnt" || continue
		# the same process still: the namespace held is the node's (or, a
		# moment after spawn, still the root namespace's: not one to match)
		ino=$(stat -L -c %i "/dev/fd/$fd") || ino=
		if recorded_pid "$f" >/dev/null && [[ -n $ino && $ino != "$self" ]]; then
			MNT_FDS+=("$fd")
			MNT_WANT+=" $ino"
		else
			exec {fd}<&-
		fi
	done 2>/dev/null
	return 0
}
release_mntns() {
	local fd
	for fd in "${MNT_FDS[@]}"; do exec {fd}<&-; done
	MNT_FDS=()
	MNT_WANT=
}

# Pids in the lab's namespaces and cgroups: every process in one of this lab's
# network namespaces (${PFX}nodeN), in a held node mount namespace (MNT_WANT),
# or in one of its cgroups (the containers, whose --cgroup-parent is
# /${PFX}nodeN).  All were started by this lab or by its daemons; other
# LAB_IDs' names never match (dmlab-node1 vs dmlab1-node1).
lab_member_pids() {
	local ns f
	for ns in $(netns_list); do
		ip netns pids "$ns" 2>/dev/null || true
	done
	if [[ -n $MNT_WANT ]]; then
		# one stat for all processes: "inode /proc/PID/ns/mnt"
		stat -L -c '%i %n' /proc/[0-9]*/ns/mnt 2>/dev/null |
			awk -v want="$MNT_WANT " 'index(want, " " $1 " ") { split($2, a, "/"); print a[3] }' || true
	fi
	for f in $(cgroup_list); do
		find "$f" -name cgroup.procs -exec cat {} + 2>/dev/null || true
	done
}

# This lab's network namespaces, names only.
netns_list() {
	local ns
	for ns in "/run/netns/$PFX"$SCOPE; do
		[[ -e $ns ]] && printf '%s\n' "${ns##*/}"
	done
	return 0
}

# This lab's containers' cgroup parents (every hierarchy), as directories.
cgroup_list() {
	local d
	for d in /sys/fs/cgroup/*/"$PFX"$SCOPE/ /sys/fs/cgroup/"$PFX"$SCOPE/; do
		[[ -d $d ]] && printf '%s\n' "$d"
	done
	return 0
}

# kill_all: SIGKILL every lab process (recorded pids and namespace members),
# repeating until none is left or the time is up.
kill_all() {
	hold_mntns
	kill_members
	release_mntns
}
kill_members() {
	local deadline pids f p
	deadline=$(($(date +%s) + 15))
	while :; do
		pids=()
		for f in "$LAB_DIR"/pids/$PID_SCOPE.pid; do
			[[ -e $f ]] || continue
			p=$(recorded_pid "$f") && pids+=("$p")
		done
		for p in $(lab_member_pids | sort -un); do
			[[ $p == "$$" || $p == "$BASHPID" ]] && continue
			[[ -d /proc/$p ]] && pids+=("$p")
		done
		((${#pids[@]})) || return 0
		if (($(date +%s) > deadline)); then
			log "warning: processes still alive after 15 s: ${pids[*]}"
			return 0
		fi
		kill -KILL "${pids[@]}" 2>/dev/null || true
		sleep 0.1
	done
}

# The registry, if its pid file is lost: whoever listens on the lab address.
registry_orphans() {
	ss -Hltnp "src $BRIDGE_ADDR" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u |
		while read -r p; do
			[[ $(readlink "/proc/$p/exe" 2>/dev/null) == "$REGISTRY_BIN" ]] && echo "$p"
		done
	return 0
}

# --------------------------------------------------------------------- down

do_down() {
	local t0 ns f d p i
	t0=$(now)
	check_lab_dir

	# The registry keeps nothing worth a graceful stop either.
	if p=$(recorded_pid "$LAB_DIR/pids/registry.pid"); then kill -KILL "$p" 2>/dev/null || true; fi
	for p in $(registry_orphans); do kill -KILL "$p" 2>/dev/null || true; done

	# Nothing is kept: no graceful stop of dockerd (containers would get their
	# stop timeout each); kill every lab process, the namespaces then vanish.
	kill_all

	# cgroups left by containers (depth first; retry while tasks exit)
	for ((i = 0; i < 20; i++)); do
		f=0
		for d in $(cgroup_list); do
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
			[[ -d $d ]] && f=1
		done
		((f)) || break
		sleep 0.1
	done

	for ns in $(netns_list); do
		ip netns del "$ns" 2>/dev/null || log "warning: cannot delete netns $ns"
	done
	for f in "/sys/class/net/$VETH_PFX"$SCOPE; do
		if [[ -e $f ]]; then ip link del "${f##*/}" 2>/dev/null || true; fi
	done
	if [[ -e /sys/class/net/$BRIDGE ]]; then
		ip link del "$BRIDGE" || log "warning: cannot delete $BRIDGE"
	fi
	root_fw del
	shared_lock
	release_var_lib_docker
	shared_unlock

	# Mounts under $LAB_DIR in the root namespace (there should be none).
	if [[ -d $LAB_DIR ]]; then
		awk -v d="$LAB_DIR" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts |
			sort -r | while read -r d; do umount -l "$d" 2>/dev/null || true; done
	fi

	if [[ -d $LAB_DIR ]]; then
		rm -rf --one-file-system -- "$LAB_DIR" ||
			die "cannot remove $LAB_DIR"
	fi
	log "down in $(elapsed "$t0") s"
}

# shared_lock / shared_unlock: the lock of what all labs share (fd 8).
shared_lock() {
	exec 8>"$SHARED_LOCK"
	flock -w 60 8 || die "another lab.sh holds $SHARED_LOCK"
}
shared_unlock() { exec 8>&-; }

# other_labs: true if a lab of another LAB_ID exists (even half up or down).
other_labs() {
	local f
	for f in /sys/class/net/dmlab[0-9] /run/netns/dmlab*; do
		[[ -e $f ]] || continue
		case ${f##*/} in "$BRIDGE" | "$PFX"*) continue ;; esac
		return 0
	done
	return 1
}

# The nodes' /var/lib/docker is a bind mount over the root namespace's
# directory, which must exist.  A lab that had to create it marks so in
# SHARED_VLD_MARK (LAB_DIR/created-var-lib-docker: a lab started by an older
# lab.sh); it is removed when no lab is left, never earlier: removing it
# would detach the bind mounts of every node of every other lab.
# Both run under shared_lock; up creates its bridge before unlocking, so that
# other_labs sees it.
claim_var_lib_docker() {
	if [[ ! -e /var/lib/docker ]]; then
		mkdir -p /var/lib/docker
		: >"$SHARED_VLD_MARK"
	fi
}
release_var_lib_docker() {
	if [[ -e $LAB_DIR/created-var-lib-docker ]]; then : >"$SHARED_VLD_MARK"; fi
	if [[ -e $SHARED_VLD_MARK ]] && ! other_labs; then
		rmdir /var/lib/docker 2>/dev/null || true
		rm -f -- "$SHARED_VLD_MARK"
	fi
	return 0
}

# root_fw add|del: only if the root namespace's firewall would drop the
# bridge's traffic (policy DROP with br_netfilter on), accept it; undo on down.
root_fw() {
	command -v iptables >/dev/null || return 0
	local rule_fwd=(FORWARD -i "$BRIDGE" -o "$BRIDGE" -m comment --comment "$FW_COMMENT" -j ACCEPT)
	local rule_in=(INPUT -i "$BRIDGE" -m comment --comment "$FW_COMMENT" -j ACCEPT)
	if [[ $1 == del ]]; then
		while iptables -w 5 -D "${rule_fwd[@]}" 2>/dev/null; do :; done
		while iptables -w 5 -D "${rule_in[@]}" 2>/dev/null; do :; done
		return 0
	fi
	if iptables -w 5 -S FORWARD 2>/dev/null | grep -qx -- '-P FORWARD DROP'; then
		iptables -w 5 -I "${rule_fwd[@]}"
		log "root FORWARD policy is DROP: accepting $BRIDGE<->$BRIDGE (removed on down)"
	fi
	if iptables -w 5 -S INPUT 2>/dev/null | grep -qx -- '-P INPUT DROP'; then
		iptables -w 5 -I "${rule_in[@]}"
		log "root INPUT policy is DROP: accepting from $BRIDGE (removed on down)"
	fi
}

# ----------------------------------------------------------------------- up

storage_driver() {
	if [[ -n ${LAB_STORAGE_DRIVER:-} ]]; then
		printf '%s\n' "$LAB_STORAGE_DRIVER"
		return
	fi
	local t=$LAB_DIR/ovl-test
	mkdir -p "$t"/{l,u,w,m}
	if unshare --mount --propagation private \
		mount -t overlay overlay -o "lowerdir=$t/l,upperdir=$t/u,workdir=$t/w" "$t/m" 2>/dev/null; then
		echo overlay2
	else
		echo vfs
	fi
	rm -rf "$t"
}

write_registry_config() {
	mkdir -p "$LAB_DIR/registry/data"
	cat >"$LAB_DIR/registry/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $LAB_DIR/registry/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
EOF
}

# setup_node NODE DRIVER ENGINE [DISK_MB [NO_CLI]]: directories, configs,
# keys, veth, holder.  With DISK_MB, the node's /var/lib/docker is an ext4
# file system of that size (an image file under LAB_DIR, loop-mounted in the
# node's mount namespace only: it goes away with the namespace), so that it
# can fill up.  ENGINE 28 or 28c: the node's root is the sid root (see
# sid_holder); with NO_CLI 1, without the docker CLI.
setup_node() {
	local n=$1 driver=$2 engine=$3 disk_mb=${4:-} no_cli=${5:-0} i addr d
	i=$(node_index "$n")
	addr=$(node_addr "$n")
	d=$LAB_DIR/$n
	mkdir -p "$d/run/sshd" "$d/docker" "$d/etc-docker" "$d/home" "$d/tmp"
	chmod 0700 "$d/home"
	chmod 0755 "$d" "$d/run" "$d/run/sshd"
	chmod 0710 "$d/docker"
	printf '%s\n' "$engine" >"$d/engine"
	# the data root's mount point: /var/lib/docker; on a sid node, the one in
	# its root, mounted where the holder builds that root before moving in
	local vld=/var/lib/docker
	is_sid "$engine" && vld=$d/root/mnt/var/lib/docker
	local data_mount=(mount --bind "$d/docker" "$vld")
	if [[ -n $disk_mb ]]; then
		if ! [[ $disk_mb =~ ^[0-9]+$ ]] || ((disk_mb < 32)); then die "--disk wants a size in MB, 32 or more"; fi
		truncate -s "${disk_mb}M" "$d/disk.img"
		mkfs.ext4 -q -F -m 0 -L "$PFX$n" "$d/disk.img" >/dev/null || die "mkfs.ext4 $d/disk.img failed"
		data_mount=(mount -o loop "$d/disk.img" "$vld")
		echo "$disk_mb" >"$d/disk-mb"
	fi
	# 28c: the containerd image store, where the storage driver names a
	# containerd snapshotter ("overlay2" is refused when a container is
	# created: "snapshotter not loaded")
	local store=
	if [[ $engine == 28c ]]; then
		store='
  "features": {"containerd-snapshotter": true},'
		case $driver in overlay2) driver=overlayfs ;; vfs) driver=native ;; esac
	fi

	# docker0 and user networks get NET16.16*i.0/20 (bip: first /24, pools:
	# upper /21), so no address outside the lab's NET16/16 appears anywhere.
	# Any port of the bridge address is an insecure (plain HTTP) registry:
	# the tests' registries in front of the lab's (a proxy that breaks
	# downloads) listen there too.
	cat >"$d/etc-docker/daemon.json" <<EOF
{
  "data-root": "/var/lib/docker",
  "exec-root": "/run/docker",
  "pidfile": "/run/docker.pid",
  "hosts": ["unix:///run/docker.sock"],
  "storage-driver": "$driver",
  "insecure-registries": ["$REGISTRY_ADDR", "$BRIDGE_ADDR/32"],
  "cgroup-parent": "/$PFX$n",
  "bip": "$NET16.$((16 * i)).1/24",
  "default-address-pools": [{"base": "$NET16.$((16 * i + 8)).0/21", "size": 24}],
  "log-driver": "json-file",
  "log-level": "info",$store
  "experimental": ${LAB_EXPERIMENTAL:-true}
}
EOF

	ssh-keygen -q -t ed25519 -N '' -C "$PFX$n" -f "$d/ssh_host_ed25519_key" </dev/null >/dev/null
	cat >"$d/sshd_config" <<EOF
# sshd of lab node $n (runs inside the node's namespaces)
ListenAddress $addr:22
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile $LAB_DIR/ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowStreamLocalForwarding yes
AllowTcpForwarding yes
X11Forwarding no
UseDNS no
PrintMotd no
PrintLastLog no
AcceptEnv LANG LC_*
# The node's own home for ssh sessions: its own ~/.docker, and none of the
# root namespace's ~/.bashrc (which may be slow or change PATH).
SetEnv HOME=$d/home
MaxSessions 100
# A client gone without a word (a link cut) is noticed within 15 s: its
# session ends, and the engine requests it carried end with it (a request
# left running there would hold a container's lock against the rollback).
ClientAliveInterval 5
ClientAliveCountMax 3
MaxStartups 100:30:200
LogLevel VERBOSE
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
	# OpenSSH 9.8 and later penalise a source address for sessions that end
	# "badly" (a killed client, an early disconnect) by refusing it for a
	# while: the tests' quick reconnects and killed sessions would be refused.
	if is_sid "$engine"; then echo 'PerSourcePenalties no' >>"$d/sshd_config"; fi

	ip netns add "$PFX$n"
	ip link add "$VETH_PFX$n" type veth peer name eth0 netns "$PFX$n"
	ip link set "$VETH_PFX$n" master "$BRIDGE" up
	ip -n "$PFX$n" link set lo up
	ip -n "$PFX$n" addr add "$addr/24" dev eth0
	ip -n "$PFX$n" link set eth0 up
	ip -n "$PFX$n" route add default via "$BRIDGE_ADDR"

	if is_sid "$engine"; then
		sid_holder "$n" "$no_cli" "${data_mount[@]}"
		return
	fi
	# The holder owns the node's mount namespace (and sits in its netns).
	# shellcheck disable=SC2016
	spawn "$d/holder.log" "$LAB_DIR/pids/$n-holder.pid" \
		nsenter --net="/run/netns/$PFX$n" -- \
		unshare --mount --uts --propagation private -- /bin/sh -c '
			set -e
			hostname "$2"
			mount --bind "$1/run" /run
			mount --bind "$1/etc-docker" /etc/docker
			shift 2
			"$@"
			: > /run/.dmlab-holder
			exec sleep infinity' holder "$d" "$n" "${data_mount[@]}"
}

# sid_holder NODE NO_CLI DATA_MOUNT...: the holder of a node whose root is
# the sid root.  The sid root is shared and never written: the node's root
# is an overlay with the sid root below and $LAB_DIR/NODE/root/upper above,
# so what the node writes outside its own directories stays in that upper
# layer.  Into it are mounted the node's /run, /etc/docker and
# /var/lib/docker (as on a 20.10 node), the machine's /dev and /proc, a
# sysfs of the node's own network namespace (dockerd 28 reads its bridges'
# port state under /sys/class/net) with the machine's cgroup hierarchies in
# it (where the containers' cgroups go), and $LAB_DIR at its own path, so
# that the node's sshd_config, host key and authorized keys, its pid file
# and everything the lab writes for it have the same names inside as
# outside.  Then the holder moves into that root with pivot_root (under a
# plain chroot, dockerd's own pivot_root for unpacking layers fails and
# `docker load` breaks), and the old root goes: nothing of the machine's root
# is reachable from the node but those mounts.  The daemons enter the
# namespace with nsenter --mount and so start in that root.  NO_CLI 1: the
# docker CLI is removed from the node's overlay (whiteout), as on a host
# with only dockerd and sshd, where `docker system dial-stdio` cannot run.
sid_holder() {
	local n=$1 no_cli=$2 d=$LAB_DIR/$1 root
	shift 2
	root=$(<"$LAB_DIR/sid-root")
	mkdir -p "$d/root/upper" "$d/root/work" "$d/root/mnt"
	# shellcheck disable=SC2016
	spawn "$d/holder.log" "$LAB_DIR/pids/$n-holder.pid" \
		nsenter --net="/run/netns/$PFX$n" -- \
		unshare --mount --uts --propagation private -- /bin/sh -c '
			set -e
			hostname "$2"
			d=$1 lab=$3 r=$1/root/mnt
			mount -t overlay overlay -o "lowerdir=$4,upperdir=$d/root/upper,workdir=$d/root/work" "$r"
			if [ "$5" = 1 ]; then rm -f "$r/usr/bin/docker"; fi
			mkdir -p "$r/etc/docker" "$r/var/lib/docker" "$r$lab" "$r/.old-root"
			mount --bind "$d/run" "$r/run"
			mount --bind "$d/etc-docker" "$r/etc/docker"
			mount --rbind /dev "$r/dev"
			mount --rbind /proc "$r/proc"
			mount -t sysfs sysfs "$r/sys"
			mount --rbind /sys/fs/cgroup "$r/sys/fs/cgroup"
			mount --bind "$lab" "$r$lab"
			shift 5
			"$@"
			cd "$r"
			pivot_root . .old-root
			cd /
			umount -l /.old-root
			: > /run/.dmlab-holder
			exec sleep infinity' holder "$d" "$n" "$LAB_DIR" "$root" "$no_cli" "$@"
}

holder_pid() {
	recorded_pid "$LAB_DIR/pids/$1-holder.pid" ||
		die "node $1 is not running (no holder process; run: lab.sh up)"
}

# in_node NODE CMD...: exec CMD in the node's mount, UTS and network namespaces.
in_node() {
	local n=$1 h
	shift
	h=$(holder_pid "$n")
	exec nsenter --mount="/proc/$h/ns/mnt" --uts="/proc/$h/ns/uts" --net="/run/netns/$PFX$n" -- "$@"
}

start_daemons() {
	start_dockerd "$1"
	start_sshd "$1"
}
start_dockerd() {
	local n=$1 d=$LAB_DIR/$1 h
	h=$(holder_pid "$n")
	# TMPDIR: where containerd drops stack dumps (e.g. when dockerd restarts it)
	spawn "$d/dockerd.log" "$LAB_DIR/pids/$n-dockerd.pid" \
		env TMPDIR="$d/tmp" nsenter --mount="/proc/$h/ns/mnt" --uts="/proc/$h/ns/uts" --net="/run/netns/$PFX$n" -- \
		"$DOCKERD" --config-file /etc/docker/daemon.json
}
start_sshd() {
	local n=$1 d=$LAB_DIR/$1 h
	h=$(holder_pid "$n")
	spawn "$d/sshd.log" "$LAB_DIR/pids/$n-sshd.pid" \
		nsenter --mount="/proc/$h/ns/mnt" --uts="/proc/$h/ns/uts" --net="/run/netns/$PFX$n" -- \
		"$SSHD" -D -e -f "$d/sshd_config"
}

ping_docker() {
	curl --noproxy "*" -fsS -m 2 --unix-socket "$LAB_DIR/$1/run/docker.sock" http://lab/_ping >/dev/null 2>&1
}
ping_ssh() {
	# the banner tells the daemon accepts and answers
	# shellcheck disable=SC2016
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/22" && head -c 4 <&3' _ "$(node_addr "$1")" 2>/dev/null |
		grep -q '^SSH-'
}
ping_registry() {
	curl --noproxy "*" -fsS -m 2 "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1
}

# wait_for WHAT LOG PIDFILE CHECK...: bounded wait (count and time).
wait_for() {
	local what=$1 logf=$2 pidf=$3 i deadline
	shift 3
	deadline=$(($(date +%s) + WAIT_SECS))
	for ((i = 0; i < WAIT_SECS * 20; i++)); do
		"$@" && return 0
		if [[ -n $pidf ]] && ! recorded_pid "$pidf" >/dev/null; then
			die_log "$logf" "$what exited during start-up (log: $logf)"
		fi
		(($(date +%s) < deadline)) || break
		sleep 0.05
	done
	die_log "$logf" "$what not ready after ${WAIT_SECS} s (log: $logf)"
}

holder_ready() { [[ -e $LAB_DIR/$1/run/.dmlab-holder ]]; }

write_ssh_client() {
	local n addr key
	{
		echo "# docker-migrate lab: ssh -F $LAB_DIR/ssh/config NODE"
		for n in "$@"; do
			addr=$(node_addr "$n")
			cat <<EOF
Host $n $addr
  HostName $addr
  Port 22
  User root
  IdentityFile $LAB_DIR/ssh/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $LAB_DIR/ssh/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  CheckHostIP no
  BatchMode yes
  LogLevel ERROR
EOF
		done
	} >"$LAB_DIR/ssh/config"
	# Plain (unhashed) entries, one name per line: port 22 is written without
	# brackets, as OpenSSH and libssh do.
	for n in "$@"; do
		addr=$(node_addr "$n")
		key=$(cut -d' ' -f1,2 "$LAB_DIR/$n/ssh_host_ed25519_key.pub")
		printf '%s %s\n' "$n" "$key" "$addr" "$key"
	done >"$LAB_DIR/ssh/known_hosts"
}

# build_base_image NODE...: build the base image once, on the first 20.10
# node if there is one (else the first node), and load the same saved
# archive into every node.
build_base_image() {
	local first=$1 n ctx=$LAB_DIR/build
	for n in "$@"; do
		if [[ $(node_engine "$n") == 20.10 ]]; then first=$n; break; fi
	done
	mkdir -p "$ctx"
	cp "$BUSYBOX" "$ctx/busybox"
	cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p /tmp /root /etc /var/www && chmod 1777 /tmp && echo root:x:0:0:root:/root:/bin/sh > /etc/passwd && echo root:x:0: > /etc/group"]
LABEL org.opencontainers.image.title="docker-migrate lab base image"
CMD ["sh"]
EOF
	local d1=("$DOCKER" -H "$(node_sock "$first")")
	# Built once: a second build would give other layer digests.  The builder's
	# intermediate images are dropped by loading the saved image back, so every
	# node holds exactly the same thing (no parent chain on the first node).
	{
		DOCKER_BUILDKIT=0 "${d1[@]}" build -q -t "$BASE_IMAGE" "$ctx" &&
			"${d1[@]}" save -o "$LAB_DIR/base-image.tar" "$BASE_IMAGE" &&
			"${d1[@]}" rmi "$BASE_IMAGE"
	} >"$LAB_DIR/build.log" 2>&1 || die_log "$LAB_DIR/build.log" "building $BASE_IMAGE on $first failed"
	rm -rf "$ctx"
	for n in "$@"; do
		"$DOCKER" -H "$(node_sock "$n")" load -q -i "$LAB_DIR/base-image.tar" >>"$LAB_DIR/build.log" 2>&1 ||
			die_log "$LAB_DIR/build.log" "loading $BASE_IMAGE into $n failed"
	done
}

# do_up [NODE[=ENGINE]...]: the whole lab from scratch.
do_up() {
	local t0 nodes=() engines=() n driver spec sid=0
	t0=$(now)
	check_lab_dir
	(($#)) || set -- "${DEFAULT_NODES[@]}"
	for spec in "$@"; do
		n=${spec%%=*}
		node_index "$n" >/dev/null
		nodes+=("$n")
		if [[ $spec == *=* ]]; then engines+=("${spec#*=}"); else engines+=("$DEFAULT_ENGINE"); fi
		check_engine "${engines[-1]}"
		if is_sid "${engines[-1]}"; then sid=1; fi
	done
	[[ $(printf '%s\n' "${nodes[@]}" | sort | uniq -d) == "" ]] || die "duplicate node names"
	local b
	for b in "$DOCKER" "$DOCKERD" "$SSHD" "$REGISTRY_BIN" "$BUSYBOX"; do
		[[ -x $b ]] || die "missing $b"
	done

	do_down

	mkdir -m 0700 "$LAB_DIR"
	: >"$LAB_DIR/$MARKER"
	printf '%s\n' "$LAB_ID" >"$LAB_DIR/$LAB_ID_FILE"
	mkdir -p "$LAB_DIR/pids" "$LAB_DIR/ssh"
	chmod 0700 "$LAB_DIR/ssh"
	printf '%s\n' "${nodes[@]}" >"$LAB_DIR/nodes"
	driver=$(storage_driver)
	printf '%s\n' "$driver" >"$LAB_DIR/storage-driver"
	if ((sid)); then
		[[ $driver == overlay2 ]] || die "the 28 and 28c engines need overlayfs (their root is an overlay)"
		need_sid_root
	fi

	ssh-keygen -q -t ed25519 -N '' -C "${PFX}client" -f "$LAB_DIR/ssh/id_ed25519" </dev/null >/dev/null
	cp "$LAB_DIR/ssh/id_ed25519.pub" "$LAB_DIR/ssh/authorized_keys"

	# mount point for the nodes' /var/lib/docker (removed by the last down)
	shared_lock
	claim_var_lib_docker
	ip link add "$BRIDGE" type bridge
	shared_unlock
	ip addr add "$BRIDGE_ADDR/24" dev "$BRIDGE"
	ip link set "$BRIDGE" up
	root_fw add

	write_registry_config
	spawn "$LAB_DIR/registry/registry.log" "$LAB_DIR/pids/registry.pid" \
		"$REGISTRY_BIN" serve "$LAB_DIR/registry/config.yml"

	local k
	for k in "${!nodes[@]}"; do setup_node "${nodes[k]}" "$driver" "${engines[k]}"; done
	for n in "${nodes[@]}"; do
		wait_for "mount namespace holder of $n" "$LAB_DIR/$n/holder.log" \
			"$LAB_DIR/pids/$n-holder.pid" holder_ready "$n"
	done
	for n in "${nodes[@]}"; do start_daemons "$n"; done

	wait_for "docker-registry" "$LAB_DIR/registry/registry.log" "$LAB_DIR/pids/registry.pid" ping_registry
	for n in "${nodes[@]}"; do
		wait_for "dockerd of $n" "$LAB_DIR/$n/dockerd.log" "$LAB_DIR/pids/$n-dockerd.pid" ping_docker "$n"
		wait_for "sshd of $n" "$LAB_DIR/$n/sshd.log" "$LAB_DIR/pids/$n-sshd.pid" ping_ssh "$n"
	done
	write_ssh_client "${nodes[@]}"

	# End-to-end check with plain OpenSSH (key, known_hosts, the node's own
	# engine), in the background while the base image is built.
	local checks=()
	for n in "${nodes[@]}"; do
		ssh -F "$LAB_DIR/ssh/config" "$n" docker info --format '{{.Name}}' \
			</dev/null >"$LAB_DIR/$n/ssh-check.log" 2>&1 &
		checks+=($!)
	done
	build_base_image "${nodes[@]}"
	k=0
	for n in "${nodes[@]}"; do
		if ! wait "${checks[k]}" || [[ $(<"$LAB_DIR/$n/ssh-check.log") != "$n" ]]; then
			die_log "$LAB_DIR/$n/ssh-check.log" "ssh $n docker info failed (see also $LAB_DIR/$n/sshd.log)"
		fi
		k=$((k + 1))
	done
	log "up: $(node_list) (storage $driver) in $(elapsed "$t0") s; eval \"\$($0 env)\" for variables"
}

# ------------------------------------------------------------------ others

do_env() {
	local n N nodes
	check_lab_dir
	mapfile -t nodes < <(lab_nodes)
	printf 'export LAB_ID=%q\n' "$LAB_ID"
	printf 'export LAB_DIR=%q\n' "$LAB_DIR"
	printf "export LAB_NODES='%s'\n" "${nodes[*]}"
	printf 'export LAB_SSH_CONFIG=%q\n' "$LAB_DIR/ssh/config"
	printf 'export LAB_KNOWN_HOSTS=%q\n' "$LAB_DIR/ssh/known_hosts"
	printf 'export LAB_SSH_KEY=%q\n' "$LAB_DIR/ssh/id_ed25519"
	printf 'export LAB_REGISTRY=%q\n' "$REGISTRY_ADDR"
	printf 'export LAB_BASE_IMAGE=%q\n' "$BASE_IMAGE"
	printf 'export LAB_BASE_TAR=%q\n' "$LAB_DIR/base-image.tar"
	printf 'export LAB_DOCKER=%q\n' "$DOCKER"
	for n in "${nodes[@]}"; do
		N=${n^^}
		printf 'export LAB_%s_SOCK=%q\n' "$N" "$(node_sock "$n")"
		printf 'export LAB_%s_ADDR=%q\n' "$N" "$(node_addr "$n")"
		printf 'export LAB_%s_SSH=%q\n' "$N" "ssh://root@$(node_addr "$n")"
		printf 'export LAB_%s_ENGINE=%q\n' "$N" "$(node_engine "$n")"
	done
}

do_status() {
	local n bad=0 p
	check_lab_dir
	if [[ ! -e $LAB_DIR/$MARKER ]]; then
		echo "lab: down ($LAB_DIR absent)"
		[[ -z $(netns_list) ]] || { echo "leftover namespaces: $(netns_list | xargs)"; return 1; }
		return 3
	fi
	if ((LAB_ID == 0)); then echo "lab: $LAB_DIR"; else echo "lab: $LAB_DIR (LAB_ID=$LAB_ID)"; fi
	if p=$(recorded_pid "$LAB_DIR/pids/registry.pid") && ping_registry; then
		echo "registry  $REGISTRY_ADDR  up (pid $p)"
	else
		echo "registry  $REGISTRY_ADDR  DOWN"; bad=1
	fi
	for n in $(lab_nodes); do
		local h=- dd=- sd=- ds=DOWN ss=DOWN
		h=$(recorded_pid "$LAB_DIR/pids/$n-holder.pid") || { h=DEAD; bad=1; }
		dd=$(recorded_pid "$LAB_DIR/pids/$n-dockerd.pid") || dd=DEAD
		sd=$(recorded_pid "$LAB_DIR/pids/$n-sshd.pid") || sd=DEAD
		if ping_docker "$n"; then ds=up; else bad=1; fi
		if ping_ssh "$n"; then ss=up; else bad=1; fi
		printf '%-6s %-5s %-11s holder %s  dockerd %s (%s)  sshd %s (%s)  %s\n' \
			"$n" "$(node_engine "$n")" "$(node_addr "$n")" "$h" "$ds" "$dd" "$ss" "$sd" "$(node_sock "$n")"
	done
	return "$bad"
}

# --------------------------------------------------- one node, for fault tests

# node_up NODE: fail unless NODE is a node of the running lab.
node_up() {
	lab_nodes | grep -qx -- "$1" || die "$1 is not a node of this lab (see: lab.sh status)"
	holder_pid "$1" >/dev/null
}

# descendants PID: the pids of PID's children, grandchildren ... (10 levels).
descendants() {
	local level=("$1") next p i
	for ((i = 0; i < 10 && ${#level[@]}; i++)); do
		next=()
		for p in "${level[@]}"; do
			mapfile -t -O "${#next[@]}" next < <(pgrep -P "$p" || true)
		done
		((${#next[@]})) && printf '%s\n' "${next[@]}"
		level=("${next[@]}")
	done
	return 0
}

# gone PID: true once PID has exited (a zombie counts as gone).
gone() { ! proc_start "$1" >/dev/null; }

# stop_dockerd NODE: SIGTERM, as a service manager stops it (it stops its
# containers and its containerd), SIGKILL after 30 s; its socket is gone after.
stop_dockerd() {
	local n=$1 p i
	if p=$(recorded_pid "$LAB_DIR/pids/$n-dockerd.pid"); then
		kill -TERM "$p" 2>/dev/null || true
		for ((i = 0; i < 300; i++)); do gone "$p" && break; sleep 0.1; done
		if ! gone "$p"; then
			log "warning: dockerd of $n still runs after 30 s: SIGKILL"
			# shellcheck disable=SC2046
			kill -KILL "$p" $(descendants "$p") 2>/dev/null || true
		fi
	fi
	rm -f -- "$LAB_DIR/$n/run/docker.sock"
}

# stop_sshd NODE: SIGKILL the listener and every session it forked, as if
# the daemon crashed or was killed with its sessions: the connections drop.
stop_sshd() {
	local n=$1 p
	if p=$(recorded_pid "$LAB_DIR/pids/$n-sshd.pid"); then
		# shellcheck disable=SC2046
		kill -KILL "$p" $(descendants "$p") 2>/dev/null || true
	fi
	return 0
}

wait_dockerd() {
	wait_for "dockerd of $1" "$LAB_DIR/$1/dockerd.log" "$LAB_DIR/pids/$1-dockerd.pid" ping_docker "$1"
}
wait_sshd() {
	wait_for "sshd of $1" "$LAB_DIR/$1/sshd.log" "$LAB_DIR/pids/$1-sshd.pid" ping_ssh "$1"
}

# shape NODE RATE|off: a token bucket both ways on the node's link (its
# eth0, and the bridge side of its veth for what it receives); this kernel
# has no netem.
shape() {
	local n=$1 rate=$2 dev
	for dev in "nsenter --net=/run/netns/$PFX$n -- tc:eth0" "tc:$VETH_PFX$n"; do
		local cmd=${dev%%:*} ifc=${dev##*:}
		# shellcheck disable=SC2086
		if [[ $rate == off ]]; then
			$cmd qdisc del dev "$ifc" root 2>/dev/null || true
		else
			$cmd qdisc replace dev "$ifc" root tbf rate "$rate" burst 32kbit latency 400ms ||
				die "tc on $ifc failed"
		fi
	done
}

# do_add NODE[=ENGINE] [--engine ENGINE] [--no-docker-cli] [--disk MB]: one
# more node in the running lab, with the base image; --disk gives it a data
# root of that size (see setup_node).
do_add() {
	local n=${1:-} disk="" engine=$DEFAULT_ENGINE no_cli=0
	[[ -n $n ]] || die "usage: $PROG add NODE[=ENGINE] [--engine ENGINE] [--no-docker-cli] [--disk MB]"
	shift
	if [[ $n == *=* ]]; then engine=${n#*=}; n=${n%%=*}; fi
	node_index "$n" >/dev/null
	while (($#)); do
		case $1 in
		--disk) (($# >= 2)) || die "--disk needs a size in MB"; disk=$2; shift 2 ;;
		--disk=*) disk=${1#--disk=}; shift ;;
		--engine) (($# >= 2)) || die "--engine needs one of: ${ENGINES[*]}"; engine=$2; shift 2 ;;
		--engine=*) engine=${1#--engine=}; shift ;;
		--no-docker-cli) no_cli=1; shift ;;
		*) die "add: unknown option $1" ;;
		esac
	done
	check_engine "$engine"
	if ((no_cli)) && ! is_sid "$engine"; then die "--no-docker-cli is for the 28 and 28c engines"; fi
	[[ -e $LAB_DIR/$MARKER ]] || die "no lab to add $n to (run: lab.sh up)"
	! lab_nodes | grep -qx -- "$n" || die "$n is already a node of this lab"
	local t0 driver=overlay2
	t0=$(now)
	if [[ -s $LAB_DIR/storage-driver ]]; then driver=$(<"$LAB_DIR/storage-driver"); fi
	if is_sid "$engine"; then
		[[ $driver == overlay2 ]] || die "the 28 and 28c engines need overlayfs (their root is an overlay)"
		need_sid_root
	fi
	setup_node "$n" "$driver" "$engine" "$disk" "$no_cli"
	printf '%s\n' "$n" >>"$LAB_DIR/nodes"
	wait_for "mount namespace holder of $n" "$LAB_DIR/$n/holder.log" \
		"$LAB_DIR/pids/$n-holder.pid" holder_ready "$n"
	start_daemons "$n"
	wait_dockerd "$n"
	wait_sshd "$n"
	mapfile -t nodes < <(lab_nodes)
	write_ssh_client "${nodes[@]}"
	"$DOCKER" -H "$(node_sock "$n")" load -q -i "$LAB_DIR/base-image.tar" >>"$LAB_DIR/build.log" 2>&1 ||
		die_log "$LAB_DIR/build.log" "loading $BASE_IMAGE into $n failed"
	local what=$engine
	((no_cli)) && what+=", no docker CLI"
	log "added $n (engine $what${disk:+, data root: $disk MB ext4}) in $(elapsed "$t0") s"
}

# do_remove NODE: the reverse of add (any node): its processes, containers,
# namespaces, veth and directory go; the other nodes are not touched.
do_remove() {
	local n=${1:-} ns
	[[ -n $n ]] || die "usage: $PROG remove NODE"
	node_index "$n" >/dev/null
	SCOPE=$n PID_SCOPE="$n-*" kill_all
	for d in $(SCOPE=$n cgroup_list); do
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
	ns=$PFX$n
	if [[ -e /run/netns/$ns ]]; then ip netns del "$ns" 2>/dev/null || log "warning: cannot delete netns $ns"; fi
	if [[ -e /sys/class/net/$VETH_PFX$n ]]; then ip link del "$VETH_PFX$n" 2>/dev/null || true; fi
	# the bridge keeps the node's MAC for its address as reachable for
	# up to 45 s: a node added again under that name (a new veth, a new
	# MAC) would not be reached until it expires
	ip neigh del "$(node_addr "$n")" dev "$BRIDGE" 2>/dev/null || true
	if [[ -s $LAB_DIR/nodes ]]; then
		grep -vx -- "$n" "$LAB_DIR/nodes" >"$LAB_DIR/nodes.new" || true
		mv -- "$LAB_DIR/nodes.new" "$LAB_DIR/nodes"
	fi
	rm -f -- "$LAB_DIR/pids/$n-"*.pid
	rm -rf --one-file-system -- "${LAB_DIR:?}/$n"
	local nodes
	mapfile -t nodes < <(lab_nodes)
	((${#nodes[@]})) && write_ssh_client "${nodes[@]}"
	log "removed $n"
}

usage() {
	cat <<EOF
usage: $PROG up [NODE[=ENGINE]...]  start the lab (default nodes: ${DEFAULT_NODES[*]});
                                 ENGINE: 20.10 (default), 28 (sid's dockerd 28.5,
                                 overlay2), 28c (28.5, containerd image store)
       $PROG down                stop everything, remove \$LAB_DIR
       $PROG env                 print export lines (eval "\$($PROG env)")
       $PROG status              show what runs (exit 0 if all is up)
       $PROG docker NODE ARGS... docker CLI against the node's engine
       $PROG exec NODE CMD...    run CMD in the node's namespaces
       $PROG ssh NODE [CMD...]   ssh to the node with the lab's config
       $PROG add NODE [--engine ENGINE] [--no-docker-cli] [--disk MB]
                                 one more node (also NODE=ENGINE);
                                 --no-docker-cli (28, 28c): no docker CLI
                                 on the node; --disk: its data root is an
                                 ext4 file system of MB megabytes
       $PROG remove NODE         stop and remove one node
       $PROG stop-dockerd NODE   SIGTERM its dockerd, wait until it exits
       $PROG start-dockerd NODE  start it again, wait until it answers
       $PROG restart-dockerd NODE
       $PROG stop-sshd NODE      SIGKILL its sshd and the sessions it runs
       $PROG start-sshd NODE     start it again, wait until it answers
       $PROG pid NODE dockerd|sshd  the pid of that daemon (exit 1 if down)
       $PROG shape NODE RATE|off slow the node's link both ways (tc tbf)
LAB_ID=$LAB_ID (0..9: labs side by side) LAB_DIR=$LAB_DIR
EOF
}

lock() {
	exec 9>"$LAB_DIR.lock"
	flock -w 120 9 || die "another lab.sh up/down holds $LAB_DIR.lock"
}

main() {
	local cmd=${1:-}
	(($#)) && shift
	case $cmd in
	up) [[ $(id -u) == 0 ]] || die "must run as root"; check_lab_dir; lock; do_up "$@" ;;
	down)
		[[ $(id -u) == 0 ]] || die "must run as root"
		check_lab_dir; lock; do_down
		rm -f -- "$LAB_DIR.lock" ;;
	env) do_env ;;
	status) do_status ;;
	docker)
		(($# >= 1)) || die "usage: $PROG docker NODE ARGS..."
		check_lab_dir
		local n=$1; shift
		node_index "$n" >/dev/null
		DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} exec "$DOCKER" -H "$(node_sock "$n")" "$@" ;;
	exec)
		(($# >= 2)) || die "usage: $PROG exec NODE CMD..."
		check_lab_dir
		local n=$1; shift
		node_index "$n" >/dev/null
		in_node "$n" "$@" ;;
	ssh)
		(($# >= 1)) || die "usage: $PROG ssh NODE [CMD...]"
		check_lab_dir
		exec ssh -F "$LAB_DIR/ssh/config" "$@" ;;
	add | remove)
		[[ $(id -u) == 0 ]] || die "must run as root"
		check_lab_dir; lock
		if [[ $cmd == add ]]; then do_add "$@"; else do_remove "$@"; fi ;;
	shape)
		(($# == 2)) || die "usage: $PROG shape NODE RATE|off"
		check_lab_dir
		node_up "$1"
		shape "$1" "$2" ;;
	stop-dockerd | start-dockerd | restart-dockerd | stop-sshd | start-sshd)
		(($# == 1)) || die "usage: $PROG $cmd NODE"
		check_lab_dir
		node_up "$1"
		case $cmd in
		stop-dockerd) stop_dockerd "$1" ;;
		start-dockerd) start_dockerd "$1"; wait_dockerd "$1" ;;
		restart-dockerd) stop_dockerd "$1"; start_dockerd "$1"; wait_dockerd "$1" ;;
		stop-sshd) stop_sshd "$1" ;;
		start-sshd) start_sshd "$1"; wait_sshd "$1" ;;
		esac ;;
	pid)
		if (($# != 2)) || [[ $2 != dockerd && $2 != sshd ]]; then die "usage: $PROG pid NODE dockerd|sshd"; fi
		check_lab_dir
		node_index "$1" >/dev/null
		recorded_pid "$LAB_DIR/pids/$1-$2.pid" ;;
	-h | --help | help) usage ;;
	*) usage >&2; exit 2 ;;
	esac
}

main "$@"
