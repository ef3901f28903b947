#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "layout/layout.h"
#include "base/util.h"

static char dir[256];

static const char *write_layout(const char *name, const char *text)
{
        static char path[512];
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        return path;
}

static int setup(void **state)
{
        const char *base = getenv("TEST_TMPDIR");
        snprintf(dir, sizeof(dir), "%s/layout.XXXXXX", base && *base ? base : "/tmp");
        return mkdtemp(dir) ? 0 : -1;
}

static void test_defaults_and_paths(void **state)
{
        struct layout *l = NULL;
        const char *p = write_layout("a.conf",
                "[Packages]\nDirectory=rpms /abs/rpms\nInstall=a b\nInstall=c\n"
                "[Signatures]\nCertificate=keys/c.pem\n");
        char want[600];

        assert_int_equal(layout_load(p, NULL, &l), 0);
        assert_true(l->size_auto);
        assert_int_equal(l->inode_size, 0);
        assert_int_equal(l->sigmode, SIGMODE_PACKAGE);
        assert_int_equal(l->scriptlets, SCRIPTLETS_ERROR);
        assert_int_equal(l->source_date_epoch, -1);
        assert_true(l->appraise_root_reads);
        snprintf(want, sizeof(want), "%s/rpms", dir);
        assert_string_equal(l->directories[0], want);          /* relative to the layout */
        assert_string_equal(l->directories[1], "/abs/rpms");
        assert_int_equal(strv_length(l->install), 3);           /* a repeated list key appends */
        assert_string_equal(l->install[2], "c");
        assert_int_equal(strlen(l->digest_hex), 64);
        layout_free(l);
}

static void test_overrides(void **state)
{
        struct layout *l = NULL;
        const char *p = write_layout("b.conf",
                "[Image]\nSize=auto\n[Packages]\nDirectory=.\nInstall=a b\n[Signatures]\nMode=sign\nKey=k.pem\n");
        char *sets[] = { "Image.Size=1G", "Packages.Install=", "Packages.Install=z", "Image.InodeSize=1024", NULL };

        assert_int_equal(layout_load(p, sets, &l), 0);
        assert_false(l->size_auto);
        assert_int_equal(l->size, 1ULL << 30);
        assert_int_equal(strv_length(l->install), 1);           /* empty value reset the list */
        assert_string_equal(l->install[0], "z");
        assert_int_equal(l->inode_size, 1024);
        layout_free(l);
}

static void expect_error(const char *name, const char *text, char **sets, const char *msg)
{
        struct layout *l = NULL;
        const char *p = write_layout(name, text);
        imgerr_clear();
        assert_int_equal(layout_load(p, sets, &l), -EINVAL);
        assert_null(l);
        if (!strstr(imgerr_what(-EINVAL), msg))
                fail_msg("error '%s' lacks '%s'", imgerr_what(-EINVAL), msg);
}

static void test_errors_name_file_and_line(void **state)
{
        expect_error("c.conf", "[Image]\n\nFoo=1\n", NULL, "c.conf:3: unknown key [Image] Foo");
        expect_error("d.conf", "[Nope]\nA=1\n", NULL, "d.conf:2: unknown section [Nope] A");
        expect_error("e.conf", "[Image]\nSize=12Q\n", NULL, "e.conf:2: Size=12Q");
        expect_error("f.conf", "[Image]\nInodeSize=300\n", NULL, "power of two");
        expect_error("g.conf", "[Signatures]\nMode=maybe\n", NULL, "expected package, sign or package-or-sign");
        expect_error("h.conf", "[Packages]\nDirectory=.\n", NULL, "Install= is required");
        expect_error("i.conf", "[Packages]\nDirectory=.\nInstall=a\n[Signatures]\nMode=sign\n", NULL, "needs Key=");
        expect_error("j.conf", "[Packages]\nDirectory=.\nInstall=a\n", NULL, "needs Certificate=");
        char *bad_set[] = { "Image.Size", NULL };
        expect_error("k.conf", "[Packages]\nDirectory=.\nInstall=a\n[Signatures]\nCertificate=c\n", bad_set,
                     "expected Section.Key=Value");
        char *unknown_set[] = { "Image.Colour=red", NULL };
        expect_error("l.conf", "[Packages]\nDirectory=.\nInstall=a\n[Signatures]\nCertificate=c\n", unknown_set,
                     "--set Image.Colour: unknown key");
}

