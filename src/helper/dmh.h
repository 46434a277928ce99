/*
 * dmh.h - what dm-helper's files share.  dm-helper is built alone,
 * static, with plain -std=c11 and no library but libc: its digest is its
 * own SHA-256.
 */
#ifndef DMH_H
#define DMH_H

#include <stddef.h>
#include <stdint.h>

struct dmh_sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes fed */
	unsigned char buf[64];
	size_t n;		/* bytes in buf */
};

void dmh_sha256_init(struct dmh_sha256 *c);
void dmh_sha256_update(struct dmh_sha256 *c, const void *data, size_t n);
void dmh_sha256_final(struct dmh_sha256 *c, unsigned char out[32]);

/* dm-helper sum ROOT: the exit status */
int dmh_cmd_sum(const char *root);

#endif
