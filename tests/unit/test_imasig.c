/* imasig: parse/format, keyid, RFC 6979 signing, verification, and
 * evmctl as an independent oracle in both directions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ima/imasig.h"
#include "ima/keygen.h"
#include "base/util.h"

static char tmpdir[4096];
static const char *fixtures;

static const char *tpath(const char *name)
{
        static _Thread_local char p[8192];
        snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
        return p;
}

static void sha256(const void *data, size_t len, uint8_t out[32])
{
        struct ima_hasher *h;
        assert_int_equal(ima_hasher_new(IMA_HASH_SHA256, &h), 0);
        assert_int_equal(ima_hasher_update(h, data, len), 0);
        assert_int_equal(ima_hasher_final(h, out), 0);
        ima_hasher_free(h);
}

static void digest_of(int algo, const char *msg, uint8_t *out)
{
        struct ima_hasher *h;
        assert_int_equal(ima_hasher_new(algo, &h), 0);
        assert_int_equal(ima_hasher_update(h, msg, strlen(msg)), 0);
        assert_int_equal(ima_hasher_final(h, out), 0);
        ima_hasher_free(h);
}

/* A key set per type made once by keygen into $TEST_TMPDIR. */
static const char *keydir(enum key_type t)
{
        static char dirs[5][4200];
        char *d = dirs[t];
        struct stat st;
        uint32_t keyid;

        snprintf(d, sizeof(dirs[0]), "%s/keys-%s", tmpdir, keygen_type_name(t));
        if (stat(d, &st) != 0) {
                struct keygen_opts o = { .type = t };
                assert_int_equal(keygen_write(d, &o, &keyid), 0);
        }
        return d;
}

static struct ima_key *load_key(enum key_type t)
{
        char k[4300], c[4300];
        struct ima_key *key;
        snprintf(k, sizeof(k), "%s/signing.key", keydir(t));
        snprintf(c, sizeof(c), "%s/signing.crt", keydir(t));
        int r = ima_key_load(k, c, &key);
        if (r < 0)
                fail_msg("ima_key_load: %s", imgerr_what(r));
        return key;
}

static struct ima_trust *trust_of(enum key_type t)
{
        char c[4300];
        struct ima_trust *tr;
        snprintf(c, sizeof(c), "%s/signing.der", keydir(t));
        assert_int_equal(ima_trust_new(&tr), 0);
        assert_int_equal(ima_trust_add_file(tr, c), 1);
        return tr;
}

/* ---- parsing -------------------------------------------------------- */

static void test_type_names(void **state)
{
        assert_string_equal(imasig_type_name(0x03), "digital signature");
        assert_string_equal(imasig_type_name(0x04), "hash only");
        assert_string_equal(imasig_type_name(0x02), "EVM HMAC");
        assert_string_equal(imasig_type_name(0x05), "EVM portable signature");
        assert_string_equal(imasig_type_name(0x06), "fs-verity signature");
        assert_string_equal(imasig_type_name(0x01), "sha1 hash only (legacy)");
        assert_string_equal(imasig_type_name(0x00), "unknown type");
        assert_string_equal(imasig_type_name(0x99), "unknown type");
        assert_string_equal(imasig_status_name(IMASIG_VALID), "valid");
        assert_string_equal(imasig_status_name(IMASIG_INVALID), "invalid");
        assert_string_equal(imasig_status_name(IMASIG_UNKNOWN_KEY), "unknown key");
        assert_string_equal(imasig_status_name(IMASIG_NONE), "no signature");
        assert_string_equal(imasig_status_name(IMASIG_HASH_ONLY), "hash only");
        assert_string_equal(imasig_status_name(IMASIG_MALFORMED), "malformed");
        assert_string_equal(imasig_status_name(IMASIG_UNSUPPORTED), "unsupported");
        assert_string_equal(ima_hash_name(IMA_HASH_SHA256), "sha256");
        assert_int_equal(ima_hash_size(IMA_HASH_SHA384), 48);
        assert_null(ima_hash_name(99));
        assert_int_equal(ima_hash_size(99), 0);
        assert_int_equal(ima_hash_from_rpm(8), IMA_HASH_SHA256);
        assert_int_equal(ima_hash_from_rpm(10), IMA_HASH_SHA512);
        assert_int_equal(ima_hash_from_rpm(2), IMA_HASH_SHA1);
        assert_int_equal(ima_hash_from_rpm(3), -EOPNOTSUPP);
}

/* A v2 value taken from evmctl's output for a P-256 key (keyid 36461cc2). */
static const char evmctl_v2_hex[] =
        "03020436461cc200473045022100fdd47a3c0325c1f5e8dc3b943e8bde61fdcae2a34e1465d8117a"
        "cebee5ed792002201275706c9cc4c4b987b85ccc07404fee2d8f5583a2573901b779ef4f9dfc3e7b";

static void test_parse_digsig(void **state)
{
        uint8_t *v;
        size_t n;
        struct imasig s;

        assert_int_equal(hex_decode(evmctl_v2_hex, &v, &n), (int)(sizeof(evmctl_v2_hex) - 1) / 2);
        assert_int_equal(imasig_parse(v, n, &s), 0);
        assert_int_equal(s.type, EVM_IMA_XATTR_DIGSIG);
        assert_int_equal(s.version, 2);
        assert_int_equal(s.hash_algo, IMA_HASH_SHA256);
        assert_int_equal(s.keyid, 0x36461cc2);
        assert_int_equal(s.sig_len, 0x47);
        assert_ptr_equal(s.sig, v + 9);
        assert_int_equal(s.sig[0], 0x30);

        /* A signature's length field must cover exactly the rest. */
        assert_int_equal(imasig_parse(v, n - 1, &s), -EBADMSG);
        assert_non_null(strstr(imgerr_what(-EBADMSG), "length field"));
        v[8]++;
        assert_int_equal(imasig_parse(v, n, &s), -EBADMSG);
        v[8]--;
        assert_int_equal(imasig_parse(v, 8, &s), -EBADMSG);
        assert_non_null(strstr(imgerr_what(-EBADMSG), "too short"));
        assert_int_equal(imasig_parse(v, 1, &s), -EBADMSG);
        v[1] = 3;
        assert_int_equal(imasig_parse(v, n, &s), -EBADMSG);
        assert_non_null(strstr(imgerr_what(-EBADMSG), "version 3"));
        v[1] = 0;
        assert_int_equal(imasig_parse(v, n, &s), -EBADMSG);
        v[1] = 1;
        assert_int_equal(imasig_parse(v, n, &s), -EOPNOTSUPP);
        assert_int_equal(s.type, EVM_IMA_XATTR_DIGSIG);
        v[1] = 2;
        v[2] = 200;
        assert_int_equal(imasig_parse(v, n, &s), -EBADMSG);
        assert_non_null(strstr(imgerr_what(-EBADMSG), "hash algorithm"));
        free(v);
}

