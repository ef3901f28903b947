/* ext4mkfs: a new filesystem as mke2fs lays it out (superblock, groups, root, lost+found, journal). */
#include "ext4/ext4img.h"
#include "ext4/ext4state.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ext4/blockwriter.h"
#include "base/util.h"

/* ---- creating the filesystem ------------------------------------------------ */

static int setup_params(const struct ext4img_opts *o, struct ext2_super_block *p)
{
        uint64_t blocks = o->size / (1024u << BLOCK_SIZE_LOG);
        uint64_t inodes = o->inode_count ? o->inode_count : o->size / BYTES_PER_INODE_DEFAULT;

        memset(p, 0, sizeof(*p));
        p->s_rev_level = EXT2_DYNAMIC_REV;
        p->s_log_block_size = BLOCK_SIZE_LOG;
        ext2fs_blocks_count_set(p, blocks);
        ext2fs_r_blocks_count_set(p, blocks * o->reserved_percent / 100);
        p->s_inode_size = (__u16)o->inode_size;
        p->s_inodes_count = (__u32)(inodes > UINT32_MAX ? UINT32_MAX : inodes);
        p->s_log_groups_per_flex = FLEX_BG_LOG;
        p->s_max_mnt_count = (__u16)-1;

        ext2fs_set_feature_xattr(p);
        ext2fs_set_feature_dir_index(p);
        ext2fs_set_feature_filetype(p);
        ext2fs_set_feature_extents(p);
        ext2fs_set_feature_flex_bg(p);
        ext2fs_set_feature_64bit(p);
        ext2fs_set_feature_sparse_super(p);
        ext2fs_set_feature_large_file(p);
        ext2fs_set_feature_huge_file(p);
        ext2fs_set_feature_dir_nlink(p);
        ext2fs_set_feature_extra_isize(p);
        ext2fs_set_feature_metadata_csum(p);
        return 0;
}

static int check_opts(const char *path, const struct ext4img_opts *o)
{
        unsigned bs = 1024u << BLOCK_SIZE_LOG;

        if (o->size == 0 || o->size % bs)
                return imgerr(-EINVAL, "%s: image size %llu is not a positive multiple of %u",
                              path, (unsigned long long)o->size, bs);
        if (o->inode_size < 256 || o->inode_size > bs || (o->inode_size & (o->inode_size - 1)))
                return imgerr(-EINVAL, "%s: inode size %u must be a power of two from 256 to %u",
                              path, o->inode_size, bs);
        if (o->offset % 4096)
                return imgerr(-EINVAL, "%s: offset %llu is not a multiple of 4096", path,
                              (unsigned long long)o->offset);
        if (o->reserved_percent > 50)
                return imgerr(-EINVAL, "%s: reserved blocks %u%% is more than 50%%", path,
                              o->reserved_percent);
        return 0;
}

/* Superblock fields mke2fs fills from the clock or randomness. */
static void set_identity(struct ext4img *img)
{
        struct ext2_super_block *s = img->fs->super;
        int64_t t = img->opts.timestamp;

        memcpy(s->s_uuid, img->opts.uuid, sizeof(s->s_uuid));
        memcpy(s->s_hash_seed, img->opts.hash_seed, sizeof(s->s_hash_seed));
        s->s_def_hash_version = EXT2_HASH_HALF_MD4;
        s->s_checksum_type = EXT2_CRC32C_CHKSUM;
        memset(s->s_volume_name, 0, sizeof(s->s_volume_name));
        if (img->opts.label)
                strncpy((char *)s->s_volume_name, img->opts.label, sizeof(s->s_volume_name));
        s->s_mkfs_time = s->s_lastcheck = (__u32)t;
        s->s_mkfs_time_hi = s->s_lastcheck_hi = (__u8)(t >> 32);
        s->s_kbytes_written = 0;
        ext2fs_init_csum_seed(img->fs);
}

static int stamp_existing(struct ext4img *img, ext2_ino_t ino)
{
        struct ext2_inode_large in;
        int r = read_inode(img, ino, &in, "/");
        if (r < 0)
                return r;
        stamp(&in, img->opts.timestamp);
        return update_inode(img, ino, &in, "/");
}

