#!/usr/bin/env bats
# docker migrate project / container A B C: several containers in one move
# with one downtime window.  A real Compose project (docker compose v2,
# fixtures/project/compose.yaml: a db with a named volume, an app on a
# user network with depends_on and a healthcheck, a web front with a
# published port) goes from node1 to node2 and is still that project
# there; any failure in the window rolls every container back.

load helpers
load fixtures/faults

PROJ=dmproj
FIXDIR="${BATS_TEST_DIRNAME}/fixtures/project"

setup_file() {
	dm_setup_file
	"$DOCKER" compose version >/dev/null ||
		{ echo "no docker compose plugin: run scripts/deps.sh all as root" >&2; return 1; }
}

build_image() {
	printf 'FROM %s\nRUN mkdir -p /www && echo hello-from-the-project >/www/index.html\n' \
		"$LAB_BASE_IMAGE" | ldocker node1 build -q -t dmt/proj:1 - >/dev/null
}

setup() {
	dm_setup
	build_image
}

teardown() {
	if [ -n "${BG:-}" ] && kill -0 "$BG" 2>/dev/null; then kill -KILL "$BG" 2>/dev/null || true; fi
	lab_clean node1 node2 >/dev/null 2>&1 || true
}

# compose NODE ARGS...: the real docker compose against NODE's engine.
compose() {
	local node=$1
	shift
	(cd "$FIXDIR" && DOCKER_HOST=$(lab_sock "$node") "$DOCKER" compose -p "$PROJ" "$@")
}

state() {
	local s
	s=$(ldocker "$1" inspect -f '{{.State.Status}}' "$2" 2>/dev/null) || s=absent
	echo "$s"
}

# snapshot NODE: what exists on an engine
snapshot() {
	ldocker "$1" ps -a --format '{{.Names}} {{.Status}}' | sed 's/ Up .*/ up/; s/ Exited .*/ exited/' | sort
	ldocker "$1" volume ls -q | sort
	ldocker "$1" network ls --format '{{.Name}}' | sort
}

project_up() {
	run compose node1 up -d
	echo "$output"
	[[ $status -eq 0 ]]
	# the db's volume gets a known content, written while it runs
	run_docker node1 exec "$PROJ-db-1" sh -c 'seq 1 5000 >/data/numbers'
}

@test "a Compose project moves in one window and stays a Compose project there" {
	project_up
	run_dm project $PROJ --to node2 --dry-run
	contains "$output" "Compose project $PROJ (3 containers)" "dry-run names the project"
	contains "$output" "window: stop" "dry-run shows the window"
	contains "$output" "start order: $PROJ-db-1 $PROJ-app-1 $PROJ-web-1" "dependency order"
	is "$(grep -Ec ' transfer +image' <<<"$output")" 1 "one image, one transfer"
	contains "$output" "precopy       volume ${PROJ}_dbdata" "the volume, pre-copied"
	contains "$output" "copied while the source still runs" "a new volume there"
	local plan
	plan=$(dm_json project $PROJ --to node2 --dry-run --format json)
	is "$(jq -r '[.window[] | select(.step=="start") | .container] | join(",")' <<<"$plan")" \
		"$PROJ-db-1,$PROJ-app-1,$PROJ-web-1" "the JSON plan: starts in dependency order"
	is "$(jq '.containers | length' <<<"$plan")" 3 "the JSON plan: each container's own"
	is "$(snapshot node2 | grep -c "$PROJ")" 0 "the dry run changed nothing"

	local rep
	rep=$(dm_json project $PROJ --to node2 --format json)
	is "$(jq -r .status <<<"$rep")" completed "status"
	# one window: every source stop before the first start, the sources
	# that served meanwhile stopped only after every copy runs
	is "$(jq -r '[.steps[] | select(.step=="start" or .step=="stop-source") | .step + " " + (.object|split(":")[0])] | join(",")' <<<"$rep")" \
		"stop-source $PROJ-db-1,start $PROJ-db-1,start $PROJ-app-1,start $PROJ-web-1,stop-source $PROJ-app-1,stop-source $PROJ-web-1" \
		"stops, starts in dependency order, then the sources stopped"
	[[ $(jq -r .downtime_ms <<<"$rep") -gt 0 ]]

	run compose node2 ps --format '{{.Service}} {{.State}} {{.Health}}'
	is "$(sort <<<"$output" | tr '\n' ';')" "app running healthy;db running ;web running ;" \
		"docker compose ps at the destination"
	for s in db app web; do
		is "$(state node1 $PROJ-$s-1)" exited "$s stopped at the source"
	done
	lab_wait_http "http://$LAB_NODE2_ADDR:8080/index.html"
	run curl -fsS "http://$LAB_NODE2_ADDR:8080/index.html"
	is "$output" "hello-from-the-project" "the web front answers at node2"
	run_docker node2 exec $PROJ-db-1 sh -c 'wc -l </data/numbers; cat /data/log'
	is "$output" "5000"$'\n'"started"$'\n'"started" "the volume came, the db ran there"

	# Compose finds nothing to recreate: the labels and names were kept
	local before after
	before=$(ldocker node2 ps -q --no-trunc | sort)
	run compose node2 up -d
	echo "$output"
	is "$status" 0 "compose up -d"
	if grep -Eq 'Recreate|Creat(e|ing|ed)' <<<"$output"; then
		echo "compose recreated something" >&2
		return 1
	fi
	after=$(ldocker node2 ps -q --no-trunc | sort)
	is "$after" "$before" "the same containers run"
	run compose node2 logs db
	contains "$output" "db-ready" "docker compose logs at the destination"
	run compose node2 stop
	is "$status" 0 "compose stop"
	is "$(state node2 $PROJ-web-1)" exited "stopped by compose"
	run compose node2 down
	is "$status" 0 "compose down"
	is "$(ldocker node2 ps -aq | wc -l)" 0 "down removed them"
}

