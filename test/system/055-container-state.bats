#!/usr/bin/env bats
# docker migrate container carries volumes: copied while the container
# runs, then only what changed once it is stopped; nothing is lost, and a
# failure leaves the source and its data as they were.

load helpers

setup_file() { dm_setup_file; }
setup() { dm_setup; }
teardown() {
	lab_clean node1 node2 >/dev/null 2>&1 || true
	# /run is each node's own: a bind source there is missing at the other
	lab_exec node1 rm -rf /run/dmt-b >/dev/null 2>&1 || true
	lab_exec node2 rm -rf /run/dmt-b /run/dmt-p >/dev/null 2>&1 || true
}

state() {
	local s
	s=$(ldocker "$1" inspect -f '{{.State.Status}}' "$2" 2>/dev/null) || s=absent
	echo "$s"
}

# A writer: 2 MB of fixed data, then one line every 50 ms into a log, in a
# named volume and in an anonymous one.
writer() {
	run_docker node1 run -d --name "$1" --init -v dmt-data:/data -v /anon \
		"$LAB_BASE_IMAGE" sh -c '
		[ -f /data/big ] || dd if=/dev/urandom of=/data/big bs=1k count=2048 2>/dev/null
		i=0; while :; do i=$((i+1)); echo "$i" >>/data/log; echo "$i" >/anon/last; sleep 0.05; done'
	sleep 1
}

vol_sum() {	# NODE VOLUME FILE: md5 of a file in a volume
	ldocker "$1" run --rm -v "$2":/v:ro "$LAB_BASE_IMAGE" md5sum "/v/$3" | cut -c1-32
}

@test "a running writer moves with its volumes and loses no line" {
	writer dmt-w
	local anon
	anon=$(ldocker node1 inspect -f '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}' dmt-w)
	run_dm container dmt-w --to node2
	contains "$output" "precopy" "volumes copied while it ran"
	contains "$output" "sync" "then the difference"
	contains "$output" "downtime" "downtime reported"
	is "$(state node1 dmt-w)" exited "source stopped"
	is "$(state node2 dmt-w)" running "copy running"
	is "$(vol_sum node2 dmt-data big)" "$(vol_sum node1 dmt-data big)" "big file identical"
	# every line written at the source is at the destination, in order;
	# the copy then goes on appending (its counter restarts at 1)
	local src_log dst_log n
	src_log=$(ldocker node1 run --rm -v dmt-data:/v:ro "$LAB_BASE_IMAGE" cat /v/log)
	n=$(wc -l <<<"$src_log")
	[ "$n" -ge 10 ] || { echo "only $n lines written at the source"; false; }
	dst_log=$(ldocker node2 run --rm -v dmt-data:/v:ro "$LAB_BASE_IMAGE" head -n "$n" /v/log)
	is "$dst_log" "$src_log" "the source's $n lines, all of them"
	is "$(ldocker node2 inspect -f '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}' dmt-w)" \
		"$anon" "the anonymous volume is carried under its name"
}

@test "the report's downtime and phases are measured" {
	writer dmt-t
	local rep
	rep=$(dm_json container dmt-t --to node2 --verify precopy --format json)
	is "$(jq -r '[.phases[].name] | join(",")' <<<"$rep")" \
		"check,transfer,precopy,create,stop-source,sync,start" "phases"
	[ "$(jq -r .downtime_ms <<<"$rep")" -gt 0 ] || { echo "no downtime measured"; false; }
}

