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

#include "image/scriptchange.h"
#include "layout/layout.h"
#include "rpm/pkgset.h"

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
 * scriptlet that was running.  With [Packages] ScriptletCheck=warn|fail a
 * second boot runs them again and each path whose change differs is a
 * warning, or with fail an error (-ENOTRECOVERABLE) naming them.  Nothing
 * is left behind in any case. */
int scriptlets_run(struct scriptlets *s, const struct layout *l, int64_t epoch, scriptlets_scratch_fn scratch,
                   void *ctx, char ***warnings);

/* The changes, in path order (a folder before what it holds). */
size_t scriptlets_count(const struct scriptlets *s);
const struct scriptlet_change *scriptlets_change(const struct scriptlets *s, size_t i);
/* The change to path, or NULL. */
const struct scriptlet_change *scriptlets_find(const struct scriptlets *s, const char *path);
/* How many scriptlets ran (for the report). */
size_t scriptlets_ran(const struct scriptlets *s);
/* [Packages] ScriptletCheck=warn|fail: the paths a second run changed
 * differently, "PATH (NEVRA %post): what differs" (NULL when none or not
 * checked). */
char *const *scriptlets_nondeterministic(const struct scriptlets *s);
