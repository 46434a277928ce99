#!/usr/bin/env bats
# Fidelity: the copy is the container.  The containers of runlike's public
# test fixtures (re-written here with the lab's busybox images: ports,
# privileged, tty, DNS, user, labels, extra hosts, log options, restart
# policies, env, memory, binds, volumes, workdir, host network and PID,
# cpusets, MAC, --rm, entrypoints, IPv6; devices and links, which
# cannot move, are left to 020) and the harder cases of issue 16 are
# each moved, 20.10 -> 20.10 and 28 -> 28, and the source's and the
# copy's `docker inspect` compared field by field, less the fields listed
# in fixtures/fidelity.bash, together with what the process sees from
# inside (resolv.conf, hosts, env, hostname, limits, capabilities,
# cgroup limits, sysctls, mounts, interfaces in order).

load helpers
load fixtures/fidelity

IMG=dmt/fid-sleep:1
IMGV=dmt/fid-vol:1
BIND=/tmp/dmt-fid-bind

# The image of runlike's fixtures, on the lab's busybox: an entrypoint
# that runs a script, an image label and env, an empty CMD.
fid_image() {
	printf '%s\n' "FROM $LAB_BASE_IMAGE" \
		"RUN printf 'trap \"exit 0\" TERM\\nsleep 1000 & wait\\n' >/sleep.sh" \
		'LABEL ImageLabel=value' 'ENV IMAGE_ENV=value' 'CMD []' \
		'ENTRYPOINT ["/bin/sh", "/sleep.sh"]' |
		ldocker "$1" build -q -t "$IMG" - >/dev/null
	# an empty VOLUME of the image: made anew by the engine, empty
	printf '%s\n' "FROM $IMG" 'VOLUME /imgvol' |
		ldocker "$1" build -q -t "$IMGV" - >/dev/null
}

setup_file() {
	dm_setup_file
	local n
	for n in node3 node4; do lab_ctl remove "$n" >/dev/null 2>&1 || true; done
	lab_ctl add node3 --engine 28
	lab_ctl add node4 --engine 28
	lab_env
	for n in node1 node3; do fid_image "$n"; done
	for n in node1 node2 node3 node4; do lab_exec "$n" mkdir -p "$BIND"; done
}

teardown_file() {
	local n
	for n in node4 node3; do lab_ctl remove "$n" >/dev/null 2>&1 || true; done
	lab_env
	for n in node1 node2; do lab_exec "$n" rm -rf "$BIND"; done
	lab_clean node1 node2 >/dev/null 2>&1 || true
}

setup() { dm_setup; }

teardown() {
	fid_clean node1 node2 node3 node4 >/dev/null 2>&1 || true
}

SLEEP=(sh -c 'trap "exit 0" TERM; sleep 1000 & wait')

# ------------------------------------------------------------------
# The containers: fx_CASE NODE makes container fid-CASE running on NODE.

# runlike's fixture 1, less its device (see 020) and fluentd
fx_rl1() {
	ldocker "$1" volume create test_volume >/dev/null
	ldocker "$1" run -d --name fid-rl1 --hostname Essos \
		--expose 1000 --expose 1000/udp --privileged --cap-add=CHOWN \
		-p 400:400 -p 300 -p 301/udp -p 503:502/udp -p 127.0.0.1:601:600/udp \
		-t --dns=10.80.0.1 --dns=10.80.0.2 --user 1:1 \
		--label='com.example.notescaped=$KEEP_DOLLAR' \
		--label='com.example.environment=test' \
		--add-host hostname2:127.0.0.2 --add-host hostname3:127.0.0.3 \
		--log-opt max-size=1m --log-opt max-file=2 --restart=always \
		--runtime=runc \
		--env "FOO=thing=\"quoted value with 'spaces' and 'single quotes'\"" \
		--env SET_WITHOUT_VALUE --env UTF_8=ユーザー別サイト \
		--memory=67108864 --memory-reservation=50331648 \
		-v "$BIND":/workdir -v "$BIND":/workdir_ro:ro \
		-v test_volume:/test_volume --workdir=/workdir "$IMG"
}

# runlike's fixture 2, less its device: the host's network and PIDs
fx_rl2() {
	ldocker "$1" run -d --name fid-rl2 --restart=on-failure --net host \
		--pid host --label='com.example.version=1' "$IMG" /bin/sh sleep.sh
}

