#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# The plugin as the Docker CLI sees it: discovery, metadata, help, exit
# codes, and the engine it resolves from the CLI's flags and contexts.

load helpers

setup_file() { dm_setup_file; }
setup() { dm_setup; }

@test "the docker CLI lists the plugin in its help" {
	run "$DOCKER" --help
	is "$status" 0 "docker --help"
	contains "$output" "migrate*" "migrate is listed as a plugin command"
	contains "$output" "Move containers, images and volumes" "with its description"
}

@test "metadata is the JSON the CLI expects" {
	run "$DM_BIN" docker-cli-plugin-metadata
	is "$status" 0 "metadata exit status"
	run jq -r '.SchemaVersion + " " + .Vendor + " " + .Version' <<<"$output"
	is "$output" "0.1.0 docker-migrate 0.1.0" "SchemaVersion, Vendor, Version"
}

@test "docker migrate alone and --help print usage on stdout, exit 0" {
	run_dm
	contains "$output" "Usage:  docker migrate COMMAND" "usage"
	contains "$output" "container" "lists the container command"
	for sub in container image history version; do
		run_dm $sub --help
		contains "$output" "Usage:  docker migrate $sub" "$sub --help"
	done
}

@test "an unknown subcommand or flag prints docker's short usage on stderr, exit 125" {
	run --separate-stderr "$DOCKER" migrate frobnicate
	is "$status" 125 "unknown subcommand exit status"
	is "$output" "" "nothing on stdout"
	contains "$stderr" 'unknown command: docker migrate frobnicate' "names the command"
	output=$stderr usage_error migrate "docker: unknown command: docker migrate frobnicate"
	run --separate-stderr "$DOCKER" migrate container --frob x
	is "$status" 125 "unknown flag exit status"
	is "$output" "" "nothing on stdout"
	contains "$stderr" "unknown flag: --frob" "names the flag"
	contains "$stderr" "Usage:  docker migrate container" "usage on stderr"
	output=$stderr usage_error "migrate container" "unknown flag: --frob"
	run --separate-stderr "$DOCKER" migrate --frob container
	is "$status" 125 "unknown global flag exit status"
	output=$stderr usage_error migrate "unknown flag: --frob"
	# the CLI hands its -H over in front of "migrate" (an ASan build
	# fails here if what it holds leaks)
	run --separate-stderr "$DOCKER" -H "$LAB_NODE1_SOCK" migrate --frob container
	is "$status" 125 "unknown flag after -H exit status"
	output=$stderr usage_error migrate "unknown flag: --frob"
}

@test "each usage error is one line of docker's form, exit 125, nothing done" {
	local -a cases=(
		"migrate container|container|docker: 'docker migrate container' requires at least 1 argument"
		"migrate project|project|docker: 'docker migrate project' requires 1 argument"
		"migrate project|project a b --to node2|docker: 'docker migrate project' requires 1 argument"
		"migrate image|image --to node2|docker: 'docker migrate image' requires at least 1 argument"
		"migrate history|history a b|docker: 'docker migrate history' accepts at most 1 argument"
		"migrate rollback|rollback|docker: 'docker migrate rollback' requires 1 argument"
		"migrate version|version extra|docker: 'docker migrate version' accepts no arguments"
		"migrate volumes|volumes --to node2|docker: 'docker migrate volumes' requires at least 1 argument, or --container"
		"migrate volumes|volumes v --container c --to node2|docker: name volumes, or give --container, not both"
		"migrate volumes|volumes v --to node2 --rename v|docker: --rename takes SRC=DST, not \"v\""
		"migrate image|image i|docker: 'docker migrate image' requires --to HOST"
		"migrate container|container c --to node2 --start-timeout|flag needs an argument: --start-timeout"
		"migrate container|container c --to node2 --start-timeout 0|invalid argument \"0\" for \"--start-timeout\" flag: must be between 1 and 86400"
		"migrate container|container c --to node2 --checkpoint-timeout 1.5m|invalid argument \"1.5m\" for \"--checkpoint-timeout\" flag: not a duration (90, 90s, 2m, 1h30m)"
		"migrate container|container c --to node2 --verify sometimes|invalid argument \"sometimes\" for \"--verify\" flag: must be one of \"all\", \"stat\", \"full\" or \"precopy\""
		"migrate container|container c --to node2 --bind-mounts share|invalid argument \"share\" for \"--bind-mounts\" flag: must be one of \"refuse\", \"copy\" or \"skip\""
		"migrate container|container c --to node2 --volumes=maybe|invalid argument \"maybe\" for \"--volumes\" flag: not a boolean"
		"migrate history|history --format yaml|invalid argument \"yaml\" for \"--format\" flag: must be one of \"json\", \"table\" or a template (\"{{.ID}}\\t{{.Status}}\")"
	)
	local c path args msg before
	before=$(dm_json history --format json | jq length)
	for c in "${cases[@]}"; do
		IFS='|' read -r path args msg <<<"$c"
		# shellcheck disable=SC2086
		run --separate-stderr "$DOCKER" migrate $args
		is "$status" 125 "exit status of docker migrate $args"
		is "$output" "" "nothing on stdout from docker migrate $args"
		output=$stderr usage_error "$path" "$msg"
	done
	is "$(dm_json history --format json | jq length)" "$before" "no migration was recorded"
}

