/* The security.ima value: parse, format, keyid, sign (RFC 6979 ECDSA, RSA
 * PKCS#1 v1.5), verify against a set of trusted certs.  See imasig.h. */
#include "imasig.h"
#include "certs.h"
#include "pubkey.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util.h"

#define DIGSIG_HDR_LEN 9 /* type, version, hash_algo, keyid[4], sig_len[2] */

/* ---- hash algorithms ------------------------------------------------ */

struct hash_info {
        int algo;
        const char *name;    /* the kernel's name (crypto/hash_info.c) */
        size_t size;
        const char *evp;     /* OpenSSL's name, NULL if we cannot compute it */
};

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

static const struct hash_info *hash_lookup(int algo)
{
        for (size_t i = 0; i < ARRAY_SIZE(hash_table); i++)
                if (hash_table[i].algo == algo)
                        return &hash_table[i];
        return NULL;
}

/* Only algos we can compute count as known to callers. */
static const struct hash_info *hash_usable(int algo)
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

/* ---- parsing -------------------------------------------------------- */

const char *imasig_type_name(uint8_t type)
{
        switch (type) {
        case IMA_XATTR_DIGEST: return "sha1 hash only (legacy)";
        case EVM_XATTR_HMAC: return "EVM HMAC";
        case EVM_IMA_XATTR_DIGSIG: return "digital signature";
        case IMA_XATTR_DIGEST_NG: return "hash only";
        case EVM_XATTR_PORTABLE_DIGSIG: return "EVM portable signature";
        case IMA_VERITY_DIGSIG: return "fs-verity signature";
        }
        return "unknown type";
}

static int parse_digest_ng(const uint8_t *val, size_t len, struct imasig *out)
{
        const struct hash_info *h;

        if (len < 2)
                return imgerr(-EBADMSG, "hash-only value too short (%zu bytes)", len);
        out->hash_algo = val[1];
        h = hash_lookup(val[1]);
        if (!h)
                return imgerr(-EBADMSG, "hash-only value with unknown hash algorithm %u", val[1]);
        if (len - 2 != h->size)
                return imgerr(-EBADMSG, "hash-only value: %s digest of %zu bytes, expected %zu",
                              h->name, len - 2, h->size);
        out->digest = val + 2;
        out->digest_len = h->size;
        return 0;
}

static int parse_digest_sha1(const uint8_t *val, size_t len, struct imasig *out)
{
        out->hash_algo = IMA_HASH_SHA1;
        if (len != 1 + 20)
                return imgerr(-EBADMSG, "legacy sha1 value of %zu bytes, expected 21", len);
        out->digest = val + 1;
        out->digest_len = 20;
        return 0;
}

/* 0x03 v2 and 0x06 v3 share the header; the kernel wants sig_len to account
 * for exactly the rest of the value. */
static int parse_sig_header(const uint8_t *val, size_t len, struct imasig *out)
{
        uint32_t keyid;
        uint16_t sig_len;

        if (len < DIGSIG_HDR_LEN)
                return imgerr(-EBADMSG, "%s too short (%zu bytes, header is %d)",
                              imasig_type_name(val[0]), len, DIGSIG_HDR_LEN);
        out->version = val[1];
        out->hash_algo = val[2];
        memcpy(&keyid, val + 3, 4);
        memcpy(&sig_len, val + 7, 2);
        out->keyid = ntohl(keyid);
        if ((size_t)ntohs(sig_len) != len - DIGSIG_HDR_LEN)
                return imgerr(-EBADMSG, "%s length field says %u bytes, value has %zu",
                              imasig_type_name(val[0]), ntohs(sig_len), len - DIGSIG_HDR_LEN);
        if (ntohs(sig_len) == 0)
                return imgerr(-EBADMSG, "%s with an empty signature", imasig_type_name(val[0]));
        out->sig = val + DIGSIG_HDR_LEN;
        out->sig_len = ntohs(sig_len);
        return 0;
}

static int parse_digsig(const uint8_t *val, size_t len, struct imasig *out)
{
        if (len >= 2 && val[1] == 1)
                return imgerr(-EOPNOTSUPP, "digital signature version 1 (RSA digsig v1) is not supported");
        if (len >= 2 && val[1] != 2)
                return imgerr(-EBADMSG, "digital signature with unknown version %u", val[1]);
        int r = parse_sig_header(val, len, out);
        if (r < 0)
                return r;
        if (!hash_lookup(out->hash_algo))
                return imgerr(-EBADMSG, "digital signature with unknown hash algorithm %u",
                              out->hash_algo);
        return 0;
}

int imasig_parse(const uint8_t *val, size_t len, struct imasig *out)
{
        int r;

        memset(out, 0, sizeof(*out));
        if (!val || len == 0)
                return imgerr(-EBADMSG, "empty security.ima value");
        out->type = val[0];
        switch (val[0]) {
        case EVM_IMA_XATTR_DIGSIG:
                return parse_digsig(val, len, out);
        case IMA_XATTR_DIGEST_NG:
                return parse_digest_ng(val, len, out);
        case IMA_XATTR_DIGEST:
                return parse_digest_sha1(val, len, out);
        case IMA_VERITY_DIGSIG:
                /* Fill in what the header says so callers can name the key. */
                r = parse_sig_header(val, len, out);
                if (r < 0)
                        return r;
                return imgerr(-EOPNOTSUPP, "fs-verity signatures are not supported");
        case EVM_XATTR_HMAC:
        case EVM_XATTR_PORTABLE_DIGSIG:
                return imgerr(-EOPNOTSUPP, "%s is not an IMA value", imasig_type_name(val[0]));
        }
        return imgerr(-EBADMSG, "unknown security.ima type 0x%02x", val[0]);
}

static int digsig_format(uint8_t hash_algo, uint32_t keyid, const uint8_t *sig,
                         size_t sig_len, uint8_t **val, size_t *val_len)
{
        uint32_t be_keyid = htonl(keyid);
        uint16_t be_len = htons((uint16_t)sig_len);
        uint8_t *v;

        if (sig_len == 0 || sig_len > UINT16_MAX)
                return imgerr(-EINVAL, "signature of %zu bytes does not fit the header", sig_len);
        v = malloc(DIGSIG_HDR_LEN + sig_len);
        if (!v)
                return -ENOMEM;
        v[0] = EVM_IMA_XATTR_DIGSIG;
        v[1] = 2;
        v[2] = hash_algo;
        memcpy(v + 3, &be_keyid, 4);
        memcpy(v + 7, &be_len, 2);
        memcpy(v + DIGSIG_HDR_LEN, sig, sig_len);
        *val = v;
        *val_len = DIGSIG_HDR_LEN + sig_len;
        return 0;
}

/* ---- keyid ---------------------------------------------------------- */

/* evmctl's calc_keyid_v2: sha1 over the subjectPublicKey BIT STRING
 * contents, last 4 bytes.  For keys made by keygen this equals the SKID
 * tail, because OpenSSL's "hash" SKID is that same sha1. */
static int pubkey_keyid(const X509_PUBKEY *xpk, uint32_t *keyid)
{
        const unsigned char *pk;
        int pklen;
        uint8_t sha1[20];
        uint32_t be;

        if (!X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, (X509_PUBKEY *)xpk))
                return imgerr(-EBADMSG, "cannot read the public key");
        if (!EVP_Digest(pk, (size_t)pklen, sha1, NULL, EVP_sha1(), NULL))
                return imgerr(-EIO, "sha1 failed");
        memcpy(&be, sha1 + 16, 4);
        *keyid = ntohl(be);
        return 0;
}