fx_rl3() {
	ldocker "$1" network create fid-bridge >/dev/null
	ldocker "$1" run -d --name fid-rl3 --restart=on-failure:3 \
		--network fid-bridge --log-opt mode=non-blocking \
		--log-opt max-buffer-size=4m --cpuset-cpus 0 --cpuset-mems 0 \
		"$IMG" sh -c 'sh /sleep.sh'
}

# The CLI of the lab (28) sends --mac-address per network, which API 1.41
# has not: on 20.10 the container is made as that CLI's own version did,
# through the Engine API, with Config.MacAddress.
fx_rl4() {
	if [[ $(lab_engine "$1") != 20.10 ]]; then
		ldocker "$1" run -d --name fid-rl4 --restart= \
			--mac-address=6a:00:01:ad:d9:e0 "$IMG" sh -c "sh '/sleep.sh'"
		return
	fi
	curl -fsS --unix-socket "$(lab_sock "$1" | sed 's#^unix://##')" \
		-H 'Content-Type: application/json' -d "{\"Image\":\"$IMG\",
		\"Cmd\":[\"sh\",\"-c\",\"sh '/sleep.sh'\"],
		\"MacAddress\":\"6a:00:01:ad:d9:e0\",
		\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"no\"}}}" \
		"http://engine/v1.41/containers/create?name=fid-rl4" >/dev/null
	ldocker "$1" start fid-rl4
}
chk_rl4() {
	is "$(ldocker "$2" exec fid-rl4 cat /sys/class/net/eth0/address)" \
		6a:00:01:ad:d9:e0 "the copy's MAC address"
}

# runlike's fixture 5, less its links (see 020): --rm
fx_rl5() { ldocker "$1" run -d --name fid-rl5 --rm "$IMG"; }

fx_rl6() {
	ldocker "$1" run -d --name fid-rl6 -p 127.0.0.1:602:600/udp "$IMG" \
		sh -c 'sh /sleep.sh'
}

fx_rl7() {
	ldocker "$1" run -d --name fid-rl7 --rm --entrypoint /bin/sh "$IMG" \
		/sleep.sh
}

fx_rl8() {
	ldocker "$1" network create --ipv6 --subnet=2001:db8:1::/64 fid-ipv6 >/dev/null
	ldocker "$1" run -d --name fid-rl8 --network fid-ipv6 --ip6 2001:db8:1::42 \
		"$IMG" sh -c 'sh /sleep.sh'
}

# issue 16, finding 2: the image's entrypoint cleared
fx_noentry() {
	ldocker "$1" run -d --name fid-noentry --entrypoint '' "$IMG" "${SLEEP[@]}"
}
chk_noentry() {
	is "$(ldocker "$2" exec fid-noentry sh -c 'tr "\0" " " </proc/1/cmdline')" \
		'sh -c trap "exit 0" TERM; sleep 1000 & wait ' "the copy runs the user's command"
}

# finding 3: the host's network and UTS namespace; the hostname is the
# host's, the destination's at the destination
fx_hostnet() {
	ldocker "$1" run -d --name fid-hostnet --network host --uts host \
		"$LAB_BASE_IMAGE" "${SLEEP[@]}"
}
chk_hostnet() {
	is "$(ldocker "$2" exec fid-hostnet hostname)" \
		"$(ldocker "$2" info -f '{{.Name}}')" "the copy's hostname is its host's"
}

# finding 6: three networks, joined out of their names' order: the
# interfaces come in the source's order (eth1 fid-n3, eth2 fid-n2)
fx_threenets() {
	local n
	for n in 1 2 3; do
		ldocker "$1" network create --subnet "10.77.$n.0/24" "fid-n$n" >/dev/null
	done
	ldocker "$1" run -d --name fid-threenets --network fid-n1 \
		"$LAB_BASE_IMAGE" "${SLEEP[@]}"
	ldocker "$1" network connect fid-n3 fid-threenets
	ldocker "$1" network connect fid-n2 fid-threenets
}