static void test_parse_hash_only(void **state)
{
        uint8_t v[2 + 64];
        struct imasig s;

        v[0] = IMA_XATTR_DIGEST_NG;
        v[1] = IMA_HASH_SHA256;
        sha256("x", 1, v + 2);
        assert_int_equal(imasig_parse(v, 34, &s), 0);
        assert_int_equal(s.type, IMA_XATTR_DIGEST_NG);
        assert_int_equal(s.hash_algo, IMA_HASH_SHA256);
        assert_int_equal(s.digest_len, 32);
        assert_ptr_equal(s.digest, v + 2);
        assert_int_equal(imasig_parse(v, 33, &s), -EBADMSG);
        assert_int_equal(imasig_parse(v, 35, &s), -EBADMSG);
        assert_int_equal(imasig_parse(v, 1, &s), -EBADMSG);
        v[1] = IMA_HASH_SHA512;
        assert_int_equal(imasig_parse(v, 66, &s), 0);
        assert_int_equal(s.digest_len, 64);
        v[1] = 17; /* sm3: not computable here, but its size is known */
        assert_int_equal(imasig_parse(v, 34, &s), 0);
        v[1] = 250;
        assert_int_equal(imasig_parse(v, 34, &s), -EBADMSG);

        v[0] = IMA_XATTR_DIGEST; /* legacy: 01 <sha1> */
        assert_int_equal(imasig_parse(v, 21, &s), 0);
        assert_int_equal(s.hash_algo, IMA_HASH_SHA1);
        assert_int_equal(s.digest_len, 20);
        assert_int_equal(imasig_parse(v, 22, &s), -EBADMSG);
}

static void test_parse_other_types(void **state)
{
        uint8_t v[32] = { 0 };
        struct imasig s;

        assert_int_equal(imasig_parse(v, 0, &s), -EBADMSG);
        assert_int_equal(imasig_parse(NULL, 0, &s), -EBADMSG);
        v[0] = EVM_XATTR_HMAC;
        assert_int_equal(imasig_parse(v, 21, &s), -EOPNOTSUPP);
        assert_int_equal(s.type, EVM_XATTR_HMAC);
        v[0] = EVM_XATTR_PORTABLE_DIGSIG;
        assert_int_equal(imasig_parse(v, 20, &s), -EOPNOTSUPP);
        assert_int_equal(s.type, EVM_XATTR_PORTABLE_DIGSIG);
        /* verity v3: header read, keyid available, yet unsupported */
        uint8_t vv[] = { 0x06, 0x03, 0x04, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x02, 0x30, 0x00 };
        assert_int_equal(imasig_parse(vv, sizeof(vv), &s), -EOPNOTSUPP);
        assert_int_equal(s.type, IMA_VERITY_DIGSIG);
        assert_int_equal(s.keyid, 0xdeadbeef);
        for (unsigned t = 0x07; t <= 0xff; t++) {
                v[0] = (uint8_t)t;
                assert_int_equal(imasig_parse(v, sizeof(v), &s), -EBADMSG);
        }
        v[0] = 0;
        assert_int_equal(imasig_parse(v, sizeof(v), &s), -EBADMSG);
        assert_non_null(strstr(imgerr_what(-EBADMSG), "unknown security.ima type 0x00"));
}

/* ---- keyid ---------------------------------------------------------- */

static void read_fixture(const char *path, uint8_t **data, size_t *len)
{
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        *len = (size_t)ftell(f);
        rewind(f);
        *data = malloc(*len);
        assert_int_equal(fread(*data, 1, *len, f), *len);
        fclose(f);
}

static void test_keyid_fixture(void **state)
{
        char path[4096];
        uint8_t *der;
        size_t len;
        uint32_t keyid;
        struct ima_key *k;

        snprintf(path, sizeof(path), "%s/privkey-cert.der", fixtures);
        read_fixture(path, &der, &len);
        assert_int_equal(ima_cert_keyid(der, len, &keyid), 0);
        assert_int_equal(keyid, 0xb8f2bd97);
        free(der);

        /* rpm's secp256k1 test key: no kernel verifies that curve, so it is
         * refused for signing, naming the file and the curve */
        snprintf(path, sizeof(path), "%s/privkey-secp256k1.pem", fixtures);
        assert_int_equal(ima_key_load(path, NULL, &k), -EOPNOTSUPP);
        assert_non_null(strstr(imgerr_what(-EOPNOTSUPP), "privkey-secp256k1.pem: EC key on curve secp256k1"));
        assert_null(strchr(imgerr_what(-EOPNOTSUPP), '\n'));
}

/* evmctl's keyid from the key alone (no cert given) equals the SKID tail
 * of keygen's certs, which is that same sha1. */
static void test_keyid_without_cert(void **state)
{
        char path[4300];
        struct ima_key *k, *kc = load_key(KEY_EC_P256);
        uint32_t keyid;

        snprintf(path, sizeof(path), "%s/signing.key", keydir(KEY_EC_P256));
        assert_int_equal(ima_key_load(path, NULL, &k), 0);
        assert_int_equal(ima_key_keyid(k), ima_key_keyid(kc));
        ima_key_free(k);
        ima_key_free(kc);
        uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
        assert_int_equal(ima_cert_keyid(junk, sizeof(junk), &keyid), -EBADMSG);
}

