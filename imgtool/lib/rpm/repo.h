/* rpm-md repositories ([Packages] Repository=) and depsolving with libsolv:
 * Install= names the top-level packages, the solver adds what they need.
 * Every package the solver picks is checked against the checksum its
 * repository's primary.xml records before anything else reads it. */
#pragma once
#include <stddef.h>

#include "layout/layout.h"

struct repo_pick {
        char *path;             /* the .rpm on this machine */
        char *repository;       /* the repository folder (absolute) */
        char *location;         /* the package's href inside it */
        char sha256[65];        /* hex, checked */
        int fd;                 /* the file that was checked (pkgset takes it: -1) */
        char *name, *epoch, *version, *release, *arch; /* what primary.xml says it is; epoch "" for 0 */
};

/* Decompressed repomd.xml or primary.xml: more is refused, by this name. */
#define REPO_METADATA_MAX ((size_t)512 << 20)

/* Open REL (a location from metadata or a lockfile) beneath the folder DIR:
 * no "..", no absolute path, no symlink leading out of DIR (openat2
 * RESOLVE_BENEATH); a regular file only, opened without blocking (a FIFO
 * or a device is refused, never read).  WHAT names REL in messages. */
int repo_open_beneath(const char *dir, const char *rel, const char *what, int *fd);

/* Load every Repository=, solve Install= (WeakDeps=, Exclude=), check each
 * picked package's checksum.  A solver problem is one error line in
 * libsolv's words.  *out is sorted by name, then arch. */
int repo_solve(const struct layout *l, struct repo_pick **out, size_t *n);
void repo_picks_free(struct repo_pick *p, size_t n);
