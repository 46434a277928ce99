#!/usr/bin/env bats
# The delta strategy with deeper images: the layers the destination has
# are left out of the source's save stream in one pass (their directories
# recognised by their v1 ids), whatever their number and order, and a
# present layer whose content a missing layer repeats still travels (save
# writes that content once and links the repeat to it).

load helpers

setup_file() {
	dm_setup_file
	for i in 1 2 3; do head -c 200000 /dev/urandom >"$BATS_FILE_TMPDIR/rnd$i"; done
}
setup() { dm_setup; }
teardown() { lab_clean node1 node2 >/dev/null 2>&1 || true; }

# build TAG DOCKERFILE: an image on node1 with the random files in its context
build() {
	local dir="$BATS_TEST_TMPDIR/ctx-$RANDOM"
	mkdir -p "$dir"
	cp "$BATS_FILE_TMPDIR"/rnd? "$dir/"
	printf '%b' "$2" >"$dir/Dockerfile"
	ldocker node1 build -q -t "$1" "$dir" >/dev/null
}

same_image() {
	is "$(ldocker node2 image inspect -f '{{.Id}} {{.RootFS.Layers}}' "$1")" \
		"$(ldocker node1 image inspect -f '{{.Id}} {{.RootFS.Layers}}' "$1")" "$1: same id and layers"
}

# sent REF: the bytes the plugin reports for moving REF with delta
sent() {
	dm_json image "$1" --to node2 --format json | jq -r .bytes
}

@test "delta leaves out every present layer of a deep image: only the top one travels" {
	build dmt/deep:1 "FROM $LAB_BASE_IMAGE\nCOPY rnd1 /a\nCOPY rnd2 /b\n"
	build dmt/deep:2 "FROM dmt/deep:1\nCOPY rnd3 /c\n"
	run_dm image dmt/deep:1 --to node2
	local bytes
	bytes=$(sent dmt/deep:2)
	same_image dmt/deep:2
	# 200 kB of noise in the one missing layer, stored: not the 600 kB
	# of the three, nor the lower ones' 400 kB
	[ "$bytes" -ge 200000 ] || { echo "sent $bytes: less than the new layer"; false; }
	[ "$bytes" -lt 240000 ] || { echo "sent $bytes: more than the new layer"; false; }
	run ldocker node2 run --rm dmt/deep:2 sh -c 'cat /a /b /c | wc -c'
	is "$output" 600000 "the image runs with all its files"
}

@test "delta with only the base present sends the app's layers, not the base's" {
	build dmt/deep:1 "FROM $LAB_BASE_IMAGE\nCOPY rnd1 /a\nCOPY rnd2 /b\nCOPY rnd3 /c\n"
	local bytes
	bytes=$(sent dmt/deep:1)
	same_image dmt/deep:1
	[ "$bytes" -ge 600000 ] || { echo "sent $bytes: less than the three layers"; false; }
	[ "$bytes" -lt 660000 ] || { echo "sent $bytes: the base too?"; false; }
}

@test "delta: a missing layer that repeats a present one below it arrives" {
	# no builder repeats a layer, so the image is put together by hand
	# from two built ones: base, A, B, A (layers 3 and 5 the same)
	local d="$BATS_TEST_TMPDIR/rep" a b cfg l
	build dmt/rep:1 "FROM $LAB_BASE_IMAGE\nCOPY rnd1 /a\n"
	build dmt/repb:1 "FROM $LAB_BASE_IMAGE\nCOPY rnd2 /b\n"
	mkdir -p "$d/one" "$d/b" "$d/new"
	ldocker node1 save dmt/rep:1 | tar -C "$d/one" -xf -
	ldocker node1 save dmt/repb:1 | tar -C "$d/b" -xf -
	a=$(jq -r '.[0].Layers[2]' "$d/one/manifest.json")
	mkdir -p "$d/new/l0" "$d/new/l1" "$d/new/a" "$d/new/b" "$d/new/a2"
	cp "$d/one/$(jq -r '.[0].Layers[0]' "$d/one/manifest.json")" "$d/new/l0/layer.tar"
	cp "$d/one/$(jq -r '.[0].Layers[1]' "$d/one/manifest.json")" "$d/new/l1/layer.tar"
	cp "$d/one/$a" "$d/new/a/layer.tar"
	cp "$d/b/$(jq -r '.[0].Layers[2]' "$d/b/manifest.json")" "$d/new/b/layer.tar"
	cp "$d/one/$a" "$d/new/a2/layer.tar"
	cfg=$(jq -r '.[0].Config' "$d/one/manifest.json")
	b=$(jq -r '.rootfs.diff_ids[2]' "$d/b/$(jq -r '.[0].Config' "$d/b/manifest.json")")
	jq -c --arg b "$b" '.rootfs.diff_ids += [$b, .rootfs.diff_ids[2]] | .config.Labels = {"rep": "1"}' \
		"$d/one/$cfg" >"$d/new/config.json"
	echo '[{"Config":"config.json","RepoTags":["dmt/rep:2"],"Layers":["l0/layer.tar","l1/layer.tar","a/layer.tar","b/layer.tar","a2/layer.tar"]}]' >"$d/new/manifest.json"
	tar -C "$d/new" -cf - . | ldocker node1 load -q >/dev/null
	l=$(ldocker node1 image inspect -f '{{json .RootFS.Layers}}' dmt/rep:2)
	is "$(jq -r 'length' <<<"$l")" 5 "five layers"
	is "$(jq -r '.[2]' <<<"$l")" "$(jq -r '.[4]' <<<"$l")" "layers 3 and 5 have the same diff id"
	run_dm image dmt/rep:1 --to node2
	run_dm image dmt/rep:2 --to node2
	same_image dmt/rep:2
	run ldocker node2 run --rm dmt/rep:2 sh -c 'cat /a /b | wc -c'
	is "$output" 400000 "the image runs with all its files"
}
