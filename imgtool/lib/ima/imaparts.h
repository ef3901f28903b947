/* imaparts: what the parts of the security.ima module (imahash.c, imasig.c,
 * imatrust.c; their API is imasig.h) share; not for other modules. */
#pragma once
#include <stddef.h>

#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct hash_info {
        int algo;
        const char *name;    /* the kernel's name (crypto/hash_info.c) */
        size_t size;
        const char *evp;     /* OpenSSL's name, NULL if we cannot compute it */
};

/* imahash.c */
const struct hash_info *hash_lookup(int algo);
/* Only algos we can compute count as known to callers. */
const struct hash_info *hash_usable(int algo);

/* imasig.c */
void fetch_mds(EVP_MD **md, size_t n);
int x509_keyid(X509 *x, uint32_t *keyid, const char *path);
