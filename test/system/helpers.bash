# shellcheck shell=bash
# helpers.bash - what every system test loads: the lab's variables, a
# Docker config dir where the real docker CLI finds the plugin under test,
# and podman-style helpers (run_dm checks the exit status and keeps the
# output; is compares with a message).

load "${BATS_TEST_DIRNAME}/../lab/lab.bash"

DOCKER=${LAB_DOCKER:-/usr/local/bin/docker}

# Once per file: a config dir of our own with the plugin in it.
dm_setup_file() {
	lab_env
	DOCKER=${LAB_DOCKER:-$DOCKER}
	export DM_CONFIG="$BATS_FILE_TMPDIR/docker-config"
	mkdir -p "$DM_CONFIG/cli-plugins"
	chmod 700 "$DM_CONFIG"
	ln -sf "${DM_BIN:?DM_BIN must name the plugin binary}" \
		"$DM_CONFIG/cli-plugins/docker-migrate"
}

dm_setup() {
	lab_env
	DOCKER=${LAB_DOCKER:-$DOCKER}
	export DOCKER_CONFIG="$DM_CONFIG"
	export DOCKER_MIGRATE_SSH_CONFIG="$LAB_SSH_CONFIG"
	export DOCKER_HOST="$LAB_NODE1_SOCK"
	unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
}

# run_dm [EXPECTED_STATUS] ARGS...: docker migrate ARGS through the real
# CLI; fails the test if the exit status differs (default 0).
run_dm() {
	local expect=0
	if [[ $1 =~ ^[0-9]+$ ]]; then
		expect=$1
		shift
	fi
	run "$DOCKER" migrate "$@"
	echo "\$ docker migrate $*"
	echo "$output"
	if [[ $status -ne $expect ]]; then
		echo "FAIL: exit status $status, expected $expect" >&2
		return 1
	fi
}

# dm_json ARGS...: docker migrate's stdout only (progress goes to
# stderr), for jq; fails the test on a non-zero exit.
dm_json() {
	"$DOCKER" migrate "$@" 2>"$BATS_TEST_TMPDIR/dm_json.err" || {
		cat "$BATS_TEST_TMPDIR/dm_json.err" >&2
		return 1
	}
}

# run_docker NODE [EXPECTED_STATUS] ARGS...
run_docker() {
	local node=$1 expect=0
	shift
	if [[ $1 =~ ^[0-9]+$ ]]; then
		expect=$1
		shift
	fi
	run ldocker "$node" "$@"
	if [[ $status -ne $expect ]]; then
		echo "\$ docker($node) $*"
		echo "$output"
		echo "FAIL: exit status $status, expected $expect" >&2
		return 1
	fi
}

# is ACTUAL EXPECTED MESSAGE: exact match, or a glob when EXPECTED has *.
is() {
	local actual=$1 expect=$2 msg=${3:-}
	if [[ $actual == "$expect" ]]; then
		return 0
	fi
	# shellcheck disable=SC2053
	if [[ $expect == *'*'* && $actual == $expect ]]; then
		return 0
	fi
	printf 'FAIL: %s\n  expected: %q\n  actual:   %q\n' "$msg" "$expect" "$actual" >&2
	return 1
}

# contains HAYSTACK NEEDLE MESSAGE
contains() {
	if [[ $1 == *"$2"* ]]; then
		return 0
	fi
	printf 'FAIL: %s\n  expected to contain: %s\n  in: %s\n' "$3" "$2" "$1" >&2
	return 1
}

# One line: errors are one line (the last of the output).
one_line_error() {
	local n
	n=$(printf '%s\n' "$output" | grep -c '^docker migrate: ' || true)
	is "$n" 1 "exactly one 'docker migrate:' error line"
}

# usage_error PATH MESSAGE: $output (stderr and stdout of "docker migrate
# PATH ...", status already checked as 125) is a usage error as the Docker
# CLI prints one: MESSAGE, the usage line of "docker PATH", and where to
# read more; nothing else, the whole help least of all.
usage_error() {
	local path=$1 msg=$2 usage
	usage=$("$DOCKER" $path --help | head -n 1)
	is "$output" "$msg

$usage

Run 'docker $path --help' for more information" "usage error of docker $path"
}

# A unique name for the test's objects.
uname_for() {
	printf 'dmt-%s-%s' "$1" "$BATS_TEST_NUMBER"
}

# tree_of NODE SOURCE: what must arrive identical, entry by entry: type,
# mode, owner, size, mtime, link count, link target and content digest of
# every entry of SOURCE (a volume, or a directory of the node), read
# through a container that mounts it read-only.
tree_of() {
	ldocker "$1" run --rm -v "$2":/v:ro "$LAB_BASE_IMAGE" sh -c '
		cd /v && find . | sort | while IFS= read -r f; do
			s=$(stat -c "%F %a %u:%g %s %Y %h" "$f")
			l=$( [ -L "$f" ] && readlink "$f" )
			d=$( [ -f "$f" ] && [ ! -L "$f" ] && md5sum <"$f" | cut -c1-32 )
			printf "%s|%s|%s|%s\n" "$f" "$s" "$l" "$d"
		done'
}
