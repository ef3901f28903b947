/* [Users] PasswordHash= (passwords.h). */
#include "image/passwords.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strv.h"
#include "base/util.h"
#include "layout/layout.h"

/* crypt(3)'s alphabet for salts and hashes */
static bool crypt_chars(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!strchr("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", s[i]) || !s[i])
                        return false;
        return true;
}

/* $5$ / $6$: [rounds=N$]SALT$HASH, SALT 1..16 characters, HASH 43 or 86. */
static bool sha_crypt(const char *p, size_t hash_len)
{
        const char *salt = p, *dollar;

        if (!strncmp(salt, "rounds=", 7)) {
                char *end;
                unsigned long n = strtoul(salt + 7, &end, 10);
                if (end == salt + 7 || *end != '$' || n < 1000 || n > 999999999)
                        return false;
                salt = end + 1;
        }
        dollar = strchr(salt, '$');
        if (!dollar || dollar == salt || dollar - salt > 16 || !crypt_chars(salt, (size_t)(dollar - salt)))
                return false;
        return strlen(dollar + 1) == hash_len && crypt_chars(dollar + 1, hash_len);
}

/* $y$PARAMS$SALT$HASH (libxcrypt's yescrypt), HASH 43 characters. */
static bool yescrypt(const char *p)
{
        const char *d1 = strchr(p, '$'), *d2 = d1 ? strchr(d1 + 1, '$') : NULL;

        if (!d1 || !d2 || d1 == p || d2 == d1 + 1 || !crypt_chars(p, (size_t)(d1 - p)) ||
            !crypt_chars(d1 + 1, (size_t)(d2 - d1 - 1)))
                return false;
        return strlen(d2 + 1) == 43 && crypt_chars(d2 + 1, 43);
}

static const char *hash_problem(const char *h)
{
        if (!strncmp(h, "$6$", 3))
                return sha_crypt(h + 3, 86) ? NULL : "not a well-formed SHA-512-crypt hash ($6$[rounds=N$]SALT$HASH)";
        if (!strncmp(h, "$5$", 3))
                return sha_crypt(h + 3, 43) ? NULL : "not a well-formed SHA-256-crypt hash ($5$[rounds=N$]SALT$HASH)";
        if (!strncmp(h, "$y$", 3))
                return yescrypt(h + 3) ? NULL : "not a well-formed yescrypt hash ($y$PARAMS$SALT$HASH)";
        if (!strncmp(h, "$1$", 3) || (h[0] && h[0] != '$'))
                return "not a hash this tool takes (a clear-text password, DES or MD5-crypt?): give a "
                       "SHA-512-crypt hash, `openssl passwd -6`";
        return "an unknown hash kind: give a SHA-512-crypt hash, `openssl passwd -6`";
}

static const char *user_of(const char *entry, size_t *n)
{
        const char *colon = strchr(entry, ':');
        *n = colon ? (size_t)(colon - entry) : 0;
        return colon ? colon + 1 : NULL;
}

int passwords_any(const struct layout *l)
{
        return l && l->users_password_hash && l->users_password_hash[0];
}

int passwords_check(const struct layout *l)
{
        for (size_t i = 0; passwords_any(l) && l->users_password_hash[i]; i++) {
                const char *e = l->users_password_hash[i], *hash, *problem;
                size_t n;
                hash = user_of(e, &n);
                /* never echo what may be a clear-text password: the user alone */
                if (!hash || n == 0)
                        return imgerr(-EINVAL, "%s: [Users] PasswordHash=: expected USER:HASH (entry %zu)", l->path,
                                      i + 1);
                if ((problem = hash_problem(hash)))
                        return imgerr(-EINVAL, "%s: [Users] PasswordHash= for %.*s: %s", l->path, (int)n, e, problem);
                for (size_t k = 0; k < i; k++) {
                        size_t m;
                        user_of(l->users_password_hash[k], &m);
                        if (m == n && !strncmp(l->users_password_hash[k], e, n))
                                return imgerr(-EINVAL, "%s: [Users] PasswordHash= names %.*s twice", l->path,
                                              (int)n, e);
                }
        }
        return 0;
}

/* The entry for the user of a shadow line, or NULL. */
static const char *entry_for(const struct layout *l, const char *line, size_t name_len)
{
        for (size_t i = 0; l->users_password_hash[i]; i++) {
                size_t n;
                const char *hash = user_of(l->users_password_hash[i], &n);
                if (n == name_len && !strncmp(l->users_password_hash[i], line, n))
                        return hash;
        }
        return NULL;
}

int passwords_apply(const struct layout *l, char **text, size_t *len)
{
        _cleanup_free_ bool *used = NULL;
        char *out = NULL;
        size_t out_len = 0, n_entries = strv_length(l->users_password_hash);
        const char *p = *text, *end = *text + *len;
        FILE *f;

        if (!passwords_any(l))
                return 0;
        used = calloc(n_entries, sizeof(*used));
        f = used ? open_memstream(&out, &out_len) : NULL;
        if (!f)
                return -ENOMEM;
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p)), *c1, *c2, *hash;
                size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
                c1 = memchr(p, ':', n);
                c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - p)) : NULL;
                hash = c2 ? entry_for(l, p, (size_t)(c1 - p)) : NULL;
                if (hash) {
                        for (size_t i = 0; i < n_entries; i++)
                                if (user_of(l->users_password_hash[i], &(size_t){ 0 }) == hash)
                                        used[i] = true;
                        fprintf(f, "%.*s%s%.*s\n", (int)(c1 + 1 - p), p, hash, (int)(p + n - c2), c2);
                } else
                        fprintf(f, "%.*s\n", (int)n, p);
                p += n + 1;
        }
        if (fclose(f) != 0) {
                free(out);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_entries; i++)
                if (!used[i]) {
                        size_t n;
                        user_of(l->users_password_hash[i], &n);
                        free(out);
                        return imgerr(-ENOENT, "%s: [Users] PasswordHash= names %.*s, which is not a user of the "
                                      "image", l->path, (int)n, l->users_password_hash[i]);
                }
        free(*text);
        *text = out;
        *len = out_len;
        return 0;
}
