/* imahash: the hash algorithms a security.ima value may name, and hashing with them (OpenSSL EVP). */
#include "ima/imasig.h"
#include "ima/imaparts.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/util.h"

/* ---- hash algorithms ------------------------------------------------ */

/* Every algo of the kernel's enum hash_algo that a 0x04 value may carry, so
 * a hash-only value is never misread even when we cannot compute its hash. */
static const struct hash_info hash_table[] = {
        { 0, "md4", 16, NULL },
        { IMA_HASH_MD5, "md5", 16, "MD5" },
        { IMA_HASH_SHA1, "sha1", 20, "SHA1" },
        { 3, "rmd160", 20, NULL },
        { IMA_HASH_SHA256, "sha256", 32, "SHA256" },
        { IMA_HASH_SHA384, "sha384", 48, "SHA384" },
        { IMA_HASH_SHA512, "sha512", 64, "SHA512" },
        { IMA_HASH_SHA224, "sha224", 28, "SHA224" },
        { 8, "rmd128", 16, NULL },
        { 9, "rmd256", 32, NULL },
        { 10, "rmd320", 40, NULL },
        { 11, "wp256", 32, NULL },
        { 12, "wp384", 48, NULL },
        { 13, "wp512", 64, NULL },
        { 14, "tgr128", 16, NULL },
        { 15, "tgr160", 20, NULL },
        { 16, "tgr192", 24, NULL },
        { 17, "sm3", 32, NULL },
        { 18, "streebog256", 32, NULL },
        { 19, "streebog512", 64, NULL },
        { 20, "sha3-256", 32, NULL },
        { 21, "sha3-384", 48, NULL },
        { 22, "sha3-512", 64, NULL },
};

const struct hash_info *hash_lookup(int algo)
{
        for (size_t i = 0; i < ARRAY_SIZE(hash_table); i++)
                if (hash_table[i].algo == algo)
                        return &hash_table[i];
        return NULL;
}

/* Only algos we can compute count as known to callers. */
const struct hash_info *hash_usable(int algo)
{
        const struct hash_info *h = hash_lookup(algo);
        return h && h->evp ? h : NULL;
}

const char *ima_hash_name(int algo)
{
        const struct hash_info *h = hash_usable(algo);
        return h ? h->name : NULL;
}

size_t ima_hash_size(int algo)
{
        const struct hash_info *h = hash_usable(algo);
        return h ? h->size : 0;
}

int ima_hash_from_rpm(int pgp_algo)
{
        switch (pgp_algo) {
        case 1: return IMA_HASH_MD5;
        case 2: return IMA_HASH_SHA1;
        case 8: return IMA_HASH_SHA256;
        case 9: return IMA_HASH_SHA384;
        case 10: return IMA_HASH_SHA512;
        case 11: return IMA_HASH_SHA224;
        }
        return imgerr(-EOPNOTSUPP, "unsupported rpm file digest algorithm %d", pgp_algo);
}

static EVP_MD *md_fetch(int algo)
{
        const struct hash_info *h = hash_usable(algo);
        if (!h) {
                imgerr(-EOPNOTSUPP, "unsupported hash algorithm %d", algo);
                return NULL;
        }
        EVP_MD *md = EVP_MD_fetch(NULL, h->evp, NULL);
        if (!md)
                imgerr(-EOPNOTSUPP, "OpenSSL cannot compute %s", h->name);
        return md;
}

/* ---- hashing -------------------------------------------------------- */

struct ima_hasher {
        EVP_MD *md;
        EVP_MD_CTX *ctx;
};

int ima_hasher_new(int algo, struct ima_hasher **out)
{
        struct ima_hasher *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->md = md_fetch(algo);
        if (!h->md) {
                free(h);
                return -EOPNOTSUPP;
        }
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || !EVP_DigestInit_ex(h->ctx, h->md, NULL)) {
                ima_hasher_free(h);
                return imgerr(-ENOMEM, "cannot set up hashing");
        }
        *out = h;
        return 0;
}

int ima_hasher_update(struct ima_hasher *h, const void *data, size_t len)
{
        if (!EVP_DigestUpdate(h->ctx, data, len))
                return imgerr(-EIO, "hashing failed");
        return 0;
}

int ima_hasher_final(struct ima_hasher *h, uint8_t *digest)
{
        if (!EVP_DigestFinal_ex(h->ctx, digest, NULL))
                return imgerr(-EIO, "hashing failed");
        return ima_hasher_reset(h);
}

int ima_hasher_reset(struct ima_hasher *h)
{
        if (!EVP_DigestInit_ex(h->ctx, h->md, NULL))
                return imgerr(-EIO, "hashing failed");
        return 0;
}

void ima_hasher_free(struct ima_hasher *h)
{
        if (!h)
                return;
        EVP_MD_CTX_free(h->ctx);
        EVP_MD_free(h->md);
        free(h);
}

/* Hashes from the current position to end of file. */
int ima_digest_fd(int algo, int fd, uint8_t *digest)
{
        struct ima_hasher *h;
        static const size_t bufsz = 1 << 16;
        _cleanup_free_ uint8_t *buf = malloc(bufsz);
        int r;

        if (!buf)
                return -ENOMEM;
        r = ima_hasher_new(algo, &h);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t n = read(fd, buf, bufsz);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = imgerr(-errno, "read failed: %s", strerror(errno));
                        break;
                }
                if (n == 0) {
                        r = ima_hasher_final(h, digest);
                        break;
                }
                r = ima_hasher_update(h, buf, (size_t)n);
                if (r < 0)
                        break;
        }
        ima_hasher_free(h);
        return r;
}
