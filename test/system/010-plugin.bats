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

@test "an unknown subcommand or flag prints usage on stderr, exit 1" {
	run --separate-stderr "$DOCKER" migrate frobnicate
	is "$status" 1 "unknown subcommand exit status"
	is "$output" "" "nothing on stdout"
	contains "$stderr" 'unknown command: "frobnicate"' "names the command"
	run --separate-stderr "$DOCKER" migrate container --frob x
	is "$status" 1 "unknown flag exit status"
	contains "$stderr" "unknown flag: --frob" "names the flag"
	contains "$stderr" "Usage:  docker migrate container" "usage on stderr"
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
