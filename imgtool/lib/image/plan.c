#include "image/plan.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "base/strv.h"
#include "base/util.h"
#include "rpm/composedb.h"

bool plan_allows_unsigned(const char *const *globs, size_t n, const char *path)
{
        for (size_t i = 0; i < n; i++)
                if (fnmatch(globs[i], path, 0) == 0)
                        return true;
        return false;
}

/* "/var//lib/./rpm/" -> "/var/lib/rpm", so the path meets the package
 * paths it may collide with (those are normalised the same way). */
static void tidy_dbpath(char *p)
{
        char *w = p;
        for (const char *s = p; *s;) {
                while (*s == '/')
                        s++;
                size_t len = strcspn(s, "/");
                if (!len)
                        break;
                if (!(len == 1 && s[0] == '.')) {
                        *w++ = '/';
                        memmove(w, s, len);
                        w += len;
                }
                s += len;
        }
        *w = 0;   /* "/" becomes "": the database goes to /rpmdb.sqlite */
}

int plan_rpmdb_dir(const char *macros, char **dir)
{
        int r = composedb_dbpath(macros, dir);

        if (r < 0)
                return r;
        tidy_dbpath(*dir);
        return 0;
}

int plan_created_paths(const char *macros, char ***paths)
{
        _cleanup_free_ char *db = NULL;
        char **v = NULL;
        int r = plan_rpmdb_dir(macros, &db);

        if (r >= 0)
                r = strv_pushf(&v, "%s", "/etc/keys/x509_ima.der");
        if (r >= 0)
                r = strv_pushf(&v, "%s", "/etc/keys/ima");
        if (r >= 0)
                r = strv_pushf(&v, "%s", *db ? db : "/rpmdb.sqlite");
        if (r >= 0)
                r = strv_pushf(&v, "%s", "/boot/vmlinuz");
        if (r >= 0)
                r = strv_pushf(&v, "%s", "/lost+found");
        if (r < 0) {
                strv_free(v);
                return r;
        }
        *paths = v;
        return 0;
}
