/* image/scriptlets.c: the record of scriptlet changes an image carries
 * (what verify --against reads), and its refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"
#include "image/scriptmanifest.h"

#define SHA "21a803b7a8a1fbda37ad96d027e9a6bb2ad590c324579001dfdbfa7e6df3bb8d"

static void test_parse(void **state)
{
        const char *text =
                "created\t120777\t0\t0\t../usr/share/app/data\t/etc/app-data\tapp-2.0-1.noarch %post\n"
                "modified\t100644\t0\t0\t" SHA "\t/etc/shells\tapp-2.0-1.noarch %post\n"
                "removed\t0\t0\t0\t-\t/etc/obsolete\ta scriptlet\n"
                "created\t40755\t12\t34\t-\t/var/lib/app\tapp-2.0-1.noarch %pre\n";
        struct scriptlets_record *v;
        size_t n;

        (void)state;
        assert_int_equal(scriptlets_manifest_parse(text, &v, &n), 0);
        assert_int_equal(n, 4);
        assert_int_equal(v[0].kind, SCRIPTLET_CREATED);
        assert_true(S_ISLNK(v[0].mode));
        assert_string_equal(v[0].target, "../usr/share/app/data");
        assert_string_equal(v[0].by, "app-2.0-1.noarch %post");
        assert_int_equal(v[1].kind, SCRIPTLET_MODIFIED);
        assert_true(v[1].has_digest);
        assert_int_equal(v[1].sha256[0], 0x21);
        assert_int_equal(v[1].sha256[31], 0x8d);
        assert_int_equal(v[2].kind, SCRIPTLET_REMOVED);
        assert_string_equal(v[2].path, "/etc/obsolete");
        assert_true(S_ISDIR(v[3].mode));
        assert_int_equal(v[3].uid, 12);
        assert_int_equal(v[3].gid, 34);
        scriptlets_records_free(v, n);
}

static void test_malformed(void **state)
{
        static const char *const bad[] = {
                "created\t100644\t0\t0\tnothex\t/etc/x\tby\n",             /* a file without a digest */
                "created\t100644\t0\t0\t" SHA "\tetc/x\tby\n",             /* a relative path */
                "changed\t100644\t0\t0\t" SHA "\t/etc/x\tby\n",            /* an unknown kind */
                "created\t10x644\t0\t0\t" SHA "\t/etc/x\tby\n",            /* a mode that is not octal */
                "created\t100644\t0\t0\t" SHA "\t/etc/x\n",                /* a field missing */
        };
        struct scriptlets_record *v;
        size_t n;

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                imgerr_clear();
                assert_int_equal(scriptlets_manifest_parse(bad[i], &v, &n), -EBADMSG);
                assert_non_null(strstr(imgerr_what(-EBADMSG), "line 1: not a scriptlet change record"));
        }
        /* the line number of the bad one */
        imgerr_clear();
        assert_int_equal(scriptlets_manifest_parse("removed\t0\t0\t0\t-\t/a\tby\nbad line\n", &v, &n), -EBADMSG);
        assert_non_null(strstr(imgerr_what(-EBADMSG), "line 2:"));
        /* nothing at all is an empty record */
        assert_int_equal(scriptlets_manifest_parse("", &v, &n), 0);
        assert_int_equal(n, 0);
        scriptlets_records_free(v, n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_malformed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
