#include "rpm/fcaps.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/capability.h>

#ifndef VFS_CAP_REVISION_2
#define VFS_CAP_REVISION_2 0x02000000
#define VFS_CAP_FLAGS_EFFECTIVE 0x000001
#endif

static void put_le32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 24);
}

int fcaps_from_text(const char *text, uint8_t out[FCAPS_XATTR_SIZE])
{
        uint32_t perm[2] = { 0 }, inh[2] = { 0 };
        bool effective = false;
        cap_t c = cap_from_text(text);

        if (!c)
                return -EINVAL;
        for (cap_value_t v = 0; v < 64; v++) {
                cap_flag_value_t p = CAP_CLEAR, i = CAP_CLEAR, e = CAP_CLEAR;
                if (cap_get_flag(c, v, CAP_PERMITTED, &p) < 0)
                        break;   /* past the last capability libcap knows */
                cap_get_flag(c, v, CAP_INHERITABLE, &i);
                cap_get_flag(c, v, CAP_EFFECTIVE, &e);
                if (p == CAP_SET)
                        perm[v / 32] |= 1u << (v % 32);
                if (i == CAP_SET)
                        inh[v / 32] |= 1u << (v % 32);
                if (e == CAP_SET)
                        effective = true;
        }
        cap_free(c);
        /* The kernel has a single effective bit for file capabilities. */
        put_le32(out, VFS_CAP_REVISION_2 | (effective ? VFS_CAP_FLAGS_EFFECTIVE : 0));
        put_le32(out + 4, perm[0]);
        put_le32(out + 8, inh[0]);
        put_le32(out + 12, perm[1]);
        put_le32(out + 16, inh[1]);
        return 0;
}
