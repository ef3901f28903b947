/* Where a filesystem sits in a file: a GPT disk image's partitions, read
 * (libfdisk) so that the ext4 reader opens the root partition of a
 * Format=disk image as it opens a bare filesystem image.  Writing GPT is
 * boot/diskimg's. */
#pragma once
#include <stdint.h>

/* The Discoverable Partitions Specification's root type for x86-64 and the
 * EFI system partition type. */
#define GPT_TYPE_ROOT_X86_64 "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
#define GPT_TYPE_ESP "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"

/* Find the first partition of type type_guid in a GPT disk image.  Returns
 * 1 and fills offset/size (bytes) when found, 0 when path has no GPT (a bare
 * filesystem image), -ENOENT with a message when it has a GPT without such a
 * partition, other negative errno on I/O errors. */
int gpt_find_partition(const char *path, const char *type_guid, uint64_t *offset, uint64_t *size);
