/* RFC 6979 ECDSA through OpenSSL's constant-time code.  See ecsign.h.
 *
 * Where each secret goes, and why no step is variable-time in it:
 *   d (private key)  read once as bytes with BN_bn2binpad (constant-time in
 *                    OpenSSL 3); used by the HMAC (digest calls and XORs,
 *                    no arithmetic) and by OpenSSL inside ECDSA_do_sign_ex.
 *   k (nonce)        HMAC-DRBG output bytes.  The range check 0 < k < q is
 *                    done on the bytes without branches (below); a rejected
 *                    k is thrown away, so only the fact of a retry shows.
 *                    It becomes a BIGNUM through a leading 0x01 byte, so
 *                    BN_bin2bn never skips leading zero bytes of k (which
 *                    would tell how short k is: the leak lattice attacks on
 *                    ECDSA feed on); the marker bit is then cleared, which
 *                    only trims zero 64-bit words (probability 2^-64).
 *   R = kG           EC_POINT_mul with only a scalar: OpenSSL's fixed-window
 *                    table (P-256, ecp_nistz256) or its Montgomery ladder
 *                    (ec_scalar_mul_ladder), the code ECDSA_sign_setup uses.
 *   k^-1 mod q       Fermat, k^(q-2), by BN_mod_exp_mont_consttime: OpenSSL's
 *                    own fallback for the order inverse (ec_field_inverse_mod_ord),
 *                    constant-time by construction; the exponent is public.
 *                    ecsign_sign_many inverts a batch of k with one such
 *                    exponentiation (Montgomery's trick: the product of all k
 *                    is inverted, then each k^-1 is two multiplications away),
 *                    every product by BN_mod_mul_montgomery, whose P-256/P-384
 *                    path is OpenSSL's fixed-length bn_mul_mont (no branch or
 *                    index on the values; like k_to_bn, only a zero top word,
 *                    probability 2^-64, would pick its generic path, also
 *                    constant-time but slower).  The exponentiation was half
 *                    of a signature's cost; 64 signatures share one now
 *                    (bench/sign-bench).  Not BN_mod_inverse with
 *                    BN_FLG_CONSTTIME: OpenSSL 3.0 sends it to
 *                    bn_mod_inverse_no_branch, a Euclid whose number of
 *                    steps depends on k.
 *   s                ECDSA_do_sign_ex with (k^-1, r): OpenSSL computes
 *                    k^-1 (e + r d) with its fixed-top Montgomery code.
 * The only hand-written parts left are the DRBG's bookkeeping (its HMAC over
 * OpenSSL's SHA-2: pads XORed, states copied), the byte compare and the DER
 * of the public (r, s).  EC_KEY and ECDSA_do_sign_ex are deprecated in OpenSSL 3 but are
 * the only interface to a caller's nonce before 3.2's "nonce-type". */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "ima/ecsign.h"

#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>

#include "base/util.h"

#define EC_MAX_BYTES 48 /* P-384 */
#define ECSIGN_BATCH 64

enum sha2 { SHA2_EVP, SHA2_256, SHA2_384, SHA2_512, SHA2_KINDS };

union sha2_ctx {
        SHA256_CTX c256;
        SHA512_CTX c512;
};

/* The SHA-2 states of step d's HMAC before h1: key K = 0, and
 * V = 0x01.., 0x00, x hashed after the ipad; made once per signer. */
struct drbg_start {
        union sha2_ctx in, out;
};

struct ecsign {
        EC_KEY *eckey;          /* the key as ECDSA_do_sign_ex takes it */
        const EC_GROUP *group;
        const BIGNUM *order;    /* q */
        BIGNUM *order_minus_2;  /* the public exponent of k^-1 = k^(q-2) */
        BN_MONT_CTX *mont;      /* Montgomery context of q (public) */
        size_t qlen;            /* bytes of q: its bit length is a multiple of 8 */
        uint8_t q[EC_MAX_BYTES];
        uint8_t x[EC_MAX_BYTES]; /* d, int2octets */
        struct drbg_start start[SHA2_KINDS]; /* by the HMAC's SHA-2 (not SHA2_EVP) */
};