static int pkey_keyid(EVP_PKEY *pkey, uint32_t *keyid)
{
        X509_PUBKEY *xpk = NULL;
        int r;

        if (!X509_PUBKEY_set(&xpk, pkey))
                return imgerr(-EINVAL, "cannot encode the public key");
        r = pubkey_keyid(xpk, keyid);
        X509_PUBKEY_free(xpk);
        return r;
}

static int x509_keyid(X509 *x, uint32_t *keyid)
{
        const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(x);
        uint32_t be;

        if (skid && ASN1_STRING_length(skid) >= 4) {
                memcpy(&be, ASN1_STRING_get0_data(skid) + ASN1_STRING_length(skid) - 4, 4);
                *keyid = ntohl(be);
                return 0;
        }
        return pubkey_keyid(X509_get_X509_PUBKEY(x), keyid);
}

int ima_cert_keyid(const uint8_t *cert_der, size_t len, uint32_t *keyid)
{
        const unsigned char *p = cert_der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        int r;

        if (!x)
                return imgerr(-EBADMSG, "not a DER X.509 certificate");
        r = x509_keyid(x, keyid);
        X509_free(x);
        return r;
}

/* ---- reading keys and certs ----------------------------------------- */

static int read_private_key(const char *path, EVP_PKEY **out)
{
        _cleanup_free_ uint8_t *data = NULL;
        size_t len;
        EVP_PKEY *pkey = NULL;
        int r;

        r = read_file(path, &data, &len);
        if (r < 0)
                return r;
        BIO *bio = BIO_new_mem_buf(data, (int)len);
        if (!bio)
                return -ENOMEM;
        pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (!pkey) {
                const unsigned char *p = data;
                pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
        }
        OPENSSL_cleanse(data, len);
        ERR_clear_error();
        if (!pkey)
                return imgerr(-EBADMSG, "%s: not a private key (PEM or DER, unencrypted)", path);
        *out = pkey;
        return 0;
}

/* ---- signing -------------------------------------------------------- */

/* -- k^-1 mod the group order --
 * OpenSSL's constant-time BN_mod_inverse was half of the signing time, and
 * its fast per-curve order inverse is not exported.  Fermat's little
 * theorem (k^(q-2)) with a fixed-limb Montgomery multiplication is constant
 * time in the secret k (the exponent q-2 is public) and about twice as fast. */

typedef unsigned __int128 u128;
#define ORD_MAX_LIMBS 9 /* up to 576-bit orders (P-521) */

struct ord_mont {
        int n;                          /* limbs */
        uint64_t q[ORD_MAX_LIMBS];      /* the order, little-endian limbs */
        uint64_t q0inv;                 /* -q^-1 mod 2^64 */
        uint64_t r2[ORD_MAX_LIMBS];     /* R^2 mod q, R = 2^(64n) */
        uint64_t one[ORD_MAX_LIMBS];    /* R mod q: 1 in Montgomery form */
        uint64_t exp[ORD_MAX_LIMBS];    /* q - 2 */
        int exp_bits;
};

/* r = a b R^-1 mod q (CIOS).  Inlined per limb count so loops unroll. */
static inline __attribute__((always_inline)) void
mont_mul_n(uint64_t *r, const uint64_t *a, const uint64_t *b, const struct ord_mont *m, const int n)
{
        uint64_t t[ORD_MAX_LIMBS + 2] = { 0 }, s[ORD_MAX_LIMBS], borrow = 0, keep;

        _Pragma("GCC unroll 9") for (int i = 0; i < n; i++) {
                u128 c = 0;
                _Pragma("GCC unroll 9") for (int j = 0; j < n; j++) {
                        c += (u128)a[j] * b[i] + t[j];
                        t[j] = (uint64_t)c;
                        c >>= 64;
                }
                c += t[n];
                t[n] = (uint64_t)c;
                t[n + 1] = (uint64_t)(c >> 64);
                uint64_t f = t[0] * m->q0inv;
                c = ((u128)f * m->q[0] + t[0]) >> 64;
                _Pragma("GCC unroll 9") for (int j = 1; j < n; j++) {
                        c += (u128)f * m->q[j] + t[j];
                        t[j - 1] = (uint64_t)c;
                        c >>= 64;
                }
                c += t[n];
                t[n - 1] = (uint64_t)c;
                t[n] = t[n + 1] + (uint64_t)(c >> 64);
        }
        /* t < 2q: subtract q unless t < q, without branching on t */
        for (int j = 0; j < n; j++) {
                u128 d = (u128)t[j] - m->q[j] - borrow;
                s[j] = (uint64_t)d;
                borrow = (uint64_t)(d >> 64) & 1;
        }
        keep = (uint64_t)0 - (borrow & (uint64_t)(t[n] == 0));
        for (int j = 0; j < n; j++)
                r[j] = (t[j] & keep) | (s[j] & ~keep);
}

static void mont_mul4(uint64_t *r, const uint64_t *a, const uint64_t *b, const struct ord_mont *m)
{
        mont_mul_n(r, a, b, m, 4);
}

static void mont_mul6(uint64_t *r, const uint64_t *a, const uint64_t *b, const struct ord_mont *m)
{
        mont_mul_n(r, a, b, m, 6);
}

static void mont_mul(uint64_t *r, const uint64_t *a, const uint64_t *b, const struct ord_mont *m)
{
        if (m->n == 4)
                mont_mul4(r, a, b, m);
        else if (m->n == 6)
                mont_mul6(r, a, b, m);
        else
                mont_mul_n(r, a, b, m, m->n);
}

static int bn_to_limbs(const BIGNUM *b, uint64_t *l, int n)
{
        uint8_t buf[ORD_MAX_LIMBS * 8];
        if (BN_bn2lebinpad(b, buf, n * 8) < 0)
                return -EINVAL;
        for (int i = 0; i < n; i++) {
                l[i] = 0;
                for (int j = 7; j >= 0; j--)
                        l[i] = l[i] << 8 | buf[i * 8 + j];
        }
        OPENSSL_cleanse(buf, sizeof(buf));
        return 0;
}

static int limbs_to_bn(const uint64_t *l, int n, BIGNUM *b)
{
        uint8_t buf[ORD_MAX_LIMBS * 8];
        for (int i = 0; i < n; i++)
                for (int j = 0; j < 8; j++)
                        buf[i * 8 + j] = (uint8_t)(l[i] >> (8 * j));
        int ok = BN_lebin2bn(buf, n * 8, b) != NULL;
        OPENSSL_cleanse(buf, sizeof(buf));
        return ok ? 0 : -ENOMEM;
}

