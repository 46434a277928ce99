/*
 * exec.c - running a command in a container through the Engine API (see
 * engine.h): the helper containers of a volume's final pass run
 * dm-helper this way, its output streamed, never stored.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm.h"
#include "engine.h"
#include "json.h"

int exec_demux_feed(void *demux, const void *buf, size_t n)
{
	struct exec_demux *d = demux;
	const unsigned char *p = buf;

	while (n) {
		if (d->left == 0) {
			size_t take = 8 - d->hlen < n ? 8 - d->hlen : n;

			memcpy(d->hdr + d->hlen, p, take);
			d->hlen += take;
			p += take;
			n -= take;
			if (d->hlen < 8)
				break;
			d->hlen = 0;
			d->stream = d->hdr[0];
			d->left = (uint32_t)d->hdr[4] << 24 |
				  (uint32_t)d->hdr[5] << 16 |
				  (uint32_t)d->hdr[6] << 8 | d->hdr[7];
			if (d->stream > 2 || d->hdr[1] || d->hdr[2] || d->hdr[3])
				return dm_error("the engine's exec stream is "
						"not multiplexed as expected");
			continue;
		}
		{
			size_t take = d->left < n ? d->left : n;

			if (d->stream == 1) {
				if (d->out && d->out(d->ctx, p, take) < 0)
					return -1;
			} else if (d->err && d->err->len < EXEC_ERR_MAX) {
				size_t room = EXEC_ERR_MAX - d->err->len;

				sb_add(d->err, p, take < room ? take : room);
			}
			d->left -= (uint32_t)take;
			p += take;
			n -= take;
		}
	}
	return 0;
}

static char *exec_body(const char *const *argv)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	char *body;

	yajl_gen_map_open(g);
	json_gen_str(g, "AttachStdin");
	yajl_gen_bool(g, 0);
	json_gen_str(g, "AttachStdout");
	yajl_gen_bool(g, 1);
	json_gen_str(g, "AttachStderr");
	yajl_gen_bool(g, 1);
	json_gen_str(g, "Tty");
	yajl_gen_bool(g, 0);
	json_gen_str(g, "Cmd");
	yajl_gen_array_open(g);
	for (size_t i = 0; argv[i]; i++)
		json_gen_str(g, argv[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	body = json_gen_take(g);
	yajl_gen_free(g);
	return body;
}

/* The exit code, once the engine saw the process end (the stream can
 * close a moment before): 5 s at most. */
static int exec_exit_code(struct engine *e, const char *eid, long *code)
{
	char *path = xasprintf("/exec/%s/json", eid);
	int ret = -1;

	for (int tries = 0; tries < 100; tries++) {
		yajl_val v = NULL;
		int running;

		if (engine_get_json(e, path, &v) < 0)
			break;
		running = json_true(v, "Running", NULL);
		*code = json_int(v, -1, "ExitCode", NULL);
		yajl_tree_free(v);
		if (!running) {
			ret = 0;
			break;
		}
		if (tries == 99) {
			dm_error("the command run in the helper container on %s "
				 "did not end after its output", engine_name(e));
			break;
		}
		usleep(50 * 1000);
	}
	free(path);
	return ret;
}

int engine_exec(struct engine *e, const char *id, const char *const *argv,
		engine_sink_fn out, void *ctx, struct strbuf *err,
		long *exit_code)
{
	struct exec_demux d = { .out = out, .ctx = ctx, .err = err };
	char *body = exec_body(argv), *path, *eid;
	yajl_val v = NULL;
	long st;
	int ret;

	path = xasprintf("/containers/%s/exec", id);
	st = engine_post_json(e, path, body, &v);
	free(path);
	free(body);
	if (st < 0 || !json_str(v, "Id", NULL)) {
		yajl_tree_free(v);
		return st < 0 ? -1 : dm_error("the engine at %s created no exec",
					      engine_name(e));
	}
	eid = xstrdup(json_str(v, "Id", NULL));
	yajl_tree_free(v);
	path = xasprintf("/exec/%s/start", eid);
	ret = engine_stream(e, "POST", path, "{\"Detach\":false,\"Tty\":false}",
			    exec_demux_feed, &d, NULL);
	free(path);
	if (ret == 0 && (d.left || d.hlen))
		ret = dm_error("the engine's exec stream ended inside a frame");
	if (ret == 0)
		ret = exec_exit_code(e, eid, exit_code);
	free(eid);
	return ret;
}