static int drbg_start_make(const struct ecsign *s, enum sha2 t, struct drbg_start *out);

void ecsign_free(struct ecsign *s)
{
        if (!s)
                return;
        EC_KEY_free(s->eckey);
        BN_free(s->order_minus_2);
        BN_MONT_CTX_free(s->mont);
        OPENSSL_cleanse(s->x, sizeof(s->x));
        OPENSSL_cleanse(s->start, sizeof(s->start));
        free(s);
}

static int ecsign_setup(struct ecsign *s, EVP_PKEY *pkey, const char *path)
{
        const BIGNUM *d;
        BN_CTX *ctx = BN_CTX_new();
        int r = -ENOMEM;

        s->eckey = EVP_PKEY_get1_EC_KEY(pkey);
        if (!s->eckey || !(d = EC_KEY_get0_private_key(s->eckey))) {
                r = imgerr(-EBADMSG, "%s: cannot read the EC private key", path);
                goto out;
        }
        s->group = EC_KEY_get0_group(s->eckey);
        s->order = EC_GROUP_get0_order(s->group);
        s->qlen = (size_t)BN_num_bytes(s->order);
        if (BN_num_bits(s->order) != (int)s->qlen * 8 || s->qlen > EC_MAX_BYTES) {
                r = imgerr(-EOPNOTSUPP, "%s: curve order of %d bits is not supported", path,
                           BN_num_bits(s->order));
                goto out;
        }
        s->order_minus_2 = BN_dup(s->order);
        s->mont = BN_MONT_CTX_new();
        if (!ctx || !s->order_minus_2 || !s->mont || !BN_sub_word(s->order_minus_2, 2) ||
            !BN_MONT_CTX_set(s->mont, s->order, ctx) ||
            BN_bn2binpad(s->order, s->q, (int)s->qlen) < 0 ||
            BN_bn2binpad(d, s->x, (int)s->qlen) < 0)
                goto out;
        for (enum sha2 t = SHA2_256; t < SHA2_KINDS; t++)
                if ((r = drbg_start_make(s, t, &s->start[t])) < 0)
                        goto out;
        r = 0;
out:
        BN_CTX_free(ctx);
        ERR_clear_error();
        return r;
}

int ecsign_new(EVP_PKEY *pkey, const char *path, struct ecsign **out)
{
        char curve[80];
        struct ecsign *s;
        int r;

        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), NULL))
                return imgerr(-EOPNOTSUPP, "%s: EC key without a named curve", path);
        if (strcmp(curve, "prime256v1") && strcmp(curve, "secp384r1") && strcmp(curve, "P-256") &&
            strcmp(curve, "P-384"))
                return imgerr(-EOPNOTSUPP,
                              "%s: curve %s: the kernel verifies ECDSA only on P-256 (prime256v1) and P-384 (secp384r1)",
                              path, curve);
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        r = ecsign_setup(s, pkey, path);
        if (r < 0) {
                ecsign_free(s);
                return r;
        }
        *out = s;
        return 0;
}

/* -- RFC 6979 3.2: HMAC-DRBG seeded with d and the digest -- */

/* The HMAC's hash.  For SHA-256, -384 and -512 (every hash IMA signs with)
 * OpenSSL's low-level SHA-2 functions: their contexts are plain structs, so
 * the state after a key's ipad and opad blocks is made once per key and
 * copied by assignment for each message, and the state after the first
 * HMAC's fixed prefix (K = 0, V = 1..1, 0x00, x) once per signer
 * (ecsign_new): 15 compression calls per signature instead of 22, no EVP
 * dispatch.  Any other hash goes through EVP, the ipad and opad hashed for
 * every call.  The bytes are the same either way (bench/sign-bench, the
 * golden test of test_imasig). */
