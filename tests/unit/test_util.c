#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "base/parallel.h"
#include "base/util.h"

static void test_parse_size(void **state)
{
        uint64_t v;
        assert_int_equal(parse_size("512M", &v), 0);
        assert_int_equal(v, 512ULL << 20);
        assert_int_equal(parse_size("1.5G", &v), 0);
        assert_int_equal(v, 3ULL << 29);
        assert_int_equal(parse_size("4096", &v), 0);
        assert_int_equal(v, 4096);
        assert_int_equal(parse_size("12MiB", &v), 0);
        assert_int_equal(v, 12ULL << 20);
        assert_int_equal(parse_size("12X", &v), -EINVAL);
        assert_int_equal(parse_size("", &v), -EINVAL);
        assert_int_equal(parse_size("-1M", &v), -EINVAL);
}

static void test_hex_roundtrip(void **state)
{
        uint8_t *out;
        size_t n;
        char back[9];
        assert_int_equal(hex_decode("0302A5f0", &out, &n), 4);
        assert_int_equal(n, 4);
        assert_int_equal(out[0], 0x03);
        assert_int_equal(out[3], 0xf0);
        hex_encode(out, n, back);
        assert_string_equal(back, "0302a5f0");
        free(out);
        assert_int_equal(hex_decode("030", &out, &n), -EINVAL);
        assert_int_equal(hex_decode("zz", &out, &n), -EINVAL);
}

static void test_error_prefix(void **state)
{
        imgerr_clear();
        assert_int_equal(imgerr(-EINVAL, "bad digest"), -EINVAL);
        assert_int_equal(imgerr_prefix(-EINVAL, "%s: ", "pkg.rpm"), -EINVAL);
        assert_string_equal(imgerr_what(-EINVAL), "pkg.rpm: bad digest");
}

/* A message belongs to the code it was recorded with: another error (a bare
 * return -EIO, a code changed on the way up) gets strerror's text, and
 * context added to it goes before that text, not before the old message. */
static void test_error_belongs(void **state)
{
        imgerr_clear();
        imgerr(-ENOENT, "a.key: gone");
        assert_string_equal(imgerr_what(-ENOENT), "a.key: gone");
        assert_string_equal(imgerr_what(-EIO), strerror(EIO));
        assert_int_equal(imgerr_prefix(-EIO, "%s: ", "b.img"), -EIO);
        assert_string_equal(imgerr_what(-EIO), "b.img: Input/output error");
        assert_string_equal(imgerr_what(-ENOENT), strerror(ENOENT));
        imgerr_clear();
        assert_string_equal(imgerr_what(-EIO), strerror(EIO));
        assert_int_equal(imgerr_prefix(-EINVAL, "c: "), -EINVAL);
        assert_string_equal(imgerr_what(-EINVAL), "c: Invalid argument");
}

/* escape_text: one line of valid UTF-8 whatever the input (issue 18 item 6). */
static void check_esc(const char *in, int how, const char *want)
{
        char *out = escape_text(in, how);
        assert_non_null(out);
        assert_string_equal(out, want);
        assert_true(utf8_valid(out, strlen(out)));
        free(out);
}

static void test_escape_text(void **state)
{
        /* a forged verdict line: newline, ESC, a non-UTF-8 byte */
        check_esc("/x\n/ev: ATTESTED\033[8m\xff", ESCAPE_LINE, "/x\\012/ev: ATTESTED\\033[8m\\377");
        check_esc("a b\\c", ESCAPE_FIELD, "a\\040b\\134c");
        check_esc("a b\\c", ESCAPE_LINE, "a b\\c");
        check_esc("caf\xc3\xa9 \xe2\x82\xac", ESCAPE_LINE, "caf\xc3\xa9 \xe2\x82\xac");    /* UTF-8 kept */
        check_esc("\xc2\x9b" "31m", ESCAPE_LINE, "\\302\\23331m");                         /* C1 CSI */
        check_esc("\xe2\x80\xae" "txt", ESCAPE_LINE, "\\342\\200\\256txt");                /* RLO */
        check_esc("\xc0\xaf", ESCAPE_LINE, "\\300\\257");                                  /* overlong '/' */
        check_esc("\xed\xa0\x80", ESCAPE_LINE, "\\355\\240\\200");                         /* surrogate */
        check_esc("\xf4\x90\x80\x80", ESCAPE_LINE, "\\364\\220\\200\\200");                /* > U+10FFFF */
        check_esc("\xe2\x82", ESCAPE_LINE, "\\342\\202");                                  /* truncated */
        check_esc("\xf0\x9f\x98\x80", ESCAPE_LINE, "\xf0\x9f\x98\x80");                    /* emoji kept */
        assert_false(utf8_valid("\xff", 1));
        assert_true(utf8_valid("", 0));
}

/* Items 50 and 120 of 200 fail; 50 sleeps first so that, on more than one
 * thread, 120 usually fails earlier in time: the lowest index must still
 * be the one reported, with its own message, and every item below it must
 * have run exactly once. */
struct items {
        atomic_int ran[200];
};

static int two_fail(size_t i, void *ctx)
{
        struct items *it = ctx;

        atomic_fetch_add(&it->ran[i], 1);
        if (i == 50) {
                usleep(2000);
                return imgerr(-EIO, "item %zu: bad", i);
        }
        if (i == 120)
                return imgerr(-EPERM, "item %zu: worse", i);
        return 0;
}

static int all_fine(size_t i, void *ctx)
{
        struct items *it = ctx;

        atomic_fetch_add(&it->ran[i], 1);
        return 0;
}

static void test_parallel_for_lowest_error(void **state)
{
        for (size_t threads = 1; threads <= 8; threads++)
                for (int round = 0; round < 5; round++) {
                        struct items it = {};

                        imgerr_clear();
                        assert_int_equal(parallel_for(200, threads, two_fail, &it), -EIO);
                        assert_string_equal(imgerr_what(-EIO), "item 50: bad");
                        for (size_t i = 0; i <= 50; i++)
                                assert_int_equal(atomic_load(&it.ran[i]), 1);
                        for (size_t i = 51; i < 200; i++)
                                assert_true(atomic_load(&it.ran[i]) <= 1);
                }
}

static void test_parallel_for_every_item(void **state)
{
        struct items it = {};

        assert_int_equal(parallel_for(200, 4, all_fine, &it), 0);
        for (size_t i = 0; i < 200; i++)
                assert_int_equal(atomic_load(&it.ran[i]), 1);
        assert_int_equal(parallel_for(0, 4, all_fine, &it), 0);
        assert_int_equal(parallel_for(1, 0, all_fine, &it), 0);
        assert_int_equal(atomic_load(&it.ran[0]), 2);
        assert_true(parallel_cpus(3) >= 1 && parallel_cpus(3) <= 3);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_size),
                cmocka_unit_test(test_escape_text),
                cmocka_unit_test(test_hex_roundtrip),
                cmocka_unit_test(test_error_prefix),
                cmocka_unit_test(test_error_belongs),
                cmocka_unit_test(test_parallel_for_lowest_error),
                cmocka_unit_test(test_parallel_for_every_item),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
