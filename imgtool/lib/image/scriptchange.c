/* Two runs of the scriptlets compared (scriptchange.h). */
#include "image/scriptchange.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "base/strv.h"

static const char *nz(const char *s) { return s ? s : ""; }

/* What differs between two changes to the same path, or NULL. */
static const char *difference(const struct scriptlet_change *a, const struct scriptlet_change *b)
{
        if (a->kind != b->kind)
                return "what was done to it differs (created, modified, removed)";
        if (a->kind == SCRIPTLET_REMOVED)
                return NULL;
        if ((a->mode & S_IFMT) != (b->mode & S_IFMT))
                return "its type differs";
        if (a->mode != b->mode)
                return "its mode differs";
        if (a->uid != b->uid || a->gid != b->gid)
                return "its owner differs";
        if (S_ISLNK(a->mode) && strcmp(nz(a->target), nz(b->target)))
                return "its link target differs";
        if ((S_ISCHR(a->mode) || S_ISBLK(a->mode)) && a->rdev != b->rdev)
                return "its device number differs";
        if (S_ISREG(a->mode) && (a->size != b->size || (a->size && memcmp(a->data, b->data, a->size))))
                return "its content differs";
        return NULL;
}

int scriptchange_differ(const struct scriptlet_change *a, size_t na, const struct scriptlet_change *b, size_t nb,
                        char ***lines)
{
        size_t i = 0, j = 0;
        int found = 0;

        while (i < na || j < nb) {
                int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i].path, b[j].path);
                const char *what = NULL, *path, *by;
                if (c < 0) {
                        path = a[i].path, by = a[i].by, what = "only the first run changed it";
                        i++;
                } else if (c > 0) {
                        path = b[j].path, by = b[j].by, what = "only the second run changed it";
                        j++;
                } else {
                        path = a[i].path, by = a[i].by, what = difference(&a[i], &b[j]);
                        i++;
                        j++;
                }
                if (!what)
                        continue;
                if (strv_pushf(lines, "%s (%s): %s", path, by, what) < 0)
                        return -ENOMEM;
                found++;
        }
        return found;
}
