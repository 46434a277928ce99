#!/usr/bin/env bats
# The plugin killed outright (SIGKILL: nothing of it runs after) in each
# step of a container move with a volume.  The step is held by the test
# hook (DOCKER_MIGRATE_TEST_PAUSE_AT), so the kill lands in the step asked
# for, after everything before it took effect.  Then: history shows the
# run as interrupted, not running, and names what is left; "docker migrate
# rollback ID" undoes it from the journal in the record; both hosts hold
# exactly what they held before the move (the whole-state snapshots of
# the fault tests), the source runs with its data as it was, and a second
# rollback finds nothing left.

load helpers
load fixtures/faults

APP=dmt/app:1

setup_file() {
	dm_setup_file
	# an image node2 lacks, so that the transfer loads something
	app_image "$APP" 200000
}
teardown_file() {
	lab_clean node1 node2 >/dev/null 2>&1 || true
}
setup() { dm_setup; }
teardown() {
	[ -n "${BATS_TEST_COMPLETED:-}" ] || [ ! -s "${OUT:-}" ] || { echo "--- output:"; cat "$OUT"; }
	if [ -n "${BG:-}" ] && kill -0 "$BG" 2>/dev/null; then kill -KILL "$BG" 2>/dev/null || true; fi
	ldocker node1 rm -f -v dmt-db >/dev/null 2>&1 || true
	ldocker node1 volume rm -f dmt-vol >/dev/null 2>&1 || true
	[ -n "${BATS_TEST_COMPLETED:-}" ] || lab_clean node2 >/dev/null 2>&1 || true
}

# A running container with a volume holding 300 kB; with LAYER set, a
# file changed in its own layer too (the container layer travels).
db() {
	run_docker node1 volume create dmt-vol
	run_docker node1 run --rm -v dmt-vol:/data "$LAB_BASE_IMAGE" \
		sh -c 'echo hello > /data/a && head -c 300000 /dev/urandom > /data/b'
	if [ -n "${LAYER:-}" ]; then
		run_docker node1 run -d --name dmt-db --stop-timeout 1 -v dmt-vol:/data "$APP" \
			sh -c 'echo changed > /etc/dmt-layer; exec sleep 600'
		wait_until sh -c "$DOCKER -H $(lab_sock node1) diff dmt-db | grep -q dmt-layer"
	else
		run_docker node1 run -d --name dmt-db --stop-timeout 1 -v dmt-vol:/data "$APP" sleep 600
	fi
}

# last_id: the id of dmt-db's last migration.
last_id() {
	"$DM_BIN" history --format json |
		jq -r '[.[] | select(.object == "dmt-db")][-1].id'
}

# killed_in STEP [ARGS...]: move dmt-db, kill the plugin in STEP, roll back
# (LEFT: a line "history ID" must show before the rollback).
killed_in() {
	local step=$1 id rc=0
	shift
	db
	SRC_BEFORE=$(src_state dmt-db)
	remember node1 node2
	DOCKER_MIGRATE_TEST_PAUSE_AT=$step bg_migrate container dmt-db --to node2 "$@"
	wait_until in_output "test hook: paused in $step"
	run "$DM_BIN" history
	contains "$(grep "^$(last_id) " <<<"$output")" "  running  " "the table: running while it lives"
	kill -KILL "$(plugin_pid)"
	wait "$BG" || rc=$?
	[ "$rc" -ne 0 ] || { echo "FAIL: the CLI exited 0 after its plugin was killed"; false; }
	id=$(last_id)

	# what history says of the dead run
	run "$DM_BIN" history
	contains "$(grep "^$id " <<<"$output")" "  interrupted  " "the table: interrupted, not running"
	run_dm history "$id"
	contains "$output" "interrupted container dmt-db" "history ID: interrupted"
	contains "$output" "interrupted   in $step" "history ID: the step it was in"
	if [ "$step" != check ] && [ "$step" != transfer ]; then
		contains "$output" "not undone (docker migrate rollback $id)" "history ID: what is left"
	fi
	[ -z "${LEFT:-}" ] || contains "$output" "$LEFT" "history ID names it"

	run "$DOCKER" __complete migrate rollback ""
	contains "$output" "$id"$'\t'"interrupted container dmt-db" "completion offers it"

	run_dm rollback "$id"
	history_is dmt-db "$( [ "$step" = check ] && echo failed || echo rolled-back)" \
		"$step" "interrupted: the process was killed"
	is "$(src_state dmt-db)" "$SRC_BEFORE" "the source as it was, running"
	unchanged node1
	unchanged node2
	run_dm rollback "$id"
	contains "$output" "nothing left to undo" "a second rollback has nothing to do"
	run "$DOCKER" __complete migrate rollback ""
	[[ $output != *"$id"* ]] || { echo "FAIL: completion still offers $id"; false; }
}

