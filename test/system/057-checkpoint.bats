#!/usr/bin/env bats
# --checkpoint (issue 15): a running container moves with its memory
# between the lab's sid engines (dockerd 28.5, CRIU 4.2.1; both image stores): a process
# counting, one number a line on its stdout and into a file, goes on at
# the destination from the number it had reached (it never starts again
# from 1).  What these engines cannot restore (a network other than the
# host's, a TTY, a 20.10 engine at either end) is refused before anything
# stops, the source left running, unpaused and not restarted; a restore
# that fails puts the source back, running from its own checkpoint.  No
# checkpoint file is left at either host, whatever the outcome.

load helpers
load fixtures/faults

# node1 and node2 are the lab's 20.10 nodes; the sid nodes are added once
# for the file: two of each store.
A28=node3
B28=node4
A28C=node5
B28C=node6
C=dmt-count

setup_file() {
	dm_setup_file
	local n
	for n in "$A28" "$B28" "$A28C" "$B28C"; do
		lab_ctl remove "$n" >/dev/null 2>&1 || true
	done
	lab_ctl add "$A28" --engine 28
	lab_ctl add "$B28" --engine 28
	lab_ctl add "$A28C" --engine 28c
	lab_ctl add "$B28C" --engine 28c
	lab_env
}

teardown_file() {
	local n
	for n in "$B28C" "$A28C" "$B28" "$A28"; do
		lab_ctl remove "$n" >/dev/null 2>&1 || true
	done
	lab_env
	lab_clean node1 node2 >/dev/null 2>&1 || true
}

setup() { dm_setup; }

teardown() {
	local n
	for n in node1 node2 "$A28" "$B28" "$A28C" "$B28C"; do
		lab_clean "$n" >/dev/null 2>&1 || true
	done
}

# counter NODE [RUN-ARGS...]: the counting process, on the host's network
# unless NET names another; it has counted past 5 on return.
counter() {
	local n=$1
	shift
	# shellcheck disable=SC2016 # the container's shell expands it
	ldocker "$n" run -d --name "$C" --network "${NET:-host}" "$@" "$LAB_BASE_IMAGE" \
		sh -c 'i=0; while :; do i=$((i+1)); echo $i >/count; echo $i; sleep 0.1; done' >/dev/null
	WAIT_TRIES=100 wait_until counted "$n" 5
}

# counted NODE N: the container's log has reached N.
counted() {
	local last
	last=$(ldocker "$1" logs "$C" 2>/dev/null | tr -d '\r' | tail -n 1)
	[[ $last =~ ^[0-9]+$ ]] && ((last >= $2))
}

# consecutive NODE: its log is 1, 2, 3 ... without a gap or a restart
# (a TTY ends its lines with \r\n).
consecutive() {
	ldocker "$1" logs "$C" | tr -d '\r' | awk 'NR != $1 { print "line " NR ": " $0; bad = 1 } END { exit bad }'
}

# no_checkpoints NODE...: no checkpoint directory left in the data root.
no_checkpoints() {
	local n left
	for n in "$@"; do
		left=$(lab_exec "$n" find /var/lib/docker/containers -path '*/checkpoints/*')
		is "$left" "" "no checkpoint files left at $n"
	done
}

# no_helpers NODE: no helper container of the plugin left.
no_helpers() {
	is "$(ldocker "$1" ps -aq --filter label=org.docker-migrate.helper)" "" \
		"no helper container left at $1"
}

# moved_with_memory FROM TO: move the counter; the copy's first line is the
# number after the source's last, and it counts on.
moved_with_memory() {
	local from=$1 to=$2 last first
	run_dm container "$C" --to "$to" --checkpoint
	contains "$output" "checkpoint    memory of $C" "the checkpoint step ran"
	contains "$output" "carry         checkpoint of $C" "the carry step ran"
	contains "$output" "restore       container $C" "the restore step ran"
	is "$(ldocker "$from" inspect -f '{{.State.Running}}' "$C")" false "the source stopped"
	last=$(ldocker "$from" logs "$C" | tail -n 1)
	consecutive "$from"
	WAIT_TRIES=100 wait_until counted "$to" $((last + 3))
	first=$(ldocker "$to" logs "$C" | head -n 1)
	is "$first" $((last + 1)) "the copy went on from the source's $last"
	ldocker "$to" logs "$C" | awk -v f="$first" 'NR + f - 1 != $1 { bad = 1 } END { exit bad }'
	(($(ldocker "$to" exec "$C" cat /count) > last)) || {
		echo "FAIL: the copy's /count is not past $last" >&2
		return 1
	}
	no_checkpoints "$from" "$to"
	no_helpers "$from"
	no_helpers "$to"
}

