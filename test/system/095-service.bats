#!/usr/bin/env bats
# Swarm services: a swarm of three lab nodes (node1 the manager, node2 and
# node3 workers; overlay and ingress are not used: this kernel has no
# IPVS).  A replicated service of one replica whose task appends a line
# every 100 ms to a local volume moves from node2 to node3 with
# `docker migrate service`: its task then runs on node3, and every line
# written at node2 is at node3, in order, before the first line of the
# new task.  An interrupt in the downtime window puts the service back on
# node2 with its data; what cannot follow a task is refused before
# anything changes.

load helpers
load fixtures/faults

SVC=dmt-logger
VOL=dmt-logdata

setup_file() {
	dm_setup_file
	lab_ctl remove node3 >/dev/null 2>&1 || true
	lab_ctl add node3
	lab_env
	local tok
	ldocker node1 swarm init --advertise-addr "$LAB_NODE1_ADDR" >/dev/null
	tok=$(ldocker node1 swarm join-token -q worker)
	ldocker node2 swarm join --token "$tok" "$LAB_NODE1_ADDR:2377" >/dev/null
	ldocker node3 swarm join --token "$tok" "$LAB_NODE1_ADDR:2377" >/dev/null
}

teardown_file() {
	local n
	for n in node3 node2 node1; do
		ldocker "$n" swarm leave --force >/dev/null 2>&1 || true
	done
	lab_ctl remove node3 >/dev/null 2>&1 || true
}

setup() {
	dm_setup
	DOCKER_HOST=$(lab_sock node1)
	export DOCKER_HOST
	# by id: a swarm agent never asks a registry for an image named so
	BASE_ID=$(ldocker node1 image inspect -f '{{.Id}}' "$LAB_BASE_IMAGE")
}

teardown() {
	ldocker node1 service rm "$SVC" >/dev/null 2>&1 || true
	# the tasks' containers go with the service, then their volumes
	WAIT_TRIES=200 wait_until no_task_containers || true
	local n
	for n in node2 node3; do
		ldocker "$n" volume rm -f "$VOL" >/dev/null 2>&1 || true
	done
}

no_task_containers() {
	local n
	for n in node2 node3; do
		[[ -z $(ldocker "$n" ps -aq --filter "label=com.docker.swarm.service.name=$SVC") ]] ||
			return 1
	done
}

# An image only node2 has (node3 gets it from the move), by id: a swarm
# agent then never tries a registry.
node2_image() {
	local dir=$BATS_TEST_TMPDIR/img
	mkdir -p "$dir"
	printf 'FROM %s\nRUN echo svc > /svc-marker\n' "$LAB_BASE_IMAGE" >"$dir/Dockerfile"
	DOCKER_BUILDKIT=0 ldocker node2 build -q -t dmt-svc:1 "$dir" >/dev/null
	ldocker node2 image inspect -f '{{.Id}}' dmt-svc:1
}

# make_service IMAGE [ARGS...]: the logger on node2, running.
make_service() {
	local img=$1
	shift
	ldocker node1 service create --detach --name "$SVC" --no-resolve-image \
		--constraint node.hostname==node2 --restart-condition none \
		--mount "type=volume,src=$VOL,dst=/data" "$@" "$img" \
		sh -c 'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo $i >> /data/log; sleep 0.1; done' >/dev/null
	WAIT_TRIES=300 wait_until task_runs_on node2
	# some lines before the move
	WAIT_TRIES=100 wait_until log_has node2 5
}

task_node() {
	ldocker node1 service ps "$SVC" --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'
}

task_runs_on() { [[ $(task_node) == "$1 Running"* ]]; }

log_has() {
	local n
	n=$(ldocker "$1" run --rm -v "$VOL:/data" "$LAB_BASE_IMAGE" sh -c 'wc -l < /data/log' 2>/dev/null) || return 1
	((n >= $2))
}

vol_log() {
	ldocker "$1" run --rm -v "$VOL:/data" "$LAB_BASE_IMAGE" cat /data/log
}

@test "a service's task moves to another node with its volume, no line lost" {
	local img
	img=$(node2_image)
	ldocker node3 image inspect "$img" >/dev/null 2>&1 && {
		echo "node3 has the image already" >&2
		return 1
	}
	make_service "$img"

	run_dm service "$SVC" --to node3 --dry-run
	contains "$output" "Plan: move service $SVC (running) from node2 to node3"
	contains "$output" "precopy       volume $VOL"
	contains "$output" "stop-source   task of $SVC at node2"
	contains "$output" "sync          volume $VOL"
	is "$(ldocker node3 volume ls -q --filter name=$VOL)" "" "the dry run made nothing"

	run_dm service "$SVC" --to node3
	contains "$output" "completed service $SVC"
	task_runs_on node3
	ldocker node3 image inspect "$img" >/dev/null

	# the old task wrote no more once stopped: its log is the new one's
	# beginning, line for line
	local old new n
	old=$(vol_log node2)
	n=$(wc -l <<<"$old")
	((n >= 5))
	WAIT_TRIES=100 wait_until log_has node3 $((n + 3))
	new=$(vol_log node3)
	is "$(head -n "$n" <<<"$new")" "$old" "every line written at node2 is at node3"
	is "$(sed -n "$((n + 1))p" <<<"$new")" "1" "then the new task's first line"

	# placed by id, the other constraints kept away from the old node
	run ldocker node1 service inspect -f '{{json .Spec.TaskTemplate.Placement.Constraints}}' "$SVC"
	is "$output" "[\"node.id==$(ldocker node3 info -f '{{.Swarm.NodeID}}')\"]" "the placement"

	# history: one completed service move, its downtime measured
	run "$DM_BIN" history --format json
	is "$(jq -r '[.[] | select(.kind == "service")][-1] | "\(.status) \(.object)"' <<<"$output")" \
		"completed $SVC" "history"
	# no helper left on either node
	for n in node2 node3; do
		is "$(ldocker "$n" ps -aq --filter label=org.docker-migrate.helper)" "" "helpers at $n"
	done
}

