/* fs-verity metadata (verity.c, ext4verity.c): digests against
 * fsverity-utils' `fsverity digest`, tree sizes against libfsverity, and
 * the comparison verify uses to name a changed block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext4/ext4verity.h"
#include "base/util.h"
#include "ima/verity.h"

static void digest_hex(const struct verity_meta *m, char out[65])
{
        hex_encode(m->digest, 32, out);
}

static void test_digests_match_fsverity_utils(void **state)
{
        struct verity_params p = { .salt_len = 0 };
        struct verity_meta m;
        char hex[65];
        uint8_t *a = malloc(12288);

        /* `fsverity digest --compact` of the same bytes */
        assert_int_equal(verity_compute_buf(&p, "hi\n", 3, &m), 0);
        digest_hex(&m, hex);
        assert_string_equal(hex, "4cc9059d03fc2eef6b7c40268ccc0fbd1da69621708a1561318dddf1539a128f");
        assert_int_equal(m.tree_size, 0);
        verity_meta_free(&m);
        assert_int_equal(verity_compute_buf(&p, "", 0, &m), 0);
        digest_hex(&m, hex);
        assert_string_equal(hex, "3d248ca542a24fc62d1c43b916eae5016878e2533c88238480b26128a1f1af95");
        verity_meta_free(&m);
        memset(a, 'a', 12288);
        assert_int_equal(verity_compute_buf(&p, a, 12288, &m), 0);
        digest_hex(&m, hex);
        assert_string_equal(hex, "5dbc3cd72cddd8ec73a28e2ba043883d749f6d414335751753ebab5615c66465");
        assert_int_equal(m.tree_size, 4096);
        verity_meta_free(&m);
        free(a);
}

static void test_tree_size_matches_libfsverity(void **state)
{
        static const uint64_t sizes[] = { 0, 1, 4096, 4097, 128 * 4096, 128 * 4096 + 1,
                                          128 * 128 * 4096 + 1, 3000000 };
        struct verity_params p = { .salt_len = 0 };
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                uint8_t *buf = calloc(1, sizes[i] ? sizes[i] : 1);
                struct verity_meta m;
                assert_int_equal(verity_compute_buf(&p, buf, sizes[i], &m), 0);
                assert_int_equal(ext4verity_tree_size(sizes[i]), m.tree_size);
                verity_meta_free(&m);
                free(buf);
        }
        assert_int_equal(ext4verity_metadata_pos(0), 0);
        assert_int_equal(ext4verity_metadata_pos(1), 65536);
        assert_int_equal(ext4verity_metadata_pos(65536), 65536);
        /* one 4 KiB block holds the descriptor, a PKCS#7 and the size */
        assert_int_equal(ext4verity_blocks(100, 600), 1);
        assert_int_equal(ext4verity_blocks(128 * 4096 + 1, 0), 2 + 1 + 1);
}

static void test_check_names_changed_block(void **state)
{
        struct verity_params p = { .salt_len = 0 };
        struct verity_meta stored, now;
        uint64_t block = 99;
        char msg[160];
        size_t size = 5 * 4096 + 10;
        uint8_t *a = malloc(size);

        memset(a, 7, size);
        assert_int_equal(verity_compute_buf(&p, a, size, &stored), 0);
        assert_int_equal(verity_compute_buf(&p, a, size, &now), 0);
        assert_int_equal(verity_check(stored.desc, stored.tree, stored.tree_size, &now, size, &block, msg, sizeof(msg)),
                         VERITY_OK);
        verity_meta_free(&now);
        a[3 * 4096 + 5] ^= 1;
        assert_int_equal(verity_compute_buf(&p, a, size, &now), 0);
        assert_int_equal(verity_check(stored.desc, stored.tree, stored.tree_size, &now, size, &block, msg, sizeof(msg)),
                         VERITY_BAD_BLOCK);
        assert_int_equal(block, 3);
        assert_string_equal(msg, "data block 3 (offset 12288) does not match its fs-verity hash");
        /* the same content, but a damaged stored tree */
        verity_meta_free(&now);
        a[3 * 4096 + 5] ^= 1;
        assert_int_equal(verity_compute_buf(&p, a, size, &now), 0);
        stored.desc[20] ^= 1;   /* root hash */
        assert_int_equal(verity_check(stored.desc, stored.tree, stored.tree_size, &now, size, &block, msg, sizeof(msg)),
                         VERITY_BAD_TREE);
        assert_int_equal(verity_check(stored.desc, stored.tree, stored.tree_size, &now, size + 1, &block, msg, sizeof(msg)),
                         VERITY_BAD_SIZE);
        verity_meta_free(&now);
        verity_meta_free(&stored);
        free(a);
}

static void test_salt_and_formats(void **state)
{
        struct verity_params p;
        uint8_t d[32] = { 1, 2, 3 }, fmt[VERITY_FORMATTED_SIZE], id[32];

        assert_int_equal(verity_params_parse_salt(&p, "00ff10"), 0);
        assert_int_equal(p.salt_len, 3);
        assert_int_equal(p.salt[1], 0xff);
        assert_int_equal(verity_params_parse_salt(&p, ""), 0);
        assert_int_equal(p.salt_len, 0);
        assert_int_equal(verity_params_parse_salt(&p, "abc"), -EINVAL);
        assert_int_equal(verity_params_parse_salt(&p, "zz"), -EINVAL);
        verity_formatted_digest(d, fmt);
        assert_memory_equal(fmt, "FSVerity\x01\x00\x20\x00\x01\x02\x03", 15);
        assert_int_equal(verity_ima_file_id_hash(d, id), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_digests_match_fsverity_utils),
                cmocka_unit_test(test_tree_size_matches_libfsverity),
                cmocka_unit_test(test_check_names_changed_block),
                cmocka_unit_test(test_salt_and_formats),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
