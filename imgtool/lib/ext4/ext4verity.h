/* fs-verity metadata where ext4 keeps it (fs/ext4/verity.c), written while
 * composing and read back by verify.
 *
 * Past the end of the file, in blocks that do not count in i_size:
 *   - the Merkle tree from the first 64 KiB boundary at or after i_size
 *     (levels from the root down, as FS_IOC_READ_VERITY_METADATA gives it);
 *   - from the next block boundary, the descriptor followed by its builtin
 *     signature, if any;
 *   - the descriptor's size (le32) in the last 4 bytes of the file's last
 *     allocated block, which ext4 finds through the last extent.
 * The inode gets EXT4_VERITY_FL and the superblock the verity feature. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ima/verity.h"

struct ext4img;
struct ext4img_file;
struct ext4walk;
struct ext4walk_entry;

#define EXT4VERITY_ALIGN 65536u

uint64_t ext4verity_metadata_pos(uint64_t size);
/* Blocks of metadata a file of this size gets (tree + descriptor block(s)). */
uint64_t ext4verity_blocks(uint64_t size, size_t sig_len);

/* Once all of f's data is written, before ext4img_file_commit: store m
 * (and the PKCS#7 sig, NULL for none) past the end and flag the inode. */
int ext4verity_write(struct ext4img_file *f, uint64_t size, const struct verity_meta *m,
                     const uint8_t *sig, size_t sig_len);
/* Once per image with verity files. */
void ext4verity_enable_feature(struct ext4img *img);

/* Reading back.  1 when the file has EXT4_VERITY_FL (then *desc (malloc'ed,
 * *desc_len bytes: descriptor + signature) and *tree (malloc'ed,
 * *tree_size bytes, as the descriptor's parameters say it must be) are
 * filled), 0 when it has not, <0 when its metadata is damaged (message
 * names the file and what is wrong). */
int ext4verity_read(struct ext4walk *w, const struct ext4walk_entry *e, uint8_t **desc,
                    size_t *desc_len, uint8_t **tree, uint64_t *tree_size);
/* Merkle tree size for a file of data_size bytes (4 KiB blocks, SHA-256). */
uint64_t ext4verity_tree_size(uint64_t data_size);
