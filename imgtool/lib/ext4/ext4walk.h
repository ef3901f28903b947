/* Reading an ext4 image back, read-only, through libext2fs: one walker for
 * every reader (verify, manifest, ls, extract).
 *
 * The image is opened without write access (never EXT2_FLAG_RW) and checked
 * up front: an ext4 superblock, sane geometry, a file at least as large as
 * the filesystem.  Paths are absolute inside the image ("/usr/bin/x").
 *
 * A walk visits every path below a start directory in bytewise order of the
 * whole path (strcmp, as `LC_ALL=C sort`), so two images give their entries
 * in the same order and outputs diff cleanly.  A parent always comes before
 * its children. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ext4walk;

/* One path of the image.  Pointers are valid during the callback only. */
struct ext4walk_entry {
        const char *path;         /* "/" for the root */
        const char *name;         /* last component ("/" for the root) */
        uint32_t ino;
        mode_t mode;              /* type bits + permission bits */
        uid_t uid;
        gid_t gid;
        uint64_t size;
        int64_t mtime;
        uint32_t mtime_nsec;
        int64_t ctime;            /* the last change of the inode (what ran when: scriptlets.h) */
        uint32_t ctime_nsec;
        unsigned nlink;
        unsigned rdev_major, rdev_minor;    /* S_ISCHR / S_ISBLK */
        const char *target;       /* symlink target, else NULL */
        const uint8_t *ima;       /* security.ima value, NULL if absent */
        size_t ima_len;
        const uint8_t *caps;      /* security.capability, NULL if absent */
        size_t caps_len;
        const char *selinux;      /* security.selinux (as stored, usually NUL-terminated), NULL if absent */
        size_t selinux_len;
        /* A regular file seen before at another path of this walk (same
         * inode): the path where it was first seen, else NULL. */
        const char *link_of;
};

/* Open an image read-only.  Errors (with a message naming the file):
 * -ENOENT/-EACCES..., -EINVAL "not an ext4 image", -EBADMSG corrupted
 * superblock or group descriptors, -ENODATA truncated image. */
int ext4walk_open(const char *path, struct ext4walk **out);
void ext4walk_close(struct ext4walk *w);
const char *ext4walk_image(const struct ext4walk *w);

/* Called once per entry; a non-zero return stops the walk and is returned
 * by ext4walk_walk. */
typedef int (*ext4walk_fn)(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata);

enum {
        EXT4WALK_RECURSIVE = 1 << 0, /* else only start and its direct children */
        EXT4WALK_NO_START  = 1 << 1, /* do not report start itself */
};

/* Walk start (a directory or any other path) and what is below it. */
int ext4walk_walk(struct ext4walk *w, const char *start, unsigned flags,
                  ext4walk_fn fn, void *userdata);

/* Describe one path (symlinks are not followed).  -ENOENT if it does not
 * exist (message set).  Pointers in *e stay valid until the next call of
 * ext4walk_stat or ext4walk_walk. */
int ext4walk_stat(struct ext4walk *w, const char *path, struct ext4walk_entry *e);

/* Stream a regular file's content in large chunks (up to a few MiB each);
 * holes and unwritten extents read as zeros.  A non-zero return of fn stops
 * the read and is returned. */
typedef int (*ext4walk_data_fn)(const void *buf, size_t len, void *userdata);
int ext4walk_read(struct ext4walk *w, const struct ext4walk_entry *e,
                  ext4walk_data_fn fn, void *userdata);

/* A small file of the image read whole (passwd, os-release, rpm macros):
 * *data malloc'ed with a NUL after its len bytes.  -ENOENT if path does not
 * exist, -EINVAL if it is not a regular file, -EFBIG over max bytes (each
 * with a message naming path). */
int ext4walk_read_file(struct ext4walk *w, const char *path, size_t max, char **data, size_t *len);

/* Where a regular file's content lies in the image: runs of bytes at an
 * offset of the image file, or zeros (holes, unwritten extents), covering
 * exactly e->size bytes in order.  -EOPNOTSUPP (no message) for content that
 * is not extent-mapped (inline data, old block maps): use ext4walk_read. */
struct ext4walk_run {
        uint64_t offset;          /* byte offset in the image */
        uint64_t len;
        bool zero;
};
int ext4walk_runs(struct ext4walk *w, const struct ext4walk_entry *e,
                  struct ext4walk_run **runs, size_t *n);
/* Can ext4walk_read_runs be used?  It reads with pread from the walker's
 * own descriptor (never a memory mapping: an image that shrinks gives a
 * clear error, not SIGBUS), so several threads may call it at once. */
bool ext4walk_mapped(const struct ext4walk *w);
int ext4walk_read_runs(const struct ext4walk *w, const struct ext4walk_run *runs, size_t n,
                       ext4walk_data_fn fn, void *userdata);

/* For metadata stored past the end of a file (fs-verity): the inode's
 * flags (EXT4_*_FL), the first logical block after its last extent, and
 * count logical blocks from lblk into buf (holes read as zeros), whatever
 * the file's size. */
int ext4walk_inode_flags(struct ext4walk *w, const struct ext4walk_entry *e, uint32_t *flags);
int ext4walk_block_end(struct ext4walk *w, const struct ext4walk_entry *e, uint64_t *end);
int ext4walk_read_blocks(struct ext4walk *w, const struct ext4walk_entry *e, uint64_t lblk,
                         uint64_t count, void *buf);
unsigned ext4walk_block_size(const struct ext4walk *w);
/* A regular file larger than the whole image (a sparse file of a terabyte
 * in a small image) is never read: -EFBIG, "IMAGE: PATH: N bytes, larger
 * than the whole image (M bytes): not read".  ext4walk_read checks it. */
int ext4walk_check_size(const struct ext4walk *w, const struct ext4walk_entry *e);
/* The filesystem's size in bytes (blocks count times block size). */
uint64_t ext4walk_image_bytes(const struct ext4walk *w);

/* Is the image file the one opened, unchanged (size, mtime, inode)?  Else
 * -ESTALE, "IMAGE: image changed while reading".  Commands call it before
 * they report success. */
int ext4walk_unchanged(const struct ext4walk *w);

/* Escape a path or symlink target for line-oriented output: bytes below
 * 0x21, 0x7f and backslash become \ooo (octal, as in /proc/mounts); the
 * result has no spaces or newlines.  Caller frees. */
char *ext4walk_escape(const char *s);