/* A cert whose SKID is deliberately not the key hash gives the SKID tail;
 * one without a SKID is refused (the kernel would file its key only under
 * names: imasig.c), for keys and trust sets alike, naming the file. */
static void test_keyid_skid_or_refuse(void **state)
{
        EVP_PKEY *pkey = EVP_EC_gen("P-256");

        assert_non_null(pkey);
        for (int with_skid = 0; with_skid < 2; with_skid++) {
                X509 *x = X509_new();
                unsigned char *der = NULL;
                uint32_t keyid;
                struct ima_trust *tr;
                struct ima_key *k;
                assert_true(X509_set_version(x, X509_VERSION_3));
                assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 7));
                X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                           (const unsigned char *)"t", -1, -1, 0);
                X509_set_issuer_name(x, X509_get_subject_name(x));
                X509_gmtime_adj(X509_getm_notBefore(x), 0);
                X509_gmtime_adj(X509_getm_notAfter(x), 3600);
                X509_set_pubkey(x, pkey);
                if (with_skid) {
                        ASN1_OCTET_STRING *skid = ASN1_OCTET_STRING_new();
                        ASN1_OCTET_STRING_set(skid, (const unsigned char *)"\x01\x02\x12\x34\x56\x78", 6);
                        X509_add1_ext_i2d(x, NID_subject_key_identifier, skid, 0, 0);
                        ASN1_OCTET_STRING_free(skid);
                }
                assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
                int n = i2d_X509(x, &der);
                assert_true(n > 0);
                FILE *f = fopen(tpath("noskid.der"), "w");
                assert_int_equal(fwrite(der, 1, (size_t)n, f), (size_t)n);
                fclose(f);
                f = fopen(tpath("noskid.key"), "w");
                assert_true(PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL));
                fclose(f);
                char keyp[8192];
                snprintf(keyp, sizeof(keyp), "%s", tpath("noskid.key"));
                assert_int_equal(ima_trust_new(&tr), 0);
                if (with_skid) {
                        assert_int_equal(ima_cert_keyid(der, (size_t)n, &keyid), 0);
                        assert_int_equal(keyid, 0x12345678);
                        assert_int_equal(ima_trust_add_file(tr, tpath("noskid.der")), 1);
                        assert_int_equal(ima_key_load(keyp, tpath("noskid.der"), &k), 0);
                        assert_int_equal(ima_key_keyid(k), 0x12345678);
                        ima_key_free(k);
                } else {
                        assert_int_equal(ima_cert_keyid(der, (size_t)n, &keyid), -EBADMSG);
                        assert_int_equal(ima_trust_add_file(tr, tpath("noskid.der")), -EBADMSG);
                        assert_non_null(strstr(imgerr_what(-EBADMSG), "noskid.der: certificate without a subjectKeyIdentifier"));
                        assert_int_equal(ima_key_load(keyp, tpath("noskid.der"), &k), -EBADMSG);
                        if (!strstr(imgerr_what(-EBADMSG), "noskid.der: certificate without a subjectKeyIdentifier"))
                                fail_msg("%s", imgerr_what(-EBADMSG));
                        assert_int_equal(ima_trust_count(tr), 0);
                }
                ima_trust_free(tr);
                OPENSSL_free(der);
                X509_free(x);
        }
        EVP_PKEY_free(pkey);
}

/* ---- signing and verifying ------------------------------------------ */

static void sign_verify_type(enum key_type t)
{
        struct ima_key *k = load_key(t);
        struct ima_trust *tr = trust_of(t), *other = trust_of(t == KEY_EC_P256 ? KEY_EC_P384 : KEY_EC_P256);
        uint8_t d[32], *v, *v2;
        size_t n, n2;
        struct imasig s;

        sha256("content", 7, d);
        int r = ima_key_sign_digest(k, IMA_HASH_SHA256, d, 32, &v, &n);
        if (r < 0)
                fail_msg("sign %s: %s", keygen_type_name(t), imgerr_what(r));
        assert_true(n <= ima_key_max_xattr(k));
        assert_int_equal(imasig_parse(v, n, &s), 0);
        assert_int_equal(s.keyid, ima_key_keyid(k));
        assert_int_equal(s.hash_algo, IMA_HASH_SHA256);
        assert_int_equal(ima_trust_verify_digest(tr, v, n, d, 32, &s), IMASIG_VALID);

        /* deterministic: the same value, byte for byte */
        assert_int_equal(ima_key_sign_digest(k, IMA_HASH_SHA256, d, 32, &v2, &n2), 0);
        assert_int_equal(n, n2);
        assert_memory_equal(v, v2, n);
        free(v2);

        d[31] ^= 1;
        assert_int_equal(ima_trust_verify_digest(tr, v, n, d, 32, NULL), IMASIG_INVALID);
        d[31] ^= 1;
        v[n - 3] ^= 0x40; /* a damaged signature */
        assert_int_equal(ima_trust_verify_digest(tr, v, n, d, 32, NULL), IMASIG_INVALID);
        v[n - 3] ^= 0x40;
        assert_int_equal(ima_trust_verify_digest(other, v, n, d, 32, NULL), IMASIG_UNKNOWN_KEY);
        assert_non_null(strstr(imgerr_what(-ENOKEY), "unknown key"));
        assert_int_equal(ima_trust_verify_digest(NULL, v, n, d, 32, NULL), IMASIG_UNKNOWN_KEY);
        assert_int_equal(ima_trust_verify_digest(tr, v, n - 1, d, 32, NULL), IMASIG_MALFORMED);
        assert_int_equal(ima_trust_verify_digest(tr, NULL, 0, d, 32, &s), IMASIG_NONE);

        uint8_t ho[34] = { IMA_XATTR_DIGEST_NG, IMA_HASH_SHA256 };
        memcpy(ho + 2, d, 32);
        assert_int_equal(ima_trust_verify_digest(tr, ho, 34, d, 32, &s), IMASIG_HASH_ONLY);
        assert_int_equal(s.type, IMA_XATTR_DIGEST_NG);
        ho[0] = EVM_XATTR_HMAC;
        assert_int_equal(ima_trust_verify_digest(tr, ho, 21, d, 32, NULL), IMASIG_UNSUPPORTED);

        /* other hash algos */
        static const int algos[] = { IMA_HASH_SHA1, IMA_HASH_SHA384, IMA_HASH_SHA512 };
        for (size_t i = 0; i < ARRAY_SIZE(algos); i++) {
                uint8_t dd[64];
                digest_of(algos[i], "content", dd);
                free(v);
                assert_int_equal(ima_key_sign_digest(k, algos[i], dd, ima_hash_size(algos[i]), &v, &n), 0);
                assert_int_equal(v[2], algos[i]);
                assert_int_equal(ima_trust_verify_digest(tr, v, n, dd, ima_hash_size(algos[i]), NULL),
                                 IMASIG_VALID);
        }
        assert_int_equal(ima_key_sign_digest(k, IMA_HASH_SHA256, d, 31, &v2, &n2), -EINVAL);
        free(v);
        ima_trust_free(tr);
        ima_trust_free(other);
        ima_key_free(k);
}