static enum sha2 sha2_kind(const EVP_MD *md)
{
        switch (EVP_MD_get_type(md)) {
        case NID_sha256: return SHA2_256;
        case NID_sha384: return SHA2_384;
        case NID_sha512: return SHA2_512;
        default: return SHA2_EVP;
        }
}

static void sha2_init(enum sha2 t, union sha2_ctx *c)
{
        if (t == SHA2_256)
                SHA256_Init(&c->c256);
        else if (t == SHA2_384)
                SHA384_Init(&c->c512);
        else
                SHA512_Init(&c->c512);
}

static void sha2_update(enum sha2 t, union sha2_ctx *c, const void *p, size_t n)
{
        if (t == SHA2_256)
                SHA256_Update(&c->c256, p, n);
        else
                SHA512_Update(&c->c512, p, n);   /* SHA384_Update is the same */
}

static void sha2_final(enum sha2 t, union sha2_ctx *c, uint8_t *out)
{
        if (t == SHA2_256)
                SHA256_Final(out, &c->c256);
        else if (t == SHA2_384)
                SHA384_Final(out, &c->c512);
        else
                SHA512_Final(out, &c->c512);
}

/* HMAC with a key of one hash length (K always is: no key hashing). */
struct hmac {
        const EVP_MD *md;
        EVP_MD_CTX *ctx;                /* SHA2_EVP: one digest context for every call */
        size_t hlen, block;
        enum sha2 t;
        union sha2_ctx in, out;         /* SHA-2: the states after the key's ipad, opad */
        uint8_t key[EVP_MAX_MD_SIZE];   /* SHA2_EVP: the key */
};

static void hmac_pad(const struct hmac *h, const uint8_t *key, uint8_t fill, uint8_t *pad)
{
        memset(pad, fill, h->block);
        for (size_t i = 0; i < h->hlen; i++)
                pad[i] ^= key[i];
}

static int hmac_key(struct hmac *h, const uint8_t *key)
{
        uint8_t pad[144];

        if (h->block > sizeof(pad) || h->hlen > h->block)
                return -EINVAL;
        if (h->t == SHA2_EVP) {
                memcpy(h->key, key, h->hlen);
                return 0;
        }
        hmac_pad(h, key, 0x36, pad);
        sha2_init(h->t, &h->in);
        sha2_update(h->t, &h->in, pad, h->block);
        hmac_pad(h, key, 0x5c, pad);
        sha2_init(h->t, &h->out);
        sha2_update(h->t, &h->out, pad, h->block);
        OPENSSL_cleanse(pad, sizeof(pad));
        return 0;
}

static int hmac_evp(struct hmac *h, const uint8_t *const parts[], const size_t lens[], size_t nparts,
                    uint8_t *out)
{
        uint8_t pad[144], inner[EVP_MAX_MD_SIZE];
        int r = -EIO;

        hmac_pad(h, h->key, 0x36, pad);
        if (!EVP_DigestInit_ex(h->ctx, h->md, NULL) || !EVP_DigestUpdate(h->ctx, pad, h->block))
                goto out;
        for (size_t i = 0; i < nparts; i++)
                if (lens[i] && !EVP_DigestUpdate(h->ctx, parts[i], lens[i]))
                        goto out;
        if (!EVP_DigestFinal_ex(h->ctx, inner, NULL))
                goto out;
        hmac_pad(h, h->key, 0x5c, pad);
        if (!EVP_DigestInit_ex(h->ctx, h->md, NULL) || !EVP_DigestUpdate(h->ctx, pad, h->block) ||
            !EVP_DigestUpdate(h->ctx, inner, h->hlen) || !EVP_DigestFinal_ex(h->ctx, out, NULL))
                goto out;
        r = 0;
out:
        OPENSSL_cleanse(pad, sizeof(pad));
        OPENSSL_cleanse(inner, sizeof(inner));
        return r;
}

