#!/usr/bin/env bats
# --strategy registry: the source pushes to a registry, the destination
# pulls; the seeds' layouts (master's registry, source-side with
# --no-push); the tags it makes are removed; a registry that fails the
# pull (500, a blob whose digest does not match, through
# fixtures/registry-proxy.py) leaves nothing at the destination.

load helpers
load fixtures/faults
load fixtures/proxy

setup_file() { dm_setup_file; }
setup() {
	dm_setup
	printf 'FROM %s\nRUN echo reg-%s >/reg\n' "$LAB_BASE_IMAGE" "$BATS_TEST_NUMBER" |
		ldocker node1 build -q -t dmt/reg:1 - >/dev/null
	PIDS=()
}
teardown() {
	local p
	lab_ctl shape node2 off 2>/dev/null || true
	[ -n "${BG:-}" ] && kill -9 "$BG" 2>/dev/null || true
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	lab_clean node1 node2 >/dev/null 2>&1 || true
}

tags() { ldocker "$1" images --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' '; }

@test "push to the lab registry, pull at the destination, no tag left behind" {
	run_dm image dmt/reg:1 --to node2 --strategy registry --registry "$LAB_REGISTRY"
	contains "$output" "completed image dmt/reg:1" "report"
	is "$(ldocker node2 image inspect -f '{{.Id}}' dmt/reg:1)" \
		"$(ldocker node1 image inspect -f '{{.Id}}' dmt/reg:1)" "same image id"
	is "$(tags node1)" "$LAB_BASE_IMAGE dmt/reg:1 " "no registry tag at the source"
	is "$(tags node2)" "$LAB_BASE_IMAGE dmt/reg:1 " "no registry tag at the destination"
	run curl -fsS "http://$LAB_REGISTRY/v2/dmt/reg/tags/list"
	contains "$output" '"1"' "the image is in the registry"
}

@test "--no-push: the source-side registry already has it, only the pull runs" {
	run_docker node1 tag dmt/reg:1 "$LAB_REGISTRY/dmt/reg:1"
	run_docker node1 push "$LAB_REGISTRY/dmt/reg:1"
	run_docker node1 rmi "$LAB_REGISTRY/dmt/reg:1"
	run_dm image dmt/reg:1 --to node2 --strategy registry --registry "$LAB_REGISTRY" --no-push
	is "$(ldocker node2 image inspect -f '{{.Id}}' dmt/reg:1)" \
		"$(ldocker node1 image inspect -f '{{.Id}}' dmt/reg:1)" "same image id"
}

@test "--keep-tag leaves the registry tags" {
	run_dm image dmt/reg:1 --to node2 --strategy registry --registry "$LAB_REGISTRY" --keep-tag
	contains "$(tags node1)" "$LAB_REGISTRY/dmt/reg:1" "kept at the source"
	contains "$(tags node2)" "$LAB_REGISTRY/dmt/reg:1" "kept at the destination"
}

@test "a container moves through the registry" {
	run_docker node1 run -d --name dmt-rc --stop-timeout 1 dmt/reg:1 sleep 600
	run_dm container dmt-rc --to node2 --strategy registry --registry "$LAB_REGISTRY"
	run ldocker node2 exec dmt-rc cat /reg
	is "$output" "reg-$BATS_TEST_NUMBER" "runs on the pulled image"
}

@test "--registry is required by the registry strategy and refused by others: usage errors" {
	run_dm 125 image dmt/reg:1 --to node2 --strategy registry
	contains "$output" "needs --registry" "missing"
	usage_error "migrate image" "docker: --strategy registry needs --registry HOST[:PORT]"
	run_dm 125 image dmt/reg:1 --to node2 --registry "$LAB_REGISTRY"
	contains "$output" "are for --strategy registry" "misplaced"
	run_dm 125 container dmt-none --to node2 --strategy registry
	usage_error "migrate container" "docker: --strategy registry needs --registry HOST[:PORT]"
}