static void test_sign_verify_ec_p256(void **state) { sign_verify_type(KEY_EC_P256); }
static void test_sign_verify_ec_p384(void **state) { sign_verify_type(KEY_EC_P384); }
static void test_sign_verify_rsa_2048(void **state) { sign_verify_type(KEY_RSA_2048); }
static void test_sign_verify_rsa_3072(void **state) { sign_verify_type(KEY_RSA_3072); }
static void test_sign_verify_rsa_4096(void **state) { sign_verify_type(KEY_RSA_4096); }

static void test_key_cert_mismatch(void **state)
{
        char k[4300], c[4300];
        struct ima_key *key;
        snprintf(k, sizeof(k), "%s/signing.key", keydir(KEY_EC_P256));
        snprintf(c, sizeof(c), "%s/signing.crt", keydir(KEY_EC_P384));
        assert_int_equal(ima_key_load(k, c, &key), -EINVAL);
        assert_non_null(strstr(imgerr_what(-EINVAL), "does not match"));
        assert_int_equal(ima_key_load(c, NULL, &key), -EBADMSG);
        assert_non_null(strstr(imgerr_what(-EBADMSG), "not a private key"));
        assert_int_equal(ima_key_load(tpath("missing.key"), NULL, &key), -ENOENT);
        assert_non_null(strstr(imgerr_what(-ENOENT), "missing.key"));
}

static void test_trust_pem_bundle(void **state)
{
        char bundle[4300], buf[8192];
        struct ima_trust *tr;
        FILE *out;

        snprintf(bundle, sizeof(bundle), "%s/bundle.pem", tmpdir);
        out = fopen(bundle, "w");
        assert_non_null(out);
        fputs("some text before the certs\n", out);
        const enum key_type types[] = { KEY_EC_P256, KEY_EC_P384, KEY_RSA_2048 };
        for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
                char c[4300];
                snprintf(c, sizeof(c), "%s/signing.crt", keydir(types[i]));
                FILE *in = fopen(c, "r");
                size_t n = fread(buf, 1, sizeof(buf), in);
                fclose(in);
                fwrite(buf, 1, n, out);
        }
        fclose(out);
        assert_int_equal(ima_trust_new(&tr), 0);
        assert_int_equal(ima_trust_add_file(tr, bundle), 3);
        assert_int_equal(ima_trust_count(tr), 3);

        struct ima_key *k = load_key(KEY_EC_P384);
        uint8_t d[32], *v;
        size_t n;
        sha256("b", 1, d);
        assert_int_equal(ima_key_sign_digest(k, IMA_HASH_SHA256, d, 32, &v, &n), 0);
        assert_int_equal(ima_trust_verify_digest(tr, v, n, d, 32, NULL), IMASIG_VALID);
        free(v);
        ima_key_free(k);

        /* not a cert at all */
        assert_int_equal(ima_trust_add_file(tr, tpath("bundle-none.pem")), -ENOENT);
        out = fopen(tpath("garbage.pem"), "w");
        fputs("hello\n", out);
        fclose(out);
        assert_int_equal(ima_trust_add_file(tr, tpath("garbage.pem")), -EBADMSG);
        assert_non_null(strstr(imgerr_what(-EBADMSG), "garbage.pem"));
        assert_int_equal(ima_trust_count(tr), 3);
        ima_trust_free(tr);
}

/* secp256k1 and P-521 keys: refused for signing (no kernel verifies
 * them); a signature by a trusted key on such a curve verifies offline but
 * is reported as one the kernel cannot use, with the reason. */
