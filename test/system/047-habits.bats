#!/usr/bin/env bats
# What a docker user tries first (issue 19): the stopped source after a
# move, a bad --ssh-config, --format json when the check fails, and the
# other habits of the docker CLI.

load helpers

setup_file() { dm_setup_file; }
setup() { dm_setup; }
teardown() {
	tmux -L dmt-habits kill-server 2>/dev/null || true
	[ -z "${NODE3:-}" ] || lab_ctl remove node3 >/dev/null 2>&1 || true
	ldocker node1 rmi dmt/hbig:1 >/dev/null 2>&1 || true
	ldocker node1 rm -f -v dmt-h >/dev/null 2>&1 || true
	ldocker node2 rm -f -v dmt-h >/dev/null 2>&1 || true
	ldocker node1 volume rm -f dmt-hvol >/dev/null 2>&1 || true
	ldocker node2 volume rm -f dmt-hvol >/dev/null 2>&1 || true
}

h_run() {
	run_docker node1 run -d --name dmt-h --stop-timeout 1 "$@" "$LAB_BASE_IMAGE" sleep 600
}

@test "after a move the report says the stopped source stays, and blocks a move back" {
	h_run
	run_dm container dmt-h --to node2
	contains "$output" "  at source     container dmt-h, stopped: remove it there (docker rm dmt-h) before a move back, or move with --remove-source" "what stays is said"
	is "$(ldocker node1 inspect -f '{{.State.Status}}' dmt-h)" exited "the source stays, stopped"
}

@test "--remove-source removes the stopped source once the copy runs; its volume stays" {
	run_docker node1 volume create dmt-hvol
	h_run -v dmt-hvol:/data
	run_dm container dmt-h --to node2 --remove-source
	contains "$output" "remove-source container dmt-h" "a step of the report"
	[[ $output != *"at source     "* ]] || { echo "FAIL: says the source stays"; false; }
	run ldocker node1 inspect dmt-h
	is "$status" 1 "no container dmt-h at the source"
	is "$(ldocker node2 inspect -f '{{.State.Status}}' dmt-h)" running "the copy runs"
	run_docker node1 volume inspect dmt-hvol
	local st
	st=$("$DM_BIN" history --format json | jq -r '[.[] | select(.object == "dmt-h")][-1] | .steps[] | select(.step == "remove-source") | .outcome')
	is "$st" done "history records the removal"
}

@test "--keep and --remove-source together: a usage error, exit 125" {
	h_run
	run_dm 125 container dmt-h --to node2 --keep --remove-source
	contains "$output" "docker: --keep and --remove-source contradict each other" "said"
	is "$(ldocker node1 inspect -f '{{.State.Status}}' dmt-h)" running "nothing changed"
}

@test "--ssh-config naming no file: a usage error, exit 125, nothing tried" {
	h_run
	run_dm 125 container dmt-h --to node2 --ssh-config /no/such/file
	is "${lines[0]}" 'docker: invalid argument "/no/such/file" for "--ssh-config" flag: No such file or directory' "one line that names it"
	[[ $output != *resolve* ]] || { echo "FAIL: it went on"; false; }
	run_dm 125 image "$LAB_BASE_IMAGE" --to node2 --ssh-config /no/such/file
}

@test "--format json prints the failed record on stdout when the check fails" {
	h_run
	run_docker node2 run -d --name dmt-h "$LAB_BASE_IMAGE" sleep 600
	local st=0
	"$DOCKER" migrate container dmt-h --to node2 --format json >"$BATS_TEST_TMPDIR/out" 2>/dev/null || st=$?
	output=$(cat "$BATS_TEST_TMPDIR/out")
	echo "$output"
	is "$st" 1 "the check failed"
	is "$(jq -r '.status + " " + .failed_step' <<<"$output")" "failed check" "a JSON record on stdout"
	contains "$(jq -r .error <<<"$output")" "dmt-h" "with its error"
}

@test "make install-user: man, bash, zsh and fish find what it installs" {
	local h=$BATS_TEST_TMPDIR/home repo
	repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	mkdir -p "$h/.local/bin"
	run env -u XDG_DATA_HOME -u XDG_CONFIG_HOME -u DOCKER_CONFIG HOME="$h" \
		make -s -C "$repo" install-user BIN="$DM_BIN"
	echo "$output"
	is "$status" 0 "installed"
	[ -x "$h/.docker/cli-plugins/docker-migrate" ]
	local path=$h/.docker/cli-plugins:$h/.local/bin:/usr/local/bin:/usr/bin:/bin
	# man-db: ~/.local/share/man, from ~/.local/bin in PATH
	run env -i HOME="$h" PATH="$path" man -w docker-migrate-container
	is "$output" "$h/.local/share/man/man1/docker-migrate-container.1" "man finds the page"
	# bash-completion loads it on demand, by the command's name
	run env -i HOME="$h" PATH="$path" bash --norc -c \
		'source /usr/share/bash-completion/bash_completion; __load_completion docker-migrate; complete -p docker-migrate'
	is "$output" "complete -F _docker_migrate_plugin docker-migrate" "bash finds it"
	# zsh: the directory the install names, in fpath
	run env -i HOME="$h" PATH="$path" zsh -f -c \
		'fpath=(~/.local/share/zsh/site-functions $fpath); autoload -Uz compinit; compinit -u -d "$HOME/zcd"; print -r -- ${_comps[docker-migrate]}'
	is "$output" "_docker-migrate" "zsh finds it"
	# fish loads ~/.config/fish/completions by itself; it asks the plugin
	run env -i HOME="$h" PATH="$path" fish -c 'complete -C "docker-migrate hist"'
	contains "$output" "history" "fish completes through it"
}

