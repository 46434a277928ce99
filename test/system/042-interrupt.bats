#!/usr/bin/env bats
# Ctrl-C at each phase of a container migration, both ways the plugin can
# be told: SIGINT to the plugin itself, and SIGINT to the docker CLI, which
# then closes DOCKER_CLI_PLUGIN_SOCKET.  The phases without a natural
# duration are held by the plugin's test hook (DOCKER_MIGRATE_TEST_PAUSE_AT:
# it says "paused in PHASE" and waits for the cancellation), so the signal
# lands in the phase asked for, never by a sleep's luck; the phase then runs
# cancelled.  Two more tests interrupt work under way: a slowed image
# transfer, and a source that takes seconds to stop.  After each: history
# says rolled-back (failed, in check) with the step and "interrupted", the
# source is as it was, node2 holds what it held, no temporary file is left.

load helpers
load fixtures/faults

APP=dmt/app:1

setup_file() {
	dm_setup_file
	# an image node2 lacks: a 1 MB random layer over the base
	app_image "$APP" 1000000
}
teardown_file() {
	lab_clean node1 node2 >/dev/null 2>&1 || true
}
setup() { dm_setup; }
teardown() {
	[ -n "${BATS_TEST_COMPLETED:-}" ] || [ ! -s "${OUT:-}" ] || { echo "--- output:"; cat "$OUT"; }
	slow_off node2
	uncut node2
	if [ -n "${BG:-}" ] && kill -0 "$BG" 2>/dev/null; then kill -KILL "$BG" 2>/dev/null || true; fi
	ldocker node1 rm -f -v dmt-web dmt-db dmt-slow dmt-svc >/dev/null 2>&1 || true
	ldocker node1 volume rm -f dmt-vol >/dev/null 2>&1 || true
	# a test that passed checked that node2 is as it was
	[ -n "${BATS_TEST_COMPLETED:-}" ] || lab_clean node2 >/dev/null 2>&1 || true
}

slow() { lab_ctl shape "$1" "$2"; }
slow_off() { lab_ctl shape "$1" off; }

# A running container of $APP (stateless: no volume, no change in its layer).
web() {
	run_docker node1 run -d --name dmt-web --stop-timeout 1 "$APP" sleep 600
}

# A running container with a volume holding 300 kB (copied while it runs,
# then synced after the stop).
db() {
	run_docker node1 volume create dmt-vol
	run_docker node1 run --rm -v dmt-vol:/data "$LAB_BASE_IMAGE" \
		sh -c 'echo hello > /data/a && head -c 300000 /dev/urandom > /data/b'
	run_docker node1 run -d --name dmt-db --stop-timeout 1 -v dmt-vol:/data "$APP" sleep 600
}

# interrupted NAME STATUS STEP: the checks every test ends with.
interrupted() {
	contains "$(cat "$OUT")" "interrupted" "says why"
	history_is "$1" "$2" "$3" "*interrupted"
	is "$(src_state "$1")" "$SRC_BEFORE" "the source as it was"
	unchanged node2
	no_local_temp
}

# at_phase PHASE NAME STATUS [ARGS...]: migrate NAME, held in PHASE by the
# test hook, interrupted there both ways in turn.
at_phase() {
	local phase=$1 name=$2 st=$3 how
	shift 3
	SRC_BEFORE=$(src_state "$name")
	remember node2
	for how in plugin cli; do
		echo "# Ctrl-C in $phase, to the $how"
		DOCKER_MIGRATE_TEST_PAUSE_AT=$phase bg_migrate container "$name" --to node2 "$@"
		wait_until in_output "test hook: paused in $phase"
		interrupt "$how"
		finish
		interrupted "$name" "$st" "$phase"
	done
}

@test "Ctrl-C in check: failed in check, nothing changed" {
	web
	at_phase check dmt-web failed
}

@test "Ctrl-C in transfer: rolled back, no image at the destination" {
	web
	at_phase transfer dmt-web rolled-back
}

@test "Ctrl-C in create: rolled back" {
	web
	at_phase create dmt-web rolled-back
}

@test "Ctrl-C in start: rolled back, the copy removed" {
	web
	at_phase start dmt-web rolled-back
}

