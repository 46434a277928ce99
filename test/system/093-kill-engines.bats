#!/usr/bin/env bats
# The plugin killed outright (SIGKILL) while a container moves into an
# engine with the containerd image store (lab kind 28c), after that
# engine's load made the image: there the image's id is its manifest's
# digest, not the source's id, so the id the load will give it must be in
# the journal before the archive's end is sent.  "docker migrate rollback
# ID" then leaves both hosts as they were.

load helpers
load fixtures/faults

APP=dmt/app:1

setup_file() {
	dm_setup_file
	lab_ctl add node3 --engine 28c >/dev/null
	# an image node3 lacks, so that the transfer loads something
	app_image "$APP" 200000
}
teardown_file() {
	lab_ctl remove node3 >/dev/null 2>&1 || true
	lab_clean node1 node2 >/dev/null 2>&1 || true
}
setup() { dm_setup; }
teardown() {
	[ -n "${BATS_TEST_COMPLETED:-}" ] || [ ! -s "${OUT:-}" ] || { echo "--- output:"; cat "$OUT"; }
	if [ -n "${BG:-}" ] && kill -0 "$BG" 2>/dev/null; then kill -KILL "$BG" 2>/dev/null || true; fi
	ldocker node1 rm -f dmt-db >/dev/null 2>&1 || true
}

last_id() {
	"$DM_BIN" history --format json |
		jq -r '[.[] | select(.object == "dmt-db")][-1].id'
}

@test "killed once the containerd store loaded the image: the rollback removes it" {
	local id
	run_docker node1 run -d --name dmt-db --stop-timeout 1 "$APP" sleep 600
	SRC_BEFORE=$(src_state dmt-db)
	remember node1 node3
	DOCKER_MIGRATE_TEST_PAUSE_AT=loaded bg_migrate container dmt-db --to node3
	wait_until in_output "test hook: paused in loaded"
	# the load made it there, under an id of that store's own
	[ -n "$(ldocker node3 images -q "$APP")" ] || { echo "FAIL: $APP not loaded at node3"; false; }
	[ "$(ldocker node3 image inspect -f '{{.Id}}' "$APP")" != "$(ldocker node1 image inspect -f '{{.Id}}' "$APP")" ] ||
		{ echo "FAIL: the same id at both ends: not the case tested"; false; }
	kill -KILL "$(plugin_pid)"
	wait "$BG" || true
	id=$(last_id)
	run_dm history "$id"
	contains "$output" "interrupted   in transfer" "history ID: in transfer"
	contains "$output" "remove-image at the destination: $(ldocker node3 image inspect -f '{{.Id}}' "$APP")" \
		"the image the load made is named"
	run_dm rollback "$id"
	history_is dmt-db rolled-back transfer "interrupted: the process was killed"
	is "$(src_state dmt-db)" "$SRC_BEFORE" "the source as it was"
	unchanged node1
	# (the containerd store drops the content of a removed image when
	# its garbage collector runs)
	settled node3
}
