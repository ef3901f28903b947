/* Format=disk: one GPT disk image holding an EFI system partition (FAT32,
 * with the UKI at \EFI\BOOT\BOOTX64.EFI) and the root partition (the ext4
 * image compose makes), written into a regular file without root, loop
 * devices or mounts.
 *
 * GPT comes from libfdisk (util-linux) and FAT from mkfs.fat (dosfstools)
 * and mtools, run on the disk file at the partition's offset: well-kept
 * implementations of formats firmware is picky about.  Everything that
 * would be random or the time is fixed: disk and partition GUIDs come from
 * the layout's Seed=, the FAT volume id too, and FAT time stamps from
 * SourceDateEpoch (SOURCE_DATE_EPOCH for the tools).
 *
 * Layout: GPT (1 MiB), the ESP from 1 MiB, the root partition right after
 * it, 1 MiB at the end for the backup GPT; everything aligned to 1 MiB. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ext4/gpt.h"

#define DISK_ALIGN (1ull << 20)
#define DISK_ESP_MIN (64ull << 20)

struct disk_plan {
        uint64_t size;                    /* the whole disk */
        uint64_t esp_offset, esp_size;
        uint64_t root_offset, root_size;
};

struct disk_ids {
        char disk_guid[37], esp_guid[37], root_guid[37];  /* lower-case UUID text */
        uint32_t esp_volume_id;
};

/* The ESP's size for a UKI of uki_size bytes: room for it twice (an update
 * beside the running one), at least DISK_ESP_MIN, in whole MiB. */
uint64_t disk_esp_size(uint64_t uki_size);
/* A plan for a root filesystem of root_size bytes (a multiple of 4 KiB). */
void disk_plan_for_root(uint64_t esp_size, uint64_t root_size, struct disk_plan *p);
/* A plan for a disk of exactly disk_size bytes: the root partition gets what
 * the GPT and the ESP leave.  -ENOSPC with a message when that is under
 * min_root bytes. */
int disk_plan_for_size(uint64_t disk_size, uint64_t esp_size, uint64_t min_root, struct disk_plan *p);

/* Make path (a file holding the root filesystem at p->root_offset, written
 * there by ext4img with opts.offset) a disk: extend it to p->size and write
 * the GPT. */
int disk_write_gpt(const char *path, const struct disk_plan *p, const struct disk_ids *ids);
/* Then the ESP: FAT32 at p->esp_offset with uki_path as \EFI\BOOT\BOOTX64.EFI. */
int disk_write_esp(const char *path, const struct disk_plan *p, const struct disk_ids *ids,
                   const char *uki_path, int64_t epoch);

/* Read a file from the FAT filesystem of the ESP of a GPT disk image
 * (mtools), e.g. "::/EFI/BOOT/BOOTX64.EFI"; *data is malloc'ed. */
int disk_read_esp_file(const char *disk, const char *fat_path, uint8_t **data, size_t *len);
