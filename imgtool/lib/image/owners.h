/* File owners resolved as rpm resolves them when it installs into a root
 * (rpm 4.18, lib/rpmfi.c rpmfilesStat and lib/rpmug.c):
 *   - "root" is uid/gid 0 without a lookup;
 *   - other names are looked up in the image's own /etc/passwd and
 *     /etc/group, as they stand when the package is installed (rpm resolves
 *     every file of a package before it writes any: a package's own passwd
 *     counts from the next package on);
 *   - a name the image does not know becomes root, and rpm then clears
 *     S_ISUID (unknown user) or S_ISGID (unknown group), so a fallback never
 *     makes a set-id root file.
 * compose writes with this module and verify --against checks with it:
 * the one place for this rule.  Users made by other means (sysusers) go on
 * top with owners_add(). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum owners_db { OWNERS_PASSWD, OWNERS_GROUP, OWNERS_DB_COUNT };

struct owners;
int owners_new(struct owners **out);
void owners_free(struct owners *o);

/* Which database an image path is (/etc/passwd, /etc/group), or -1. */
int owners_db_of_path(const char *path);
/* The image's file of a database now holds text (len bytes; NULL: it is
 * not a usable file): parse it, replacing what it held before.  Malformed
 * lines are skipped, as the C library skips them. */
int owners_set_db(struct owners *o, enum owners_db which, const char *text, size_t len);
/* A name known besides the files (e.g. a sysusers.d entry).  Files win. */
int owners_add(struct owners *o, enum owners_db which, const char *name, unsigned id);

struct owner {
        uid_t uid;
        gid_t gid;
        mode_t mode;            /* the header mode, set-id bits cleared on fallback */
        bool unknown_user, unknown_group;
};
void owners_resolve(const struct owners *o, const char *user, const char *group, mode_t mode,
                    struct owner *out);
