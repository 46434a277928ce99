#!/usr/bin/env bats
# Before the source stops: what would make the copy's create or start
# fail at the destination is found in the check, and the move refused
# with one line that names it, while the source keeps running (its
# State.StartedAt unchanged) and nothing is left at the destination.
# Each check runs twice: dockerd 20.10 to 20.10 (node1 -> node2) and
# dockerd 28.5 to 28.5 (node3 -> node4).  Then what the move now
# carries: a published address mapped with --publish-ip, /dev/null, a
# link to a container that runs there, and what --drop-unmovable leaves
# behind, named in the report and the record.

load helpers

setup_file() {
	dm_setup_file
	local n
	for n in node3 node4; do lab_ctl remove "$n" >/dev/null 2>&1 || true; done
	lab_ctl add node3 --engine 28
	lab_ctl add node4 --engine 28
	lab_env
}

teardown_file() {
	local n
	for n in node6 node5 node4 node3; do lab_ctl remove "$n" >/dev/null 2>&1 || true; done
}

setup() { dm_setup; }

teardown() {
	local n
	for n in node1 node2 node3 node4; do
		lab_clean "$n" >/dev/null 2>&1 || true
		rm -f "$LAB_DIR/$n/run/dmt-dev"
	done
}

# on PAIR: SRC and DST of the pair ("20" or "28"), DOCKER_HOST at SRC.
on() {
	case $1 in
	20) SRC=node1 DST=node2 ;;
	28) SRC=node3 DST=node4 ;;
	esac
	export DOCKER_HOST
	DOCKER_HOST=$(lab_sock "$SRC")
	SRC_ADDR=$(lab_addr "$SRC")
	DST_ADDR=$(lab_addr "$DST")
}

# dest_state NODE: all that a move could leave on an engine.
dest_state() {
	ldocker "$1" ps -a --format '{{.Names}} {{.Image}} {{.Status}}' |
		sed 's/ Up .*/ up/; s/ Exited .*/ exited/; s/ Created.*/ created/' | sort
	ldocker "$1" images -q --no-trunc | sort
	ldocker "$1" network ls --format '{{.Name}} {{.ID}}' | sort
	ldocker "$1" volume ls -q | sort
}

# start_src NAME DOCKER-RUN-ARGS...: the source container, running,
# with a volume: its move stops it before the copy is started (to send
# what changed last), which is where these failures came when the
# engine found them, the source then down until the rollback.
start_src() {
	local name=$1
	shift
	run_docker "$SRC" run -d --name "$name" --stop-timeout 1 -v "dmt-$name:/data" "$@"
	STARTED=$(ldocker "$SRC" inspect -f '{{.State.StartedAt}}' "$name")
	BEFORE=$(dest_state "$DST")
}

# refused NAME TEXT [MIGRATE-ARGS...]: the move of NAME fails in the
# check with TEXT in its one error line; the source never stopped and
# nothing is left at the destination.
refused() {
	local name=$1 text=$2
	shift 2
	run_dm 1 container "$name" --to "$DST" "$@"
	contains "$output" "$text" "names it"
	one_line_error
	is "$(ldocker "$SRC" inspect -f '{{.State.Running}} {{.State.StartedAt}}' "$name")" \
		"true $STARTED" "the source never stopped"
	is "$(dest_state "$DST")" "$BEFORE" "nothing left at the destination"
	is "$("$DOCKER" migrate history --format json |
		jq -r "[.[] | select(.object == \"$name\")][-1] | \"\(.status) \(.failed_step)\"")" \
		"failed check" "history: stopped in the check"
}

# --- ports -----------------------------------------------------------

port_published_there() {
	on "$1"
	run_docker "$DST" run -d --name holder -p 18080:80 "$LAB_BASE_IMAGE" sleep 600
	start_src web -p 18080:80 "$LAB_BASE_IMAGE" httpd -f -p 80
	refused web "port 18080/tcp is published at $DST by container \"holder\" (free it there first)"
}
@test "20.10: a port a container publishes there" { port_published_there 20; }
@test "28: a port a container publishes there" { port_published_there 28; }

