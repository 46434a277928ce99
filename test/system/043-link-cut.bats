#!/usr/bin/env bats
# A link that goes silent while an image moves, with each strategy that
# streams through the plugin's SSH link (save, delta, layers): noticed
# within the stall timeout (5 s here), the migration rolled back, nothing
# half-loaded at the destination, history saying where and why.

load helpers
load fixtures/faults

APP=dmt/cut:1

setup_file() {
	dm_setup_file
	# 4 MB of random bytes over the base: some 16 s at 2 Mbit/s
	app_image "$APP" 4000000
}
teardown_file() {
	ldocker node1 rmi -f "$APP" "$LAB_REGISTRY/$APP" >/dev/null 2>&1 || true
}
setup() { dm_setup; }
teardown() {
	uncut node2
	[ -n "${BG:-}" ] && kill -9 "$BG" 2>/dev/null || true
	ldocker node2 rmi -f "$APP" >/dev/null 2>&1 || true
}

# cut_mid_transfer STRATEGY [ARGS...]: start the copy on a slow link, cut
# it once bytes flow, and check what issue 7 asks after a fault.
cut_mid_transfer() {
	remember node2
	lab_ctl shape node2 2mbit
	DOCKER_MIGRATE_STALL_TIMEOUT=5 bg_migrate image "$APP" --to node2 \
		--strategy "$@" --progress plain
	# bytes are on the way: a progress line with a rate
	wait_until grep -q "^$APP: [0-9.]* [kM]B sent" "$OUT"
	cut node2
	WAIT_TRIES=600 wait_until in_output "rolling back"
	uncut node2
	finish
	history_is "$APP" rolled-back transfer "*"
	run ldocker node2 image inspect "$APP"
	is "$status" 1 "no image at the destination"
	settled node2
	no_local_temp
}

@test "save: a link that goes silent mid-transfer is noticed and rolled back" {
	cut_mid_transfer save
}

@test "delta: a link that goes silent mid-transfer is noticed and rolled back" {
	cut_mid_transfer delta
}

@test "layers: a link that goes silent mid-transfer is noticed and rolled back" {
	cut_mid_transfer layers --registry "$LAB_REGISTRY"
	is "$(ldocker node1 images --format '{{.Repository}}' | grep -c "$LAB_REGISTRY")" 0 \
		"the registry tag is removed at the source"
}
