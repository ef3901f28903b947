/* file_contexts cut to what can match inside one folder, so that
 * selabel_lookup_raw tries tens of regexes instead of thousands.
 *
 * libselinux answers a lookup with the last spec (in its sorted order) whose
 * stem and file type apply and whose ^REGEX$ matches the path.  A spec that
 * cannot match any path beginning with "FOLDER/" can be left out of the
 * handle used for the paths of FOLDER without changing any answer: what is
 * left keeps its relative order (libselinux's sort is a stable partition),
 * its stems and its types.  Whether a spec can match below a folder is
 * decided with PCRE2's partial matching (PCRE2_PARTIAL_HARD on "FOLDER/":
 * "no match" means no longer subject starting with it matches), from the
 * parent folder's survivors down; specs whose partial answer is not
 * trustworthy (lookarounds, backreferences, \b, atomic and possessive parts)
 * are never left out.  Each distinct survivor list becomes one libselinux
 * handle (opened from the kept lines, in order), so the labels are still
 * libselinux's answer.  Paths whose key libselinux would rewrite first
 * (file_contexts.subs and .subs_dist, doubled or trailing slashes) get no
 * subset handle: the caller asks the full handle. */
#pragma once
#include <stddef.h>

struct fcsubset;
struct selabel_handle;

/* Read FC, FC.homedirs and FC.local (text, in libselinux's order) and the
 * sources of FC.subs and FC.subs_dist.  *out is NULL when the files hold
 * something this does not take (a NUL byte): lookups then go to the full
 * handle. */
int fcsubset_open(const char *fc, struct fcsubset **out);
void fcsubset_free(struct fcsubset *f);
/* Work out the folders of these paths and open one handle per distinct
 * survivor list.  Not thread-safe; fcsubset_handle is, after it. */
int fcsubset_plan(struct fcsubset *f, const char *const *paths, size_t n);
/* The handle for path (planned before), or NULL: use the full handle. */
struct selabel_handle *fcsubset_handle(const struct fcsubset *f, const char *path);
/* Counts for --verbose: folders, handles, specs kept in all handles. */
void fcsubset_stats(const struct fcsubset *f, size_t *folders, size_t *handles, size_t *kept, size_t *specs);
