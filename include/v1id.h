/*
 * v1id.h - the directory names of a "docker save" archive (legacy format),
 * predicted from the layers' chain ids: the delta strategy must know which
 * directory holds a layer the destination has before that layer's bytes
 * pass, and the archive says so only in manifest.json, its last member.
 *
 * dockerd names each layer's directory by a v1 id, the sha256 of a small
 * JSON document (moby's image/v1 CreateID): the layer's v1 config without
 * its id, plus "layer_id" (the chain id) and "parent" (the v1 id below),
 * keys sorted.  Every layer but the top has the same v1 config (an empty
 * one dated 1970), and that config is in each directory's "json" member,
 * which comes before its "layer.tar".  So the first lower layer's "json"
 * gives the v1 ids of all lower layers.  A prediction counts only when it
 * reproduces its own directory's name (a sha256 match), so a dockerd that
 * names directories otherwise costs bytes (the layers are sent), never
 * correctness.
 */
#ifndef DM_V1ID_H
#define DM_V1ID_H

#include <stddef.h>

/* A member of a JSON object's top level, as raw text. */
struct json_raw_member {
	const char *key;	/* without the quotes */
	size_t klen;
	const char *val;	/* the value's text, as written */
	size_t vlen;
};

/* Split the top level of a JSON object into at most max members; returns
 * their number, or -1 for what is not an object (or has more members). */
int json_raw_members(const char *doc, size_t len, struct json_raw_member *m,
		     size_t max);

/* From the v1 "json" of a lower layer of an image, the v1 ids (64 hex
 * digits) of its layers 0..n-1 whose chain ids are given, as if every one
 * had that v1 config.  Returns 0, or -1 if json is not a v1 config. */
int v1_ids_from_json(const char *json, size_t len, char *const *chain_ids,
		     size_t n, char (*out)[65]);

#endif
