/* Writing an ext4 image with libext2fs: no mount, no root.
 *
 * Paths are absolute inside the image ("/usr/bin/x").  Parents must exist
 * unless created with ext4img_mkdir_p.  Everything is deterministic: the same
 * calls in the same order give the same bytes. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ext4img;

struct ext4img_opts {
        uint64_t size;            /* bytes; a multiple of the block size */
        unsigned inode_size;      /* 256, 512, 1024 ... */
        uint64_t inode_count;     /* 0: derive from size */
        const char *label;        /* volume label, may be NULL */
        uint8_t uuid[16];
        uint8_t hash_seed[16];
        int64_t timestamp;        /* every time stamp in the fs (mkfs, dirs made here);
                                     0 works, except s_wtime then reads 1 (libext2fs
                                     takes 0 as "use the clock") */
        unsigned reserved_percent;/* root-reserved blocks, default 0 for images */
        bool linear_dirs;         /* no htree index for big directories (both are valid ext4) */
        uint64_t offset;          /* write the filesystem at this byte offset of the file
                                     (a GPT disk's root partition; 1 MiB aligned), the
                                     file then being offset + size bytes */
};

struct ext4img_attr {
        mode_t mode;              /* type bits + permissions incl. setuid/setgid/sticky */
        uid_t uid;
        gid_t gid;
        int64_t mtime;            /* atime, ctime, mtime, crtime all set to it */
};

/* Create a new filesystem in the file at path (created or truncated),
 * written in place: the caller picks the name (compose writes through
 * output.h's temporary and renames it with its other outputs).  A failed
 * or aborted build removes the file.
 * Block size 4096; features: has_journal (images of 8 MiB and up), extents,
 * metadata_csum, 64bit, flex_bg, dir_index, ext_attr, filetype,
 * sparse_super, large_file, huge_file, dir_nlink, extra_isize.
 * inode_count 0 means one inode per 16 KiB (mke2fs' default ratio): images
 * of many small files should pass a count.  Running out of blocks or inodes
 * gives -ENOSPC and "PATH: image full: needs more than ..." */
int ext4img_create(const char *path, const struct ext4img_opts *opts, struct ext4img **out);
/* Flush everything, build htree indexes for directories bigger than one
 * block (unless opts.linear_dirs) and close.  After this
 * the image is complete.  Frees img even on error. */
int ext4img_close(struct ext4img *img);
/* Close without caring about the result (error paths). */
void ext4img_abort(struct ext4img *img);

/* Does path exist?  Returns 1 and its mode in *mode, 0 if not, <0 on error. */
int ext4img_lookup(struct ext4img *img, const char *path, mode_t *mode);

int ext4img_mkdir(struct ext4img *img, const char *path, const struct ext4img_attr *a);
/* Create missing parents of path (and path itself) as 0755 root dirs with
 * the filesystem timestamp. */
int ext4img_mkdir_p(struct ext4img *img, const char *path);
int ext4img_symlink(struct ext4img *img, const char *path, const char *target,
                    const struct ext4img_attr *a);
/* Character/block devices (rdev), fifos and sockets. */
int ext4img_mknod(struct ext4img *img, const char *path, const struct ext4img_attr *a, dev_t rdev);
/* A new name for an existing regular file (one inode, nlink++). */
int ext4img_hardlink(struct ext4img *img, const char *path, const char *existing);
/* Set (replace) an extended attribute on an existing path.  name is the full
 * name, e.g. "security.ima", "security.capability". */
int ext4img_set_xattr(struct ext4img *img, const char *path, const char *name,
                      const void *value, size_t len);

/* Regular files are streamed: begin, write the bytes, then commit (links the
 * inode into its directory) or abort.  size is the final size (known from
 * the header) so blocks can be allocated contiguously up front. */
struct ext4img_file;
int ext4img_file_begin(struct ext4img *img, const char *path, const struct ext4img_attr *a,
                       uint64_t size, struct ext4img_file **out);
int ext4img_file_write(struct ext4img_file *f, const void *buf, size_t len);
int ext4img_file_set_xattr(struct ext4img_file *f, const char *name, const void *value, size_t len);
int ext4img_file_commit(struct ext4img_file *f);
void ext4img_file_abort(struct ext4img_file *f);

/* Bytes stored past the end of a regular file, its size staying as
 * announced: fs-verity's Merkle tree and descriptor (ext4verity.h).  off
 * and len are multiples of the block size, off lies past the last data
 * block; call once all the data is written, before commit. */
int ext4img_file_write_past_eof(struct ext4img_file *f, uint64_t off, const void *buf, size_t len);
/* Inode flags (EXT4_*_FL from ext2_fs.h) for the file, written at commit. */
void ext4img_file_add_flags(struct ext4img_file *f, uint32_t flags);
/* Turn on a read-only-compatible feature of the filesystem
 * (EXT4_FEATURE_RO_COMPAT_*, e.g. VERITY). */
void ext4img_add_ro_compat(struct ext4img *img, uint32_t feature);

/* Usage figures for reports and sizing. */
struct ext4img_usage {
        uint64_t blocks_total, blocks_used, block_size;
        uint64_t inodes_total, inodes_used;
};
int ext4img_usage(struct ext4img *img, struct ext4img_usage *u);

/* Change mode bits, owner and time stamps of an existing path (e.g. a
 * directory first made by ext4img_mkdir_p, then met in a package).  The file
 * type bits of a->mode must be 0 or match. */
int ext4img_set_attr(struct ext4img *img, const char *path, const struct ext4img_attr *a);