@test "Ctrl-C in stop-source: rolled back, the source still runs" {
	web
	at_phase stop-source dmt-web rolled-back
}

@test "Ctrl-C in precopy (a container with a volume): rolled back, no volume left" {
	db
	at_phase precopy dmt-db rolled-back
}

@test "Ctrl-C in sync, the source already stopped: rolled back, the source restarted" {
	db
	at_phase sync dmt-db rolled-back
}

@test "Ctrl-C while the image streams into the destination's load" {
	web
	SRC_BEFORE=$(src_state dmt-web)
	remember node2
	local how
	for how in plugin cli; do
		# 1 MB at 2 Mbit/s: some 4 s of load; interrupted once the
		# destination engine stages the archive
		slow node2 2mbit
		bg_migrate container dmt-web --to node2
		wait_until lab_exec node2 sh -c 'ls -A /var/lib/docker/tmp | grep -q .'
		interrupt "$how"
		finish
		slow_off node2
		interrupted dmt-web rolled-back transfer
	done
}

@test "Ctrl-C while the source stops: the stop is seen through, then undone" {
	# a source that takes its stop timeout (4 s) to stop, and says when
	# the stop began
	run_docker node1 run -d --name dmt-slow --stop-timeout 4 "$APP" \
		sh -c 'trap "echo got-term" TERM; while :; do sleep 1; done'
	SRC_BEFORE=$(src_state dmt-slow)
	local started
	started=$(ldocker node1 inspect -f '{{.State.StartedAt}}' dmt-slow)
	remember node2
	bg_migrate container dmt-slow --to node2
	wait_until sh -c "$DOCKER -H $(lab_sock node1) logs dmt-slow 2>&1 | grep -q got-term"
	interrupt plugin
	finish
	# the engine goes on with a stop it began: the rollback must start
	# the source after the stop ended, not while it still ran (the start
	# would be a no-op, and the stop would then leave the source down)
	local now
	now=$(ldocker node1 inspect -f '{{.State.Status}} {{.State.StartedAt}}' dmt-slow)
	[[ $now == "running "* && $now != "running $started" ]] ||
		{ echo "FAIL: the source was not restarted after its stop: $now (started $started)"; false; }
	interrupted dmt-slow rolled-back stop-source
}

# --- Ctrl-C twice (issue 19: the second used to kill the plugin, leaving
# the source stopped and its copy not started) ---

# A service with a volume: busybox's httpd serves the volume's file a.
svc() {
	run_docker node1 volume create dmt-vol
	run_docker node1 run --rm -v dmt-vol:/data "$LAB_BASE_IMAGE" \
		sh -c 'echo hello > /data/a && head -c 300000 /dev/urandom > /data/b'
	run_docker node1 run -d --name dmt-svc --stop-timeout 1 -v dmt-vol:/data \
		"$APP" httpd -f -p 8080 -h /data
}

# answers NODE: dmt-svc serves "hello" there.
answers() {
	local ip
	ip=$(ldocker "$1" inspect -f '{{.NetworkSettings.IPAddress}}' dmt-svc 2>/dev/null) || return 1
	[ -n "$ip" ] && [ "$(lab_exec "$1" curl -fsS -m 5 "http://$ip:8080/a")" = hello ]
}

# twice plugin|group: Ctrl-C to the plugin alone, or as a terminal sends
# it, to the process group (the CLI, which then closes the plugin's
# socket, and the plugin).
twice() {
	local p
	p=$(plugin_pid)
	[ -n "$p" ] || { echo "no plugin process under $BG" >&2; return 1; }
	case $1 in
	plugin) kill -INT "$p" ;;
	group) kill -INT "$BG" "$p" ;;
	esac
}

