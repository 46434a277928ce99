#!/usr/bin/env bash
# bench/readme-section.sh RESULTS.JSON - the README's benchmark section
# (markdown) for a run whose table and plot are in bench/latest/.
set -euo pipefail
res=${1:?usage: readme-section.sh RESULTS.JSON}
dir=$(cd "$(dirname "$0")" && pwd)
jq -r '"## Benchmark

`make bench` (or `bench/run.sh [OPTIONS]`, see `bench/README.md`) starts a lab
of its own (`LAB_ID=5`), emulates links between the hosts (rate with `tc`
tbf, round-trip time with an NFQUEUE delay: this kernel has no netem), and
moves the same workload image with `docker save | ssh docker load` (the
reference of every ratio), `save -o` + `scp` + `load -i`, `docker push` /
`docker pull` through the lab registry, and every strategy of the plugin,
in alternating order, \(.options.reps) times each.  Bytes are counted on the
hosts'"'"' interfaces, memory is the plugin'"'"'s own peak RSS; times are only
reported, never asserted by the tests.

Latest run: \(.date), \(.machine.cpu), \(.machine.cores) cores,
\(.machine.memory), Linux \(.machine.kernel), \(.machine.os), dockerd
\(.machine.dockerd), plugin \(.plugin.version) (\(.plugin.commit));
`bench/run.sh --links \(.options.links) --size \(.options.size_mb) --reps \(.options.reps)`.
"' "$res"
echo '```'
cat "$dir/latest/table.txt"
echo '```'
echo
echo '![time and bytes per method and link](bench/latest/plot.png)'