# what runs through most of `docker run`: a static IP on a user
# network with aliases, DNS options, limits, ulimits, sysctls, log
# options, a healthcheck, init, stop signal, tmpfs, a read-only root,
# capabilities, security options, compose's labels
fx_rich() {
	ldocker "$1" network create --subnet 10.78.0.0/24 --label dmt=fid fid-rich >/dev/null
	ldocker "$1" run -d --name fid-rich --network fid-rich --ip 10.78.0.42 \
		--network-alias web --network-alias www \
		--hostname richhost --domainname example.org \
		--dns 10.80.0.1 --dns-search example.org --dns-option ndots:2 \
		--cpus 0.5 --cpu-shares 512 --pids-limit 64 -m 64m --memory-swap 128m \
		--ulimit nofile=1024:2048 --ulimit nproc=500:600 \
		--sysctl net.core.somaxconn=1024 --sysctl kernel.shm_rmid_forced=1 \
		--log-opt max-size=2m \
		--health-cmd 'test -e /proc/1' --health-interval 1s --health-retries 3 \
		--init --stop-signal SIGUSR1 --stop-timeout 3 \
		--tmpfs /scratch:size=1m,mode=1777 --read-only \
		--cap-drop ALL --cap-add NET_BIND_SERVICE --cap-add KILL \
		--security-opt no-new-privileges --group-add 10 --shm-size 8m \
		--oom-score-adj 100 -e A=1 -e 'B=two words' \
		-l com.docker.compose.project=fid -l com.docker.compose.service=web \
		-l com.docker.compose.container-number=1 \
		"$LAB_BASE_IMAGE" sh -c 'trap "exit 0" TERM USR1; sleep 1000 & wait'
}
chk_rich() {
	is "$(ldocker "$2" inspect -f '{{.State.Health.Status}}' fid-rich)" healthy \
		"the copy is healthy"
	# its layer holds only the mount point of its --tmpfs (the engine's,
	# not a change): no committed layer, the image's name in docker ps
	is "$(ldocker "$2" ps --format '{{.Image}}' -f name=fid-rich)" \
		"$LAB_BASE_IMAGE" "docker ps shows the image's name"
	is "$(ldocker "$2" exec fid-rich ip -o -4 addr show dev eth0 | awk '{print $4}')" \
		10.78.0.42/24 "its static address"
}

# fid_case CASE SRC DST: make fid-CASE on SRC, move it to DST, and
# compare: its inspect and its probe, then the case's own checks.
fid_case() {
	local c=$1 src=$2 dst=$3 view probe
	"fx_$c" "$src" >/dev/null
	wait_running "$src" "fid-$c"
	view=$(fid_view "$src" "fid-$c")
	probe=$(fid_probe "$src" "fid-$c")
	DOCKER_HOST=$(lab_sock "$src") run_dm container "fid-$c" --to "$dst"
	contains "$output" "completed container fid-$c" "moved"
	wait_running "$dst" "fid-$c"
	fid_same "docker inspect of fid-$c" "$view" "$(fid_view "$dst" "fid-$c")"
	fid_same "what fid-$c sees from inside" "$probe" "$(fid_probe "$dst" "fid-$c")"
	if declare -F "chk_$c" >/dev/null; then "chk_$c" "$src" "$dst"; fi
}

# wait_running NODE NAME: running (and healthy, with a healthcheck), 10 s at most.
wait_running() {
	local i s
	for ((i = 0; i < 50; i++)); do
		s=$(ldocker "$1" inspect -f '{{.State.Status}}{{if .State.Health}} {{.State.Health.Status}}{{end}}' "$2" 2>/dev/null)
		[[ $s == running || $s == "running healthy" ]] && return 0
		sleep 0.2
	done
	echo "FAIL: $2 on $1 is \"$s\", not running" >&2
	return 1
}

# ------------------------------------------------------------------

@test "20.10: runlike 1: ports, privileged, tty, dns, user, labels, hosts, log options, restart, env, memory, binds, volume, workdir" {
	fid_case rl1 node1 node2
}
@test "20.10: runlike 2: host network and PID namespace" { fid_case rl2 node1 node2; }
@test "20.10: runlike 3: user bridge, log options, cpusets" { fid_case rl3 node1 node2; }
@test "20.10: runlike 4: a MAC address" { fid_case rl4 node1 node2; }
@test "20.10: runlike 5: --rm" { fid_case rl5 node1 node2; }
@test "20.10: runlike 6: a UDP port on 127.0.0.1" { fid_case rl6 node1 node2; }
@test "20.10: runlike 7: --rm and an entrypoint" { fid_case rl7 node1 node2; }
@test "20.10: runlike 8: IPv6 with a static address" { fid_case rl8 node1 node2; }
@test "20.10: --entrypoint '' stays cleared" { fid_case noentry node1 node2; }
@test "20.10: --network host --uts host: the destination's hostname" { fid_case hostnet node1 node2; }
@test "20.10: three networks: the interfaces in the source's order" { fid_case threenets node1 node2; }
@test "20.10: a rich configuration, static IP, read-only root" { fid_case rich node1 node2; }

