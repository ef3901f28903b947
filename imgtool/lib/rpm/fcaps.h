/* File capabilities: rpm's text form ("cap_net_raw=ep") to the
 * security.capability value the kernel reads (struct vfs_cap_data, rev 2). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define FCAPS_XATTR_SIZE 20

/* Returns 0 and fills out (FCAPS_XATTR_SIZE bytes), or -EINVAL for text
 * libcap cannot parse.  "=" (an empty set) gives a valid, empty value, as
 * rpm's cap_set_file() writes it. */
int fcaps_from_text(const char *text, uint8_t out[FCAPS_XATTR_SIZE]);
