/*
 * volsync.c - the choice of a volume's final pass (see volsync.h), made
 * once, before the downtime: dm-helper needs both helper containers
 * running and answering, which is known only by trying; found out during
 * the downtime it would cost it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dm.h"
#include "volsync.h"
#include "volume.h"

const struct volsync_ops *volsync_choose(struct engine *src,
					 const char *src_helper,
					 struct engine *dst,
					 const char *dst_helper,
					 const char *what)
{
	/* test hook, inert unless set: the archive's final pass, as on
	 * engines where dm-helper cannot run */
	if (getenv("DOCKER_MIGRATE_TEST_NO_HELPER")) {
		fprintf(stderr, "docker migrate: test hook: no dm-helper\n");
		return &volsync_by_archive;
	}
	if (!helper_can_run(src) || !helper_can_run(dst)) {
		dm_debug("dm-helper cannot run on %s or %s: the final pass of "
			 "%s reads it whole", engine_os_arch(src),
			 engine_os_arch(dst), what);
		return &volsync_by_archive;
	}
	if (helper_start(src, src_helper) < 0 ||
	    helper_start(dst, dst_helper) < 0 ||
	    helper_probe(src, src_helper) < 0 ||
	    helper_probe(dst, dst_helper) < 0) {
		dm_warn("%s; the final pass of %s reads it whole", dm_errmsg(),
			what);
		return &volsync_by_archive;
	}
	return &volsync_by_exec;
}

const struct volsync_ops *volsync_choose_copy(struct engine *src,
					      const char *src_helper,
					      struct engine *dst,
					      const char *dst_helper)
{
	if (getenv("DOCKER_MIGRATE_TEST_NO_HELPER") || !helper_can_run(src) ||
	    !helper_can_run(dst))
		return &volsync_by_archive;
	if (helper_start(src, src_helper) < 0 ||
	    helper_start(dst, dst_helper) < 0 ||
	    helper_probe(src, src_helper) < 0 ||
	    helper_probe(dst, dst_helper) < 0) {
		dm_debug("%s; the pre-copy goes through the archive endpoints",
			 dm_errmsg());
		return &volsync_by_archive;
	}
	return &volsync_by_exec;
}
