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
# the OCI image layout of "docker save" from Engine 25 on: blobs named by
# digest (a layer by its diff id), then index.json and manifest.json, with
# the containerd store's mode 0444 and 1970 dates
mkdir -p oci/blobs/sha256
lay=$(sha256sum <img/aaaa/layer.tar | cut -c1-64)
cfg=$(sha256sum <img/cfg.json | cut -c1-64)
cp img/aaaa/layer.tar "oci/blobs/sha256/$lay"
cp img/cfg.json "oci/blobs/sha256/$cfg"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
	"$cfg" "$(wc -c <img/cfg.json)" "$lay" "$(wc -c <img/aaaa/layer.tar)" >oci/man
man=$(sha256sum <oci/man | cut -c1-64)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"docker.io/library/web:v2","org.opencontainers.image.ref.name":"v2"}}]}' \
	"$man" "$(wc -c <oci/man)" >oci/index.json
mv oci/man "oci/blobs/sha256/$man"
printf '[{"Config":"blobs/sha256/%s","RepoTags":["web:v2"],"Layers":["blobs/sha256/%s"],"LayerSources":{}}]' \
	"$cfg" "$lay" >oci/manifest.json
printf '{"imageLayoutVersion":"1.0.0"}' >oci/oci-layout
chmod 0444 oci/blobs/sha256/* oci/index.json oci/manifest.json oci/oci-layout
tar --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -b 1 \
	--format=ustar -C oci -cf "$out/image-oci.tar" blobs index.json manifest.json oci-layout
ls -l "$out"