port_udp_there() {
	on "$1"
	# the same port number over TCP is free there: only UDP clashes
	run_docker "$DST" run -d --name holder -p 18053:53/udp "$LAB_BASE_IMAGE" sleep 600
	start_src dns -p 18053:53 -p 18053:53/udp "$LAB_BASE_IMAGE" sleep 600
	refused dns "port 18053/udp is published at $DST by container \"holder\""
	[[ $output != *"18053/tcp"* ]] || { echo "TCP named too" >&2; return 1; }
}
@test "20.10: a UDP port published there" { port_udp_there 20; }
@test "28: a UDP port published there" { port_udp_there 28; }

port_listened_there() {
	on "$1"
	# a program of the host, not a published port: seen in /proc/net
	run_docker "$DST" run -d --name hostprog --network host "$LAB_BASE_IMAGE" \
		httpd -f -p "$DST_ADDR:18081" -h /etc
	lab_wait_http "http://$DST_ADDR:18081/hostname" 10
	start_src web -p 18081:80 "$LAB_BASE_IMAGE" httpd -f -p 80
	refused web "port 18081/tcp is in use at $DST: a process listens on $DST_ADDR:18081 (free it there first)"
}
@test "20.10: a port a program of the host listens on" { port_listened_there 20; }
@test "28: a port a program of the host listens on" { port_listened_there 28; }

address_absent_there() {
	on "$1"
	start_src web -p "$SRC_ADDR:18082:80" "$LAB_BASE_IMAGE" httpd -f -p 80 -h /etc
	refused web "published address $SRC_ADDR: $DST has no such address (map it to one it has with --publish-ip $SRC_ADDR=ADDRESS)"
	# mapped: it moves, and answers on the destination's address
	run_dm container web --to "$DST" --publish-ip "$SRC_ADDR=$DST_ADDR"
	contains "$output" "completed container web" "moved"
	is "$(ldocker "$DST" port web 80/tcp)" "$DST_ADDR:18082" "published on the new address"
	lab_wait_http "http://$DST_ADDR:18082/hostname" 10
	is "$(curl -fsS "http://$DST_ADDR:18082/hostname")" "$(ldocker "$DST" exec web hostname)" \
		"served by the copy"
}
@test "20.10: a published address the destination lacks; --publish-ip maps it" { address_absent_there 20; }
@test "28: a published address the destination lacks; --publish-ip maps it" { address_absent_there 28; }

@test "--publish-ip: a malformed map is a usage error, an unused one changes nothing" {
	on 20
	run_dm 125 container web --to node2 --publish-ip 10.0.0.11
	contains "$output" '--publish-ip takes OLD=NEW, two IP addresses, not "10.0.0.11"' "usage"
	start_src web -p 18083:80 "$LAB_BASE_IMAGE" sleep 600
	run_dm 1 container web --to node2 --publish-ip 10.9.9.9=10.9.9.8
	contains "$output" "--publish-ip 10.9.9.9=10.9.9.8: no port of web is published on 10.9.9.9" "names it"
	is "$(ldocker "$SRC" inspect -f '{{.State.StartedAt}}' web)" "$STARTED" "source untouched"
	is "$(dest_state node2)" "$BEFORE" "nothing at the destination"
}

# --- networks, static addresses, MACs --------------------------------

subnet_overlaps_there() {
	on "$1"
	run_docker "$SRC" network create --subnet 10.231.0.0/24 dmt-app
	run_docker "$DST" network create --subnet 10.231.0.0/16 dmt-other
	start_src app --network dmt-app "$LAB_BASE_IMAGE" sleep 600
	refused app "network \"dmt-app\": its subnet 10.231.0.0/24 overlaps subnet 10.231.0.0/16 of network \"dmt-other\" at $DST"
}
@test "20.10: a missing network whose subnet overlaps one there" { subnet_overlaps_there 20; }
@test "28: a missing network whose subnet overlaps one there" { subnet_overlaps_there 28; }

