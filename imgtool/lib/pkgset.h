/* The package set of a layout: resolve Install= names in the package
 * folders, check dependencies inside the set, and put it in install order. */
#pragma once
#include <stddef.h>

#include "layout.h"
#include "rpmpkg.h"

struct pkgset {
        struct rpmpkg **pkgs;    /* install order */
        size_t count;
};

/* Errors: a name that matches nothing, an unresolved dependency (all of
 * them listed in the message), unreadable packages. */
int pkgset_resolve(const struct layout *l, struct pkgset **out);
void pkgset_free(struct pkgset *s);

/* Read rpm's configuration once (thread-safe, idempotent). */
int rpmlib_init(void);
