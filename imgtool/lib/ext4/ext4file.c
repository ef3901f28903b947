/* ext4file: a regular file of the image: begun, written (block writer or pwrite), its xattrs, committed. */
#include "ext4/ext4img.h"
#include "ext4/ext4state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ext4/blockwriter.h"
#include "base/util.h"

/* ---- regular files ---------------------------------------------------------- */

static void file_free(struct ext4img_file *f)
{
        for (size_t i = 0; i < f->n_xattrs; i++) {
                free(f->xattrs[i].name);
                free(f->xattrs[i].value);
        }
        free(f->xattrs);
        free(f->map);
        free(f->buf);
        free(f->path);
        free(f);
}

int ext4img_file_begin(struct ext4img *img, const char *path, const struct ext4img_attr *a,
                       uint64_t size, struct ext4img_file **out)
{
        struct ext4img_file *f;
        const char *name;
        ext2_ino_t parent;
        unsigned bs = img->fs->blocksize;
        blk64_t nblocks = (size + bs - 1) / bs;
        int r;

        if ((a->mode & S_IFMT) && !S_ISREG(a->mode) && !S_ISLNK(a->mode))
                return imgerr(-EINVAL, "%s: not a regular file mode %o", path, a->mode);
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->img = img;
        f->size = size;
        r = prepare_new(img, path, &f->path, &parent, &name);
        if (r < 0) {
                free(f);
                return r;
        }
        r = new_inode(img, parent, S_IFREG, f->path, &f->ino);
        if (r < 0)
                goto fail;
        init_inode(&f->inode, a);
        if (!(a->mode & S_IFMT))
                f->inode.i_mode |= S_IFREG;
        init_extents(&f->inode);
        r = write_new_inode(img, f->ino, &f->inode, f->path);
        if (r < 0)
                goto fail_inode;
        if (nblocks) {
                r = alloc_blocks(img, f->ino, &f->inode, 0, nblocks, f->path);
                if (r < 0)
                        goto fail_inode;
                r = read_extents(img, f->ino, &f->inode, &f->map, &f->map_len, f->path);
                if (r < 0)
                        goto fail_inode;
                f->buf_cap = nblocks * bs < WRITE_CHUNK ? nblocks * bs : WRITE_CHUNK;
                f->buf = malloc(f->buf_cap);
                if (!f->buf) {
                        r = -ENOMEM;
                        goto fail_inode;
                }
        }
        *out = f;
        return 0;
fail_inode:
        f->written = 0;
        *out = NULL;
        ext4img_file_abort(f);
        return r;
fail:
        file_free(f);
        return r;
}

static int flush_buf(struct ext4img_file *f)
{
        unsigned bs = f->img->fs->blocksize;
        size_t len = f->buf_used;
        int r;

        if (!len)
                return 0;
        /* zero the rest of the last block: freed blocks may hold old bytes */
        if (len % bs) {
                size_t pad = bs - len % bs;
                memset(f->buf + len, 0, pad);
                len += pad;
        }
        r = write_mapped(f, f->buf, len, f->buf_off);
        f->buf_off += f->buf_used;
        f->buf_used = 0;
        return r;
}

