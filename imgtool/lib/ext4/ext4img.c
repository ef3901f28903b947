/* Writing an ext4 image with libext2fs.
 *
 * The filesystem is laid out the way mke2fs would (ext2fs_initialize,
 * ext2fs_allocate_tables, root, lost+found, journal) but everything that
 * mke2fs takes from the clock or from /dev/urandom comes from the options,
 * so the same calls give the same bytes.
 *
 * Speed comes from three choices:
 *  - file data bypasses libext2fs' block cache: blocks are allocated in one
 *    go (ext2fs_fallocate), then the bytes go straight to the image in
 *    large chunks (blockwriter: gathered, direct I/O, a background thread;
 *    plain pwrite where the filesystem has no direct I/O);
 *  - a path -> inode hash table answers every lookup, so no directory is
 *    ever scanned;
 *  - new entries are appended to a directory's last block in memory; a
 *    block is written when it is full, at close, or when 256 other
 *    directories were appended to since (DIR_BUFS_MAX: memory bounded by
 *    that, not by the number of folders; it is read back if the directory
 *    gets another entry).  ext2fs_link would rescan the whole directory
 *    for every new name. */
#include "ext4/ext4img.h"
#include "ext4/ext4stamp.h"
#include "ext4/ext4state.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <ext2fs/ext3_extents.h>

#include "ext4/blockwriter.h"
#include "base/util.h"

/* ---- errors ---------------------------------------------------------- */

static int errno_of(errcode_t err)
{
        switch (err) {
        case EXT2_ET_BLOCK_ALLOC_FAIL:
        case EXT2_ET_INODE_ALLOC_FAIL:
        case EXT2_ET_DIR_NO_SPACE:
        case EXT2_ET_EA_NO_SPACE:
                return -ENOSPC;
        case EXT2_ET_NO_MEMORY:
                return -ENOMEM;
        default:
                return err > 0 && err < 4096 ? -(int)err : -EIO;
        }
}

static void human_size(uint64_t bytes, char *out, size_t n)
{
        if (bytes >= 10ULL << 30)
                snprintf(out, n, "%.1f GiB", bytes / (double)(1ULL << 30));
        else if (bytes >= 10ULL << 20)
                snprintf(out, n, "%.1f MiB", bytes / (double)(1ULL << 20));
        else
                snprintf(out, n, "%.1f KiB", bytes / 1024.0);
}

int image_full(struct ext4img *img, const char *what)
{
        struct ext2_super_block *sb = img->fs->super;
        char size[32];

        human_size(img->opts.size, size, sizeof(size));
        /* the image's path first (a temporary one is renamed in the message,
         * output.h), then the file that did not fit */
        if (sb->s_free_inodes_count == 0)
                return imgerr(-ENOSPC, "%s: %s: image full: needs more than the %u inodes of the %s image "
                              "(raise the inode count)", img->path, what, sb->s_inodes_count, size);
        return imgerr(-ENOSPC, "%s: %s: image full: needs more than %s (%llu of %llu blocks free)",
                      img->path, what, size, (unsigned long long)ext2fs_free_blocks_count(sb),
                      (unsigned long long)ext2fs_blocks_count(sb));
}

/* Report a libext2fs error about `what`. */
int fs_error(struct ext4img *img, errcode_t err, const char *what, const char *op)
{
        int r = errno_of(err);
        if (r == -ENOSPC)
                return image_full(img, what);
        return imgerr(r, "%s: %s: %s", what, op, error_message(err));
}

/* ---- paths and the node table ---------------------------------------- */

/* "/a//b/" -> "/a/b"; rejects relative paths, "." and "..", long names. */
static int normalize_path(const char *in, char **out)
{
        size_t n = strlen(in);
        char *p, *o;

        if (in[0] != '/')
                return imgerr(-EINVAL, "%s: not an absolute path", in);
        p = o = malloc(n + 2);
        if (!p)
                return -ENOMEM;
        for (const char *s = in; *s;) {
                const char *e;
                size_t len;

                while (*s == '/')
                        s++;
                if (!*s)
                        break;
                e = strchrnul(s, '/');
                len = (size_t)(e - s);
                if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
                        free(p);
                        return imgerr(-EINVAL, "%s: '.' and '..' are not allowed in image paths", in);
                }
                if (len > EXT2_NAME_LEN) {
                        free(p);
                        return imgerr(-ENAMETOOLONG, "%s: a name is longer than %d bytes", in,
                                      EXT2_NAME_LEN);
                }
                *o++ = '/';
                memcpy(o, s, len);
                o += len;
                s = e;
        }
        if (o == p)
                *o++ = '/';
        *o = 0;
        *out = p;
        return 0;
}