static void test_unusable_curves(void **state)
{
        static const char *const curves[] = { "secp256k1", "secp521r1", "prime256v1" };

        for (size_t c = 0; c < ARRAY_SIZE(curves); c++) {
                bool kernel_ok = !strcmp(curves[c], "prime256v1");
                char cmd[9000];
                struct ima_key *k;
                struct ima_trust *tr;
                EVP_PKEY *pk;
                uint8_t d[32], sig[160], *v;
                size_t siglen = sizeof(sig), n;
                struct imasig s;

                snprintf(cmd, sizeof(cmd),
                         "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:%s -nodes "
                         "-keyout c.key -out c.crt -subj /CN=c -days 2 -addext subjectKeyIdentifier=hash "
                         ">/dev/null 2>&1", tmpdir, curves[c]);
                assert_int_equal(system(cmd), 0);
                char keyp[8192];
                snprintf(keyp, sizeof(keyp), "%s", tpath("c.key"));
                if (kernel_ok) {
                        int r = ima_key_load(keyp, tpath("c.crt"), &k);
                        if (r < 0)
                                fail_msg("%s", imgerr_what(r));
                        ima_key_free(k);
                } else {
                        assert_int_equal(ima_key_load(keyp, tpath("c.crt"), &k), -EOPNOTSUPP);
                        assert_non_null(strstr(imgerr_what(-EOPNOTSUPP), curves[c]));
                        assert_non_null(strstr(imgerr_what(-EOPNOTSUPP), "c.key: EC key on curve"));
                }
                /* a signature OpenSSL makes with it, checked by a trust set */
                FILE *f = fopen(tpath("c.key"), "r");
                pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
                fclose(f);
                sha256("k1", 2, d);
                EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
                assert_true(EVP_PKEY_sign_init(ctx) > 0);
                assert_true(EVP_PKEY_sign(ctx, sig, &siglen, d, 32) > 0);
                EVP_PKEY_CTX_free(ctx);
                assert_int_equal(ima_trust_new(&tr), 0);
                assert_int_equal(ima_trust_add_file(tr, tpath("c.crt")), 1);
                uint8_t val[200] = { 0x03, 0x02, IMA_HASH_SHA256 };
                uint32_t keyid;
                uint8_t *der = NULL;
                X509 *x;
                f = fopen(tpath("c.crt"), "r");
                x = PEM_read_X509(f, NULL, NULL, NULL);
                fclose(f);
                int dl = i2d_X509(x, &der);
                assert_int_equal(ima_cert_keyid(der, (size_t)dl, &keyid), 0);
                val[3] = (uint8_t)(keyid >> 24);
                val[4] = (uint8_t)(keyid >> 16);
                val[5] = (uint8_t)(keyid >> 8);
                val[6] = (uint8_t)keyid;
                val[7] = (uint8_t)(siglen >> 8);
                val[8] = (uint8_t)siglen;
                memcpy(val + 9, sig, siglen);
                n = 9 + siglen;
                v = val;
                assert_int_equal(ima_trust_verify_digest(tr, v, n, d, 32, &s),
                                 kernel_ok ? IMASIG_VALID : IMASIG_UNUSABLE_KEY);
                if (!kernel_ok) {
                        assert_non_null(strstr(imgerr_what(-EKEYREJECTED), curves[c]));
                        assert_non_null(strstr(imgerr_what(-EKEYREJECTED), "P-256"));
                }
                d[0] ^= 0x80;
                assert_int_equal(ima_trust_verify_digest(tr, v, n, d, 32, NULL), IMASIG_INVALID);
                OPENSSL_free(der);
                X509_free(x);
                EVP_PKEY_free(pk);
                ima_trust_free(tr);
        }
        assert_string_equal(imasig_status_name(IMASIG_UNUSABLE_KEY), "key the kernel cannot use");
}

/* ---- RFC 6979 ------------------------------------------------------- */

/* Write the RFC's private key x on CURVE as a PEM file. */
static void write_raw_ec_key(const char *curve, const char *x_hex, const char *path)
{
        BIGNUM *x = NULL;
        EC_GROUP *g = EC_GROUP_new_by_curve_name(OBJ_txt2nid(curve));
        EC_POINT *pub = EC_POINT_new(g);
        unsigned char pubbuf[133];
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        EVP_PKEY *pkey = NULL;

        assert_true(BN_hex2bn(&x, x_hex) > 0);
        assert_true(EC_POINT_mul(g, pub, x, NULL, NULL, NULL));
        size_t plen = EC_POINT_point2oct(g, pub, POINT_CONVERSION_UNCOMPRESSED, pubbuf,
                                         sizeof(pubbuf), NULL);
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve, 0);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, x);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pubbuf, plen);
        OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
        assert_true(EVP_PKEY_fromdata_init(ctx) > 0);
        assert_true(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) > 0);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        assert_true(PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL));
        fclose(f);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        EVP_PKEY_free(pkey);
        EVP_PKEY_CTX_free(ctx);
        EC_POINT_free(pub);
        EC_GROUP_free(g);
        BN_free(x);
}

struct rfc_vector {
        int algo;
        const char *msg, *r, *s;
};

static void check_vectors(const char *curve, const char *x_hex, const struct rfc_vector *vec,
                          size_t nvec)
{
        struct ima_key *k;
        const char *path = tpath("rfc6979.pem");

        write_raw_ec_key(curve, x_hex, path);
        assert_int_equal(ima_key_load(path, NULL, &k), 0);
        for (size_t i = 0; i < nvec; i++) {
                uint8_t d[64], *v;
                size_t n;
                struct imasig s;
                digest_of(vec[i].algo, vec[i].msg, d);
                assert_int_equal(ima_key_sign_digest(k, vec[i].algo, d, ima_hash_size(vec[i].algo), &v, &n), 0);
                assert_int_equal(imasig_parse(v, n, &s), 0);
                const unsigned char *p = s.sig;
                ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)s.sig_len);
                assert_non_null(es);
                BIGNUM *want_r = NULL, *want_s = NULL;
                assert_true(BN_hex2bn(&want_r, vec[i].r) > 0);
                assert_true(BN_hex2bn(&want_s, vec[i].s) > 0);
                if (BN_cmp(ECDSA_SIG_get0_r(es), want_r) || BN_cmp(ECDSA_SIG_get0_s(es), want_s)) {
                        char *r = BN_bn2hex(ECDSA_SIG_get0_r(es)), *ss = BN_bn2hex(ECDSA_SIG_get0_s(es));
                        fail_msg("%s %s '%s': got r=%s s=%s, want r=%s s=%s", curve,
                                 ima_hash_name(vec[i].algo), vec[i].msg, r, ss, vec[i].r, vec[i].s);
                }
                BN_free(want_r);
                BN_free(want_s);
                ECDSA_SIG_free(es);

                /* and OpenSSL's ordinary verify accepts it */
                FILE *f = fopen(path, "r");
                EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
                fclose(f);
                EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
                assert_true(EVP_PKEY_verify_init(ctx) > 0);
                assert_int_equal(EVP_PKEY_verify(ctx, s.sig, s.sig_len, d, ima_hash_size(vec[i].algo)), 1);
                d[0] ^= 1;
                assert_int_equal(EVP_PKEY_verify(ctx, s.sig, s.sig_len, d, ima_hash_size(vec[i].algo)), 0);
                EVP_PKEY_CTX_free(ctx);
                EVP_PKEY_free(pk);
                free(v);
        }
        ima_key_free(k);
}

