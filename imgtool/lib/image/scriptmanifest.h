/* [Packages] Scriptlets=run: the signed record of what the scriptlets
 * changed, /usr/lib/imgtool/scriptlet-changes (docs/scriptlets.md, step 7). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/scriptchange.h"

struct scriptlets;

/* The record compose leaves in the image so that `verify --against` knows
 * what the scriptlets made (it is signed like every file, so it cannot be
 * changed unnoticed).  One line per change, tab-separated:
 *   created|modified|removed MODE(octal, with type) UID GID VALUE PATH BY
 * VALUE: the content's SHA-256 in hex, a symlink's target, or "-". */
#define SCRIPTLETS_MANIFEST "/usr/lib/imgtool/scriptlet-changes"
int scriptlets_manifest_text(const struct scriptlets *s, char **text, size_t *len);

struct scriptlets_record {
        enum scriptlet_change_kind kind;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        bool has_digest;
        uint8_t sha256[32];
        char *target;
        char *path;
        char *by;
};
/* Parse a manifest; a malformed line is -EBADMSG naming its number. */
int scriptlets_manifest_parse(const char *text, struct scriptlets_record **out, size_t *n);
void scriptlets_records_free(struct scriptlets_record *v, size_t n);