static ssize_t key_index(const char *section, const char *key)
{
        for (size_t i = 0; i < layout_key_count(); i++)
                if (!strcmp(layout_key(i)->section, section) && !strcmp(layout_key(i)->key, key))
                        return (ssize_t)i;
        return -1;
}

static void expect_key(const struct layout *l, const char *section, const char *key, const char *value,
                       enum layout_origin_kind kind, unsigned line)
{
        ssize_t i = key_index(section, key);
        char *text = NULL;
        assert_true(i >= 0);
        assert_int_equal(layout_key_value(l, (size_t)i, &text), 0);
        assert_string_equal(text, value);
        free(text);
        assert_int_equal(l->origins[i].kind, kind);
        assert_int_equal(l->origins[i].line, line);
}

/* imgtool summary: each key's value and where it came from. */
static void test_origins(void **state)
{
        struct layout *l = NULL;
        const char *p = write_layout("o.conf",
                "[Packages]\nDirectory=/r\nInstall=a\n# a comment\nInstall=b\n"
                "[Signatures]\nCertificate=/c.der\n[Boot]\nTestHooks=yes\nModules=nbd\n");
        char *sets[] = { "Image.Size=64M", "Boot.CommandLine=quiet  ", NULL };

        assert_int_equal(layout_load(p, sets, &l), 0);
        expect_key(l, "Packages", "Install", "a b", LAYOUT_FILE, 5);   /* the last line that set it */
        expect_key(l, "Packages", "Directory", "/r", LAYOUT_FILE, 2);
        expect_key(l, "Image", "Size", "67108864", LAYOUT_SET, 0);
        expect_key(l, "Image", "InodeSize", "auto", LAYOUT_DEFAULT, 0);
        expect_key(l, "Signatures", "Mode", "package", LAYOUT_DEFAULT, 0);
        expect_key(l, "Policy", "Measure", "yes", LAYOUT_DEFAULT, 0);
        expect_key(l, "Boot", "TestHooks", "yes", LAYOUT_FILE, 9);
        expect_key(l, "Boot", "Modules", "nbd", LAYOUT_FILE, 10);
        expect_key(l, "Boot", "CommandLine", "quiet  ", LAYOUT_SET, 0);
        expect_key(l, "Boot", "Init", "", LAYOUT_DEFAULT, 0);
        /* every key can be printed: a new key's parser must be known to layout_key_value() */
        for (size_t i = 0; i < layout_key_count(); i++) {
                char *text = NULL;
                assert_int_equal(layout_key_value(l, i, &text), 0);
                if (!strcmp(text, "?"))
                        fail_msg("imgtool summary cannot print [%s] %s", layout_key(i)->section, layout_key(i)->key);
                free(text);
        }
        layout_free(l);
}

/* The key table (layout/settings.c): every enum key takes each of its
 * choices and prints it back by name; a name it does not list is an error
 * listing them all; every key has its documentation. */
static void test_key_table(void **state)
{
        const char *base = "[Packages]\nDirectory=.\nInstall=a\n[Signatures]\nCertificate=c\nKey=k\n[Boot]\nKernel=vmlinuz\n";
        const char *p = write_layout("t.conf", base);

        for (size_t i = 0; i < layout_key_count(); i++) {
                const struct layout_setting *s = layout_key(i);
                char set[128], *sets[] = { set, NULL }, names[256] = "", want[400];

                assert_non_null(s->help);
                assert_non_null(s->comment);
                assert_null(strchr(s->help, '|'));      /* a Markdown table cell */
                if (s->type != LAYOUT_ENUM)
                        continue;
                for (const struct layout_choice *c = s->choices; c->name; c++) {
                        struct layout *l = NULL;
                        char *text = NULL;
                        snprintf(set, sizeof(set), "%s.%s=%s", s->section, s->key, c->name);
                        assert_int_equal(layout_load(p, sets, &l), 0);
                        assert_int_equal(*(const int *)((const char *)l + s->offset), c->value);
                        assert_int_equal(layout_key_value(l, i, &text), 0);
                        assert_string_equal(text, c->name);
                        free(text);
                        layout_free(l);
                        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                                 c == s->choices ? "" : c[1].name ? ", " : " or ", c->name);
                }
                snprintf(set, sizeof(set), "%s.%s=bogus", s->section, s->key);
                snprintf(want, sizeof(want), "--set %s=bogus: expected %s", s->key, names);
                expect_error("t.conf", base, sets, want);
        }
}