@test "help is wrapped to the terminal, aligned in one column, defaults written one way" {
	local col line lines80 lines120 text
	# the column of the descriptions: where --to's starts
	COLUMNS=80 run_dm container --help
	lines80=$(wc -l <<<"$output")
	line=$(grep -E '^      --to HOST ' <<<"$output")
	text=${line#*--to HOST}
	col=$(( ${#line} - ${#text} + $(expr "$text" : ' *') ))
	while IFS= read -r line; do
		(( ${#line} < 80 )) || { echo "FAIL: longer than 79: $line" >&2; return 1; }
	done <<<"$output"
	# every flag's description starts at the column; the lines that
	# continue one are indented exactly to it
	while IFS= read -r line; do
		if [[ $line =~ ^(\ \ -[a-z],\ |\ {6})--[a-z-]+(\ [A-Z=]+)?\ + ]]; then
			is "${#BASH_REMATCH[0]}" "$col" "description column of: $line"
		else
			is "$(expr "$line" : ' *')" "$col" "continuation indent of: $line"
		fi
	done < <(sed -n '/^Options:/,/^$/p' <<<"$output" | sed '1d;/^$/d')
	# nothing is cut: --verify's lines put back together
	text=$(sed -n '/^      --verify WHEN/,/^      --pause/p' <<<"$output" | sed '$d' |
		cut -c $((col + 1))- | tr '\n' ' ')
	contains "$text" "(full), or nothing more (precopy) (default \"all\")" "--verify's whole text"
	# defaults: one form, and --volumes=false is documented
	contains "$output" '(default "delta")' "an enum's default"
	contains "$output" "and be healthy (default 60)" "a number's default"
	contains "$(tr -s ' \n' '  ' <<<"$output")" "--volumes=false leaves them behind (default true)" "a true boolean's default, and how to turn it off"
	for bad in "(default:" "(60)" "delta (default)"; do
		[[ $output != *"$bad"* ]] || { echo "FAIL: a default written as $bad" >&2; return 1; }
	done
	# wider: longer lines, fewer of them
	COLUMNS=120 run_dm container --help
	lines120=$(wc -l <<<"$output")
	(( lines120 < lines80 )) || { echo "FAIL: $lines120 lines at 120 columns, $lines80 at 80" >&2; return 1; }
	grep -qE '^.{80,119}$' <<<"$output" || { echo "FAIL: no line over 79 columns at 120" >&2; return 1; }
	# not a terminal, no COLUMNS: 80
	unset COLUMNS
	run_dm container --help
	is "$(wc -l <<<"$output")" "$lines80" "80 columns when not a terminal"
	# a terminal 100 wide (script(1) gives the plugin a pty)
	run script -qec "stty cols 100 rows 50; '$DOCKER' migrate container --help" /dev/null
	is "$status" 0 "help on a terminal"
	grep -qE '^.{80,99}.?$' <<<"${output//$'\r'/}" || { echo "FAIL: no line over 79 columns on a 100-column tty" >&2; return 1; }
	while IFS= read -r line; do
		(( ${#line} < 100 )) || { echo "FAIL: longer than 99 on the tty: $line" >&2; return 1; }
	done <<<"${output//$'\r'/}"
}

@test "docker migrate help COMMAND and docker help migrate COMMAND print the command's help" {
	local want
	want=$("$DOCKER" migrate container --help)
	contains "$want" "Usage:  docker migrate container" "container --help"
	run_dm help container
	is "$output" "$want" "docker migrate help container"
	run "$DOCKER" help migrate container
	is "$status" 0 "docker help migrate container exit status"
	is "$output" "$want" "docker help migrate container"
	run "$DOCKER" help migrate
	is "$status" 0 "docker help migrate exit status"
	is "$output" "$("$DOCKER" migrate --help)" "docker help migrate"
	run --separate-stderr "$DOCKER" migrate help frob
	is "$status" 125 "unknown help topic exit status"
	output=$stderr usage_error migrate "docker: unknown help topic: frob"
}

@test "volume and images are other names of volumes and image" {
	run_dm volume --help
	is "$output" "$("$DOCKER" migrate volumes --help)" "volume --help"
	contains "$output" $'Aliases:\n  docker migrate volumes, docker migrate volume\n' "the alias in the help"
	run_dm images --help
	is "$output" "$("$DOCKER" migrate image --help)" "images --help"
	contains "$output" $'Aliases:\n  docker migrate image, docker migrate images\n' "the alias in the help"
	ldocker node1 volume create dmt-alias-vol >/dev/null
	run_dm volume dmt-alias-vol --to node2 --dry-run
	contains "$output" "dmt-alias-vol" "docker migrate volume runs the volumes command"
	ldocker node1 volume rm dmt-alias-vol >/dev/null
	run_dm images "$LAB_BASE_IMAGE" --to node2 --dry-run
	contains "$output" "Plan: copy 1 image(s)" "docker migrate images runs the image command"
	run "$DM_BIN" __completeNoDesc volume --ren
	is "$(head -n 1 <<<"$output")" "--rename" "completion knows the alias"
}

@test "version shows the engine that -H resolves" {
	run_dm version
	contains "$output" "docker-migrate 0.1.0" "plugin version"
	contains "$output" "Source engine:      $LAB_NODE1_SOCK (Docker 20.10" "DOCKER_HOST's engine"
	run "$DOCKER" -H "$LAB_NODE2_SOCK" migrate version
	is "$status" 0 "-H exit status"
	contains "$output" "$LAB_NODE2_SOCK" "-H wins over DOCKER_HOST"
}

@test "version follows a context made by docker context create" {
	"$DOCKER" context create dmt-n2 --docker "host=$LAB_NODE2_SOCK" >/dev/null
	unset DOCKER_HOST
	run_dm --context dmt-n2 version
	contains "$output" "Source engine:      $LAB_NODE2_SOCK" "--context"
	"$DOCKER" context use dmt-n2 >/dev/null
	run_dm version
	contains "$output" "$LAB_NODE2_SOCK" "currentContext in config.json"
	DOCKER_CONTEXT=default run_dm -H "$LAB_NODE1_SOCK" version
	contains "$output" "$LAB_NODE1_SOCK" "-H gives the default context"
	"$DOCKER" context use default >/dev/null
	"$DOCKER" context rm -f dmt-n2 >/dev/null
}

@test "an ssh:// context reaches a lab host's engine over SSH" {
	unset DOCKER_HOST
	"$DOCKER" context create dmt-ssh --docker "host=ssh://root@node2" >/dev/null
	run_dm --context dmt-ssh version
	contains "$output" "Source engine:      ssh://root@node2 (Docker 20.10" "engine over ssh"
	"$DOCKER" context rm -f dmt-ssh >/dev/null
}

@test "an unreachable engine is named in a one-line error, exit 1" {
	run_dm 1 -H tcp://127.0.0.1:1 version
	contains "$output" "tcp://127.0.0.1:1" "names the address"
	one_line_error
	run_dm 1 --context no-such-context version
	contains "$output" 'context "no-such-context" does not exist' "unknown context"
	run_dm 1 --context x -H "$LAB_NODE1_SOCK" version
	contains "$output" "conflicting options" "--context and -H together"
}

@test "the destination's engine is reached over SSH" {
	run_dm version --to node2
	contains "$output" "Destination engine: ssh://root@$LAB_NODE2_ADDR:22 (Docker 20.10" "engine of node2"
}

@test "an unknown host key is refused" {
	local cfg="$BATS_TEST_TMPDIR/ssh_config"
	: >"$BATS_TEST_TMPDIR/empty_known_hosts"
	sed "s|$LAB_KNOWN_HOSTS|$BATS_TEST_TMPDIR/empty_known_hosts|" "$LAB_SSH_CONFIG" >"$cfg"
	DOCKER_MIGRATE_SSH_CONFIG=$cfg run_dm 1 version --to node2
	contains "$output" "host key of root@$LAB_NODE2_ADDR:22 is unknown" "refused"
	one_line_error
}

@test "a changed host key is refused" {
	local cfg="$BATS_TEST_TMPDIR/ssh_config" kh="$BATS_TEST_TMPDIR/known_hosts"
	ssh-keygen -q -t ed25519 -N '' -f "$BATS_TEST_TMPDIR/other" >/dev/null
	printf '%s %s\nnode2 %s\n' "$LAB_NODE2_ADDR" "$(cut -d' ' -f1-2 "$BATS_TEST_TMPDIR/other.pub")" \
		"$(cut -d' ' -f1-2 "$BATS_TEST_TMPDIR/other.pub")" >"$kh"
	sed "s|$LAB_KNOWN_HOSTS|$kh|" "$LAB_SSH_CONFIG" >"$cfg"
	DOCKER_MIGRATE_SSH_CONFIG=$cfg run_dm 1 version --to node2
	contains "$output" "has CHANGED" "refused"
}

@test "malformed destinations are refused before any connection" {
	for to in 'user@' 'host:22:extra' 'host:99999' 'a;rm -rf /' '$(id)' 'ssh://h/x'; do
		run_dm 1 version --to "$to"
		contains "$output" "invalid destination" "--to '$to'"
		one_line_error
	done
}

@test "completion goes through the docker CLI" {
	run "$DOCKER" __complete migrate co
	contains "$output" "container" "subcommand"
	run "$DOCKER" __complete migrate container --strategy ""
	contains "$output" "save" "strategies"
	run "$DOCKER" __complete migrate container --to ""
	contains "$output" "node2" "hosts from the ssh config"
}

@test "completion of --flag=value and without descriptions" {
	run "$DOCKER" __complete migrate container --strategy=
	contains "$output" "--strategy=delta" "value after ="
	run "$DM_BIN" __completeNoDesc container --str
	is "$(head -n 1 <<<"$output")" "--strategy" "no description"
}
