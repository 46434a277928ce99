#!/bin/sh
# tar-seeds.sh - remake the tar seeds of corpus/tar/ with GNU tar: small,
# reproducible archives (fixed owner, time and order, 512-byte records)
# with what engines send: GNU long names and link targets ('L', 'K'), pax
# headers ('x'), a ustar prefix, symlinks, hard links, an empty directory,
# and a docker-save-like image archive with a manifest.json.
set -eu
out=$(cd "$(dirname "$0")" && pwd)/corpus/tar
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
long=$(printf 'd%.0s' $(seq 60))/$(printf 'f%.0s' $(seq 70))
mkdir -p v/empty v/dir "v/$(dirname "$long")"
printf 'hello\n' >v/dir/file
printf 'x%.0s' $(seq 700) >v/dir/big	# two data blocks, padding
printf 'long\n' >"v/$long"
ln -s dir/file v/link
ln v/dir/file v/hardlink
ln -s "$long" v/longlink
set -- --owner=0 --group=0 --numeric-owner --mtime=@1700000000 \
	--sort=name -b 1
tar "$@" --format=gnu -cf "$out/gnu.tar" v
tar "$@" --format=pax --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
	-cf "$out/pax.tar" v
tar "$@" --format=ustar -cf "$out/ustar.tar" v/dir v/empty v/link "v/$long"
tar "$@" --format=v7 -cf "$out/v7.tar" v/dir/file v/link
mkdir -p img/aaaa
printf '[{"Config":"cfg.json","RepoTags":["web:v2"],"Layers":["aaaa/layer.tar"]}]' \
	>img/manifest.json
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}' \
	>img/cfg.json
tar "$@" --format=ustar -C v -cf img/aaaa/layer.tar dir/file
tar "$@" --format=ustar -C img -cf "$out/image.tar" manifest.json cfg.json aaaa
ls -l "$out"