/* issue 9: a real Install= list on one line (more than 64 KiB), and
 * repeated Install= lines still append. */
static void test_long_lines(void **state)
{
        struct layout *l = NULL;
        size_t n = 9000, len = 0;
        char *text = malloc(n * 9 + 256);
        const char *p;

        assert_non_null(text);
        len += (size_t)sprintf(text, "[Packages]\nDirectory=.\nInstall=");
        for (size_t i = 0; i < n; i++)
                len += (size_t)sprintf(text + len, "pkg%05zu ", i);
        sprintf(text + len, "\nInstall=last\n[Signatures]\nCertificate=c\n");
        assert_true(strlen(text) > 64 * 1024);
        p = write_layout("long.conf", text);
        free(text);
        assert_int_equal(layout_load(p, NULL, &l), 0);
        assert_int_equal(strv_length(l->install), n + 1);
        assert_string_equal(l->install[n - 1], "pkg08999");
        assert_string_equal(l->install[n], "last");
        layout_free(l);
}

static void test_values_checked_at_parse(void **state)
{
        const char *base = "[Packages]\nDirectory=.\nInstall=a\n[Signatures]\nCertificate=c\n";
        char text[512];

        snprintf(text, sizeof(text), "%s[Image]\nLabel=abcdefghijklmnopq\n", base);
        expect_error("m.conf", text, NULL, "m.conf:7: Label=abcdefghijklmnopq: an ext4 label has at most 16 characters");
        const char *sizes[] = { "nan", "inf", "1e9", "0x100000", "-4M", " 8M", "8M ", "1000000000", "2P" };
        for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
                char set[64], *sets[] = { set, NULL };
                snprintf(set, sizeof(set), "Image.Size=%s", sizes[i]);
                expect_error("n.conf", base, sets, "--set Size=");
        }
        char *nl_root[] = { "Boot.Root=LABEL=a\nroot=evil", NULL };
        expect_error("o.conf", base, nl_root, "--set Boot.Root: the value contains a control character (byte 0x0a)");
        char *bad_root[] = { "Boot.Root=bogus", NULL };
        expect_error("p.conf", base, bad_root, "--set Root=bogus: root 'bogus': want LABEL=NAME");
        snprintf(text, sizeof(text), "%s[Boot]\nCommandLine=quiet\rinit=/evil\n", base);
        expect_error("q.conf", text, NULL, "q.conf:7: [Boot] CommandLine: the value contains a control character (byte 0x0d)");
        /* [Policy] File= is checked whether or not Kernel= is set */
        write_layout("bad.policy", "enforce everything\n");
        snprintf(text, sizeof(text), "%s[Policy]\nFile=bad.policy\n", base);
        expect_error("r.conf", text, NULL, "bad.policy: line 1: unknown action 'enforce'");
        snprintf(text, sizeof(text), "%s[Policy]\nFile=missing.policy\n", base);
        struct layout *l = NULL;
        assert_int_equal(layout_load(write_layout("s.conf", text), NULL, &l), -ENOENT);
        assert_non_null(strstr(imgerr_what(-ENOENT), "s.conf: [Policy] File: "));
        assert_non_null(strstr(imgerr_what(-ENOENT), "missing.policy: No such file"));
}

static void test_nul_byte_refused(void **state)
{
        static const char text[] = "[Packages]\nDirectory=.\nInstall=a\0b\n[Signatures]\nCertificate=c\n";
        struct layout *l = NULL;
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/nul.conf", dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fwrite(text, 1, sizeof(text) - 1, f);
        fclose(f);
        assert_int_equal(layout_load(path, NULL, &l), -EINVAL);
        assert_non_null(strstr(imgerr_what(-EINVAL), "nul.conf:3: contains a NUL byte"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults_and_paths),
                cmocka_unit_test(test_overrides),
                cmocka_unit_test(test_errors_name_file_and_line),
                cmocka_unit_test(test_origins),
                cmocka_unit_test(test_key_table),
                cmocka_unit_test(test_long_lines),
                cmocka_unit_test(test_values_checked_at_parse),
                cmocka_unit_test(test_nul_byte_refused),
        };
        return cmocka_run_group_tests(tests, setup, NULL);
}