static uint64_t hash_path(const char *s)
{
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++)
                h = (h ^ (uint8_t)*s) * 1099511628211ULL;
        return h;
}

static struct node *node_find(struct ext4img *img, const char *path)
{
        uint64_t h = hash_path(path);
        size_t mask = img->nodes_cap - 1;

        for (size_t i = h & mask;; i = (i + 1) & mask) {
                struct node *n = &img->nodes[i];
                if (!n->path)
                        return NULL;
                if (n->hash == h && strcmp(n->path, path) == 0)
                        return n;
        }
}

static struct node *slot_for(struct node *nodes, size_t cap, uint64_t h)
{
        size_t mask = cap - 1, i = h & mask;
        while (nodes[i].path)
                i = (i + 1) & mask;
        return &nodes[i];
}

static int nodes_grow(struct ext4img *img)
{
        size_t cap = img->nodes_cap ? img->nodes_cap * 2 : 4096;
        struct node *nodes = calloc(cap, sizeof(*nodes));

        if (!nodes)
                return -ENOMEM;
        for (size_t i = 0; i < img->nodes_cap; i++)
                if (img->nodes[i].path)
                        *slot_for(nodes, cap, img->nodes[i].hash) = img->nodes[i];
        free(img->nodes);
        img->nodes = nodes;
        img->nodes_cap = cap;
        return 0;
}

/* Takes ownership of path.  Returns the node (stable until the next add). */
int node_add(struct ext4img *img, char *path, ext2_ino_t ino, mode_t mode, struct node **out)
{
        struct node *n;
        int r;

        if ((img->nodes_len + 1) * 2 > img->nodes_cap) {
                r = nodes_grow(img);
                if (r < 0)
                        return r;
        }
        n = slot_for(img->nodes, img->nodes_cap, hash_path(path));
        *n = (struct node){ .path = path, .hash = hash_path(path), .ino = ino, .mode = mode };
        img->nodes_len++;
        if (out)
                *out = n;
        return 0;
}

/* The directory that will hold path, and the last component's name. */
int find_parent(struct ext4img *img, const char *path, ext2_ino_t *parent_ino,
                const char **name)
{
        const char *slash = strrchr(path, '/');
        struct node *p;
        char *ppath;

        if (slash == path && !path[1])
                return imgerr(-EEXIST, "/: already exists in the image");
        ppath = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
        if (!ppath)
                return -ENOMEM;
        p = node_find(img, ppath);
        if (!p) {
                int r = imgerr(-ENOENT, "%s: parent directory %s does not exist in the image",
                               path, ppath);
                free(ppath);
                return r;
        }
        free(ppath);
        if (!S_ISDIR(p->mode))
                return imgerr(-ENOTDIR, "%s: parent is not a directory", path);
        *parent_ino = p->ino;
        *name = slash + 1;
        return 0;
}

/* Normalise path, check that it is new and that its parent is a directory. */
int prepare_new(struct ext4img *img, const char *in, char **path, ext2_ino_t *parent,
                const char **name)
{
        char *p;
        int r;

        if (img->failed)
                return imgerr(-EIO, "%s: the image is unusable after an earlier error", in);
        r = normalize_path(in, &p);
        if (r < 0)
                return r;
        if (node_find(img, p)) {
                r = imgerr(-EEXIST, "%s: already exists in the image", p);
                free(p);
                return r;
        }
        r = find_parent(img, p, parent, name);
        if (r < 0) {
                free(p);
                return r;
        }
        *path = p;
        return 0;
}

/* ---- inodes ------------------------------------------------------------ */

static void set_time(__u32 *lo, __u32 *extra, int64_t t)
{
        *lo = (__u32)t;
        /* the kernel's ext4_encode_extra_time: epoch bits beyond 32-bit seconds */
        *extra = (__u32)(((t - (int32_t)(uint32_t)t) >> 32) & EXT4_EPOCH_MASK);
}

