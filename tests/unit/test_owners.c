#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "image/owners.h"

/* Lines a real or careless passwd/group file may hold.  The C library's own
 * parser (fgetpwent/fgetgrent: what getpwnam reads inside rpm's chroot) is
 * the oracle for which names resolve to which ids. */
static const char passwd_text[] =
        "root:x:0:0:root:/root:/bin/sh\n"
        "# a comment:x:5:5::/:/bin/sh\n"
        "\n"
        "svc:x:1234:1235::/:/sbin/nologin\n"
        "svc:x:999:999::/:/sbin/nologin\n"         /* duplicate: the first wins */
        "big:x:4294967294:1::/:/bin/sh\n"
        "nouid:x::1::/:/bin/sh\n"
        "alpha:x:12a:1::/:/bin/sh\n"
        "daemon:*:2:2:daemon:/sbin:/sbin/nologin";  /* no final newline */
static const char group_text[] =
        "root:x:0:\n"
        "svcgrp:x:1235:svc\n"
        "wheel:x:10:root,svc\n"
        "nogid:x::\n"
        "last:x:77:";

static const char *const users[] = { "root", "svc", "big", "nouid", "alpha", "daemon", "nosuch" };
static const char *const groups[] = { "root", "svcgrp", "wheel", "nogid", "last", "nosuch" };

static FILE *text_file(const char *text)
{
        FILE *f = fmemopen((void *)text, strlen(text), "r");
        assert_non_null(f);
        return f;
}

/* The id glibc gives a name, or -1 if it gives none. */
static long long libc_uid(const char *name)
{
        FILE *f = text_file(passwd_text);
        struct passwd *pw;
        long long id = -1;
        while ((pw = fgetpwent(f)))
                if (!strcmp(pw->pw_name, name)) {
                        id = pw->pw_uid;
                        break;
                }
        fclose(f);
        return id;
}

static long long libc_gid(const char *name)
{
        FILE *f = text_file(group_text);
        struct group *gr;
        long long id = -1;
        while ((gr = fgetgrent(f)))
                if (!strcmp(gr->gr_name, name)) {
                        id = gr->gr_gid;
                        break;
                }
        fclose(f);
        return id;
}

static void test_names_resolve_as_the_c_library_reads_them(void **state)
{
        struct owners *o;
        struct owner r;

        assert_int_equal(owners_new(&o), 0);
        assert_int_equal(owners_set_db(o, OWNERS_PASSWD, passwd_text, strlen(passwd_text)), 0);
        assert_int_equal(owners_set_db(o, OWNERS_GROUP, group_text, strlen(group_text)), 0);
        for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
                long long want = libc_uid(users[i]);
                owners_resolve(o, users[i], "root", S_IFREG | 0755, &r);
                print_message("user %s: libc %lld\n", users[i], want);
                assert_int_equal(r.unknown_user, want < 0);
                assert_int_equal((long long)r.uid, want < 0 ? 0 : want);
        }
        for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
                long long want = libc_gid(groups[i]);
                owners_resolve(o, "root", groups[i], S_IFREG | 0755, &r);
                print_message("group %s: libc %lld\n", groups[i], want);
                assert_int_equal(r.unknown_group, want < 0);
                assert_int_equal((long long)r.gid, want < 0 ? 0 : want);
        }
        owners_free(o);
}

/* rpmfilesStat: an unknown user loses S_ISUID, an unknown group S_ISGID;
 * the sticky bit and the rest stay; "root" needs no database. */
static void test_setid_bits_on_fallback(void **state)
{
        struct owners *o;
        struct owner r;

        assert_int_equal(owners_new(&o), 0);
        owners_resolve(o, "root", "root", S_IFREG | 06755, &r);
        assert_int_equal(r.mode, S_IFREG | 06755);
        owners_resolve(o, "svc", "root", S_IFREG | 06755, &r);
        assert_int_equal(r.mode, S_IFREG | 02755);
        owners_resolve(o, "root", "svc", S_IFREG | 06755, &r);
        assert_int_equal(r.mode, S_IFREG | 04755);
        owners_resolve(o, "svc", "svc", S_IFDIR | 07775, &r);
        assert_int_equal(r.mode, S_IFDIR | 01775);
        assert_true(r.unknown_user && r.unknown_group);
        /* added names (sysusers) count; the files win over them */
        assert_int_equal(owners_add(o, OWNERS_PASSWD, "svc", 500), 0);
        owners_resolve(o, "svc", "root", S_IFREG | 04755, &r);
        assert_int_equal(r.uid, 500);
        assert_int_equal(r.mode, S_IFREG | 04755);
        assert_int_equal(owners_set_db(o, OWNERS_PASSWD, "svc:x:7:7::/:/bin/sh\n", 21), 0);
        owners_resolve(o, "svc", "root", S_IFREG | 04755, &r);
        assert_int_equal(r.uid, 7);
        /* a database that went away */
        assert_int_equal(owners_set_db(o, OWNERS_PASSWD, NULL, 0), 0);
        owners_resolve(o, "svc", "root", S_IFREG | 04755, &r);
        assert_int_equal(r.uid, 500);
        owners_free(o);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_resolve_as_the_c_library_reads_them),
                cmocka_unit_test(test_setid_bits_on_fallback),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