/* HMAC under the key of the last hmac_key (or the states drbg_init set)
 * over the parts; out may be one of them. */
static int hmac(struct hmac *h, const uint8_t *const parts[], const size_t lens[], size_t nparts, uint8_t *out)
{
        union sha2_ctx c;
        uint8_t inner[EVP_MAX_MD_SIZE];

        if (h->t == SHA2_EVP)
                return hmac_evp(h, parts, lens, nparts, out);
        c = h->in;
        for (size_t i = 0; i < nparts; i++)
                if (lens[i])
                        sha2_update(h->t, &c, parts[i], lens[i]);
        sha2_final(h->t, &c, inner);
        c = h->out;
        sha2_update(h->t, &c, inner, h->hlen);
        sha2_final(h->t, &c, out);
        OPENSSL_cleanse(&c, sizeof(c));
        OPENSSL_cleanse(inner, sizeof(inner));
        return 0;
}

static struct hmac hmac_for(const EVP_MD *md, EVP_MD_CTX *ctx)
{
        return (struct hmac){ .md = md, .ctx = ctx, .hlen = (size_t)EVP_MD_get_size(md),
                              .block = (size_t)EVP_MD_get_block_size(md), .t = sha2_kind(md) };
}

struct drbg {
        struct hmac h;
        uint8_t K[EVP_MAX_MD_SIZE], V[EVP_MAX_MD_SIZE];
};

/* K = HMAC_K(V || sep || x || h1); V = HMAC_K(V).  x, h1: qlen bytes or NULL.
 * The HMAC is keyed with the current K on entry and with the new one on return. */
static int drbg_update(struct drbg *d, uint8_t sep, const uint8_t *x, const uint8_t *h1,
                       size_t qlen)
{
        const uint8_t *parts[] = { d->V, &sep, x, h1 };
        const size_t lens[] = { d->h.hlen, 1, x ? qlen : 0, h1 ? qlen : 0 };
        const uint8_t *vp[] = { d->V };

        if (hmac(&d->h, parts, lens, 4, d->K) < 0 || hmac_key(&d->h, d->K) < 0)
                return -EIO;
        return hmac(&d->h, vp, &d->h.hlen, 1, d->V);
}

static int drbg_start_make(const struct ecsign *s, enum sha2 t, struct drbg_start *out)
{
        static const int nids[SHA2_KINDS] = { [SHA2_256] = NID_sha256, [SHA2_384] = NID_sha384,
                                              [SHA2_512] = NID_sha512 };
        const EVP_MD *md = EVP_get_digestbynid(nids[t]);
        struct drbg d;
        uint8_t sep = 0x00;
        int r;

        if (!md)
                return -EOPNOTSUPP;
        d.h = hmac_for(md, NULL);
        memset(d.V, 0x01, d.h.hlen);
        memset(d.K, 0x00, d.h.hlen);
        r = hmac_key(&d.h, d.K);
        if (r >= 0) {
                sha2_update(t, &d.h.in, d.V, d.h.hlen);
                sha2_update(t, &d.h.in, &sep, 1);
                sha2_update(t, &d.h.in, s->x, s->qlen);
                out->in = d.h.in;
                out->out = d.h.out;
        }
        OPENSSL_cleanse(&d, sizeof(d));
        return r;
}

/* Steps b-f; h1 is bits2octets(digest). */
static int drbg_init(struct drbg *d, const struct ecsign *s, const uint8_t *h1)
{
        const uint8_t *parts[] = { h1 };
        const size_t lens[] = { s->qlen };
        int r;

        memset(d->V, 0x01, d->h.hlen);
        memset(d->K, 0x00, d->h.hlen);
        if (d->h.t == SHA2_EVP) {
                r = hmac_key(&d->h, d->K);
                if (r >= 0)
                        r = drbg_update(d, 0x00, s->x, h1, s->qlen);
        } else {
                const uint8_t *vp[] = { d->V };
                d->h.in = s->start[d->h.t].in;
                d->h.out = s->start[d->h.t].out;
                r = hmac(&d->h, parts, lens, 1, d->K);
                if (r >= 0)
                        r = hmac_key(&d->h, d->K);
                if (r >= 0)
                        r = hmac(&d->h, vp, &d->h.hlen, 1, d->V);
        }
        if (r >= 0)
                r = drbg_update(d, 0x01, s->x, h1, s->qlen);
        return r;
}

