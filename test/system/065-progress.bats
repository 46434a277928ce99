#!/usr/bin/env bats
# Progress: a bar on a terminal (tmux), plain lines into a file, nothing
# with -q; the report stays on stdout.

load helpers

setup_file() {
	dm_setup_file
	head -c 2000000 /dev/urandom >"$BATS_FILE_TMPDIR/rnd"
	printf 'FROM %s\nCOPY rnd /rnd\n' "$LAB_BASE_IMAGE" >"$BATS_FILE_TMPDIR/Dockerfile"
	ldocker node1 build -q -t dmt/prog:1 "$BATS_FILE_TMPDIR" >/dev/null
}
setup() { dm_setup; }
teardown() {
	tmux -L dmt-progress kill-server 2>/dev/null || true
	ldocker node2 rmi -f dmt/prog:1 >/dev/null 2>&1 || true
}
teardown_file() { lab_clean node1 node2 >/dev/null 2>&1 || true; }

@test "on a terminal, the transfer shows a bar with bytes and rate" {
	local pane i
	tmux -L dmt-progress new-session -d -x 160 -y 20 \
		"env DOCKER_CONFIG='$DOCKER_CONFIG' DOCKER_HOST='$DOCKER_HOST' \
		 DOCKER_MIGRATE_SSH_CONFIG='$DOCKER_MIGRATE_SSH_CONFIG' \
		 $DOCKER migrate image dmt/prog:1 --to node2 --strategy save; sleep 30"
	for ((i = 0; i < 100; i++)); do
		pane=$(tmux -L dmt-progress capture-pane -p)
		[[ $pane == *"completed image"* ]] && break
		sleep 0.2
	done
	echo "$pane"
	contains "$pane" "dmt/prog:1" "label"
	contains "$pane" "[========================================]" "a full bar"
	contains "$pane" "/s" "a rate"
	contains "$pane" "completed image dmt/prog:1" "the report"
}

@test "on a terminal, the default strategy (delta) shows a bar with total, percent, rate and time" {
	local pane i
	tmux -L dmt-progress new-session -d -x 160 -y 20 \
		"env DOCKER_CONFIG='$DOCKER_CONFIG' DOCKER_HOST='$DOCKER_HOST' \
		 DOCKER_MIGRATE_SSH_CONFIG='$DOCKER_MIGRATE_SSH_CONFIG' \
		 $DOCKER migrate image dmt/prog:1 --to node2; sleep 30"
	for ((i = 0; i < 100; i++)); do
		pane=$(tmux -L dmt-progress capture-pane -p)
		[[ $pane == *"completed image"* ]] && break
		sleep 0.2
	done
	echo "$pane"
	contains "$pane" "completed image dmt/prog:1" "the report"
	contains "$pane" "(strategy delta)" "the default strategy"
	# the export read against the image's size, and what was sent
	contains "$pane" "[========================================]" "a full bar"
	[[ $pane =~ [0-9.]+\ [kM]?B/[0-9.]+\ [kM]?B\ +100%\ +[0-9.]+\ [kM]?B/s\ in\ [0-9]+s,\ [0-9.]+\ [kM]?B\ sent ]] ||
		{ echo "FAIL: no 'read/total 100% rate in Ns, N sent'"; false; }
}

@test "piped, progress is plain lines on stderr and the report alone on stdout" {
	"$DOCKER" migrate image dmt/prog:1 --to node2 --strategy save \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	contains "$(cat "$BATS_TEST_TMPDIR/err")" "dmt/prog:1: " "a plain progress line"
	[[ $(cat "$BATS_TEST_TMPDIR/err") != *$'\r'* ]] || { echo "carriage returns in a file"; false; }
	is "$(head -n 1 "$BATS_TEST_TMPDIR/out")" "completed image dmt/prog:1*" "report on stdout"
	[[ $(cat "$BATS_TEST_TMPDIR/out") != *" sent ("* ]] || { echo "progress on stdout"; false; }
}

@test "-q shows no progress" {
	"$DOCKER" migrate image dmt/prog:1 --to node2 -q >/dev/null 2>"$BATS_TEST_TMPDIR/err"
	is "$(cat "$BATS_TEST_TMPDIR/err")" "" "nothing on stderr"
	run_dm 125 image dmt/prog:1 --to node2 --progress fancy
	contains "$output" 'invalid argument "fancy" for "--progress" flag' "bad mode refused"
	usage_error "migrate image" 'invalid argument "fancy" for "--progress" flag: must be one of "auto", "tty", "plain" or "none"'
}