static int ord_mont_init(struct ord_mont *m, const BIGNUM *q)
{
        BN_CTX *ctx = BN_CTX_new();
        BIGNUM *t = BN_new();
        uint64_t inv;
        int r = -ENOMEM;

        m->n = (BN_num_bits(q) + 63) / 64;
        if (m->n > ORD_MAX_LIMBS || !BN_is_odd(q)) {
                r = -EOPNOTSUPP;
                goto out;
        }
        if (!ctx || !t || bn_to_limbs(q, m->q, m->n) < 0)
                goto out;
        inv = m->q[0]; /* Newton: each step doubles the correct low bits */
        for (int i = 0; i < 6; i++)
                inv *= 2 - m->q[0] * inv;
        m->q0inv = (uint64_t)0 - inv;
        if (!BN_one(t) || !BN_lshift(t, t, 128 * m->n) || !BN_mod(t, t, q, ctx) ||
            bn_to_limbs(t, m->r2, m->n) < 0)
                goto out;
        if (!BN_one(t) || !BN_lshift(t, t, 64 * m->n) || !BN_mod(t, t, q, ctx) ||
            bn_to_limbs(t, m->one, m->n) < 0)
                goto out;
        if (!BN_copy(t, q) || !BN_sub_word(t, 2) || bn_to_limbs(t, m->exp, m->n) < 0)
                goto out;
        m->exp_bits = BN_num_bits(t);
        r = 0;
out:
        BN_free(t);
        BN_CTX_free(ctx);
        return r;
}

/* out = a^-1 for a in Montgomery form: a^(q-2), 4-bit fixed windows over the
 * public exponent. */
static void mont_inverse(const struct ord_mont *m, const uint64_t *a, uint64_t *out)
{
        uint64_t tab[16][ORD_MAX_LIMBS], x[ORD_MAX_LIMBS];
        const size_t sz = (size_t)m->n * sizeof(uint64_t);

        memcpy(tab[0], m->one, sz);
        memcpy(tab[1], a, sz);
        for (int i = 2; i < 16; i++)
                mont_mul(tab[i], tab[i - 1], tab[1], m);
        memcpy(x, m->one, sz);
        for (int b = (m->exp_bits + 3) / 4 * 4 - 4; b >= 0; b -= 4) {
                for (int sq = 0; sq < 4; sq++)
                        mont_mul(x, x, x, m);
                int w = (int)((m->exp[b / 64] >> (b % 64)) & 15);
                if (w)
                        mont_mul(x, x, tab[w], m);
        }
        memcpy(out, x, sz);
        OPENSSL_cleanse(tab, sizeof(tab));
        OPENSSL_cleanse(x, sizeof(x));
}

/* Invert every a[i] (Montgomery form) in place with one exponentiation
 * (Montgomery's trick): three multiplications per element instead of an
 * inversion each. */
static void mont_batch_inverse(const struct ord_mont *m, uint64_t (*a)[ORD_MAX_LIMBS],
                               uint64_t (*prefix)[ORD_MAX_LIMBS], size_t n)
{
        uint64_t inv[ORD_MAX_LIMBS], t[ORD_MAX_LIMBS];
        const size_t sz = (size_t)m->n * sizeof(uint64_t);

        memcpy(prefix[0], a[0], sz);
        for (size_t i = 1; i < n; i++)
                mont_mul(prefix[i], prefix[i - 1], a[i], m);
        mont_inverse(m, prefix[n - 1], inv);
        for (size_t i = n - 1; i > 0; i--) {
                mont_mul(t, inv, prefix[i - 1], m); /* a[i]^-1 */
                mont_mul(inv, inv, a[i], m);        /* (a[0]..a[i-1])^-1 */
                memcpy(a[i], t, sz);
        }
        memcpy(a[0], inv, sz);
        OPENSSL_cleanse(inv, sizeof(inv));
        OPENSSL_cleanse(t, sizeof(t));
}

static int bn_to_mont(const struct ord_mont *m, const BIGNUM *b, uint64_t *out)
{
        uint64_t l[ORD_MAX_LIMBS];
        int r = bn_to_limbs(b, l, m->n);
        if (r >= 0)
                mont_mul(out, l, m->r2, m);
        OPENSSL_cleanse(l, sizeof(l));
        return r;
}

static int mont_to_bn(const struct ord_mont *m, const uint64_t *a, BIGNUM *out)
{
        uint64_t l[ORD_MAX_LIMBS], plain_one[ORD_MAX_LIMBS] = { 1 };
        mont_mul(l, a, plain_one, m);
        int r = limbs_to_bn(l, m->n, out);
        OPENSSL_cleanse(l, sizeof(l));
        return r;
}

enum key_kind { KEY_KIND_EC, KEY_KIND_RSA };

/* Everything ECDSA signing needs, loaded once and only read afterwards, so
 * concurrent ima_key_sign_digest() calls on one key are safe. */
struct ec_signer {
        EC_GROUP *group;
        BIGNUM *order;
        BIGNUM *priv;
        int order_bits;
        size_t order_bytes;
        struct ord_mont mont;
        EVP_MD *md[IMA_HASH_SHA224 + 1]; /* for the RFC 6979 HMAC, by algo */
};

struct ima_key {
        EVP_PKEY *pkey;
        uint32_t keyid;
        enum key_kind kind;
        struct ec_signer ec;
        EVP_MD *md[IMA_HASH_SHA224 + 1]; /* RSA DigestInfo, by algo */
        size_t max_sig;
};

static void ec_signer_free(struct ec_signer *ec)
{
        EC_GROUP_free(ec->group);
        BN_free(ec->order);
        BN_clear_free(ec->priv);
        for (size_t i = 0; i < ARRAY_SIZE(ec->md); i++)
                EVP_MD_free(ec->md[i]);
}

void ima_key_free(struct ima_key *k)
{
        if (!k)
                return;
        EVP_PKEY_free(k->pkey);
        ec_signer_free(&k->ec);
        for (size_t i = 0; i < ARRAY_SIZE(k->md); i++)
                EVP_MD_free(k->md[i]);
        free(k);
}

/* Fetching is slow and takes a lock: do it once per key, for every algo we
 * can sign with. */
static void fetch_mds(EVP_MD **md, size_t n)
{
        for (size_t algo = 0; algo < n; algo++) {
                const struct hash_info *h = hash_usable((int)algo);
                if (h && algo != IMA_HASH_MD5)
                        md[algo] = EVP_MD_fetch(NULL, h->evp, NULL);
        }
        ERR_clear_error();
}

static int ec_signer_init(struct ec_signer *ec, EVP_PKEY *pkey, const char *path)
{
        char curve[80];
        int nid;

        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve,
                                            sizeof(curve), NULL))
                return imgerr(-EOPNOTSUPP, "%s: EC key without a named curve", path);
        nid = OBJ_txt2nid(curve);
        if (nid == NID_undef)
                nid = EC_curve_nist2nid(curve);
        ec->group = nid == NID_undef ? NULL : EC_GROUP_new_by_curve_name(nid);
        if (!ec->group)
                return imgerr(-EOPNOTSUPP, "%s: unsupported curve %s", path, curve);
        if (EC_GROUP_get_field_type(ec->group) != NID_X9_62_prime_field)
                return imgerr(-EOPNOTSUPP, "%s: curve %s is not over a prime field", path, curve);
        ec->order = BN_dup(EC_GROUP_get0_order(ec->group));
        if (!ec->order)
                return -ENOMEM;
        if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &ec->priv))
                return imgerr(-EBADMSG, "%s: cannot read the EC private key", path);
        BN_set_flags(ec->priv, BN_FLG_CONSTTIME);
        ec->order_bits = BN_num_bits(ec->order);
        ec->order_bytes = (size_t)(ec->order_bits + 7) / 8;
        if (ord_mont_init(&ec->mont, ec->order) < 0)
                return imgerr(-EOPNOTSUPP, "%s: unsupported curve %s", path, curve);
        fetch_mds(ec->md, ARRAY_SIZE(ec->md));
        return 0;
}

