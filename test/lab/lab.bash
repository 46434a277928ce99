# shellcheck shell=bash
# lab.bash - bats helpers for the docker-migrate test lab (test/lab/lab.sh).
#
#   load "${BATS_TEST_DIRNAME}/../lab/lab.bash"   # path relative to the .bats file
#   setup_file()    { lab_up; }                   # or lab_up node1 node2 node3
#   teardown_file() { lab_down; }
#   setup()         { lab_env; }
#
# LAB_ID (0..9, default 0) selects the lab (see README.md); LAB_DIR defaults
# to /tmp/dmlab for LAB_ID 0 and to /tmp/dmlab-N for LAB_ID N.
#
# Only lab-related functions live here; assertions are the test suite's own.

LAB_SH=${LAB_SH:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lab.sh}

# _lab_sh ARGS...: lab.sh with this shell's LAB_ID and LAB_DIR, exported or not.
_lab_sh() {
	LAB_ID=${LAB_ID:-0} LAB_DIR=${LAB_DIR:-} "$LAB_SH" "$@"
}

# lab_up [NODE...]: (re)start the lab from scratch, then export its variables.
lab_up() {
	_lab_sh up "$@" && lab_env
}

# lab_down: stop and remove everything the lab started.
lab_down() {
	_lab_sh down
}

# lab_env: export LAB_ID, LAB_DIR, LAB_NODES, LAB_SSH_CONFIG, LAB_KNOWN_HOSTS,
# LAB_SSH_KEY, LAB_REGISTRY, LAB_BASE_IMAGE, LAB_DOCKER and, per node,
# LAB_<NODE>_SOCK / _ADDR / _SSH / _ENGINE (e.g. LAB_NODE2_SOCK).
lab_env() {
	local out
	out=$(_lab_sh env) || return
	eval "$out"
}

# lab_ctl VERB ARGS...: the fault verbs of lab.sh on the running lab (add
# [--engine 20.10|28|28c] [--disk MB], remove, stop-dockerd, start-dockerd,
# restart-dockerd, stop-sshd, start-sshd, pid, shape; see README.md).
lab_ctl() {
	_lab_sh "$@"
}

# lab_is_up: true if every daemon of the lab answers.
lab_is_up() {
	_lab_sh status >/dev/null 2>&1
}

# _lab_dir: the lab's directory ($LAB_DIR, else the default of $LAB_ID).
_lab_dir() {
	if [[ -n ${LAB_DIR:-} ]]; then
		printf '%s\n' "$LAB_DIR"
	elif [[ ${LAB_ID:-0} == 0 ]]; then
		printf '/tmp/dmlab\n'
	else
		printf '/tmp/dmlab-%s\n' "$LAB_ID"
	fi
}

# lab_sock NODE / lab_addr NODE: the node's engine socket URL / IP address.
lab_sock() { printf 'unix://%s/%s/run/docker.sock\n' "$(_lab_dir)" "$1"; }
lab_addr() {
	local v="LAB_${1^^}_ADDR"
	if [[ -n ${!v:-} ]]; then
		printf '%s\n' "${!v}"
	else
		printf '10.%s.0.%s\n' "$((77 + ${LAB_ID:-0}))" "$((10 + ${1#node}))"
	fi
}

# lab_engine NODE: the node's engine kind (20.10, 28 or 28c), as lab_env
# exported it.
lab_engine() {
	local v="LAB_${1^^}_ENGINE"
	printf '%s\n' "${!v:-20.10}"
}

# ldocker NODE ARGS...: the docker CLI against NODE's engine.
ldocker() {
	local node=$1
	shift
	DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} "${LAB_DOCKER:-/usr/local/bin/docker}" -H "$(lab_sock "$node")" "$@"
}

# lab_exec NODE CMD...: run CMD inside the node (its network, mount and UTS
# namespaces: /run, /var/lib/docker and /etc/docker are the node's own).
lab_exec() {
	_lab_sh exec "$@"
}

# lab_ssh NODE [CMD...]: plain OpenSSH to the node with the lab's config.
lab_ssh() {
	ssh -F "${LAB_SSH_CONFIG:-$(_lab_dir)/ssh/config}" "$@"
}

# lab_clean NODE...: remove every container, volume, user network and image
# (but the base image) of the nodes, so a test starts from a known state
# without restarting the lab.
lab_clean() {
	local n ids
	for n in "$@"; do
		ids=$(ldocker "$n" ps -aq) || return
		if [[ -n $ids ]]; then
			# shellcheck disable=SC2086
			ldocker "$n" rm -f -v $ids >/dev/null || return
		fi
		ids=$(ldocker "$n" volume ls -q) || return
		if [[ -n $ids ]]; then
			# shellcheck disable=SC2086
			ldocker "$n" volume rm -f $ids >/dev/null || return
		fi
		ldocker "$n" network prune -f >/dev/null || return
		ids=$(ldocker "$n" images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' |
			awk -v keep="${LAB_BASE_IMAGE:-dmlab/busybox:1}" '$1 != keep { print ($1 ~ /<none>/) ? $2 : $1 }') || return
		if [[ -n $ids ]]; then
			# shellcheck disable=SC2086
			ldocker "$n" rmi -f $ids >/dev/null || return
		fi
	done
}

# lab_wait_http URL [SECS]: wait until URL answers 2xx/3xx (default 10 s).
lab_wait_http() {
	local url=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		curl --noproxy "*" -fsS -m 2 -o /dev/null "$url" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "lab_wait_http: $url not answering after $secs s" >&2
	return 1
}