void stamp(struct ext2_inode_large *in, int64_t t)
{
        set_time(&in->i_atime, &in->i_atime_extra, t);
        set_time(&in->i_ctime, &in->i_ctime_extra, t);
        set_time(&in->i_mtime, &in->i_mtime_extra, t);
        set_time(&in->i_crtime, &in->i_crtime_extra, t);
}

/* An empty extent tree in i_block, for files and directories. */
void init_extents(struct ext2_inode_large *in)
{
        struct ext3_extent_header *eh = (struct ext3_extent_header *)in->i_block;

        in->i_flags |= EXT4_EXTENTS_FL;
        eh->eh_magic = ext2fs_cpu_to_le16(EXT3_EXT_MAGIC);
        eh->eh_depth = 0;
        eh->eh_entries = 0;
        eh->eh_max = ext2fs_cpu_to_le16((sizeof(in->i_block) - sizeof(*eh)) /
                                        sizeof(struct ext3_extent));
}

void init_inode(struct ext2_inode_large *in, const struct ext4img_attr *a)
{
        memset(in, 0, sizeof(*in));
        in->i_mode = (__u16)a->mode;
        in->i_uid = (__u16)a->uid;
        ext2fs_set_i_uid_high(*in, a->uid >> 16);
        in->i_gid = (__u16)a->gid;
        ext2fs_set_i_gid_high(*in, a->gid >> 16);
        in->i_links_count = 1;
        in->i_extra_isize = sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
        stamp(in, a->mtime);
}

/* Write a brand-new inode: everything past the struct (the in-inode xattr
 * area) is zeroed so a reused inode number carries nothing old. */
int write_new_inode(struct ext4img *img, ext2_ino_t ino, struct ext2_inode_large *in,
                    const char *what)
{
        unsigned isz = EXT2_INODE_SIZE(img->fs->super);
        errcode_t err;

        memset(img->ibuf, 0, isz);
        memcpy(img->ibuf, in, sizeof(*in));
        err = ext2fs_write_inode_full(img->fs, ino, (struct ext2_inode *)img->ibuf, isz);
        return err ? fs_error(img, err, what, "writing inode") : 0;
}

int read_inode(struct ext4img *img, ext2_ino_t ino, struct ext2_inode_large *in,
               const char *what)
{
        errcode_t err = ext2fs_read_inode_full(img->fs, ino, (struct ext2_inode *)in, sizeof(*in));
        return err ? fs_error(img, err, what, "reading inode") : 0;
}

/* Rewrite the struct part of an inode, keeping its in-inode xattrs. */
int update_inode(struct ext4img *img, ext2_ino_t ino, struct ext2_inode_large *in,
                 const char *what)
{
        errcode_t err = ext2fs_write_inode_full(img->fs, ino, (struct ext2_inode *)in, sizeof(*in));
        return err ? fs_error(img, err, what, "writing inode") : 0;
}

int new_inode(struct ext4img *img, ext2_ino_t parent, mode_t mode, const char *what,
              ext2_ino_t *ino)
{
        errcode_t err = ext2fs_new_inode(img->fs, parent, (int)mode, NULL, ino);
        if (err)
                return fs_error(img, err, what, "allocating inode");
        ext2fs_inode_alloc_stats2(img->fs, *ino, +1, S_ISDIR(mode));
        return 0;
}

/* ---- blocks -------------------------------------------------------------- */

/* Allocate blocks [lblk, lblk+count) of inode `in` (already on disk with
 * EXT4_EXTENTS_FL), contiguous from the allocation cursor when possible. */
int alloc_blocks(struct ext4img *img, ext2_ino_t ino, struct ext2_inode_large *in,
                 blk64_t lblk, blk64_t count, const char *what)
{
        errcode_t err;

        if (count > ext2fs_free_blocks_count(img->fs->super))
                return image_full(img, what);
        err = ext2fs_fallocate(img->fs, EXT2_FALLOCATE_FORCE_INIT, ino, (struct ext2_inode *)in,
                               img->goal, lblk, count);
        if (err)
                return fs_error(img, err, what, "allocating blocks");
        return 0;
}