static int check_key_matches_cert(EVP_PKEY *pkey, X509 *cert, const char *key_path,
                                  const char *cert_path)
{
        EVP_PKEY *pub = X509_get0_pubkey(cert);
        if (!pub || EVP_PKEY_eq(pkey, pub) != 1) {
                ERR_clear_error();
                return imgerr(-EINVAL, "%s: key does not match certificate %s", key_path,
                              cert_path);
        }
        return 0;
}

static int key_keyid(struct ima_key *k, const char *key_path, const char *cert_path)
{
        X509 **certs = NULL;
        int r;

        if (!cert_path)
                return pkey_keyid(k->pkey, &k->keyid);
        r = certs_read_file(cert_path, &certs);
        if (r < 0)
                return r;
        r = check_key_matches_cert(k->pkey, certs[0], key_path, cert_path);
        if (r >= 0)
                r = x509_keyid(certs[0], &k->keyid);
        certs_free(certs);
        return r;
}

int ima_key_load(const char *key_path, const char *cert_path, struct ima_key **out)
{
        struct ima_key *k = calloc(1, sizeof(*k));
        int r;

        if (!k)
                return -ENOMEM;
        r = read_private_key(key_path, &k->pkey);
        if (r < 0)
                goto fail;
        if (EVP_PKEY_is_a(k->pkey, "EC")) {
                k->kind = KEY_KIND_EC;
                r = ec_signer_init(&k->ec, k->pkey, key_path);
        } else if (EVP_PKEY_is_a(k->pkey, "RSA")) {
                k->kind = KEY_KIND_RSA;
                if (EVP_PKEY_get_bits(k->pkey) < 2048)
                        r = imgerr(-EOPNOTSUPP, "%s: RSA key of %d bits, at least 2048 needed",
                                   key_path, EVP_PKEY_get_bits(k->pkey));
                fetch_mds(k->md, ARRAY_SIZE(k->md));
        } else {
                r = imgerr(-EOPNOTSUPP, "%s: key type %s is not supported (EC or RSA)",
                           key_path, EVP_PKEY_get0_type_name(k->pkey));
        }
        if (r < 0)
                goto fail;
        r = key_keyid(k, key_path, cert_path);
        if (r < 0)
                goto fail;
        k->max_sig = (size_t)EVP_PKEY_get_size(k->pkey);
        *out = k;
        return 0;
fail:
        ima_key_free(k);
        return r;
}

uint32_t ima_key_keyid(const struct ima_key *k)
{
        return k->keyid;
}

size_t ima_key_max_xattr(const struct ima_key *k)
{
        return DIGSIG_HDR_LEN + k->max_sig;
}

/* -- RFC 6979 deterministic nonces -- */

/* HMAC by hand over a reused digest context: K is always one hash long, so
 * no key hashing is needed, and this avoids a provider fetch per call. */
struct hmac {
        const EVP_MD *md;
        EVP_MD_CTX *ctx;
        size_t hlen, block;
};

static int hmac(struct hmac *h, const uint8_t *key, const uint8_t *const parts[],
                const size_t lens[], size_t nparts, uint8_t *out)
{
        uint8_t pad[144], inner[EVP_MAX_MD_SIZE];

        if (h->block > sizeof(pad) || h->hlen > h->block)
                return -EINVAL;
        memset(pad, 0x36, h->block);
        for (size_t i = 0; i < h->hlen; i++)
                pad[i] ^= key[i];
        if (!EVP_DigestInit_ex(h->ctx, h->md, NULL) || !EVP_DigestUpdate(h->ctx, pad, h->block))
                return -EIO;
        for (size_t i = 0; i < nparts; i++)
                if (lens[i] && !EVP_DigestUpdate(h->ctx, parts[i], lens[i]))
                        return -EIO;
        if (!EVP_DigestFinal_ex(h->ctx, inner, NULL))
                return -EIO;
        memset(pad, 0x5c, h->block);
        for (size_t i = 0; i < h->hlen; i++)
                pad[i] ^= key[i];
        if (!EVP_DigestInit_ex(h->ctx, h->md, NULL) || !EVP_DigestUpdate(h->ctx, pad, h->block) ||
            !EVP_DigestUpdate(h->ctx, inner, h->hlen) || !EVP_DigestFinal_ex(h->ctx, out, NULL))
                return -EIO;
        OPENSSL_cleanse(pad, sizeof(pad));
        return 0;
}

/* RFC 6979 bits2int: the leftmost order_bits bits of buf as an integer. */
static int bits2int(const struct ec_signer *ec, const uint8_t *buf, size_t len, BIGNUM *out)
{
        if (!BN_bin2bn(buf, (int)len, out))
                return -ENOMEM;
        if (len * 8 > (size_t)ec->order_bits &&
            !BN_rshift(out, out, (int)(len * 8 - (size_t)ec->order_bits)))
                return -ENOMEM;
        return 0;
}

/* The HMAC-DRBG state of RFC 6979 section 3.2. */
struct drbg {
        struct hmac h;
        uint8_t K[EVP_MAX_MD_SIZE], V[EVP_MAX_MD_SIZE];
};

static int drbg_update(struct drbg *d, uint8_t sep, const uint8_t *x, const uint8_t *h1,
                       size_t rlen)
{
        const uint8_t *parts[] = { d->V, &sep, x, h1 };
        const size_t lens[] = { d->h.hlen, 1, x ? rlen : 0, h1 ? rlen : 0 };
        if (hmac(&d->h, d->K, parts, lens, 4, d->K) < 0)
                return -EIO;
        const uint8_t *vp[] = { d->V };
        return hmac(&d->h, d->K, vp, &d->h.hlen, 1, d->V);
}

static int drbg_init(struct drbg *d, const struct ec_signer *ec, const BIGNUM *e,
                     BN_CTX *bnctx)
{
        uint8_t x[72], h1[72];
        size_t rlen = ec->order_bytes;
        int r = -ENOMEM;

        if (rlen > sizeof(x))
                return -EINVAL;
        memset(d->V, 0x01, d->h.hlen);
        memset(d->K, 0x00, d->h.hlen);
        /* e is already bits2int(h) mod q, so int2octets(e) is bits2octets(h). */
        if (BN_bn2binpad(ec->priv, x, (int)rlen) < 0 || BN_bn2binpad(e, h1, (int)rlen) < 0)
                goto out;
        r = drbg_update(d, 0x00, x, h1, rlen);
        if (r >= 0)
                r = drbg_update(d, 0x01, x, h1, rlen);
out:
        OPENSSL_cleanse(x, sizeof(x));
        return r;
}

/* The next candidate k (RFC 6979 3.2 step h). */
static int drbg_next_k(struct drbg *d, const struct ec_signer *ec, BIGNUM *k)
{
        uint8_t T[144];
        size_t tlen = 0;
        const uint8_t *vp[] = { d->V };

        while (tlen * 8 < (size_t)ec->order_bits) {
                if (tlen + d->h.hlen > sizeof(T) || hmac(&d->h, d->K, vp, &d->h.hlen, 1, d->V) < 0)
                        return -EIO;
                memcpy(T + tlen, d->V, d->h.hlen);
                tlen += d->h.hlen;
        }
        int r = bits2int(ec, T, tlen, k);
        OPENSSL_cleanse(T, sizeof(T));
        return r;
}

/* After a k that is out of range or gives r == 0 or s == 0. */
static int drbg_reseed(struct drbg *d)
{
        return drbg_update(d, 0x00, NULL, NULL, 0);
}

