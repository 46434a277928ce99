/*
 * dmh_proto.h - the protocol between the plugin and dm-helper, the tool
 * of its helper image: one spelling of each verb, member name and format,
 * included by both programs.  dm-helper is built alone, static, with
 * plain -std=c11, so this header stands by itself: macros only, nothing
 * from the plugin, no library header.
 *
 * The plugin runs dm-helper by the Engine API's exec, in a helper
 * container that mounts the volume at DMH_MOUNT; its answers are tar
 * streams on stdout whose names start with DMH_TAR_PREFIX, as the
 * engine's own archive of DMH_MOUNT names them, so that one parser reads
 * both and the destination's archive endpoint unpacks either at "/".
 */
#ifndef DM_DMH_PROTO_H
#define DM_DMH_PROTO_H

/* Where the program is in the helper image, and where helpers mount. */
#define DMH_PATH	"/dm-helper"
#define DMH_MOUNT	"/v"
/* Names in the streams: "v/..." for /v/... */
#define DMH_TAR_PREFIX	"v/"

/*
 * The verbs: argv[1] of dm-helper.
 *   wait                 keep the container running (pid 1, DMH_WAIT_MAX_S)
 *   scan ROOT SINCE      what changed in ROOT at or after SINCE (seconds),
 *                        and every directory; then DMH_LIST_MEMBER
 *   get ROOT NAME...     each NAME alone ("." the root), absent ones left out
 *   rm ROOT NAME...      remove each NAME below ROOT, the parent's mtime kept
 *   sum ROOT [cap]       the tree digest of ROOT, computed where the data
 *                        is: one line, DMH_SUM_LINE; "cap" (DMH_SUM_CAP):
 *                        of the attributes only security.capability, as
 *                        in a copy the archive endpoint made
 *   stat ROOT NAME...    each NAME alone (absent ones left out) as a
 *                        record of its digest (DMH_STAT_RECORD): the
 *                        final pass's read-back without its content
 *   strip ROOT XATTR NAME...  remove the attribute XATTR of each NAME: an
 *                        ACL the destination's kernel gave an entry it
 *                        created in a directory with a default ACL, which
 *                        the source's entry does not have
 *   punch ROOT NAME...   make each file NAME sparse again: its blocks of
 *                        zeros become holes (the engine's archive endpoint
 *                        writes a stream's holes as zeros), mtime kept
 */
#define DMH_VERB_WAIT	"wait"
#define DMH_VERB_SCAN	"scan"
#define DMH_VERB_GET	"get"
#define DMH_VERB_RM	"rm"
#define DMH_VERB_SUM	"sum"
#define DMH_SUM_CAP	"cap"
#define DMH_VERB_PUNCH	"punch"
#define DMH_VERB_STRIP	"strip"
#define DMH_VERB_STAT	"stat"
#define DMH_USAGE	"usage: dm-helper " DMH_VERB_WAIT " | " DMH_VERB_SCAN \
			" ROOT SINCE | " DMH_VERB_RM " ROOT NAME... | " \
			DMH_VERB_GET " ROOT NAME... | " DMH_VERB_SUM \
			" ROOT [" DMH_SUM_CAP "] | " DMH_VERB_PUNCH " ROOT NAME..." \
			" | " DMH_VERB_STRIP " ROOT XATTR NAME... | " \
			DMH_VERB_STAT " ROOT NAME..."

/* How long a helper waits for its execs: longer than any pre-copy of the
 * volumes that follow its own (they run before the final pass, which
 * needs it), yet not forever after a plugin killed with SIGKILL. */
#define DMH_WAIT_MAX_S	(7 * 24 * 3600)

/* scan's last member: every name in ROOT, each followed by what the
 * pre-copy's read-back must show for it if it was not sent, both
 * NUL-terminated.  The meta is DMH_LIST_META: type (a tar typeflag),
 * size (regular files only, else 0), mtime, uid, gid. */
#define DMH_LIST_MEMBER	"dm-helper/list"
#define DMH_LIST_META	"%c %lld %lld %u %u"
#define DMH_LIST_META_N	5	/* the fields sscanf must find */

