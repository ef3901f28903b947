/* The package set of a layout: resolve Install= names in the package
 * folders, check dependencies inside the set, and put it in install order. */
#pragma once
#include <stddef.h>

#include "layout/layout.h"
#include "rpm/lockfile.h"
#include "rpm/rpmpkg.h"

struct pkgset {
        struct rpmpkg **pkgs;    /* install order */
        struct pkgorigin *origins; /* origins[i] is pkgs[i]'s */
        size_t count;
};

/* The set comes from Lock= (exactly that set, digests checked), else from
 * Repository= (libsolv depsolves Install=), else from Directory= (Install=
 * names the whole set).
 * Errors: a name that matches nothing, an unresolved dependency (all of
 * them listed in the message), unreadable packages. */
int pkgset_resolve(const struct layout *l, struct pkgset **out);
void pkgset_free(struct pkgset *s);
