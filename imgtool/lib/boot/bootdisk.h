/* What Format=disk adds to compose: everything is checked and the UKI's
 * parts are prepared before the root filesystem is written (so a bad key or
 * a disk that cannot fit Size= fails with nothing written); after it, the
 * signed UKI and the GPT disk are made and renamed into place. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "boot/diskimg.h"
#include "layout/layout.h"

struct bootdisk;

/* Load and check the Secure Boot key, the stub and the kernel, gather the
 * initramfs's parts (root by PARTUUID: every error of the layout's
 * initramfs is found here), derive the GUIDs from the seed.  With a fixed
 * Size= the initramfs is packed, the ESP sized and the plan made here, and
 * *root_size is the root filesystem's size; with Size=auto *root_size is 0
 * and the ESP is sized by bootdisk_size.  DEFER (two-phase
 * signing, ima/sigreq.h): the UKI's signature is left to make, recorded
 * there; NULL: [SecureBoot] Key= signs. */
struct sigreq;
int bootdisk_prepare(const struct layout *l, struct sigreq *defer, struct bootdisk **out, uint64_t *root_size,
                     char ***warnings);

/* Size=auto: the initramfs packed (cpio, gzip -9) on a thread of its own
 * from bootdisk_start, so that it overlaps what compose prepares next;
 * bootdisk_size waits for it and sizes the ESP from the UKI's size (the ESP
 * comes before the root filesystem, so this is before the first byte).  No
 * fork may happen in between (compose calls bootdisk_size before its rpm
 * database's fork); bootdisk_free waits for the thread too. */
void bootdisk_start(struct bootdisk *b);
int bootdisk_size(struct bootdisk *b);

/* Where the root filesystem goes in the disk file (ext4img_opts.offset);
 * after bootdisk_size. */
uint64_t bootdisk_root_offset(const struct bootdisk *b);

/* What bootdisk_finish made (compose's report carries it). */
struct bootdisk_made {
        uint64_t disk_size, uki_size;   /* the whole disk, the UKI on its ESP */
        bool uki_signed;
        char root_partuuid[37];
};

/* disk holds the root filesystem at bootdisk_root_offset(): add the GPT,
 * build the UKI (os-release from the root), write the ESP, rename disk to
 * output. */
int bootdisk_finish(struct bootdisk *b, const char *disk, const char *output, int64_t epoch,
                    struct bootdisk_made *made);

void bootdisk_free(struct bootdisk *b);

/* The kernel command line the UKI carries for this layout; *out malloc'ed. */
int bootdisk_cmdline(const struct layout *l, const char *root_partuuid, char **out);