/* One signature in the making: its DRBG and numbers. */
struct ec_job {
        struct drbg d;
        BIGNUM *e, *k, *r, *s;
};

/* Draw k until it is in [1, q) and r = x(kG) mod q is not zero (RFC 6979
 * 3.2 h.3 and 3.4: every retry first steps the DRBG). */
static int ec_job_find_r(const struct ec_signer *ec, struct ec_job *j, EC_POINT *R,
                         BN_CTX *bnctx, bool first)
{
        for (int tries = 0; tries < 64; tries++) {
                int rc = first && tries == 0 ? 0 : drbg_reseed(&j->d);
                if (rc >= 0)
                        rc = drbg_next_k(&j->d, ec, j->k);
                if (rc < 0)
                        return rc;
                if (BN_is_zero(j->k) || BN_cmp(j->k, ec->order) >= 0)
                        continue;
                if (!EC_POINT_mul(ec->group, R, j->k, NULL, NULL, bnctx) ||
                    !EC_POINT_get_affine_coordinates(ec->group, R, j->r, NULL, bnctx) ||
                    !BN_nnmod(j->r, j->r, ec->order, bnctx))
                        return -EIO;
                if (!BN_is_zero(j->r))
                        return 0;
        }
        return -EIO;
}

/* s = k^-1 (e + r d) mod q.  Returns 1, or 0 if s came out zero. */
static int ec_job_s(const struct ec_signer *ec, struct ec_job *j, const BIGNUM *kinv,
                    BN_CTX *bnctx)
{
        BN_CTX_start(bnctx);
        BIGNUM *t = BN_CTX_get(bnctx);
        int ok = t && BN_mod_mul(t, j->r, ec->priv, ec->order, bnctx) &&
                 BN_mod_add_quick(t, t, j->e, ec->order) &&
                 BN_mod_mul(j->s, kinv, t, ec->order, bnctx);
        BN_CTX_end(bnctx);
        return ok ? !BN_is_zero(j->s) : -EIO;
}

/* The rare job whose s was zero: next k, inverted on its own. */
static int ec_job_retry(const struct ec_signer *ec, struct ec_job *j, EC_POINT *R,
                        BIGNUM *kinv, BN_CTX *bnctx)
{
        uint64_t km[ORD_MAX_LIMBS];
        int rc = 0;

        for (int tries = 0; rc == 0 && tries < 64; tries++) {
                rc = ec_job_find_r(ec, j, R, bnctx, false);
                if (rc < 0)
                        break;
                rc = bn_to_mont(&ec->mont, j->k, km);
                if (rc < 0)
                        break;
                mont_inverse(&ec->mont, km, km);
                rc = mont_to_bn(&ec->mont, km, kinv);
                if (rc >= 0)
                        rc = ec_job_s(ec, j, kinv, bnctx);
        }
        OPENSSL_cleanse(km, sizeof(km));
        return rc > 0 ? 0 : -EIO;
}

static int ecdsa_der(const BIGNUM *r, const BIGNUM *s, uint8_t **sig, size_t *sig_len)
{
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *rc = BN_dup(r), *sc = BN_dup(s);
        unsigned char *der = NULL;
        int n = -1;

        if (es && rc && sc && ECDSA_SIG_set0(es, rc, sc)) {
                rc = sc = NULL;
                n = i2d_ECDSA_SIG(es, &der);
        }
        BN_free(rc);
        BN_free(sc);
        ECDSA_SIG_free(es);
        if (n <= 0)
                return -ENOMEM;
        *sig = der;
        *sig_len = (size_t)n;
        return 0;
}

static int ec_job_start(const struct ec_signer *ec, struct ec_job *j, const uint8_t *digest,
                        size_t digest_len, EC_POINT *R, BN_CTX *bnctx)
{
        int rc;

        BN_set_flags(j->k, BN_FLG_CONSTTIME);
        rc = bits2int(ec, digest, digest_len, j->e);
        if (rc < 0)
                return rc;
        if (!BN_nnmod(j->e, j->e, ec->order, bnctx))
                return -ENOMEM;
        rc = drbg_init(&j->d, ec, j->e, bnctx);
        if (rc < 0)
                return rc;
        return ec_job_find_r(ec, j, R, bnctx, true);
}

#define EC_BATCH 64

/* RFC 6979 ECDSA over n <= EC_BATCH digests, the k inversions batched. */
static int ecdsa_sign_batch(const struct ec_signer *ec, int algo, const uint8_t *const digests[],
                            size_t digest_len, size_t n, uint8_t *sigs[], size_t sig_lens[])
{
        struct ec_job jobs[EC_BATCH];
        uint64_t kinv[EC_BATCH][ORD_MAX_LIMBS], prefix[EC_BATCH][ORD_MAX_LIMBS];
        EVP_MD_CTX *mdctx = EVP_MD_CTX_new();
        BN_CTX *bnctx = BN_CTX_new();
        EC_POINT *R = EC_POINT_new(ec->group);
        BIGNUM *kinv_bn = BN_new();
        size_t done = 0;
        int rc = -ENOMEM;

        if (n == 0 || n > EC_BATCH)
                return -EINVAL;
        if (!mdctx || !bnctx || !R || !kinv_bn)
                goto out;
        BN_set_flags(kinv_bn, BN_FLG_CONSTTIME);
        BN_CTX_start(bnctx);
        for (size_t i = 0; i < n; i++) {
                struct ec_job *j = &jobs[i];
                j->d.h = (struct hmac){ ec->md[algo], mdctx, (size_t)EVP_MD_get_size(ec->md[algo]),
                                        (size_t)EVP_MD_get_block_size(ec->md[algo]) };
                j->e = BN_CTX_get(bnctx);
                j->k = BN_CTX_get(bnctx);
                j->r = BN_CTX_get(bnctx);
                j->s = BN_CTX_get(bnctx);
                if (!j->s)
                        goto out_end;
                rc = ec_job_start(ec, j, digests[i], digest_len, R, bnctx);
                if (rc >= 0)
                        rc = bn_to_mont(&ec->mont, j->k, kinv[i]);
                if (rc < 0)
                        goto out_end;
        }
        mont_batch_inverse(&ec->mont, kinv, prefix, n);
        for (done = 0; done < n; done++) {
                struct ec_job *j = &jobs[done];
                rc = mont_to_bn(&ec->mont, kinv[done], kinv_bn);
                if (rc >= 0)
                        rc = ec_job_s(ec, j, kinv_bn, bnctx);
                if (rc == 0)
                        rc = ec_job_retry(ec, j, R, kinv_bn, bnctx);
                if (rc >= 0)
                        rc = ecdsa_der(j->r, j->s, &sigs[done], &sig_lens[done]);
                if (rc < 0)
                        break;
        }
out_end:
        BN_CTX_end(bnctx);
out:
        if (rc < 0)
                for (size_t i = 0; i < done; i++) {
                        OPENSSL_free(sigs[i]);
                        sigs[i] = NULL;
                }
        OPENSSL_cleanse(jobs, sizeof(jobs));
        OPENSSL_cleanse(kinv, sizeof(kinv));
        OPENSSL_cleanse(prefix, sizeof(prefix));
        BN_clear_free(kinv_bn);
        EC_POINT_free(R);
        BN_CTX_free(bnctx);
        EVP_MD_CTX_free(mdctx);
        return rc < 0 ? rc : 0;
}

