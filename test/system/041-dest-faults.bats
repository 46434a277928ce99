#!/usr/bin/env bats
# Faults at the destination host while an image streams into its engine's
# load (the link slowed with tc so that the load lasts, and the fault
# injected once the engine stages the archive: no sleep decides): its sshd
# killed, its dockerd restarted, its disk full; and a destination where
# Docker does not run.  After each: history says failed or rolled-back with
# the step and the reason, the source runs as it did, the destination holds
# exactly what it held before (containers, images, layers, volumes,
# networks, the engine's temporary files), no temporary file is left.

load helpers
load fixtures/faults

APP=dmt/app:1

setup_file() {
	dm_setup_file
	# an image the destinations lack: a 1 MB random layer over the base
	app_image "$APP" 1000000
	# node3: a data root of 64 MB of its own, to fill up
	lab_ctl add node3 --disk 64 >/dev/null
}
teardown_file() {
	lab_ctl remove node3 >/dev/null 2>&1 || true
	lab_clean node1 node2 >/dev/null 2>&1 || true
}
setup() {
	dm_setup
	run_docker node1 run -d --name dmt-web --stop-timeout 1 "$APP" sleep 600
	SRC_BEFORE=$(src_state dmt-web)
}
teardown() {
	local n
	[ -n "${BATS_TEST_COMPLETED:-}" ] || [ ! -s "${OUT:-}" ] || { echo "--- output:"; cat "$OUT"; }
	for n in node2 node3; do
		lab_ctl shape "$n" off 2>/dev/null || true
		lab_ctl pid "$n" sshd >/dev/null || lab_ctl start-sshd "$n" || true
		lab_ctl pid "$n" dockerd >/dev/null || lab_ctl start-dockerd "$n" || true
	done
	lab_exec node3 rm -f /var/lib/docker/dmt-filler 2>/dev/null || true
	if [ -n "${BG:-}" ] && kill -0 "$BG" 2>/dev/null; then kill -KILL "$BG" 2>/dev/null || true; fi
	ldocker node1 rm -f dmt-web >/dev/null 2>&1 || true
	# a test that passed checked that the destination is as it was
	[ -n "${BATS_TEST_COMPLETED:-}" ] || lab_clean node2 node3 >/dev/null 2>&1 || true
}

# loading NODE: the node's engine stages an archive that is arriving
loading() {
	local root
	root=$(_lab_dir)/$1/docker
	if [ -d "$root/image" ]; then
		[ -n "$(ls -A "$root/tmp" 2>/dev/null)" ]
	else
		lab_exec "$1" sh -c '[ -n "$(ls -A /var/lib/docker/tmp 2>/dev/null)" ]'
	fi
}

# migrate_slowly NODE: start moving dmt-web to NODE over a 2 Mbit/s link
# (1 MB: some 4 s of load), and return once NODE's engine is loading it.
migrate_slowly() {
	lab_ctl shape "$1" 2mbit
	bg_migrate container dmt-web --to "$1"
	wait_until loading "$1"
}

# as_before NODE STATUS STEP REASON: what every test ends with
as_before() {
	history_is dmt-web "$2" "$3" "$4"
	is "$(src_state dmt-web)" "$SRC_BEFORE" "the source as it was"
	unchanged "$1"
	no_local_temp
}

@test "the destination's sshd killed mid-transfer: the rollback reconnects when it is back" {
	remember node2
	migrate_slowly node2
	# the listener and its sessions: the link drops at once
	lab_ctl stop-sshd node2
	lab_ctl shape node2 off
	# the rollback retries for 30 s: let sshd come back only then
	wait_until in_output "reconnecting"
	lab_ctl start-sshd node2
	finish
	contains "$(cat "$OUT")" "reconnecting to clean up there" "the rollback reconnected"
	as_before node2 rolled-back transfer "*the SSH connection to root@$(lab_addr node2):22 was lost*"
}

@test "the destination's dockerd restarted mid-load: nothing half-loaded stays" {
	remember node2
	migrate_slowly node2
	lab_ctl restart-dockerd node2
	lab_ctl shape node2 off
	finish
	# the rollback waits (30 s at most) for the engine to answer again
	as_before node2 rolled-back transfer "cannot talk to the Docker engine at ssh://*: *is dockerd running there?)"
}

@test "the destination's disk fills up during the load: a clear reason, nothing half-loaded stays" {
	local df_before
	df_before=$(ldocker node3 system df --format '{{.Type}} {{.TotalCount}} {{.Size}}')
	remember node3
	migrate_slowly node3
	# the check saw room for the image; now leave less than it needs
	lab_exec node3 sh -c 'avail=$(df -Pk /var/lib/docker | awk "NR==2 {print \$4}");
		fallocate -l $(( (avail - 256) * 1024 )) /var/lib/docker/dmt-filler'
	lab_ctl shape node3 off
	finish
	contains "$(cat "$OUT")" "no space left on device" "says why"
	lab_exec node3 rm -f /var/lib/docker/dmt-filler
	as_before node3 rolled-back transfer "*no space left on device*"
	is "$(ldocker node3 system df --format '{{.Type}} {{.TotalCount}} {{.Size}}')" "$df_before" \
		"docker system df at the destination as before"
}

@test "a copy into an empty volume fails on a full disk: the volume is left empty, as it was" {
	run_docker node1 volume create dmt-pre
	run_docker node1 run --rm -v dmt-pre:/d "$LAB_BASE_IMAGE" sh -c '
		mkdir /d/sub && for i in 1 2 3 4 5 6 7 8; do
			dd if=/dev/urandom of=/d/sub/f$i bs=1M count=1 2>/dev/null
		done'
	run_docker node3 volume create --label keep=me dmt-pre
	local inspect_before
	inspect_before=$(api node3 /volumes/dmt-pre | jq -c '{Driver, Options, Labels}')
	remember node3
	# 2 MB left for 8 MB of incompressible files
	lab_exec node3 sh -c 'avail=$(df -Pk /var/lib/docker | awk "NR==2 {print \$4}");
		fallocate -l $(( (avail - 2048) * 1024 )) /var/lib/docker/dmt-filler'
	run_dm 1 volumes dmt-pre --to node3
	lab_exec node3 rm -f /var/lib/docker/dmt-filler
	contains "$output" "no space left on device" "says why"
	history_is dmt-pre rolled-back transfer "*no space left on device*"
	is "$(api node3 /volumes/dmt-pre | jq -c '{Driver, Options, Labels}')" "$inspect_before" \
		"the volume there, with its driver, options and labels"
	is "$(ldocker node3 run --rm -v dmt-pre:/v "$LAB_BASE_IMAGE" find /v)" "/v" \
		"the volume there is empty, as it was"
	unchanged node3
	ldocker node1 volume rm dmt-pre >/dev/null
	ldocker node3 volume rm dmt-pre >/dev/null
}

@test "a destination where Docker does not run: one clear line, nothing changed" {
	lab_ctl stop-dockerd node3
	run_dm 1 container dmt-web --to node3
	one_line_error
	contains "$output" "cannot talk to the Docker engine at ssh://root@$(lab_addr node3):22" \
		"says the engine cannot be reached, and where"
	contains "$output" "/var/run/docker.sock" "says why (the remote dial-stdio's reason)"
	contains "$output" "(is dockerd running there?)" "says what to check"
	is "$(src_state dmt-web)" "$SRC_BEFORE" "the source as it was"
	lab_ctl start-dockerd node3
	is "$(ldocker node3 ps -aq)" "" "no container at the destination"
}
