/* keyref: what is a token URI, what messages call it, and the URI
 * refusals that come before any module is loaded (the token itself is
 * tests/integration/pkcs11.sh's, with SoftHSM2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ima/keyref.h"
#include "base/util.h"

static void test_is_token(void **state)
{
        (void)state;
        assert_true(keyref_is_token("pkcs11:token=t;object=k"));
        assert_false(keyref_is_token("keys/signing.key"));
        assert_false(keyref_is_token("/abs/pkcs11:x"));
        assert_false(keyref_is_token("PKCS11:token=t"));
        assert_false(keyref_is_token(NULL));
}

static void test_name_drops_query(void **state)
{
        char *n = keyref_name("pkcs11:token=t;object=k?pin-source=file:/run/pin&module-path=/m.so");
        (void)state;
        assert_string_equal(n, "pkcs11:token=t;object=k");
        free(n);
        n = keyref_name("dir/with?mark.key"); /* a file keeps its whole name */
        assert_string_equal(n, "dir/with?mark.key");
        free(n);
}

static int load_fails(const char *ref)
{
        struct evp_pkey_st *k = NULL;
        struct keyref_hold *e = NULL;
        int r = keyref_load(ref, &k, &e);
        assert_null(k);
        assert_null(e);
        return r;
}

/* A PIN in the URI is refused without being repeated. */
static void test_pin_value_refused(void **state)
{
        (void)state;
        assert_int_equal(load_fails("pkcs11:token=t;object=k?pin-value=s3cret&module-path=/nope.so"), -EINVAL);
        assert_non_null(strstr(imgerr_what(-EINVAL), "pin-value= puts the PIN in the URI"));
        assert_null(strstr(imgerr_what(-EINVAL), "s3cret"));
}

static void test_bad_uris(void **state)
{
        (void)state;
        assert_int_equal(load_fails("pkcs11:token=t"), -EINVAL);
        assert_non_null(strstr(imgerr_what(-EINVAL), "pkcs11:token=t: names no key"));
        assert_int_equal(load_fails("pkcs11:token=t;object=k?module-name=softhsm2"), -EINVAL);
        assert_non_null(strstr(imgerr_what(-EINVAL), "unsupported query attribute \"module-name\""));
        assert_int_equal(load_fails("pkcs11:token=t;object=k?module-path"), -EINVAL);
        assert_non_null(strstr(imgerr_what(-EINVAL), "module-path without a value"));
}

/* module-path= is percent-decoded (RFC 7512 2.3) and checked first. */
static void test_missing_module(void **state)
{
        (void)state;
        assert_int_equal(load_fails("pkcs11:token=t;object=k?module-path=/no%20such/m.so"), -ENOENT);
        assert_string_equal(imgerr_what(-ENOENT),
                            "pkcs11:token=t;object=k: PKCS#11 module /no such/m.so: No such file or directory");
}

static void test_missing_file(void **state)
{
        (void)state;
        assert_int_equal(load_fails("/nonexistent/signing.key"), -ENOENT);
        assert_non_null(strstr(imgerr_what(-ENOENT), "/nonexistent/signing.key"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_is_token),
                cmocka_unit_test(test_name_drops_query),
                cmocka_unit_test(test_pin_value_refused),
                cmocka_unit_test(test_bad_uris),
                cmocka_unit_test(test_missing_module),
                cmocka_unit_test(test_missing_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
