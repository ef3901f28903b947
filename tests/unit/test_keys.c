/* keys: key generation, certificate contents, all-or-nothing writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ima/imasig.h"
#include "ima/keygen.h"
#include "base/util.h"

static char tmpdir[4096];

static char *path(const char *fmt, const char *a, const char *b)
{
        static char bufs[4][8192];
        static int i;
        char rel[4096];
        char *p = bufs[i++ % 4];
        snprintf(rel, sizeof(rel), fmt, a, b);
        snprintf(p, sizeof(bufs[0]), "%s/%s", tmpdir, rel);
        return p;
}

static X509 *read_cert(const char *p)
{
        FILE *f = fopen(p, "r");
        assert_non_null(f);
        X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        assert_non_null(x);
        return x;
}

static void test_type_names(void **state)
{
        enum key_type t;
        assert_int_equal(keygen_type_from_name("ec-p256", &t), 0);
        assert_int_equal(t, KEY_EC_P256);
        assert_int_equal(keygen_type_from_name("rsa-4096", &t), 0);
        assert_int_equal(t, KEY_RSA_4096);
        assert_int_equal(keygen_type_from_name("rsa-1024", &t), -EINVAL);
        assert_non_null(strstr(imgerr_what(-EINVAL), "rsa-1024"));
        for (int i = KEY_EC_P256; i <= KEY_RSA_4096; i++) {
                assert_int_equal(keygen_type_from_name(keygen_type_name(i), &t), 0);
                assert_int_equal(t, i);
        }
        assert_string_equal(keygen_basename(false), "signing");
        assert_string_equal(keygen_basename(true), "ca");
}

static void test_leaf_cert(void **state)
{
        struct keygen_opts o = { .type = KEY_EC_P256, .subject = "unit leaf", .days = 10 };
        uint32_t keyid, keyid2;
        struct stat st;

        assert_int_equal(keygen_write(path("leaf", "", ""), &o, &keyid), 0);
        assert_int_equal(stat(path("leaf/signing.key", "", ""), &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        X509 *x = read_cert(path("leaf/signing.crt", "", ""));
        assert_int_equal(X509_get_version(x), X509_VERSION_3);
        const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(x);
        assert_non_null(skid);
        const uint8_t *s = ASN1_STRING_get0_data(skid);
        int n = ASN1_STRING_length(skid);
        assert_int_equal(keyid, (uint32_t)s[n - 4] << 24 | s[n - 3] << 16 | s[n - 2] << 8 | s[n - 1]);
        assert_true(X509_get_key_usage(x) == KU_DIGITAL_SIGNATURE);
        assert_int_equal(X509_check_ca(x), 0);
        assert_true(X509_get_extended_key_usage(x) & XKU_CODE_SIGN);
        const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
        assert_true(ASN1_STRING_length(serial) >= 16);
        /* the keyid the signer uses is the same */
        struct ima_key *k;
        assert_int_equal(ima_key_load(path("leaf/signing.key", "", ""), path("leaf/signing.der", "", ""), &k), 0);
        assert_int_equal(ima_key_keyid(k), keyid);
        ima_key_free(k);
        /* and so is evmctl's fallback from the key alone */
        assert_int_equal(ima_key_load(path("leaf/signing.key", "", ""), NULL, &k), 0);
        assert_int_equal(ima_key_keyid(k), keyid);
        ima_key_free(k);
        X509_free(x);

        /* two runs make different keys and serials */
        assert_int_equal(keygen_write(path("leaf2", "", ""), &o, &keyid2), 0);
        assert_int_not_equal(keyid, keyid2);
}

static void test_refuses_overwrite(void **state)
{
        struct keygen_opts o = { .type = KEY_EC_P256 };
        uint32_t keyid;
        FILE *f;

        mkdir(path("ow", "", ""), 0755);
        f = fopen(path("ow/signing.crt", "", ""), "w");
        fputs("mine\n", f);
        fclose(f);
        assert_int_equal(keygen_write(path("ow", "", ""), &o, &keyid), -EEXIST);
        assert_non_null(strstr(imgerr_what(-EEXIST), "ow/signing.crt: already exists"));
        assert_int_equal(access(path("ow/signing.key", "", ""), F_OK), -1);
        assert_int_equal(access(path("ow/signing.der", "", ""), F_OK), -1);

        /* a CA goes to ca.* and does not collide with signing.* */
        o.ca = true;
        assert_int_equal(keygen_write(path("ow", "", ""), &o, &keyid), 0);
        assert_int_equal(access(path("ow/ca.der", "", ""), F_OK), 0);
        assert_int_equal(keygen_write(path("ow", "", ""), &o, &keyid), -EEXIST);
}

static void test_ca_and_issued_leaf(void **state)
{
        struct keygen_opts ca = { .type = KEY_RSA_2048, .ca = true, .subject = "unit CA" };
        struct keygen_opts leaf = { .type = KEY_EC_P384, .issuer_dir = path("ca", "", "") };
        uint32_t caid, leafid;

        assert_int_equal(keygen_write(path("ca", "", ""), &ca, &caid), 0);
        assert_int_equal(keygen_write(path("issued", "", ""), &leaf, &leafid), 0);
        X509 *cx = read_cert(path("ca/ca.crt", "", ""));
        X509 *lx = read_cert(path("issued/signing.crt", "", ""));
        assert_int_equal(X509_check_ca(cx), 1);
        assert_true(X509_get_key_usage(cx) & KU_KEY_CERT_SIGN);
        assert_int_equal(X509_check_issued(cx, lx), X509_V_OK);
        assert_int_equal(X509_verify(lx, X509_get0_pubkey(cx)), 1);
        assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(lx),
                                               X509_get0_subject_key_id(cx)), 0);
        X509_free(cx);
        X509_free(lx);

        /* a leaf is no issuer */
        struct keygen_opts bad = { .type = KEY_EC_P256, .issuer_dir = path("issued", "", "") };
        assert_int_equal(keygen_write(path("bad", "", ""), &bad, &leafid), -ENOENT);
        assert_non_null(strstr(imgerr_what(-ENOENT), "issued/ca.crt"));
        assert_int_equal(access(path("bad", "", ""), F_OK), -1);
}

static int setup(void **state)
{
        const char *base = getenv("TEST_TMPDIR");
        if (!base)
                base = ".";
        mkdir(base, 0755);
        snprintf(tmpdir, sizeof(tmpdir), "%s/keys.XXXXXX", base);
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[8192];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_type_names),
                cmocka_unit_test(test_leaf_cert),
                cmocka_unit_test(test_refuses_overwrite),
                cmocka_unit_test(test_ca_and_issued_leaf),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
