#!/usr/bin/env bats
# Today's engines, containers: a running container with a named volume, a
# change in its own layer, a user network with an alias, a published port
# and a rich configuration moves between every ordered pair of the lab's
# three engine kinds (20.10; 28.5 with overlay2; 28.5 with the containerd
# image store), and arrives running, with its data, its file, its network
# and a `docker inspect` equal to the source's but for the engine
# differences listed in docs/engines.md (and in ENGINE_DIFF below).  A
# copy that cannot start is rolled back to nothing on a 28 and a 28c
# node; volumes and dry-runs cross the kinds too.
#
# Strategy: the default (delta) in every direction (delta between the
# kinds is 091's subject); what this file tests is the re-created
# container.

load helpers
load fixtures/faults

# node1 is the lab's 20.10 node; the sid nodes are added once for the file.
K20=node1
K28=node3
K28C=node4
APP=dmt-app
NET=dmt-net
VOL=dmt-vol
PORT=18080

setup_file() {
	dm_setup_file
	local n
	for n in "$K28" "$K28C"; do lab_ctl remove "$n" >/dev/null 2>&1 || true; done
	lab_ctl add "$K28" --engine 28
	lab_ctl add "$K28C" --engine 28c
	lab_env
}

teardown_file() {
	local n
	for n in "$K28C" "$K28"; do lab_ctl remove "$n" >/dev/null 2>&1 || true; done
	lab_env
	lab_clean "$K20" node2 >/dev/null 2>&1 || true
}

setup() { dm_setup; }

teardown() {
	local n
	for n in "$K20" "$K28" "$K28C"; do
		lab_ctl shape "$n" off >/dev/null 2>&1 || true
		lab_clean "$n" >/dev/null 2>&1 || true
	done
}

# make_app NODE: the container, running on NODE: a user network (with a
# label) where it has the alias "web", a named volume holding 100 kB of
# random bytes, a file written in its own layer, and a configuration that
# touches most of what `docker run` sets.  It serves its root over HTTP.
make_app() {
	local n=$1
	ldocker "$n" network create --label dmt=engines "$NET" >/dev/null
	ldocker "$n" volume create --label dmt=engines "$VOL" >/dev/null
	ldocker "$n" run --rm -v "$VOL":/data "$LAB_BASE_IMAGE" \
		sh -c 'head -c 100000 /dev/urandom >/data/rnd && chown -R 1234:1234 /data'
	ldocker "$n" run -d --name "$APP" --hostname apphost \
		--network "$NET" --network-alias web -v "$VOL":/data \
		-e DMT_A=1 -e "DMT_B=two words" -u 1234:1234 -w /data \
		-l dmt.role=app -l "dmt.note=a b" -p "$PORT":80 \
		--restart unless-stopped --stop-timeout 1 \
		--health-cmd 'test -s /data/rnd' --health-interval 1s --health-retries 2 \
		-m 64m --cpu-shares 512 --pids-limit 100 --ulimit nofile=1024:2048 \
		--sysctl net.core.somaxconn=1024 --tmpfs /scratch:size=1m \
		--cap-add NET_ADMIN --cap-drop MKNOD --security-opt no-new-privileges \
		--add-host dmt-peer:10.9.9.9 --dns-option ndots:2 \
		"$LAB_BASE_IMAGE" httpd -f -p 80 -h / >/dev/null
	ldocker "$n" exec -u 0 "$APP" sh -c "echo changed-on-$n >/etc/dmt-changed"
}

# What may differ between the source's and the copy's inspect, and why
# (docs/engines.md, "Differences between engines"):
# - HostConfig.KernelMemory, KernelMemoryTCP: only 20.10 has them (zero);
# - HostConfig.MaskedPaths, ReadonlyPaths: each engine's own defaults (28
#   masks /proc/interrupts and /sys/devices/virtual/powercap too);
# - the aliases an engine adds by itself: 20.10 puts the id's prefix and
#   the hostname in Aliases, 28 only in DNSNames (API 1.44+ only);
# - NetworkSettings.Networks.*.DNSNames, GwPriority: 28 only (API 1.44,
#   1.48);
# - HostConfig.NetworkMode "default" (20.10, no --network) is "bridge" on
#   28: see the test of the default network below.
# What the engine chooses (ids, addresses, MAC, times, paths, the image id:
# a committed layer carries the rootfs change) is not compared.
ENGINE_DIFF='del(.HostConfig.KernelMemory, .HostConfig.KernelMemoryTCP,
	.HostConfig.MaskedPaths, .HostConfig.ReadonlyPaths)'