@test "entries deleted and replaced while it moves: the same tree arrives, without a second copy" {
	# 4 MB that do not change; every 50 ms a directory made, the one of
	# three rounds before removed, a symlink pointed at the newest; only
	# where it first ran (the copy has another hostname)
	run_docker node1 run -d --name dmt-d --init -v dmt-data:/data "$LAB_BASE_IMAGE" sh -c '
		cd /data && i=0
		[ -f host ] || { hostname >host &&
			dd if=/dev/urandom of=big bs=1k count=4096 2>/dev/null; }
		while [ "$(cat host)" = "$(hostname)" ]; do
			i=$((i+1)); mkdir d$i && echo $i >d$i/x
			rm -rf d$((i-3)); ln -sfn d$i cur; sleep 0.05
		done; exec sleep 100000'
	sleep 1
	local rep
	rep=$(dm_json container dmt-d --to node2 --format json)
	is "$(jq -r .status <<<"$rep")" completed "completed"
	is "$(tree_of node2 dmt-data)" "$(tree_of node1 dmt-data)" \
		"the destination's tree is the source's at its stop"
	[ "$(jq -r .bytes <<<"$rep")" -lt 6000000 ] ||
		{ echo "$(jq -r .bytes <<<"$rep") bytes sent for 4 MB: copied again"; false; }
}

@test "a stopped container moves stopped, with its volume" {
	writer dmt-s
	run_docker node1 stop -t 1 dmt-s
	run_dm container dmt-s --to node2
	is "$(state node2 dmt-s)" created "created, not started"
	is "$(vol_sum node2 dmt-data log)" "$(vol_sum node1 dmt-data log)" "volume identical"
}

@test "a failed start rolls back the volumes too, and the source keeps its data" {
	run_docker node1 run -d --name dmt-f --init -v dmt-data:/data --health-cmd true \
		--health-interval 60s --health-start-period 60s "$LAB_BASE_IMAGE" \
		sh -c 'echo precious >/data/p; sleep 600'
	run_dm 1 container dmt-f --to node2 --start-timeout 2
	contains "$output" "rolled-back" "rolled back"
	is "$(state node1 dmt-f)" running "source restarted"
	run ldocker node1 exec dmt-f cat /data/p
	is "$output" precious "source data intact"
	run ldocker node2 volume inspect dmt-data
	is "$status" 1 "the volume copy is removed"
	is "$(ldocker node2 ps -aq)" "" "no container left at the destination"
}

@test "--pause: a failed start thaws the source, which keeps its data and runs on" {
	run_docker node1 run -d --name dmt-pf --init -v dmt-data:/data --health-cmd true \
		--health-interval 60s --health-start-period 60s "$LAB_BASE_IMAGE" \
		sh -c 'echo precious >/data/p; i=0; while :; do i=$((i+1)); echo $i >>/data/log; sleep 0.05; done'
	sleep 1
	run_dm 1 container dmt-pf --to node2 --pause --start-timeout 2
	contains "$output" "pause-source" "it was frozen"
	contains "$output" "rolled-back" "rolled back"
	is "$(ldocker node1 inspect -f '{{.State.Status}} {{.State.Paused}}' dmt-pf)" "running false" "thawed, running"
	local n1 n2
	n1=$(ldocker node1 exec dmt-pf wc -l /data/log | cut -d' ' -f1)
	sleep 0.5
	n2=$(ldocker node1 exec dmt-pf wc -l /data/log | cut -d' ' -f1)
	[ "$n2" -gt "$n1" ] || { echo "the source does not write any more ($n1, $n2)"; false; }
	is "$(ldocker node1 exec dmt-pf cat /data/p)" precious "its data"
	is "$(ldocker node2 ps -aq)" "" "no container left at the destination"
}

@test "--volumes=false refuses a container with volumes unless told to drop them" {
	run_docker node1 run -d --name dmt-n --stop-timeout 1 -v dmt-data:/data "$LAB_BASE_IMAGE" sleep 600
	run_dm 1 container dmt-n --to node2 --volumes=false
	contains "$output" 'volume "dmt-data" at /data' "names the volume"
	is "$(state node1 dmt-n)" running "source untouched"
}

@test "a non-empty volume of the same name at the destination is refused" {
	run_docker node1 run -d --name dmt-c --stop-timeout 1 -v dmt-data:/data "$LAB_BASE_IMAGE" sleep 600
	run_docker node2 run --rm -v dmt-data:/d "$LAB_BASE_IMAGE" sh -c 'echo theirs >/d/f'
	run_dm 1 container dmt-c --to node2
	contains "$output" "volume dmt-data already exists at node2 and is not empty" "refused"
	run ldocker node2 run --rm -v dmt-data:/d "$LAB_BASE_IMAGE" cat /d/f
	is "$output" theirs "their data untouched"
}

