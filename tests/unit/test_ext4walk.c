/* ext4walk against real images made by mke2fs -d (the oracle for what
 * the tree holds is the host folder the image was made from). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ext4/ext4walk.h"
#include "base/util.h"

static char dir[512], img[600], src[600];

static void sh(const char *fmt, ...)
{
        char cmd[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        assert_int_equal(system(cmd), 0);
}

static void write_pattern(const char *path, size_t len, unsigned seed)
{
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        for (size_t i = 0; i < len; i++)
                fputc((int)((i * 31 + seed) % 251), f);
        fclose(f);
}

static int setup(void **state)
{
        const char *base = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
        mkdir(base, 0755);
        snprintf(dir, sizeof(dir), "%s/ext4walk.XXXXXX", base);
        if (!mkdtemp(dir))
                return -1;
        snprintf(src, sizeof(src), "%s/src", dir);
        snprintf(img, sizeof(img), "%s/img.ext4", dir);
        sh("mkdir -p %s/a %s/a-b %s/dir/sub %s/dev && echo x > %s/a/b && echo y > '%s/a-b/c d'", src, src,
           src, src, src, src);
        sh("printf hi > %s/dir/f && chmod 4750 %s/dir/f && ln %s/dir/f %s/dir/sub/link", src, src, src, src);
        sh("ln -s ../a/b %s/dir/sym && mknod %s/dev/null c 1 3 && mkfifo %s/dev/fifo", src, src, src);
        {
                char p[700];
                snprintf(p, sizeof(p), "%s/big", src);
                write_pattern(p, 3 * 1024 * 1024 + 123, 7);
        }
        /* sparse: data, a 2 MiB hole, data, a hole at the end */
        sh("cd %s && printf head > sparse && truncate -s 2M sparse && printf tail >> sparse && "
           "truncate -s 3M sparse", src);
        sh("chown 12:34 %s/a/b", src);
        sh("mke2fs -q -t ext4 -b 4096 -I 512 -d %s %s 32M", src, img);
        return 0;
}

static int teardown(void **state)
{
        sh("rm -rf %s", dir);
        return 0;
}

struct seen {
        char paths[64][128];
        int n;
};

static int record(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        struct seen *s = userdata;
        assert_true(s->n < 64);
        snprintf(s->paths[s->n++], 128, "%s", e->path);
        return 0;
}

static void test_walk_is_sorted_bytewise(void **state)
{
        struct ext4walk *w;
        struct seen s = {};

        assert_int_equal(ext4walk_open(img, &w), 0);
        assert_int_equal(ext4walk_walk(w, "/", EXT4WALK_RECURSIVE, record, &s), 0);
        ext4walk_close(w);
        for (int i = 1; i < s.n; i++)
                assert_true(strcmp(s.paths[i - 1], s.paths[i]) < 0);
        assert_string_equal(s.paths[0], "/");
        /* '-' sorts before '/': the whole path is the key, not the tree. */
        assert_string_equal(s.paths[1], "/a");
        assert_string_equal(s.paths[2], "/a-b");
        assert_string_equal(s.paths[3], "/a-b/c d");
        assert_string_equal(s.paths[4], "/a/b");
        /* / a a-b "a-b/c d" a/b big dev dev/fifo dev/null dir dir/f dir/sub
         * dir/sub/link dir/sym lost+found sparse */
        assert_int_equal(s.n, 16);
}

static void test_one_level(void **state)
{
        struct ext4walk *w;
        struct seen s = {};

        assert_int_equal(ext4walk_open(img, &w), 0);
        assert_int_equal(ext4walk_walk(w, "/dir", EXT4WALK_NO_START, record, &s), 0);
        ext4walk_close(w);
        assert_int_equal(s.n, 3);
        assert_string_equal(s.paths[0], "/dir/f");
        assert_string_equal(s.paths[1], "/dir/sub");
        assert_string_equal(s.paths[2], "/dir/sym");
}

static void test_stat_fields(void **state)
{
        struct ext4walk *w;
        struct ext4walk_entry e;

        assert_int_equal(ext4walk_open(img, &w), 0);
        assert_int_equal(ext4walk_stat(w, "//dir/./f", &e), 0);
        assert_string_equal(e.path, "/dir/f");
        assert_string_equal(e.name, "f");
        assert_true(S_ISREG(e.mode));
        assert_int_equal(e.mode & 07777, 04750);
        assert_int_equal(e.size, 2);
        assert_int_equal(e.nlink, 2);
        assert_int_equal(ext4walk_stat(w, "/a/b", &e), 0);
        assert_int_equal(e.uid, 12);
        assert_int_equal(e.gid, 34);
        assert_int_equal(ext4walk_stat(w, "/dir/sym", &e), 0);
        assert_true(S_ISLNK(e.mode));
        assert_string_equal(e.target, "../a/b");
        assert_int_equal(ext4walk_stat(w, "/dev/null", &e), 0);
        assert_true(S_ISCHR(e.mode));
        assert_int_equal(e.rdev_major, 1);
        assert_int_equal(e.rdev_minor, 3);
        assert_int_equal(ext4walk_stat(w, "/dev/fifo", &e), 0);
        assert_true(S_ISFIFO(e.mode));
        assert_int_equal(ext4walk_stat(w, "/nope", &e), -ENOENT);
        assert_int_equal(ext4walk_stat(w, "/dir/f/x", &e), -ENOTDIR);
        assert_int_equal(ext4walk_stat(w, "/dir/../a", &e), -EINVAL);
        ext4walk_close(w);
}

