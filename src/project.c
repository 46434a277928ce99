/*
 * project.c - the containers of a group move and their order (see
 * project.h).  Compose writes what a service waits for in a label; links
 * and a shared network namespace say the same for plain containers.  The
 * group starts in that order and stops in the reverse one, so that no
 * container of the group runs without what it needs.
 */
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "engine.h"
#include "json.h"
#include "project.h"

/* "db:service_healthy:false,cache:service_started:true": the services. */
static void compose_deps(const char *label, struct strlist *deps)
{
	const char *p = label;

	while (p && *p) {
		size_t n = strcspn(p, ",");
		size_t svc = strcspn(p, ":,");

		if (svc > 0) {
			char *s = xstrndup(p, svc < n ? svc : n);

			strlist_add(deps, s);
			free(s);
		}
		p += n;
		if (*p == ',')
			p++;
	}
}

void member_deps(yajl_val ins, struct strlist *deps)
{
	yajl_val labels = json_get(ins, "Config", "Labels", NULL);
	yajl_val links = json_get(ins, "HostConfig", "Links", NULL);
	const char *dep = json_str(labels, COMPOSE_DEPENDS_LABEL, NULL);
	const char *mode = json_str(ins, "HostConfig", "NetworkMode", NULL);

	compose_deps(dep, deps);
	/* "/db:/web/db": the target is the first part */
	for (size_t i = 0; i < json_alen(links); i++) {
		yajl_val l = links->u.array.values[i];
		const char *s = YAJL_IS_STRING(l) ? l->u.string : NULL;
		size_t n;

		if (!s)
			continue;
		s += *s == '/';
		n = strcspn(s, ":");
		if (n) {
			char *t = xstrndup(s, n);

			strlist_add(deps, t);
			free(t);
		}
	}
	if (mode && dm_starts_with(mode, "container:") && mode[10])
		strlist_add(deps, mode + 10);
	else if (mode && dm_starts_with(mode, "service:") && mode[8])
		strlist_add(deps, mode + 8);
}

int member_from_inspect(yajl_val ins, struct member *m)
{
	const char *name = json_str(ins, "Name", NULL);
	const char *id = json_str(ins, "Id", NULL);
	const char *svc = json_str(ins, "Config", "Labels",
				   COMPOSE_SERVICE_LABEL, NULL);

	memset(m, 0, sizeof(*m));
	if (!name || !id)
		return dm_error("the engine's inspect has no Name or Id");
	m->name = xstrdup(name + (name[0] == '/'));
	m->id = xstrdup(id);
	m->service = svc ? xstrdup(svc) : NULL;
	member_deps(ins, &m->deps);
	return 0;
}

void member_release(struct member *m)
{
	free(m->name);
	free(m->id);
	free(m->service);
	strlist_clear(&m->deps);
	memset(m, 0, sizeof(*m));
}

/* Does dep name member m: its service, its name, or its id (or an id's
 * prefix of 12 or more, as docker prints them)? */
static int names(const struct member *m, const char *dep)
{
	size_t n = strlen(dep);

	return dm_streq(m->service, dep) || dm_streq(m->name, dep) ||
	       (n >= 12 && strncmp(m->id, dep, n) == 0);
}

/* Is every member that i depends on placed already? */
static int ready(const struct member *m, size_t n, size_t i,
		 const unsigned char *placed)
{
	for (size_t d = 0; d < m[i].deps.n; d++)
		for (size_t j = 0; j < n; j++)
			if (j != i && !placed[j] && names(&m[j], m[i].deps.v[d]))
				return 0;
	return 1;
}

int project_order(const struct member *m, size_t n, size_t *order)
{
	unsigned char *placed = xcalloc(n + 1, 1);
	size_t k = 0;
	int ret = 0;

	/* n rounds at most: each places one member or finds a circle */
	while (k < n) {
		size_t i;

		for (i = 0; i < n; i++)
			if (!placed[i] && ready(m, n, i, placed))
				break;
		if (i == n) {
			struct strbuf sb = STRBUF_INIT;

			for (size_t j = 0; j < n; j++)
				if (!placed[j])
					sb_addf(&sb, "%s%s", sb.len ? ", " : "",
						m[j].name);
			ret = dm_error("%s depend on each other in a circle: "
				       "no order to start them in",
				       sb_str(&sb));
			sb_release(&sb);
			break;
		}
		placed[i] = 1;
		order[k++] = i;
	}
	free(placed);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int project_containers(struct engine *e, const char *project,
		       struct strlist *names_out)
{
	/* {"label":["com.docker.compose.project=NAME"]}, escaped whole */
	char *filter = xasprintf("{\"label\":[\"%s=%s\"]}",
				 COMPOSE_PROJECT_LABEL, project);
	char *q = engine_escape(filter);
	char *path = xasprintf("/containers/json?all=1&filters=%s", q);
	yajl_val list = NULL;
	int r;

	free(filter);
	free(q);
	if (strpbrk(project, "\"\\")) {
		free(path);
		return dm_error("%s is not a Compose project name", project);
	}
	r = engine_get_json(e, path, &list);
	free(path);
	if (r < 0)
		return -1;
	for (size_t i = 0; i < json_alen(list); i++) {
		yajl_val c = list->u.array.values[i];
		yajl_val nm = json_get(c, "Names", NULL);
		const char *name = json_alen(nm) && YAJL_IS_STRING(nm->u.array.values[0])
				   ? nm->u.array.values[0]->u.string : NULL;

		if (name)
			strlist_add(names_out, name + (name[0] == '/'));
	}
	yajl_tree_free(list);
	if (!names_out->n)
		return dm_error("no container of Compose project %s at %s: see "
				"docker compose ls --all", project,
				engine_name(e));
	qsort(names_out->v, names_out->n, sizeof(*names_out->v), cmp_str);
	return 0;
}
