#!/usr/bin/env bash
# bench/readme-section.sh - the README's benchmark section (markdown), from
# what bench/latest/ holds: the last full run of `make bench` (table.txt,
# plot.png, meta.json) and any named run (bench/latest/NAME/, written by
# bench/run.sh --latest-as NAME), e.g. the 200 MB run the targets are set for.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)/latest
[[ -f $dir/meta.json ]] || { echo "readme-section.sh: no $dir/meta.json (run bench/run.sh first)" >&2; exit 1; }

cmdline() { # the command that reproduces a run
	jq -r '.options as $o | "bench/run.sh --links \($o.links) --size \($o.size_mb) --reps \($o.reps)"
		+ (if ($o.pairs // "20.10:20.10") != "20.10:20.10" then " --pairs \($o.pairs)" else "" end)
		+ (if $o.scenarios != "base,none,all,container" then " --scenarios \($o.scenarios)" else "" end)
		+ (if ["save-ssh-load", "save-scp-load", "push-pull"] - $o.methods != [] then " --methods \($o.methods | join(","))" else "" end)
		+ (if $o.incompressible_pct != 25 then " --incompressible \($o.incompressible_pct)" else "" end)
		+ (if ($o.scenarios | test("container")) then " --vol-size \($o.vol_size_mb)" else "" end)' "$1"
}
block() { # block DIR TITLE
	local d=$1 rel=${1#"$dir"}
	echo
	echo "$2"
	echo
	jq -r '"\(.date), \(.machine.cpu), \(.machine.cores) cores, \(.machine.memory), Linux \(.machine.kernel), \(.machine.os), dockerd \(.machine.dockerd), plugin \(.plugin.version) (\(.plugin.commit)); the runs took \(.duration_s / 60 | floor) min:"' "$d/meta.json"
	echo "\`$(cmdline "$d/meta.json")\`"
	echo
	echo '```'
	cat "$d/table.txt"
	echo '```'
	if [[ -f $d/plot.png ]]; then
		echo
		echo "![time and bytes per method and link](bench/latest${rel}/plot.png)"
	fi
}

cat <<'EOF'
## Benchmark

`make bench` (or `bench/run.sh [OPTIONS]`; see `bench/README.md`) starts a lab
of its own (`LAB_ID=5`), emulates the links between the hosts (rate with tc
tbf, round-trip time with an NFQUEUE delay: this kernel has no netem), and
moves the same workload with `docker save | ssh docker load` (the reference
of every ratio), the seeds' `save -o` + `scp` + `load -i`, `docker push` /
`docker pull` through the lab registry, and every strategy of the plugin:
an image whose base the destination has, has nothing of, or has every
layer of; and a running service with a volume written to during the move,
probed every 50 ms.  Methods alternate in order; each runs several times.
Bytes are counted on the hosts' interfaces and memory is the plugin's own
peak RSS: both are checked by `test/system/080-bench-smoke.bats`; times are
only reported (the machine below was shared with other work: its load
average is in each table).
EOF
block "$dir" "### \`make bench\` (the defaults)"
for d in "$dir"/*/; do
	d=${d%/}
	[[ -f $d/meta.json && -f $d/table.txt ]] || continue
	title=$(jq -r '"### \(.options.size_mb) MB of app data, \(.options.links | gsub(","; ", "))"
		+ (if (.options.pairs // "20.10:20.10") != "20.10:20.10"
		   then ", engine pairs \(.options.pairs | gsub(":"; " -> ") | gsub(","; ", "))" else "" end)' "$d/meta.json")
	block "$d" "$title"
done
