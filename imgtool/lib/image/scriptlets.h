/* [Packages] Scriptlets=run: the packages' install scriptlets run in the
 * image itself, never on the host (docs/scriptlets.md).
 *
 * compose makes a scratch image of the same package set (no scriptlets
 * run), boots it under QEMU through the boot harness (qemu-test/run: the
 * layout's kernel, imgtool's initramfs with the root read-write on a
 * throw-away overlay, no network card), where a shell script runs every
 * scriptlet and trigger in rpm's order with rpm's arguments
 * (scriptorder.h).  The root disk as the
 * guest left it comes back; this module compares it with the scratch image
 * through ext4walk (never a mount) and keeps every change: created,
 * modified and removed entries, type, mode, owner, link target, content.
 * compose then writes the real image in one pass: package entries a
 * scriptlet changed or removed are left out, the changes written after the
 * packages and signed like every file compose makes.
 *
 * Which scriptlet made a change comes from the inode's change time: after
 * each scriptlet the guest touches a marker, so a change belongs to the
 * scriptlet whose window holds its ctime (the last one that touched it).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "layout/layout.h"
#include "rpm/pkgset.h"

enum scriptlet_change_kind { SCRIPTLET_CREATED, SCRIPTLET_MODIFIED, SCRIPTLET_REMOVED };

struct scriptlet_change {
        char *path;
        enum scriptlet_change_kind kind;
        mode_t mode;            /* type and permission bits (not for REMOVED) */
        uid_t uid;
        gid_t gid;
        char *target;           /* symlinks */
        dev_t rdev;             /* devices */
        uint8_t *data;          /* regular files: the content */
        size_t size;
        const char *by;         /* "NEVRA %post", or "a scriptlet" when unknown */
};

struct scriptlets;

/* The install scriptlets, triggers and file triggers of set in rpm's
 * order (scriptorder.h).  *out is NULL when nothing runs.  Scripts in
 * rpm's Lua run in the guest's imgtool-lua (init/lua/runner.c). */
int scriptlets_plan(const struct layout *l, const struct pkgset *set, struct scriptlets **out);
void scriptlets_free(struct scriptlets *s);

/* Writes the scratch image (the set's files, no scriptlets run) to path
 * and its filesystem UUID into uuid. */
typedef int (*scriptlets_scratch_fn)(void *ctx, const char *path, char uuid[37]);

/* Run them: scratch image, boot, changes; SOURCE_DATE_EPOCH=epoch in the guest.  A %pretrans or %pre that fails
 * stops with a message naming the package, the scriptlet, its exit status
 * and its last lines of output (rpm would not install the package); a
 * %post or %posttrans that fails adds such a line to *warnings (rpm goes
 * on too); a run past [Packages] ScriptletTimeout= fails naming the
 * scriptlet that was running.  Nothing is left behind in any case. */
int scriptlets_run(struct scriptlets *s, const struct layout *l, int64_t epoch, scriptlets_scratch_fn scratch,
                   void *ctx, char ***warnings);

/* The changes, in path order (a folder before what it holds). */
size_t scriptlets_count(const struct scriptlets *s);
const struct scriptlet_change *scriptlets_change(const struct scriptlets *s, size_t i);
/* The change to path, or NULL. */
const struct scriptlet_change *scriptlets_find(const struct scriptlets *s, const char *path);
/* How many scriptlets ran (for the report). */
size_t scriptlets_ran(const struct scriptlets *s);
/* The labels ("NEVRA %post", "NEVRA %triggerin (set off by NEVRA)") of
 * those that ran, in the order they ran, pushed onto *v. */
int scriptlets_ran_labels(const struct scriptlets *s, char ***v);

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