/* The physical layout of a file, to write its data with pwrite. */
int read_extents(struct ext4img *img, ext2_ino_t ino, struct ext2_inode_large *in,
                 struct extent_map **map, size_t *len, const char *what)
{
        ext2_extent_handle_t h;
        struct ext2fs_extent ex;
        struct extent_map *m = NULL;
        size_t n = 0, cap = 0;
        errcode_t err;
        int op = EXT2_EXTENT_ROOT;

        err = ext2fs_extent_open2(img->fs, ino, (struct ext2_inode *)in, &h);
        if (err)
                return fs_error(img, err, what, "reading extents");
        for (;;) {
                err = ext2fs_extent_get(h, op, &ex);
                op = EXT2_EXTENT_NEXT;
                if (err == EXT2_ET_EXTENT_NO_NEXT)
                        break;
                if (err) {
                        ext2fs_extent_free(h);
                        free(m);
                        return fs_error(img, err, what, "reading extents");
                }
                if (!(ex.e_flags & EXT2_EXTENT_FLAGS_LEAF) || (ex.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT))
                        continue;
                if (GROW(m, n, cap, 8) < 0) {
                        ext2fs_extent_free(h);
                        free(m);
                        return -ENOMEM;
                }
                m[n++] = (struct extent_map){ ex.e_lblk, ex.e_pblk, ex.e_len };
                if (ex.e_pblk + ex.e_len > img->goal)
                        img->goal = ex.e_pblk + ex.e_len;
        }
        ext2fs_extent_free(h);
        *map = m;
        *len = n;
        return 0;
}

/* Write len bytes (a whole number of blocks, or the tail of the file) at
 * file offset off, through the extent map. */
int write_mapped(struct ext4img_file *f, const char *data, size_t len, uint64_t off)
{
        unsigned bs = f->img->fs->blocksize;

        while (len) {
                blk64_t lblk = off / bs;
                const struct extent_map *e = NULL;
                uint64_t within, room, n;
                ssize_t w;

                for (size_t i = 0; i < f->map_len; i++)
                        if (lblk >= f->map[i].lblk && lblk < f->map[i].lblk + f->map[i].len) {
                                e = &f->map[i];
                                break;
                        }
                if (!e)
                        return imgerr(-EIO, "%s: no block mapped at offset %llu", f->path,
                                      (unsigned long long)off);
                within = (lblk - e->lblk) * bs + off % bs;
                room = e->len * bs - within;
                n = len < room ? len : room;
                if (f->img->bw) {
                        int r = blockwriter_write(f->img->bw, data, n, e->pblk * bs + within);
                        if (r < 0)
                                return r;
                        data += n;
                        len -= n;
                        off += n;
                        continue;
                }
                w = pwrite(f->img->fd, data, n, (off_t)(f->img->opts.offset + e->pblk * bs + within));
                if (w < 0)
                        return imgerr(-errno, "%s: writing image: %m", f->img->path);
                if ((uint64_t)w != n)
                        return imgerr(-EIO, "%s: short write to image", f->img->path);
                data += n;
                len -= n;
                off += n;
        }
        return 0;
}

/* ---- closing ------------------------------------------------------------- */

static void free_img(struct ext4img *img)
{
        for (size_t i = 0; i < img->nodes_cap; i++) {
                free(img->nodes[i].path);
                dirstate_free(img->nodes[i].dir);
        }
        free(img->nodes);
        free(img->ibuf);
        free(img->path);
        if (img->fd >= 0)
                close(img->fd);
        free(img);
}

void ext4img_abort(struct ext4img *img)
{
        if (!img)
                return;
        blockwriter_close(img->bw);
        img->bw = NULL;
        if (img->fs)
                ext2fs_free(img->fs);
        if (img->created)
                unlink(img->path);
        free_img(img);
}

static int flush_dirs(struct ext4img *img)
{
        for (size_t i = 0; i < img->nodes_cap; i++)
                if (img->nodes[i].dir) {
                        int r = dir_flush(img, img->nodes[i].dir);
                        if (r < 0)
                                return imgerr_prefix(r, "%s: ", img->nodes[i].path);
                }
        return 0;
}

