#!/usr/bin/env bats
# docker migrate image: images move engine to engine, streamed; what the
# destination has is not sent again.

load helpers

setup_file() { dm_setup_file; }
setup() {
	dm_setup
	printf 'FROM %s\nRUN echo one >/one\n' "$LAB_BASE_IMAGE" | ldocker node1 build -q -t dmt/one:1 - >/dev/null
	printf 'FROM %s\nRUN echo two >/two\n' "$LAB_BASE_IMAGE" | ldocker node1 build -q -t dmt/two:1 - >/dev/null
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