/*
 * The tree digest (the plugin's treesum.h computes it from a tar stream,
 * dm-helper's sum from the directory itself; both must agree bit for
 * bit): SHA-256 over the entries sorted by name (strcmp, relative to the
 * root, "" the root, no trailing '/'), each as
 *     NAME '\0'  DMH_SUM_HEAD  LINK '\0'  XATTRS '\0'  [SHA-256 of content]
 * HEAD's fields: type (a tar typeflag; the names of a hard-linked group
 * are all '0', each with the group's attributes and content), mode
 * (07777 bits), uid, gid, size (regular files only, else 0), mtime
 * (seconds), linked (1 for each name of a group of two or more names in
 * the tree).  LINK is a symlink's target, else empty; XATTRS the
 * extended attributes carried, "NAME=HEX\n" lines sorted (the engine's
 * archive reads DMH_CAP_XATTR only, dm-helper all but DMH_SKIP_XATTR); the
 * content's digest for type '0' only.
 * sum's answer: the digest in hex and the number of entries.
 */
#define DMH_SUM_HEAD	"%c %llo %llu %llu %llu %llu %d "
/* stat's record of an entry: five fields, each NUL-terminated: NAME,
 * HEAD (DMH_SUM_HEAD, linked 0), LINK, XATTRS (every attribute but
 * DMH_SKIP_XATTR) and the content's SHA-256 in hex (empty but for '0') */
#define DMH_STAT_FIELDS	5
#define DMH_SUM_LINE	"%s %zu\n"	/* as printed */
#define DMH_SUM_SCAN	"%64s %zu"	/* as read back */
#define DMH_SUM_SCAN_N	2

/* Names for the pax extension of a header whose name or link does not
 * fit ustar's 100 bytes, and the extension's own header. */
#define DMH_PAX_HEADER	"dm-helper-pax"
#define DMH_LONG_NAME	"dm-helper-long-name"
#define DMH_LONG_LINK	"dm-helper-long-link"
/* scan's member after the list, when it sent sparse files (fewer blocks
 * than their size): their names, NUL-terminated, for punch. */
#define DMH_SPARSE_MEMBER	"dm-helper/sparse"
/* ... then, when some are, the entries sent that lack an ACL their
 * directory's default ACL would give them where they are created: pairs
 * XATTR NAME, each NUL-terminated, for strip. */
#define DMH_STRIP_MEMBER	"dm-helper/strip"
#define DMH_ACL_ACCESS	"system.posix_acl_access"
#define DMH_ACL_DEFAULT	"system.posix_acl_default"

/* The only extended attribute the engine's archive endpoint reads (it
 * writes them all); scan and get send every one but DMH_SKIP_XATTR, which
 * the destination's kernel sets itself. */
#define DMH_CAP_XATTR	"security.capability"
#define DMH_SKIP_XATTR	"security.selinux"
#define DMH_PAX_XATTR	"SCHILY.xattr."

/* The ustar header as dm-helper writes it and the plugin reads it. */
#define DMH_BLOCK	512
enum dmh_ustar_field {
	DMH_OFF_NAME = 0,	DMH_LEN_NAME = 100,
	DMH_OFF_MODE = 100,	DMH_LEN_MODE = 8,
	DMH_OFF_UID = 108,	DMH_LEN_UID = 8,
	DMH_OFF_GID = 116,	DMH_LEN_GID = 8,
	DMH_OFF_SIZE = 124,	DMH_LEN_SIZE = 12,
	DMH_OFF_MTIME = 136,	DMH_LEN_MTIME = 12,
	DMH_OFF_CHKSUM = 148,	DMH_LEN_CHKSUM = 8,
	DMH_OFF_TYPE = 156,
	DMH_OFF_LINK = 157,	DMH_LEN_LINK = 100,
	DMH_OFF_MAGIC = 257,	/* "ustar\0" then version "00" */
	DMH_OFF_VERSION = 263,
	DMH_OFF_DEVMAJOR = 329,	DMH_LEN_DEV = 8,
	DMH_OFF_DEVMINOR = 337,
};

#endif
