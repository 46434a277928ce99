#!/usr/bin/env bash
# bench/plot.sh RESULTS.JSON PLOT.PNG - time and bytes per method and link,
# one column per scenario (medians, bars from min to max), with gnuplot.
set -euo pipefail
res=${1:?usage: plot.sh RESULTS.JSON PLOT.PNG}
png=${2:?usage: plot.sh RESULTS.JSON PLOT.PNG}
command -v gnuplot >/dev/null || { echo "plot.sh: no gnuplot (apt-get install gnuplot-nox)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mapfile -t scens < <(jq -r '.options.scenarios | split(",")[]' "$res")
# only scenarios with runs
ok=()
for s in "${scens[@]}"; do
	[[ $(jq --arg s "$s" '[.runs[] | select(.scenario == $s)] | length' "$res") -gt 0 ]] && ok+=("$s")
done
scens=("${ok[@]}")
((${#scens[@]})) || { echo "plot.sh: no runs" >&2; exit 1; }

# data files: one line per link: "link" then median min max per method
for s in "${scens[@]}"; do
	for metric in time bytes; do
		jq -r --arg s "$s" --arg metric "$metric" '
		def median: sort | if length == 0 then null
			elif length % 2 == 1 then .[length / 2 | floor]
			else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		.options as $o | .runs as $runs
		| (if $s == "container" then $o.container_methods else $o.methods end) as $ms
		| ([$runs[].link] | reduce .[] as $l ([]; if index([$l]) then . else . + [$l] end))[] as $l
		| [$ms[] as $m
		   | [$runs[] | select(.link == $l and .scenario == $s and .method == $m and .ok)
		      | if $metric == "time" then .total_ms / 1000 else .link_bytes / 1e6 end] as $v
		   | if ($v | length) == 0 then "-", "-", "-" else ($v | median), ($v | min), ($v | max) end]
		| "\"\($l)\" " + (map(tostring) | join(" "))' "$res" >"$tmp/$s.$metric"
	done
	jq -r --arg s "$s" '(if $s == "container" then .options.container_methods else .options.methods end) | join(" ")' \
		"$res" >"$tmp/$s.methods"
	# a method keeps its colour in every panel
	jq -r --arg s "$s" '.options as $o | ($o.methods + $o.container_methods | reduce .[] as $m ([]; if index([$m]) then . else . + [$m] end)) as $all
		| (if $s == "container" then $o.container_methods else $o.methods end) | map(. as $m | $all | index($m) + 1 | tostring) | join(" ")' \
		"$res" >"$tmp/$s.lt"
done

title=$(jq -r '"docker-migrate benchmark \(.date) - \(.machine.cpu), \(.machine.cores) cores - \(.options.size_mb) MB app data (\(.options.incompressible_pct)% incompressible), \(.options.reps) rep(s): median, bars min-max"' "$res")
declare -A stitle=([base]="base present at destination" [none]="nothing present" [all]="every layer present" [container]="move a running service (with volume)")
ncol=${#scens[@]}
width=$((ncol * 480 + 120))
{
	echo "set terminal pngcairo size $width,900 font 'sans,10'"
	echo "set output '$png'"
	echo "set datafile missing '-'"
	echo "set style data histogram"
	echo "set style histogram errorbars gap 1.5 lw 1"
	echo "set style fill solid 0.85 border -1"
	echo "set boxwidth 0.9"
	echo "set grid ytics"
	echo "set yrange [0:*]"
	echo "set key top center horizontal maxrows 2 font ',9' samplen 1.5"
	echo "set offsets 0, 0, graph 0.2, 0"
	echo "set xtics font ',9'"
	echo "set linetype 1 lc rgb '#4e79a7'"
	echo "set linetype 2 lc rgb '#76b7b2'"
	echo "set linetype 3 lc rgb '#9c755f'"
	echo "set linetype 4 lc rgb '#e15759'"
	echo "set linetype 5 lc rgb '#f28e2b'"
	echo "set linetype 6 lc rgb '#59a14f'"
	echo "set linetype 7 lc rgb '#b07aa1'"
	echo "set multiplot layout 2,$ncol title \"$title\" font ',11'"
	for metric in time bytes; do
		for s in "${scens[@]}"; do
			ms=$(<"$tmp/$s.methods")
			n=$(wc -w <<<"$ms")
			echo "set title '${stitle[$s]:-$s}'"
			if [[ $metric == time ]]; then echo "set ylabel 'time (s)'"; else echo "set ylabel 'MB on the links'"; fi
			echo "ms = '$ms'"
			echo "lts = '$(<"$tmp/$s.lt")'"
			echo "plot for [i=0:$((n - 1))] '$tmp/$s.$metric' using (column(2+3*i)):(column(3+3*i)):(column(4+3*i)):xtic(1) title word(ms, i+1) lt int(word(lts, i+1))"
		done
	done
	echo "unset multiplot"
} >"$tmp/plot.gp"
gnuplot "$tmp/plot.gp"
