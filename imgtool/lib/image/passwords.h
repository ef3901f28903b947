/* [Users] PasswordHash=USER:HASH: the password hash an account gets in
 * /etc/shadow, so that someone can log in (docs/systemd.md, "Logging in").
 * Only a crypt(3) hash is taken, never a clear-text password: SHA-512-crypt
 * (`$6$`, `openssl passwd -6`), SHA-256-crypt (`$5$`) or yescrypt (`$y$`,
 * mkpasswd's default); the weak ones (DES, MD5-crypt `$1$`) are refused.
 * The hash is written as given, so the same layout gives the same bytes.
 * users.c renders the shadow file through this for compose and verify. */
#pragma once
#include <stddef.h>

struct layout;

/* Each PasswordHash= entry well-formed, one per user: -EINVAL naming the
 * layout file and the entry otherwise. */
int passwords_check(const struct layout *l);
/* Whether the layout sets any. */
int passwords_any(const struct layout *l);
/* The shadow text with each named user's second field replaced by its
 * hash (*text reallocated).  A named user with no line is -ENOENT naming
 * the layout file. */
int passwords_apply(const struct layout *l, char **text, size_t *len);
