#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "rpm/fcaps.h"

/* vfs_cap_data rev 2, little endian: magic|flags, perm lo, inh lo, perm hi, inh hi. */
static void test_net_raw_ep(void **state)
{
        uint8_t v[FCAPS_XATTR_SIZE];
        const uint8_t want[FCAPS_XATTR_SIZE] = {
                0x01, 0x00, 0x00, 0x02,      /* revision 2, effective */
                0x00, 0x20, 0x00, 0x00,      /* CAP_NET_RAW = 13 */
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        };
        assert_int_equal(fcaps_from_text("cap_net_raw=ep", v), 0);
        assert_memory_equal(v, want, sizeof(want));
}

static void test_high_caps_and_inheritable(void **state)
{
        uint8_t v[FCAPS_XATTR_SIZE];
        /* CAP_SYSLOG = 34 lands in the high word; "=i" sets no effective bit. */
        assert_int_equal(fcaps_from_text("cap_syslog=i", v), 0);
        assert_int_equal(v[0], 0x00);
        assert_int_equal(v[3], 0x02);
        assert_int_equal(v[12] | v[13] | v[14] | v[15], 0);    /* permitted hi */
        assert_int_equal(v[16], 1u << (34 - 32));               /* inheritable hi */
}

static void test_empty_set_and_garbage(void **state)
{
        uint8_t v[FCAPS_XATTR_SIZE];
        const uint8_t empty[FCAPS_XATTR_SIZE] = { 0x00, 0x00, 0x00, 0x02 };
        assert_int_equal(fcaps_from_text("=", v), 0);          /* rpm writes an empty set */
        assert_memory_equal(v, empty, sizeof(empty));
        assert_int_equal(fcaps_from_text("cap_no_such=ep", v), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_net_raw_ep),
                cmocka_unit_test(test_high_caps_and_inheritable),
                cmocka_unit_test(test_empty_set_and_garbage),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
