/* Rewriting one extended attribute of files in an existing ext4 image, in
 * place: two-phase signing's apply-signatures puts each file's real
 * security.ima value where compose left a placeholder of the largest
 * length.
 *
 * The value is set through the same libext2fs calls the writer uses
 * (ext2fs_xattrs_open/read, ext2fs_xattr_set, ext2fs_xattrs_close): the
 * inode's whole in-inode xattr area is laid out again from the attribute
 * list and its checksum recomputed, so the inode ends up byte for byte as if
 * the value had been written at compose.  Only attributes stored inside the
 * inode are rewritten: an inode with an xattr block is refused (rewriting a
 * block could move it, and the bitmaps with it).  Nothing but those inodes
 * is written: no superblock, bitmap or journal change. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct ext4stamp;
struct struct_ext2_filsys;

/* The one way an xattr is set, for the writer (ext4img.c) and for apply:
 * read the inode's attribute list, set NAME, write the list back.  Returns
 * 0 or libext2fs's error code, with *step naming the step that failed
 * ("opening xattrs", NAME, "writing xattrs"). */
long ext4_xattr_set_ino(struct struct_ext2_filsys *fs, uint32_t ino, const char *name, const void *value,
                        size_t len, const char **step);

/* Open PATH for writing: a bare ext4 image, or a GPT disk image's root
 * partition (the Discoverable Partitions type, as ext4walk finds it). */
int ext4stamp_open(const char *path, struct ext4stamp **out);
/* 0 if inode INO keeps all its xattrs inside the inode, else -EOPNOTSUPP
 * with a message naming WHAT. */
int ext4stamp_check(struct ext4stamp *s, uint32_t ino, const char *what);
/* Replace attribute NAME of inode INO by VALUE (len bytes). */
int ext4stamp_set(struct ext4stamp *s, uint32_t ino, const char *name, const void *value, size_t len,
                  const char *what);
/* Flush the inodes and close; frees s even on error. */
int ext4stamp_close(struct ext4stamp *s);
