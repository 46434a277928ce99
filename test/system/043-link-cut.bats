#!/usr/bin/env bats
# A link that goes silent while an image moves, with each strategy that
# streams through the plugin's SSH link (save, delta, layers): noticed
# within the stall timeout (5 s here), the migration rolled back, nothing
# half-loaded at the destination, history saying where and why.  With the
# registry strategy, the links that go silent are the engines' own to the
# registry (the push's, the pull's), while the plugin's stay up: the
# engine's progress stream stops moving.

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
	uncut_registry node1
	uncut_registry node2
	lab_ctl shape node1 off 2>/dev/null || true
	[ -n "${BG:-}" ] && kill -9 "$BG" 2>/dev/null || true
	ldocker node2 rmi -f "$APP" >/dev/null 2>&1 || true
	ldocker node1 rmi -f "${REGAPP:-none}" >/dev/null 2>&1 || true
}

# cut_mid_transfer STRATEGY [ARGS...]: start the copy on a slow link, cut
# it once bytes flow, and check what issue 7 asks after a fault.
cut_mid_transfer() {
	remember node2
	lab_ctl shape node2 2mbit
	DOCKER_MIGRATE_STALL_TIMEOUT=5 bg_migrate image "$APP" --to node2 \
		--strategy "$@" --progress plain
	# bytes are on the way: a progress line with bytes ("N MB sent",
	# or "N MB/TOTAL (P%)" when the total is known)
	wait_until grep -qE "^$APP: [0-9.]+ [kM]B( sent|/)" "$OUT"
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
	local before
	before=$(registry_tags "${APP%:*}")
	cut_mid_transfer layers --registry "$LAB_REGISTRY"
	is "$(ldocker node1 images --format '{{.Repository}}' | grep -c "$LAB_REGISTRY")" 0 \
		"the registry tag is removed at the source"
	is "$(registry_tags "${APP%:*}")" "$before" "the registry holds the tags it held"
}

# registry_cut_mid push|pull: the registry strategy with the link between
# the source engine and the registry (push) or the destination engine and
# the registry (pull) cut once the layer's bytes flow; the plugin's links
# stay up.  A fresh image each time: no blob of it is in the registry.
registry_cut_mid() {
	local node=node1 repo=dmt/reg$1
	REGAPP=$repo:1
	app_image "$REGAPP" 4000000
	[ "$1" = pull ] && node=node2
	remember node1 node2
	lab_ctl shape "$node" 2mbit
	DOCKER_MIGRATE_STALL_TIMEOUT=5 bg_migrate image "$REGAPP" --to node2 \
		--strategy registry --registry "$LAB_REGISTRY"
	# the layer's bytes are on the way: in the registry's upload, or in
	# the file the destination engine downloads into
	if [ "$1" = push ]; then
		wait_until growing "$LAB_DIR/registry/data/docker/registry/v2/repositories/$repo/_uploads"
	else
		WAIT_TRIES=600 wait_until growing "$LAB_DIR/node2/docker/tmp"
	fi
	cut_registry "$node"
	WAIT_TRIES=600 wait_until in_output "rolling back"
	uncut_registry "$node"
	lab_ctl shape "$node" off
	finish
	history_is "$REGAPP" rolled-back transfer "$2*no progress for 5 s*"
	settled node1
	settled node2
	is "$(registry_tags "$repo")" "" "no tag of the migration left in the registry"
	no_local_temp
}

@test "registry: the source engine's link to the registry cut mid-push is noticed and rolled back" {
	registry_cut_mid push "pushing "
}

@test "registry: the destination engine's link to the registry cut mid-pull is noticed and rolled back" {
	registry_cut_mid pull "pulling "
}
