#!/usr/bin/env bash
# demo.sh - a local lab of two Docker hosts and a real migration between
# them, through the real docker CLI: what "make demo" runs.
# DEMO_KEEP=1 leaves the lab up afterwards (test/lab/lab.sh down ends it).
set -euo pipefail
cd "$(dirname "$0")/.."
lab=test/lab/lab.sh
bin=$PWD/build/default/docker-migrate
docker=${LAB_DOCKER:-/usr/local/bin/docker}
command -v "$docker" >/dev/null || docker=docker

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

[ "$(id -u)" -eq 0 ] || { echo "make demo needs root (it starts a lab of namespaces)" >&2; exit 1; }
say "starting the lab: node1 and node2, each with its own dockerd and sshd"
"$lab" up
eval "$("$lab" env)"
[ "${DEMO_KEEP:-0}" = 1 ] || trap '"$lab" down >/dev/null 2>&1' EXIT

cfg=$(mktemp -d)
trap 'rm -rf "$cfg"; [ "${DEMO_KEEP:-0}" = 1 ] || "$lab" down >/dev/null 2>&1' EXIT
mkdir -p "$cfg/cli-plugins"
ln -s "$bin" "$cfg/cli-plugins/docker-migrate"
export DOCKER_CONFIG=$cfg DOCKER_MIGRATE_SSH_CONFIG=$LAB_SSH_CONFIG
"$docker" context create node1 --docker "host=$LAB_NODE1_SOCK" >/dev/null

say "a web service on node1 ($LAB_NODE1_ADDR)"
printf 'FROM %s\nRUN mkdir /www && echo "hello from the migrated service" >/www/index.html\n' \
	"$LAB_BASE_IMAGE" | "$docker" -c node1 build -q -t demo/web:1 - >/dev/null
run "$docker" -c node1 run -d --name web -p 8080:80 --restart unless-stopped --init \
	-e GREETING=hi demo/web:1 httpd -f -p 80 -h /www >/dev/null
sleep 0.5
run curl -s "http://$LAB_NODE1_ADDR:8080/"

say "moving it to node2 ($LAB_NODE2_ADDR)"
run "$docker" -c node1 migrate container web --to node2

say "the service answers on node2; the source is stopped"
run curl -s "http://$LAB_NODE2_ADDR:8080/"
run "$docker" -H "$LAB_NODE2_SOCK" ps --format 'node2: {{.Names}} {{.Image}} {{.Status}} {{.Ports}}'
run "$docker" -c node1 ps -a --format 'node1: {{.Names}} {{.Image}} {{.Status}}'

say "the migration record"
run "$docker" migrate history
