/* output.h's rules, cleanup.h's scratch folders, and the helpers every
 * command shares for reading whole files and escaping text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/output.h"
#include "base/util.h"

static char dir[256];

static const char *tpath(const char *name)
{
        static char buf[4][512];
        static int i;
        i = (i + 1) % 4;
        snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
        return buf[i];
}

static void put(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static char *get(const char *path)
{
        uint8_t *data;
        size_t len;
        assert_int_equal(read_file(path, &data, &len), 0);
        return (char *)data;
}

/* Entries of dir besides . and .. */
static int entries(const char *d)
{
        DIR *dh = opendir(d);
        struct dirent *e;
        int n = 0;

        assert_non_null(dh);
        while ((e = readdir(dh)))
                n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
        closedir(dh);
        return n;
}

static int setup(void **state)
{
        const char *base = getenv("TEST_TMPDIR");
        snprintf(dir, sizeof(dir), "%s/output.XXXXXX", base && *base ? base : "/tmp");
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
        return remove_tree(dir);
}

static void expect_msg(int r, int want, const char *msg)
{
        assert_int_equal(r, want);
        if (!strstr(imgerr_what(r), msg))
                fail_msg("error '%s' lacks '%s'", imgerr_what(r), msg);
}

static void test_check_rules(void **state)
{
        const char *in = tpath("input"), *hard = tpath("hardlink"), *sym = tpath("symlink");
        const char *inputs[] = { in, NULL };

        put(in, "input\n");
        assert_int_equal(link(in, hard), 0);
        assert_int_equal(symlink(in, sym), 0);
        assert_int_equal(output_check(tpath("new"), 0, NULL), 0);
        expect_msg(output_check("/nonexistent/r.json", 0, NULL), -ENOENT, "/nonexistent/r.json: cannot write there");
        expect_msg(output_check("", 0, NULL), -EINVAL, "empty");
        expect_msg(output_check("-", 0, NULL), -EINVAL, "cannot go to standard output");
        assert_int_equal(output_check("-", OUTPUT_STDOUT, NULL), 0);
        expect_msg(output_check("/dev/null", OUTPUT_FORCE, NULL), -EEXIST,
                   "/dev/null: exists and is a character device: refusing to replace it");
        expect_msg(output_check(sym, OUTPUT_FORCE, NULL), -EEXIST, "exists and is a symlink");
        expect_msg(output_check(dir, OUTPUT_FORCE, NULL), -EEXIST, "exists and is a folder");
        expect_msg(output_check(in, 0, NULL), -EEXIST, "input: already exists (use --force to replace it)");
        assert_int_equal(output_check(in, OUTPUT_FORCE, NULL), 0);
        expect_msg(output_check(in, OUTPUT_FORCE, inputs), -EINVAL, "is one of this command's inputs");
        expect_msg(output_check(hard, OUTPUT_FORCE, inputs), -EINVAL, "hardlink: is one of this command's inputs");
        inputs[0] = sym;   /* an input named through a symlink is the same file */
        expect_msg(output_check(in, OUTPUT_FORCE, inputs), -EINVAL, "is one of this command's inputs");
}

