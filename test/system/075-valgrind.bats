#!/usr/bin/env bats
# Valgrind memcheck on one full migration (image delta, volume pre-copy and
# sync, container layer): no invalid access, no leak.

load helpers

setup_file() { dm_setup_file; }
setup() { dm_setup; }
teardown() { lab_clean node1 node2 >/dev/null 2>&1 || true; }

@test "a full container migration under valgrind: no error, no leak" {
	# valgrind cannot run a binary built with AddressSanitizer (SANITIZE=1):
	# that pass has ASan's own checks instead
	if grep -qa __asan_init "$DM_BIN"; then
		skip "the plugin is built with AddressSanitizer"
	fi
	printf 'FROM %s\nRUN echo app >/app\n' "$LAB_BASE_IMAGE" | ldocker node1 build -q -t dmt/vg:1 - >/dev/null
	run_docker node1 run -d --name dmt-vg --init -v dmt-vgdata:/data dmt/vg:1 \
		sh -c 'echo x >/data/f; echo y >/etc/y; sleep 600'
	sleep 1
	run valgrind --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
		"$DM_BIN" container dmt-vg --to node2
	echo "$output" | grep -E "ERROR SUMMARY|definitely|indirectly|Invalid|completed" || true
	is "$status" 0 "valgrind's verdict (9: errors or leaks)"
	contains "$output" "ERROR SUMMARY: 0 errors" "no error"
	contains "$output" "completed container dmt-vg" "the migration completed"
}
