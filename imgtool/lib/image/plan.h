/* The plan: the rules that decide what an image of a layout holds, in one
 * place, so that compose (which writes the image) and verify --against
 * (which checks one) cannot disagree.  It begins with the rules both used
 * to write for themselves: which paths AllowUnsigned= lets go unsigned, and
 * the files compose makes itself, with the rpm database where the image's
 * own rpm macros put it.  (The package set, users, owners and labels are
 * still built by each side from the same modules: pkgset, users, owners,
 * labels.) */
#pragma once
#include <stdbool.h>
#include <stddef.h>

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