network_differs_there() {
	on "$1"
	run_docker "$SRC" network create --subnet 10.232.0.0/24 dmt-app
	run_docker "$DST" network create --subnet 10.233.0.0/24 dmt-app
	start_src app --network dmt-app --ip 10.232.0.5 "$LAB_BASE_IMAGE" sleep 600
	refused app "network \"dmt-app\" exists at $DST with subnet 10.233.0.0/24, the source's has 10.232.0.0/24 (remove it there, and it is made as at the source)"
}
@test "20.10: a network of that name there with another subnet" { network_differs_there 20; }
@test "28: a network of that name there with another subnet" { network_differs_there 28; }

static_ip_taken_there() {
	on "$1"
	run_docker "$SRC" network create --subnet 10.234.0.0/24 dmt-app
	run_docker "$DST" network create --subnet 10.234.0.0/24 dmt-app
	run_docker "$DST" run -d --name squatter --network dmt-app --ip 10.234.0.5 "$LAB_BASE_IMAGE" sleep 600
	start_src app --network dmt-app --ip 10.234.0.5 "$LAB_BASE_IMAGE" sleep 600
	refused app "static address 10.234.0.5 on network \"dmt-app\" is taken at $DST by container \"squatter\" (free it there first)"
}
@test "20.10: a static address taken there" { static_ip_taken_there 20; }
@test "28: a static address taken there" { static_ip_taken_there 28; }

# The 28 CLI sets a MAC address through API 1.44 only: 28 engines.
@test "28: a MAC address taken there" {
	on 28
	run_docker "$DST" run -d --name squatter --mac-address 02:42:ac:11:77:01 "$LAB_BASE_IMAGE" sleep 600
	start_src app --mac-address 02:42:ac:11:77:01 "$LAB_BASE_IMAGE" sleep 600
	refused app "MAC address 02:42:ac:11:77:01 on network \"bridge\" is taken at $DST by container \"squatter\" (free it there first)"
}

# --- devices and links -----------------------------------------------

device_absent_there() {
	on "$1"
	# a device node in the source node's own /run: the destination lacks it
	mknod "$LAB_DIR/$SRC/run/dmt-dev" c 1 3
	start_src cam --device /run/dmt-dev:/dev/cam "$LAB_BASE_IMAGE" sleep 600
	refused cam "device /run/dmt-dev: it does not exist at the destination"
	contains "$output" "--drop-unmovable" "says how to proceed"
}
@test "20.10: a device the destination lacks" { device_absent_there 20; }
@test "28: a device the destination lacks" { device_absent_there 28; }

dev_null_moves() {
	on "$1"
	start_src nul --device /dev/null:/dev/mynull "$LAB_BASE_IMAGE" sleep 600
	run_dm container nul --to "$DST"
	is "$(ldocker "$DST" inspect -f '{{range .HostConfig.Devices}}{{.PathOnHost}}:{{.PathInContainer}}{{end}}' nul)" \
		"/dev/null:/dev/mynull" "the device is carried"
	is "$(ldocker "$DST" exec nul stat -c %t,%T /dev/mynull)" "1,3" "and is /dev/null inside"
}
@test "20.10: /dev/null, on every host, moves" { dev_null_moves 20; }
@test "28: /dev/null, on every host, moves" { dev_null_moves 28; }

link_absent_there() {
	on "$1"
	run_docker "$SRC" run -d --name db "$LAB_BASE_IMAGE" sleep 600
	start_src app --link db:dbal "$LAB_BASE_IMAGE" sleep 600
	refused app "Links \"/db:/app/dbal\": it names a container of the source, which does not run at the destination (move it first)"
	# once db runs there, the link is carried and resolves
	run_docker "$DST" run -d --name db "$LAB_BASE_IMAGE" sleep 600
	run_dm container app --to "$DST"
	is "$(ldocker "$DST" inspect -f '{{json .HostConfig.Links}}' app)" '["/db:/app/dbal"]' "carried"
	is "$(ldocker "$DST" exec app sh -c 'grep -w dbal /etc/hosts | cut -f1')" \
		"$(ldocker "$DST" inspect -f '{{.NetworkSettings.IPAddress}}' db)" "resolves to db there"
}
@test "20.10: a link to a container not there is refused, to one there carried" { link_absent_there 20; }
@test "28: a link to a container not there is refused, to one there carried" { link_absent_there 28; }