# shellcheck disable=SC2016 # jq's variables
INSPECT_VIEW='.[0] | {Config, HostConfig,
	Networks: (.NetworkSettings.Networks | map_values({
		Aliases: ((.Aliases // []) - [$id[0:12], $host] | sort),
		IPAMConfig, Links, DriverOpts})),
	Ports: .NetworkSettings.Ports}'

# view NODE: the container's inspect as compared, with the engine
# differences left out (the full view in $BATS_TEST_TMPDIR/full-NODE).
view() {
	local js id host
	js=$(ldocker "$1" inspect "$APP") || return
	id=$(jq -r '.[0].Id' <<<"$js")
	host=$(jq -r '.[0].Config.Hostname' <<<"$js")
	jq -S --arg id "$id" --arg host "$host" "$INSPECT_VIEW" <<<"$js" \
		>"$BATS_TEST_TMPDIR/full-$1"
	jq -S "$ENGINE_DIFF" "$BATS_TEST_TMPDIR/full-$1"
}

# state NODE: the container's status there, or "absent".
state() { state_of "$1" "$APP"; }
state_of() {
	local s
	s=$(ldocker "$1" inspect -f '{{.State.Status}}' "$2" 2>/dev/null) || s=absent
	echo "$s"
}

# move SRC DST: make the container on SRC, move it to DST, and check it
# there: running and healthy, its volume's bytes, its layer's file, its
# network and alias (from another container of that network), its
# published port, and its inspect; at SRC: stopped, not removed.
move() {
	local src=$1 dst=$2 sum before after
	make_app "$src"
	wait_until ldocker "$src" exec "$APP" test -s /data/rnd
	sum=$(ldocker "$src" exec "$APP" md5sum /data/rnd)
	before=$(view "$src")

	DOCKER_HOST=$(lab_sock "$src") run_dm container "$APP" --to "$dst"
	contains "$output" "completed container $APP" "report"
	contains "$output" "(strategy delta)" "by the default strategy"

	is "$(ldocker "$dst" inspect -f '{{.State.Status}} {{.State.Health.Status}}' "$APP")" \
		"running healthy" "running and healthy on $dst ($(lab_engine "$dst"))"
	is "$(state "$src")" exited "stopped, not removed, on $src ($(lab_engine "$src"))"
	is "$(ldocker "$dst" exec "$APP" md5sum /data/rnd)" "$sum" "the volume's bytes"
	is "$(ldocker "$dst" exec "$APP" cat /etc/dmt-changed)" "changed-on-$src" \
		"the file changed in the container's layer"
	run ldocker "$dst" run --rm --network "$NET" "$LAB_BASE_IMAGE" \
		wget -qO- http://web/etc/dmt-changed
	is "$output" "changed-on-$src" "served under its alias on $NET"
	is "$(ldocker "$dst" network inspect -f '{{.Labels.dmt}}' "$NET")" engines \
		"the network re-created with its label"
	is "$(ldocker "$dst" volume inspect -f '{{.Labels.dmt}}' "$VOL")" engines \
		"the volume re-created with its label"
	lab_wait_http "http://$(lab_addr "$dst"):$PORT/etc/dmt-changed" 10
	is "$(curl -fsS "http://$(lab_addr "$dst"):$PORT/etc/dmt-changed")" \
		"changed-on-$src" "its published port"

	after=$(view "$dst")
	diff <(echo "$before") <(echo "$after") ||
		{ echo "FAIL: inspect differs beyond the engine differences" >&2; return 1; }
	# the comparison is not empty: it covers what the container set
	contains "$before" '"web"' "the comparison covers the alias"
	contains "$before" '"Name": "unless-stopped"' "... the restart policy"
	contains "$before" '"net.core.somaxconn": "1024"' "... the sysctls"
	contains "$before" '"/scratch": "size=1m"' "... the tmpfs"
	contains "$before" '"Hard": 2048' "... the ulimits"
	contains "$before" '"test -s /data/rnd"' "... the healthcheck"
	contains "$before" "\"$VOL:/data\"" "... the named volume"
	contains "$before" '"HostPort": "18080"' "... the published port"
	# the layer's name was a means of transport; the image's tag is the
	# base image's still, at both ends
	is "$(ldocker "$dst" images -q docker-migrate-rootfs)$(ldocker "$src" images -q docker-migrate-rootfs)" \
		"" "no docker-migrate-rootfs image left at either end"
	is "$(ldocker "$dst" image inspect -f '{{json .RootFS.Layers}}' "$LAB_BASE_IMAGE")" \
		"$(ldocker "$src" image inspect -f '{{json .RootFS.Layers}}' "$LAB_BASE_IMAGE")" \
		"$LAB_BASE_IMAGE names the base image at $dst, not the committed layer"
	# where they differ, the copy has what a container made there has
	local f native
	ldocker "$dst" create --name dmt-native "$LAB_BASE_IMAGE" true >/dev/null
	native=$(ldocker "$dst" inspect dmt-native)
	for f in KernelMemory KernelMemoryTCP MaskedPaths ReadonlyPaths; do
		is "$(jq -c ".HostConfig.$f" "$BATS_TEST_TMPDIR/full-$dst")" \
			"$(jq -c ".[0].HostConfig.$f" <<<"$native")" \
			"$f on $dst ($(lab_engine "$dst")) as in a container made there"
	done
}

@test "20.10 -> 28 overlay2: a container with a volume, a rootfs change and a user network" {
	move "$K20" "$K28"
}
@test "28 overlay2 -> 20.10" { move "$K28" "$K20"; }
@test "20.10 -> 28 containerd store" { move "$K20" "$K28C"; }
@test "28 containerd store -> 20.10" { move "$K28C" "$K20"; }
@test "28 overlay2 -> 28 containerd store" { move "$K28" "$K28C"; }
@test "28 containerd store -> 28 overlay2" { move "$K28C" "$K28"; }

@test "the default network: 20.10's \"default\" is 28's \"bridge\", both ways" {
	local c=dmt-plain
	# shellcheck disable=SC2016 # a Go template
	local fmt='{{.State.Status}} {{.HostConfig.NetworkMode}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}'
	ldocker "$K20" run -d --name "$c" --stop-timeout 1 "$LAB_BASE_IMAGE" sleep 600 >/dev/null
	is "$(ldocker "$K20" inspect -f '{{.HostConfig.NetworkMode}}' "$c")" default "20.10 says default"
	DOCKER_HOST=$(lab_sock "$K20") run_dm container "$c" --to "$K28"
	is "$(ldocker "$K28" inspect -f "$fmt" "$c")" \
		"running bridge bridge" "on 28: running, on the bridge network, which 28 calls bridge"
	DOCKER_HOST=$(lab_sock "$K28") run_dm container "$c" --to node2
	# 28 knows no "default": the copy says what it was given, the same network
	is "$(ldocker node2 inspect -f "$fmt" "$c")" \
		"running bridge bridge" "back on 20.10: running on the bridge network"
	ldocker node2 rm -f "$c" >/dev/null
}

@test "a healthcheck's start interval (API 1.44) travels 28 -> 28c, and into 20.10 is named, not lost" {
	local c=dmt-start
	ldocker "$K28" run -d --name "$c" --stop-timeout 1 --health-cmd true \
		--health-interval 2s --health-start-period 20s --health-start-interval 1s \
		"$LAB_BASE_IMAGE" sleep 600 >/dev/null
	DOCKER_HOST=$(lab_sock "$K28") run_dm container "$c" --to "$K28C"
	is "$(ldocker "$K28C" inspect -f '{{.State.Status}} {{json .Config.Healthcheck}}' "$c")" \
		'running {"Test":["CMD-SHELL","true"],"Interval":2000000000,"StartPeriod":20000000000,"StartInterval":1000000000}' \
		"the whole healthcheck on 28c"
	DOCKER_HOST=$(lab_sock "$K28C") run_dm 1 container "$c" --to "$K20"
	contains "$output" "healthcheck start interval (1000000000 ns): the destination is spoken to in Engine API 1.41" "named"
	is "$(state_of "$K28C" "$c") $(state_of "$K20" "$c")" "running absent" "nothing moved"
	DOCKER_HOST=$(lab_sock "$K28C") run_dm container "$c" --to "$K20" --drop-unmovable
	contains "$output" "dropping healthcheck start interval" "said when dropped"
	is "$(ldocker "$K20" inspect -f '{{.State.Status}} {{json .Config.Healthcheck}}' "$c")" \
		'running {"Test":["CMD-SHELL","true"],"Interval":2000000000,"StartPeriod":20000000000}' \
		"the rest of the healthcheck on 20.10"
}

# rollback_into SRC DST: the destination's published port is taken, so
# the copy is created but cannot start: the move is rolled back, the
# destination holds exactly what it held before (containers, images,
# volumes, networks, and in its data root the layers, or the content
# blobs and snapshots of the containerd store), the source runs on.
# precopy_running: the newest migration is in its pre-copy.
precopy_running() {
	[[ $("$DM_BIN" history --format json |
		jq -r '.[-1].steps[]? | select(.step == "precopy") | .outcome') == running ]]
}

rollback_into() {
	local src=$1 dst=$2 sum id base
	make_app "$src"
	wait_until ldocker "$src" exec "$APP" test -s /data/rnd
	sum=$(ldocker "$src" exec "$APP" md5sum /data/rnd)
	id=$(ldocker "$src" inspect -f '{{.Id}}' "$APP")
	remember "$dst"
	# the port is taken only once the check has passed (which would
	# refuse the move): while the volume's pre-copy is held on a slow
	# link.  By the id the base image had there: on the containerd
	# store the move gives its name to the image it loads.
	base=$(ldocker "$dst" image inspect -f '{{.Id}}' "$LAB_BASE_IMAGE")
	lab_ctl shape "$dst" 256kbit
	DOCKER_HOST=$(lab_sock "$src") bg_migrate container "$APP" --to "$dst"
	wait_until precopy_running
	ldocker "$dst" run -d --name dmt-blocker -p "$PORT":80 "$base" \
		httpd -f -p 80 -h / >/dev/null
	lab_ctl shape "$dst" off
	finish
	output=$(cat "$OUT")
	ldocker "$dst" rm -f dmt-blocker >/dev/null
	contains "$output" "start failed:" "the copy failed to start"
	contains "$output" "rolled-back container $APP" "report"
	settled "$dst"
	is "$(ldocker "$src" inspect -f '{{.Id}} {{.State.Status}} {{.HostConfig.RestartPolicy.Name}}' "$APP")" \
		"$id running unless-stopped" "the source runs on, as it was"
	is "$(ldocker "$src" exec "$APP" md5sum /data/rnd) $(ldocker "$src" exec "$APP" cat /etc/dmt-changed)" \
		"$sum changed-on-$src" "its volume and layer untouched"
	is "$("$DM_BIN" history --format json | jq -r --arg o "$APP" '[.[] | select(.object == $o)][-1].status')" \
		rolled-back "history says rolled-back"
}

@test "a copy that cannot start on 28 overlay2 (its port taken) is rolled back to nothing" {
	rollback_into "$K20" "$K28"
}
@test "a copy that cannot start on 28 containerd store is rolled back to nothing" {
	rollback_into "$K20" "$K28C"
}

@test "docker migrate volumes: 20.10 -> 28c -> 28 -> 20.10, every entry as it was" {
	local v=dmt-vols want
	ldocker "$K20" volume create --label dmt=vols "$v" >/dev/null
	ldocker "$K20" run --rm -v "$v":/v "$LAB_BASE_IMAGE" sh -c '
		head -c 300000 /dev/urandom >/v/big && mkdir -p /v/d/e &&
		echo small >/v/d/e/f && ln -s d/e/f /v/link && ln /v/big /v/hard &&
		chown -R 1234:1234 /v/d && chmod 0640 /v/d/e/f && touch -d @1000000 /v/d/e/f'
	want=$(tree_of "$K20" "$v")
	is "$(grep -c . <<<"$want")" 7 "the tree has its 7 entries"
	local pair
	for pair in "$K20 $K28C" "$K28C $K28" "$K28 node2"; do
		read -r -a pair <<<"$pair"
		set -- "${pair[@]}"
		DOCKER_HOST=$(lab_sock "$1") run_dm volumes "$v" --to "$2"
		is "$(tree_of "$2" "$v")" "$want" "entries $1 ($(lab_engine "$1")) -> $2 ($(lab_engine "$2"))"
		is "$(ldocker "$2" volume inspect -f '{{.Labels.dmt}}' "$v")" vols "the label on $2"
	done
	ldocker node2 volume rm "$v" >/dev/null
}

@test "--dry-run across kinds: the plan, and nothing changes at either end" {
	local pair
	for pair in "$K20 $K28C" "$K28C $K28"; do
		read -r -a pair <<<"$pair"
		set -- "${pair[@]}"
		make_app "$1"
		remember "$1" "$2"
		DOCKER_HOST=$(lab_sock "$1") run_dm container "$APP" --to "$2" --dry-run
		contains "$output" "Plan: move container $APP" "the plan $1 -> $2"
		contains "$output" "$VOL" "the plan names the volume"
		unchanged "$2"
		# at the source, less what its healthcheck's execs leave in
		# the node's tmp while they run
		diff <(grep -v '^node-tmp runc-process' "$BATS_TEST_TMPDIR/before-$1") \
			<(node_snapshot "$1" | grep -v '^node-tmp runc-process') ||
			{ echo "FAIL: $1 changed" >&2; return 1; }
		is "$(state "$1")" running "the source runs on"
		lab_clean "$1" >/dev/null
	done
}

@test "registry into 28c holding the base unpacked only: the incomplete pull is refused, nothing left" {
	local img=dmt/regpull:1
	app_image "$img" 20000
	remember "$K28C"
	run_dm 1 image "$img" --to "$K28C" --strategy registry --registry "$LAB_REGISTRY"
	contains "$output" "pull skipped the blobs of layers it had by a load" "the reason"
	contains "$output" "--strategy delta sends them" "what works"
	one_line_error
	settled "$K28C"
	is "$(registry_tags dmt/regpull)" "" "the push's tag is gone from the registry"
	# what works, for the same image
	run_dm image "$img" --to "$K28C" --strategy delta
	is "$(ldocker "$K28C" image inspect -f '{{json .RootFS.Layers}}' "$img")" \
		"$(ldocker "$K20" image inspect -f '{{json .RootFS.Layers}}' "$img")" "diff ids after delta"
}