/* Step h.1-2: qlen bytes of T.  The order is a whole number of bytes, so
 * bits2int(T) is T's first qlen bytes. */
static int drbg_generate(struct drbg *d, const struct ecsign *s, uint8_t *k)
{
        const uint8_t *vp[] = { d->V };
        size_t got = 0;

        while (got < s->qlen) {
                size_t n = s->qlen - got < d->h.hlen ? s->qlen - got : d->h.hlen;
                if (hmac(&d->h, vp, &d->h.hlen, 1, d->V) < 0)
                        return -EIO;
                memcpy(k + got, d->V, n);
                got += n;
        }
        return 0;
}

/* Step h.3 after a rejected k: K = HMAC_K(V || 0x00); V = HMAC_K(V). */
static int drbg_reseed(struct drbg *d)
{
        return drbg_update(d, 0x00, NULL, NULL, 0);
}

/* 1 if 0 < k < q, else 0; no branch or index depends on k. */
static unsigned k_in_range(const uint8_t *k, const uint8_t *q, size_t len)
{
        unsigned borrow = 0, any = 0;

        for (size_t i = len; i-- > 0;) {
                unsigned diff = (unsigned)k[i] - (unsigned)q[i] - borrow;
                borrow = (diff >> 8) & 1;   /* k - q, from the least significant byte */
                any |= k[i];
        }
        return borrow & (unsigned)((any | (0u - any)) >> 8 & 1); /* k < q and k != 0 */
}

/* k as a BIGNUM without BN_bin2bn skipping k's leading zero bytes. */
static int k_to_bn(const uint8_t *k, size_t qlen, BIGNUM *out)
{
        uint8_t buf[EC_MAX_BYTES + 1];
        int ok;

        buf[0] = 0x01;
        memcpy(buf + 1, k, qlen);
        ok = BN_bin2bn(buf, (int)qlen + 1, out) && BN_clear_bit(out, (int)qlen * 8);
        OPENSSL_cleanse(buf, sizeof(buf));
        BN_set_flags(out, BN_FLG_CONSTTIME);
        return ok ? 0 : -ENOMEM;
}

/* bits2octets(digest) = int2octets(bits2int(digest) mod q): public data. */
static int digest_octets(const struct ecsign *s, const uint8_t *digest, size_t len, uint8_t *h1,
                         BN_CTX *ctx)
{
        BIGNUM *e = BN_CTX_get(ctx);

        if (!e || !BN_bin2bn(digest, (int)(len < s->qlen ? len : s->qlen), e))
                return -ENOMEM;
        /* bits2int of a digest shorter than q is the digest itself; of a longer
         * one its first qlen bytes (q is a whole number of bytes) */
        if (!BN_nnmod(e, e, s->order, ctx) || BN_bn2binpad(e, h1, (int)s->qlen) < 0)
                return -ENOMEM;
        return 0;
}

/* One candidate: (k^-1, r) for the DRBG's next k, 0 if k or r is rejected.
 * kinv NULL: k and r only (a batch inverts its k together). */
