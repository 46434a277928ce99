#!/usr/bin/env bats
# docker migrate container: a running container moves from node1 to node2
# with the save strategy, comes back as it was, and a refused or failed
# migration changes nothing on either side.

load helpers

setup_file() {
	dm_setup_file
	# an app image that only node1 has: a layer over the shared base
	printf 'FROM %s\nRUN mkdir -p /www && echo hello-from-the-app >/www/index.html\n' \
		"$LAB_BASE_IMAGE" | ldocker node1 build -q -t dmt/web:1 - >/dev/null
}

setup() { dm_setup; }

teardown() {
	lab_clean node1 node2 >/dev/null 2>&1 || true
	# keep the app image on node1 for the next test
	printf 'FROM %s\nRUN mkdir -p /www && echo hello-from-the-app >/www/index.html\n' \
		"$LAB_BASE_IMAGE" | ldocker node1 build -q -t dmt/web:1 - >/dev/null 2>&1 || true
}

# state NODE CONTAINER: "running", "exited", ... or "absent"
state() {
	local s
	s=$(ldocker "$1" inspect -f '{{.State.Status}}' "$2" 2>/dev/null) || s=absent
	echo "$s"
}

# snapshot NODE: what exists on an engine (containers, images, networks)
snapshot() {
	ldocker "$1" ps -a --format '{{.Names}} {{.Status}}' | sed 's/ Up .*/ up/; s/ Exited .*/ exited/' | sort
	ldocker "$1" images -q --no-trunc | sort
	ldocker "$1" network ls -q | sort
}

@test "a container with a published port answers at the destination" {
	run_docker node1 run -d --name web --stop-timeout 1 -p 8080:80 dmt/web:1 httpd -f -p 80 -h /www
	lab_wait_http "http://$LAB_NODE1_ADDR:8080/index.html"
	run_dm container web --to node2
	contains "$output" "completed container web" "report"
	contains "$output" "transfer" "transfer phase in the report"
	lab_wait_http "http://$LAB_NODE2_ADDR:8080/index.html"
	run curl -fsS "http://$LAB_NODE2_ADDR:8080/index.html"
	is "$output" "hello-from-the-app" "served by the copy on node2"
	is "$(state node2 web)" running "running at the destination"
	is "$(state node1 web)" exited "stopped, not removed, at the source"
	is "$(ldocker node2 image inspect -f '{{.Id}}' dmt/web:1)" \
		"$(ldocker node1 image inspect -f '{{.Id}}' dmt/web:1)" "same image id"
}

@test "the report and history show measured phases and bytes" {
	run_docker node1 run -d --name timed --stop-timeout 1 dmt/web:1 sleep 600
	local rep
	rep=$(dm_json container timed --to node2 --strategy save --format json)
	is "$(jq -r .status <<<"$rep")" completed "status"
	is "$(jq -r '[.phases[].name] | join(",")' <<<"$rep")" \
		"check,transfer,create,start,stop-source" "phases in order"
	local bytes
	bytes=$(jq -r .bytes <<<"$rep")
	# the whole image goes with the save strategy: at least its size
	local size
	size=$(ldocker node1 image inspect -f '{{.Size}}' dmt/web:1)
	[ "$bytes" -ge "$size" ] || { echo "sent $bytes < image size $size"; false; }
	output=$(dm_json history --format json)
	local id
	id=$(jq -r .id <<<"$rep")
	is "$(jq -r --arg id "$id" '.[] | select(.id == $id) | .status' <<<"$output")" completed "history has it"
	run_dm history
	contains "$output" "$id" "history table lists the id"
}

