#!/usr/bin/env bats
# Faults: Ctrl-C at the CLI, a second migration of the same container, the
# destination's engine going away.  After each, the source is as it was,
# the destination clean, and history says what happened.

load helpers
load fixtures/faults

setup_file() { dm_setup_file; }
setup() { dm_setup; }
teardown() {
	local p
	uncut node2
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done
	lab_clean node1 node2 >/dev/null 2>&1 || true
}

state() {
	local s
	s=$(ldocker "$1" inspect -f '{{.State.Status}}' "$2" 2>/dev/null) || s=absent
	echo "$s"
}

# A container whose copy stays "starting" for a minute: the migration
# waits in its start phase, where a test can interrupt it.
slow_container() {
	run_docker node1 run -d --name "$1" --stop-timeout 1 --health-cmd true \
		--health-interval 60s --health-start-period 60s "$LAB_BASE_IMAGE" sleep 600
}

# wait_for CMD...: until CMD succeeds, 20 s at most
wait_for() {
	local i
	for ((i = 0; i < ${WAIT_TRIES:-100}; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

copy_exists() { [ "$(state node2 "$1")" != absent ]; }

# the pid of the docker CLI process running "docker migrate container NAME"
cli_pid() { pgrep -f "^$DOCKER migrate container $1 " | head -n 1; }

@test "Ctrl-C at the docker CLI rolls the migration back" {
	slow_container slowcat
	"$DOCKER" migrate container slowcat --to node2 >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local bg=$!
	wait_for copy_exists slowcat
	kill -INT "$(cli_pid slowcat)"
	local rc=0
	wait "$bg" || rc=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$rc" -ne 0 ] || { echo "interrupted migration exited 0"; false; }
	is "$rc" 130 "exit status: interrupted, everything undone"
	contains "$(cat "$BATS_TEST_TMPDIR/out")" "interrupted" "says why"
	is "$(state node1 slowcat)" running "source still running"
	is "$(state node2 slowcat)" absent "copy removed"
	output=$(dm_json history --format json)
	is "$(jq -r '[.[] | select(.object == "slowcat")][-1] | .status + " " + .failed_step' <<<"$output")" \
		"rolled-back start" "history: rolled back in the start phase"
	is "$(jq -r '[.[] | select(.object == "slowcat")][-1] | .error_kind' <<<"$output")" \
		interrupted "history: the error's kind"
}

@test "SIGTERM to the plugin rolls the migration back" {
	slow_container slowterm
	"$DOCKER" migrate container slowterm --to node2 >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local bg=$!
	wait_for copy_exists slowterm
	pkill -TERM -f "docker-migrate .*container slowterm"
	local rc=0
	wait "$bg" || rc=$?
	[ "$rc" -ne 0 ]
	is "$rc" 130 "exit status: interrupted, everything undone"
	is "$(state node1 slowterm)" running "source still running"
	is "$(state node2 slowterm)" absent "copy removed"
}

@test "a second migration of the same container is refused while the first runs" {
	slow_container busy
	"$DOCKER" migrate container busy --to node2 >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local bg=$!
	wait_for copy_exists busy
	run_dm 1 container busy --to node2
	contains "$output" "busy is already being migrated" "refused"
	one_line_error
	kill -INT "$(cli_pid busy)"
	wait "$bg" || true
	is "$(state node1 busy)" running "source still running"
	is "$(state node2 busy)" absent "first one rolled back"
}

@test "a link that goes silent mid-copy is detected, and the copy rolled back" {
	run_docker node1 volume create dmt-big
	run_docker node1 run --rm -v dmt-big:/d "$LAB_BASE_IMAGE" \
		dd if=/dev/urandom of=/d/big bs=1k count=6144
	remember node2
	# 6 MB at 2 Mbit/s: some 25 s of copy
	lab_ctl shape node2 2mbit
	DOCKER_MIGRATE_STALL_TIMEOUT=5 "$DOCKER" migrate volumes dmt-big --to node2 \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	local bg=$! t0 rc=0
	# cut once the content streams (a progress line with bytes sent): the
	# destination engine is then extracting into its helper container
	wait_until grep -q "^volume dmt-big: .* sent" "$BATS_TEST_TMPDIR/out"
	cut node2
	t0=$(date +%s)
	# bounded: the stall timeout is 5 s; give up on the test after 60
	WAIT_TRIES=300 wait_for grep -q "rolling back" "$BATS_TEST_TMPDIR/out" || true
	local detected=$(( $(date +%s) - t0 ))
	uncut node2
	wait "$bg" || rc=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$rc" -ne 0 ] || { echo "the cut copy exited 0"; false; }
	is "$rc" 1 "exit status: failed, everything undone"
	[ "$detected" -le 40 ] || { echo "noticed after $detected s"; false; }
	contains "$(cat "$BATS_TEST_TMPDIR/out")" "rolled-back" "rolled back"
	run ldocker node2 volume inspect dmt-big
	is "$status" 1 "no half-copied volume at the destination"
	is "$(ldocker node2 ps -aq)" "" "no helper left at the destination"
	is "$(ldocker node1 ps -aq)" "" "no helper left at the source"
	# nor the helper image, nor anything else
	unchanged node2
}

@test "a destination volume that fills up fails the copy clearly, the source intact" {
	run_docker node1 volume create dmt-full
	run_docker node1 run --rm -v dmt-full:/d "$LAB_BASE_IMAGE" \
		dd if=/dev/urandom of=/d/big bs=1k count=2048
	# the destination's volume of that name: empty, and 512 kB large
	run_docker node2 volume create --opt type=tmpfs --opt device=tmpfs \
		--opt o=size=512k dmt-full
	run_dm 1 volumes dmt-full --to node2
	contains "$output" "no space left on device" "says why"
	contains "$output" "rolled-back" "rolled back"
	run ldocker node1 run --rm -v dmt-full:/d "$LAB_BASE_IMAGE" wc -c /d/big
	is "$output" "2097152 /d/big" "source intact"
	is "$(ldocker node2 ps -aq)" "" "no helper left at the destination"
}