static void test_write_commit_abort(void **state)
{
        const char *t = tpath("sub");
        struct output *o;
        struct stat st;
        char *text;

        mkdir(t, 0755);
        t = tpath("sub/key");
        assert_int_equal(output_open(t, 0, 0600, NULL, &o), 0);
        assert_int_equal(access(t, F_OK), -1);               /* nothing at the target yet */
        assert_non_null(strstr(output_tmp_path(o), "sub/key.tmp."));
        assert_int_equal(stat(output_tmp_path(o), &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);            /* private from the start */
        assert_int_equal(output_write(o, "secret\n", 7), 0);
        assert_int_equal(output_commit(o), 0);
        text = get(t);
        assert_string_equal(text, "secret\n");
        free(text);
        assert_int_equal(entries(tpath("sub")), 1);          /* no temporary left */

        assert_int_equal(output_open(tpath("sub/aborted"), 0, 0644, NULL, &o), 0);
        assert_int_equal(output_write(o, "x", 1), 0);
        output_abort(o);
        assert_int_equal(entries(tpath("sub")), 1);

        /* without --force, a target that appears meanwhile is not replaced */
        assert_int_equal(output_open(tpath("sub/race"), 0, 0644, NULL, &o), 0);
        put(tpath("sub/race"), "theirs\n");
        imgerr_clear();
        expect_msg(output_commit(o), -EEXIST, "race: appeared while this command ran");
        text = get(tpath("sub/race"));
        assert_string_equal(text, "theirs\n");
        free(text);
        assert_int_equal(entries(tpath("sub")), 2);

        /* with it, a regular file is replaced */
        assert_int_equal(output_write_file(tpath("sub/race"), OUTPUT_FORCE, 0644, NULL, "ours\n", 5), 0);
        text = get(tpath("sub/race"));
        assert_string_equal(text, "ours\n");
        free(text);
}

static void test_write_error_fails(void **state)
{
        struct output *o;

        if (access("/dev/full", W_OK) < 0)
                skip();
        /* a write error is the command's error: write to /dev/full's fd */
        assert_int_equal(output_open(tpath("full"), 0, 0644, NULL, &o), 0);
        int fd = output_fd(o);
        FILE *f = freopen("/dev/full", "w", stdin);   /* any free descriptor onto /dev/full */
        assert_non_null(f);
        assert_true(dup2(fileno(f), fd) == fd);
        expect_msg(output_write(o, "x", 1), -ENOSPC, "full: write failed");
        output_abort(o);
        assert_int_equal(access(tpath("full"), F_OK), -1);
}

static void test_read_limit(void **state)
{
        uint8_t *data;
        size_t len;
        struct timespec t0, t1;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        expect_msg(read_file("/dev/zero", &data, &len), -EFBIG, "/dev/zero: larger than 16 MiB");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_true(t1.tv_sec - t0.tv_sec < 10);
        expect_msg(read_file_max("/dev/zero", 1u << 20, "layouts", &data, &len), -EFBIG,
                   "larger than 1 MiB (the limit for layouts)");
        put(tpath("small"), "abc");
        assert_int_equal(read_file_max(tpath("small"), 3, "x", &data, &len), 0);
        assert_int_equal(len, 3);
        assert_int_equal(data[3], 0);                        /* terminated for text callers */
        free(data);
        expect_msg(read_file_max(tpath("small"), 2, "x", &data, &len), -EFBIG, "larger than");
        expect_msg(read_file(dir, &data, &len), -EISDIR, "is a folder");
}

static void test_escape(void **state)
{
        char *e = escape_text("a\nb\033[31mc d\\e\x7f", ESCAPE_LINE);
        assert_string_equal(e, "a\\012b\\033[31mc d\\e\\177");
        free(e);
        e = escape_text("a b\\c\td", ESCAPE_FIELD);
        assert_string_equal(e, "a\\040b\\134c\\011d");
        free(e);
}

static void test_parse_size_strict(void **state)
{
        const char *bad[] = { "nan", "inf", "1e9", "0x10", "-1M", " 1M", "1M ", "1.M", ".5M", "1..2M", "" };
        uint64_t v;

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                if (parse_size(bad[i], &v) == 0)
                        fail_msg("parse_size accepted '%s'", bad[i]);
        assert_int_equal(parse_size("1.5G", &v), 0);
        assert_int_equal(v, 3ULL << 29);
        assert_int_equal(parse_size("32MiB", &v), 0);
        assert_int_equal(v, 32ULL << 20);
}

static void test_scratch_under_tmpdir(void **state)
{
        char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
        const char *base = tpath("scratch");
        char *d = NULL, *f;

        mkdir(base, 0700);
        setenv("TMPDIR", base, 1);
        assert_int_equal(scratch_dir_make("imgtool-test", &d), 0);
        assert_int_equal(strncmp(d, base, strlen(base)), 0);
        assert_true(asprintf(&f, "%s/deep", d) > 0);
        mkdir(f, 0500);                                       /* read-only, as extract leaves them */
        free(f);
        scratch_dir_remove(d);
        free(d);
        assert_int_equal(entries(base), 0);
        if (old)
                setenv("TMPDIR", old, 1);
        else
                unsetenv("TMPDIR");
        free(old);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_check_rules),
                cmocka_unit_test(test_write_commit_abort),
                cmocka_unit_test(test_write_error_fails),
                cmocka_unit_test(test_read_limit),
                cmocka_unit_test(test_escape),
                cmocka_unit_test(test_parse_size_strict),
                cmocka_unit_test(test_scratch_under_tmpdir),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
