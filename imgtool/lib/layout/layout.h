/* Reading a layout: an INI file (libinih) describing one image, validated in
 * one place, into struct layout.  The model itself, struct layout and every
 * key as a row of one table, is settings.h; the keys' documentation is
 * generated from that table (layouts/README.md, imgtool-layout(5)).  Relative paths
 * are resolved against the layout file's folder. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strv.h"
#include "layout/settings.h"

/* The keys a layout knows, in documentation order: the table of settings.h. */
size_t layout_key_count(void);
const struct layout_setting *layout_key(size_t i);
/* The key's resolved value as layout text (lists space-separated, paths
 * absolute, "" when unset); *text is malloc'ed. */
int layout_key_value(const struct layout *l, size_t i, char **text);

/* Read path, then apply overrides ("Section.Key=Value", NULL-terminated, may
 * be NULL) as if they were the last lines of the file.  Errors name the
 * file, line and key. */
int layout_load(const char *path, char *const *overrides, struct layout **out);
/* A layout whose only content is Lock=path (verify --against LOCKFILE). */
int layout_from_lock(const char *path, struct layout **out);
/* A Repository= value as a local folder: file:// stripped; relative to the layout. */
char *layout_repo_dir(const struct layout *l, const char *repo);
void layout_free(struct layout *l);
