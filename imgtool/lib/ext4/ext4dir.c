/* ext4dir: a directory's entries in the image being written: the last
 * block kept in memory and appended to, written when full, at close or
 * when DIR_BUFS_MAX other directories were appended to since (see the top
 * of ext4img.c).  Moved from ext4img.c, which keeps paths, inodes and the
 * public operations. */
#include "ext4/ext4img.h"
#include "ext4/ext4state.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "base/util.h"

static int dirent_type(mode_t mode)
{
        switch (mode & S_IFMT) {
        case S_IFREG: return EXT2_FT_REG_FILE;
        case S_IFDIR: return EXT2_FT_DIR;
        case S_IFLNK: return EXT2_FT_SYMLINK;
        case S_IFCHR: return EXT2_FT_CHRDEV;
        case S_IFBLK: return EXT2_FT_BLKDEV;
        case S_IFIFO: return EXT2_FT_FIFO;
        case S_IFSOCK: return EXT2_FT_SOCK;
        default: return EXT2_FT_UNKNOWN;
        }
}

struct dirstate *dirstate_new(ext2_ino_t ino, char *block, blk64_t pblk)
{
        struct dirstate *d = calloc(1, sizeof(*d));
        if (!d)
                return NULL;
        d->ino = ino;
        d->buf = block;
        d->last_pblk = pblk;
        d->nblocks = 1;
        d->dirty = true;
        return d;
}

void dirstate_free(struct dirstate *d)
{
        if (!d)
                return;
        ext2fs_free_mem(&d->buf);
        free(d);
}

/* d holds its buf now: one of the DIR_BUFS_MAX kept, the least recently
 * appended-to giving up its own (written out first). */
int dir_keep(struct ext4img *img, struct dirstate *d)
{
        size_t slot = img->n_dir_bufs;

        d->used = ++img->dir_tick;
        if (slot == DIR_BUFS_MAX) {
                struct dirstate *old;
                int r;
                slot = 0;
                for (size_t i = 1; i < DIR_BUFS_MAX; i++)
                        if (img->dir_bufs[i]->used < img->dir_bufs[slot]->used)
                                slot = i;
                old = img->dir_bufs[slot];
                if ((r = dir_flush(img, old)) < 0)
                        return r;
                ext2fs_free_mem(&old->buf);
        } else {
                img->n_dir_bufs++;
        }
        img->dir_bufs[slot] = d;
        return 0;
}

/* d's last block in d->buf, read back if it was given up. */
static int dir_load_buf(struct ext4img *img, struct dirstate *d, const char *what)
{
        errcode_t err;
        char *buf;

        if (d->buf) {
                d->used = ++img->dir_tick;
                return 0;
        }
        if (ext2fs_get_mem(img->fs->blocksize, &buf))
                return -ENOMEM;
        err = ext2fs_read_dir_block4(img->fs, d->last_pblk, buf, 0, d->ino);
        if (err) {
                ext2fs_free_mem(&buf);
                return fs_error(img, err, what, "reading directory block");
        }
        d->buf = buf;
        d->dirty = false;
        return dir_keep(img, d);
}

/* Where the last entry of a directory block starts. */
int find_last_entry(struct ext4img *img, const char *buf, unsigned *off)
{
        unsigned pos = 0, last = 0, rec;
        unsigned end = img->fs->blocksize - (ext2fs_has_feature_metadata_csum(img->fs->super)
                                             ? sizeof(struct ext2_dir_entry_tail) : 0);

        while (pos < end) {
                struct ext2_dir_entry *de = (struct ext2_dir_entry *)(buf + pos);
                if (ext2fs_get_rec_len(img->fs, de, &rec) || rec < 8)
                        return imgerr(-EIO, "corrupt directory block");
                last = pos;
                pos += rec;
        }
        *off = last;
        return 0;
}

