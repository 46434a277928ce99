#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Shell completion as a user meets it: bash, zsh and fish run in a detached
# tmux session with a clean rc and a home of their own, a command line is
# typed, Tab pressed, and the screen read back.  Each shell twice: with the
# Docker CLI's own completion ("docker completion SHELL"), which asks the
# plugin through "docker __complete", and with our stand-alone script from
# completions/, loaded as its header says, next to Debian's older docker
# completion that knows nothing of plugins.

load helpers

COMPLETIONS=$(cd "$BATS_TEST_DIRNAME/../../completions" && pwd)
CONTAINER=dmt-complete-me
CONTAINER2=dmt-complete-n2

setup_file() {
	dm_setup_file
	# containers for name completion: on the source engine (node1), and
	# on node2 for "docker -H node2's engine migrate ..."
	ldocker node1 rm -f "$CONTAINER" >/dev/null 2>&1 || true
	ldocker node1 run -d --name "$CONTAINER" "$LAB_BASE_IMAGE" sleep 1d >/dev/null
	ldocker node2 rm -f "$CONTAINER2" >/dev/null 2>&1 || true
	ldocker node2 create --name "$CONTAINER2" "$LAB_BASE_IMAGE" true >/dev/null
}

teardown_file() {
	ldocker node1 rm -f "$CONTAINER" >/dev/null 2>&1 || true
	ldocker node2 rm -f "$CONTAINER2" >/dev/null 2>&1 || true
}

setup() {
	dm_setup
	HOME_DIR=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME_DIR"
}

teardown() {
	# the tmux server of this test, and the shell in it
	tm kill-server 2>/dev/null || true
}

# tm ARGS...: tmux on a server of this test's own.
tm() {
	tmux -S "$BATS_TEST_TMPDIR/tmux.sock" "$@"
}

# need SHELL_NAME: skip unless the shell (and bash-completion) is there.
need() {
	command -v tmux >/dev/null || skip "tmux is not installed"
	command -v "$1" >/dev/null || skip "$1 is not installed (scripts/deps.sh)"
	if [[ $1 == bash && ! -r /usr/share/bash-completion/bash_completion ]]; then
		skip "bash-completion is not installed (scripts/deps.sh)"
	fi
}

# shell_start SHELL MODE: SHELL (bash, zsh or fish) in tmux, with a clean
# rc (no system or user rc files; HOME is the test's) that loads the
# completion of MODE: "cli", the Docker CLI's own, or "ours", the
# stand-alone script.  The prompt is "READY> ".
shell_start() {
	local shell=$1 mode=$2 h=$HOME_DIR
	local -a cmd

	SHELL_NAME=$shell

	case $shell in
	bash)
		{
			echo "PS1='READY> '"
			echo "source /usr/share/bash-completion/bash_completion"
			if [[ $mode == cli ]]; then
				"$DOCKER" completion bash >"$h/docker.bash"
				echo "source '$h/docker.bash'"
			else
				echo "source '$COMPLETIONS/docker-migrate.bash'"
			fi
		} >"$h/.bashrc"
		: >"$h/.inputrc"
		cmd=(bash --noprofile --rcfile "$h/.bashrc" -i)
		;;
	zsh)
		mkdir -p "$h/.zfunc"
		{
			echo "PROMPT='READY> '"
			if [[ $mode == cli ]]; then
				"$DOCKER" completion zsh >"$h/.zfunc/_docker"
				echo "fpath=('$h/.zfunc' \$fpath)"
			else
				echo "fpath=('$COMPLETIONS' \$fpath)"
			fi
			echo "autoload -Uz compinit && compinit -u -d '$h/.zcompdump'"
			[[ $mode == cli ]] || echo "compdef _docker-migrate docker"
		} >"$h/.zshrc"
		cmd=(zsh -o no_global_rcs -i)
		;;
	fish)
		# generated_completions: no man page scan in the background
		mkdir -p "$h/.config/fish/completions" "$h/.local/share/fish/generated_completions"
		{
			echo "set -g fish_greeting"
			echo "function fish_prompt; echo -n 'READY> '; end"
			if [[ $mode == cli ]]; then
				"$DOCKER" completion fish >"$h/.config/fish/completions/docker.fish"
			else
				echo "source '$COMPLETIONS/docker-migrate.fish'"
			fi
		} >"$h/.config/fish/config.fish"
		cmd=(fish -i)
		;;
	esac
	# the plugin's directory in PATH: "docker-migrate" as a command too
	tm new-session -d -s sh -x 160 -y 50 -- env -i \
		HOME="$h" PATH="/usr/local/bin:/usr/bin:/bin:$DOCKER_CONFIG/cli-plugins" \
		TERM=screen LANG=C.UTF-8 ZDOTDIR="$h" INPUTRC="$h/.inputrc" \
		XDG_CONFIG_HOME="$h/.config" XDG_DATA_HOME="$h/.local/share" \
		DOCKER_CONFIG="$DOCKER_CONFIG" DOCKER_HOST="$DOCKER_HOST" \
		DOCKER_MIGRATE_SSH_CONFIG="$DOCKER_MIGRATE_SSH_CONFIG" \
		"${cmd[@]}"
	screen_wait "^READY>" "the $shell prompt" 20
}

