/*
 * cmd_history.c - "docker migrate history": past migrations, newest
 * last, with their status, phases' times and bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "dm.h"
#include "record.h"

static void print_table(const struct migration *m, size_t n)
{
	printf("%-16s  %-19s  %-11s  %-9s  %-20s  %-20s  %-8s  %9s  %10s  %s\n",
	       "ID", "STARTED", "STATUS", "KIND", "OBJECT", "DESTINATION",
	       "STRATEGY", "TIME", "SENT", "ERROR");
	for (size_t i = 0; i < n; i++) {
		char when[32], hb[32];
		time_t t = (time_t)m[i].started;
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		/* a failure says where and why in the last column: the step,
		 * then the reason */
		printf("%-16s  %-19s  %-11s  %-9s  %-20.20s  %-20.20s  %-8s  "
		       "%8.2fs  %10s  %s%s%s\n", m[i].id, when, m[i].status,
		       m[i].kind, m[i].object, m[i].dest, m[i].strategy,
		       (double)record_total_ms(&m[i]) / 1000.0,
		       dm_human_bytes(m[i].bytes, hb, sizeof(hb)),
		       m[i].failed_step ? m[i].failed_step : "",
		       m[i].failed_step ? ": " : "",
		       m[i].failed_step && m[i].error ? m[i].error : "");
	}
}

static void print_json(const struct migration *m, size_t n)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;

	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++)
		record_gen(&m[i], g);
	yajl_gen_array_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	fwrite(buf, 1, len, stdout);
	yajl_gen_free(g);
}

int cmd_history(int argc, char **argv, struct cli *cli)
{
	static const struct cmd_help help = {
		"migrate history", "[OPTIONS]",
		"List past migrations with their status, timings and bytes",
		NULL, NULL,
		NULL,
	};
	int format = FORMAT_TEXT;
	struct opt opts[] = {
		OPT_ENUM(0, "format", &format, "FORMAT",
			 "Print as JSON, the full records: json",
			 format_choices),
		OPT_END(),
	};
	struct migration *m;
	size_t n;
	char *dir;
	int nargs, r = cmd_parse(cli, argc, argv, opts, &help, &nargs);

	if (r >= 0 || (r = cmd_check_args(&help, nargs, 0, 0)) >= 0)
		return r;
	dir = cli_config_dir(cli);
	record_load_all(dir, &m, &n);
	free(dir);
	if (format == FORMAT_JSON)
		print_json(m, n);
	else
		print_table(m, n);
	for (size_t i = 0; i < n; i++)
		record_release(&m[i]);
	free(m);
	return 0;
}