endpoint_link_absent_there() {
	on "$1"
	run_docker "$SRC" network create dmt-app
	run_docker "$SRC" run -d --name db --network dmt-app "$LAB_BASE_IMAGE" sleep 600
	start_src app --network dmt-app --link db:dbal "$LAB_BASE_IMAGE" sleep 600
	refused app "link \"db:dbal\" on network \"dmt-app\": the container it names does not run at the destination (move it first)"
}
@test "20.10: a user network's link to a container not there" { endpoint_link_absent_there 20; }
@test "28: a user network's link to a container not there" { endpoint_link_absent_there 28; }

drop_unmovable_names_each() {
	on "$1"
	mknod "$LAB_DIR/$SRC/run/dmt-dev" c 1 3
	run_docker "$SRC" run -d --name db --ipc shareable "$LAB_BASE_IMAGE" sleep 600
	start_src app --link db:dbal --ipc container:db --device /run/dmt-dev:/dev/cam \
		--device /dev/null:/dev/mynull "$LAB_BASE_IMAGE" sleep 600
	local rep id
	rep=$(dm_json container app --to "$DST" --drop-unmovable)
	printf '%s\n' "$rep"
	local want
	want=$(printf '%s\n' \
		"dropped       IPC mode \"container:$(ldocker "$SRC" inspect -f '{{.Id}}' db)\": it shares another container's namespace, which stays on the source" \
		"dropped       Links \"/db:/app/dbal\": it names a container of the source, which does not run at the destination (move it first)" \
		"dropped       device /run/dmt-dev: it does not exist at the destination")
	# in the order of the inspect's fields, which engines differ on
	is "$(grep '^  dropped' <<<"$rep" | sed 's/^  //' | sort)" "$(sort <<<"$want")" \
		"the report names each"
	id=$(sed -n 's/^  id  *//p' <<<"$rep")
	is "$("$DOCKER" migrate history "$id" | grep -c '^  dropped')" 3 "history shows them"
	is "$("$DOCKER" migrate history "$id" --format json | jq -r '.dropped | length')" 3 "the record keeps them"
	is "$(ldocker "$DST" inspect -f '{{range .HostConfig.Devices}}{{.PathOnHost}} {{end}}{{json .HostConfig.Links}} {{.HostConfig.IpcMode}}' app)" \
		"/dev/null null private" "the copy: /dev/null kept, the rest left behind"
	is "$(ldocker "$DST" inspect -f '{{.State.Running}}' app)" true "and it runs"
}
@test "20.10: --drop-unmovable names each thing it leaves behind" { drop_unmovable_names_each 20; }
@test "28: --drop-unmovable names each thing it leaves behind" { drop_unmovable_names_each 28; }

# --- free space --------------------------------------------------------

# The container layer travels after the source stopped: a disk too small
# for it was found then.  Now the check counts it, with the image and
# the volumes, against the destination's free space.
space_short_there() {
	on "$1"
	local engine=20.10
	DST=node5
	[[ $1 == 28 ]] && { engine=28; DST=node6; }
	lab_ctl add "$DST" --engine "$engine" --disk 64
	lab_env
	start_src big "$LAB_BASE_IMAGE" sleep 600
	run_docker "$SRC" exec big dd if=/dev/urandom of=/big bs=1M count=80
	BEFORE=$(dest_state "$DST")
	refused big "not enough space at $DST for the image, volumes and container layer of big ("
	contains "$output" "needed): free some there first" "says how to proceed"
	lab_ctl remove "$DST"
}
@test "20.10: a container layer larger than the destination's free space" { space_short_there 20; }
@test "28: a container layer larger than the destination's free space" { space_short_there 28; }
