/* imasig's own ECDSA verification (tables for G and Q, batched inversions)
 * against OpenSSL's EVP_PKEY_verify as the oracle: valid signatures,
 * tampered digests, r/s out of range, high s, non-canonical DER, trailing
 * bytes, the wrong key; one by one and in batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ima/imasig.h"
#include "base/util.h"

#define CASES 40

struct key {
        EVP_PKEY *pkey;
        uint32_t keyid;
        char cert[4200];
};

static void make_key(const char *curve, const char *name, struct key *k)
{
        X509 *x = X509_new();
        unsigned char *der = NULL;
        const char *tmp = getenv("TEST_TMPDIR");
        FILE *f;
        int n;

        k->pkey = EVP_EC_gen(curve);
        assert_non_null(k->pkey);
        assert_true(X509_set_version(x, X509_VERSION_3));
        assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 1));
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                   (const unsigned char *)name, -1, -1, 0);
        X509_set_issuer_name(x, X509_get_subject_name(x));
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, k->pkey);
        /* subjectKeyIdentifier=hash, as every cert imgtool takes has */
        unsigned char md[20];
        unsigned int mdlen = sizeof(md);
        ASN1_OCTET_STRING *skid = ASN1_OCTET_STRING_new();
        assert_true(X509_pubkey_digest(x, EVP_sha1(), md, &mdlen));
        assert_true(ASN1_OCTET_STRING_set(skid, md, (int)mdlen));
        assert_true(X509_add1_ext_i2d(x, NID_subject_key_identifier, skid, 0, 0));
        ASN1_OCTET_STRING_free(skid);
        assert_true(X509_sign(x, k->pkey, EVP_sha256()) > 0);
        n = i2d_X509(x, &der);
        assert_true(n > 0);
        assert_int_equal(ima_cert_keyid(der, (size_t)n, &k->keyid), 0);
        snprintf(k->cert, sizeof(k->cert), "%s/oracle-%s-%d.der", tmp ? tmp : "/tmp", name, (int)getpid());
        f = fopen(k->cert, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(der, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        OPENSSL_free(der);
        X509_free(x);
}

static void free_key(struct key *k)
{
        unlink(k->cert);
        EVP_PKEY_free(k->pkey);
}

/* A DER ECDSA signature by k over digest. */
static size_t sign_der(struct key *k, const uint8_t *digest, size_t dlen, uint8_t *out, size_t cap)
{
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
        size_t len = cap;
        assert_true(EVP_PKEY_sign_init(ctx) > 0);
        assert_true(EVP_PKEY_sign(ctx, out, &len, digest, dlen) > 0);
        EVP_PKEY_CTX_free(ctx);
        return len;
}

static bool oracle(struct key *k, const uint8_t *sig, size_t len, const uint8_t *digest, size_t dlen)
{
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
        bool ok = EVP_PKEY_verify_init(ctx) > 0 && EVP_PKEY_verify(ctx, sig, len, digest, dlen) == 1;
        EVP_PKEY_CTX_free(ctx);
        return ok;
}

/* r, s of a DER signature, and a canonical DER of (r, s) back. */
static void der_to_rs(const uint8_t *sig, size_t len, BIGNUM **r, BIGNUM **s)
{
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
        const BIGNUM *rr, *ss;
        assert_non_null(es);
        ECDSA_SIG_get0(es, &rr, &ss);
        *r = BN_dup(rr);
        *s = BN_dup(ss);
        ECDSA_SIG_free(es);
}

static size_t rs_to_der(const BIGNUM *r, const BIGNUM *s, uint8_t *out)
{
        ECDSA_SIG *es = ECDSA_SIG_new();
        unsigned char *der = NULL;
        int n;
        assert_true(ECDSA_SIG_set0(es, BN_dup(r), BN_dup(s)));
        n = i2d_ECDSA_SIG(es, &der);
        assert_true(n > 0);
        memcpy(out, der, (size_t)n);
        OPENSSL_free(der);
        ECDSA_SIG_free(es);
        return (size_t)n;
}

/* The variants of one good signature that verifiers get wrong. */
enum mutation { M_NONE, M_DIGEST, M_HIGH_S, M_S_ZERO, M_S_IS_N, M_R_PLUS_ONE, M_LEADING_ZERO,
                M_TRAILING, M_COUNT };

static size_t mutate(enum mutation m, const BIGNUM *n, const uint8_t *sig, size_t len, uint8_t *out,
                     uint8_t *digest)
{
        BIGNUM *r, *s;
        size_t olen = 0;

        der_to_rs(sig, len, &r, &s);
        switch (m) {
        case M_DIGEST: digest[3] ^= 0x10; /* fallthrough */
        case M_NONE: memcpy(out, sig, len); olen = len; break;
        case M_HIGH_S: assert_true(BN_sub(s, n, s)); olen = rs_to_der(r, s, out); break;
        case M_S_ZERO: BN_zero(s); olen = rs_to_der(r, s, out); break;
        case M_S_IS_N: assert_non_null(BN_copy(s, n)); olen = rs_to_der(r, s, out); break;
        case M_R_PLUS_ONE: assert_true(BN_add_word(r, 1)); olen = rs_to_der(r, s, out); break;
        case M_LEADING_ZERO: {
                /* r as 0x00-prefixed INTEGER: BER, not DER */
                uint8_t rb[80], sb[80], *p = out;
                int rl = BN_bn2bin(r, rb), sl = BN_bn2bin(s, sb);
                size_t rlen = (size_t)rl + 1 + (rb[0] & 0x80 ? 1 : 0), slen = (size_t)sl + (sb[0] & 0x80 ? 1 : 0);
                *p++ = 0x30;
                *p++ = (uint8_t)(2 + rlen + 2 + slen);
                *p++ = 0x02;
                *p++ = (uint8_t)rlen;
                memset(p, 0, rlen - (size_t)rl);
                p += rlen - (size_t)rl;
                memcpy(p, rb, (size_t)rl);
                p += rl;
                *p++ = 0x02;
                *p++ = (uint8_t)slen;
                if (slen > (size_t)sl)
                        *p++ = 0;
                memcpy(p, sb, (size_t)sl);
                p += sl;
                olen = (size_t)(p - out);
                break;
        }
        case M_TRAILING: memcpy(out, sig, len); out[len] = 0; olen = len + 1; break;
        default: fail();
        }
        BN_free(r);
        BN_free(s);
        return olen;
}

/* 03 02 algo keyid sig_len sig */
static size_t xattr_of(uint32_t keyid, const uint8_t *sig, size_t len, uint8_t *out)
{
        out[0] = 3;
        out[1] = 2;
        out[2] = IMA_HASH_SHA256;
        out[3] = (uint8_t)(keyid >> 24);
        out[4] = (uint8_t)(keyid >> 16);
        out[5] = (uint8_t)(keyid >> 8);
        out[6] = (uint8_t)keyid;
        out[7] = (uint8_t)(len >> 8);
        out[8] = (uint8_t)len;
        memcpy(out + 9, sig, len);
        return len + 9;
}

/* kernel: whether the kernel verifies on CURVE; if not, a signature that
 * verifies is IMASIG_UNUSABLE_KEY rather than IMASIG_VALID. */
static void cross_check(const char *curve, bool kernel)
{
        const enum imasig_status good = kernel ? IMASIG_VALID : IMASIG_UNUSABLE_KEY;
        struct key k, other;
        struct ima_trust *tr;
        EC_GROUP *g;
        BIGNUM *n;
        static uint8_t vals[CASES * M_COUNT][200], digests[CASES * M_COUNT][32];
        const uint8_t *vp[CASES * M_COUNT], *dp[CASES * M_COUNT];
        size_t lens[CASES * M_COUNT], dlens[CASES * M_COUNT];
        bool want[CASES * M_COUNT];
        enum imasig_status st[CASES * M_COUNT];
        size_t total = 0, valid = 0;

        make_key(curve, "a", &k);
        make_key(curve, "b", &other);
        assert_int_equal(ima_trust_new(&tr), 0);
        assert_int_equal(ima_trust_add_file(tr, k.cert), 1);
        g = EC_GROUP_new_by_curve_name(OBJ_sn2nid(curve));
        if (!g)
                g = EC_GROUP_new_by_curve_name(EC_curve_nist2nid(curve));
        assert_non_null(g);
        n = BN_dup(EC_GROUP_get0_order(g));

        for (int c = 0; c < CASES; c++) {
                uint8_t d[32], sig[160], msig[170];
                size_t slen;
                struct key *signer = c % 10 == 9 ? &other : &k;   /* the wrong key, same keyid */

                assert_true(RAND_bytes(d, sizeof(d)) == 1);
                slen = sign_der(signer, d, sizeof(d), sig, sizeof(sig));
                for (int m = 0; m < M_COUNT; m++) {
                        size_t i = total++, ml;
                        memcpy(digests[i], d, sizeof(d));
                        ml = mutate((enum mutation)m, n, sig, slen, msig, digests[i]);
                        want[i] = oracle(&k, msig, ml, digests[i], 32);
                        lens[i] = xattr_of(k.keyid, msig, ml, vals[i]);
                        vp[i] = vals[i];
                        dp[i] = digests[i];
                        dlens[i] = 32;
                        valid += want[i];
                        enum imasig_status one = ima_trust_verify_digest(tr, vals[i], lens[i], digests[i], 32, NULL);
                        if ((one == good) != want[i])
                                fail_msg("%s case %d mutation %d: imgtool says %s, OpenSSL %s", curve, c, m,
                                         imasig_status_name(one), want[i] ? "valid" : "invalid");
                }
        }
        /* the oracle did see both outcomes (valid and high-s, the rest invalid) */
        assert_true(valid >= CASES && valid < total);
        ima_trust_verify_digests(tr, total, vp, lens, dp, dlens, st, NULL);
        for (size_t i = 0; i < total; i++)
                if ((st[i] == good) != want[i])
                        fail_msg("%s batch item %zu: imgtool says %s", curve, i, imasig_status_name(st[i]));
        BN_free(n);
        EC_GROUP_free(g);
        ima_trust_free(tr);
        free_key(&k);
        free_key(&other);
}

static void test_p256(void **state) { cross_check("P-256", true); }
static void test_p384(void **state) { cross_check("P-384", true); }
static void test_secp256k1(void **state) { cross_check("secp256k1", false); }

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_p256),
                cmocka_unit_test(test_p384),
                cmocka_unit_test(test_secp256k1),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
