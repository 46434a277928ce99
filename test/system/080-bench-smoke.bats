#!/usr/bin/env bats
# The benchmark (bench/run.sh) in --quick mode on the running lab, with a
# tiny image: its results have the expected shape, and what is stable is
# checked (bytes on the link, the plugin's peak memory); times never are.

load helpers

setup_file() {
	dm_setup_file
	export BENCH_OUT="$BATS_FILE_TMPDIR/bench"
	export BENCH_METHODS=save-ssh-load,migrate-delta,migrate-save,migrate-registry,migrate-layers
	# 4 MB of app data (1 MB incompressible, 3 MB text-like) on the quick
	# link (100mbit/10ms), the base at the destination, once: the reference
	# (save | ssh load) and the plugin's strategies (the baselines besides
	# the reference only add time here; the full benchmark runs them)
	LAB_ID=${LAB_ID:-0} "$BATS_TEST_DIRNAME/../../bench/run.sh" --quick --use-running-lab \
		--keep-workload --plugin "$DM_BIN" --size 4 --scenarios base --no-plot \
		--methods "$BENCH_METHODS" \
		--out "$BENCH_OUT" >"$BATS_FILE_TMPDIR/bench.log" 2>&1 || {
		tail -n 40 "$BATS_FILE_TMPDIR/bench.log" >&3
		return 1
	}
	# one pair of engines besides (--pairs): node2 becomes a dockerd 28.5
	# with the containerd image store for a second run, the reference and
	# delta only, then a 20.10 node again
	export BENCH_OUT_28C="$BATS_FILE_TMPDIR/bench-28c"
	swap_node2 --engine 28c || return 1
	LAB_ID=${LAB_ID:-0} "$BATS_TEST_DIRNAME/../../bench/run.sh" --quick --use-running-lab \
		--keep-workload --plugin "$DM_BIN" --size 4 --scenarios base --no-plot \
		--methods save-ssh-load,migrate-delta --pairs 20.10:28c \
		--out "$BENCH_OUT_28C" >"$BATS_FILE_TMPDIR/bench-28c.log" 2>&1 || {
		tail -n 40 "$BATS_FILE_TMPDIR/bench-28c.log" >&3
		node2_as_before
		return 1
	}
	node2_as_before
}
# swap_node2 [--engine KIND]: node2 anew, of that kind.  The new node has
# the old one's address behind another MAC: the root namespace's
# neighbour entry for it is dropped, or packets may go to the old MAC
# until it expires (once, at a load of 12, the new sshd did not answer
# within lab.sh's 30 s)
swap_node2() {
	lab_ctl remove node2 >/dev/null || return 1
	ip neigh flush to "$LAB_NODE2_ADDR" 2>/dev/null || true
	lab_ctl add node2 "$@" >/dev/null
}
# node2 a 20.10 node again, as the other tests expect it
node2_as_before() {
	[[ $(cat "$LAB_DIR/node2/engine" 2>/dev/null) == 28c ]] || return 0
	swap_node2
}
setup() { dm_setup; }
teardown_file() {
	lab_env
	node2_as_before || true
	lab_clean node1 node2 >/dev/null 2>&1 || true
}

# col NAME: the column's number in results.csv
col() {
	head -n 1 "$BENCH_OUT/results.csv" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1
}
# val SCENARIO METHOD NAME [CSV]: that run's value
val() {
	awk -F, -v s="$1" -v m="$2" -v c="$(col "$3")" '$4 == s && $5 == m { print $c }' "${4:-$BENCH_OUT/results.csv}"
}