int ext4img_file_write(struct ext4img_file *f, const void *data, size_t len)
{
        const char *p = data;
        unsigned bs = f->img->fs->blocksize;
        int r;

        if (len > f->size - f->written)
                return imgerr(-EFBIG, "%s: more data than the %llu bytes announced", f->path,
                              (unsigned long long)f->size);
        f->written += len;
        while (len) {
                /* big aligned pieces go straight from the caller's buffer */
                if (f->buf_used == 0 && len >= bs) {
                        size_t n = len - len % bs;
                        r = write_mapped(f, p, n, f->buf_off);
                        if (r < 0)
                                return r;
                        f->buf_off += n;
                        p += n;
                        len -= n;
                        continue;
                }
                size_t n = f->buf_cap - f->buf_used;
                if (n > len)
                        n = len;
                memcpy(f->buf + f->buf_used, p, n);
                f->buf_used += n;
                p += n;
                len -= n;
                if (f->buf_used == f->buf_cap) {
                        r = flush_buf(f);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int ext4img_file_set_xattr(struct ext4img_file *f, const char *name, const void *value, size_t len)
{
        struct xattr_pending *x;

        if (GROW(f->xattrs, f->n_xattrs, f->cap_xattrs, 4) < 0)
                return -ENOMEM;
        x = &f->xattrs[f->n_xattrs];
        x->name = strdup(name);
        x->value = malloc(len ? len : 1);
        if (!x->name || !x->value) {
                free(x->name);
                free(x->value);
                return -ENOMEM;
        }
        memcpy(x->value, value, len);
        x->len = len;
        f->n_xattrs++;
        return 0;
}

/* Blocks [lblk, lblk+count) of f, physically right after what was
 * allocated last (ext2fs_fallocate would place them as far from the data
 * as they are logically: a gap nothing fills and a break in the run of
 * writes). */
static int alloc_past_eof(struct ext4img *img, struct ext4img_file *f, blk64_t lblk, blk64_t count)
{
        ext2_extent_handle_t h;
        blk64_t pblk, plen;
        errcode_t err;

        if (count > ext2fs_free_blocks_count(img->fs->super))
                return image_full(img, f->path);
        err = ext2fs_new_range(img->fs, EXT2_NEWRANGE_MIN_LENGTH, img->goal, count, NULL, &pblk, &plen);
        if (err == EXT2_ET_BLOCK_ALLOC_FAIL)
                return image_full(img, f->path);
        if (err)
                return fs_error(img, err, f->path, "allocating blocks");
        ext2fs_block_alloc_stats_range(img->fs, pblk, count, +1);
        err = ext2fs_extent_open2(img->fs, f->ino, (struct ext2_inode *)&f->inode, &h);
        if (err)
                return fs_error(img, err, f->path, "mapping blocks");
        for (blk64_t i = 0; !err && i < count; i++)
                err = ext2fs_extent_set_bmap(h, lblk + i, pblk + i, 0);
        ext2fs_extent_free(h);
        if (!err)
                err = ext2fs_iblk_add_blocks(img->fs, (struct ext2_inode *)&f->inode, count);
        if (err)
                return fs_error(img, err, f->path, "mapping blocks");
        if (pblk + count > img->goal)
                img->goal = pblk + count;
        return 0;
}

int ext4img_file_write_past_eof(struct ext4img_file *f, uint64_t off, const void *buf, size_t len)
{
        struct ext4img *img = f->img;
        unsigned bs = img->fs->blocksize;
        uint64_t data_blocks = (f->size + bs - 1) / bs;
        int r;

        if (off % bs || len % bs || off / bs < data_blocks || f->written != f->size)
                return imgerr(-EINVAL, "%s: metadata past the end at %llu+%zu: not block-aligned or before the data end",
                              f->path, (unsigned long long)off, len);
        if (!len)
                return 0;
        r = flush_buf(f);
        if (r < 0)
                return r;
        r = alloc_past_eof(img, f, off / bs, len / bs);
        if (r < 0)
                return r;
        free(f->map);
        f->map = NULL;
        r = read_extents(img, f->ino, &f->inode, &f->map, &f->map_len, f->path);
        if (r < 0)
                return r;
        return write_mapped(f, buf, len, off);
}

void ext4img_file_add_flags(struct ext4img_file *f, uint32_t flags)
{
        f->inode.i_flags |= flags;
}

int ext4img_file_commit(struct ext4img_file *f)
{
        struct ext4img *img = f->img;
        const char *name;
        ext2_ino_t parent;
        errcode_t err;
        int r;

        if (f->written != f->size) {
                r = imgerr(-EINVAL, "%s: %llu bytes written, %llu announced", f->path,
                           (unsigned long long)f->written, (unsigned long long)f->size);
                goto fail;
        }
        r = flush_buf(f);
        if (r < 0)
                goto fail;
        err = ext2fs_inode_size_set(img->fs, (struct ext2_inode *)&f->inode, f->size);
        if (err) {
                r = fs_error(img, err, f->path, "setting size");
                goto fail;
        }
        r = update_inode(img, f->ino, &f->inode, f->path);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < f->n_xattrs; i++) {
                r = set_xattr_ino(img, f->ino, f->xattrs[i].name, f->xattrs[i].value,
                                  f->xattrs[i].len, f->path);
                if (r < 0)
                        goto fail;
        }
        r = find_parent(img, f->path, &parent, &name);
        if (r < 0)
                goto fail;
        r = link_new(img, f->path, parent, name, f->ino, f->inode.i_mode, NULL);
        f->path = NULL;
        if (r < 0) {
                img->failed = true;
                file_free(f);
                return r;
        }
        file_free(f);
        return 0;
fail:
        ext4img_file_abort(f);
        return r;
}

/* Give back the inode and blocks of an uncommitted file. */
void ext4img_file_abort(struct ext4img_file *f)
{
        struct ext4img *img;

        if (!f)
                return;
        img = f->img;
        /* its blocks may be handed out again, to metadata written through
         * libext2fs: data still queued for them must land first */
        if (img->bw && blockwriter_flush(img->bw) < 0)
                img->failed = true;
        if (f->ino) {
                struct ext2_inode_large in;
                if (ext2fs_read_inode_full(img->fs, f->ino, (struct ext2_inode *)&in, sizeof(in)) == 0 &&
                    ext2fs_punch(img->fs, f->ino, (struct ext2_inode *)&in, NULL, 0, ~0ULL) == 0) {
                        memset(&in, 0, sizeof(in));
                        in.i_dtime = (__u32)img->opts.timestamp;
                        write_new_inode(img, f->ino, &in, f->path ? f->path : "");
                        ext2fs_inode_alloc_stats2(img->fs, f->ino, -1, 0);
                } else {
                        img->failed = true;
                }
        }
        file_free(f);
}