@test "killed in check: nothing to undo" {
	killed_in check
}

@test "killed in transfer: the image loaded is removed" {
	killed_in transfer
}

@test "killed in precopy: the volume made at the destination is removed" {
	killed_in precopy
}

@test "killed in create: the volume and helpers at both hosts are removed" {
	killed_in create
}

@test "killed in stop-source: the copy created is removed" {
	killed_in stop-source
}

@test "killed in sync, the source stopped: the source is started again" {
	killed_in sync
}

@test "killed in start: the created copy removed, the source started" {
	killed_in start
}

@test "killed in sync with --pause: the frozen source is thawed" {
	killed_in sync --pause
}

@test "killed in create, the container layer committed and sent: removed at both hosts" {
	LAYER=1 LEFT="remove-image at the source: docker-migrate-rootfs:" killed_in create
}

@test "killed while the image streams into the destination's load" {
	db
	SRC_BEFORE=$(src_state dmt-db)
	remember node1 node2
	# 200 kB at 1 Mbit/s: some 2 s of load; killed once the destination
	# engine stages the archive
	lab_ctl shape node2 1mbit
	bg_migrate container dmt-db --to node2
	wait_until lab_exec node2 sh -c 'ls -A /var/lib/docker/tmp | grep -q .'
	kill -KILL "$(plugin_pid)"
	wait "$BG" || true
	lab_ctl shape node2 off
	run_dm history "$(last_id)"
	contains "$output" "interrupted   in transfer" "history ID: in transfer"
	contains "$output" "remove-image at the destination" "the load is named"
	# what the killed process had sent still reaches the engine, whose
	# load then ends (loaded or dropped): the rollback comes after it, as
	# docker-migrate-rollback(1) tells the user
	wait_until lab_exec node2 sh -c '[ -z "$(ls -A /var/lib/docker/tmp)" ]'
	run_dm rollback "$(last_id)"
	history_is dmt-db rolled-back transfer "interrupted: the process was killed"
	is "$(src_state dmt-db)" "$SRC_BEFORE" "the source as it was"
	unchanged node1
	unchanged node2
}

@test "a rollback that cannot reach the destination is finished later by rollback ID" {
	db
	SRC_BEFORE=$(src_state dmt-db)
	remember node1 node2
	DOCKER_MIGRATE_TEST_PAUSE_AT=sync bg_migrate container dmt-db --to node2
	wait_until in_output "test hook: paused in sync"
	# the destination unreachable: the run's own rollback puts the
	# source back, then gives up on node2 after its reconnection window
	lab_ctl stop-sshd node2
	interrupt plugin
	finish
	local id
	id=$(last_id)
	contains "$(cat "$OUT")" "docker migrate rollback $id removes it" "says how to finish"
	is "$FINISH_RC" 3 "exit status: the rollback could not finish"
	is "$(src_state dmt-db)" "$SRC_BEFORE" "the source put back at once"
	run_dm history "$id"
	contains "$output" "failed container dmt-db" "failed: not all undone"
	contains "$output" "remove-container at the destination: dmt-db" "names the copy left"
	lab_ctl start-sshd node2
	run_dm rollback "$id"
	history_is dmt-db rolled-back sync "*"
	unchanged node1
	unchanged node2
}

@test "docker migrate volumes killed in its copy: the volume it made is removed" {
	db
	remember node1 node2
	DOCKER_MIGRATE_TEST_PAUSE_AT=transfer bg_migrate volumes dmt-vol --to node2
	wait_until in_output "test hook: paused in transfer"
	kill -KILL "$(plugin_pid)"
	wait "$BG" || true
	local id
	id=$("$DM_BIN" history --format json | jq -r '[.[] | select(.object == "dmt-vol")][-1].id')
	run_dm history "$id"
	contains "$output" "interrupted volumes dmt-vol" "interrupted"
	contains "$output" "remove-volume at the destination: dmt-vol" "names the volume made"
	run_dm rollback "$id"
	is "$("$DM_BIN" history --format json | jq -r --arg i "$id" '.[] | select(.id == $i) | .status')" \
		rolled-back "rolled back"
	unchanged node1
	unchanged node2
}

@test "rollback refuses a completed move and an unknown id" {
	db
	run_dm container dmt-db --to node2
	run_dm 1 rollback "$(last_id)"
	contains "$output" "completed: there is nothing to roll back" "completed refused"
	run_dm 1 rollback 0000000000000000
	contains "$output" "no migration 0000000000000000" "unknown id"
}
