#!/usr/bin/env bats
# docker migrate history as docker's list commands (issue 19): newest
# first, a SOURCE column, -q, --last, --filter, --format table|json|
# TEMPLATE, "history prune"; and no lock file left behind by a move.

load helpers

setup_file() {
	dm_setup_file
	export DOCKER_CONFIG="$DM_CONFIG"
	export DOCKER_MIGRATE_SSH_CONFIG="$LAB_SSH_CONFIG"
	unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
	# three moves: node1 -> node2, node2 -> node1, one that fails
	ldocker node1 run -d --name dmt-ha "$LAB_BASE_IMAGE" sleep 600 >/dev/null
	ldocker node2 run -d --name dmt-hb "$LAB_BASE_IMAGE" sleep 600 >/dev/null
	ldocker node2 run -d --name dmt-hc "$LAB_BASE_IMAGE" sleep 600 >/dev/null
	ldocker node1 run -d --name dmt-hc "$LAB_BASE_IMAGE" sleep 600 >/dev/null
	DOCKER_HOST=$(lab_sock node1) "$LAB_DOCKER" migrate container dmt-ha --to node2 --keep >/dev/null 2>&1
	DOCKER_HOST=$(lab_sock node2) "$LAB_DOCKER" migrate container dmt-hb --to node1 --keep >/dev/null 2>&1
	# dmt-hc exists at node1 already: the check fails
	! DOCKER_HOST=$(lab_sock node2) "$LAB_DOCKER" migrate container dmt-hc --to node1 >/dev/null 2>&1
}
teardown_file() { lab_clean node1 node2 >/dev/null 2>&1 || true; }
setup() { dm_setup; }

@test "the table: newest first, with a SOURCE column" {
	run_dm history
	is "${#lines[@]}" 4 "a header and three moves"
	[[ ${lines[0]} =~ ^ID\ +STARTED\ +STATUS\ +KIND\ +OBJECT\ +SOURCE\ +DESTINATION\ +STRATEGY\ +TIME\ +SENT\ +ERROR$ ]] ||
		{ echo "FAIL: header: ${lines[0]}"; false; }
	contains "${lines[1]}" "  failed  " "the newest first"
	contains "${lines[1]}" " dmt-hc " "the newest first"
	contains "${lines[2]}" " dmt-hb   $(lab_sock node2)   node1 " "its source: node2"
	contains "${lines[3]}" " dmt-ha   $(lab_sock node1)   node2 " "its source: node1"
}

@test "-q and --last N: the ids, newest first" {
	local ids
	ids=$("$DM_BIN" history --format json | jq -r 'reverse | .[].id')
	run_dm history -q
	is "$output" "$ids" "-q: the ids, newest first"
	run_dm history -q --last 2
	is "$output" "$(head -n 2 <<<"$ids")" "--last 2: the two newest"
	run_dm history -n 1
	is "${#lines[@]}" 2 "-n 1: a header and one move"
}

@test "--filter status=, source=, dest=: keys AND, a key repeated OR" {
	run_dm history --format '{{.Object}}' --filter status=completed
	is "$output" "dmt-hb
dmt-ha" "status=completed"
	run_dm history --format '{{.Object}}' --filter source=node2
	is "$output" "dmt-hc
dmt-hb" "source=node2 (a part of it)"
	run_dm history --format '{{.Object}}' --filter source=node2 --filter status=completed
	is "$output" "dmt-hb" "two keys: both"
	run_dm history --format '{{.Object}}' --filter dest=node2 --filter dest=node1 --filter status=failed
	is "$output" "dmt-hc" "a key twice: either"
	run_dm 125 history --filter color=red
	contains "${lines[0]}" 'invalid argument "color=red" for "-f, --filter" flag' "an unknown key"
}

@test "--format: a template, table TEMPLATE, {{json .}}, json" {
	run_dm history --format '{{.Object}}\t{{.Status}}\t{{.Destination}}' --last 1
	is "$output" $'dmt-hc\tfailed\tnode1' "fields with tabs"
	run_dm history --format 'table {{.Object}}\t{{.Kind}}' --last 1
	is "$output" "OBJECT   KIND
dmt-hc   container" "a header, columns aligned"
	run_dm history --format '{{json .}}' --last 1
	is "$(jq -r '.object + " " + .status + " " + .failed_step' <<<"$output")" "dmt-hc failed check" "one record as JSON on a line"
	run_dm history --format '{{json .Error}}' --last 1
	is "$(jq -r . <<<"$output")" 'check: a container named "dmt-hc" already exists at node1: remove it there first' "a field as a JSON string"
	run_dm history --format json
	is "$(jq -r '[.[].object] | join(",")' <<<"$output")" "dmt-ha,dmt-hb,dmt-hc" "json: the records, oldest first"
	run_dm 125 history --format '{{.Colour}}'
	contains "${lines[0]}" '{{.Colour}} is not {{.Field}}' "an unknown field"
}

@test "history prune: asks; --force removes finished records; filters" {
	local before
	before=$("$DM_BIN" history -q | wc -l)
	run "$DM_BIN" history prune <<<"n"
	is "$status" 0 "no is no error"
	contains "$output" "Are you sure you want to continue? [y/N]" "asked"
	is "$("$DM_BIN" history -q | wc -l)" "$before" "nothing removed on no"
	local failed
	failed=$("$DM_BIN" history -q --filter status=failed)
	run_dm history prune --force --filter status=failed
	is "$output" "Deleted Migrations:
$failed

Total: 1 record removed" "one removed, named"
	is "$("$DM_BIN" history --format '{{.Object}}')" "dmt-hb
dmt-ha" "the failed one is gone"
	run "$DM_BIN" history prune <<<"y"
	contains "$output" "Total: 2 records removed" "y: the rest"
	is "$("$DM_BIN" history -q)" "" "none left"
}

@test "no lock file is left behind by moves" {
	run ls -A "$DM_CONFIG/migrate/locks"
	is "$output" "" "the locks directory is empty"
}
