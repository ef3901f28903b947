/* blockwriter: gathered direct writes land where they were aimed, runs
 * longer than a buffer and jumps between runs included; what was not
 * written stays zero; bad alignment is refused; no direct I/O is told. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ext4/blockwriter.h"

#define MIB (1u << 20)
#define FILE_SIZE (24 * MIB)

static char path[4200];

static void fill(uint8_t *p, size_t len, uint64_t off)
{
        for (size_t i = 0; i < len; i += 8) {
                uint64_t v = (off + i) * 0x9e3779b97f4a7c15ull;
                memcpy(p + i, &v, 8);
        }
}

static int setup(void **state)
{
        const char *tmp = getenv("TEST_TMPDIR");
        int fd;

        snprintf(path, sizeof(path), "%s/blockwriter-%d.img", tmp ? tmp : "/tmp", (int)getpid());
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || ftruncate(fd, FILE_SIZE) < 0)
                return -1;
        close(fd);
        return 0;
}

static int teardown(void **state)
{
        unlink(path);
        return 0;
}

/* Runs: [0, 6 MiB) in pieces of odd block counts (crosses the 4 MiB
 * buffer), then 8 MiB + 4 KiB (a jump), then a lone block back at 7 MiB. */
static void test_runs_land_in_place(void **state)
{
        struct blockwriter *w;
        uint8_t *buf = malloc(8 * MIB), *back = malloc(FILE_SIZE);
        static const struct { uint64_t off; size_t len; } writes[] = {
                { 0, 3 * 4096 }, { 3 * 4096, 700 * 4096 }, { 703 * 4096, 833 * 4096 },
                { 8 * MIB + 4096, 4096 }, { 7 * MIB, 4096 }, { 12 * MIB, 5 * MIB },
        };
        int fd, r;

        r = blockwriter_open(path, &w);
        if (r == -EINVAL || r == -EOPNOTSUPP)
                skip();   /* the test folder has no direct I/O */
        assert_int_equal(r, 0);
        for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
                fill(buf, writes[i].len, writes[i].off);
                assert_int_equal(blockwriter_write(w, buf, writes[i].len, writes[i].off), 0);
                memset(buf, 0xee, writes[i].len);   /* data was copied: reuse is fine */
        }
        assert_int_equal(blockwriter_close(w), 0);

        fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, back, FILE_SIZE, 0), FILE_SIZE);
        close(fd);
        for (uint64_t off = 0; off < FILE_SIZE; off += 4096) {
                bool written = false;
                for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
                        if (off >= writes[i].off && off < writes[i].off + writes[i].len)
                                written = true;
                uint8_t want[4096];
                if (written)
                        fill(want, sizeof(want), off);
                else
                        memset(want, 0, sizeof(want));
                if (memcmp(back + off, want, sizeof(want)))
                        fail_msg("block at %llu: wrong content (%s)", (unsigned long long)off,
                                 written ? "written" : "never written");
        }
        free(buf);
        free(back);
}

static void test_unaligned_refused(void **state)
{
        struct blockwriter *w;
        uint8_t buf[8192] = { 0 };
        int r = blockwriter_open(path, &w);

        if (r == -EINVAL || r == -EOPNOTSUPP)
                skip();
        assert_int_equal(r, 0);
        assert_int_equal(blockwriter_write(w, buf, 4095, 0), -EINVAL);
        assert_int_equal(blockwriter_write(w, buf, 4096, 512), -EINVAL);
        assert_int_equal(blockwriter_close(w), 0);
        assert_int_equal(blockwriter_close(NULL), 0);
}

/* tmpfs has no O_DIRECT: the caller must hear so and fall back. */
static void test_no_direct_io_is_told(void **state)
{
        char p[] = "/dev/shm/imgtool-bw-XXXXXX";
        struct blockwriter *w = NULL;
        int fd = mkstemp(p), r;

        if (fd < 0)
                skip();
        close(fd);
        r = blockwriter_open(p, &w);
        unlink(p);
        if (r == 0) {
                blockwriter_close(w);
                skip();   /* a tmpfs with direct I/O (Linux >= 6.6 may allow it) */
        }
        assert_int_equal(r, -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runs_land_in_place),
                cmocka_unit_test(test_unaligned_refused),
                cmocka_unit_test(test_no_direct_io_is_told),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