@test "--checkpoint is refused before anything stops when CRIU cannot dump" {
	# the lab's engines run with experimental features and Debian's CRIU,
	# which cannot dump on this kernel: the probe fails, cleanly
	run_docker node1 run -d --name dmt-cp --network host --stop-timeout 1 "$LAB_BASE_IMAGE" sleep 600
	run_dm 1 container dmt-cp --to node2 --checkpoint --checkpoint-timeout 30
	contains "$output" "cannot checkpoint dmt-cp on the source" "says why"
	contains "$output" "running as before" "and that the source runs"
	one_line_error
	is "$(state node1 dmt-cp)" running "source still running"
	is "$(ldocker node1 inspect -f '{{.State.Paused}}' dmt-cp)" false "not left paused"
	is "$(state node2 dmt-cp)" absent "nothing at the destination"
	run ldocker node1 checkpoint ls dmt-cp
	is "$(grep -c docker-migrate-probe <<<"$output")" 0 "no probe checkpoint left"
}

@test "--checkpoint refuses a container with a TTY" {
	run_docker node1 run -d -t --name dmt-tty --stop-timeout 1 "$LAB_BASE_IMAGE" sleep 600
	run_dm 1 container dmt-tty --to node2 --checkpoint
	contains "$output" "has a TTY" "reason"
	is "$(state node1 dmt-tty)" running "source still running"
}

@test "files added, changed and deleted in the container layer arrive too" {
	run_docker node1 run -d --name dmt-rf --init "$LAB_BASE_IMAGE" \
		sh -c 'echo conf >/etc/app.conf; echo changed >>/etc/passwd; rm /bin/vi; sleep 600'
	sleep 1
	run_dm container dmt-rf --to node2
	contains "$output" "rootfs" "the container layer phase ran"
	run ldocker node2 exec dmt-rf cat /etc/app.conf
	is "$output" conf "added file"
	run ldocker node2 exec dmt-rf tail -n 1 /etc/passwd
	is "$output" changed "changed file"
	run ldocker node2 exec dmt-rf ls /bin/vi
	is "$status" 1 "deleted file stays deleted"
	is "$(ldocker node2 inspect -f '{{.Config.Image}}' dmt-rf)" "$LAB_BASE_IMAGE" "original image name kept"
	is "$(ldocker node2 image inspect -f '{{.Id}}' "$LAB_BASE_IMAGE")" \
		"$(ldocker node1 image inspect -f '{{.Id}}' "$LAB_BASE_IMAGE")" "the tag still names the original image"
	is "$(ldocker node1 images -q --filter dangling=true)" "" "no committed layer left at the source"
}

# A bind source at node1 only, with odd names, owners and a link.
bind_source() {
	lab_exec node1 sh -c 'mkdir -p /run/dmt-b/sub && cd /run/dmt-b &&
		echo conf >"a file" && printf "x" >"$(printf "new\nline")" &&
		ln -s "a file" link && chown 4321:99 sub && chmod 0750 sub &&
		touch -d "2003-04-05 06:07:08" "a file"'
}

@test "a bind mount missing at the destination is refused, naming --bind-mounts" {
	bind_source
	run_docker node1 run -d --name dmt-bm --stop-timeout 1 -v /run/dmt-b:/conf "$LAB_BASE_IMAGE" sleep 600
	run_dm 1 container dmt-bm --to node2
	contains "$output" "/run/dmt-b does not exist at the destination (--bind-mounts copy" "says what to pass"
	one_line_error
	is "$(state node1 dmt-bm)" running "source untouched"
	run lab_exec node2 test -e /run/dmt-b
	is "$status" 1 "nothing made at the destination"
}

