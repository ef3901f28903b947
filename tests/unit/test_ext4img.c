/* ext4img: real images in a temp dir, checked by e2fsck, debugfs and (as
 * root) the kernel itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ext4/ext4img.h"
#include "base/util.h"

#define TS 1700000000LL

static char tmpdir[256];

static int setup_tmpdir(void **state)
{
        const char *base = getenv("TEST_TMPDIR");
        if (!base || !*base)
                base = "/tmp";
        mkdir(base, 0755);
        snprintf(tmpdir, sizeof(tmpdir), "%s/ext4img.XXXXXX", base);
        assert_non_null(mkdtemp(tmpdir));
        return 0;
}

static int remove_tmpdir(void **state)
{
        char cmd[300];
        if (getenv("EXT4IMG_KEEP")) {
                fprintf(stderr, "kept %s\n", tmpdir);
                return 0;
        }
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

static char *tpath(const char *name)
{
        static char buf[64][512];
        static int i;
        i = (i + 1) % 64;
        snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
        return buf[i];
}

static struct ext4img_opts opts_for(uint64_t size, unsigned inode_size)
{
        struct ext4img_opts o = {
                .size = size, .inode_size = inode_size, .label = "testimg", .timestamp = TS,
        };
        for (int i = 0; i < 16; i++) {
                o.uuid[i] = (uint8_t)(0x10 + i);
                o.hash_seed[i] = (uint8_t)(0xa0 + i);
        }
        return o;
}

static const struct ext4img_attr file_attr = { S_IFREG | 0644, 0, 0, TS - 100 };

/* Run a shell command, return its stdout (malloc'd) and exit status. */
static char *run(int *status, const char *fmt, ...)
{
        char cmd[2048];
        va_list ap;
        FILE *p;
        char *out = NULL;
        size_t len = 0;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        p = popen(cmd, "r");
        assert_non_null(p);
        FILE *m = open_memstream(&out, &len);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
                fwrite(buf, 1, n, m);
        fclose(m);
        int st = pclose(p);
        if (status)
                *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        return out;
}

static void assert_fsck_clean(const char *img)
{
        int st;
        char *out = run(&st, "e2fsck -fn '%s' 2>&1", img);
        if (st != 0)
                fprintf(stderr, "e2fsck said:\n%s\n", out);
        assert_int_equal(st, 0);
        free(out);
}

static char *debugfs(const char *img, const char *req)
{
        return run(NULL, "debugfs -R '%s' '%s' 2>/dev/null", req, img);
}

static void assert_contains(const char *hay, const char *needle)
{
        if (!strstr(hay, needle))
                fail_msg("expected '%s' in:\n%s", needle, hay);
}

static void *read_all(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        char *buf;
        long n;
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t)n + 1);
        assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        *len = (size_t)n;
        return buf;
}

static void put_file(struct ext4img *img, const char *path, const void *data, size_t len,
                     const struct ext4img_attr *a)
{
        struct ext4img_file *f;
        assert_int_equal(ext4img_file_begin(img, path, a, len, &f), 0);
        /* odd chunk sizes exercise the staging buffer */
        for (size_t off = 0; off < len;) {
                size_t n = len - off < 7777 ? len - off : 7777;
                assert_int_equal(ext4img_file_write(f, (const char *)data + off, n), 0);
                off += n;
        }
        assert_int_equal(ext4img_file_commit(f), 0);
}

static uint8_t *pattern(size_t len, unsigned seed)
{
        uint8_t *p = malloc(len ? len : 1);
        uint32_t x = seed * 2654435761u + 1;
        for (size_t i = 0; i < len; i++) {
                x = x * 1103515245u + 12345u;
                p[i] = (uint8_t)(x >> 16);
        }
        return p;
}

/* The fixture image: one of everything. */
static const uint8_t ima81[81] = { 0x03, 0x02, 0x04, 0xaa, 0xbb, 0xcc, 0xdd, 0x00, 0x48 };
static uint8_t ima265[265];
static const uint8_t cap[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x20 };
#define BIG_LEN (3 * 1024 * 1024 + 123)