# screen_wait REGEX WHAT [SECS]: wait until a line of the screen matches
# REGEX (grep -E), at most SECS (30: a busy machine, an ASan build, can be slow); fail
# showing the screen if none does.
screen_wait() {
	local re=$1 what=$2 secs=${3:-30} i screen

	for ((i = 0; i < secs * 10; i++)); do
		screen=$(tm capture-pane -p -t sh)
		if grep -qE -- "$re" <<<"$screen"; then
			return 0
		fi
		sleep 0.1
	done
	printf 'FAIL: %s: no line matches /%s/ after %s s; the screen:\n%s\n' \
		"$what" "$re" "$secs" "$screen" >&2
	return 1
}

# shell_idle: wait (10 s) until the shell runs no command: a Ctrl-C typed
# while a completion still runs one would stop that, not clear the line.
shell_idle() {
	local pid i

	pid=$(tm display-message -p -t sh '#{pane_pid}')
	for ((i = 0; i < 100; i++)); do
		pgrep -P "$pid" >/dev/null || return 0
		sleep 0.1
	done
	echo "FAIL: the shell still runs $(pgrep -a -P "$pid") after 10 s" >&2
	return 1
}

# empty_line: cancel what is typed (and a pager), clear the screen, and
# wait until it shows the empty prompt alone. Ctrl-C is a signal: the
# shell may act on it after keys sent later (CI saw a line typed after
# it cancelled), so a marker typed behind it must show before the line
# is cleared with keys the shell reads in order (C-u, C-l).  A screen
# read between C-l's clear and the prompt's redraw has no line at all:
# grep finds nothing, which is no failure (CI saw errexit end the test).
empty_line() {
	local try i screen marker

	for ((try = 0; try < 3; try++)); do
		shell_idle || return
		# bash and zsh take Ctrl-C as a signal, which they may act on
		# after later keys (CI saw it cancel the next typed line even
		# behind the marker): they get keys read in order; fish reads
		# Ctrl-C as a key, and needs it to close its pager
		if [[ $SHELL_NAME == fish ]]; then
			tm send-keys -t sh C-c
		else
			tm send-keys -t sh C-e C-u
		fi
		tm send-keys -t sh C-l
		marker="#sync$try$RANDOM"
		tm send-keys -t sh -l -- "$marker"
		for ((i = 0; i < 50; i++)); do
			screen=$(tm capture-pane -p -t sh | grep -v '^$' || true)
			[[ $screen == "READY> $marker"* ]] && break
			sleep 0.1
		done
		[[ $screen == "READY> $marker"* ]] || continue
		tm send-keys -t sh C-u
		tm send-keys -t sh C-l
		for ((i = 0; i < 50; i++)); do
			screen=$(tm capture-pane -p -t sh | grep -v '^$' || true)
			[[ $screen == "READY>" ]] && return 0
			sleep 0.1
		done
	done
	printf 'FAIL: no empty prompt after 3 tries; the screen:\n%s\n' "$screen" >&2
	return 1
}