static int candidate(const struct ecsign *s, struct drbg *d, EC_POINT *R, BIGNUM *k,
                     BIGNUM *kinv, BIGNUM *r, BN_CTX *ctx)
{
        uint8_t kb[EC_MAX_BYTES];
        unsigned ok;
        int rc;

        rc = drbg_generate(d, s, kb);
        ok = rc < 0 ? 0 : k_in_range(kb, s->q, s->qlen);
        if (ok)
                rc = k_to_bn(kb, s->qlen, k);
        OPENSSL_cleanse(kb, sizeof(kb));
        if (rc < 0 || !ok)
                return rc;
        if (!EC_POINT_mul(s->group, R, k, NULL, NULL, ctx) ||
            !EC_POINT_get_affine_coordinates(s->group, R, r, NULL, ctx) ||
            !BN_nnmod(r, r, s->order, ctx))
                return -EIO;
        if (BN_is_zero(r))
                return 0;
        if (kinv && !BN_mod_exp_mont_consttime(kinv, k, s->order_minus_2, s->order, ctx, s->mont))
                return -EIO;
        return 1;
}

static bool need_new_k(void)
{
        unsigned long e = ERR_peek_last_error();
        return ERR_GET_LIB(e) == ERR_LIB_EC && ERR_GET_REASON(e) == EC_R_NEED_NEW_SETUP_VALUES;
}

/* One DER INTEGER of a positive public value below 2^(8 qlen): minimal,
 * a 0x00 in front when the top bit is set. */
static size_t der_uint(const BIGNUM *v, size_t qlen, uint8_t *out)
{
        uint8_t b[EC_MAX_BYTES];
        size_t skip = 0, n;

        BN_bn2binpad(v, b, (int)qlen);
        while (skip < qlen - 1 && b[skip] == 0)
                skip++;
        n = qlen - skip;
        out[0] = 0x02;
        out[1] = (uint8_t)(n + (b[skip] >> 7));
        out[2] = 0x00;
        memcpy(out + 2 + (b[skip] >> 7), b + skip, n);
        return 2 + n + (b[skip] >> 7);
}

/* SEQUENCE { r, s }: the bytes i2d_ECDSA_SIG gives, written here because
 * OpenSSL's template encoder took 0.3 us of a 13 us signature.  r and s are
 * the signature itself (public); at most 2 * (2 + 49) = 102 content bytes,
 * so every length has the short form. */
static int sig_der(const struct ecsign *s, const ECDSA_SIG *sig, uint8_t **der, size_t *der_len)
{
        uint8_t buf[2 + 2 * (3 + EC_MAX_BYTES)];
        size_t n = 2;

        n += der_uint(ECDSA_SIG_get0_r(sig), s->qlen, buf + n);
        n += der_uint(ECDSA_SIG_get0_s(sig), s->qlen, buf + n);
        buf[0] = 0x30;
        buf[1] = (uint8_t)(n - 2);
        *der = OPENSSL_memdup(buf, n);
        if (!*der)
                return -ENOMEM;
        *der_len = n;
        return 0;
}

int ecsign_sign(const struct ecsign *s, const EVP_MD *md, const uint8_t *digest, size_t len,
                uint8_t **der, size_t *der_len)
{
        struct drbg d = { .h = hmac_for(md, EVP_MD_CTX_new()) };
        uint8_t h1[EC_MAX_BYTES];
        BN_CTX *ctx = BN_CTX_secure_new();
        EC_POINT *R = EC_POINT_new(s->group);
        ECDSA_SIG *sig = NULL;
        BIGNUM *k, *kinv, *r;
        int rc = -ENOMEM;

        if (!d.h.ctx || !ctx || !R)
                goto out;
        BN_CTX_start(ctx);
        k = BN_CTX_get(ctx);
        kinv = BN_CTX_get(ctx);
        r = BN_CTX_get(ctx);
        if (!r)
                goto out_end;
        BN_set_flags(kinv, BN_FLG_CONSTTIME);
        rc = digest_octets(s, digest, len, h1, ctx);
        if (rc >= 0)
                rc = drbg_init(&d, s, h1);
        /* every rejected k (out of range, r = 0, s = 0) steps the DRBG (3.2 h.3) */
        for (int tries = 0; rc >= 0 && !sig; tries++) {
                if (tries == 64) {
                        rc = -EIO;
                        break;
                }
                if (tries > 0)
                        rc = drbg_reseed(&d);
                if (rc >= 0)
                        rc = candidate(s, &d, R, k, kinv, r, ctx);
                if (rc <= 0)
                        continue;
                sig = ECDSA_do_sign_ex(digest, (int)len, kinv, r, s->eckey);
                if (!sig)
                        rc = need_new_k() ? 0 : -EIO;   /* s came out zero */
        }
        if (sig)
                rc = sig_der(s, sig, der, der_len);
out_end:
        BN_CTX_end(ctx);
out:
        ERR_clear_error();
        ECDSA_SIG_free(sig);
        EC_POINT_free(R);
        BN_CTX_free(ctx);
        EVP_MD_CTX_free(d.h.ctx);
        OPENSSL_cleanse(&d, sizeof(d));
        return rc;
}