static void build_everything(const char *path, unsigned inode_size)
{
        struct ext4img_opts o = opts_for(64 << 20, inode_size);
        struct ext4img *img;
        struct ext4img_file *f;
        struct ext4img_attr dir = { S_IFDIR | 0755, 0, 0, TS - 5 };
        struct ext4img_attr suid = { S_IFREG | 04755, 0, 0, TS - 1 };
        struct ext4img_attr sgid = { S_IFREG | 02711, 5, 6, TS - 2 };
        struct ext4img_attr sticky = { S_IFDIR | 01777, 0, 0, TS - 3 };
        struct ext4img_attr owned = { S_IFREG | 0640, 1000, 70000, TS - 4 };
        struct ext4img_attr chr = { S_IFCHR | 0620, 0, 5, TS };
        struct ext4img_attr blk = { S_IFBLK | 0660, 0, 6, TS };
        struct ext4img_attr fifo = { S_IFIFO | 0600, 0, 0, TS };
        struct ext4img_attr sock = { S_IFSOCK | 0755, 0, 0, TS };
        struct ext4img_attr lnk = { S_IFLNK | 0777, 0, 0, TS };
        char longtarget[300];
        uint8_t *big = pattern(BIG_LEN, 1);

        for (size_t i = 0; i < sizeof(ima265); i++)
                ima265[i] = (uint8_t)(i * 7 + 3);
        memset(longtarget, 0, sizeof(longtarget));
        for (int i = 0; i < 29; i++)
                strcat(longtarget, "/long/path");

        assert_int_equal(ext4img_create(path, &o, &img), 0);
        assert_int_equal(ext4img_mkdir(img, "/etc", &dir), 0);
        assert_int_equal(ext4img_mkdir_p(img, "/usr/bin"), 0);
        assert_int_equal(ext4img_mkdir_p(img, "/usr/lib/deep/er/"), 0);
        assert_int_equal(ext4img_mkdir(img, "/tmp", &sticky), 0);
        put_file(img, "/etc/hello", "hello world\n", 12, &file_attr);
        put_file(img, "/etc/empty", "", 0, &file_attr);
        put_file(img, "/usr/bin/big", big, BIG_LEN, &suid);
        put_file(img, "/usr/bin/sg", "#!/bin/sh\n", 10, &sgid);
        put_file(img, "/usr/lib/deep/er/owned", "x", 1, &owned);

        assert_int_equal(ext4img_file_begin(img, "/usr/bin/signed", &file_attr, 5, &f), 0);
        assert_int_equal(ext4img_file_write(f, "12345", 5), 0);
        assert_int_equal(ext4img_file_set_xattr(f, "security.ima", ima265, sizeof(ima265)), 0);
        assert_int_equal(ext4img_file_set_xattr(f, "security.capability", cap, sizeof(cap)), 0);
        assert_int_equal(ext4img_file_commit(f), 0);
        assert_int_equal(ext4img_set_xattr(img, "/etc/hello", "security.ima", ima81, sizeof(ima81)), 0);
        assert_int_equal(ext4img_set_xattr(img, "/etc", "user.note", "dir", 3), 0);

        assert_int_equal(ext4img_hardlink(img, "/usr/bin/big2", "/usr/bin/big"), 0);
        assert_int_equal(ext4img_hardlink(img, "/etc/big3", "/usr/bin/big"), 0);
        assert_int_equal(ext4img_symlink(img, "/usr/bin/short", "big", &lnk), 0);
        assert_int_equal(ext4img_symlink(img, "/usr/bin/long", longtarget, &lnk), 0);
        assert_int_equal(ext4img_mknod(img, "/etc/tty0", &chr, makedev(4, 0)), 0);
        assert_int_equal(ext4img_mknod(img, "/etc/bigdev", &blk, makedev(259, 300)), 0);
        assert_int_equal(ext4img_mknod(img, "/etc/fifo", &fifo, 0), 0);
        assert_int_equal(ext4img_mknod(img, "/etc/sock", &sock, 0), 0);
        assert_int_equal(ext4img_close(img), 0);
        free(big);
}

