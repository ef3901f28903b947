/* The plan: the rules that decide what an image of a layout holds, in one
 * place, so that compose (which writes the image) and verify --against
 * (which checks one) cannot disagree: which paths AllowUnsigned= lets go
 * unsigned; the files compose makes itself, with the rpm database where the
 * image's own rpm macros put it; and the resolved parts both work from, in
 * the order compose needs them: the package set and its install order, the
 * users and groups (registered with the owners a file's user and group
 * resolve through), the SELinux labels. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/owners.h"

struct labels;
struct layout;
struct pkgset;
struct users;

/* AllowUnsigned=: does one of the fnmatch(3) globs[n] match path?  `*`
 * matches across folders too (no FNM_PATHNAME: compose and verify agree). */
bool plan_allows_unsigned(const char *const *globs, size_t n, const char *path);

/* The folder the image's rpm database goes in: %_dbpath of the image's
 * /usr/lib/rpm/macros (macros: its text, NULL when the image has none; else
 * /var/lib/rpm), tidied as package paths are ("/var//lib/./rpm/" is
 * "/var/lib/rpm"; "/" is "").  *dir malloc'ed. */
int plan_rpmdb_dir(const char *macros, char **dir);

/* The paths compose makes itself (not from a package), NULL-terminated
 * and malloc'ed (strv.h): the IMA certificate and its keyring folder, the
 * rpm database's folder (plan_rpmdb_dir), the kernel, lost+found.  A path
 * covers what lies below it. */
int plan_created_paths(const char *macros, char ***paths);
/* Does one of those paths (paths[n]) cover path: path is it or lies below
 * it, or path is a folder (is_dir) above it? */
bool plan_created_covers(const char *const *paths, size_t n, const char *path, bool is_dir);

struct ima_trust;

/* What a layout resolves to before the first file is written. */
struct plan {
        struct pkgset *set;      /* resolved, checked, in install order (pkgset.h) */
        struct users *users;     /* the image's users and groups (users.h) */
        struct labels *labels;   /* SELinux file contexts (labels.h); NULL: no policy */
};

/* The keys an image of layout l is checked against: the certificates
 * given (certs, n; e.g. verify --cert), else the layout's Certificate=
 * list.  Compose installs these and checks package signatures and its own
 * against them; verify trusts them. */
int plan_trust(const struct layout *l, const char *const *certs, size_t n, struct ima_trust **out);

/* The package set of layout l and its install order. */
int plan_resolve(const struct layout *l, struct plan *p);
/* The users and groups of the resolved set (epoch: the image's time stamp),
 * registered in owners, so that files' owners resolve through them. */
int plan_users(const struct layout *l, struct plan *p, int64_t epoch, struct owners *owners);
/* The SELinux labels of the resolved set; p->labels NULL without a policy. */
int plan_labels(const struct layout *l, struct plan *p);
void plan_free(struct plan *p);

/* After a package: rpm resolves the owners of all a package's files before
 * it writes any (rpm 4.18 fsm.c), so the users files a package ships
 * (changed[db]) count from the next package on, with the text the image
 * then holds (text[db], len[db]; NULL: not a usable file). */
int plan_learn_owners(struct owners *o, const bool changed[OWNERS_DB_COUNT],
                      const char *const text[OWNERS_DB_COUNT], const size_t len[OWNERS_DB_COUNT]);