@test "an ssh:// source does not busy-loop while the source stops" {
	command -v strace >/dev/null || skip "strace is not installed"
	run_docker node1 volume create dmt-hvol
	# 4 s of stop (SIGTERM ignored), a volume: helpers' streams end
	# while the link waits
	run_docker node1 run -d --name dmt-h --stop-timeout 4 -v dmt-hvol:/data \
		"$LAB_BASE_IMAGE" sh -c 'trap "" TERM; echo x > /data/a; while :; do sleep 1; done'
	# LeakSanitizer cannot run under ptrace: off for this run only (an
	# ASan build; nothing to the others)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		DOCKER_HOST="ssh://node1" strace -f -c -o "$BATS_TEST_TMPDIR/strace" \
		"$DM_BIN" migrate container dmt-h --to node2 -q >"$BATS_TEST_TMPDIR/out" 2>&1 ||
		{ cat "$BATS_TEST_TMPDIR/out"; false; }
	local polls
	polls=$(awk '$NF == "poll" { print $4 }' "$BATS_TEST_TMPDIR/strace")
	cat "$BATS_TEST_TMPDIR/strace" | head -8
	# it spun: some 60,000 polls a second of waiting; a poll that blocks
	# wakes a few times a second per thread
	[ -n "$polls" ] && [ "$polls" -lt 20000 ] ||
		{ echo "FAIL: $polls poll calls in one move"; false; }
}

# enc_key: the lab's key with a passphrase, and an ssh config that uses
# it; no ssh-agent.
enc_key() {
	cp "$LAB_SSH_KEY" "$BATS_TEST_TMPDIR/key"
	chmod 600 "$BATS_TEST_TMPDIR/key"
	ssh-keygen -q -p -P '' -N sesame -f "$BATS_TEST_TMPDIR/key" >/dev/null
	sed "s#IdentityFile .*#IdentityFile $BATS_TEST_TMPDIR/key#" "$LAB_SSH_CONFIG" >"$BATS_TEST_TMPDIR/ssh_config"
}

@test "a key with a passphrase and no agent, no terminal: said so, not 'refused'" {
	enc_key
	h_run
	run env -u SSH_AUTH_SOCK "$DOCKER" migrate container dmt-h --to node2 --dry-run \
		--ssh-config "$BATS_TEST_TMPDIR/ssh_config" </dev/null
	echo "$output"
	is "$status" 1 "it fails"
	contains "$output" "your key has a passphrase and was not loaded" "the reason"
	[[ $output != *refused* ]] || { echo "FAIL: says refused"; false; }
}

@test "a key with a passphrase and no agent, on a terminal: asked, and it connects" {
	enc_key
	h_run
	local pane i
	tmux -L dmt-habits new-session -d -x 200 -y 30 \
		"env -u SSH_AUTH_SOCK DOCKER_CONFIG='$DOCKER_CONFIG' DOCKER_HOST='$DOCKER_HOST' \
		 $DOCKER migrate container dmt-h --to node2 --dry-run \
		 --ssh-config '$BATS_TEST_TMPDIR/ssh_config'; echo EXIT=\$?; sleep 30"
	for ((i = 0; i < 100; i++)); do
		pane=$(tmux -L dmt-habits capture-pane -p)
		[[ $pane == *"Enter passphrase for your key to root@"* ]] && break
		sleep 0.1
	done
	tmux -L dmt-habits send-keys sesame Enter
	for ((i = 0; i < 100; i++)); do
		pane=$(tmux -L dmt-habits capture-pane -p)
		[[ $pane == *"EXIT="* ]] && break
		sleep 0.1
	done
	tmux -L dmt-habits kill-server
	echo "$pane"
	contains "$pane" "Enter passphrase for your key to root@" "asked"
	[[ $pane != *sesame* ]] || { echo "FAIL: the passphrase was echoed"; false; }
	contains "$pane" "Plan: move container dmt-h" "connected"
	contains "$pane" "EXIT=0" "exit 0"
}

@test "docker migrate image checks the free space at the destination before sending" {
	# 64 MB of disk at node3, an image of some 80 MB
	NODE3=1
	lab_ctl add node3 --disk 64 >/dev/null
	head -c 80000000 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	printf 'FROM %s\nCOPY big /big\n' "$LAB_BASE_IMAGE" >"$BATS_TEST_TMPDIR/Dockerfile"
	DOCKER_BUILDKIT=0 ldocker node1 build -q --pull=false -t dmt/hbig:1 "$BATS_TEST_TMPDIR" >/dev/null
	rm -f "$BATS_TEST_TMPDIR/big"
	run_dm 1 image dmt/hbig:1 --to node3
	contains "$output" "not enough space at node3 for the image" "refused before sending"
	[[ $output != *"transfer failed"* ]] || { echo "FAIL: it began sending"; false; }
}