int ext4img_close(struct ext4img *img)
{
        errcode_t err;
        int r;

        if (img->failed) {
                ext4img_abort(img);
                return imgerr(-EIO, "image not written: an earlier error made it unusable");
        }
        r = flush_dirs(img);
        if (r == 0 && img->index_dirs)
                r = index_dirs(img);
        if (r == 0) {
                /* file data first: the metadata's fsync must find it written */
                r = blockwriter_close(img->bw);
                img->bw = NULL;
        }
        if (r < 0)
                goto fail;
        /* ext2fs_flush sets s_wtime from fs->now but leaves the high byte */
        img->fs->super->s_wtime_hi = (__u8)(img->opts.timestamp >> 32);
        err = ext2fs_close_free(&img->fs);
        if (err) {
                r = imgerr(errno_of(err), "%s: writing filesystem metadata: %s", img->path,
                           error_message(err));
                goto fail;
        }
        free_img(img);
        return 0;
fail:
        ext4img_abort(img);
        return r;
}

/* ---- public operations ---------------------------------------------------- */

int ext4img_lookup(struct ext4img *img, const char *path, mode_t *mode)
{
        _cleanup_free_ char *p = NULL;
        struct node *n;
        int r = normalize_path(path, &p);

        if (r < 0)
                return r;
        n = node_find(img, p);
        if (!n)
                return 0;
        if (mode)
                *mode = n->mode;
        return 1;
}

static struct node *parent_node(struct ext4img *img, ext2_ino_t parent_ino, const char *path)
{
        _cleanup_free_ char *pp = NULL;
        const char *slash = strrchr(path, '/');

        (void)parent_ino;
        pp = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
        return pp ? node_find(img, pp) : NULL;
}

/* Link a made inode into its parent and record it in the table. */
int link_new(struct ext4img *img, char *path, ext2_ino_t parent, const char *name,
             ext2_ino_t ino, mode_t mode, struct node **out)
{
        struct node *p = parent_node(img, parent, path);
        int r;

        if (!p || !p->dir) {
                r = imgerr(-EPERM, "%s: cannot add entries to this directory", path);
                free(path);
                return r;
        }
        r = dir_add(img, p->dir, name, ino, mode, path);
        if (r < 0) {
                free(path);
                return r;
        }
        return node_add(img, path, ino, mode, out);
}

static int make_dir(struct ext4img *img, char *path, ext2_ino_t parent, const char *name,
                    const struct ext4img_attr *a)
{
        struct ext2_inode_large in, pin;
        struct node *pn, *n;
        ext2_ino_t ino;
        blk64_t pblk;
        char *block;
        errcode_t err;
        int r;

        r = new_inode(img, parent, S_IFDIR, path, &ino);
        if (r < 0)
                goto fail;
        init_inode(&in, a);
        in.i_mode = (__u16)(S_IFDIR | (a->mode & 07777));
        in.i_links_count = 2;
        init_extents(&in);
        r = write_new_inode(img, ino, &in, path);
        if (r < 0)
                goto fail;
        r = alloc_blocks(img, ino, &in, 0, 1, path);
        if (r < 0)
                goto fail;
        err = ext2fs_bmap2(img->fs, ino, (struct ext2_inode *)&in, NULL, 0, 0, NULL, &pblk);
        if (err) {
                r = fs_error(img, err, path, "mapping directory block");
                goto fail;
        }
        if (pblk + 1 > img->goal)
                img->goal = pblk + 1;
        ext2fs_inode_size_set(img->fs, (struct ext2_inode *)&in, img->fs->blocksize);
        r = update_inode(img, ino, &in, path);
        if (r < 0)
                goto fail;
        err = ext2fs_new_dir_block(img->fs, ino, parent, &block);
        if (err) {
                r = fs_error(img, err, path, "making directory block");
                goto fail;
        }

        pn = parent_node(img, parent, path);
        if (pn && pn->dir) {
                /* ".." of the new directory */
                uint32_t links = ++pn->dir->subdirs + 2;
                r = read_inode(img, parent, &pin, path);
                if (r == 0) {
                        pin.i_links_count = links >= EXT2_LINK_MAX ? 1 : (__u16)links;
                        r = update_inode(img, parent, &pin, path);
                }
                if (r < 0) {
                        ext2fs_free_mem(&block);
                        goto fail;
                }
        }
        r = link_new(img, path, parent, name, ino, in.i_mode, &n);
        path = NULL;
        if (r < 0) {
                ext2fs_free_mem(&block);
                goto fail;
        }
        n->dir = dirstate_new(ino, block, pblk);
        if (!n->dir) {
                ext2fs_free_mem(&block);
                r = -ENOMEM;
                goto fail;
        }
        find_last_entry(img, block, &n->dir->last_off);
        r = dir_keep(img, n->dir);
        if (r < 0)
                goto fail;
        return 0;
fail:
        free(path);
        img->failed = true;
        return r;
}

