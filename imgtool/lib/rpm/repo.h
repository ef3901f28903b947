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
};

/* Load every Repository=, solve Install= (WeakDeps=, Exclude=), check each
 * picked package's checksum.  A solver problem is one error line in
 * libsolv's words.  *out is sorted by name, then arch. */
int repo_solve(const struct layout *l, struct repo_pick **out, size_t *n);
void repo_picks_free(struct repo_pick *p, size_t n);
