#include "image/plan.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "base/strv.h"
#include "base/util.h"
#include "ima/imasig.h"
#include "rpm/composedb.h"
#include "rpm/pkgset.h"
#include "image/labels.h"
#include "image/users.h"

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

bool plan_created_covers(const char *const *paths, size_t n, const char *path, bool is_dir)
{
        size_t pl = strlen(path);

        for (size_t i = 0; i < n; i++) {
                const char *x = paths[i];
                size_t xl = strlen(x);
                if (!strncmp(path, x, xl) && (path[xl] == 0 || path[xl] == '/'))
                        return true;
                if (is_dir && pl < xl && !strncmp(x, path, pl) && x[pl] == '/')
                        return true;
        }
        return false;
}

int plan_resolve(const struct layout *l, struct plan *p)
{
        int r = pkgset_resolve(l, &p->set);

        if (r < 0)
                p->set = NULL;
        return r;
}

int plan_users(const struct layout *l, struct plan *p, int64_t epoch, struct owners *owners)
{
        int r = users_build(l, p->set, epoch, &p->users);

        if (r < 0)
                return r;
        return users_register(p->users, owners);
}

int plan_labels(const struct layout *l, struct plan *p)
{
        return labels_open(l, p->set, &p->labels);
}

void plan_free(struct plan *p)
{
        users_free(p->users);
        labels_free(p->labels);   /* before the set: its lookup threads read the set's paths */
        pkgset_free(p->set);
        *p = (struct plan){ 0 };
}

int plan_learn_owners(struct owners *o, const bool changed[OWNERS_DB_COUNT],
                      const char *const text[OWNERS_DB_COUNT], const size_t len[OWNERS_DB_COUNT])
{
        for (int db = 0; db < OWNERS_DB_COUNT; db++) {
                int r = changed[db] ? owners_set_db(o, (enum owners_db)db, text[db], len[db]) : 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

int plan_trust(const struct layout *l, const char *const *certs, size_t n, struct ima_trust **out)
{
        const char *const *list = n ? certs : l ? (const char *const *)l->certificates : NULL;
        int r = ima_trust_new(out);

        if (!n)
                for (n = 0; list && list[n]; n++)
                        ;
        /* ima_trust_add_file returns the number of certificates it added */
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = ima_trust_add_file(*out, list[i]);
        if (r < 0) {
                ima_trust_free(*out);
                *out = NULL;
        }
        return r < 0 ? r : 0;
}
