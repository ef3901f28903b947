#include "base/datadir.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

#ifndef IMGTOOL_SOURCE_DIR
#define IMGTOOL_SOURCE_DIR "."
#endif
#ifndef IMGTOOL_BINARY_DIR
#define IMGTOOL_BINARY_DIR "."
#endif

static int exe_dir(char *buf, size_t size)
{
        ssize_t n = readlink("/proc/self/exe", buf, size - 1);
        if (n <= 0)
                return -errno;
        buf[n] = 0;
        memmove(buf, dirname(buf), strlen(dirname(buf)) + 1);
        return 0;
}

/* In a build tree the harness is in the source folder and the guest probes
 * under BUILD/init. */
static int build_tree_path(const char *rel, char **path)
{
        if (!strncmp(rel, "guest/", 6))
                return asprintf(path, "%s/init/%s", IMGTOOL_BINARY_DIR, rel + 6);
        return asprintf(path, "%s/%s", IMGTOOL_SOURCE_DIR, rel);
}

int datadir_find(const char *rel, char **path)
{
        char dir[PATH_MAX];
        const char *env = getenv("IMGTOOL_LIBEXEC");
        char *p = NULL;

        if (env) {
                if (asprintf(&p, "%s/%s", env, rel) < 0)
                        return -ENOMEM;
                if (access(p, F_OK) == 0)
                        goto found;
                free(p);
                return imgerr(-ENOENT, "%s/%s: not found ($IMGTOOL_LIBEXEC)", env, rel);
        }
        if (exe_dir(dir, sizeof(dir)) == 0) {
                if (asprintf(&p, "%s/../libexec/imgtool/%s", dir, rel) < 0)
                        return -ENOMEM;
                if (access(p, F_OK) == 0)
                        goto found;
                free(p);
        }
        if (build_tree_path(rel, &p) < 0)
                return -ENOMEM;
        if (access(p, F_OK) == 0)
                goto found;
        free(p);
        return imgerr(-ENOENT, "%s: not found beside imgtool (../libexec/imgtool/) nor in its build tree; "
                      "install imgtool with 'cmake --install' or './build.sh install PREFIX'", rel);
found:
        *path = realpath(p, NULL);
        free(p);
        return *path ? 0 : -ENOMEM;
}