@test "28: runlike 1: ports, privileged, tty, dns, user, labels, hosts, log options, restart, env, memory, binds, volume, workdir" {
	fid_case rl1 node3 node4
}
@test "28: runlike 2: host network and PID namespace" { fid_case rl2 node3 node4; }
@test "28: runlike 3: user bridge, log options, cpusets" { fid_case rl3 node3 node4; }
@test "28: runlike 4: a MAC address" { fid_case rl4 node3 node4; }
@test "28: runlike 5: --rm" { fid_case rl5 node3 node4; }
@test "28: runlike 6: a UDP port on 127.0.0.1" { fid_case rl6 node3 node4; }
@test "28: runlike 7: --rm and an entrypoint" { fid_case rl7 node3 node4; }
@test "28: runlike 8: IPv6 with a static address" { fid_case rl8 node3 node4; }
@test "28: --entrypoint '' stays cleared" { fid_case noentry node3 node4; }
@test "28: --network host --uts host: the destination's hostname" { fid_case hostnet node3 node4; }
@test "28: three networks: the interfaces in the source's order" { fid_case threenets node3 node4; }
@test "28: a rich configuration, static IP, read-only root" { fid_case rich node3 node4; }

# finding 8: anonymous volumes (-v /data, as runlike's fixture 1 has, and
# an image's VOLUME) are named by the engine: the copy is created first,
# its engine makes its own, and their content is copied into them; its
# inspect is the source's (no HostConfig.Mounts entry, Mode "")
fx_anon() {
	ldocker "$1" run -d --name fid-anon -v /data "$IMGV" >/dev/null
	ldocker "$1" exec fid-anon sh -c 'echo kept >/data/f; echo also >/imgvol/g'
}
chk_anon() {
	is "$(ldocker "$2" exec fid-anon cat /data/f /imgvol/g)" "kept
also" "the anonymous volumes' content"
	is "$(ldocker "$2" inspect -f '{{range .Mounts}}{{println .Name}}{{end}}' fid-anon | grep . | sort | tr '\n' ' ')" \
		"$(ldocker "$2" volume ls -q | sort | tr '\n' ' ')" \
		"the copy's volumes are the engine's new ones, nothing else there"
}
@test "20.10: anonymous volumes stay anonymous" { fid_case anon node1 node2; }
@test "28: anonymous volumes stay anonymous" { fid_case anon node3 node4; }

# Without dm-helper (another architecture) a volume in which files were
# deleted since the pre-copy is copied again whole, into a volume made
# again: the engine's anonymous one is then ours, mounted by its name
# there, and the copy has the source's last tree.
@test "20.10: an anonymous volume copied again whole (files deleted, no dm-helper): the source's last tree" {
	# it writes only where it first ran (the copy has another hostname)
	ldocker node1 run -d --name fid-churn -v /data "$LAB_BASE_IMAGE" sh -c '
		trap "exit 0" TERM; i=0; [ -f /data/host ] || hostname >/data/host
		while [ "$(hostname)" = "$(cat /data/host)" ]; do
			i=$((i+1)); echo $i >/data/f$i; rm -f /data/f$((i-3)); sleep 0.05
		done; sleep 1000 & wait' >/dev/null
	sleep 1
	DOCKER_MIGRATE_TEST_NO_HELPER=1 run "$DOCKER" -D migrate container fid-churn --to node2
	echo "$output"
	is "$status" 0 "migrated"
	contains "$output" "copying it whole" "copied again whole"
	local src dst
	src=$(ldocker node1 inspect -f '{{range .Mounts}}{{.Name}}{{end}}' fid-churn)
	dst=$(ldocker node2 inspect -f '{{range .Mounts}}{{.Name}}{{end}}' fid-churn)
	ldocker node2 stop -t 1 fid-churn >/dev/null
	diff <(tree_of node1 "$src") <(tree_of node2 "$dst") ||
		{ echo "FAIL: the copy's tree is not the source's last" >&2; false; }
	is "$(ldocker node2 volume ls -q)" "$dst" "one volume there: the copy's"
}

