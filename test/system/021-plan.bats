#!/usr/bin/env bats
# The plan that --dry-run prints is the plan the run executes: for each
# kind of move, the steps of "--dry-run --format json" (kind and object,
# in order) are the steps the report of the real move lists as done, and
# the dry run's text names the same steps with the volume's size.

load helpers

setup_file() { dm_setup_file; }
setup() { dm_setup; }
teardown() {
	lab_clean node1 node2 >/dev/null 2>&1 || true
	lab_exec node1 rm -rf /run/dmt-pb >/dev/null 2>&1 || true
	lab_exec node2 rm -rf /run/dmt-pb >/dev/null 2>&1 || true
}

# planned NAME ARGS...: the dry run's steps, one "step object" a line.
planned() {
	local name=$1
	shift
	dm_json container "$name" --to node2 --dry-run --format json "$@" |
		jq -r '.steps[] | "\(.step) \(.object)"'
}

# moved NAME ARGS...: the move, its report's steps as above, each done.
moved() {
	local name=$1 rep
	shift
	rep=$(dm_json container "$name" --to node2 --format json "$@") || return
	is "$(jq -r '[.steps[] | select(.outcome != "done")] | length' <<<"$rep")" \
		0 "every step done"
	jq -r '.steps[] | "\(.step) \(.object)"' <<<"$rep"
}

# same NAME EXPECTED-KINDS ARGS...: the dry run lists EXPECTED-KINDS (the
# steps' kinds joined by ","), and the move executes exactly its steps.
same() {
	local name=$1 kinds=$2 plan ran
	shift 2
	plan=$(planned "$name" "$@") || return
	is "$(cut -d' ' -f1 <<<"$plan" | paste -sd,)" "$kinds" "the planned steps"
	ran=$(moved "$name" "$@") || return
	is "$ran" "$plan" "the run executed the plan's steps, in order"
}

volume_with() {	# NAME BYTES: a volume holding BYTES of random data
	run_docker node1 volume create "$1"
	run_docker node1 run --rm -v "$1":/d "$LAB_BASE_IMAGE" \
		sh -c "head -c $2 /dev/urandom > /d/blob"
}

@test "stateless, running: the copy runs before the source stops" {
	run_docker node1 run -d --name dmt-s --stop-timeout 1 "$LAB_BASE_IMAGE" sleep 600
	same dmt-s "check,transfer,create,start,stop-source"
}

@test "stateless, --keep: the source is never stopped" {
	run_docker node1 run -d --name dmt-k --stop-timeout 1 "$LAB_BASE_IMAGE" sleep 600
	same dmt-k "check,transfer,create,start" --keep
	is "$(ldocker node1 inspect -f '{{.State.Status}}' dmt-k)" running "source kept"
}

@test "a volume, running: pre-copy, create, stop, final pass, start; the size is planned" {
	volume_with dmt-pv 300000
	run_docker node1 run -d --name dmt-v --stop-timeout 1 -v dmt-pv:/d "$LAB_BASE_IMAGE" sleep 600
	run_dm container dmt-v --to node2 --dry-run
	contains "$output" "precopy       volume dmt-pv" "the text names the pre-copy"
	local size
	size=$(dm_json container dmt-v --to node2 --dry-run --format json |
		jq -r '.steps[] | select(.step == "precopy") | .bytes')
	[ "$size" -ge 300000 ] && [ "$size" -lt 310000 ] ||
		{ echo "planned $size bytes for a 300000-byte volume"; false; }
	same dmt-v "check,transfer,precopy,create,stop-source,sync,start"
}

@test "a volume, --pause: frozen for the final pass, stopped last" {
	volume_with dmt-pp 1000
	run_docker node1 run -d --name dmt-p --stop-timeout 1 -v dmt-pp:/d "$LAB_BASE_IMAGE" sleep 600
	same dmt-p "check,transfer,precopy,create,pause-source,sync,start,stop-source" --pause
}

@test "a volume, --keep: one whole copy, verified, the source kept" {
	volume_with dmt-pk 1000
	run_docker node1 run -d --name dmt-vk --stop-timeout 1 -v dmt-pk:/d "$LAB_BASE_IMAGE" sleep 600
	same dmt-vk "check,transfer,copy-volumes,verify,create,start" --keep
}

@test "a volume, stopped: one whole copy, verified, the copy not started" {
	volume_with dmt-ps 1000
	run_docker node1 create --name dmt-st -v dmt-ps:/d "$LAB_BASE_IMAGE" sleep 600
	same dmt-st "check,transfer,copy-volumes,verify,create"
	is "$(ldocker node2 inspect -f '{{.State.Status}}' dmt-st)" created "copy not started"
}

@test "a changed container layer: committed after the stop, the copy created from it" {
	run_docker node1 run -d --name dmt-r --stop-timeout 1 "$LAB_BASE_IMAGE" \
		sh -c 'echo changed > /etc/dmt-file; exec sleep 600'
	sleep 0.5
	same dmt-r "check,transfer,stop-source,rootfs,create,start"
	is "$(ldocker node2 exec dmt-r cat /etc/dmt-file)" changed "the layer arrived"
}

@test "a bind mount copied: a volume step for its path" {
	lab_exec node1 sh -c 'mkdir -p /run/dmt-pb && echo b > /run/dmt-pb/f'
	run_docker node1 run -d --name dmt-b --stop-timeout 1 -v /run/dmt-pb:/b "$LAB_BASE_IMAGE" sleep 600
	same dmt-b "check,transfer,precopy,create,stop-source,sync,start" --bind-mounts copy
}

@test "a failed move's report lists the steps it ran and the one that failed" {
	run_docker node1 run -d --name dmt-f --stop-timeout 1 \
		--health-cmd false --health-interval 1s --health-retries 1 \
		"$LAB_BASE_IMAGE" sleep 600
	run "$DOCKER" migrate container dmt-f --to node2 --start-timeout 20 --format json
	is "$status" 1 "the move failed"
	local rep
	rep=$("$DM_BIN" history --format json | jq -c '[.[] | select(.object == "dmt-f")][-1]')
	is "$(jq -r '[.steps[] | "\(.step)=\(.outcome)"] | join(",")' <<<"$rep")" \
		"check=done,transfer=done,create=done,start=failed,stop-source=planned" \
		"the steps and how each ended"
	is "$(jq -r .status <<<"$rep")" rolled-back "rolled back"
	is "$(jq -r '[.journal[] | select(.done | not)] | length' <<<"$rep")" 0 \
		"the journal applied whole"
}