int ext4img_mkdir(struct ext4img *img, const char *path, const struct ext4img_attr *a)
{
        const char *name;
        ext2_ino_t parent;
        char *p = NULL;
        int r = prepare_new(img, path, &p, &parent, &name);

        if (r < 0)
                return r;
        if (!S_ISDIR(a->mode) && (a->mode & S_IFMT)) {
                r = imgerr(-EINVAL, "%s: mkdir with a non-directory mode %o", p, a->mode);
                free(p);
                return r;
        }
        return make_dir(img, p, parent, name, a);
}

int ext4img_mkdir_p(struct ext4img *img, const char *path)
{
        _cleanup_free_ char *p = NULL;
        struct ext4img_attr a = { .mode = S_IFDIR | 0755, .mtime = img->opts.timestamp };
        int r = normalize_path(path, &p);

        if (r < 0)
                return r;
        for (char *s = p + 1;; s++) {
                if (*s == '/' || !*s) {
                        char c = *s;
                        struct node *n;
                        *s = 0;
                        n = node_find(img, p);
                        if (n && !S_ISDIR(n->mode))
                                return imgerr(-ENOTDIR, "%s: exists and is not a directory", p);
                        if (!n && p[1]) {
                                r = ext4img_mkdir(img, p, &a);
                                if (r < 0)
                                        return r;
                        }
                        *s = c;
                        if (!c)
                                break;
                }
        }
        return 0;
}

