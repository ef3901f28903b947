/* One change a scriptlet made to the image (scriptlets.h), and the
 * comparison of two runs' changes that [Packages] ScriptletCheck= makes
 * (docs/scriptlets.md, "Naming what differs between runs"). */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/* Both lists in path order.  Each path one run changed and the other did
 * not, or changed differently (kind, type, mode, owner, link target,
 * device, content), is appended to *lines as "PATH (BY): what differs",
 * BY the first run's scriptlet (the second's when only it changed the
 * path).  Returns how many, or -ENOMEM. */
int scriptchange_differ(const struct scriptlet_change *a, size_t na, const struct scriptlet_change *b, size_t nb,
                        char ***lines);