/* ---- a batch: one exponentiation for every k^-1 ------------------------- */

/* One signature of a batch: its DRBG (kept for a retry), k, r, k^-1. */
struct job {
        struct drbg d;
        BIGNUM *k, *r, *kinv, *prefix;  /* prefix: k_0..k_i R^-i (batch_invert) */
};

/* The first acceptable (k, r) of a job's DRBG (3.2 h.3: every rejection
 * steps it).  k^-1 is left to the batch. */
static int job_start(const struct ecsign *s, struct job *j, const uint8_t *digest, size_t len,
                     EC_POINT *R, BN_CTX *ctx)
{
        uint8_t h1[EC_MAX_BYTES];
        int rc = digest_octets(s, digest, len, h1, ctx);

        if (rc >= 0)
                rc = drbg_init(&j->d, s, h1);
        for (int tries = 0; rc >= 0; tries++) {
                if (tries == 64)
                        return -EIO;
                if (tries > 0 && (rc = drbg_reseed(&j->d)) < 0)
                        break;
                rc = candidate(s, &j->d, R, j->k, NULL, j->r, ctx);
                if (rc != 0)
                        break;
        }
        return rc < 0 ? rc : 0;
}

/* kinv_i = k_i^-1 for every job, with M(a, b) = a b R^-1 mod q
 * (BN_mod_mul_montgomery) on plain numbers, no conversions:
 *   p_0 = k_0, p_i = M(p_i-1, k_i) = k_0..k_i R^-i;
 *   x = p_n-1^-1 (the one exponentiation) = (k_0..k_n-1)^-1 R^(n-1);
 *   then down from i = n-1, x being (k_0..k_i)^-1 R^i:
 *   k_i^-1 = M(x, p_i-1), and x = M(x, k_i) for i-1; at the end x = k_0^-1. */
static int batch_invert(const struct ecsign *s, struct job *jobs, size_t n, BN_CTX *ctx)
{
        BIGNUM *x = BN_CTX_get(ctx);
        BN_MONT_CTX *m = s->mont;

        if (!x)
                return -ENOMEM;
        BN_set_flags(x, BN_FLG_CONSTTIME);
        if (!BN_copy(jobs[0].prefix, jobs[0].k))
                return -EIO;
        for (size_t i = 1; i < n; i++)
                if (!BN_mod_mul_montgomery(jobs[i].prefix, jobs[i - 1].prefix, jobs[i].k, m, ctx))
                        return -EIO;
        if (!BN_mod_exp_mont_consttime(x, jobs[n - 1].prefix, s->order_minus_2, s->order, ctx, m))
                return -EIO;
        for (size_t i = n; i-- > 1;)
                if (!BN_mod_mul_montgomery(jobs[i].kinv, x, jobs[i - 1].prefix, m, ctx) ||
                    !BN_mod_mul_montgomery(x, x, jobs[i].k, m, ctx))
                        return -EIO;
        return BN_copy(jobs[0].kinv, x) ? 0 : -EIO;
}

/* s for job i; when s came out zero (probability 2^-256), the job's next k
 * on the one-signature path. */