# complete_line TEXT [TABS]: on an empty line, type TEXT and press Tab
# (TABS times, 1 by default: bash lists ambiguous candidates on the second).
complete_line() {
	local text=$1 tabs=${2:-1} i

	empty_line
	tm send-keys -t sh -l -- "$text"
	for ((i = 0; i < tabs; i++)); do
		sleep 0.2
		tm send-keys -t sh Tab
	done
}

# check_migrate_completion SHELL: the stories every shell must tell.
check_migrate_completion() {
	local tabs=1

	[[ $1 == bash ]] && tabs=2
	complete_line "docker migrate co"
	screen_wait '^READY> docker migrate container\b' "$1: co<TAB> completes the subcommand"
	complete_line "docker migrate container --str"
	screen_wait '^READY> docker migrate container --strategy\b' "$1: --str<TAB> completes the flag"
	complete_line "docker migrate container --strategy " "$tabs"
	screen_wait '(^|[[:space:]])delta[[:space:]].*\bsave\b' "$1: --strategy <TAB> lists the strategies"
	complete_line "docker migrate container dmt-com"
	screen_wait "^READY> docker migrate container $CONTAINER\\b" "$1: container names from node1's engine"
}

# check_script_extras SHELL: what the stand-alone scripts do besides.
check_script_extras() {
	# other docker command lines: the docker completion that was there
	complete_line "docker vers"
	screen_wait '^READY> docker version\b' "$1: docker vers<TAB> through the docker completion"
	# the plugin binary itself (its directory is in PATH)
	complete_line "docker-migrate hi"
	screen_wait '^READY> docker-migrate history\b' "$1: docker-migrate hi<TAB>"
	# the CLI drops -H from its completion request: the script says it
	# with DOCKER_HOST, so names come from node2's engine
	complete_line "docker -H $LAB_NODE2_SOCK migrate container dmt-complete-n"
	screen_wait "^READY> docker -H $LAB_NODE2_SOCK migrate container $CONTAINER2\\b" \
		"$1: -H selects the engine whose containers complete"
	# ":0" with no candidate: file names
	: >"$HOME_DIR/lab-ssh-config"
	complete_line "docker migrate container --ssh-config $HOME_DIR/lab-ssh-c"
	screen_wait "^READY> docker migrate container --ssh-config $HOME_DIR/lab-ssh-config\\b" \
		"$1: --ssh-config completes file names"
}

@test "bash, the Docker CLI's completion: subcommand, flag, strategies, containers" {
	need bash
	shell_start bash cli
	check_migrate_completion bash
}

@test "bash, our script: the same, and other docker command lines still complete" {
	need bash
	shell_start bash ours
	check_migrate_completion bash
	check_script_extras bash
	# ":4" with no candidate: no file names
	complete_line "docker migrate container --start-timeout $HOME_DIR/lab-ssh-c"
	sleep 0.2
	shell_idle
	run tm capture-pane -p -t sh
	contains "$output" "--start-timeout $HOME_DIR/lab-ssh-c" "the line is typed"
	if [[ $output == *"--start-timeout $HOME_DIR/lab-ssh-config"* ]]; then
		echo "FAIL: --start-timeout completed a file name" >&2
		return 1
	fi
}

@test "zsh, the Docker CLI's completion: subcommand, flag, strategies, containers" {
	need zsh
	shell_start zsh cli
	check_migrate_completion zsh
}

@test "zsh, our script: the same, and other docker command lines still complete" {
	need zsh
	shell_start zsh ours
	check_migrate_completion zsh
	check_script_extras zsh
}

@test "fish, the Docker CLI's completion: subcommand, flag, strategies, containers" {
	need fish
	shell_start fish cli
	check_migrate_completion fish
}

@test "fish, our script: the same, and other docker command lines still complete" {
	need fish
	shell_start fish ours
	check_migrate_completion fish
	check_script_extras fish
}