@test "a registry that is down fails clearly and leaves nothing at the destination" {
	local down=${LAB_REGISTRY%:*}:5999	# nothing listens there
	run_dm 1 image dmt/reg:1 --to node2 --strategy registry --registry "$down"
	contains "$output" "pushing $down/dmt/reg:1" "names the step"
	one_line_error
	run ldocker node2 image inspect dmt/reg:1
	is "$status" 1 "nothing at the destination"
	is "$(tags node1)" "$LAB_BASE_IMAGE dmt/reg:1 " "the source's temporary tag is removed"
}

@test "a registry tag the user made at the source is used, never moved or removed" {
	run_docker node1 tag dmt/reg:1 "$LAB_REGISTRY/dmt/reg:1"
	run_dm image dmt/reg:1 --to node2 --strategy registry --registry "$LAB_REGISTRY"
	contains "$(tags node1)" "$LAB_REGISTRY/dmt/reg:1" "the user's tag is still there"
	run_docker node2 rmi dmt/reg:1
	# now the name belongs to another image: it is not moved
	run_docker node1 tag "$LAB_BASE_IMAGE" "$LAB_REGISTRY/dmt/reg:1"
	run_dm 1 image dmt/reg:1 --to node2 --strategy registry --registry "$LAB_REGISTRY"
	contains "$output" "names another image" "refused"
	is "$(ldocker node1 image inspect -f '{{.Id}}' "$LAB_REGISTRY/dmt/reg:1")" \
		"$(ldocker node1 image inspect -f '{{.Id}}' "$LAB_BASE_IMAGE")" "the tag still names the base"
}

# pull_fault MODE: the image in the lab registry (the user's tag there),
# pulled at the destination through the proxy in MODE (--no-push: the
# proxy forwards reads only); the migration fails with nothing left.
pull_fault() {
	app_image dmt/reg:1 1500000	# a layer over 1 MiB: the proxy breaks those
	run_docker node1 tag dmt/reg:1 "$LAB_REGISTRY/dmt/reg:1"
	run_docker node1 push "$LAB_REGISTRY/dmt/reg:1"
	run_docker node1 rmi "$LAB_REGISTRY/dmt/reg:1"
	start_proxy "$1"
	remember node1 node2
	run_dm 1 image dmt/reg:1 --to node2 --strategy registry --registry "$PROXY" --no-push
	one_line_error
	settled node2
	unchanged node1
	is "$(registry_tags dmt/reg)" "1" "the user's tag in the registry is left alone"
}

@test "a registry answering 500 during the pull fails clearly, nothing at the destination" {
	pull_fault 500
	contains "$output" "pulling $PROXY/dmt/reg:1 at" "names the step"
	contains "$output" "500" "the registry's answer"
	history_is dmt/reg:1 rolled-back transfer "pulling*500*"
}

@test "a blob whose digest does not match is refused, nothing half-loaded at the destination" {
	pull_fault flip
	contains "$output" "pulling $PROXY/dmt/reg:1 at" "names the step"
	contains "$output" "verification failed" "says why"
	history_is dmt/reg:1 rolled-back transfer "pulling*verification failed*"
}

@test "Ctrl-C mid-pull: rolled back, every tag the migration made removed, the registry's too" {
	app_image dmt/regint:1 4000000
	remember node1 node2
	lab_ctl shape node2 2mbit
	bg_migrate image dmt/regint:1 --to node2 --strategy registry --registry "$LAB_REGISTRY"
	WAIT_TRIES=600 wait_until growing "$LAB_DIR/node2/docker/tmp"
	interrupt plugin
	finish
	history_is dmt/regint:1 rolled-back transfer "*interrupted*"
	settled node2
	unchanged node1
	ldocker node1 rmi dmt/regint:1 >/dev/null
	is "$(registry_tags dmt/regint)" "" "no tag of the migration left in the registry"
	no_local_temp
}