@test "a rich configuration is re-created field by field" {
	run_docker node1 network create --label team=a --opt com.docker.network.driver.mtu=1400 dmt-net
	run_docker node1 network create dmt-net2
	run_docker node1 run -d --name rich --hostname richhost \
		-e A=1 -e "B=two words" -w /tmp -u 1000:1000 \
		--label x=y --label "z=a b" -p 127.0.0.1:8081:80 -p 8082:81/udp \
		--restart on-failure:3 --health-cmd true --health-interval 1s \
		--stop-signal SIGUSR1 --stop-timeout 7 --tmpfs /scratch:size=1m \
		--cap-add NET_ADMIN --cap-drop CHOWN --read-only \
		--security-opt no-new-privileges -m 64m --cpu-shares 512 \
		--ulimit nofile=1024:2048 --log-opt max-size=1m \
		--add-host foo:1.2.3.4 --dns 9.9.9.9 --init --shm-size 16m \
		--sysctl net.ipv4.tcp_syncookies=0 \
		--network dmt-net --network-alias web-alias \
		--entrypoint /bin/sh dmt/web:1 -c 'sleep 1000'
	run_docker node1 network connect --alias second dmt-net2 rich
	run_dm container rich --to node2
	is "$(state node2 rich)" running "running at the destination"
	local f='{Config: (.Config | {Cmd, Entrypoint, Env, WorkingDir, User, Labels,
		ExposedPorts, Healthcheck, StopSignal, StopTimeout, Hostname, Tty,
		OpenStdin, Image}),
	    HostConfig: (.HostConfig | {PortBindings, RestartPolicy, Tmpfs, CapAdd,
		CapDrop, Privileged, ReadonlyRootfs, SecurityOpt, Memory, CpuShares,
		NanoCpus, Ulimits, LogConfig, ExtraHosts, Dns, Init, ShmSize, Sysctls,
		NetworkMode}),
	    Networks: (.NetworkSettings.Networks | to_entries |
		map({key, value: (.value.Aliases // [] | map(select(length != 12)) | sort)})
		| from_entries)}'
	local a b
	a=$(ldocker node1 inspect rich | jq -S ".[0] | $f")
	b=$(ldocker node2 inspect rich | jq -S ".[0] | $f")
	diff <(echo "$a") <(echo "$b")
	contains "$a" '"web-alias"' "the comparison covers aliases"
	is "$(ldocker node2 network inspect -f '{{.Labels.team}} {{index .Options "com.docker.network.driver.mtu"}}' dmt-net)" \
		"a 1400" "network re-created with its labels and options"
}

@test "--keep leaves the source running" {
	run_docker node1 run -d --name kept --stop-timeout 1 dmt/web:1 sleep 600
	run_dm container kept --to node2 --keep
	is "$(state node1 kept)" running "source still running"
	is "$(state node2 kept)" running "copy running"
}

@test "a name already used at the destination is refused, nothing changes" {
	run_docker node1 run -d --name taken --stop-timeout 1 dmt/web:1 sleep 600
	run_docker node2 run -d --name taken "$LAB_BASE_IMAGE" sleep 600
	local before1 before2
	before1=$(snapshot node1)
	before2=$(snapshot node2)
	run_dm 1 container taken --to node2
	contains "$output" 'a container named "taken" already exists' "reason"
	one_line_error
	is "$("$DM_BIN" history --format json | jq -r '[.[] | select(.object == "taken")][-1].error_kind')" \
		"conflict at the destination" "history: the error's kind"
	is "$(snapshot node1)" "$before1" "source unchanged"
	is "$(snapshot node2)" "$before2" "destination unchanged"
}

@test "what cannot be carried is named, and nothing changes" {
	run_docker node1 run -d --name anchor --stop-timeout 1 dmt/web:1 sleep 600
	run_docker node1 run -d --name sidecar --stop-timeout 1 --network container:anchor dmt/web:1 sleep 600
	local before2
	before2=$(snapshot node2)
	run_dm 1 container sidecar --to node2
	contains "$output" 'network mode "container:' "names the network mode"
	contains "$output" "--drop-unmovable" "says what to do"
	is "$(state node1 sidecar)" running "source still running"
	is "$(snapshot node2)" "$before2" "destination unchanged"
}

@test "a bind mount missing at the destination is refused unless dropped" {
	mkdir -p /tmp/dmt-bind-src-only
	run_docker node1 run -d --name binder --stop-timeout 1 -v /tmp/dmt-bind-src-only:/data dmt/web:1 sleep 600
	rmdir /tmp/dmt-bind-src-only
	# node2 sees the same root filesystem: make the path exist only
	# while node1's container is created, then check from node2's view
	run_dm 1 container binder --to node2
	contains "$output" "/tmp/dmt-bind-src-only does not exist at the destination" "names the path"
	is "$(state node1 binder)" running "source still running"
	run_dm container binder --to node2 --drop-unmovable
	is "$(state node2 binder)" running "copy runs without it"
	is "$(ldocker node2 inspect -f '{{len .Mounts}}' binder)" 0 "bind mount dropped"
}

@test "an unknown host key or an unreachable host changes nothing" {
	run_docker node1 run -d --name stay --stop-timeout 1 dmt/web:1 sleep 600
	local cfg="$BATS_TEST_TMPDIR/ssh_config"
	: >"$BATS_TEST_TMPDIR/empty_known_hosts"
	sed "s|$LAB_KNOWN_HOSTS|$BATS_TEST_TMPDIR/empty_known_hosts|" "$LAB_SSH_CONFIG" >"$cfg"
	DOCKER_MIGRATE_SSH_CONFIG=$cfg run_dm 1 container stay --to node2
	contains "$output" "is unknown" "host key refused"
	local nohost=${LAB_NODE2_ADDR%.*}.99	# in the lab's range, no host there
	run_dm 1 container stay --to "root@$nohost"
	contains "$output" "cannot reach root@$nohost:22" "unreachable"
	is "$(state node1 stay)" running "source still running"
	is "$(state node2 stay)" absent "nothing at the destination"
	output=$(dm_json history --format json)
	is "$(jq -r '[.[] | select(.object == "stay") | .status] | unique | join(",")' <<<"$output")" \
		failed "both recorded as failed"
}

@test "a copy that never gets healthy is rolled back" {
	run_docker node1 run -d --name sick --stop-timeout 1 --health-cmd true --health-interval 60s \
		--health-start-period 60s dmt/web:1 sleep 600
	run_dm 1 container sick --to node2 --start-timeout 2
	contains "$output" "not healthy after 2 s" "reason"
	contains "$output" "rolled-back" "report says rolled back"
	is "$(state node1 sick)" running "source still running"
	is "$(state node2 sick)" absent "copy removed"
	run ldocker node2 image inspect dmt/web:1
	is "$status" 1 "image the migration brought is removed"
}

@test "--dry-run prints the plan and changes nothing" {
	run_docker node1 run -d --name planned --stop-timeout 1 dmt/web:1 sleep 600
	local before2
	before2=$(snapshot node2)
	run_dm container planned --to node2 --dry-run
	contains "$output" "Plan: move container planned" "plan"
	is "$(snapshot node2)" "$before2" "destination unchanged"
	is "$(state node1 planned)" running "source untouched"
}

@test "an unknown container is a one-line error, an unknown strategy a usage error" {
	run_dm 1 container no-such-thing --to node2
	contains "$output" "no such container: no-such-thing" "unknown container"
	one_line_error
	run_docker node1 run -d --name strat --stop-timeout 1 dmt/web:1 sleep 600
	run_dm 125 container strat --to node2 --strategy teleport
	contains "$output" 'invalid argument "teleport" for "--strategy" flag' "unknown strategy"
	usage_error "migrate container" 'invalid argument "teleport" for "--strategy" flag: must be one of "delta", "save", "registry" or "layers"'
	run_dm 125 container strat
	contains "$output" "requires --to HOST" "missing --to"
	usage_error "migrate container" "docker: 'docker migrate container' requires --to HOST"
}
