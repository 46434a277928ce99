/*
 * space.c - free space at the destination, checked before anything is
 * sent: a load that fills the disk fails only at its end, after the whole
 * image crossed the link, and leaves the engine's disk full meanwhile.
 * Both "container" and "image" ask here.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dm.h"
#include "json.h"
#include "space.h"

int space_for_images(struct engine *dst, struct sshlink *link,
		     const char *to, uint64_t bytes)
{
	struct strbuf out = STRBUF_INIT;
	yajl_val info = NULL;
	const char *root;
	char *q, *cmd;
	unsigned long long avail_kb = 0;
	int ret = 0;

	if (!bytes)
		return 0;
	if (engine_get_json(dst, "/info", &info) < 0)
		return -1;
	root = json_str(info, "DockerRootDir", NULL) ?: "/var/lib/docker";
	q = sh_quote(root);
	cmd = xasprintf("df -Pk %s | awk 'NR==2 {print $4}'", q);
	if (link && sshlink_run(link, cmd, &out, 256) == 0 &&
	    sscanf(sb_str(&out), "%llu", &avail_kb) == 1) {
		/* an image takes about its size once unpacked, more with the
		 * tar being read: ask for 1.2 times */
		if ((double)avail_kb * 1024.0 < (double)bytes * 1.2) {
			char a[32], b[32];

			ret = dm_error("not enough space at %s for the image "
				       "(%s free in %s, %s needed)", to,
				       dm_human_bytes(avail_kb * 1024ULL, a,
						      sizeof(a)),
				       root, dm_human_bytes(bytes, b,
							    sizeof(b)));
		}
	} else {
		dm_warn("cannot tell the free space in %s at %s; going on",
			root, to);
	}
	free(q);
	free(cmd);
	sb_release(&out);
	yajl_tree_free(info);
	return ret;
}