@test "an interrupt in the downtime window puts the service back on its node, data untouched" {
	make_service "$BASE_ID"
	local before
	before=$(ldocker node1 service inspect -f '{{json .Spec}}' "$SVC")

	DOCKER_MIGRATE_TEST_PAUSE_AT=start bg_migrate service "$SVC" --to node3
	WAIT_TRIES=600 wait_until in_output "test hook: paused in start"
	interrupt plugin
	finish
	is "$FINISH_RC" 130 "an interrupt's status"
	history_is "$SVC" rolled-back start "interrupted*"

	# as it was, but for ForceUpdate: the rollback has the swarm make
	# the task anew (an ended task must not stand for its slot)
	is "$(ldocker node1 service inspect -f '{{json .Spec}}' "$SVC" | jq -cS 'del(.TaskTemplate.ForceUpdate)')" \
		"$(jq -cS 'del(.TaskTemplate.ForceUpdate)' <<<"$before")" "the spec as it was"
	WAIT_TRIES=300 wait_until task_runs_on node2
	# the data stayed at node2, and the task goes on appending to it
	local n
	n=$(vol_log node2 | wc -l)
	WAIT_TRIES=100 wait_until log_has node2 $((n + 3))
	run vol_log node2
	is "$(awk 'NR > 1 && $1 != p + 1 && $1 != 1 { print "gap at " NR } { p = $1 }' <<<"$output")" "" "no gap"
	# nothing left at node3: the volume the move made is gone
	is "$(ldocker node3 volume ls -q --filter name=$VOL)" "" "node3's volume removed"
	is "$(ldocker node3 ps -aq --filter label=org.docker-migrate.helper)" "" "no helper at node3"
}

@test "what cannot follow a task is refused before anything changes" {
	make_service "$BASE_ID"
	local spec
	spec=$(ldocker node1 service inspect -f '{{json .Spec}}' "$SVC")

	run_dm 1 service "$SVC" --to node2
	one_line_error "the task of $SVC runs on node2 already"
	run_dm 1 service "$SVC" --to nosuchnode
	contains "$output" "no swarm node nosuchnode"
	run_dm 1 service nosuchservice --to node3
	contains "$output" "no such service: nosuchservice"

	ldocker node1 service scale "$SVC=2" --detach >/dev/null
	run_dm 1 service "$SVC" --to node3
	contains "$output" "has several replicas"
	ldocker node1 service scale "$SVC=1" --detach >/dev/null

	# from a worker: services are a manager's
	DOCKER_HOST=$(lab_sock node2) run_dm 1 service "$SVC" --to node3
	contains "$output" "is a swarm worker"

	# nothing changed but the scale above, undone
	is "$(ldocker node1 service inspect -f '{{json .Spec}}' "$SVC")" "$spec" "the spec as it was"
	task_runs_on node2
	is "$(ldocker node3 volume ls -q --filter name=$VOL)" "" "nothing at node3"
}

@test "a service with an anonymous volume or a bind mount is refused, nothing changed" {
	ldocker node1 service create --detach --name "$SVC" --no-resolve-image \
		--constraint node.hostname==node2 --mount type=volume,dst=/anon \
		"$BASE_ID" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
	WAIT_TRIES=300 wait_until task_runs_on node2
	run_dm 1 service "$SVC" --to node3
	contains "$output" "cannot take its anonymous volume at /anon"
	task_runs_on node2
}

@test "a container moves to a swarm node named by its id, as the manager knows it" {
	local id
	id=$(ldocker node3 info -f '{{.Swarm.NodeID}}')
	ldocker node1 run -d --name dmt-plain "$BASE_ID" \
		sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
	run_dm container dmt-plain --to "$id"
	contains "$output" "completed container dmt-plain"
	is "$(ldocker node3 inspect -f '{{.State.Running}}' dmt-plain)" "true" "running at node3"
	ldocker node3 rm -f dmt-plain >/dev/null
	ldocker node1 rm -f dmt-plain >/dev/null

	# a name that is neither a host nor a node stays an SSH error
	ldocker node1 run -d --name dmt-plain "$BASE_ID" sleep 60 >/dev/null
	run_dm 1 container dmt-plain --to no-such-node-xyz
	one_line_error
	contains "$output" "no-such-node-xyz"
	ldocker node1 rm -f dmt-plain >/dev/null
}