/* Inodes without data blocks: devices, fifos, sockets, fast symlinks. */
static int make_simple(struct ext4img *img, const char *in_path, const struct ext4img_attr *a,
                       dev_t rdev, const char *fast_target)
{
        struct ext2_inode_large in;
        const char *name;
        ext2_ino_t parent, ino;
        char *p = NULL;
        int r = prepare_new(img, in_path, &p, &parent, &name);

        if (r < 0)
                return r;
        r = new_inode(img, parent, a->mode, p, &ino);
        if (r < 0)
                goto fail;
        init_inode(&in, a);
        if (fast_target) {
                size_t n = strlen(fast_target);
                memcpy(in.i_block, fast_target, n);
                in.i_size = (__u32)n;
        } else if (S_ISCHR(a->mode) || S_ISBLK(a->mode)) {
                unsigned ma = major(rdev), mi = minor(rdev);
                /* old 16-bit encoding when it fits, as the kernel does */
                if (ma < 256 && mi < 256)
                        in.i_block[0] = ma * 256 + mi;
                else
                        in.i_block[1] = (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
        }
        r = write_new_inode(img, ino, &in, p);
        if (r < 0)
                goto fail;
        return link_new(img, p, parent, name, ino, a->mode, NULL);
fail:
        free(p);
        img->failed = true;
        return r;
}

int ext4img_mknod(struct ext4img *img, const char *path, const struct ext4img_attr *a, dev_t rdev)
{
        switch (a->mode & S_IFMT) {
        case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
                return make_simple(img, path, a, rdev, NULL);
        default:
                return imgerr(-EINVAL, "%s: mknod needs a device, fifo or socket mode, not %o",
                              path, a->mode);
        }
}

int ext4img_symlink(struct ext4img *img, const char *path, const char *target,
                    const struct ext4img_attr *a)
{
        struct ext4img_attr la = *a;
        size_t n = strlen(target);
        struct ext4img_file *f;
        int r;

        la.mode = S_IFLNK | 0777;
        if (n == 0 || n >= img->fs->blocksize)
                return imgerr(-ENAMETOOLONG, "%s: symlink target must be 1 to %u bytes, not %zu",
                              path, img->fs->blocksize - 1, n);
        if (n < sizeof(((struct ext2_inode *)0)->i_block))
                return make_simple(img, path, &la, 0, target);
        /* slow symlink: the target is the content of one data block */
        r = ext4img_file_begin(img, path, &la, n, &f);
        if (r < 0)
                return r;
        r = ext4img_file_write(f, target, n);
        if (r < 0) {
                ext4img_file_abort(f);
                return r;
        }
        return ext4img_file_commit(f);
}

int ext4img_hardlink(struct ext4img *img, const char *path, const char *existing)
{
        _cleanup_free_ char *e = NULL;
        struct ext2_inode_large in;
        struct node *target;
        const char *name;
        ext2_ino_t parent;
        char *p;
        int r;

        r = normalize_path(existing, &e);
        if (r < 0)
                return r;
        target = node_find(img, e);
        if (!target)
                return imgerr(-ENOENT, "%s: hard link target %s does not exist in the image", path, e);
        if (S_ISDIR(target->mode))
                return imgerr(-EPERM, "%s: hard link target %s is a directory", path, e);
        ext2_ino_t ino = target->ino;
        mode_t mode = target->mode;
        r = prepare_new(img, path, &p, &parent, &name);
        if (r < 0)
                return r;
        r = read_inode(img, ino, &in, p);
        if (r == 0 && in.i_links_count >= EXT2_LINK_MAX)
                r = imgerr(-EMLINK, "%s: %s has too many links", p, e);
        if (r == 0) {
                in.i_links_count++;
                r = update_inode(img, ino, &in, p);
        }
        if (r < 0) {
                free(p);
                return r;
        }
        return link_new(img, p, parent, name, ino, mode, NULL);
}

int set_xattr_ino(struct ext4img *img, ext2_ino_t ino, const char *name, const void *value,
                  size_t len, const char *what)
{
        /* apply-signatures rewrites values through the same function
         * (ext4stamp.h), so a stamped inode is the one written here */
        const char *step;
        errcode_t err = ext4_xattr_set_ino(img->fs, ino, name, value, len, &step);

        if (!err)
                return 0;
        if (step == name)
                return imgerr_prefix(fs_error(img, err, what, name), "setting xattr: ");
        return fs_error(img, err, what, step);
}

int ext4img_set_xattr(struct ext4img *img, const char *path, const char *name,
                      const void *value, size_t len)
{
        _cleanup_free_ char *p = NULL;
        struct node *n;
        int r = normalize_path(path, &p);

        if (r < 0)
                return r;
        n = node_find(img, p);
        if (!n)
                return imgerr(-ENOENT, "%s: no such path in the image", p);
        return set_xattr_ino(img, n->ino, name, value, len, p);
}

int ext4img_set_attr(struct ext4img *img, const char *path, const struct ext4img_attr *a)
{
        _cleanup_free_ char *p = NULL;
        struct ext2_inode_large in;
        struct node *n;
        int r = normalize_path(path, &p);

        if (r < 0)
                return r;
        n = node_find(img, p);
        if (!n)
                return imgerr(-ENOENT, "%s: no such path in the image", p);
        if ((a->mode & S_IFMT) && (a->mode & S_IFMT) != (n->mode & S_IFMT))
                return imgerr(-EINVAL, "%s: cannot change the file type", p);
        r = read_inode(img, n->ino, &in, p);
        if (r < 0)
                return r;
        in.i_mode = (__u16)((n->mode & S_IFMT) | (a->mode & 07777));
        in.i_uid = (__u16)a->uid;
        ext2fs_set_i_uid_high(in, a->uid >> 16);
        in.i_gid = (__u16)a->gid;
        ext2fs_set_i_gid_high(in, a->gid >> 16);
        stamp(&in, a->mtime);
        n->mode = in.i_mode;
        return update_inode(img, n->ino, &in, p);
}

void ext4img_add_ro_compat(struct ext4img *img, uint32_t feature)
{
        img->fs->super->s_feature_ro_compat |= feature;
        ext2fs_mark_super_dirty(img->fs);
}


int ext4img_usage(struct ext4img *img, struct ext4img_usage *u)
{
        struct ext2_super_block *s = img->fs->super;

        u->block_size = img->fs->blocksize;
        u->blocks_total = ext2fs_blocks_count(s);
        u->blocks_used = u->blocks_total - ext2fs_free_blocks_count(s);
        u->inodes_total = s->s_inodes_count;
        u->inodes_used = s->s_inodes_count - s->s_free_inodes_count;
        return 0;
}