@test "--dry-run says the memory moves, and changes nothing" {
	counter "$A28"
	before=$(ldocker "$A28" inspect -f '{{.State.StartedAt}}' "$C")
	DOCKER_HOST=$(lab_sock "$A28") run_dm container "$C" --to "$B28" --checkpoint --dry-run
	contains "$output" "memory: moves (checkpoint and restore)" "the plan says so"
	contains "$output" "checkpoint    memory of $C" "a checkpoint step"
	contains "$output" "restore       container $C" "a restore step"
	DOCKER_HOST=$(lab_sock "$A28") run_dm container "$C" --to "$B28" --dry-run
	contains "$output" "memory: does not move: the copy starts afresh" "without --checkpoint"
	is "$(ldocker "$A28" inspect -f '{{.State.StartedAt}}' "$C")" "$before" "not restarted"
	is "$(ldocker "$B28" ps -aq)" "" "nothing at the destination"
}

@test "28 -> 28: a counter goes on from where it was" {
	counter "$A28"
	DOCKER_HOST=$(lab_sock "$A28") moved_with_memory "$A28" "$B28"
	history=$("$DM_BIN" history --format json | jq -r '[.[] | select(.object == "'$C'")][-1] |
		.status + " " + ([.steps[].step] | join(","))')
	is "$history" "completed check,transfer,checkpoint,rootfs,create,carry,restore" "the record"
}

@test "28c -> 28c with a volume: the counter and the volume's file go on" {
	counter "$A28C" -v dmt-cvol:/data
	DOCKER_HOST=$(lab_sock "$A28C") moved_with_memory "$A28C" "$B28C"
	contains "$output" "sync          volume dmt-cvol" "the volume's final pass"
}

@test "28 -> 28c: the memory crosses the image stores" {
	counter "$A28"
	DOCKER_HOST=$(lab_sock "$A28") moved_with_memory "$A28" "$B28C"
}

# refused NODE: the source is as it was: running, unpaused, not restarted;
# nothing of the move left at either end.
refused() {
	local n=$1 before=$2 to=$3
	one_line_error
	is "$(ldocker "$n" inspect -f '{{.State.Running}} {{.State.Paused}} {{.State.StartedAt}}' "$C")" \
		"true false $before" "the source runs as before"
	is "$(ldocker "$to" ps -aq)" "" "nothing at the destination"
	consecutive "$n"
	no_checkpoints "$n"
	no_helpers "$n"
}

@test "--checkpoint refuses a bridge network before anything stops" {
	NET=bridge counter "$A28"
	before=$(ldocker "$A28" inspect -f '{{.State.StartedAt}}' "$C")
	DOCKER_HOST=$(lab_sock "$A28") run_dm 1 container "$C" --to "$B28" --checkpoint
	contains "$output" "uses network \"bridge\"" "names the network"
	contains "$output" "containerd #12141" "and the cause"
	refused "$A28" "$before" "$B28"
}

@test "--checkpoint refuses a TTY" {
	counter "$A28" -t
	before=$(ldocker "$A28" inspect -f '{{.State.StartedAt}}' "$C")
	DOCKER_HOST=$(lab_sock "$A28") run_dm 1 container "$C" --to "$B28" --checkpoint
	contains "$output" "has a TTY" "the reason"
	refused "$A28" "$before" "$B28"
}

@test "--checkpoint refuses a 20.10 destination: its CRIU cannot dump" {
	counter "$A28"
	before=$(ldocker "$A28" inspect -f '{{.State.StartedAt}}' "$C")
	DOCKER_HOST=$(lab_sock "$A28") run_dm 1 container "$C" --to node2 --checkpoint
	contains "$output" "the destination cannot checkpoint a process (CRIU)" "the reason"
	refused "$A28" "$before" node2
	no_helpers node2
	is "$(ldocker node2 images -q docker-migrate/helper)" "" "the probe's helper image is gone"
}

@test "--checkpoint refuses a 20.10 source: its CRIU cannot dump" {
	counter node1
	before=$(ldocker node1 inspect -f '{{.State.StartedAt}}' "$C")
	run_dm 1 container "$C" --to "$B28" --checkpoint
	contains "$output" "cannot checkpoint $C on the source" "the reason"
	contains "$output" "it is running as before" "says the source runs"
	refused node1 "$before" "$B28"
}

@test "a restore that fails puts the source back, running from its own checkpoint" {
	counter "$A28"
	DOCKER_HOST=$(lab_sock "$A28")
	export DOCKER_HOST
	touch_file=$BATS_TEST_TMPDIR/resume
	DOCKER_MIGRATE_TEST_PAUSE_AT=restore DOCKER_MIGRATE_TEST_RESUME=$touch_file \
		bg_migrate container "$C" --to "$B28" --checkpoint
	wait_until in_output "test hook: paused in restore"
	# the checkpoint arrived; without its inventory CRIU cannot restore
	run lab_exec "$B28" sh -c 'rm -v /var/lib/docker/containers/*/checkpoints/docker-migrate-*/inventory.img'
	contains "$output" "inventory.img" "the carried checkpoint was there"
	touch "$touch_file"
	finish
	in_output "criu failed: type RESTORE"
	history_is "$C" rolled-back restore "restoring the copy from the checkpoint: *"
	is "$(ldocker "$A28" inspect -f '{{.State.Running}} {{.State.Paused}}' "$C")" "true false" \
		"the source runs again"
	last=$(ldocker "$A28" logs "$C" | tail -n 1)
	WAIT_TRIES=100 wait_until counted "$A28" $((last + 3))
	# restored, not restarted: its log goes on without starting over
	consecutive "$A28"
	is "$(ldocker "$B28" ps -aq)" "" "no copy left at the destination"
	no_checkpoints "$A28" "$B28"
	no_helpers "$A28"
	no_helpers "$B28"
}

@test "a run killed after the dump is finished by rollback ID: the source runs from its checkpoint" {
	counter "$A28"
	DOCKER_HOST=$(lab_sock "$A28")
	export DOCKER_HOST
	DOCKER_MIGRATE_TEST_PAUSE_AT=carry bg_migrate container "$C" --to "$B28" --checkpoint
	wait_until in_output "test hook: paused in carry"
	is "$(ldocker "$A28" inspect -f '{{.State.Running}}' "$C")" false "the dump stopped the source"
	kill -KILL "$(plugin_pid)"
	wait "$BG" || true
	id=$("$DM_BIN" history --format json | jq -r --arg o "$C" '[.[] | select(.object == $o)][-1].id')
	run_dm history "$id"
	contains "$output" "not undone (docker migrate rollback $id)" "the journal is left"
	run_dm rollback "$id"
	is "$(ldocker "$A28" inspect -f '{{.State.Running}} {{.State.Paused}}' "$C")" "true false" \
		"the source runs again"
	last=$(ldocker "$A28" logs "$C" | tail -n 1)
	WAIT_TRIES=100 wait_until counted "$A28" $((last + 3))
	consecutive "$A28"
	is "$(ldocker "$B28" ps -aq)" "" "no copy left at the destination"
	no_checkpoints "$A28" "$B28"
	no_helpers "$A28"
	run_dm rollback "$id"
	contains "$output" "nothing left to undo" "a second rollback has nothing to do"
}

@test "--checkpoint cannot be combined with --keep or --pause" {
	counter "$A28"
	before=$(ldocker "$A28" inspect -f '{{.State.StartedAt}}' "$C")
	DOCKER_HOST=$(lab_sock "$A28") run "$DOCKER" migrate container "$C" --to "$B28" --checkpoint --keep
	contains "$output" "it cannot be combined with --keep" "--keep"
	[ "$status" -ne 0 ]
	DOCKER_HOST=$(lab_sock "$A28") run "$DOCKER" migrate container "$C" --to "$B28" --checkpoint --pause
	contains "$output" "it cannot be combined with --pause" "--pause"
	[ "$status" -ne 0 ]
	refused "$A28" "$before" "$B28"
}
