#!/usr/bin/env bats
# The downtime of a stateful move, seen by a client: a web service whose
# 100 MB volume changes a few kB a second moves while a probe asks it for
# a page every 50 ms at both hosts.  The test asserts what arrived (every
# line written, every byte of the data); the times are printed, never
# asserted (a loaded machine must not fail a correct migration).

load helpers

setup_file() {
	dm_setup_file
	PROBE="$BATS_FILE_TMPDIR/probe"
	cc -O2 -o "$PROBE" "$BATS_TEST_DIRNAME/../../bench/probe.c"
	export PROBE
}
setup() { dm_setup; }
teardown() {
	[[ -n ${PROBE_PID:-} ]] && kill "$PROBE_PID" 2>/dev/null
	lab_clean node1 node2 >/dev/null 2>&1 || true
}

# 100 MB: one 60 MB file and forty of 1 MB; a log that grows by about
# 3 kB a second and a state file rewritten in place ten times a second.
service() {
	run_docker node1 volume create dmt-state
	run_docker node1 run --rm -v dmt-state:/d "$LAB_BASE_IMAGE" sh -c '
		mkdir -p /d/www /d/blobs &&
		dd if=/dev/urandom of=/d/blobs/big bs=1M count=60 2>/dev/null &&
		for i in $(seq 1 40); do
			dd if=/dev/urandom of=/d/blobs/b$i bs=1M count=1 2>/dev/null
		done && echo hello >/d/www/index.html && : >/d/log'
	run_docker node1 run -d --name dmt-web -p 8080:80 -v dmt-state:/data \
		"$LAB_BASE_IMAGE" sh -c '
		httpd -p 80 -h /data/www; trap "exit 0" TERM INT
		i=$(wc -l </data/log)
		pad=$(printf "%0280d" 0)
		while :; do
			i=$((i+1)); echo "$i $pad" >>/data/log; echo "$i" >/data/www/n
			sleep 0.1 & wait $!
		done'
	lab_wait_http "http://$LAB_NODE1_ADDR:8080/" 20
}

# The longest time no host answered, from the probe's log (the wall ms of
# each tick's first answer, then 1/0 per host), less one interval: 0 when
# no tick was missed.
probe_gap() {
	awk '$2 == 1 || $3 == 1 { print $1 }' "$1" | sort -n |
		awk -v iv=50 '{ if (last != "" && $1 - last > gap) gap = $1 - last; last = $1 }
		END { g = gap - iv; print (g < 0 ? 0 : g) }'
}

volume_tar() {	# NODE FILE: the volume, through a helper, as a tar
	ldocker "$1" run --rm -v dmt-state:/v:ro "$LAB_BASE_IMAGE" tar -C /v -cf - . >"$2"
}

# move [FLAGS...]: the service moves while the probe runs; the report's
# JSON in $rep, the client's downtime printed; then the content checked.
move_and_check() {
	service
	sleep 1
	local plog="$BATS_TEST_TMPDIR/probe.log"
	"$PROBE" 50 1000 "$LAB_NODE1_ADDR:8080" "$LAB_NODE2_ADDR:8080" >"$plog" &
	PROBE_PID=$!
	sleep 0.5
	rep=$(dm_json container dmt-web --to node2 --format json "$@")
	lab_wait_http "http://$LAB_NODE2_ADDR:8080/" 20
	sleep 0.5
	kill "$PROBE_PID"
	wait "$PROBE_PID" || true
	PROBE_PID=
	local gap
	gap=$(probe_gap "$plog")
	echo "# $*: downtime seen by the client (50 ms probe): $gap ms; reported: $(jq -r .downtime_ms <<<"$rep") ms;" \
		"phases: $(jq -r '[.phases[] | "\(.name)=\(.ms)"] | join(" ")' <<<"$rep")" >&3
	is "$(jq -r .status <<<"$rep")" completed "completed"
	is "$(curl -fsS -m 2 "http://$LAB_NODE2_ADDR:8080/index.html")" hello "the service answers at node2"
	is "$(ldocker node1 inspect -f '{{.State.Status}}' dmt-web)" exited "the source is stopped"
	# what the source had when it stopped is at the destination, byte for
	# byte; the copy has only appended to its log since
	volume_tar node1 "$BATS_TEST_TMPDIR/a.tar"
	volume_tar node2 "$BATS_TEST_TMPDIR/b.tar"
	local a="$BATS_TEST_TMPDIR/a" b="$BATS_TEST_TMPDIR/b" n
	mkdir -p "$a" "$b"
	tar -C "$a" -xf "$BATS_TEST_TMPDIR/a.tar"
	tar -C "$b" -xf "$BATS_TEST_TMPDIR/b.tar"
	diff -r "$a/blobs" "$b/blobs"
	n=$(wc -l <"$a/log")
	[ "$n" -ge 10 ] || { echo "only $n lines written at the source"; false; }
	cmp <(head -n "$n" "$b/log") "$a/log"
	[ "$(cat "$b/www/n")" -ge 1 ] || { echo "the copy does not write"; false; }
}

@test "a service with a 100 MB volume moves; the client sees it down only for the last changes" {
	move_and_check ${DM_EXTRA:-}
	is "$(jq -r '[.phases[].name] | join(",")' <<<"$rep")" \
		"check,transfer,precopy,create,stop-source,sync,start" "phases"
}

@test "--pause: frozen for the final pass, stopped once the copy runs" {
	move_and_check --pause
	is "$(jq -r '[.phases[].name] | join(",")' <<<"$rep")" \
		"check,transfer,precopy,create,pause-source,sync,start,stop-source" "phases"
}

@test "--pause --verify stat: the least downtime, the same content" {
	move_and_check --pause --verify stat
	is "$(jq -r '[.phases[].name] | join(",")' <<<"$rep")" \
		"check,transfer,precopy,create,pause-source,sync,start,stop-source" "phases"
}