# twice_at_phase PHASE: migrate dmt-svc held in PHASE, Ctrl-C there, and
# once more while the rollback is held by the test hook (it lets go on
# that second Ctrl-C).  Afterwards the service answers at the source,
# history says rolled-back in PHASE, and the status is 130.
twice_at_phase() {
	local phase=$1 how
	SRC_BEFORE=$(src_state dmt-svc)
	remember node2
	for how in plugin group; do
		echo "# Ctrl-C twice in $phase, to the $how"
		DOCKER_MIGRATE_TEST_PAUSE_AT=$phase,rollback bg_migrate container dmt-svc --to node2
		wait_until in_output "test hook: paused in $phase"
		twice "$how"
		wait_until in_output "docker migrate: interrupted: "
		wait_until in_output "test hook: paused in rollback"
		twice "$how"
		wait_until in_output "docker migrate: interrupted again, still "
		finish
		# (the CLI, itself interrupted, may give its own status)
		[ "$how" = group ] || is "$FINISH_RC" 130 "the status of an interrupt"
		interrupted dmt-svc rolled-back "$phase"
		answers node1 || { echo "FAIL: the service does not answer at node1"; false; }
	done
}

@test "Ctrl-C twice in transfer: rolled back, the service answers" {
	svc
	twice_at_phase transfer
}

@test "Ctrl-C twice in precopy: rolled back, the service answers" {
	svc
	twice_at_phase precopy
}

@test "Ctrl-C twice in create: rolled back, the service answers" {
	svc
	twice_at_phase create
}

@test "Ctrl-C twice in stop-source: rolled back, the service answers" {
	svc
	twice_at_phase stop-source
}

@test "Ctrl-C twice in sync (the source stopped): restarted, the service answers" {
	svc
	twice_at_phase sync
}

@test "Ctrl-C twice in start: the copy removed, the service answers" {
	svc
	twice_at_phase start
}

@test "Ctrl-C twice while the source stops: says what it waits for, the stop seen through, the source started again" {
	run_docker node1 volume create dmt-vol
	run_docker node1 run -d --name dmt-svc --stop-timeout 4 -v dmt-vol:/data "$APP" \
		sh -c 'echo hello > /data/a; trap "echo got-term" TERM; httpd -p 8080 -h /data; while :; do sleep 1; done'
	wait_until answers node1
	SRC_BEFORE=$(src_state dmt-svc)
	remember node2
	bg_migrate container dmt-svc --to node2
	wait_until sh -c "$DOCKER -H $(lab_sock node1) logs dmt-svc 2>&1 | grep -q got-term"
	twice group
	# said at once, not after the stop's 4 s: the line names the wait
	wait_until in_output "docker migrate: interrupted: waiting for the engine to finish stopping the source (up to 4 s)"
	twice group
	wait_until in_output "docker migrate: interrupted again, still waiting for the engine to finish stopping the source"
	finish
	interrupted dmt-svc rolled-back stop-source
	wait_until answers node1
}

@test "--stop-timeout: the source gets that long, and a terminal is told" {
	# a process that ignores SIGTERM: the engine kills it after -t
	run_docker node1 run -d --name dmt-slow --stop-timeout 600 "$APP" \
		sh -c 'trap "" TERM; while :; do sleep 1; done'
	# without -t the container's own 600 s would hold it past the bound
	run timeout 120 "$DOCKER" migrate container dmt-slow --to node2 -t 1 --progress tty
	echo "$output"
	is "$status" 0 "the move ends"
	contains "$output" "Stopping dmt-slow at the source (up to 1 s)..." "the wait is said"
	is "$(ldocker node2 inspect -f '{{.State.Status}}' dmt-slow)" running "the copy runs"
	# the engine's kill after -t: SIGKILL
	is "$(ldocker node1 inspect -f '{{.State.ExitCode}}' dmt-slow)" 137 "killed after -t"
	ldocker node2 rm -f dmt-slow >/dev/null
}

@test "Ctrl-C twice before anything changed (the destination not reached yet): the command ends at once" {
	# node2 drops everything: the SSH connection waits for its timeout
	cut node2
	bg_migrate image "$APP" --to node2
	# its SYN to node2's sshd goes unanswered
	wait_until sh -c "ss -Htn state syn-sent dst $(lab_addr node2) | grep -q ."
	interrupt plugin
	wait_until in_output "docker migrate: interrupted: "
	interrupt plugin
	finish || true
	uncut node2
	is "$FINISH_RC" 130 "the status of an interrupt"
	[[ $(tail -n 1 "$OUT") == "docker migrate: interrupted" ]] ||
		{ echo "FAIL: it did not end at the second Ctrl-C"; false; }
	[[ $(cat "$OUT") != *"cannot reach"* ]] || { echo "FAIL: it waited for the connection"; false; }
}
