#!/usr/bin/env bats
# The seeds' cluster master: the machine running docker is neither the
# source nor the destination.  The source is a lab host reached through an
# ssh:// context (docker --context node1 migrate ...), the destination
# another one through --to; nothing is on the caller's engine.

load helpers

setup_file() { dm_setup_file; }
setup() {
	dm_setup
	unset DOCKER_HOST
	"$DOCKER" context create dmt-node1 --docker "host=ssh://root@node1" >/dev/null
	printf 'FROM %s\nRUN echo master-%s >/www\n' "$LAB_BASE_IMAGE" "$BATS_TEST_NUMBER" |
		ldocker node1 build -q -t dmt/master:1 - >/dev/null
}
teardown() {
	"$DOCKER" context rm -f dmt-node1 >/dev/null 2>&1 || true
	lab_clean node1 node2 >/dev/null 2>&1 || true
}

@test "a container with a volume moves from one remote host to another" {
	local web port=8090
	run_docker node1 volume create dmt-mvol
	run_docker node1 run --rm -v dmt-mvol:/data "$LAB_BASE_IMAGE" \
		sh -c 'echo kept >/data/state; mkdir /data/d; echo x >/data/d/y'
	run_docker node1 run -d --name dmt-master -p "$port:80" --stop-timeout 1 \
		-v dmt-mvol:/data dmt/master:1 httpd -f -p 80 -h /
	run_dm --context dmt-node1 container dmt-master --to node2
	contains "$output" "completed container dmt-master: ssh://root@node1 -> node2" "report names both remote ends"
	lab_wait_http "http://$LAB_NODE2_ADDR:$port/www"
	web=$(curl --noproxy '*' -fsS "http://$LAB_NODE2_ADDR:$port/www")
	is "$web" "master-$BATS_TEST_NUMBER" "the service answers at the destination"
	run ldocker node2 exec dmt-master cat /data/state /data/d/y
	is "$output" "kept"$'\n'"x" "the volume's content arrived"
	is "$(ldocker node1 inspect -f '{{.State.Running}}' dmt-master)" "false" "the source is stopped"
	is "$(ldocker node2 image inspect -f '{{.Id}}' dmt/master:1)" \
		"$(ldocker node1 image inspect -f '{{.Id}}' dmt/master:1)" "same image"
}

@test "images move between two remote hosts, only the missing layer crosses" {
	local bytes size
	bytes=$(dm_json --context dmt-node1 image dmt/master:1 --to node2 --format json | jq .bytes)
	is "$(ldocker node2 image inspect -f '{{.Id}}' dmt/master:1)" \
		"$(ldocker node1 image inspect -f '{{.Id}}' dmt/master:1)" "same image"
	size=$(ldocker node1 image inspect -f '{{.Size}}' "$LAB_BASE_IMAGE")
	((bytes < size / 2)) || { echo "sent $bytes: the base ($size) crossed too" >&2; return 1; }
}