# An image's VOLUME holding files: the engine copies them into the copy's
# new volume, and the source's tree (where one was deleted) cannot go over
# them; that copy is mounted by the source's names, as before, and its
# tree is the source's.
@test "20.10: an image's VOLUME with files, one deleted at the source: the copy's tree is the source's" {
	printf '%s\n' "FROM $LAB_BASE_IMAGE" 'RUN mkdir /seed && echo a >/seed/a && echo b >/seed/b' \
		'VOLUME /seed' | ldocker node1 build -q -t dmt/fid-seed:1 - >/dev/null
	ldocker node1 run -d --name fid-seed dmt/fid-seed:1 "${SLEEP[@]}" >/dev/null
	ldocker node1 exec fid-seed sh -c 'rm /seed/a; echo c >/seed/c'
	run_dm container fid-seed --to node2
	is "$(ldocker node2 exec fid-seed ls /seed | tr '\n' ' ')" "b c " "a stays deleted"
}

# ------------------------------------------------------------------
# What a move does not do, or says.

# issue 16, finding 1: an --rm source is removed by its stop; its copy
# fails to start (a healthcheck that holds only where it began: the
# copy's hostname is its own id's), and the source must still run, as it
# was, with its anonymous volume's data
@test "20.10: an --rm source whose copy cannot start keeps running, with its data" {
	ldocker node1 run -d --rm --name fid-rm -v /data \
		--health-cmd 'test "$(hostname)" = "$(cat /data/host)"' \
		--health-interval 1s --health-retries 2 "$LAB_BASE_IMAGE" \
		sh -c '[ -e /data/host ] || hostname >/data/host; echo precious >/data/keep
		       trap "exit 0" TERM; sleep 1000 & wait' >/dev/null
	wait_running node1 fid-rm
	local started
	started=$(ldocker node1 inspect -f '{{.State.StartedAt}}' fid-rm)
	run_dm 1 container fid-rm --to node2 --start-timeout 10
	contains "$output" "the new container is unhealthy at node2" "the copy did not start"
	contains "$output" "pause-source" "frozen, not stopped"
	is "$(ldocker node1 inspect -f '{{.State.Status}} {{.State.StartedAt}}' fid-rm)" \
		"running $started" "the source runs, never stopped"
	is "$(ldocker node1 exec fid-rm cat /data/keep)" precious "its anonymous volume's data"
	is "$(ldocker node2 ps -aq)$(ldocker node2 volume ls -q)" "" "nothing left at node2"
}

@test "20.10: a moved --rm source is gone with its anonymous volume, its copy has the data and the layer" {
	ldocker node1 run -d --rm --name fid-rm -v /data "$LAB_BASE_IMAGE" \
		sh -c 'echo precious >/data/keep; echo layer >/etc/changed
		       trap "exit 0" TERM; sleep 1000 & wait' >/dev/null
	wait_running node1 fid-rm
	run_dm container fid-rm --to node2
	contains "$output" "rootfs" "the layer committed while frozen"
	is "$(ldocker node2 exec fid-rm cat /data/keep /etc/changed)" "precious
layer" "the copy's data and layer"
	is "$(ldocker node1 ps -aq)$(ldocker node1 volume ls -q)" "" \
		"the source and its anonymous volume are gone, as --rm does"
}

# finding 9: a volume of the local driver on tmpfs holds memory
@test "20.10: a tmpfs volume moves with its options; the plan and the report say its content stays behind" {
	ldocker node1 run -d --name fid-tmpv --mount \
		'type=volume,src=mem,dst=/mem,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=1m' \
		"$LAB_BASE_IMAGE" sh -c 'echo memory >/mem/x; trap "exit 0" TERM; sleep 1000 & wait' >/dev/null
	wait_running node1 fid-tmpv
	run_dm container fid-tmpv --to node2 --dry-run
	contains "$output" "not carried: tmpfs volume mem" "the plan's step"
	contains "$output" "its content is memory and is not carried" "the plan's why"
	run_dm container fid-tmpv --to node2
	contains "$output" "volume mem is a tmpfs: its content is memory and is not carried" \
		"the warning"
	contains "$output" "precopy       not carried: tmpfs volume mem" "the report's step"
	is "$(ldocker node2 volume inspect -f '{{json .Options}}' mem)" \
		'{"device":"tmpfs","o":"size=1m","type":"tmpfs"}' "its options"
	wait_running node2 fid-tmpv
}
