#!/usr/bin/env bash
# bench/table.sh RESULTS.JSON - the table of a benchmark run (table.txt):
# per engine pair (source -> destination), link, scenario and method, the median over the repetitions with the
# min-max spread, and the ratio to save-ssh-load (docker save | ssh docker
# load) of the same pair, link and scenario in the same run; then the
# targets of issues 8 and 14, per pair.
set -euo pipefail
res=${1:?usage: table.sh RESULTS.JSON}

# One TSV line per (pair, link, scenario, method), in the run's order
# (runs of before the pairs: 20.10 -> 20.10).
rows() {
	jq -r '
	def median: sort | if length == 0 then null
		elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def st: if length == 0 then [null, null, null] else [median, min, max] end;
	def nz: if . == null then "-" else tostring end;
	def uniq: reduce .[] as $x ([]; if index([$x]) then . else . + [$x] end);
	.options as $o
	| ($o.scenarios | split(",")) as $scen
	| .runs | map(.pair //= "20.10->20.10") as $runs
	| ([$runs[].pair] | uniq) as $pairs
	| ([$runs[].link] | uniq) as $links
	| [ $pairs[] as $p | $links[] as $l | $scen[] as $s
	    | (if $s == "container" then $o.container_methods else $o.methods end)[] as $m
	    | [$runs[] | select(.pair == $p and .link == $l and .scenario == $s and .method == $m)] as $g
	    | select($g | length > 0)
	    | [$g[] | select(.ok)] as $ok
	    | {p: $p, l: $l, s: $s, m: $m, n: ($g | length), nok: ($ok | length),
	       t: ([$ok[].total_ms / 1000] | st),
	       b: ([$ok[].link_bytes / 1e6] | st),
	       x: ([$ok[] | .phases.transfer // empty | . / 1000] | st),
	       rss: ([$ok[] | .peak_rss_kb // empty] | if length == 0 then null else max / 1024 end),
	       d: ([$ok[] | .downtime_ms // empty] | st),
	       lost: ([$ok[] | .lost_writes // empty] | if length == 0 then null else max end)} ] as $rows
	| $rows[] as $r
	| ([$rows[] | select(.p == $r.p and .l == $r.l and .s == $r.s and .m == "save-ssh-load")] | first) as $b0
	| [$r.p, $r.l, $r.s, $r.m, "\($r.nok)/\($r.n)",
	   ($r.t[0] | nz), ($r.t[1] | nz), ($r.t[2] | nz),
	   (if $b0 and $b0.t[0] and $r.t[0] then $r.t[0] / $b0.t[0] else null end | nz),
	   ($r.b[0] | nz), ($r.b[1] | nz), ($r.b[2] | nz),
	   (if $b0 and $b0.b[0] and $r.b[0] then $r.b[0] / $b0.b[0] else null end | nz),
	   ($r.x[0] | nz), ($r.rss | nz), ($r.d[0] | nz), ($r.d[1] | nz), ($r.d[2] | nz),
	   ($r.lost | nz)] | @tsv' "$res"
}

f() { # f DECIMALS VALUE: a number, or "-"
	if [[ $2 == - ]]; then printf -- '-'; else LC_ALL=C printf "%.${1}f" "$2"; fi
}

jq -r '"docker-migrate benchmark, \(.date): plugin \(.plugin.version) (\(.plugin.commit))",
	"machine: \(.machine.cpu), \(.machine.cores) cores, \(.machine.memory), Linux \(.machine.kernel), \(.machine.os), dockerd \(.machine.dockerd)",
	"  load average at start / end: \(.machine.loadavg_start) / \(.machine.loadavg_end // "?") (other work on the machine slows every method alike)",
	"workload: \(.workload.image) = lab base + \(.options.size_mb) MB of app data in 2 layers (\(.options.incompressible_pct)% incompressible, the rest text-like);",
	(if .workload.layer_libdeflate1_bytes then
	"  layers (bytes -> gzip -1 / libdeflate -1, what delta sends): \([.workload.layer_bytes, .workload.layer_gzip1_bytes, .workload.layer_libdeflate1_bytes] | transpose | map("\(.[0]) -> \(.[1]) / \(.[2])") | join(", "))"
	else
	"  layers (bytes, gzip -1): \([.workload.layer_bytes, .workload.layer_gzip1_bytes] | transpose | map("\(.[0]) -> \(.[1])") | join(", "))"
	end),
	(if .workload.layer_registry_bytes then
	"  in the registry, compressed by the engine push (what registry and layers carry per hop): \(.workload.layer_registry_bytes | map(tostring) | join(", "))"
	else empty end),
	"  \(.options.reps) repetition(s), methods in alternating order; volume of the service: \(.options.vol_size_mb) MB"' "$res"
echo
printf '%-12s %-14s %-9s %-14s %-4s %21s %5s %21s %5s %7s %6s %17s %4s\n' \
	pair link scenario method ok "time s (min-max)" xT "link MB (min-max)" xB "xfer s" "RSS MB" "downtime ms" lost
prev=
while IFS=$'\t' read -r p l s m n t tmin tmax xt b bmin bmax xb x rss d dmin dmax lost; do
	key="$p $l $s"
	[[ -n $prev && $key != "$prev" ]] && echo
	prev=$key
	tt="$(f 2 "$t") ($(f 2 "$tmin")-$(f 2 "$tmax"))"
	[[ $t == - ]] && tt=-
	bb="$(f 1 "$b") ($(f 1 "$bmin")-$(f 1 "$bmax"))"
	[[ $b == - ]] && bb=-
	dd=-
	[[ $d != - ]] && dd="$(f 0 "$d") ($(f 0 "$dmin")-$(f 0 "$dmax"))"
	printf '%-12s %-14s %-9s %-14s %-4s %21s %5s %21s %5s %7s %6s %17s %4s\n' \
		"$p" "$l" "$s" "$m" "$n" "$tt" "$(f 2 "$xt")" "$bb" "$(f 2 "$xb")" "$(f 2 "$x")" \
		"$(f 1 "$rss")" "$dd" "$lost"
done < <(rows)
cat <<'EOF'

time: from the command's start to its end (the plugin through the docker CLI;
  container scenario: until the service answers at node2).  xT, xB: ratio of
  the median to save-ssh-load's median, same pair, link and scenario, this run.
pair: engine kinds of source (node1) -> destination (node2): 20.10 = dockerd
  20.10 (overlay2), 28 = dockerd 28.5 (overlay2), 28c = 28.5 with the
  containerd image store (test/lab/README.md).
link MB: bytes on the bridge side of both nodes' veths, both directions
  (payload, TCP/IP and SSH overhead, acks); push-pull crosses two links
  (node1 -> registry, registry -> node2): both are counted.
xfer s: the plugin's own "transfer" phase (its --format json report).
RSS MB: peak memory of the plugin process (GNU time), the largest of the reps.
downtime: longest gap between answers of the service, asked every 50 ms at
  both nodes, less 50 ms (resolution 50 ms).  lost: lines the service wrote
  to its volume at the source that are missing at the destination.
methods: save-ssh-load = docker save | ssh node2 docker load; save-scp-load =
  docker save -o, scp, ssh node2 docker load -i; push-pull = docker push to
  the lab registry, docker pull at node2; migrate-S = docker migrate image
  (container) --strategy S.  Container scenario, baselines: the image by the
  method while the service runs, then stop, volume by tar | ssh, docker run.
EOF

# The targets of issue 8 (time ratios to save-ssh-load at 100 Mbit), per
# engine pair (issue 14); one pair 20.10 -> 20.10 reads as before the pairs.
echo
jq -r '
	def median: sort | if length == 0 then null
		elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def fix2: . * 100 | round | tostring | (if length < 3 then ("00" + .)[-3:] else . end)
		| .[0:-2] + "." + .[-2:];
	(.runs | map(.pair //= "20.10->20.10")) as $all
	| ([$all[] | select(.rate == "100mbit") | .link] | first) as $l
	| ($all | map(.pair) | reduce .[] as $x ([]; if index([$x]) then . else . + [$x] end)) as $pairs
	| ($pairs != ["20.10->20.10"]) as $show
	| def t($p; $s; $m): [$all[] | select(.pair == $p and .link == $l and .scenario == $s
		and .method == $m and .ok) | .total_ms] | median;
	def ratio($p; $s): if t($p; $s; "migrate-delta") and t($p; $s; "save-ssh-load")
		then t($p; $s; "migrate-delta") / t($p; $s; "save-ssh-load") else null end;
	def line($p; $what; $s; $lim): ratio($p; $s) as $x
		| select($x != null or ([$all[] | select(.pair == $p and .scenario == $s)] | length > 0))
		| "  \(if $show then ($p | . + " " * (13 - length)) else "" end)\($what | . + " " * (40 - length)) <= \($lim | fix2): "
		  + (if $x == null then "n/a" else "\($x | fix2)  \(if $x <= $lim then "PASS" else "FAIL" end)" end);
	"targets (issue 8\(if $show then ", per engine pair: issue 14" else "" end)): migrate-delta time / save-ssh-load time, "
	  + (if $l then "link \($l)" else "no 100mbit link in this run" end)
	  + ", \(.options.size_mb) MB of app data (the targets are set for 200 MB):",
	($pairs[] as $p
	| line($p; "base present at the destination"; "base"; 0.5),
	  line($p; "every layer present (config differs)"; "all"; 0.15),
	  line($p; "nothing present"; "none"; 1.0)),
	([$all[] | .peak_rss_kb // empty] | max) as $m
	| "  \(if $show then " " * 13 else "" end)\("plugin peak memory, all runs" | . + " " * (40 - length)) <  64 MB: "
	  + (if $m == null then "n/a" else "\($m / 1024 | fix2) MB  \(if $m < 65536 then "PASS" else "FAIL" end)" end)
' "$res"
