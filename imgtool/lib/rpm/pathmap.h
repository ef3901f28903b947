/* A map from image path to what was written there, and the one place that
 * decides whether two packages may both ship a path (rpm's rule), for
 * compose (which writes) and verify --against (which checks).  Open
 * addressing, grows by 2.  "/" is there from the start, as a directory no
 * package owns yet. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rpm/rpmpkg.h"

struct pathmap_entry {
        char *path;
        mode_t mode;
        int owner;              /* package index (install order) that shipped it, or, for an
                                 * implied directory, whose file needed it; -1: imgtool */
        int file;               /* index in the owner's file list; -1: none (implied, imgtool's) */
        bool implied;           /* a parent directory no package owns (made 0755 root) */
};

struct pathmap;
int pathmap_new(struct pathmap **out);
void pathmap_free(struct pathmap *m);
/* The entry for path, or NULL. */
struct pathmap_entry *pathmap_get(struct pathmap *m, const char *path);
/* Insert a new entry (path copied); returns it through *out. -EEXIST if present. */
int pathmap_add(struct pathmap *m, const char *path, struct pathmap_entry **out);
size_t pathmap_count(const struct pathmap *m);
/* Call fn for every entry (in no particular order); stops at the first
 * negative return. */
int pathmap_foreach(const struct pathmap *m, int (*fn)(struct pathmap_entry *e, void *ctx), void *ctx);

/* Claim f's path for package pkg of pkgs[] (install order).
 *   0: new: *out is its entry;
 *   1: an earlier package shipped it identically: nothing to write;
 *   2: f is a directory where a parent had been implied: *out now belongs
 *      to pkg, the caller sets its metadata;
 *  <0: a conflict, with a one-line message naming package and path. */
int pathmap_claim(struct pathmap *m, struct rpmpkg *const *pkgs, size_t pkg,
                  const struct rpmpkg_file *f, struct pathmap_entry **out);

/* Make sure every parent of path is a directory, adding the missing ones
 * as implied (for package pkg, or -1 for imgtool's own files) and calling
 * made(dir, userdata) for each, top down.  A parent that is not a
 * directory is an error naming the package that shipped it. */
int pathmap_imply_parents(struct pathmap *m, struct rpmpkg *const *pkgs, int pkg, const char *path,
                          int (*made)(const char *dir, void *userdata), void *userdata);
