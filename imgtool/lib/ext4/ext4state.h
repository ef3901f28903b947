/* ext4state: the ext4 writer's state, shared by its parts (ext4img.c the
 * writer, ext4file.c its regular files, ext4htree.c the directory index,
 * ext4mkfs.c the new filesystem); not for other modules.  Included after ext4/ext4img.h (struct ext4img
 * holds its options). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#define BLOCK_SIZE_LOG 2             /* 1024 << 2 = 4096 */
#define BYTES_PER_INODE_DEFAULT 16384 /* mke2fs' inode_ratio */
#define WRITE_CHUNK (1u << 20)       /* file data is written in chunks this big */
#define FLEX_BG_LOG 4                /* 16 groups per flex group, as mke2fs */

/* A directory being filled: its last block is appended to in buf.  Only
 * the DIR_BUFS_MAX directories appended to last keep it in memory (a block
 * for each of 36,000 folders was 150 MB at 300,000 files); the others have
 * it written out and read back when they get another entry. */
#define DIR_BUFS_MAX 256
struct dirstate {
        ext2_ino_t ino;
        uint32_t nblocks;     /* blocks in the directory */
        blk64_t last_pblk;    /* physical block of the last one */
        unsigned last_off;    /* offset of the last entry in buf */
        uint32_t subdirs;     /* for i_links_count */
        bool dirty;
        char *buf;            /* contents of the last block, or NULL: on disk */
        uint64_t used;        /* ext4img.dir_tick when last appended to */
};

struct node {
        char *path;           /* normalised, the key; NULL: empty slot */
        uint64_t hash;
        ext2_ino_t ino;
        mode_t mode;
        struct dirstate *dir; /* directories only */
};

struct ext4img {
        ext2_filsys fs;
        int fd;               /* the image, for file data */
        struct blockwriter *bw; /* file data with direct I/O, or NULL: pwrite on fd */
        char *path;           /* the file written, in place (compose gives a temporary name) */
        struct ext4img_opts opts;
        blk64_t goal;         /* next allocation starts here: contiguous layout */
        struct node *nodes;
        size_t nodes_cap, nodes_len;
        char *ibuf;           /* one on-disk inode */
        struct dirstate *dir_bufs[DIR_BUFS_MAX]; /* the directories holding buf */
        size_t n_dir_bufs;
        uint64_t dir_tick;
        bool index_dirs;      /* build htree indexes at close */
        bool failed;
        bool created;         /* abort removes the file */
};

struct xattr_pending {
        char *name;
        void *value;
        size_t len;
};

struct extent_map {
        blk64_t lblk, pblk;
        uint64_t len;
};

struct ext4img_file {
        struct ext4img *img;
        char *path;
        struct node *parent;
        ext2_ino_t ino;
        struct ext2_inode_large inode;
        uint64_t size, written;
        struct extent_map *map;
        size_t map_len;
        char *buf;            /* block-aligned staging for small writes */
        size_t buf_cap, buf_used;
        uint64_t buf_off;     /* file offset of buf[0] */
        struct xattr_pending *xattrs;
        size_t n_xattrs, cap_xattrs;
};

/* ext4img.c */
int alloc_blocks(struct ext4img *img, ext2_ino_t ino, struct ext2_inode_large *in,
                 blk64_t lblk, blk64_t count, const char *what);
int find_parent(struct ext4img *img, const char *path, ext2_ino_t *parent_ino,
                const char **name);
int fs_error(struct ext4img *img, errcode_t err, const char *what, const char *op);
int image_full(struct ext4img *img, const char *what);
void init_extents(struct ext2_inode_large *in);
void init_inode(struct ext2_inode_large *in, const struct ext4img_attr *a);
int link_new(struct ext4img *img, char *path, ext2_ino_t parent, const char *name,
             ext2_ino_t ino, mode_t mode, struct node **out);
int new_inode(struct ext4img *img, ext2_ino_t parent, mode_t mode, const char *what,
              ext2_ino_t *ino);
int node_add(struct ext4img *img, char *path, ext2_ino_t ino, mode_t mode, struct node **out);
int prepare_new(struct ext4img *img, const char *in, char **path, ext2_ino_t *parent,
                const char **name);
int read_extents(struct ext4img *img, ext2_ino_t ino, struct ext2_inode_large *in,
                 struct extent_map **map, size_t *len, const char *what);
int read_inode(struct ext4img *img, ext2_ino_t ino, struct ext2_inode_large *in,
               const char *what);
int set_xattr_ino(struct ext4img *img, ext2_ino_t ino, const char *name, const void *value,
                  size_t len, const char *what);
void stamp(struct ext2_inode_large *in, int64_t t);
int update_inode(struct ext4img *img, ext2_ino_t ino, struct ext2_inode_large *in,
                 const char *what);
int write_mapped(struct ext4img_file *f, const char *data, size_t len, uint64_t off);
int write_new_inode(struct ext4img *img, ext2_ino_t ino, struct ext2_inode_large *in,
                    const char *what);

/* ext4dir.c */
int dirstate_load(struct ext4img *img, ext2_ino_t ino, struct dirstate **out);
struct dirstate *dirstate_new(ext2_ino_t ino, char *block, blk64_t pblk);
void dirstate_free(struct dirstate *d);
int dir_keep(struct ext4img *img, struct dirstate *d);
int find_last_entry(struct ext4img *img, const char *buf, unsigned *off);
int dir_flush(struct ext4img *img, struct dirstate *d);
int dir_add(struct ext4img *img, struct dirstate *d, const char *name, ext2_ino_t ino,
            mode_t mode, const char *what);

/* ext4htree.c */
int index_dirs(struct ext4img *img);
