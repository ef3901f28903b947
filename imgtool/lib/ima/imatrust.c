/* imatrust: the trusted keys and the verification of security.ima signatures against them. */
#include "ima/imasig.h"
#include "ima/imaparts.h"
#include "ima/certs.h"
#include "ima/ecsign.h"
#include "ima/keyref.h"
#include "ima/pubkey.h"

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

#include "base/util.h"

/* ---- verifying ------------------------------------------------------ */

/* ECDSA verification is u1 G + u2 Q.  OpenSSL has a table of multiples of
 * G, but multiplies Q afresh each time: 3/4 of a verify.  A copy of the
 * curve whose generator is Q gets such a table too (built once per trusted
 * key), and each verify is two table multiplications: 2.5 times faster than
 * EVP_PKEY_verify for P-256 (measured), about a second of CPU on the bench
 * corpus with Mode=package, which is why it stays.  Everything here is
 * public (signature, digest, public key), so variable-time arithmetic is
 * fine; it is all OpenSSL's. */
struct ec_verifier {
        EC_GROUP *g;          /* the curve, G with its table */
        EC_GROUP *gq;         /* the curve with generator Q and its table */
        int order_bits;
};

struct trusted_key {
        uint32_t keyid;
        EVP_PKEY *pub;
        struct ec_verifier *ecv;   /* EC keys; NULL: verify through EVP */
        char *unusable;            /* why the kernel cannot verify with it; NULL: it can */
        char *source;              /* the file (or name) it came from */
        bool bare;                 /* a bare public key, not a certificate's */
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

/* SEC 1, 4.1.4, as strict as OpenSSL: canonical DER only, 0 < r, s < n. */
static bool verify_ec(const struct ec_verifier *v, const uint8_t *sig, size_t sig_len,
                      const uint8_t *digest, size_t digest_len, BN_CTX *ctx)
{
        const unsigned char *p = sig;
        unsigned char *der = NULL;
        const BIGNUM *r, *s, *n = EC_GROUP_get0_order(v->g);
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
        EC_POINT *P1 = EC_POINT_new(v->g), *P2 = EC_POINT_new(v->gq);
        BIGNUM *e, *w, *u1, *u2, *x;
        bool ok = false;

        BN_CTX_start(ctx);
        e = BN_CTX_get(ctx);
        w = BN_CTX_get(ctx);
        u1 = BN_CTX_get(ctx);
        u2 = BN_CTX_get(ctx);
        x = BN_CTX_get(ctx);
        if (!x || !P1 || !P2 || !es || p != sig + sig_len ||
            i2d_ECDSA_SIG(es, &der) != (int)sig_len || memcmp(der, sig, sig_len))
                goto out;
        ECDSA_SIG_get0(es, &r, &s);
        if (BN_is_zero(r) || BN_is_negative(r) || BN_cmp(r, n) >= 0 ||
            BN_is_zero(s) || BN_is_negative(s) || BN_cmp(s, n) >= 0)
                goto out;
        /* e: the leftmost order_bits bits of the digest */
        if (digest_len * 8 > (size_t)v->order_bits)
                digest_len = ((size_t)v->order_bits + 7) / 8;
        if (!BN_bin2bn(digest, (int)digest_len, e) ||
            (digest_len * 8 > (size_t)v->order_bits && !BN_rshift(e, e, 8 - (v->order_bits & 7))))
                goto out;
        if (!BN_mod_inverse(w, s, n, ctx) || !BN_mod_mul(u1, e, w, n, ctx) ||
            !BN_mod_mul(u2, r, w, n, ctx))
                goto out;
        if (!EC_POINT_mul(v->g, P1, u1, NULL, NULL, ctx) ||
            !EC_POINT_mul(v->gq, P2, u2, NULL, NULL, ctx) ||
            !EC_POINT_add(v->g, P1, P1, P2, ctx) || EC_POINT_is_at_infinity(v->g, P1) ||
            !EC_POINT_get_affine_coordinates(v->g, P1, x, NULL, ctx) || !BN_nnmod(x, x, n, ctx))
                goto out;
        ok = BN_cmp(x, r) == 0;
out:
        BN_CTX_end(ctx);
        OPENSSL_free(der);
        ECDSA_SIG_free(es);
        EC_POINT_free(P1);
        EC_POINT_free(P2);
        ERR_clear_error();
        return ok;
}

static bool verify_evp(EVP_PKEY *pub, const EVP_MD *md, const struct imasig *s,
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

static void trusted_key_clear(struct trusted_key *tk)
{
        EVP_PKEY_free(tk->pub);
        ec_verifier_free(tk->ecv);
        free(tk->unusable);
        free(tk->source);
}

void ima_trust_free(struct ima_trust *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++)
                trusted_key_clear(&t->keys[i]);
        for (size_t i = 0; i < ARRAY_SIZE(t->md); i++)
                EVP_MD_free(t->md[i]);
        free(t->keys);
        free(t);
}

size_t ima_trust_count(const struct ima_trust *t)
{
        return t ? t->n : 0;
}

struct ima_trust_entry ima_trust_entry(const struct ima_trust *t, size_t i)
{
        const struct trusted_key *tk = &t->keys[i];

