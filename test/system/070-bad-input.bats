#!/usr/bin/env bats
# Bad input: a one-line error, a non-zero exit, nothing changed.

load helpers

setup_file() { dm_setup_file; }
setup() { dm_setup; }
teardown() {
	[ -n "${BAD_PID:-}" ] && kill "$BAD_PID" 2>/dev/null || true
	lab_clean node1 node2 >/dev/null 2>&1 || true
}

bad_engine() {	# MODE: start the fixture, export its address
	local sock="$BATS_TEST_TMPDIR/bad.sock"
	python3 "$BATS_TEST_DIRNAME/fixtures/bad-engine.py" "$sock" "$1" &
	BAD_PID=$!
	local i
	for ((i = 0; i < 50; i++)); do [ -S "$sock" ] && break; sleep 0.1; done
	BAD_HOST="unix://$sock"
}

@test "an engine that answers garbage JSON is a one-line error" {
	bad_engine garbage
	run_dm 1 -H "$BAD_HOST" version
	contains "$output" "malformed JSON" "says what is wrong"
	contains "$output" "$BAD_HOST" "and where"
	one_line_error
}

@test "an engine that answers a 100 MB JSON document is refused, not read whole" {
	bad_engine huge
	run_dm 1 -H "$BAD_HOST" version
	contains "$output" "refusing it" "refused"
	one_line_error
}

@test "a malformed config.json is named in the error" {
	local cfg="$BATS_TEST_TMPDIR/cfg"
	mkdir -p "$cfg"
	echo '{"currentContext": ' >"$cfg/config.json"
	unset DOCKER_HOST
	DOCKER_CONFIG=$cfg run "$DM_BIN" version
	is "$status" 1 "exit status"
	contains "$output" "$cfg/config.json: malformed JSON" "names the file"
}

@test "a malformed context meta.json is named in the error" {
	local cfg="$BATS_TEST_TMPDIR/cfg" hex
	hex=$(printf broken | sha256sum | cut -d' ' -f1)
	mkdir -p "$cfg/contexts/meta/$hex"
	echo '{"Name":"broken","Endpoints":' >"$cfg/contexts/meta/$hex/meta.json"
	unset DOCKER_HOST
	DOCKER_CONFIG=$cfg run "$DM_BIN" --context broken version
	is "$status" 1 "exit status"
	contains "$output" "meta.json: malformed JSON" "names the file"
}

@test "bind-mount paths with quotes, spaces and \$(...) reach no shell unquoted" {
	local dir='/tmp/dmt bind '"'"'q'"'"' $(touch /tmp/dmt-pwned)'
	rm -f /tmp/dmt-pwned
	mkdir -p "$dir"
	run_docker node1 run -d --name dmt-q --stop-timeout 1 -v "$dir:/data" "$LAB_BASE_IMAGE" sleep 600
	run_dm container dmt-q --to node2 --dry-run
	[ ! -e /tmp/dmt-pwned ] || { echo "a shell ran the path"; false; }
	contains "$output" "Plan: move container dmt-q" "the path was checked and exists"
	rmdir "$dir"
	run_dm 1 container dmt-q --to node2
	contains "$output" "does not exist at the destination" "missing path named"
	[ ! -e /tmp/dmt-pwned ] || { echo "a shell ran the path"; false; }
}

@test "a container that is paused is refused until unpaused" {
	run_docker node1 run -d --name dmt-p --stop-timeout 1 "$LAB_BASE_IMAGE" sleep 600
	run_docker node1 pause dmt-p
	run_dm 1 container dmt-p --to node2
	contains "$output" "is paused: unpause it first" "reason"
	one_line_error
	run_docker node1 unpause dmt-p
}
