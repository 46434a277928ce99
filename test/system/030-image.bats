#!/usr/bin/env bats
# docker migrate image: images move engine to engine, streamed; what the
# destination has is not sent again.

load helpers
load fixtures/faults

setup_file() {
	dm_setup_file
	# 300 kB of incompressible data: what a layer costs is plain to see
	head -c 300000 /dev/urandom >"$BATS_FILE_TMPDIR/rnd"
}
setup() {
	dm_setup
	printf 'FROM %s\nRUN echo one >/one\n' "$LAB_BASE_IMAGE" | ldocker node1 build -q -t dmt/one:1 - >/dev/null
	printf 'FROM %s\nRUN echo two >/two\n' "$LAB_BASE_IMAGE" | ldocker node1 build -q -t dmt/two:1 - >/dev/null
}

# build_ctx TAG DOCKERFILE: an image on node1 with the random file in its context
build_ctx() {
	local dir="$BATS_TEST_TMPDIR/ctx-$RANDOM"
	mkdir -p "$dir"
	cp "$BATS_FILE_TMPDIR/rnd" "$dir/rnd"
	printf '%b' "$2" >"$dir/Dockerfile"
	ldocker node1 build -q -t "$1" "$dir" >/dev/null
}

same_image() {
	is "$(ldocker node2 image inspect -f '{{.Id}} {{.RootFS.Layers}}' "$1")" \
		"$(ldocker node1 image inspect -f '{{.Id}} {{.RootFS.Layers}}' "$1")" "$1: same id and layers"
}
teardown() { lab_clean node1 node2 >/dev/null 2>&1 || true; }

@test "two images arrive with the same ids and tags" {
	run_dm image dmt/one:1 dmt/two:1 --to node2
	contains "$output" "completed image" "report"
	for i in one two; do
		is "$(ldocker node2 image inspect -f '{{.Id}}' dmt/$i:1)" \
			"$(ldocker node1 image inspect -f '{{.Id}}' dmt/$i:1)" "dmt/$i:1 id"
	done
	run ldocker node2 run --rm dmt/two:1 cat /two
	is "$output" two "the image runs at the destination"
}

@test "an image the destination has costs nothing" {
	run_dm image dmt/one:1 --to node2
	is "$(dm_json image dmt/one:1 --to node2 --format json | jq -r .bytes)" 0 "no byte sent the second time"
}

@test "the export begun while the destination is reached stops when it is not needed" {
	# the source starts exporting before SSH connects (dockerd writes the
	# whole image to disk before its first byte): an image the destination
	# has, or a destination that cannot be reached, leaves nothing of it
	run_dm image dmt/one:1 --to node2
	remember node1
	run_dm image dmt/one:1 --to node2
	local nohost=${LAB_NODE2_ADDR%.*}.99	# in the lab's range, no host there
	run_dm 1 image dmt/two:1 --to "root@$nohost"
	contains "$output" "cannot reach root@$nohost:22" "unreachable"
	settled node1
}

@test "--dry-run lists each image as present or to send" {
	run_dm image dmt/one:1 --to node2
	run_dm image dmt/one:1 dmt/two:1 --to node2 --dry-run
	contains "$output" "present" "one is present"
	contains "$output" "send" "two is to send"
	run ldocker node2 image inspect dmt/two:1
	is "$status" 1 "dry run sent nothing"
}

@test "an unknown image is refused" {
	run_dm 1 image dmt/nope:1 --to node2
	contains "$output" "no such image: dmt/nope:1" "reason"
	one_line_error
}

@test "delta sends only the layer the destination lacks" {
	build_ctx dmt/app:1 "FROM $LAB_BASE_IMAGE\nCOPY rnd /rnd\n"
	local bytes
	bytes=$(dm_json image dmt/app:1 --to node2 --format json | jq -r .bytes)
	same_image dmt/app:1
	# the random layer (300 kB, incompressible) and a few kB of metadata;
	# the base's 2 MB are not sent
	[ "$bytes" -ge 300000 ] || { echo "sent $bytes: less than the new layer"; false; }
	[ "$bytes" -lt 340000 ] || { echo "sent $bytes: more than the new layer"; false; }
	run ldocker node2 run --rm dmt/app:1 wc -c /rnd
	is "$output" "300000 /rnd" "the layer's content arrived"
}

@test "delta with every layer present sends only the image's metadata" {
	printf 'FROM %s\nENV ONLY=metadata\n' "$LAB_BASE_IMAGE" | ldocker node1 build -q -t dmt/meta:1 - >/dev/null
	local bytes
	bytes=$(dm_json image dmt/meta:1 --to node2 --format json | jq -r .bytes)
	same_image dmt/meta:1
	[ "$bytes" -lt 20000 ] || { echo "sent $bytes for a metadata-only image"; false; }
}

@test "delta with nothing present sends the whole image, compressed" {
	build_ctx dmt/scratch:1 "FROM scratch\nCOPY rnd /rnd\n"
	local bytes
	bytes=$(dm_json image dmt/scratch:1 --to node2 --format json | jq -r .bytes)
	same_image dmt/scratch:1
	[ "$bytes" -ge 300000 ] && [ "$bytes" -lt 340000 ] || { echo "sent $bytes"; false; }
}

@test "save sends the whole image, base included" {
	build_ctx dmt/app:1 "FROM $LAB_BASE_IMAGE\nCOPY rnd /rnd\n"
	local bytes size
	bytes=$(dm_json image dmt/app:1 --to node2 --strategy save --format json | jq -r .bytes)
	size=$(ldocker node1 image inspect -f '{{.Size}}' dmt/app:1)
	same_image dmt/app:1
	[ "$bytes" -ge "$size" ] || { echo "sent $bytes < image size $size"; false; }
}

@test "an image present under another name gets the name asked for" {
	run_dm image dmt/one:1 --to node2
	run_docker node1 tag dmt/one:1 dmt/alias:7
	run_dm image dmt/alias:7 --to node2
	is "$(ldocker node2 image inspect -f '{{.Id}}' dmt/alias:7)" \
		"$(ldocker node1 image inspect -f '{{.Id}}' dmt/one:1)" "tagged at the destination"
}