static int job_finish(const struct ecsign *s, struct job *j, const uint8_t *digest, size_t len,
                      EC_POINT *R, BN_CTX *ctx, ECDSA_SIG **sig)
{
        int rc = 1;

        for (int tries = 0; !*sig; tries++) {
                if (tries == 64)
                        return -EIO;
                if (tries > 0) {
                        rc = drbg_reseed(&j->d);
                        if (rc >= 0)
                                rc = candidate(s, &j->d, R, j->k, j->kinv, j->r, ctx);
                        if (rc < 0)
                                return rc;
                        if (rc == 0)
                                continue;
                }
                *sig = ECDSA_do_sign_ex(digest, (int)len, j->kinv, j->r, s->eckey);
                if (!*sig && !need_new_k())
                        return -EIO;
        }
        return 0;
}

static int sign_batch(const struct ecsign *s, const EVP_MD *md, const uint8_t *const digests[], size_t len,
                      size_t n, uint8_t *der[], size_t der_len[], EVP_MD_CTX *mdctx, BN_CTX *ctx, EC_POINT *R)
{
        struct job jobs[ECSIGN_BATCH];
        size_t done = 0;
        int rc = 0;

        BN_CTX_start(ctx);
        for (size_t i = 0; i < n && rc >= 0; i++) {
                struct job *j = &jobs[i];
                j->d.h = hmac_for(md, mdctx);
                j->k = BN_CTX_get(ctx);
                j->r = BN_CTX_get(ctx);
                j->kinv = BN_CTX_get(ctx);
                j->prefix = BN_CTX_get(ctx);
                if (!j->prefix) {
                        rc = -ENOMEM;
                        break;
                }
                BN_set_flags(j->kinv, BN_FLG_CONSTTIME);
                BN_set_flags(j->prefix, BN_FLG_CONSTTIME);
                rc = job_start(s, j, digests[i], len, R, ctx);
        }
        if (rc >= 0)
                rc = batch_invert(s, jobs, n, ctx);
        for (; rc >= 0 && done < n; done++) {
                ECDSA_SIG *sig = NULL;
                rc = job_finish(s, &jobs[done], digests[done], len, R, ctx, &sig);
                if (rc >= 0)
                        rc = sig_der(s, sig, &der[done], &der_len[done]);
                ECDSA_SIG_free(sig);
        }
        if (rc < 0)
                for (size_t i = 0; i < done; i++) {
                        OPENSSL_free(der[i]);
                        der[i] = NULL;
                }
        BN_CTX_end(ctx);        /* BN_CTX_secure_new: its numbers are cleared when freed */
        OPENSSL_cleanse(jobs, sizeof(jobs));
        return rc;
}

int ecsign_sign_many(const struct ecsign *s, const EVP_MD *md, const uint8_t *const digests[], size_t len,
                     size_t n, uint8_t *der[], size_t der_len[])
{
        EVP_MD_CTX *mdctx = EVP_MD_CTX_new();
        BN_CTX *ctx = BN_CTX_secure_new();
        EC_POINT *R = EC_POINT_new(s->group);
        int rc = mdctx && ctx && R ? 0 : -ENOMEM;

        for (size_t i = 0; i < n; i++)
                der[i] = NULL;
        for (size_t i = 0; rc >= 0 && i < n; i += ECSIGN_BATCH) {
                size_t m = n - i < ECSIGN_BATCH ? n - i : ECSIGN_BATCH;
                rc = sign_batch(s, md, digests + i, len, m, der + i, der_len + i, mdctx, ctx, R);
        }
        if (rc < 0)
                for (size_t i = 0; i < n; i++) {
                        OPENSSL_free(der[i]);
                        der[i] = NULL;
                }
        ERR_clear_error();
        EC_POINT_free(R);
        BN_CTX_free(ctx);
        EVP_MD_CTX_free(mdctx);
        return rc;
}