/* Root, lost+found, the reserved inodes and the journal, as mke2fs makes them. */
static int make_skeleton(struct ext4img *img)
{
        ext2_filsys fs = img->fs;
        struct ext2fs_journal_params jp;
        ext2_ino_t lpf;
        errcode_t err;

        for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
                /* the image file was created sparse: inode tables are already zero */
                ext2fs_bg_flags_set(fs, g, EXT2_BG_INODE_ZEROED);
                ext2fs_group_desc_csum_set(fs, g);
        }
        err = ext2fs_mkdir(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, 0);
        if (err)
                return fs_error(img, err, img->path, "creating root directory");
        fs->umask = 077;
        err = ext2fs_mkdir(fs, EXT2_ROOT_INO, 0, "lost+found");
        fs->umask = 022;
        if (!err)
                err = ext2fs_lookup(fs, EXT2_ROOT_INO, "lost+found", 10, 0, &lpf);
        /* 16 KiB like mke2fs, so e2fsck can reconnect files without allocating */
        for (int i = 1; !err && i < 4; i++)
                err = ext2fs_expand_dir(fs, lpf);
        if (err)
                return fs_error(img, err, img->path, "creating lost+found");
        for (ext2_ino_t i = EXT2_ROOT_INO + 1; i < EXT2_FIRST_INODE(fs->super); i++)
                ext2fs_inode_alloc_stats2(fs, i, +1, 0);
        ext2fs_mark_ib_dirty(fs);
        ext2fs_mark_inode_bitmap2(fs->inode_map, EXT2_BAD_INO);
        ext2fs_inode_alloc_stats2(fs, EXT2_BAD_INO, +1, 0);
        err = ext2fs_update_bb_inode(fs, NULL);
        if (err)
                return fs_error(img, err, img->path, "creating bad block inode");

        /* Images below 8 MiB get no journal: ext4 needs at least 1024 blocks. */
        if (ext2fs_get_journal_params(&jp, fs) == 0) {
                err = ext2fs_add_journal_inode3(fs, &jp, ~0ULL,
                                                EXT2_MKJOURNAL_LAZYINIT | EXT2_MKJOURNAL_NO_MNT_CHECK);
                if (err)
                        return fs_error(img, err, img->path, "creating journal");
        }

        int r = 0;
        ext2_ino_t stamped[] = { EXT2_ROOT_INO, lpf, EXT2_BAD_INO,
                                 ext2fs_has_feature_journal(fs->super) ? EXT2_JOURNAL_INO : 0 };
        for (size_t i = 0; i < ARRAY_SIZE(stamped) && r == 0; i++)
                if (stamped[i])
                        r = stamp_existing(img, stamped[i]);
        return r;
}

static int register_root(struct ext4img *img)
{
        struct node *n;
        char *root = strdup("/"), *lpf = strdup("/lost+found");
        int r;

        if (!root || !lpf) {
                free(root);
                free(lpf);
                return -ENOMEM;
        }
        r = node_add(img, root, EXT2_ROOT_INO, S_IFDIR | 0755, &n);
        if (r < 0) {
                free(lpf);
                return r;
        }
        r = dirstate_load(img, EXT2_ROOT_INO, &n->dir);
        if (r < 0) {
                free(lpf);
                return r;
        }
        ext2_ino_t lpf_ino;
        errcode_t err = ext2fs_lookup(img->fs, EXT2_ROOT_INO, "lost+found", 10, 0, &lpf_ino);
        if (err) {
                free(lpf);
                return fs_error(img, err, "/lost+found", "lookup");
        }
        /* in the table so nothing else can take the name; not appendable */
        return node_add(img, lpf, lpf_ino, S_IFDIR | 0700, NULL);
}

static int open_image_file(struct ext4img *img)
{
        img->fd = open(img->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (img->fd < 0)
                return imgerr(-errno, "%s: cannot create image: %m", img->path);
        img->created = true;
        if (ftruncate(img->fd, (off_t)(img->opts.offset + img->opts.size)) < 0 || fchmod(img->fd, 0644) < 0)
                return imgerr(-errno, "%s: cannot size image to %llu bytes: %m", img->path,
                              (unsigned long long)img->opts.size);
        int r = blockwriter_open(img->path, &img->bw);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                img->bw = NULL;   /* no direct I/O here: pwrite */
        else
                blockwriter_set_base(img->bw, img->opts.offset);
        return 0;
}

int ext4img_create(const char *path, const struct ext4img_opts *opts, struct ext4img **out)
{
        struct ext2_super_block param;
        struct ext4img *img;
        errcode_t err;
        int r;

        r = check_opts(path, opts);
        if (r < 0)
                return r;
        img = calloc(1, sizeof(*img));
        if (!img)
                return -ENOMEM;
        img->fd = -1;
        img->opts = *opts;
        img->opts.label = NULL;
        img->path = strdup(path);
        if (!img->path) {
                r = -ENOMEM;
                goto fail;
        }
        r = open_image_file(img);
        if (r < 0)
                goto fail;
        initialize_ext2_error_table();
        setup_params(opts, &param);
        err = ext2fs_initialize(img->path, EXT2_FLAG_64BITS, &param, unix_io_manager, &img->fs);
        if (err) {
                r = fs_error(img, err, path, "creating filesystem");
                goto fail;
        }
        if (opts->offset) {
                /* A disk's partition: libext2fs' unix I/O adds it to every
                 * access; nothing was written before this. */
                char o[48];
                snprintf(o, sizeof(o), "offset=%llu", (unsigned long long)opts->offset);
                err = io_channel_set_options(img->fs->io, o);
                if (err) {
                        r = fs_error(img, err, path, "setting the partition offset");
                        goto fail;
                }
        }
        img->fs->now = opts->timestamp ? opts->timestamp : 1; /* 0 means "use the clock" */
        img->opts.label = opts->label;
        set_identity(img);
        img->opts.label = NULL;
        img->ibuf = calloc(1, EXT2_INODE_SIZE(img->fs->super));
        if (!img->ibuf) {
                r = -ENOMEM;
                goto fail;
        }
        err = ext2fs_allocate_tables(img->fs);
        if (err) {
                r = fs_error(img, err, path, "allocating group tables");
                goto fail;
        }
        r = make_skeleton(img);
        if (r < 0)
                goto fail;
        r = register_root(img);
        if (r < 0)
                goto fail;
        img->goal = 0;
        img->index_dirs = !opts->linear_dirs;
        *out = img;
        return 0;
fail:
        ext4img_abort(img);
        return r;
}