/* EVP with a signature md makes the PKCS#1 v1.5 DigestInfo encoding over
 * the digest, which is what the kernel's rsa-pkcs1pad verify expects. */
static int rsa_sign(const struct ima_key *k, int algo, const uint8_t *digest,
                    size_t digest_len, uint8_t **sig, size_t *sig_len)
{
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
        size_t len = k->max_sig;
        uint8_t *buf = OPENSSL_malloc(len);
        int r = -EIO;

        if (!ctx || !buf) {
                r = -ENOMEM;
                goto out;
        }
        if (EVP_PKEY_sign_init(ctx) <= 0 ||
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_signature_md(ctx, k->md[algo]) <= 0 ||
            EVP_PKEY_sign(ctx, buf, &len, digest, digest_len) <= 0)
                goto out;
        *sig = buf;
        *sig_len = len;
        buf = NULL;
        r = 0;
out:
        if (r < 0)
                ERR_clear_error();
        OPENSSL_free(buf);
        EVP_PKEY_CTX_free(ctx);
        return r;
}

/* Raw signatures (OPENSSL_malloc'ed) for up to EC_BATCH digests. */
static int sign_chunk(const struct ima_key *k, int algo, const uint8_t *const digests[],
                      size_t digest_len, size_t n, uint8_t *sigs[], size_t sig_lens[])
{
        int r = 0;

        if (k->kind == KEY_KIND_EC)
                return ecdsa_sign_batch(&k->ec, algo, digests, digest_len, n, sigs, sig_lens);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = rsa_sign(k, algo, digests[i], digest_len, &sigs[i], &sig_lens[i]);
        if (r < 0)
                for (size_t i = 0; i < n; i++) {
                        OPENSSL_free(sigs[i]);
                        sigs[i] = NULL;
                }
        return r;
}

int ima_key_sign_digests(const struct ima_key *k, int hash_algo, const uint8_t *const digests[],
                         size_t n, uint8_t *vals[], size_t val_lens[])
{
        const size_t dlen = ima_hash_size(hash_algo);
        size_t done = 0;
        int r = 0;

        if (hash_algo < 0 || (size_t)hash_algo >= ARRAY_SIZE(k->md) ||
            !(k->kind == KEY_KIND_EC ? k->ec.md[hash_algo] : k->md[hash_algo]))
                return imgerr(-EOPNOTSUPP, "cannot sign with hash algorithm %d", hash_algo);
        for (size_t i = 0; i < n; i++)
                vals[i] = NULL;
        while (done < n && r >= 0) {
                uint8_t *sigs[EC_BATCH] = { NULL };
                size_t lens[EC_BATCH], chunk = n - done < EC_BATCH ? n - done : EC_BATCH;

                r = sign_chunk(k, hash_algo, digests + done, dlen, chunk, sigs, lens);
                if (r < 0) {
                        r = imgerr(r, "signing failed: %s",
                                   r == -ENOMEM ? "out of memory" : "OpenSSL error");
                        break;
                }
                for (size_t i = 0; i < chunk; i++) {
                        if (r >= 0)
                                r = digsig_format((uint8_t)hash_algo, k->keyid, sigs[i], lens[i],
                                                  &vals[done + i], &val_lens[done + i]);
                        OPENSSL_free(sigs[i]);
                }
                done += chunk;
        }
        if (r < 0)
                for (size_t i = 0; i < n; i++) {
                        free(vals[i]);
                        vals[i] = NULL;
                }
        return r;
}

int ima_key_sign_digest(const struct ima_key *k, int hash_algo, const uint8_t *digest,
                        size_t digest_len, uint8_t **val, size_t *val_len)
{
        if (ima_hash_size(hash_algo) && digest_len != ima_hash_size(hash_algo))
                return imgerr(-EINVAL, "%s digest of %zu bytes, expected %zu",
                              ima_hash_name(hash_algo), digest_len, ima_hash_size(hash_algo));
        return ima_key_sign_digests(k, hash_algo, &digest, 1, val, val_len);
}

/* ---- verifying ------------------------------------------------------ */

/* ECDSA verification is u1 G + u2 Q.  OpenSSL has a table of multiples of
 * G, but multiplies Q afresh each time: 3/4 of a verify.  A copy of the
 * curve whose generator is Q gets such a table too (built once per trusted
 * key), and each verify is two table multiplications. */
struct ec_verifier {
        EC_GROUP *g;          /* the curve, G with its table */
        EC_GROUP *gq;         /* the curve with generator Q and its table */
        int order_bits;
        struct ord_mont mont; /* arithmetic mod the order, for s^-1 */
};

struct trusted_key {
        uint32_t keyid;
        EVP_PKEY *pub;
        struct ec_verifier *ecv;   /* EC keys; NULL: verify through EVP */
};

static void ec_verifier_free(struct ec_verifier *v)
{
        if (!v)
                return;
        EC_GROUP_free(v->g);
        EC_GROUP_free(v->gq);
        free(v);
}

/* EC_GROUP_precompute_mult is deprecated in OpenSSL 3 (without a
 * replacement for a table of an arbitrary point); if it ever goes, verify
 * falls back to EVP. */
static bool precompute_table(EC_GROUP *g, BN_CTX *ctx)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        return EC_GROUP_precompute_mult(g, ctx) == 1;
#pragma GCC diagnostic pop
}

static struct ec_verifier *ec_verifier_new(EVP_PKEY *pub)
{
        struct ec_verifier *v = NULL;
        uint8_t q[160];
        char curve[80];
        size_t qlen = 0;
        EC_POINT *Q = NULL;
        BN_CTX *ctx = BN_CTX_new();
        int nid;
        bool ok = false;

        if (!ctx || !EVP_PKEY_is_a(pub, "EC") ||
            !EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), NULL) ||
            !EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, q, sizeof(q), &qlen))
                goto out;
        nid = OBJ_txt2nid(curve);
        if (nid == NID_undef)
                nid = EC_curve_nist2nid(curve);
        v = calloc(1, sizeof(*v));
        if (!v || nid == NID_undef || !(v->g = EC_GROUP_new_by_curve_name(nid)) ||
            EC_GROUP_get_field_type(v->g) != NID_X9_62_prime_field ||
            !BN_is_one(EC_GROUP_get0_cofactor(v->g)))
                goto out;
        Q = EC_POINT_new(v->g);
        if (!Q || !EC_POINT_oct2point(v->g, Q, q, qlen, ctx) || EC_POINT_is_at_infinity(v->g, Q) ||
            !(v->gq = EC_GROUP_dup(v->g)) ||
            !EC_GROUP_set_generator(v->gq, Q, EC_GROUP_get0_order(v->g), EC_GROUP_get0_cofactor(v->g)) ||
            !precompute_table(v->gq, ctx))
                goto out;
        v->order_bits = EC_GROUP_order_bits(v->g);
        if (ord_mont_init(&v->mont, EC_GROUP_get0_order(v->g)) < 0)
                goto out;
        ok = true;
out:
        EC_POINT_free(Q);
        BN_CTX_free(ctx);
        ERR_clear_error();
        if (!ok) {
                ec_verifier_free(v);
                return NULL;
        }
        return v;
}

/* One ECDSA verification (SEC 1, 4.1.4) in the making: the numbers from the
 * signature and the digest, as strict as OpenSSL (canonical DER only,
 * 0 < r, s < n); w = s^-1 is computed for a whole batch at once. */