static int find_link(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        if (!strcmp(e->path, "/dir/sub/link")) {
                assert_non_null(e->link_of);
                assert_string_equal(e->link_of, "/dir/f");
                (*(int *)userdata)++;
        }
        if (!strcmp(e->path, "/dir/f"))
                assert_null(e->link_of);
        return 0;
}

static void test_hard_links(void **state)
{
        struct ext4walk *w;
        int found = 0;

        assert_int_equal(ext4walk_open(img, &w), 0);
        assert_int_equal(ext4walk_walk(w, "/", EXT4WALK_RECURSIVE, find_link, &found), 0);
        ext4walk_close(w);
        assert_int_equal(found, 1);
}

struct cmp {
        FILE *f;
        uint64_t n;
        size_t max_chunk;
};

static int compare_bytes(const void *buf, size_t len, void *userdata)
{
        struct cmp *c = userdata;
        uint8_t tmp[65536];
        const uint8_t *p = buf;

        if (len > c->max_chunk)
                c->max_chunk = len;
        while (len) {
                size_t n = len < sizeof(tmp) ? len : sizeof(tmp);
                assert_int_equal(fread(tmp, 1, n, c->f), n);
                assert_memory_equal(tmp, p, n);
                p += n;
                len -= n;
                c->n += n;
        }
        return 0;
}

static void check_content(struct ext4walk *w, const char *path)
{
        struct ext4walk_entry e;
        char host[700];
        struct cmp c = {};

        snprintf(host, sizeof(host), "%s%s", src, path);
        c.f = fopen(host, "rb");
        assert_non_null(c.f);
        assert_int_equal(ext4walk_stat(w, path, &e), 0);
        assert_int_equal(ext4walk_read(w, &e, compare_bytes, &c), 0);
        assert_int_equal(c.n, e.size);
        assert_int_equal(fgetc(c.f), EOF);
        fclose(c.f);
        if (!strcmp(path, "/big"))
                assert_true(c.max_chunk >= (256 << 10));  /* big reads, not block by block */
}

static void test_read_content(void **state)
{
        struct ext4walk *w;
        struct ext4walk_entry e;
        struct ext4walk_run *runs;
        size_t n;
        uint64_t total = 0;
        bool zero_run = false;

        assert_int_equal(ext4walk_open(img, &w), 0);
        check_content(w, "/big");
        check_content(w, "/sparse");
        check_content(w, "/dir/f");
        check_content(w, "/a-b/c d");
        assert_int_equal(ext4walk_stat(w, "/sparse", &e), 0);
        assert_int_equal(ext4walk_runs(w, &e, &runs, &n), 0);
        for (size_t i = 0; i < n; i++) {
                total += runs[i].len;
                zero_run |= runs[i].zero;
        }
        free(runs);
        assert_int_equal(total, 3 << 20);
        assert_true(zero_run);
        assert_int_equal(ext4walk_stat(w, "/dir", &e), 0);
        assert_int_equal(ext4walk_read(w, &e, compare_bytes, NULL), -EINVAL);
        ext4walk_close(w);
}

static void test_refuses_bad_images(void **state)
{
        struct ext4walk *w = NULL;
        char p[700];

        snprintf(p, sizeof(p), "%s/text", dir);
        sh("head -c 100000 /dev/zero > %s", p);
        assert_int_equal(ext4walk_open(p, &w), -EINVAL);
        assert_non_null(strstr(imgerr_what(-EINVAL), "not an ext4 image"));
        snprintf(p, sizeof(p), "%s/short.ext4", dir);
        sh("cp %s %s && truncate -s 8M %s", img, p, p);
        assert_int_equal(ext4walk_open(p, &w), -ENODATA);
        assert_non_null(strstr(imgerr_what(-ENODATA), "truncated image"));
        snprintf(p, sizeof(p), "%s/ext2.img", dir);
        sh("mke2fs -q -t ext2 %s 4M", p);
        assert_int_equal(ext4walk_open(p, &w), -EINVAL);
        assert_non_null(strstr(imgerr_what(-EINVAL), "not an ext4 image"));
        assert_int_equal(ext4walk_open(dir, &w), -EISDIR);
        snprintf(p, sizeof(p), "%s/missing", dir);
        assert_int_equal(ext4walk_open(p, &w), -ENOENT);
        assert_null(w);
}

static void test_escape(void **state)
{
        char *s = ext4walk_escape("/a b\n\\c\tü");
        assert_string_equal(s, "/a\\040b\\012\\134c\\011ü");
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_walk_is_sorted_bytewise),
                cmocka_unit_test(test_one_level),
                cmocka_unit_test(test_stat_fields),
                cmocka_unit_test(test_hard_links),
                cmocka_unit_test(test_read_content),
                cmocka_unit_test(test_refuses_bad_images),
                cmocka_unit_test(test_escape),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