@test "several plain containers move together: container A B C" {
	run_docker node1 network create dmt-net
	run_docker node1 volume create dmt-vol
	run_docker node1 run -d --name ga --stop-timeout 1 --network dmt-net -v dmt-vol:/data \
		dmt/proj:1 sh -c 'echo a >/data/a; sleep 600'
	run_docker node1 run -d --name gb --stop-timeout 1 --network dmt-net dmt/proj:1 sleep 600
	run_docker node1 run -d --name gc --stop-timeout 1 -p 8081:80 dmt/proj:1 httpd -f -p 80 -h /www
	run_dm container ga gb gc --to node2
	contains "$output" "completed containers ga,gb,gc" "one report for the three"
	is "$(grep -c '^  downtime' <<<"$output")" 1 "one downtime window"
	for c in ga gb gc; do
		is "$(state node2 $c)" running "$c runs at node2"
		is "$(state node1 $c)" exited "$c stopped at node1"
	done
	run_docker node2 exec ga cat /data/a
	is "$output" a "the volume came"
	is "$(ldocker node2 inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' gb)" \
		dmt-net "the user network, created once"
	run_dm 1 container ga ga --to node2
	contains "$output" "container ga is named twice" "a name twice is refused"
}

@test "a start that fails in the window rolls every container back" {
	project_up
	# the app is not healthy within --start-timeout (its first check
	# comes after 2 s): its start fails after the db was stopped, synced
	# and started at node2
	local before1 before2
	before1=$(snapshot node1)
	before2=$(snapshot node2)
	run_dm 1 project $PROJ --to node2 --start-timeout 1
	contains "$output" "rolled-back project $PROJ" "rolled back"
	contains "$output" "start failed: $PROJ-app-1: the new container was not healthy after 1 s" "the app's start failed"
	grep -Eq "^  start +$PROJ-db-1: .* [0-9.]+ s " <<<"$output" ||
		{ echo "FAIL: the db's start did not run before" >&2; return 1; }
	is "$(snapshot node1)" "$before1" "the source as it was, every container running"
	is "$(snapshot node2)" "$before2" "nothing left at the destination"
	for s in db app web; do
		is "$(state node1 $PROJ-$s-1)" running "$s runs again at the source"
	done
	run_docker node1 exec $PROJ-db-1 sh -c 'wc -l </data/numbers'
	is "$output" 5000 "the volume untouched"
	run_dm history --format json
	is "$(jq -r '.[-1].status' <<<"$output")" rolled-back "history"
}

@test "a test hook pause in the window and Ctrl-C roll every container back" {
	project_up
	local before1 before2
	before1=$(snapshot node1)
	before2=$(snapshot node2)
	DOCKER_MIGRATE_TEST_PAUSE_AT=sync bg_migrate project $PROJ --to node2
	wait_until in_output "test hook: paused in sync"
	is "$(state node1 $PROJ-db-1)" exited "the db is stopped in the window"
	interrupt plugin
	finish
	is "$FINISH_RC" 130 "interrupted"
	run_dm history --format json
	is "$(jq -r '.[-1].status' <<<"$output")" rolled-back "history"
	is "$(snapshot node1)" "$before1" "every source as it was"
	is "$(snapshot node2)" "$before2" "nothing left at the destination"
}

@test "completion offers the source's Compose projects, each once" {
	project_up
	run "$DOCKER" __complete migrate project ""
	echo "$output"
	is "$(grep -c "^$PROJ"$'\t' <<<"$output")" 1 "the project, once for its three containers"
	contains "$output" ":4" "no file completion"
}