/* RFC 6979 A.2.5 (P-256) */
static void test_rfc6979_p256(void **state)
{
        static const struct rfc_vector v[] = {
                { IMA_HASH_SHA256, "sample",
                  "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
                  "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8" },
                { IMA_HASH_SHA256, "test",
                  "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
                  "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083" },
                /* a hash longer than the order: bits2int truncates */
                { IMA_HASH_SHA512, "sample",
                  "8496A60B5E9B47C825488827E0495B0E3FA109EC4568FD3F8D1097678EB97F00",
                  "2362AB1ADBE2B8ADF9CB9EDAB740EA6049C028114F2460F96554F61FAE3302FE" },
                { IMA_HASH_SHA1, "sample",
                  "61340C88C3AAEBEB4F6D667F672CA9759A6CCAA9FA8811313039EE4A35471D32",
                  "6D7F147DAC089441BB2E2FE8F7A3FA264B9C475098FDCF6E00D7C996E1B8B7EB" },
        };
        check_vectors("prime256v1", "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721",
                      v, ARRAY_SIZE(v));
}

/* RFC 6979 A.2.6 (P-384) */
static void test_rfc6979_p384(void **state)
{
        static const struct rfc_vector v[] = {
                { IMA_HASH_SHA384, "sample",
                  "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C81A648152E44ACF96E36DD1E80FABE46",
                  "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94FA329C145786E679E7B82C71A38628AC8" },
                /* a hash shorter than the order */
                { IMA_HASH_SHA256, "sample",
                  "21B13D1E013C7FA1392D03C5F99AF8B30C570C6F98D4EA8E354B63A21D3DAA33BDE1E888E63355D92FA2B3C36D8FB2CD",
                  "F3AA443FB107745BF4BD77CB3891674632068A10CA67E3D45DB2266FA7D1FEEBEFDC63ECCD1AC42EC0CB8668A4FA0AB0" },
        };
        check_vectors("secp384r1",
                      "6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D896D5724E4C70A825F872C9EA60D2EDF5",
                      v, ARRAY_SIZE(v));
}

/* ---- the signatures images already carry ---------------------------- */

/* sha256 over the concatenated xattr values of 300 signatures per case,
 * made by the hand-written signer this project shipped before signing
 * moved into OpenSSL (commit eb18ae4).  RFC 6979 makes them a function of
 * key and digest only: images composed before and after must be
 * bit-identical, so these never change. */
static const struct golden_case {
        const char *curve, *x_hex;
        int algo;
        const char *sha256;
} golden[] = {
        { "prime256v1", "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721",
          IMA_HASH_SHA256, "9be26075161d957b4b30da52c5e6d79a744c59fc02cda3b87de25b35aa38766e" },
        { "prime256v1", "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721",
          IMA_HASH_SHA512, "fe22364ce5dd5560fe34b6a871ce8921c43ae21d42266c2d3fe474d6d100af1e" },
        { "secp384r1",
          "6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D896D5724E4C70A825F872C9EA60D2EDF5",
          IMA_HASH_SHA384, "13a719db6767a86ae95f498f5552a56c129cc4005ae8c99c04bef5fadc3cd3b2" },
        { "secp384r1",
          "6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D896D5724E4C70A825F872C9EA60D2EDF5",
          IMA_HASH_SHA256, "040d8e0f71d0ca26c3842f07198b604e22410ec78c3face7d105e33ec035441e" },
};

static void test_signatures_unchanged(void **state)
{
        enum { N = 300 };
        for (size_t c = 0; c < ARRAY_SIZE(golden); c++) {
                const struct golden_case *g = &golden[c];
                const char *path = tpath("golden.pem");
                static uint8_t dig[N][64];
                const uint8_t *dp[N];
                uint8_t *vals[N], sum[32];
                size_t lens[N], dlen = ima_hash_size(g->algo);
                char hex[65];
                struct ima_hasher *h;
                struct ima_key *k;

                write_raw_ec_key(g->curve, g->x_hex, path);
                assert_int_equal(ima_key_load(path, NULL, &k), 0);
                for (size_t i = 0; i < N; i++) {
                        char m[32];
                        snprintf(m, sizeof(m), "golden %zu", i);
                        digest_of(g->algo, m, dig[i]);
                        dp[i] = dig[i];
                }
                /* half one at a time, half in one call */
                for (size_t i = 0; i < N / 2; i++)
                        assert_int_equal(ima_key_sign_digest(k, g->algo, dig[i], dlen, &vals[i], &lens[i]), 0);
                assert_int_equal(ima_key_sign_digests(k, g->algo, dp + N / 2, N - N / 2, vals + N / 2,
                                                      lens + N / 2), 0);
                assert_int_equal(ima_hasher_new(IMA_HASH_SHA256, &h), 0);
                for (size_t i = 0; i < N; i++) {
                        assert_int_equal(ima_hasher_update(h, vals[i], lens[i]), 0);
                        free(vals[i]);
                }
                assert_int_equal(ima_hasher_final(h, sum), 0);
                ima_hasher_free(h);
                hex_encode(sum, 32, hex);
                if (strcmp(hex, g->sha256))
                        fail_msg("%s %s: signatures changed: sha256 %s, was %s", g->curve,
                                 ima_hash_name(g->algo), hex, g->sha256);
                ima_key_free(k);
        }
}

/* ---- threads and speed ---------------------------------------------- */

#define THREAD_SIGS 200

struct sign_job {
        const struct ima_key *k;
        uint8_t *vals[THREAD_SIGS];
        size_t lens[THREAD_SIGS];
        int err;
};

static void *sign_many(void *arg)
{
        struct sign_job *j = arg;
        for (int i = 0; i < THREAD_SIGS; i++) {
                uint8_t d[32];
                char m[32];
                snprintf(m, sizeof(m), "file %d", i);
                sha256(m, strlen(m), d);
                if (ima_key_sign_digest(j->k, IMA_HASH_SHA256, d, 32, &j->vals[i], &j->lens[i]) < 0)
                        j->err = 1;
        }
        return NULL;
}