struct ec_check {
        const struct ec_verifier *v;
        ECDSA_SIG *sig;
        BIGNUM *e;
        uint64_t w[ORD_MAX_LIMBS];      /* s, then s^-1, Montgomery form */
};

static void ec_check_clear(struct ec_check *c)
{
        ECDSA_SIG_free(c->sig);
        BN_free(c->e);
        memset(c, 0, sizeof(*c));
}

/* false: the signature is malformed or out of range (invalid). */
static bool ec_check_start(struct ec_check *c, const struct ec_verifier *v, const uint8_t *sig,
                           size_t sig_len, const uint8_t *digest, size_t digest_len)
{
        const unsigned char *p = sig;
        unsigned char *der = NULL;
        const BIGNUM *r, *s, *n = EC_GROUP_get0_order(v->g);
        int der_len;
        bool ok;

        memset(c, 0, sizeof(*c));
        c->v = v;
        c->sig = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
        if (!c->sig || p != sig + sig_len)
                goto fail;
        der_len = i2d_ECDSA_SIG(c->sig, &der);
        ok = der_len == (int)sig_len && !memcmp(der, sig, sig_len);
        OPENSSL_free(der);
        if (!ok)
                goto fail;
        ECDSA_SIG_get0(c->sig, &r, &s);
        if (BN_is_zero(r) || BN_is_negative(r) || BN_cmp(r, n) >= 0 ||
            BN_is_zero(s) || BN_is_negative(s) || BN_cmp(s, n) >= 0)
                goto fail;
        /* e: the leftmost order_bits bits of the digest */
        if (digest_len * 8 > (size_t)v->order_bits)
                digest_len = ((size_t)v->order_bits + 7) / 8;
        c->e = BN_bin2bn(digest, (int)digest_len, NULL);
        if (!c->e || (digest_len * 8 > (size_t)v->order_bits &&
                      !BN_rshift(c->e, c->e, 8 - (v->order_bits & 7))))
                goto fail;
        if (bn_to_mont(&v->mont, s, c->w) < 0)
                goto fail;
        return true;
fail:
        ERR_clear_error();
        ec_check_clear(c);
        return false;
}

/* With c->w = s^-1: u1 G + u2 Q, each from its table, and its x mod n == r? */
static bool ec_check_finish(struct ec_check *c, BN_CTX *ctx)
{
        const struct ec_verifier *v = c->v;
        const BIGNUM *r, *n = EC_GROUP_get0_order(v->g);
        EC_POINT *P1 = EC_POINT_new(v->g), *P2 = EC_POINT_new(v->gq);
        BIGNUM *w, *u1, *u2, *x;
        bool ok = false;

        ECDSA_SIG_get0(c->sig, &r, NULL);
        BN_CTX_start(ctx);
        w = BN_CTX_get(ctx);
        u1 = BN_CTX_get(ctx);
        u2 = BN_CTX_get(ctx);
        x = BN_CTX_get(ctx);
        if (!x || !P1 || !P2 || mont_to_bn(&v->mont, c->w, w) < 0 ||
            !BN_mod_mul(u1, c->e, w, n, ctx) || !BN_mod_mul(u2, r, w, n, ctx))
                goto out;
        if (!EC_POINT_mul(v->g, P1, u1, NULL, NULL, ctx) ||
            !EC_POINT_mul(v->gq, P2, u2, NULL, NULL, ctx) ||
            !EC_POINT_add(v->g, P1, P1, P2, ctx) || EC_POINT_is_at_infinity(v->g, P1) ||
            !EC_POINT_get_affine_coordinates(v->g, P1, x, NULL, ctx) || !BN_nnmod(x, x, n, ctx))
                goto out;
        ok = BN_cmp(x, r) == 0;
out:
        BN_CTX_end(ctx);
        EC_POINT_free(P1);
        EC_POINT_free(P2);
        ERR_clear_error();
        return ok;
}

/* s^-1 for every check of verifier v, with one inversion (Montgomery's trick). */
static int ec_checks_invert(struct ec_check *const checks[], size_t n)
{
        uint64_t (*a)[ORD_MAX_LIMBS] = calloc(n, sizeof(*a)), (*pre)[ORD_MAX_LIMBS] = calloc(n, sizeof(*pre));
        const struct ord_mont *m = &checks[0]->v->mont;

        if (!a || !pre) {
                free(a);
                free(pre);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                memcpy(a[i], checks[i]->w, sizeof(a[i]));
        mont_batch_inverse(m, a, pre, n);
        for (size_t i = 0; i < n; i++)
                memcpy(checks[i]->w, a[i], sizeof(a[i]));
        free(a);
        free(pre);
        return 0;
}

/* One EC signature on its own (several trusted keys share a keyid). */
static bool verify_ec_one(const struct ec_verifier *v, const struct imasig *s,
                          const uint8_t *digest, size_t digest_len)
{
        struct ec_check c, *cp = &c;
        BN_CTX *ctx;
        bool ok;

        if (!ec_check_start(&c, v, s->sig, s->sig_len, digest, digest_len))
                return false;
        ctx = BN_CTX_new();
        ok = ctx && ec_checks_invert(&cp, 1) == 0 && ec_check_finish(&c, ctx);
        BN_CTX_free(ctx);
        ec_check_clear(&c);
        return ok;
}

static bool verify_with(EVP_PKEY *pub, const EVP_MD *md, const struct imasig *s,
                        const uint8_t *digest, size_t digest_len)
{
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
        bool ok = ctx && EVP_PKEY_verify_init(ctx) > 0 &&
                  (!EVP_PKEY_is_a(pub, "RSA") ||
                   EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0) &&
                  EVP_PKEY_CTX_set_signature_md(ctx, md) > 0 &&
                  EVP_PKEY_verify(ctx, s->sig, s->sig_len, digest, digest_len) == 1;
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        return ok;
}

struct ima_trust {
        struct trusted_key *keys;
        size_t n, cap;
        EVP_MD *md[IMA_HASH_SHA224 + 1]; /* fetched once: verify is per file */
};

int ima_trust_new(struct ima_trust **out)
{
        *out = calloc(1, sizeof(**out));
        if (!*out)
                return -ENOMEM;
        fetch_mds((*out)->md, ARRAY_SIZE((*out)->md));
        return 0;
}

void ima_trust_free(struct ima_trust *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++) {
                EVP_PKEY_free(t->keys[i].pub);
                ec_verifier_free(t->keys[i].ecv);
        }
        for (size_t i = 0; i < ARRAY_SIZE(t->md); i++)
                EVP_MD_free(t->md[i]);
        free(t->keys);
        free(t);
}

size_t ima_trust_count(const struct ima_trust *t)
{
        return t ? t->n : 0;
}

/* Takes pub. */
static int trust_add_key(struct ima_trust *t, EVP_PKEY *pub, uint32_t keyid)
{
        struct trusted_key tk = { .keyid = keyid, .pub = pub };

        tk.ecv = EVP_PKEY_is_a(tk.pub, "EC") ? ec_verifier_new(tk.pub) : NULL;
        if (t->n == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 8;
                struct trusted_key *nk = realloc(t->keys, cap * sizeof(*nk));
                if (!nk) {
                        EVP_PKEY_free(tk.pub);
                        ec_verifier_free(tk.ecv);
                        return -ENOMEM;
                }
                t->keys = nk;
                t->cap = cap;
        }
        t->keys[t->n++] = tk;
        return 0;
}