@test "a volume copied earlier by docker migrate volumes is brought up to date, not refused" {
	run_docker node1 volume create dmt-seed
	run_docker node1 run --rm -v dmt-seed:/d "$LAB_BASE_IMAGE" sh -c \
		'dd if=/dev/urandom of=/d/big bs=1k count=2048 2>/dev/null; echo one >/d/small; mkdir /d/sub; echo x >/d/sub/x'
	# a file changed in the second a copy begins is sent again (it may
	# have changed after it was read): the copy begins a second later
	sleep 1.1
	run_dm volumes dmt-seed --to node2
	contains "$output" "completed volumes dmt-seed" "the earlier copy"
	# a second later (mtimes are whole seconds), 20 kB new and one line more
	sleep 1.1
	run_docker node1 run -d --name seeded --stop-timeout 1 -v dmt-seed:/d "$LAB_BASE_IMAGE" \
		sh -c 'dd if=/dev/urandom of=/d/new bs=1k count=20 2>/dev/null; echo two >>/d/small; sleep 600'
	wait_until ldocker node1 exec seeded test -s /d/new
	run_dm container seeded --to node2 --dry-run
	contains "$output" "only what changed since is sent" "the plan says so"
	local rep pre
	rep=$(dm_json container seeded --to node2 --format json)
	is "$(jq -r .status <<<"$rep")" completed "status"
	pre=$(jq '[.steps[] | select(.step=="precopy") | .bytes] | add' <<<"$rep")
	echo "precopy sent $pre bytes"
	# the 20 kB file and the changed one, as a tar, gzip'ed (random bytes
	# do not shrink): not the 2 MB copied before
	(( pre > 20000 && pre < 60000 ))
	is "$(ldocker node2 run --rm -v dmt-seed:/d "$LAB_BASE_IMAGE" md5sum /d/big /d/new /d/small /d/sub/x | cut -c1-32)" \
		"$(ldocker node1 run --rm -v dmt-seed:/d "$LAB_BASE_IMAGE" md5sum /d/big /d/new /d/small /d/sub/x | cut -c1-32)" \
		"the same content"

	# a non-empty volume that no copy of ours made is still refused
	run_docker node1 volume create dmt-other
	run_docker node1 run --rm -v dmt-other:/d "$LAB_BASE_IMAGE" sh -c 'echo src >/d/f'
	run_docker node2 volume create dmt-other
	run_docker node2 run --rm -v dmt-other:/d "$LAB_BASE_IMAGE" sh -c 'echo theirs >/d/f'
	run_docker node1 run -d --name other --stop-timeout 1 -v dmt-other:/d "$LAB_BASE_IMAGE" sleep 600
	run_dm 1 container other --to node2
	contains "$output" "volume dmt-other already exists at node2 and is not empty" "refused"
}

@test "the compose file goes where it is missing at the destination, and a rollback takes it back" {
	# /run is each node's own: a project there is on this machine (where
	# docker compose ran) and not at node2
	local dir=/run/dmt-proj-$LAB_ID/shop
	rm -rf "/run/dmt-proj-$LAB_ID"
	lab_ssh node2 "rm -rf /run/dmt-proj-$LAB_ID"
	mkdir -p "$dir"
	cp "$FIXDIR/compose.yaml" "$dir/"
	echo "DMT_UNUSED=1" >"$dir/.env"
	FIXDIR=$dir project_up
	run_dm project $PROJ --to node2 --dry-run
	contains "$output" "compose file $dir/compose.yaml: carried to node2" "the plan says so"
	contains "$output" "compose file $dir/.env: carried to node2" "and the .env"
	run lab_ssh node2 "test -e /run/dmt-proj-$LAB_ID"
	is "$status" 1 "the dry run wrote nothing"

	# a move that fails in its window takes them back (see the test of
	# a start that fails)
	run_dm 1 project $PROJ --to node2 --start-timeout 1
	contains "$output" "Compose file $dir/compose.yaml carried to node2" "they were carried"
	contains "$output" "rolled-back project $PROJ" "then rolled back"
	run lab_ssh node2 "test -e /run/dmt-proj-$LAB_ID"
	is "$status" 1 "the rollback removed what it made"

	run_dm project $PROJ --to node2
	contains "$output" "completed project $PROJ" "moved"
	run lab_ssh node2 "cat $dir/compose.yaml"
	is "$output" "$(cat "$dir/compose.yaml")" "the compose file at node2"
	run lab_ssh node2 "cat $dir/.env"
	is "$output" "DMT_UNUSED=1" "the .env at node2"
	lab_ssh node2 "rm -rf /run/dmt-proj-$LAB_ID"
	rm -rf "/run/dmt-proj-$LAB_ID"
}

@test "a group move killed in the window is undone by docker migrate rollback ID" {
	project_up
	local before1 before2 id
	before1=$(snapshot node1)
	before2=$(snapshot node2)
	DOCKER_MIGRATE_TEST_PAUSE_AT=sync bg_migrate project $PROJ --to node2
	wait_until in_output "test hook: paused in sync"
	kill -KILL "$(plugin_pid)"
	finish || true
	id=$(dm_json history --format json | jq -r '.[-1].id')
	run_dm history
	contains "$output" "interrupted" "the killed run shows as interrupted"
	run_dm rollback "$id"
	is "$(snapshot node1)" "$before1" "every source as it was"
	is "$(snapshot node2)" "$before2" "nothing left at the destination"
}