static void test_two_threads(void **state)
{
        struct ima_key *k = load_key(KEY_EC_P256);
        static struct sign_job a, b;
        pthread_t ta, tb;

        a.k = b.k = k;
        assert_int_equal(pthread_create(&ta, NULL, sign_many, &a), 0);
        assert_int_equal(pthread_create(&tb, NULL, sign_many, &b), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        assert_int_equal(a.err + b.err, 0);
        for (int i = 0; i < THREAD_SIGS; i++) {
                assert_int_equal(a.lens[i], b.lens[i]);
                assert_memory_equal(a.vals[i], b.vals[i], a.lens[i]);
                free(a.vals[i]);
                free(b.vals[i]);
        }
        ima_key_free(k);
}

static void test_sign_speed(void **state)
{
        const enum key_type types[] = { KEY_EC_P256, KEY_EC_P384, KEY_RSA_2048 };
        for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
                struct ima_key *k = load_key(types[t]);
                int count = types[t] == KEY_EC_P256 ? 28000 : 300;
                uint8_t d[32] = { 0 };
                double t0 = now_seconds();
                for (int i = 0; i < count; i++) {
                        uint8_t *v;
                        size_t n;
                        memcpy(d, &i, sizeof(i));
                        assert_int_equal(ima_key_sign_digest(k, IMA_HASH_SHA256, d, 32, &v, &n), 0);
                        free(v);
                }
                double dt = now_seconds() - t0;
                print_message("sign %s: %d signatures in %.3f s, %.1f us each\n",
                              keygen_type_name(types[t]), count, dt, dt / count * 1e6);
                ima_key_free(k);
        }
}

/* The batch API gives byte-identical values to one-at-a-time signing,
 * across chunk boundaries, for EC and RSA. */
static void test_batch_equals_single(void **state)
{
        const enum key_type types[] = { KEY_EC_P256, KEY_EC_P384, KEY_RSA_2048 };
        enum { N = 150 };
        static uint8_t dig[N][64];
        const uint8_t *dp[N];
        uint8_t *vals[N];
        size_t lens[N];

        for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
                struct ima_key *k = load_key(types[t]);
                struct ima_trust *tr = trust_of(types[t]);
                size_t n = types[t] == KEY_RSA_2048 ? 5 : N;
                for (size_t i = 0; i < n; i++) {
                        char m[32];
                        snprintf(m, sizeof(m), "batch %zu", i);
                        digest_of(IMA_HASH_SHA384, m, dig[i]);
                        dp[i] = dig[i];
                }
                assert_int_equal(ima_key_sign_digests(k, IMA_HASH_SHA384, dp, n, vals, lens), 0);
                for (size_t i = 0; i < n; i++) {
                        uint8_t *v;
                        size_t l;
                        assert_int_equal(ima_key_sign_digest(k, IMA_HASH_SHA384, dig[i], 48, &v, &l), 0);
                        assert_int_equal(l, lens[i]);
                        assert_memory_equal(v, vals[i], l);
                        assert_int_equal(ima_trust_verify_digest(tr, vals[i], lens[i], dig[i], 48, NULL),
                                         IMASIG_VALID);
                        free(v);
                        free(vals[i]);
                }
                ima_trust_free(tr);
                ima_key_free(k);
        }
        struct ima_key *k = load_key(KEY_EC_P256);
        assert_int_equal(ima_key_sign_digests(k, IMA_HASH_MD5, dp, 1, vals, lens), -EOPNOTSUPP);
        assert_int_equal(ima_key_sign_digests(k, IMA_HASH_SHA256, dp, 0, vals, lens), 0);
        ima_key_free(k);
}

static void test_batch_speed(void **state)
{
        struct ima_key *k = load_key(KEY_EC_P256);
        enum { N = 28000, CHUNK = 256 };
        static uint8_t dig[CHUNK][32];
        const uint8_t *dp[CHUNK];
        uint8_t *vals[CHUNK];
        size_t lens[CHUNK];
        double t0 = now_seconds();

        for (int done = 0; done < N; done += CHUNK) {
                for (int i = 0; i < CHUNK; i++) {
                        int v = done + i;
                        memset(dig[i], 0, 32);
                        memcpy(dig[i], &v, sizeof(v));
                        dp[i] = dig[i];
                }
                assert_int_equal(ima_key_sign_digests(k, IMA_HASH_SHA256, dp, CHUNK, vals, lens), 0);
                for (int i = 0; i < CHUNK; i++)
                        free(vals[i]);
        }
        double dt = now_seconds() - t0;
        int n = (N + CHUNK - 1) / CHUNK * CHUNK;
        print_message("batch sign ec-p256: %d signatures in %.3f s, %.1f us each\n", n, dt, dt / n * 1e6);
        ima_key_free(k);
}

/* ---- evmctl, both directions ---------------------------------------- */

static int run(const char *cmd)
{
        int st = system(cmd);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool have_xattrs(const char *path)
{
        if (setxattr(path, "security.ima", "\x04\x04", 2, 0) < 0)
                return false;
        removexattr(path, "security.ima");
        return true;
}

static void evmctl_cross_check(enum key_type t)
{
        char file[4300], cmd[13000], val_hex[2048];
        uint8_t val[1024], d[32];
        struct ima_trust *tr = trust_of(t);
        struct ima_key *k = load_key(t);
        uint8_t *mine;
        size_t mine_len;
        int fd;

        snprintf(file, sizeof(file), "%s/evm-%s", tmpdir, keygen_type_name(t));
        fd = open(file, O_CREAT | O_TRUNC | O_WRONLY, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "some file content\n", 18), 18);
        close(fd);
        if (!have_xattrs(file))
                skip();

        /* evmctl signs, we verify */
        snprintf(cmd, sizeof(cmd), "evmctl ima_sign --key %s/signing.key -a sha256 %s >/dev/null 2>&1",
                 keydir(t), file);
        assert_int_equal(run(cmd), 0);
        ssize_t n = getxattr(file, "security.ima", val, sizeof(val));
        assert_true(n > 9);
        fd = open(file, O_RDONLY);
        assert_int_equal(ima_digest_fd(IMA_HASH_SHA256, fd, d), 0);
        close(fd);
        assert_int_equal(ima_trust_verify_digest(tr, val, (size_t)n, d, 32, NULL), IMASIG_VALID);
        d[5] ^= 4;
        assert_int_equal(ima_trust_verify_digest(tr, val, (size_t)n, d, 32, NULL), IMASIG_INVALID);
        d[5] ^= 4;

        /* we sign, evmctl verifies; and it refuses after a content change */
        assert_int_equal(ima_key_sign_digest(k, IMA_HASH_SHA256, d, 32, &mine, &mine_len), 0);
        assert_int_equal(setxattr(file, "security.ima", mine, mine_len, 0), 0);
        snprintf(cmd, sizeof(cmd), "evmctl ima_verify --key %s/signing.der %s >/dev/null 2>&1",
                 keydir(t), file);
        assert_int_equal(run(cmd), 0);
        hex_encode(mine, mine_len, val_hex);
        fd = open(file, O_WRONLY | O_APPEND);
        assert_int_equal(write(fd, "x", 1), 1);
        close(fd);
        assert_int_not_equal(run(cmd), 0);
        free(mine);
        ima_key_free(k);
        ima_trust_free(tr);
}

