/* The image's system users and groups, decided before any file is written
 * so that every owner resolves:
 *   1. entries the packages ship themselves (/etc/passwd, /etc/group of a
 *      base package such as `setup`) win, ids and all;
 *   2. sysusers.d(5) lines: files the packages ship in /usr/lib/sysusers.d
 *      and rpm 4.19's user()/group() provides (a base64 sysusers line);
 *   3. ids: a fixed id from the line when free; else the id the previous
 *      image gave the name ([Users] Previous=: its lockfile, passwd or
 *      group file); else a hash of the name in 201..999, probing down on a
 *      collision, so an id does not depend on which other packages are in
 *      the set or in what order.
 * The same module renders /etc/passwd, group, shadow and gshadow for
 * compose, and tells verify what they must hold. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct layout;
struct pkgset;
struct users;

enum users_file { USERS_PASSWD, USERS_GROUP, USERS_SHADOW, USERS_GSHADOW, USERS_FILE_COUNT };

/* Reads the sysusers.d files and base files from the packages' payloads.
 * epoch: the image's time stamp (shadow's last-change day). */
int users_build(const struct layout *l, const struct pkgset *s, int64_t epoch, struct users **out);
/* The same from one sysusers.d text and the base passwd and group a
 * package would ship (NULL: none): tests and the fuzz harness. */
int users_build_text(const struct layout *l, const char *sysusers, const char *passwd, const char *group,
                     struct users **out);
void users_free(struct users *u);

/* Look an owner name up: true with *id set if the image will have it. */
bool users_uid(const struct users *u, const char *name, unsigned *id);
bool users_gid(const struct users *u, const char *name, unsigned *id);

const char *users_file_path(enum users_file f);
/* The content file f must have in the image, or NULL (*len 0) when the
 * image keeps what its package ships (or there is nothing to write).
 * *shipped says whether a package ships the file. */
const char *users_content(const struct users *u, enum users_file f, size_t *len, bool *shipped);
/* Mode of the file when compose creates it. */
unsigned users_file_mode(enum users_file f);

/* Lockfile lines ("@user\tNAME\tUID", "@group\tNAME\tGID") of the users and
 * groups the sysusers lines made, sorted, and "@privileged\tUSER\tGROUP"
 * for each privileged membership [Users] AllowPrivileged= allowed (verify
 * --against the lock allows those). */
void users_write_lock(const struct users *u, FILE *f);
size_t users_count_created(const struct users *u);
/* One line per privileged membership [Users] AllowPrivileged= allowed
 * (root, wheel, sudo, adm, PrivilegedGroups=), for the compose report. */
char *const *users_notes(const struct users *u);
/* Make the users and groups the sysusers lines created known to owner
 * resolution (owners.h) from the first file on; entries the packages' own
 * files hold still come from those files, as rpm reads them. */
struct owners;
int users_register(const struct users *u, struct owners *o);