static int trust_add_cert(struct ima_trust *t, X509 *x, const char *path)
{
        EVP_PKEY *pub;
        uint32_t keyid;
        int r;

        r = x509_keyid(x, &keyid);
        if (r < 0)
                return imgerr_prefix(r, "%s: ", path);
        pub = X509_get_pubkey(x);
        if (!pub)
                return imgerr(-EBADMSG, "%s: certificate with an unusable public key", path);
        return trust_add_key(t, pub, keyid);
}

int ima_trust_add_file(struct ima_trust *t, const char *path)
{
        X509 **certs = NULL;
        EVP_PKEY *pub = NULL;
        uint32_t keyid;
        int n, r = 0;

        /* A bare public key (EPEL publishes its IMA key so) verifies too. */
        r = pubkey_read_file(path, &pub);
        if (r < 0)
                return r;
        if (r > 0) {
                r = pubkey_ima_keyid(pub, &keyid);
                if (r < 0) {
                        EVP_PKEY_free(pub);
                        return imgerr_prefix(r, "%s: ", path);
                }
                r = trust_add_key(t, pub, keyid);
                return r < 0 ? r : 1;
        }
        n = certs_read_file(path, &certs);
        if (n < 0)
                return n;
        for (int i = 0; i < n && r >= 0; i++)
                r = trust_add_cert(t, certs[i], path);
        certs_free(certs);
        return r < 0 ? r : n;
}

const char *imasig_status_name(enum imasig_status s)
{
        switch (s) {
        case IMASIG_VALID: return "valid";
        case IMASIG_INVALID: return "invalid";
        case IMASIG_UNKNOWN_KEY: return "unknown key";
        case IMASIG_NONE: return "no signature";
        case IMASIG_HASH_ONLY: return "hash only";
        case IMASIG_MALFORMED: return "malformed";
        case IMASIG_UNSUPPORTED: return "unsupported";
        }
        return "unknown status";
}

/* Everything up to the arithmetic: a status if that already decides it,
 * else -1 with *ec set when one EC key with a table is the only candidate. */
static int verify_start(const struct ima_trust *t, const uint8_t *val, size_t len,
                        const uint8_t *digest, size_t digest_len, struct imasig *s,
                        const struct trusted_key **ec)
{
        const struct hash_info *h;
        size_t matches = 0;
        int r;

        *ec = NULL;
        if (!val || len == 0) {
                memset(s, 0, sizeof(*s));
                return IMASIG_NONE;
        }
        r = imasig_parse(val, len, s);
        if (s->type == IMA_XATTR_DIGEST_NG || s->type == IMA_XATTR_DIGEST)
                return r == -EBADMSG ? IMASIG_MALFORMED : IMASIG_HASH_ONLY;
        if (r == -EOPNOTSUPP)
                return IMASIG_UNSUPPORTED;
        if (r < 0)
                return IMASIG_MALFORMED;
        for (size_t i = 0; t && i < t->n; i++)
                if (t->keys[i].keyid == s->keyid) {
                        matches++;
                        *ec = &t->keys[i];
                }
        if (!matches) {
                *ec = NULL;
                imgerr(-ENOKEY, "unknown key %08x", s->keyid);
                return IMASIG_UNKNOWN_KEY;
        }
        h = hash_usable(s->hash_algo);
        if (!h || s->hash_algo >= ARRAY_SIZE(t->md) || !t->md[s->hash_algo]) {
                *ec = NULL;
                imgerr(-EOPNOTSUPP, "signature over an unsupported hash algorithm %u", s->hash_algo);
                return IMASIG_UNSUPPORTED;
        }
        if (digest_len != h->size) {
                *ec = NULL;
                imgerr(-EINVAL, "%s signature checked against a %zu-byte digest", h->name, digest_len);
                return IMASIG_INVALID;
        }
        if (matches > 1 || !(*ec)->ecv)
                *ec = NULL;
        return -1;
}

/* Every trusted key with the signature's keyid, through EVP. */
static enum imasig_status verify_each_key(const struct ima_trust *t, const struct imasig *s,
                                          const uint8_t *digest, size_t digest_len)
{
        const EVP_MD *md = t->md[s->hash_algo];

        for (size_t i = 0; i < t->n; i++)
                if (t->keys[i].keyid == s->keyid &&
                    (t->keys[i].ecv ? verify_ec_one(t->keys[i].ecv, s, digest, digest_len)
                                    : verify_with(t->keys[i].pub, md, s, digest, digest_len)))
                        return IMASIG_VALID;
        return IMASIG_INVALID;
}

static enum imasig_status invalid(const struct imasig *s)
{
        imgerr(-EBADMSG, "signature by key %08x does not match the content", s->keyid);
        return IMASIG_INVALID;
}

void ima_trust_verify_digests(const struct ima_trust *t, size_t n, const uint8_t *const vals[],
                              const size_t lens[], const uint8_t *const digests[],
                              const size_t digest_lens[], enum imasig_status st[],
                              struct imasig parsed[])
{
        struct ec_check *checks = calloc(n ? n : 1, sizeof(*checks));
        struct ec_check **group = calloc(n ? n : 1, sizeof(*group));
        struct imasig *local = parsed ? NULL : calloc(n ? n : 1, sizeof(*local));
        struct imasig *ps = parsed ? parsed : local;
        BN_CTX *ctx = BN_CTX_new();
        bool ok = checks && group && ps && ctx;

        for (size_t i = 0; i < n; i++) {
                struct imasig one, *s = ps ? &ps[i] : &one;
                const struct trusted_key *ec;
                int r = verify_start(t, vals[i], lens[i], digests[i], digest_lens[i], s, &ec);

                if (r >= 0)
                        st[i] = (enum imasig_status)r;
                else if (!ok || !ec)
                        st[i] = verify_each_key(t, s, digests[i], digest_lens[i]);
                else if (!ec_check_start(&checks[i], ec->ecv, s->sig, s->sig_len, digests[i], digest_lens[i]))
                        st[i] = IMASIG_INVALID;
                else
                        st[i] = IMASIG_NONE;   /* decided below, checks[i].v is set */
                if (st[i] == IMASIG_INVALID && r < 0)
                        invalid(s);
        }
        /* per verifier (nearly always one): invert every s at once, then finish */
        for (size_t i = 0; ok && i < n; i++) {
                const struct ec_verifier *v = checks[i].v;
                size_t m = 0;

                if (!v)
                        continue;
                for (size_t k = i; k < n; k++)
                        if (checks[k].v == v)
                                group[m++] = &checks[k];
                bool inverted = ec_checks_invert(group, m) == 0;   /* else fail closed */
                for (size_t k = 0; k < m; k++) {
                        size_t idx = (size_t)(group[k] - checks);
                        st[idx] = inverted && ec_check_finish(group[k], ctx) ? IMASIG_VALID
                                                                            : invalid(&ps[idx]);
                        ec_check_clear(group[k]);   /* also clears ->v: done */
                }
        }
        BN_CTX_free(ctx);
        free(local);
        free(group);
        free(checks);
}

enum imasig_status ima_trust_verify_digest(const struct ima_trust *t, const uint8_t *val,
                                           size_t len, const uint8_t *digest,
                                           size_t digest_len, struct imasig *parsed)
{
        struct imasig local;
        enum imasig_status st;

        ima_trust_verify_digests(t, 1, &val, &len, &digest, &digest_len, &st, parsed ? parsed : &local);
        return st;
}