static void test_everything_fsck_clean(void **state)
{
        const char *img = tpath("all.img");
        build_everything(img, 256);
        assert_fsck_clean(img);

        char *out = debugfs(img, "stat /usr/bin/big");
        assert_contains(out, "Mode:  04755");
        assert_contains(out, "Links: 3");
        assert_contains(out, "Size: 3145851");
        free(out);
        out = debugfs(img, "stat /usr/bin/sg");
        assert_contains(out, "Mode:  02711");
        assert_contains(out, "User:     5   Group:     6");
        free(out);
        out = debugfs(img, "stat /usr/lib/deep/er/owned");
        assert_contains(out, "User:  1000   Group: 70000");
        free(out);
        out = debugfs(img, "stat /tmp");
        assert_contains(out, "Mode:  01777");
        free(out);
        out = debugfs(img, "stat /usr");
        assert_contains(out, "Mode:  0755");
        assert_contains(out, "Links: 4"); /* ., bin/.., lib/.. and its name */
        free(out);

        const char *img1k = tpath("all1k.img");
        build_everything(img1k, 1024);
        assert_fsck_clean(img1k);
        out = run(NULL, "dumpe2fs -h '%s' 2>/dev/null", img1k);
        assert_contains(out, "Inode size:	          1024");
        free(out);
}

static void test_file_content(void **state)
{
        const char *img = tpath("content.img");
        size_t len;
        build_everything(img, 256);
        free(debugfs(img, "dump /usr/bin/big " ));
        char req[600];
        snprintf(req, sizeof(req), "dump /usr/bin/big %s", tpath("big.out"));
        free(debugfs(img, req));
        uint8_t *got = read_all(tpath("big.out"), &len), *want = pattern(BIG_LEN, 1);
        assert_int_equal(len, BIG_LEN);
        assert_memory_equal(got, want, BIG_LEN);
        free(got);
        free(want);
        snprintf(req, sizeof(req), "dump /etc/hello %s", tpath("hello.out"));
        free(debugfs(img, req));
        got = read_all(tpath("hello.out"), &len);
        assert_int_equal(len, 12);
        assert_memory_equal(got, "hello world\n", 12);
        free(got);
}

