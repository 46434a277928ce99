/*
 * ocilayout.h - the two archive formats of "docker save" and "docker
 * load": the legacy one (layer directories named by v1 ids, manifest.json
 * last), and the OCI image layout of Engine 25 and later (blobs named by
 * digest under blobs/sha256/, then index.json and manifest.json).  The
 * containerd image store takes only the second when layers are left out,
 * and stores every member of an archive under its computed digest,
 * whatever its name: so a legacy archive becomes one it takes by adding
 * an OCI manifest blob, index.json and oci-layout at its end.
 */
#ifndef DM_OCILAYOUT_H
#define DM_OCILAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "opt.h"

/* "blobs/sha256/<64 hex>": 1 and "sha256:<hex>" in out; 0 otherwise. */
int oci_blob_digest(const char *member, char out[72]);

/* "<64 hex>.json" (a legacy archive's image config): 1 and its digest. */
int legacy_config_digest(const char *member, char out[72]);

/* The one entry of a manifest.json: its Config and Layers (member
 * names) and RepoTags.  -1 with a message when it is not one image. */
struct save_manifest {
	char *config;
	struct strlist layers;
	struct strlist tags;
};
int save_manifest_parse(const char *json, size_t len, struct save_manifest *m);
void save_manifest_release(struct save_manifest *m);

/* A manifest.json of one image whose config and layers are the blobs of
 * those digests ("blobs/sha256/<hex>"), with those tags (0: none). */
char *save_manifest_json(const char *config_digest, char *const *layers,
			 size_t n, char *const *tags, size_t ntags);

/* The digest of the first manifest (or index) index.json names. */
int oci_index_first(const char *json, size_t len, char out[72]);

/* "app:1" -> "docker.io/library/app:1", as the containerd store names
 * images; NULL for a reference it cannot be (a digest). */
char *oci_full_name(const char *ref);

#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

struct oci_desc {
	const char *media_type;
	const char *digest;
	uint64_t size;
};
/* An image manifest of that media type (OCI_MANIFEST, DOCKER_MANIFEST). */
char *oci_manifest_of(const char *type, const struct oci_desc *config,
		      const struct oci_desc *layers, size_t n);
/* An OCI image manifest of uncompressed layers (digests = diff ids). */
char *oci_manifest_json(const char *config_digest, uint64_t config_size,
			char *const *diff_ids, const uint64_t *sizes, size_t n);
/* index.json naming a manifest of that type and digest once per tag
 * (none: no name). */
char *oci_index_json(const char *type, const char *manifest_digest,
		     uint64_t size, char *const *tags, size_t ntags);

/* Finding an image's manifest in a containerd store's export, from its
 * head: members come sorted by name, so the manifest (the image's id
 * there), or the index that leads to the platform's manifest, may come
 * before or after the blobs it names.  Small blobs (manifests, indexes,
 * configs) are kept until the manifest is read, 16 MiB of them at most. */
struct reg_manifest;
struct manifest_finder;
/* want: the image's id ("sha256:..."); platform: "os/arch[/variant]". */
struct manifest_finder *manifest_finder_new(const char *want,
					    const char *platform);
/* Bytes of the export as they come: 1 the manifest is read (stop), 0
 * more, -1 with a message (not an archive, a manifest not understood). */
int manifest_finder_feed(struct manifest_finder *f, const void *buf,
			 size_t n);
/* The manifest (once feed said 1), moved to out. */
void manifest_finder_take(struct manifest_finder *f, struct reg_manifest *out);
void manifest_finder_free(struct manifest_finder *f);

#endif
