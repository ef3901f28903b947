/* Lockfiles: the exact package set of an image, one package a line
 * (name, epoch, version, release, arch, sha256 of the .rpm, repository,
 * location), sorted, so the same set always gives the same bytes.
 * `compose --lock-out` writes one; `[Packages] Lock=` composes exactly that
 * set without depsolving; `verify --against` accepts one. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define LOCKFILE_MAGIC "# imgtool-lock 1"

struct rpmpkg;

/* Where a package came from: what a lockfile records. */
struct pkgorigin {
        char *repository;        /* the repository or Directory= folder (absolute) */
        char *location;          /* the .rpm's path inside it */
        char sha256[65];         /* hex of the whole .rpm; "" when not computed yet */
};

struct lock_entry {
        char *name, *epoch, *version, *release, *arch;
        char sha256[65];
        char *repository, *location;
};

/* Errors name the file and line. */
int lockfile_read(const char *path, struct lock_entry **out, size_t *n);
void lock_entries_free(struct lock_entry *e, size_t n);
/* Written to a temporary name beside path, renamed at the end. */
/* The packages pkgs[count] (install order) with their origins; then
 * tail(ctx, f) adds its lines (compose: the @user/@group lines of the users
 * and groups it made, so that a later build can keep their ids, [Users]
 * Previous=). */
/* flags: output.h's (OUTPUT_FORCE replaces an existing lockfile). */
int lockfile_write(const char *path, unsigned flags, struct rpmpkg *const *pkgs,
                   const struct pkgorigin *origins, size_t count,
                   void (*tail)(const void *ctx, FILE *f), const void *ctx);
bool lockfile_is(const char *path);
