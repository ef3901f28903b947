/* Lockfiles: the exact package set of an image, one package a line
 * (name, epoch, version, release, arch, sha256 of the .rpm, repository,
 * location), sorted, so the same set always gives the same bytes.
 * `compose --lock-out` writes one; `[Packages] Lock=` composes exactly that
 * set without depsolving; `verify --against` accepts one. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define LOCKFILE_MAGIC "# imgtool-lock 1"

struct pkgset;

struct lock_entry {
        char *name, *epoch, *version, *release, *arch;
        char sha256[65];
        char *repository, *location;
};

/* Errors name the file and line. */
int lockfile_read(const char *path, struct lock_entry **out, size_t *n);
void lock_entries_free(struct lock_entry *e, size_t n);
/* Written to a temporary name beside path, renamed at the end. */
struct users;
/* With the users and groups compose made (@user/@group lines), so that a
 * later build can keep their ids ([Users] Previous=). */
/* flags: output.h's (OUTPUT_FORCE replaces an existing lockfile). */
int lockfile_write(const char *path, unsigned flags, const struct pkgset *s, const struct users *u);
bool lockfile_is(const char *path);
/* sha256 of a file, lower-case hex. */
int file_sha256(const char *path, char hex[65]);
/* The same of an open file, from its start (path: for messages). */
int fd_sha256(int fd, const char *path, char hex[65]);