        return (struct ima_trust_entry){ .keyid = tk->keyid, .source = tk->source, .bare_key = tk->bare };
}

const char *ima_trust_key_problem(const struct ima_trust *t, uint32_t keyid)
{
        const char *why = NULL;

        for (size_t i = 0; t && i < t->n; i++)
                if (t->keys[i].keyid == keyid) {
                        if (!t->keys[i].unusable)
                                return NULL;
                        why = t->keys[i].unusable;
                }
        return why;
}

/* Takes pub.  A key the kernel cannot verify with is still trusted, so its
 * signatures are checked and reported as such (IMASIG_UNUSABLE_KEY) rather
 * than as an unknown key. */
static int trust_add_key(struct ima_trust *t, EVP_PKEY *pub, uint32_t keyid, const char *source, bool bare)
{
        struct trusted_key tk = { .keyid = keyid, .pub = pub, .bare = bare };
        char why[200];

        if (!(tk.source = strdup(source)) ||
            (ima_pkey_kernel_check(tk.pub, why, sizeof(why)) < 0 && !(tk.unusable = strdup(why)))) {
                trusted_key_clear(&tk);
                return -ENOMEM;
        }
        tk.ecv = EVP_PKEY_is_a(tk.pub, "EC") ? ec_verifier_new(tk.pub) : NULL;
        if (GROW(t->keys, t->n, t->cap, 8) < 0) {
                trusted_key_clear(&tk);
                return -ENOMEM;
        }
        t->keys[t->n++] = tk;
        return 0;
}

static int trust_add_cert(struct ima_trust *t, X509 *x, const char *path)
{
        EVP_PKEY *pub;
        uint32_t keyid = 0; /* set by x509_keyid on success; gcc -O2 cannot see that */
        int r;

        r = x509_keyid(x, &keyid, path);
        if (r < 0)
                return r;
        pub = X509_get_pubkey(x);
        if (!pub)
                return imgerr(-EBADMSG, "%s: certificate with an unusable public key", path);
        return trust_add_key(t, pub, keyid, path, false);
}

int ima_trust_add_der(struct ima_trust *t, const uint8_t *der, size_t len, const char *what)
{
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        int r;

        if (!x)
                return imgerr(-EBADMSG, "%s: not a DER X.509 certificate", what);
        r = trust_add_cert(t, x, what);
        X509_free(x);
        return r;
}

int ima_trust_add_file(struct ima_trust *t, const char *path)
{
        X509 **certs = NULL;
        EVP_PKEY *pub = NULL;
        uint32_t keyid = 0;
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
                r = trust_add_key(t, pub, keyid, path, true);
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
        case IMASIG_UNUSABLE_KEY: return "key the kernel cannot use";
        }
        return "unknown status";
}

/* Everything up to the arithmetic: a status if that already decides it,
 * else -1 (there is at least one trusted key with the keyid). */
static int verify_start(const struct ima_trust *t, const uint8_t *val, size_t len,
                        size_t digest_len, struct imasig *s)
{
        const struct hash_info *h;
        size_t matches = 0;
        int r;

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
                matches += t->keys[i].keyid == s->keyid;
        if (!matches) {
                imgerr(-ENOKEY, "unknown key %08x", s->keyid);
                return IMASIG_UNKNOWN_KEY;
        }
        h = hash_usable(s->hash_algo);
        if (!h || s->hash_algo >= ARRAY_SIZE(t->md) || !t->md[s->hash_algo]) {
                imgerr(-EOPNOTSUPP, "signature over an unsupported hash algorithm %u", s->hash_algo);
                return IMASIG_UNSUPPORTED;
        }
        if (digest_len != h->size) {
                imgerr(-EINVAL, "%s signature checked against a %zu-byte digest", h->name, digest_len);
                return IMASIG_INVALID;
        }
        return -1;
}

/* Every trusted key with the signature's keyid; a key the kernel can use
 * wins over one it cannot. */
static enum imasig_status verify_each_key(const struct ima_trust *t, const struct imasig *s,
                                          const uint8_t *digest, size_t digest_len, BN_CTX *ctx)
{
        const EVP_MD *md = t->md[s->hash_algo];
        const struct trusted_key *unusable = NULL;

        for (size_t i = 0; i < t->n; i++) {
                const struct trusted_key *k = &t->keys[i];
                if (k->keyid != s->keyid)
                        continue;
                if (!(k->ecv && ctx ? verify_ec(k->ecv, s->sig, s->sig_len, digest, digest_len, ctx)
                                    : verify_evp(k->pub, md, s, digest, digest_len)))
                        continue;
                if (!k->unusable)
                        return IMASIG_VALID;
                unusable = k;
        }
        if (unusable) {
                imgerr(-EKEYREJECTED, "signature by key %08x, an %s", s->keyid, unusable->unusable);
                return IMASIG_UNUSABLE_KEY;
        }
        imgerr(-EBADMSG, "signature by key %08x does not match the content", s->keyid);
        return IMASIG_INVALID;
}

static enum imasig_status verify_one(const struct ima_trust *t, const uint8_t *val, size_t len,
                                     const uint8_t *digest, size_t digest_len, struct imasig *s,
                                     BN_CTX *ctx)
{
        int r = verify_start(t, val, len, digest_len, s);
        return r >= 0 ? (enum imasig_status)r : verify_each_key(t, s, digest, digest_len, ctx);
}

void ima_trust_verify_digests(const struct ima_trust *t, size_t n, const uint8_t *const vals[],
                              const size_t lens[], const uint8_t *const digests[],
                              const size_t digest_lens[], enum imasig_status st[],
                              struct imasig parsed[])
{
        BN_CTX *ctx = BN_CTX_new();   /* NULL: every key through EVP */

        for (size_t i = 0; i < n; i++) {
                struct imasig one;
                st[i] = verify_one(t, vals[i], lens[i], digests[i], digest_lens[i],
                                   parsed ? &parsed[i] : &one, ctx);
        }
        BN_CTX_free(ctx);
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