@test "bench: results.csv has one row per scenario and method, all successful" {
	is "$(head -n 1 "$BENCH_OUT/results.csv")" \
		"link,rate,rtt_ms,scenario,method,rep,seq,ok,total_ms,phases,plugin_total_ms,plugin_bytes,link_bytes,node2_tx,node2_rx,node1_tx,node1_rx,peak_rss_kb,downtime_ms,plugin_downtime_ms,lost_writes,error,pair" \
		"CSV header"
	local m n
	for m in ${BENCH_METHODS//,/ }; do
		n=$(awk -F, -v m="$m" '$4 == "base" && $5 == m' "$BENCH_OUT/results.csv" | wc -l)
		is "$n" 1 "one row for base/$m"
		is "$(val base "$m" ok)" 1 "base/$m succeeded ($(val base "$m" error))"
		is "$(val base "$m" link)" "100mbit/10ms" "base/$m link"
		is "$(val base "$m" pair)" "20.10->20.10" "base/$m engine pair (the default)"
	done
	is "$(($(wc -l <"$BENCH_OUT/results.csv") - 1))" 5 "no other row"
	# every row has all the columns (the error column is quoted, empty)
	is "$(awk -F, '{ print NF }' "$BENCH_OUT/results.csv" | sort -u)" 23 "23 columns on every line"
	jq -e '.runs | length > 0' "$BENCH_OUT/results.json" >/dev/null
	grep -q '^targets (issue 8)' "$BENCH_OUT/table.txt"
}

# missing_gz VAR1 VAR6 VARRAW: the layers of dmbench/app:1 that the
# destination lacks (all but the base's), compressed by libdeflate-gzip
# at levels 1 and 6, and raw
missing_gz() {
	local dir="$BATS_TEST_TMPDIR/img" base_layers l
	local -n _gz=$1 _gz6=$2 _raw=$3
	_gz=0 _gz6=0 _raw=0
	mkdir -p "$dir"
	ldocker node1 save dmbench/app:1 | tar -C "$dir" -xf -
	base_layers=$(ldocker node1 image inspect -f '{{len .RootFS.Layers}}' "$LAB_BASE_IMAGE")
	for l in $(jq -r '.[0].Layers[]' "$dir/manifest.json" | tail -n +$((base_layers + 1))); do
		_gz=$((_gz + $(libdeflate-gzip -1 -c <"$dir/$l" | wc -c)))
		_gz6=$((_gz6 + $(libdeflate-gzip -6 -c <"$dir/$l" | wc -c)))
		_raw=$((_raw + $(stat -c %s "$dir/$l")))
	done
	rm -rf "$dir"
}

@test "bench: delta with the base present puts the compressed missing layers on the link, and less than save" {
	# independently of the plugin: the layers of the image that the
	# destination lacks (all but the base's), each compressed as the
	# delta strategy may: libdeflate level 1 on a link that keeps up,
	# up to level 6 (GZOUT_MAX_LEVEL) on one that the compressor waits
	# for; what does not compress is stored, as libdeflate-gzip does too
	local gz gz6 raw
	missing_gz gz gz6 raw
	[ "$gz" -gt 1000000 ] || { echo "the missing layers compress to $gz bytes only"; false; }
	[ "$gz" -lt $((raw * 2 / 3)) ] || { echo "the missing layers ($raw bytes) compress to $gz bytes only: not the workload expected"; false; }
	local delta save
	delta=$(val base migrate-delta link_bytes)
	save=$(val base migrate-save link_bytes)
	echo "missing layers: $raw bytes, libdeflate-gzip -1: $gz, -6: $gz6; on the link: delta $delta, save $save"
	# between the missing layers at level 6 and at level 1 (see within)
	[ "$delta" -ge $((gz6 * 95 / 100)) ] || { echo "delta: $delta < 95 % of $gz6"; false; }
	[ "$delta" -le $((gz * 105 / 100 + 65536)) ] || { echo "delta: $delta > 105 % of $gz + 64 KiB"; false; }
	[ "$delta" -lt "$save" ] || { echo "delta ($delta) not less than save ($save)"; false; }
}

# within BYTES EXPECTED WHAT: BYTES is EXPECTED within 5 %, plus 64 KiB
# (SSH or HTTP handshakes, the API requests, the image's config and
# manifest, archive framing, the TCP acks coming back)
within() {
	[ "$1" -ge $(($2 * 95 / 100)) ] || { echo "$3: $1 < 95 % of $2"; false; }
	[ "$1" -le $(($2 * 105 / 100 + 65536)) ] || { echo "$3: $1 > 105 % of $2 + 64 KiB"; false; }
}

@test "bench: into the containerd store (--pairs 20.10:28c), delta puts the compressed missing layers on the link" {
	local csv="$BENCH_OUT_28C/results.csv" m gz gz6 raw delta ref
	for m in save-ssh-load migrate-delta; do
		is "$(val base "$m" ok "$csv")" 1 "20.10->28c base/$m succeeded ($(val base "$m" error "$csv"))"
		is "$(val base "$m" pair "$csv")" "20.10->28c" "base/$m engine pair"
	done
	# the same workload as the first run's (built the same way), so the
	# same missing layers; sent as an OCI layout (a few kB more)
	missing_gz gz gz6 raw
	delta=$(val base migrate-delta link_bytes "$csv")
	ref=$(val base save-ssh-load link_bytes "$csv")
	echo "missing layers: $raw bytes, libdeflate-gzip -1: $gz, -6: $gz6; on the link: delta $delta, save | ssh load $ref"
	[ "$delta" -ge $((gz6 * 95 / 100)) ] || { echo "delta: $delta < 95 % of $gz6"; false; }
	[ "$delta" -le $((gz * 105 / 100 + 65536)) ] || { echo "delta: $delta > 105 % of $gz + 64 KiB"; false; }
	grep -q '^  20.10->28c ' "$BENCH_OUT_28C/table.txt"
}

@test "bench: registry and layers put the missing layers on each link once, as the registry holds them" {
	# the registry's blobs of the image (read by the benchmark from the
	# manifest the engine's push wrote): the layers as they travel; the
	# destination has the base's
	local base_layers missing m push pull
	base_layers=$(ldocker node1 image inspect -f '{{len .RootFS.Layers}}' "$LAB_BASE_IMAGE")
	missing=$(jq --argjson k "$base_layers" '.workload.layer_registry_bytes[$k:] | add' \
		"$BENCH_OUT/results.json")
	[[ $missing =~ ^[0-9]+$ ]] && [ "$missing" -gt 1000000 ] ||
		{ echo "the missing layers' blobs: '$missing'"; false; }
	for m in migrate-registry migrate-layers; do
		# the push crosses node1's link; the pull (registry) or the
		# plugin's load of the fetched blobs (layers) crosses node2's
		push=$(($(val base $m node1_tx) + $(val base $m node1_rx)))
		pull=$(($(val base $m node2_tx) + $(val base $m node2_rx)))
		echo "$m: missing blobs $missing bytes; node1's link $push, node2's $pull"
		within "$push" "$missing" "$m, the push"
		within "$pull" "$missing" "$m, to the destination"
	done
}

@test "bench: the plugin's peak memory stays under 64 MB" {
	local m rss runs
	runs=$(awk -F, 'NR > 1 && $5 ~ /^migrate-/ { print $4 "/" $5 }' "$BENCH_OUT/results.csv")
	[ -n "$runs" ] || { echo "no run of the plugin"; false; }
	for m in $runs; do
		rss=$(val "${m%/*}" "${m#*/}" peak_rss_kb)
		[[ $rss =~ ^[0-9]+$ ]] || { echo "$m: no peak memory recorded"; false; }
		[ "$rss" -lt 65536 ] || { echo "$m: peak RSS $rss kB"; false; }
	done
}