static void test_times_from_attr(void **state)
{
        const char *img = tpath("times.img");
        build_everything(img, 256);
        char *out = run(NULL, "debugfs -R 'stat /usr/bin/sg' '%s' 2>/dev/null | grep -E '^ *(a|c|m|cr)time:'", img);
        /* TS - 2 = 1699999998 = 0x6553f0fe */
        assert_contains(out, "mtime: 0x6553f0fe:00000000");
        assert_contains(out, "crtime: 0x6553f0fe:00000000");
        free(out);
        out = run(NULL, "dumpe2fs -h '%s' 2>/dev/null", img);
        assert_contains(out, "Filesystem volume name:   testimg");
        assert_contains(out, "Filesystem UUID:          10111213-1415-1617-1819-1a1b1c1d1e1f");
        assert_contains(out, "Directory Hash Seed:      a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
        assert_contains(out, "Reserved block count:     0");
        assert_contains(out, "metadata_csum");
        assert_contains(out, "has_journal");
        free(out);
}

static void test_hardlink_one_inode(void **state)
{
        const char *img = tpath("hl.img");
        build_everything(img, 256);
        char *a = run(NULL, "debugfs -R 'stat /usr/bin/big' '%s' 2>/dev/null | head -1", img);
        char *b = run(NULL, "debugfs -R 'stat /usr/bin/big2' '%s' 2>/dev/null | head -1", img);
        char *c = run(NULL, "debugfs -R 'stat /etc/big3' '%s' 2>/dev/null | head -1", img);
        assert_contains(a, "Inode: ");
        assert_string_equal(a, b);
        assert_string_equal(a, c);
        free(a);
        free(b);
        free(c);
}

static void test_special_files(void **state)
{
        const char *img = tpath("special.img");
        build_everything(img, 256);
        char *out = debugfs(img, "stat /etc/tty0");
        assert_contains(out, "Type: character special");
        assert_contains(out, "Device major/minor number: 04:00");
        free(out);
        out = debugfs(img, "stat /etc/bigdev");
        assert_contains(out, "Type: block special");
        assert_contains(out, "Device major/minor number: 259:300");
        free(out);
        out = debugfs(img, "stat /etc/fifo");
        assert_contains(out, "Type: FIFO");
        free(out);
        out = debugfs(img, "stat /etc/sock");
        assert_contains(out, "Type: socket");
        free(out);
        out = debugfs(img, "stat /usr/bin/short");
        assert_contains(out, "Type: symlink");
        assert_contains(out, "Fast link dest: \"big\"");
        free(out);
        out = debugfs(img, "stat /usr/bin/long");
        assert_contains(out, "Type: symlink");
        assert_contains(out, "Size: 290");
        assert_contains(out, "EXTENTS:");
        free(out);
}

static void assert_xattr(const char *img, const char *path, const char *name, const void *want,
                         size_t want_len)
{
        char req[600];
        size_t len;
        const char *out = tpath("xattr.out");
        unlink(out);
        snprintf(req, sizeof(req), "ea_get -f %s %s %s", out, path, name);
        free(debugfs(img, req));
        uint8_t *got = read_all(out, &len);
        assert_int_equal(len, want_len);
        assert_memory_equal(got, want, want_len);
        free(got);
}

static void test_xattrs_read_back(void **state)
{
        const char *img = tpath("xattr.img");
        build_everything(img, 256);
        assert_xattr(img, "/etc/hello", "security.ima", ima81, sizeof(ima81));
        assert_xattr(img, "/usr/bin/signed", "security.ima", ima265, sizeof(ima265));
        assert_xattr(img, "/usr/bin/signed", "security.capability", cap, sizeof(cap));
        assert_xattr(img, "/etc", "user.note", "dir", 3);
}

static void test_xattrs_in_inode_512(void **state)
{
        const char *img = tpath("x512.img");
        build_everything(img, 512);
        assert_fsck_clean(img);
        char *out = debugfs(img, "stat /etc/hello");
        assert_contains(out, "File ACL: 0");
        free(out);
        out = run(NULL, "dumpe2fs -h '%s' 2>/dev/null", img);
        assert_contains(out, "Inode size:	          512");
        free(out);
        out = debugfs(img, "stat /usr/bin/signed");
        assert_contains(out, "File ACL: 0");
        free(out);
        assert_xattr(img, "/usr/bin/signed", "security.ima", ima265, sizeof(ima265));
        assert_xattr(img, "/etc/hello", "security.ima", ima81, sizeof(ima81));
}

static void test_deterministic(void **state)
{
        const char *a = tpath("det1.img"), *b = tpath("det2.img");
        size_t la, lb;
        build_everything(a, 256);
        sleep(1); /* a clock leaking into the image would now differ */
        build_everything(b, 256);
        char *x = read_all(a, &la), *y = read_all(b, &lb);
        assert_int_equal(la, lb);
        assert_true(memcmp(x, y, la) == 0);
        free(x);
        free(y);
}

/* Look names up through the kernel (htree lookups), if we may mount. */
static void kernel_lookup(const char *img, const char *dir, int n, const char *fmt)
{
        char mnt[300], p[700], name[300];
        struct stat sb;
        int st, found = 0;
        char *out;

        if (geteuid() != 0)
                return;
        snprintf(mnt, sizeof(mnt), "%s/mnt-dir", tmpdir);
        mkdir(mnt, 0755);
        out = run(&st, "mount -o loop,ro '%s' '%s' 2>&1", img, mnt);
        free(out);
        if (st != 0) {
                fprintf(stderr, "SKIP kernel lookups: mount failed\n");
                return;
        }
        for (int i = 0; i < n; i += 7) {
                snprintf(name, sizeof(name), fmt, i);
                snprintf(p, sizeof(p), "%s%s/%s", mnt, dir, name);
                found += stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
        }
        snprintf(p, sizeof(p), "%s%s/not-there", mnt, dir);
        int absent = stat(p, &sb) != 0;
        free(run(NULL, "umount '%s' 2>&1", mnt));
        assert_int_equal(found, (n + 6) / 7);
        assert_true(absent);
}

static void big_dir(const char *path, int n, const char *fmt, bool linear)
{
        struct ext4img_opts o = opts_for(64 << 20, 256);
        struct ext4img *img;
        char name[600], full[700];

        o.inode_count = 8192;
        o.linear_dirs = linear;
        assert_int_equal(ext4img_create(path, &o, &img), 0);
        assert_int_equal(ext4img_mkdir_p(img, "/d"), 0);
        for (int i = 0; i < n; i++) {
                snprintf(name, sizeof(name), fmt, i);
                snprintf(full, sizeof(full), "/d/%s", name);
                put_file(img, full, full, strlen(full), &file_attr);
        }
        assert_int_equal(ext4img_close(img), 0);
        assert_fsck_clean(path);
        char *out = run(NULL, "debugfs -R 'ls -p /d' '%s' 2>/dev/null | grep -c /", path);
        assert_int_equal(atoi(out), n + 2);
        free(out);
        snprintf(name, sizeof(name), fmt, n / 3);
        snprintf(full, sizeof(full), "dump /d/%s %s", name, tpath("f.out"));
        unlink(tpath("f.out"));
        free(debugfs(path, full));
        size_t len;
        char *got = read_all(tpath("f.out"), &len);
        snprintf(full, sizeof(full), "/d/%s", name);
        assert_int_equal(len, strlen(full));
        assert_memory_equal(got, full, len);
        free(got);
}

static void test_large_directory(void **state)
{
        const char *path = tpath("bigdir.img");
        const char *fmt = "file-with-a-longish-name-%05d";

        big_dir(path, 5000, fmt, false);
        char *out = debugfs(path, "htree /d");
        assert_contains(out, "Root node dump:");
        assert_contains(out, "Indirect levels: 0");
        free(out);
        kernel_lookup(path, "/d", 5000, fmt);

        big_dir(path, 5000, fmt, true);
        out = debugfs(path, "stat /d");
        assert_contains(out, "Flags: 0x80000\n"); /* extents, no index */
        free(out);
        kernel_lookup(path, "/d", 5000, fmt);
}

/* More folders than the writer keeps last blocks of in memory (DIR_BUFS_MAX,
 * 256), filled in turn: each append reads the folder's block back, and the
 * folders grow past one block (long names) while others were written out.
 * e2fsck checks the blocks and their checksums, debugfs every name. */
static void test_many_directories_in_turn(void **state)
{
        const char *path = tpath("manydirs.img");
        struct ext4img_opts o = opts_for(128 << 20, 256);
        const int dirs = 300, files = 40;
        struct ext4img *img;
        char full[300];

        o.inode_count = 16384;
        assert_int_equal(ext4img_create(path, &o, &img), 0);
        for (int d = 0; d < dirs; d++) {
                snprintf(full, sizeof(full), "/top/d%03d", d);
                assert_int_equal(ext4img_mkdir_p(img, full), 0);
        }
        for (int f = 0; f < files; f++)
                for (int d = 0; d < dirs; d++) {
                        snprintf(full, sizeof(full), "/top/d%03d/a-name-long-enough-that-forty-of-them-need-two-blocks-%02d-"
                                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", d, f);
                        put_file(img, full, full, strlen(full), &file_attr);
                }
        assert_int_equal(ext4img_close(img), 0);
        assert_fsck_clean(path);
        for (int d = 0; d < dirs; d += 37) {
                char *out = run(NULL, "debugfs -R 'ls -p /top/d%03d' '%s' 2>/dev/null | grep -c '/a-name-long-enough-'", d, path);
                assert_int_equal(atoi(out), files);
                free(out);
                out = run(NULL, "debugfs -R 'stat /top/d%03d' '%s' 2>/dev/null | grep -o 'Size: [0-9]*' | head -1", d, path);
                assert_string_equal(out, "Size: 12288\n");  /* two leaf blocks and the htree root */
                free(out);
        }
}

/* Directory sizes around block and packing boundaries, short and long names. */
static void test_directory_sizes(void **state)
{
        const char *path = tpath("dirsizes.img");
        const int sizes[] = { 1, 100, 157, 300, 1000, 2500 };
        const char *fmts[] = { "%d", "n%07d-abcdefghijklmnopqrstuvwxyz-abcdefghijklmnopqrstuvwxyz-abcdefghijklmnopqrstuvwxyz-abcdefghijklmnopqrstuvwxyz-abcdefghijklmnopqrstuvwxyz-abcdefghijklmnopqrstuvwxyz-abcdefghijklmnopqrstuvwxyz-abcdefghijklmnopqrstuvwxyz-abcdefghijklm" };

        for (size_t f = 0; f < ARRAY_SIZE(fmts); f++)
                for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
                        big_dir(path, sizes[i], fmts[f], false);
        kernel_lookup(path, "/d", 2500, fmts[1]);
}

static void test_errors(void **state)
{
        const char *path = tpath("err.img");
        struct ext4img_opts o = opts_for(16 << 20, 256);
        struct ext4img *img;
        struct ext4img_file *f;
        struct ext4img_attr dir = { S_IFDIR | 0755, 0, 0, TS };

        assert_int_equal(ext4img_create(path, &o, &img), 0);
        assert_int_equal(ext4img_mkdir(img, "/a", &dir), 0);
        assert_int_equal(ext4img_mkdir(img, "/a", &dir), -EEXIST);
        assert_non_null(strstr(imgerr_what(-EEXIST), "/a"));
        put_file(img, "/a/f", "x", 1, &file_attr);
        assert_int_equal(ext4img_file_begin(img, "/a/f", &file_attr, 1, &f), -EEXIST);
        assert_non_null(strstr(imgerr_what(-EEXIST), "/a/f: already exists"));
        assert_int_equal(ext4img_mkdir(img, "/nope/x", &dir), -ENOENT);
        assert_int_equal(ext4img_mkdir(img, "/a/f/x", &dir), -ENOTDIR);
        assert_int_equal(ext4img_mkdir(img, "relative", &dir), -EINVAL);
        assert_int_equal(ext4img_hardlink(img, "/a/l", "/missing"), -ENOENT);

        /* image full: a clear error, the image still closes cleanly */
        assert_int_equal(ext4img_file_begin(img, "/a/huge", &file_attr, 100 << 20, &f), -ENOSPC);
        assert_non_null(strstr(imgerr_what(-ENOSPC), "/a/huge: image full: needs more than 16.0 MiB"));
        mode_t m;
        assert_int_equal(ext4img_lookup(img, "/a/huge", &m), 0);
        assert_int_equal(ext4img_lookup(img, "/a//f", &m), 1);
        assert_true(S_ISREG(m));
        assert_int_equal(ext4img_close(img), 0);
        assert_fsck_clean(path);
}

static void test_out_of_inodes(void **state)
{
        const char *path = tpath("inodes.img");
        struct ext4img_opts o = opts_for(16 << 20, 256);
        struct ext4img *img;
        struct ext4img_usage u;
        char name[64];
        int r = 0, made = 0;

        o.inode_count = 64;
        assert_int_equal(ext4img_create(path, &o, &img), 0);
        assert_int_equal(ext4img_usage(img, &u), 0);
        assert_int_equal(u.inodes_total, 64);
        while (r == 0 && made < 100) {
                snprintf(name, sizeof(name), "/f%d", made);
                r = ext4img_mknod(img, name, &(struct ext4img_attr){ S_IFIFO | 0644, 0, 0, TS }, 0);
                made += r == 0;
        }
        assert_int_equal(r, -ENOSPC);
        assert_int_equal(made, 64 - 10 - 1); /* inodes 1-10 are reserved, 11 is lost+found */
        assert_non_null(strstr(imgerr_what(-ENOSPC), "/f53: image full: needs more than the 64 inodes"));
        ext4img_abort(img);
}

static void test_fill_up(void **state)
{
        const char *path = tpath("full.img");
        struct ext4img_opts o = opts_for(16 << 20, 256);
        struct ext4img *img;
        uint8_t *data = pattern(1 << 20, 3);
        char name[64];
        int r = 0, i;

        assert_int_equal(ext4img_create(path, &o, &img), 0);
        for (i = 0; i < 100 && r == 0; i++) {
                struct ext4img_file *f;
                snprintf(name, sizeof(name), "/f%d", i);
                r = ext4img_file_begin(img, name, &file_attr, 1 << 20, &f);
                if (r == 0) {
                        assert_int_equal(ext4img_file_write(f, data, 1 << 20), 0);
                        assert_int_equal(ext4img_file_commit(f), 0);
                }
        }
        assert_int_equal(r, -ENOSPC);
        assert_non_null(strstr(imgerr_what(-ENOSPC), "image full"));
        assert_int_equal(ext4img_close(img), 0);
        assert_fsck_clean(path);
        free(data);
}

/* A file scattered over many holes: its extent tree needs an index block,
 * and every byte must land in the right block. */
static void test_fragmented_file(void **state)
{
        const char *path = tpath("frag.img");
        struct ext4img_opts o = opts_for(40 << 20, 256);
        struct ext4img *img;
        struct ext4img_file *open_files[600];
        struct ext4img_usage u;
        char name[600];
        uint8_t *data;
        size_t len;
        static char block[4096];

        o.inode_count = 2048;
        assert_int_equal(ext4img_create(path, &o, &img), 0);
        for (int i = 0; i < 600; i++) {
                snprintf(name, sizeof(name), "/h%d", i);
                assert_int_equal(ext4img_file_begin(img, name, &file_attr, 4096, &open_files[i]), 0);
        }
        for (int i = 0; i < 600; i++) {
                if (i % 2) {
                        ext4img_file_abort(open_files[i]); /* a one-block hole */
                        continue;
                }
                assert_int_equal(ext4img_file_write(open_files[i], block, sizeof(block)), 0);
                assert_int_equal(ext4img_file_commit(open_files[i]), 0);
        }
        assert_int_equal(ext4img_usage(img, &u), 0);
        /* fill everything after the holes, leaving 8 blocks */
        uint64_t fill = (u.blocks_total - u.blocks_used - 300 - 8) * u.block_size;
        data = pattern(fill, 5);
        put_file(img, "/fill", data, fill, &file_attr);
        free(data);
        data = pattern(40 * 4096 + 5, 6);
        put_file(img, "/scattered", data, 40 * 4096 + 5, &file_attr);
        assert_int_equal(ext4img_close(img), 0);
        assert_fsck_clean(path);

        char *out = debugfs(path, "stat /scattered");
        assert_contains(out, "(ETB0)");
        free(out);
        snprintf(name, sizeof(name), "dump /scattered %s", tpath("scattered.out"));
        free(debugfs(path, name));
        uint8_t *got = read_all(tpath("scattered.out"), &len);
        assert_int_equal(len, 40 * 4096 + 5);
        assert_memory_equal(got, data, len);
        free(got);
        free(data);
}

static void test_abort_leaves_nothing(void **state)
{
        const char *path = tpath("aborted.img");
        struct ext4img_opts o = opts_for(16 << 20, 256);
        struct ext4img *img;
        char *out;

        assert_int_equal(ext4img_create(path, &o, &img), 0);
        ext4img_abort(img);
        assert_int_equal(access(path, F_OK), -1);
        out = run(NULL, "ls -A '%s' | grep -c aborted", tmpdir);
        assert_int_equal(atoi(out), 0);
        free(out);
}

/* The real kernel reads what we wrote. */
static void test_kernel_mount(void **state)
{
        const char *img = tpath("mount.img");
        char mnt[300], *out;
        int st;
        struct stat sb;

        if (geteuid() != 0) {
                fprintf(stderr, "SKIP kernel mount: not root\n");
                return;
        }
        build_everything(img, 512);
        snprintf(mnt, sizeof(mnt), "%s/mnt", tmpdir);
        mkdir(mnt, 0755);
        out = run(&st, "mount -o loop,ro '%s' '%s' 2>&1", img, mnt);
        if (st != 0) {
                fprintf(stderr, "SKIP kernel mount: mount failed: %s", out);
                free(out);
                return;
        }
        free(out);
        char p[400];
        snprintf(p, sizeof(p), "%s/usr/bin/big", mnt);
        int ok = stat(p, &sb) == 0 && sb.st_size == BIG_LEN && (sb.st_mode & 07777) == 04755 &&
                 sb.st_nlink == 3 && sb.st_mtime == TS - 1;
        size_t len = 0;
        uint8_t *got = ok ? read_all(p, &len) : NULL, *want = pattern(BIG_LEN, 1);
        ok = ok && len == BIG_LEN && memcmp(got, want, BIG_LEN) == 0;
        free(got);
        free(want);
        snprintf(p, sizeof(p), "%s/usr/lib/deep/er/owned", mnt);
        ok = ok && stat(p, &sb) == 0 && sb.st_uid == 1000 && sb.st_gid == 70000;
        snprintf(p, sizeof(p), "%s/etc/bigdev", mnt);
        ok = ok && stat(p, &sb) == 0 && S_ISBLK(sb.st_mode) && sb.st_rdev == makedev(259, 300);
        char link[400];
        snprintf(p, sizeof(p), "%s/usr/bin/long", mnt);
        ssize_t n = readlink(p, link, sizeof(link));
        ok = ok && n == 290 && memcmp(link, "/long/path/long", 15) == 0;
        out = run(NULL, "getfattr -e hex -n security.ima '%s/usr/bin/signed' 2>&1", mnt);
        char hex[2 * sizeof(ima265) + 1];
        hex_encode(ima265, sizeof(ima265), hex);
        int xok = strstr(out, hex) != NULL;
        free(out);
        out = run(NULL, "getfattr -e hex -n security.ima '%s/etc/hello' 2>&1", mnt);
        hex_encode(ima81, sizeof(ima81), hex);
        xok = xok && strstr(out, hex) != NULL;
        free(out);
        out = run(NULL, "umount '%s' 2>&1", mnt);
        free(out);
        assert_true(ok);
        assert_true(xok);
}

/* A printed figure, not an assertion: the benchmark budget is ~0.7 s for
 * 28,516 files / 608 MB. */
static void test_speed(void **state)
{
        const char *path = tpath("speed.img");
        struct ext4img_opts o = opts_for(1024ULL << 20, 256);
        struct ext4img *img;
        uint8_t *data = pattern(20480, 9);
        char name[96];
        const int nfiles = 20000;
        struct rusage r0, r1;
        getrusage(RUSAGE_SELF, &r0);
        double t0 = now_seconds();

        assert_int_equal(ext4img_create(path, &o, &img), 0);
        for (int i = 0; i < nfiles; i++) {
                struct ext4img_file *f;
                if (i % 500 == 0) {
                        snprintf(name, sizeof(name), "/usr/share/pkg%03d", i / 500);
                        assert_int_equal(ext4img_mkdir_p(img, name), 0);
                }
                snprintf(name, sizeof(name), "/usr/share/pkg%03d/file%05d", i / 500, i);
                assert_int_equal(ext4img_file_begin(img, name, &file_attr, 20480, &f), 0);
                assert_int_equal(ext4img_file_write(f, data, 20480), 0);
                assert_int_equal(ext4img_file_set_xattr(f, "security.ima", ima81, sizeof(ima81)), 0);
                assert_int_equal(ext4img_file_commit(f), 0);
        }
        assert_int_equal(ext4img_close(img), 0);
        double t = now_seconds() - t0;
        getrusage(RUSAGE_SELF, &r1);
#define SECS(tv) ((tv).tv_sec + (tv).tv_usec / 1e6)
        fprintf(stderr, "ext4img speed: %d files of 20 KiB (%.0f MiB) in %.3f s wall "
                "(%.3f s user, %.3f s system): %.0f files/s, %.0f MiB/s\n",
                nfiles, nfiles * 20.0 / 1024, t, SECS(r1.ru_utime) - SECS(r0.ru_utime),
                SECS(r1.ru_stime) - SECS(r0.ru_stime), nfiles / t, nfiles * 20.0 / 1024 / t);
        assert_fsck_clean(path);
        free(data);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_everything_fsck_clean),
                cmocka_unit_test(test_file_content),
                cmocka_unit_test(test_times_from_attr),
                cmocka_unit_test(test_hardlink_one_inode),
                cmocka_unit_test(test_special_files),
                cmocka_unit_test(test_xattrs_read_back),
                cmocka_unit_test(test_xattrs_in_inode_512),
                cmocka_unit_test(test_deterministic),
                cmocka_unit_test(test_large_directory),
                cmocka_unit_test(test_directory_sizes),
                cmocka_unit_test(test_many_directories_in_turn),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_fill_up),
                cmocka_unit_test(test_out_of_inodes),
                cmocka_unit_test(test_fragmented_file),
                cmocka_unit_test(test_abort_leaves_nothing),
                cmocka_unit_test(test_kernel_mount),
                cmocka_unit_test(test_speed),
        };
        if (getenv("EXT4IMG_TEST")) /* e.g. EXT4IMG_TEST=test_speed for profiling */
                cmocka_set_test_filter(getenv("EXT4IMG_TEST"));
        if (getenv("EXT4IMG_SKIP"))
                cmocka_set_skip_filter(getenv("EXT4IMG_SKIP"));
        return cmocka_run_group_tests(tests, setup_tmpdir, remove_tmpdir);
}