static void test_evmctl_ec_p256(void **state) { evmctl_cross_check(KEY_EC_P256); }
static void test_evmctl_ec_p384(void **state) { evmctl_cross_check(KEY_EC_P384); }
static void test_evmctl_rsa_2048(void **state) { evmctl_cross_check(KEY_RSA_2048); }

/* A value evmctl made with rpm's secp256k1 test key (via rpmsign in the
 * fixture's package): verify it offline with the fixture cert. */
static void test_evmctl_secp256k1(void **state)
{
        char file[4300], cmd[13000], key[4096], cert[4096];
        uint8_t val[1024], d[32];
        struct ima_trust *tr;
        int fd;

        snprintf(key, sizeof(key), "%s/privkey-secp256k1.pem", fixtures);
        snprintf(cert, sizeof(cert), "%s/privkey-cert.der", fixtures);
        snprintf(file, sizeof(file), "%s/evm-k1", tmpdir);
        fd = open(file, O_CREAT | O_TRUNC | O_WRONLY, 0644);
        assert_int_equal(write(fd, "k1\n", 3), 3);
        close(fd);
        if (!have_xattrs(file))
                skip();
        snprintf(cmd, sizeof(cmd), "evmctl ima_sign --key %s -a sha256 %s >/dev/null 2>&1", key, file);
        assert_int_equal(run(cmd), 0);
        ssize_t n = getxattr(file, "security.ima", val, sizeof(val));
        assert_true(n > 9);
        fd = open(file, O_RDONLY);
        assert_int_equal(ima_digest_fd(IMA_HASH_SHA256, fd, d), 0);
        close(fd);
        assert_int_equal(ima_trust_new(&tr), 0);
        assert_int_equal(ima_trust_add_file(tr, cert), 1);
        struct imasig s;
        /* it verifies, but no kernel could: reported as such */
        assert_int_equal(ima_trust_verify_digest(tr, val, (size_t)n, d, 32, &s), IMASIG_UNUSABLE_KEY);
        assert_non_null(strstr(imgerr_what(-EKEYREJECTED), "secp256k1"));
        assert_int_equal(s.keyid, 0xb8f2bd97);
        ima_trust_free(tr);
}

static int setup(void **state)
{
        const char *base = getenv("TEST_TMPDIR");
        static char fallback[4096];
        fixtures = getenv("FIXTURES");
        if (!fixtures || !*fixtures) {
                /* tests/CMakeLists.txt sets FIXTURES for unit tests only from
                 * the second configure on; find them beside the source tree */
                snprintf(fallback, sizeof(fallback), "%s/../../../shared/fixtures/rpm-upstream",
                         __FILE__);
                char *slash = strstr(fallback, "/test_imasig.c");
                if (slash)
                        memmove(slash, slash + strlen("/test_imasig.c"), strlen(slash + strlen("/test_imasig.c")) + 1);
                fixtures = fallback;
        }
        if (!base)
                base = ".";
        mkdir(base, 0755);
        snprintf(tmpdir, sizeof(tmpdir), "%s/imasig.XXXXXX", base);
        if (!mkdtemp(tmpdir))
                return -1;
        return 0;
}

static int teardown(void **state)
{
        char cmd[8192];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        return run(cmd);
}

/* `test_imasig fixtures`: the tests on rpm's test packages, a ctest of
 * their own that reports itself skipped (77) where they are absent. */
static const struct CMUnitTest fixture_tests[] = {
        cmocka_unit_test(test_keyid_fixture),
        cmocka_unit_test(test_evmctl_secp256k1),
};

int main(int argc, char **argv)
{
        if (argc > 1 && !strcmp(argv[1], "fixtures")) {
                struct stat st;
                char cert[4200];
                if (setup(NULL) < 0)
                        return 1;
                teardown(NULL);
                snprintf(cert, sizeof(cert), "%s/privkey-cert.der", fixtures);
                if (stat(cert, &st) < 0) {
                        printf("skipped: rpm's test packages not found at %s\n", fixtures);
                        return 77;
                }
                return cmocka_run_group_tests(fixture_tests, setup, teardown);
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_type_names),
                cmocka_unit_test(test_parse_digsig),
                cmocka_unit_test(test_parse_hash_only),
                cmocka_unit_test(test_parse_other_types),
                cmocka_unit_test(test_keyid_without_cert),
                cmocka_unit_test(test_keyid_skid_or_refuse),
                cmocka_unit_test(test_sign_verify_ec_p256),
                cmocka_unit_test(test_sign_verify_ec_p384),
                cmocka_unit_test(test_sign_verify_rsa_2048),
                cmocka_unit_test(test_sign_verify_rsa_3072),
                cmocka_unit_test(test_sign_verify_rsa_4096),
                cmocka_unit_test(test_key_cert_mismatch),
                cmocka_unit_test(test_trust_pem_bundle),
                cmocka_unit_test(test_unusable_curves),
                cmocka_unit_test(test_rfc6979_p256),
                cmocka_unit_test(test_rfc6979_p384),
                cmocka_unit_test(test_signatures_unchanged),
                cmocka_unit_test(test_two_threads),
                cmocka_unit_test(test_sign_speed),
                cmocka_unit_test(test_batch_equals_single),
                cmocka_unit_test(test_batch_speed),
                cmocka_unit_test(test_evmctl_ec_p256),
                cmocka_unit_test(test_evmctl_ec_p384),
                cmocka_unit_test(test_evmctl_rsa_2048),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