@test "volumes: a named volume a running container writes to is warned about" {
	run_docker node1 volume create dmt-hvol
	h_run -v dmt-hvol:/data
	run_dm volumes dmt-hvol --to node2 -q
	contains "$output" "warning: volume dmt-hvol is in use by the running container dmt-h: it may change while it is copied" "warned"
}

@test "volumes: --rename of a volume not copied is refused; no volume named: the usage" {
	run_docker node1 volume create dmt-hvol
	h_run -v dmt-hvol:/data
	run_dm 125 volumes dmt-hvol --to node2 --rename other=x
	is "${lines[0]}" "docker: --rename other=x: other is not among the volumes named" "named volumes"
	run_dm 1 volumes --container dmt-h --to node2 --rename other=x
	contains "$output" "--rename other=x: other is not among the volumes copied" "--container"
	run ldocker node2 volume inspect dmt-hvol
	is "$status" 1 "nothing copied"
	run_dm 125 volumes --to node2
	is "${lines[0]}" "docker: 'docker migrate volumes' requires at least 1 argument, or --container" "no volume"
}

@test "docker's own completion: --context and -H before migrate choose whose containers are offered" {
	# what "docker completion bash|zsh|fish" runs on <TAB>: the words
	# typed, global flags included; the CLI drops those flags when it
	# runs the plugin's __complete
	run_docker node2 run -d --name dmt-h "$LAB_BASE_IMAGE" sleep 600
	"$DOCKER" context rm -f dmt-hctx >/dev/null 2>&1 || true
	"$DOCKER" context create dmt-hctx --docker "host=$(lab_sock node2)" >/dev/null
	run "$DOCKER" __complete --context dmt-hctx migrate container dmt-h
	"$DOCKER" context rm -f dmt-hctx >/dev/null
	contains "$output" $'dmt-h\tUp ' "--context: node2's container"
	run "$DOCKER" __complete -H "$(lab_sock node2)" migrate container dmt-h
	contains "$output" $'dmt-h\tUp ' "-H: node2's container"
	# and without: node1's engine (DOCKER_HOST), which has none
	run "$DOCKER" __complete migrate container dmt-h
	is "$output" ":4" "no candidate from node1"
}

@test "small habits: -q is quiet about a present image; no \$USER: the login name; helpers named; Include'd hosts completed" {
	h_run
	run_dm container dmt-h --to node2 --keep -q
	[[ $output != *"is already at node2"* ]] || { echo "FAIL: -q printed the image line"; false; }
	ldocker node2 rm -f dmt-h >/dev/null
	# no $USER, no User in the config: the login name, as ssh(1)
	grep -v '^ *User ' "$LAB_SSH_CONFIG" >"$BATS_TEST_TMPDIR/cfg"
	run env -u USER "$DOCKER" migrate container dmt-h --to dmt-nosuchhost --ssh-config "$BATS_TEST_TMPDIR/cfg"
	contains "$output" "cannot reach $(id -un)@" "the login name"
	# a port in --to wins over the config's Port, as with ssh(1)
	run "$DOCKER" migrate container dmt-h --to node2:1
	contains "$output" "cannot reach root@$(lab_addr node2):1: " "--to's port"
	# helper containers say whose they are in docker ps
	run_docker node1 volume create dmt-hvol
	ldocker node1 rm -f dmt-h >/dev/null
	h_run -v dmt-hvol:/data
	local out=$BATS_TEST_TMPDIR/out i names=
	DOCKER_MIGRATE_TEST_PAUSE_AT=sync "$DOCKER" migrate container dmt-h --to node2 >"$out" 2>&1 &
	local bg=$!
	for ((i = 0; i < 300; i++)); do grep -q "paused in sync" "$out" && break; sleep 0.1; done
	names=$(ldocker node1 ps -a --filter label=org.docker-migrate.helper --format '{{.Names}}')
	kill -INT "$(pgrep -P "$bg" -x docker-migrate)"
	wait "$bg" || true
	[[ $names == docker-migrate-helper-* ]] || { echo "FAIL: helper named '$names'"; false; }
	# a host of a file the ssh config Includes
	mkdir -p "$BATS_TEST_TMPDIR/home/.ssh/conf.d"
	printf 'Include conf.d/*.conf\n' >"$BATS_TEST_TMPDIR/home/.ssh/config"
	printf 'Host dmt-included\n  HostName 192.0.2.1\n' >"$BATS_TEST_TMPDIR/home/.ssh/conf.d/a.conf"
	run env -u DOCKER_MIGRATE_SSH_CONFIG HOME="$BATS_TEST_TMPDIR/home" "$DOCKER" __complete migrate container dmt-h --to dmt-inc
	contains "$output" $'dmt-included\tssh config' "an Include'd host"
}
