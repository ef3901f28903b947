#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "ima/policy.h"
#include "base/util.h"

static void test_default_is_strong_and_valid(void **state)
{
        struct ima_policy_opts o = POLICY_OPTS_DEFAULT;
        char *text = NULL;

        assert_int_equal(ima_policy_default(&o, &text), 0);
        assert_int_equal(ima_policy_validate(text), 0);
        assert_non_null(strstr(text, "\nappraise func=BPRM_CHECK appraise_type=imasig\n"));
        assert_non_null(strstr(text, "\nappraise func=MMAP_CHECK appraise_type=imasig\n"));
        assert_non_null(strstr(text, "\nappraise func=FILE_CHECK fowner=0 appraise_type=imasig\n"));
        assert_non_null(strstr(text, "\nmeasure func=BPRM_CHECK mask=MAY_EXEC\n"));
        assert_non_null(strstr(text, "\ndont_appraise fsmagic=0x9fa0\n"));     /* proc */
        assert_non_null(strstr(text, "\ndont_appraise fsmagic=0x73636673\n")); /* securityfs */
        assert_non_null(strstr(text, "\ndont_measure fsmagic=0x01021994\n"));  /* tmpfs */
        /* exclusions come before the rules they exclude from */
        assert_true(strstr(text, "dont_appraise fsmagic=0xcafe4a11") < strstr(text, "appraise func=BPRM_CHECK"));
        assert_int_equal(text[strlen(text) - 1], '\n');
        free(text);
}

static void test_options(void **state)
{
        struct ima_policy_opts o = { .appraise_fowner0_reads = false, .measure = false,
                                 .extra_rules = "dont_appraise fowner=1000" };
        char *text = NULL;

        assert_int_equal(ima_policy_default(&o, &text), 0);
        assert_null(strstr(text, "measure"));
        assert_null(strstr(text, "FILE_CHECK"));
        assert_non_null(strstr(text, "\ndont_appraise fowner=1000\n"));
        assert_true(strstr(text, "dont_appraise fowner=1000") < strstr(text, "appraise func=BPRM_CHECK"));
        free(text);

        o.extra_rules = "appraise func=NOPE";
        text = NULL;
        assert_int_equal(ima_policy_default(&o, &text), -EINVAL);
        assert_null(text);
        assert_non_null(strstr(imgerr_what(-EINVAL), "extra rules: line 1"));
}

static void expect_rejected(const char *text, const char *msg)
{
        assert_int_equal(ima_policy_validate(text), -EINVAL);
        if (!strstr(imgerr_what(-EINVAL), msg))
                fail_msg("'%s': message '%s' lacks '%s'", text, imgerr_what(-EINVAL), msg);
}

static void test_validate(void **state)
{
        assert_int_equal(ima_policy_validate(""), 0);
        assert_int_equal(ima_policy_validate("# only a comment\n\n   \n"), 0);
        assert_int_equal(ima_policy_validate("  measure func=FILE_CHECK mask=^MAY_READ uid=0\n"), 0);
        assert_int_equal(ima_policy_validate("appraise func=BPRM_CHECK fowner>999 appraise_type=imasig|modsig"), 0);
        assert_int_equal(ima_policy_validate("dont_measure fsuuid=0123abcd-0000-1111-2222-333344445555\n"), 0);
        assert_int_equal(ima_policy_validate("measure func=KEXEC_KERNEL_CHECK pcr=11 template=ima-sig\n"), 0);
        assert_int_equal(ima_policy_validate("appraise func=SETXATTR_CHECK appraise_algos=sha256,sha384\n"), 0);
        assert_int_equal(ima_policy_validate("dont_appraise\tfsmagic=0x9FA0\tpermit_directio\n"), 0);

        expect_rejected("measure func=BPRM_CHECK\nenforce func=BPRM_CHECK\n", "line 2: unknown action 'enforce'");
        expect_rejected("appraise func=BPRM_CHECK # exec\n", "line 1: trailing comment");
        expect_rejected("\n\nappraise func=EXEC_CHECK\n", "line 3: bad value for 'func'");
        expect_rejected("measure mask=MAY_RUN\n", "bad value for 'mask'");
        expect_rejected("dont_measure fsmagic=proc\n", "bad value for 'fsmagic'");
        expect_rejected("appraise fowner=root\n", "bad value for 'fowner'");
        expect_rejected("appraise colour=blue\n", "unknown condition 'colour'");
        expect_rejected("appraise func=BPRM_CHECK func=FILE_CHECK\n", "'func' given twice");
        expect_rejected("measure func=BPRM_CHECK appraise_type=imasig\n", "appraise_type only applies");
        expect_rejected("appraise appraise_type=sig\n", "bad value for 'appraise_type'");
        expect_rejected("measure template=ima-foo\n", "bad value for 'template'");
        expect_rejected("measure func=\n", "bad value for 'func'");
        expect_rejected("measure fsname<ext4\n", "compare with < or >");
        expect_rejected("measure func=BPRM_CHECK\r\n", "carriage return");
        expect_rejected("/etc/ima/policy\n", "signed policy file");
        expect_rejected("measure appraise func=BPRM_CHECK\n", "second action");
}

static void test_has_appraise_rule(void **state)
{
        assert_true(ima_policy_has_appraise_rule("# x\nmeasure func=BPRM_CHECK\n  appraise func=BPRM_CHECK\n"));
        assert_false(ima_policy_has_appraise_rule("measure func=BPRM_CHECK\n# appraise func=BPRM_CHECK\ndont_appraise fsmagic=0x9fa0\n"));
        assert_false(ima_policy_has_appraise_rule(""));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_is_strong_and_valid),
                cmocka_unit_test(test_options),
                cmocka_unit_test(test_validate),
                cmocka_unit_test(test_has_appraise_rule),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
