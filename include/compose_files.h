/*
 * compose_files.h - a Compose project's files (its compose files, and
 * the .env of its working directory) carried to the destination host
 * where they are missing, so that "docker compose" there finds the
 * project as the labels of its containers name it.
 */
#ifndef DM_COMPOSE_FILES_H
#define DM_COMPOSE_FILES_H

#include <yajl/yajl_tree.h>

struct migration;
struct sshlink;

/* The files a container's Compose labels name, as this machine has them
 * (where "docker compose" ran, and read them), that are absent at the
 * destination host: written there over SSH, with their missing parent
 * directories, each journaled in rec first (a rollback removes them).
 * With rec NULL (--dry-run), only said.  -1 on a failure there. */
int compose_files_carry(yajl_val ins, struct sshlink *link, const char *dest,
			struct migration *rec);

#endif