/* Load an existing directory made by libext2fs (the root) for appending. */
int dirstate_load(struct ext4img *img, ext2_ino_t ino, struct dirstate **out)
{
        struct ext2_inode_large in;
        blk64_t pblk;
        char *buf;
        errcode_t err;
        int r;

        r = read_inode(img, ino, &in, "/");
        if (r < 0)
                return r;
        err = ext2fs_get_mem(img->fs->blocksize, &buf);
        if (err)
                return -ENOMEM;
        uint32_t nblocks = (uint32_t)(EXT2_I_SIZE(&in) / img->fs->blocksize);
        err = ext2fs_bmap2(img->fs, ino, (struct ext2_inode *)&in, NULL, 0, nblocks - 1, NULL, &pblk);
        if (!err)
                err = ext2fs_read_dir_block4(img->fs, pblk, buf, 0, ino);
        if (err) {
                ext2fs_free_mem(&buf);
                return fs_error(img, err, "/", "reading directory");
        }
        *out = dirstate_new(ino, buf, pblk);
        if (!*out) {
                ext2fs_free_mem(&buf);
                return -ENOMEM;
        }
        (*out)->nblocks = nblocks;
        (*out)->dirty = false;
        r = find_last_entry(img, buf, &(*out)->last_off);
        (*out)->subdirs = in.i_links_count - 2;
        return r < 0 ? r : dir_keep(img, *out);
}

int dir_flush(struct ext4img *img, struct dirstate *d)
{
        errcode_t err;

        if (!d->dirty)
                return 0;
        err = ext2fs_write_dir_block4(img->fs, d->last_pblk, d->buf, 0, d->ino);
        if (err)
                return fs_error(img, err, "directory", "writing block");
        d->dirty = false;
        return 0;
}

/* Give the directory another (empty) last block. */
static int dir_grow(struct ext4img *img, struct dirstate *d, const char *what)
{
        struct ext2_inode_large in;
        unsigned bs = img->fs->blocksize;
        unsigned csum = ext2fs_has_feature_metadata_csum(img->fs->super)
                        ? sizeof(struct ext2_dir_entry_tail) : 0;
        struct ext2_dir_entry *de;
        errcode_t err;
        int r;

        r = dir_flush(img, d);
        if (r < 0)
                return r;
        r = read_inode(img, d->ino, &in, what);
        if (r < 0)
                return r;
        r = alloc_blocks(img, d->ino, &in, d->nblocks, 1, what);
        if (r < 0)
                return r;
        err = ext2fs_bmap2(img->fs, d->ino, (struct ext2_inode *)&in, NULL, 0, d->nblocks, NULL,
                           &d->last_pblk);
        if (err)
                return fs_error(img, err, what, "mapping directory block");
        if (d->last_pblk + 1 > img->goal)
                img->goal = d->last_pblk + 1;
        d->nblocks++;
        err = ext2fs_inode_size_set(img->fs, (struct ext2_inode *)&in, (uint64_t)d->nblocks * bs);
        if (err)
                return fs_error(img, err, what, "setting directory size");
        r = update_inode(img, d->ino, &in, what);
        if (r < 0)
                return r;

        memset(d->buf, 0, bs);
        de = (struct ext2_dir_entry *)d->buf;
        ext2fs_set_rec_len(img->fs, bs - csum, de);
        if (csum)
                ext2fs_initialize_dirent_tail(img->fs, EXT2_DIRENT_TAIL(d->buf, bs));
        d->last_off = 0;
        d->dirty = true;
        return 0;
}

/* Append name -> ino to the directory. */
int dir_add(struct ext4img *img, struct dirstate *d, const char *name, ext2_ino_t ino,
            mode_t mode, const char *what)
{
        size_t nlen = strlen(name);
        unsigned need = EXT2_DIR_REC_LEN(nlen), rec, used;
        struct ext2_dir_entry *last, *de;
        int r = dir_load_buf(img, d, what);

        if (r < 0)
                return r;
        for (;;) {
                last = (struct ext2_dir_entry *)(d->buf + d->last_off);
                ext2fs_get_rec_len(img->fs, last, &rec);
                /* an empty fresh block has one unused entry (inode 0) to fill */
                used = last->inode ? EXT2_DIR_REC_LEN(ext2fs_dirent_name_len(last)) : 0;
                if (rec - used >= need)
                        break;
                r = dir_grow(img, d, what);
                if (r < 0)
                        return r;
        }
        if (used) {
                ext2fs_set_rec_len(img->fs, used, last);
                d->last_off += used;
        }
        de = (struct ext2_dir_entry *)(d->buf + d->last_off);
        memset(de, 0, 8);
        ext2fs_set_rec_len(img->fs, rec - used, de);
        de->inode = ino;
        ext2fs_dirent_set_name_len(de, (int)nlen);
        ext2fs_dirent_set_file_type(de, dirent_type(mode));
        memcpy(de->name, name, nlen);
        d->dirty = true;
        return 0;
}