@test "--bind-mounts copy copies the directory to the same path, its changes during the move too" {
	bind_source
	run_docker node1 run -d --name dmt-bc --init -v /run/dmt-b:/conf "$LAB_BASE_IMAGE" \
		sh -c 'i=0; while :; do i=$((i+1)); echo $i >>/conf/sub/log; sleep 0.05; done'
	sleep 1
	run_dm container dmt-bc --to node2 --bind-mounts copy
	contains "$output" "completed" "completed"
	is "$(state node1 dmt-bc)" exited "source stopped"
	is "$(state node2 dmt-bc)" running "copy running"
	is "$(ldocker node2 inspect -f '{{range .Mounts}}{{.Type}} {{.Source}} {{.Destination}}{{end}}' dmt-bc)" \
		"bind /run/dmt-b /conf" "the same bind mount at the destination"
	ldocker node2 stop -t 1 dmt-bc >/dev/null
	local a b
	a=$(tree_of node1 /run/dmt-b)
	b=$(tree_of node2 /run/dmt-b)
	# the copy appended to the log once it ran: compare it apart
	diff <(grep -v '^./sub/log|' <<<"$a") <(grep -v '^./sub/log|' <<<"$b")
	contains "$a" "./sub|directory 750 4321:99 " "owner and mode in the listing"
	contains "$b" "./a file|regular file 644 0:0 5 1049522828 1|" "mtime kept"
	local src dst n
	src=$(lab_exec node1 cat /run/dmt-b/sub/log)
	n=$(wc -l <<<"$src")
	[ "$n" -ge 10 ] || { echo "only $n lines written at the source"; false; }
	dst=$(lab_exec node2 head -n "$n" /run/dmt-b/sub/log)
	is "$dst" "$src" "every line the source wrote"
	is "$(ldocker node2 ps -aq --filter label=org.docker-migrate.helper)" "" "no helper left"
}

@test "--bind-mounts copy (--mount): a failed start removes the directory it made" {
	lab_exec node1 sh -c 'mkdir -p /run/dmt-b && echo precious >/run/dmt-b/p'
	run_docker node1 run -d --name dmt-bf --init --mount type=bind,source=/run/dmt-b,target=/conf \
		--health-cmd true --health-interval 60s --health-start-period 60s \
		"$LAB_BASE_IMAGE" sleep 600
	run_dm 1 container dmt-bf --to node2 --bind-mounts copy --start-timeout 2
	contains "$output" "rolled-back" "rolled back"
	run lab_exec node2 test -e /run/dmt-b
	is "$status" 1 "the copied directory is removed"
	is "$(state node1 dmt-bf)" running "source restarted"
	is "$(lab_exec node1 cat /run/dmt-b/p)" precious "source data intact"
}

@test "--bind-mounts copy makes missing parents and removes them on rollback" {
	lab_exec node1 sh -c 'mkdir -p /run/dmt-p/deep/b && echo x >/run/dmt-p/deep/b/f'
	run_docker node1 run -d --name dmt-bp --init -v /run/dmt-p/deep/b:/b \
		--health-cmd true --health-interval 60s --health-start-period 60s \
		"$LAB_BASE_IMAGE" sleep 600
	run_dm 1 container dmt-bp --to node2 --bind-mounts copy --start-timeout 2
	contains "$output" "rolled-back" "rolled back"
	run lab_exec node2 test -e /run/dmt-p
	is "$status" 1 "the top directory made is removed"
	lab_exec node1 rm -rf /run/dmt-p
}

@test "--bind-mounts skip creates the copy without them, and says so" {
	bind_source
	run_docker node1 run -d --name dmt-bs --stop-timeout 1 -v /run/dmt-b:/conf \
		-v dmt-data:/data "$LAB_BASE_IMAGE" sleep 600
	run_dm container dmt-bs --to node2 --bind-mounts skip
	contains "$output" "leaving out bind mount /run/dmt-b:/conf" "said in the report"
	is "$(state node2 dmt-bs)" running "copy running"
	is "$(ldocker node2 inspect -f '{{range .Mounts}}{{.Type}}:{{.Destination}} {{end}}' dmt-bs)" \
		"volume:/data " "only the volume is mounted"
	run lab_exec node2 test -e /run/dmt-b
	is "$status" 1 "nothing made at the destination"
}

