/*
 * volume.c - volumes themselves at an engine (see volume.h): inspected,
 * created like another (driver, options, labels), removed, emptied
 * again.  Their content travels by volsync.h.
 */
#include <stdlib.h>

#include "dm.h"
#include "json.h"
#include "volume.h"

int volume_inspect(struct engine *e, const char *name, yajl_val *out)
{
	char *esc = engine_escape(name), *path = xasprintf("/volumes/%s", esc);
	long st = engine_get_json_opt(e, path, out);

	free(esc);
	free(path);
	if (st < 0)
		return -1;
	return st == 404 ? 0 : 1;
}

int volume_create_like(struct engine *e, yajl_val vol, const char *name)
{
	static const struct { const char *from, *to; } keep[] = {
		{ "Driver", "Driver" },
		{ "Options", "DriverOpts" },
		{ "Labels", "Labels" },
	};
	yajl_gen g = yajl_gen_alloc(NULL);
	char *body;
	long st;

	yajl_gen_map_open(g);
	json_gen_str(g, "Name");
	json_gen_str(g, name);
	for (size_t i = 0; i < sizeof(keep) / sizeof(*keep); i++) {
		yajl_val v = json_get(vol, keep[i].from, NULL);

		if (!v || YAJL_IS_NULL(v))
			continue;
		json_gen_str(g, keep[i].to);
		json_gen_value(g, v);
	}
	yajl_gen_map_close(g);
	body = json_gen_take(g);
	yajl_gen_free(g);
	st = engine_post_json(e, "/volumes/create", body, NULL);
	free(body);
	return st < 0 ? dm_error_wrap("creating volume %s on %s", name,
				      engine_name(e)) : 0;
}

int volume_is_ephemeral(yajl_val vol)
{
	return dm_streq(json_str(vol, "Driver", NULL), "local") &&
	       dm_streq(json_str(vol, "Options", "type", NULL), "tmpfs");
}

int volume_remove(struct engine *e, const char *name)
{
	char *esc = engine_escape(name), *path = xasprintf("/volumes/%s", esc);
	long st = engine_delete(e, path);

	free(esc);
	free(path);
	return st < 0 ? -1 : 0;
}

int volume_empty_again(struct engine *e, yajl_val before, const char *name)
{
	if (volume_remove(e, name) == 0 &&
	    volume_create_like(e, before, name) == 0)
		return 0;
	return dm_error_wrap("volume %s at %s, empty before, holds part of a "
			     "failed copy: remove it there (docker volume rm) "
			     "and create it again", name, engine_name(e));
}