# kinds WRITER_LOOP_BODY [FLAGS]: a writer in dmt-data that writes only where it
# first ran (the copy has another hostname), after 96 MB of data and a
# hard-linked pair; then the move, with -D to see how it was checked
kinds() {
	run_docker node1 run -d --name dmt-k --init -v dmt-data:/data "$LAB_BASE_IMAGE" sh -c '
		cd /data && i=0
		[ -f host ] || { hostname >host && echo h >hard1 && ln hard1 hard2 &&
			dd if=/dev/urandom of=big bs=1M count=96 2>/dev/null && mkdir -p keep; }
		while [ "$(cat host)" = "$(hostname)" ]; do
			i=$((i+1)); '"$1"'; sleep 0.05
		done; exec sleep 100000'
	sleep 2
	run "$DOCKER" -D migrate container dmt-k --to node2 ${2:-}
	echo "$output"
	is "$status" 0 "migrated"
	ldocker node2 stop -t 1 dmt-k >/dev/null
	local a b
	a=$(tree_of node1 dmt-data)
	b=$(tree_of node2 dmt-data)
	diff <(echo "$a") <(echo "$b")
	# NAME|TYPE MODE UID:GID SIZE MTIME NLINK|...: still a pair
	grep -qE '^\./hard2\|regular file 644 0:0 [0-9]+ [0-9]+ 2\|' <<<"$b" ||
		{ echo "FAIL: hard2 is not one of a pair of links at the destination"; false; }
}

WRITES='echo $i >>log; echo $i >keep/state; ln -sfn "keep/state" latest
	chmod $((i % 2 ? 640 : 604)) log; chown $i:$((i * 2)) keep'

@test "appends, rewrites, a new symlink, modes and owners changed during the move: dm-helper sends and checks what changed" {
	kinds "$WRITES"
	contains "$output" "sync by dm-helper: " "the final pass by dm-helper"
	contains "$output" "final pass: read back by dm-helper (" "the sent part read back in one exec"
	[[ $output != *"reading it"* ]] || { echo "it read the whole tree"; false; }
}

@test "a hard-linked file appended to during the move: the group arrives linked, the same bytes" {
	kinds 'echo $i >>hard1'
	contains "$output" "sync by dm-helper: " "the final pass by dm-helper"
}

@test "directories renamed over another during the move: the names below carry the moved files" {
	# 300 directories made before the pre-copy, each with a file of the
	# same size and mtime; every round one is renamed over cur: cur/f's
	# own times never change, only the renamed directory's ctime does
	kinds '[ -f made ] || { for j in $(seq 100 399); do mkdir d$j &&
			echo $j >d$j/f && touch -r host d$j/f; done; : >made; }
		[ -d d$((i + 99)) ] && { rm -rf cur && mv d$((i + 99)) cur; }'
	contains "$output" "sync by dm-helper: " "the final pass by dm-helper"
}

@test "the same without dm-helper (another architecture): the archive's pass, checked by what was sent" {
	DOCKER_MIGRATE_TEST_NO_HELPER=1 kinds "$WRITES"
	contains "$output" "test hook: no dm-helper" "the archive's pass"
	contains "$output" "final pass: 1 stat(s) and 3 read(s) back (" "the sent part read back"
	[[ $output != *"reading it"* ]] || { echo "it read the whole tree"; false; }
}

@test "new directories by the dozen during the move: dm-helper reads them back in one exec" {
	kinds 'mkdir -p "d $i" && echo $i >"d $i/new"'
	contains "$output" "final pass: read back by dm-helper (" "one exec"
}

@test "new directories by the dozen, without dm-helper: the whole tree is read back instead" {
	DOCKER_MIGRATE_TEST_NO_HELPER=1 kinds 'mkdir -p "d $i" && echo $i >"d $i/new"'
	contains "$output" "would cost more than reading the whole tree" "fell back"
}

@test "--verify stat: the same changes, what was sent checked by stat and the engine's CRC check" {
	kinds 'echo $i >>log; echo $i >keep/state; ln -sfn "keep/state" latest
		chmod $((i % 2 ? 640 : 604)) log; chown $i:$((i * 2)) keep' "--verify stat"
	contains "$output" "final pass: 5 stat(s) and 0 read(s) back (" "only stats"
}
