/* One read-only walker over an ext4 image (see ext4walk.h). */
#include "ext4/ext4walk.h"
#include "ext4/gpt.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <et/com_err.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"

/* Content is read in runs of up to this many bytes: large enough that the
 * per-call cost vanishes, small enough to stay in the CPU cache while it is
 * hashed. */
#define READ_CHUNK (512u * 1024u)
#define MAX_DEPTH 4096

struct ext4walk {
        ext2_filsys fs;
        char *image;
        uint8_t *chunk;           /* READ_CHUNK bytes */
        /* The image, read with pread (never mapped: a file that shrinks
         * under a mapping kills the process with SIGBUS; pread returns
         * short and we say so).  Any thread may read runs through it. */
        int fd;
        uint64_t fs_bytes;        /* blocks_count * block size */
        struct stat st;           /* at open: size and mtime, to notice changes */
        /* A GPT disk (Format=disk): where the root partition lies; every
         * pread adds part_offset. */
        uint64_t part_offset, part_size;
        /* Buffers behind the current entry's pointers. */
        char *target;
        void *ima, *caps, *selinux;
        char *stat_path;
};

struct node {
        char *path;
        ext2_ino_t ino;
        size_t order;             /* position after sorting */
        size_t first;             /* order of the first node with this inode */
};

struct collect {
        struct ext4walk *w;
        struct node *nodes;
        size_t n, cap;
        ext2fs_inode_bitmap dirs_seen;
        char *prefix;             /* the directory being read */
        int depth;
        int err;
        bool recursive;
};

const char *ext4walk_image(const struct ext4walk *w)
{
        return w->image;
}

static int ext2_err(const struct ext4walk *w, errcode_t e, int code, const char *what)
{
        return imgerr(code, "%s: %s: %s", w->image, what, error_message(e));
}

/* ---- opening ------------------------------------------------------- */

static int open_error(const char *path, errcode_t e)
{
        switch (e) {
        case EXT2_ET_BAD_MAGIC:
                return imgerr(-EINVAL, "%s: not an ext4 image (no ext2/3/4 superblock)", path);
        case EXT2_ET_SHORT_READ:
        case EXT2_ET_LLSEEK_FAILED:
                return imgerr(-ENODATA, "%s: truncated image (%s)", path, error_message(e));
        case EXT2_ET_UNSUPP_FEATURE:
        case EXT2_ET_RO_UNSUPP_FEATURE:
                return imgerr(-EOPNOTSUPP, "%s: %s", path, error_message(e));
        default:
                if (e > 0 && e < 256)  /* a plain errno from the unix io manager */
                        return imgerr(-(int)e, "%s: %s", path, strerror((int)e));
                return imgerr(-EBADMSG, "%s: corrupted ext4 superblock or group descriptors: %s",
                              path, error_message(e));
        }
}

static int check_geometry(struct ext4walk *w, const char *path)
{
        struct ext2_super_block *sb = w->fs->super;
        uint64_t want = ext2fs_blocks_count(sb) * (uint64_t)w->fs->blocksize;
        struct stat st;

        if (!ext2fs_has_feature_extents(sb))
                return imgerr(-EINVAL, "%s: not an ext4 image (an ext2/ext3 filesystem without extents)",
                              path);
        if (stat(path, &st) < 0)
                return imgerr(-errno, "%s: %m", path);
        if (w->part_size && w->part_size < want)
                return imgerr(-ENODATA, "%s: truncated root partition: %llu bytes, the superblock says %llu",
                              path, (unsigned long long)w->part_size, (unsigned long long)want);
        if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < want + w->part_offset)
                return imgerr(-ENODATA, "%s: truncated image: %llu bytes, the superblock says %llu",
                              path, (unsigned long long)st.st_size, (unsigned long long)want);
        if (sb->s_first_ino > sb->s_inodes_count || sb->s_inodes_count == 0)
                return imgerr(-EBADMSG, "%s: corrupted superblock: inode count %u", path,
                              sb->s_inodes_count);
        return 0;
}

static int open_image_fd(struct ext4walk *w, const char *path)
{
        w->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (w->fd < 0 || fstat(w->fd, &w->st) < 0)
                return imgerr(-errno, "%s: %m", path);
        w->fs_bytes = ext2fs_blocks_count(w->fs->super) * (uint64_t)w->fs->blocksize;
        return 0;
}

int ext4walk_open(const char *path, struct ext4walk **out)
{
        char *io_options = NULL;
        struct ext4walk *w;
        struct stat st;
        errcode_t e;
        int r;

        initialize_ext2_error_table();
        if (stat(path, &st) < 0)
                return imgerr(-errno, "%s: %m", path);
        if (S_ISDIR(st.st_mode))
                return imgerr(-EISDIR, "%s: is a directory, not an image", path);
        /* The superblock ends at byte 2048. */
        if (S_ISREG(st.st_mode) && st.st_size < 2048)
                return imgerr(-EINVAL, "%s: not an ext4 image (%lld bytes)", path, (long long)st.st_size);
        w = calloc(1, sizeof(*w));
        if (!w)
                return imgerr(-ENOMEM, "out of memory");
        w->fd = -1;
        w->image = strdup(path);
        w->chunk = malloc(READ_CHUNK);
        if (!w->image || !w->chunk) {
                ext4walk_close(w);
                return imgerr(-ENOMEM, "out of memory");
        }
        /* A GPT disk: the filesystem is the root partition (found by its
         * Discoverable Partitions type), read at its offset. */
        r = gpt_find_partition(path, GPT_TYPE_ROOT_X86_64, &w->part_offset, &w->part_size);
        if (r < 0 || (r > 0 && w->part_offset % 4096)) {
                if (r > 0)
                        r = imgerr(-EINVAL, "%s: the root partition is not 4 KiB aligned", path);
                ext4walk_close(w);
                return r;
        }
        if (r > 0 && asprintf(&io_options, "offset=%llu", (unsigned long long)w->part_offset) < 0) {
                ext4walk_close(w);
                return imgerr(-ENOMEM, "out of memory");
        }
        /* No EXT2_FLAG_RW: libext2fs opens the file O_RDONLY and refuses to
         * write. */
        e = ext2fs_open2(path, io_options, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &w->fs);
        free(io_options);
        if (e) {
                w->fs = NULL;
                ext4walk_close(w);
                return open_error(path, e);
        }
        r = check_geometry(w, path);
        if (r >= 0)
                r = open_image_fd(w, path);
        if (r < 0) {
                ext4walk_close(w);
                return r;
        }
        *out = w;
        return 0;
}

static void free_entry_buffers(struct ext4walk *w)
{
        free(w->target);
        ext2fs_free_mem(&w->ima);
        ext2fs_free_mem(&w->caps);
        ext2fs_free_mem(&w->selinux);
        w->target = NULL;
}

void ext4walk_close(struct ext4walk *w)
{
        if (!w)
                return;
        free_entry_buffers(w);
        if (w->fs)
                ext2fs_close_free(&w->fs);
        if (w->fd >= 0)
                close(w->fd);
        free(w->stat_path);
        free(w->chunk);
        free(w->image);
        free(w);
}

/* ---- describing one inode ------------------------------------------ */

static int64_t decode_time(uint32_t base, uint32_t extra, bool has_extra, uint32_t *nsec)
{
        int64_t t = (int32_t)base;

        *nsec = 0;
        if (has_extra) {
                t += (int64_t)(extra & EXT4_EPOCH_MASK) << 32;
                *nsec = extra >> EXT4_EPOCH_BITS;
        }
        return t;
}

static void decode_rdev(const struct ext2_inode *in, struct ext4walk_entry *e)
{
        uint32_t old = in->i_block[0], dev = in->i_block[1];

        if (old) {
                e->rdev_major = (old >> 8) & 0xff;
                e->rdev_minor = old & 0xff;
        } else {
                e->rdev_major = (dev & 0xfff00) >> 8;
                e->rdev_minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
        }
}

static int read_symlink(struct ext4walk *w, ext2_ino_t ino, struct ext2_inode *in, uint64_t size)
{
        ext2_file_t f;
        unsigned got = 0;
        errcode_t e;

        if (size > 65536)
                return imgerr(-EBADMSG, "%s: inode %u: symlink of %llu bytes", w->image, ino,
                              (unsigned long long)size);
        w->target = calloc(1, size + 1);
        if (!w->target)
                return imgerr(-ENOMEM, "out of memory");
        if (ext2fs_is_fast_symlink(in)) {
                if (size > sizeof(in->i_block))
                        return imgerr(-EBADMSG, "%s: inode %u: fast symlink too long", w->image, ino);
                memcpy(w->target, in->i_block, size);
                return 0;
        }
        /* Slow and inline-data symlinks read like files. */
        e = ext2fs_file_open2(w->fs, ino, in, 0, &f);
        if (e)
                return ext2_err(w, e, -EIO, "reading symlink");
        e = ext2fs_file_read(f, w->target, (unsigned)size, &got);
        ext2fs_file_close(f);
        if (e || got != size)
                return ext2_err(w, e ? e : EXT2_ET_SHORT_READ, -EIO, "reading symlink");
        return 0;
}

static int read_xattrs(struct ext4walk *w, ext2_ino_t ino, struct ext4walk_entry *e)
{
        struct ext2_xattr_handle *h;
        errcode_t err;
        int r = 0;

        err = ext2fs_xattrs_open(w->fs, ino, &h);
        if (err)
                return ext2_err(w, err, -EIO, "opening xattrs");
        err = ext2fs_xattrs_read(h);
        if (err) {
                r = imgerr(-EBADMSG, "%s: inode %u: reading xattrs: %s", w->image, ino,
                           error_message(err));
                goto out;
        }
        err = ext2fs_xattr_get(h, "security.ima", &w->ima, &e->ima_len);
        if (err == 0)
                e->ima = w->ima;
        else if (err != EXT2_ET_EA_KEY_NOT_FOUND) {
                r = ext2_err(w, err, -EIO, "reading security.ima");
                goto out;
        }
        err = ext2fs_xattr_get(h, "security.capability", &w->caps, &e->caps_len);
        if (err == 0)
                e->caps = w->caps;
        else if (err != EXT2_ET_EA_KEY_NOT_FOUND) {
                r = ext2_err(w, err, -EIO, "reading security.capability");
                goto out;
        }
        err = ext2fs_xattr_get(h, "security.selinux", &w->selinux, &e->selinux_len);
        if (err == 0)
                e->selinux = w->selinux;
        else if (err != EXT2_ET_EA_KEY_NOT_FOUND)
                r = ext2_err(w, err, -EIO, "reading security.selinux");
out:
        ext2fs_xattrs_close(&h);
        return r;
}

static int describe(struct ext4walk *w, ext2_ino_t ino, struct ext4walk_entry *e)
{
        struct ext2_inode_large in;
        bool extra;
        errcode_t err;
        int r;

        free_entry_buffers(w);
        memset(&in, 0, sizeof(in));
        err = ext2fs_read_inode_full(w->fs, ino, (struct ext2_inode *)&in, sizeof(in));
        if (err)
                return imgerr(-EBADMSG, "%s: %s: inode %u: %s", w->image, e->path, ino,
                              error_message(err));
        if (in.i_links_count == 0 || in.i_mode == 0)
                return imgerr(-EBADMSG, "%s: %s: points to unused inode %u", w->image, e->path, ino);
        extra = EXT2_INODE_SIZE(w->fs->super) > EXT2_GOOD_OLD_INODE_SIZE &&
                in.i_extra_isize >= offsetof(struct ext2_inode_large, i_mtime_extra) +
                                    sizeof(in.i_mtime_extra) - EXT2_GOOD_OLD_INODE_SIZE;
        e->ino = ino;
        e->mode = in.i_mode;
        e->uid = inode_uid(in);
        e->gid = inode_gid(in);
        e->size = EXT2_I_SIZE(&in);
        e->mtime = decode_time(in.i_mtime, in.i_mtime_extra, extra, &e->mtime_nsec);
        e->ctime = decode_time(in.i_ctime, in.i_ctime_extra, extra, &e->ctime_nsec);
        e->nlink = in.i_links_count;
        e->rdev_major = e->rdev_minor = 0;
        e->target = NULL;
        e->ima = e->caps = NULL;
        e->ima_len = e->caps_len = 0;
        e->selinux = NULL;
        e->selinux_len = 0;
        if (S_ISCHR(e->mode) || S_ISBLK(e->mode))
                decode_rdev((struct ext2_inode *)&in, e);
        if (S_ISLNK(e->mode)) {
                r = read_symlink(w, ino, (struct ext2_inode *)&in, e->size);
                if (r < 0)
                        return imgerr_prefix(r, "%s: ", e->path);
                e->target = w->target;
        }
        return read_xattrs(w, ino, e);
}

/* ---- resolving a path ---------------------------------------------- */

/* Look a path up component by component, following no symlink, so the
 * path reported is exactly the one that was asked for.  *canon gets the
 * normalised path ("/a/b"). */
static int resolve(struct ext4walk *w, const char *path, ext2_ino_t *ino, char **canon)
{
        _cleanup_free_ char *copy = strdup(path), *norm = calloc(1, strlen(path) + 2);
        ext2_ino_t cur = EXT2_ROOT_INO;
        char *save = NULL, *tok;
        size_t nlen = 0;

        if (!copy || !norm)
                return imgerr(-ENOMEM, "out of memory");
        for (tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
                errcode_t e;
                if (!strcmp(tok, "."))
                        continue;
                if (!strcmp(tok, ".."))
                        return imgerr(-EINVAL, "%s: '..' is not allowed in a path inside an image", path);
                e = ext2fs_check_directory(w->fs, cur);
                if (e == EXT2_ET_NO_DIRECTORY)
                        return imgerr(-ENOTDIR, "%s: %s: not a directory", w->image, norm);
                if (e)
                        return ext2_err(w, e, -EIO, path);
                e = ext2fs_lookup(w->fs, cur, tok, strlen(tok), NULL, &cur);
                if (e == EXT2_ET_FILE_NOT_FOUND)
                        return imgerr(-ENOENT, "%s: %s: no such file or directory in the image",
                                      w->image, path);
                if (e)
                        return ext2_err(w, e, -EIO, path);
                norm[nlen++] = '/';
                strcpy(norm + nlen, tok);
                nlen += strlen(tok);
        }
        if (nlen == 0)
                norm[nlen++] = '/';
        norm[nlen] = 0;
        *ino = cur;
        *canon = norm;
        norm = NULL;
        return 0;
}

int ext4walk_stat(struct ext4walk *w, const char *path, struct ext4walk_entry *e)
{
        ext2_ino_t ino;
        int r;

        free(w->stat_path);
        w->stat_path = NULL;
        r = resolve(w, path, &ino, &w->stat_path);
        if (r < 0)
                return r;
        memset(e, 0, sizeof(*e));
        e->path = w->stat_path;
        e->name = strrchr(w->stat_path, '/');
        e->name = e->name[1] ? e->name + 1 : e->name;
        return describe(w, ino, e);
}

/* ---- collecting paths ---------------------------------------------- */

static int add_node(struct collect *c, char *path, ext2_ino_t ino)
{
        if (GROW(c->nodes, c->n, c->cap, 256) < 0)
                return imgerr(-ENOMEM, "out of memory");
        c->nodes[c->n++] = (struct node){ .path = path, .ino = ino };
        return 0;
}

static int collect_dir(struct collect *c, ext2_ino_t dir);

static int on_dirent(ext2_ino_t dir, int entry, struct ext2_dir_entry *d, int offset,
                     int blocksize, char *buf, void *priv)
{
        struct collect *c = priv;
        struct ext4walk *w = c->w;
        int len = ext2fs_dirent_name_len(d);
        char *path;

        if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE)
                return 0;
        if (len == 0 || memchr(d->name, '/', len) || memchr(d->name, 0, len) ||
            (len == 1 && d->name[0] == '.') || (len == 2 && !memcmp(d->name, "..", 2))) {
                c->err = imgerr(-EBADMSG, "%s: %s: corrupted directory entry '%.*s'", w->image,
                                c->prefix, len, d->name);
                return DIRENT_ABORT;
        }
        if (d->inode < 1 || d->inode > w->fs->super->s_inodes_count) {
                c->err = imgerr(-EBADMSG, "%s: %s/%.*s: inode %u out of range", w->image,
                                c->prefix, len, d->name, d->inode);
                return DIRENT_ABORT;
        }
        if (asprintf(&path, "%s%s%.*s", c->prefix, strcmp(c->prefix, "/") ? "/" : "", len,
                     d->name) < 0) {
                c->err = imgerr(-ENOMEM, "out of memory");
                return DIRENT_ABORT;
        }
        c->err = add_node(c, path, d->inode);
        if (c->err < 0) {
                free(path);
                return DIRENT_ABORT;
        }
        return 0;
}

/* Read one directory's entries, then descend into subdirectories. */
static int collect_dir(struct collect *c, ext2_ino_t dir)
{
        struct ext4walk *w = c->w;
        size_t from = c->n;
        char *saved = c->prefix;
        errcode_t e;

        if (ext2fs_fast_test_inode_bitmap2(c->dirs_seen, dir))
                return imgerr(-EBADMSG, "%s: %s: directory loop (inode %u seen before)", w->image,
                              c->prefix, dir);
        ext2fs_fast_mark_inode_bitmap2(c->dirs_seen, dir);
        if (++c->depth > MAX_DEPTH)
                return imgerr(-EBADMSG, "%s: %s: directories nested too deep", w->image, c->prefix);
        e = ext2fs_dir_iterate2(w->fs, dir, 0, NULL, on_dirent, c);
        if (c->err < 0)
                return c->err;
        if (e)
                return imgerr(-EBADMSG, "%s: %s: reading directory: %s", w->image, c->prefix,
                              error_message(e));
        if (!c->recursive)
                return 0;
        for (size_t i = from, end = c->n; i < end; i++) {
                int r;
                if (ext2fs_check_directory(w->fs, c->nodes[i].ino) != 0)
                        continue;
                c->prefix = c->nodes[i].path;
                r = collect_dir(c, c->nodes[i].ino);
                c->prefix = saved;
                if (r < 0)
                        return r;
        }
        c->depth--;
        return 0;
}

static int by_path(const void *a, const void *b)
{
        return strcmp(((const struct node *)a)->path, ((const struct node *)b)->path);
}

static int by_ino_then_order(const void *a, const void *b)
{
        const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;
        if (x->ino != y->ino)
                return x->ino < y->ino ? -1 : 1;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* Sort by path; then mark, for every inode met at several paths, the
 * first path in that order, so hard links are reported and hashed once. */
static int sort_nodes(struct collect *c)
{
        _cleanup_free_ struct node **byino = NULL;

        qsort(c->nodes, c->n, sizeof(*c->nodes), by_path);
        for (size_t i = 1; i < c->n; i++)
                if (!strcmp(c->nodes[i - 1].path, c->nodes[i].path))
                        return imgerr(-EBADMSG, "%s: %s: corrupted directory: the name appears twice",
                                      c->w->image, c->nodes[i].path);
        byino = malloc((c->n ? c->n : 1) * sizeof(*byino));
        if (!byino)
                return imgerr(-ENOMEM, "out of memory");
        for (size_t i = 0; i < c->n; i++) {
                c->nodes[i].order = i;
                byino[i] = &c->nodes[i];
        }
        qsort(byino, c->n, sizeof(*byino), by_ino_then_order);
        for (size_t i = 0; i < c->n; i++)
                byino[i]->first = (i > 0 && byino[i - 1]->ino == byino[i]->ino)
                                          ? byino[i - 1]->first : byino[i]->order;
        return 0;
}

static void collect_free(struct collect *c)
{
        for (size_t i = 0; i < c->n; i++)
                free(c->nodes[i].path);
        free(c->nodes);
        if (c->dirs_seen)
                ext2fs_free_inode_bitmap(c->dirs_seen);
}

int ext4walk_walk(struct ext4walk *w, const char *start, unsigned flags,
                  ext4walk_fn fn, void *userdata)
{
        struct collect c = { .w = w, .recursive = flags & EXT4WALK_RECURSIVE };
        ext2_ino_t ino;
        char *canon;
        errcode_t e;
        int r;

        r = resolve(w, start, &ino, &canon);
        if (r < 0)
                return r;
        r = add_node(&c, canon, ino);
        if (r < 0) {
                free(canon);
                return r;
        }
        e = ext2fs_allocate_inode_bitmap(w->fs, "walked directories", &c.dirs_seen);
        if (e) {
                r = ext2_err(w, e, -ENOMEM, "allocating bitmap");
                goto out;
        }
        if (ext2fs_check_directory(w->fs, ino) == 0) {
                c.prefix = canon;
                r = collect_dir(&c, ino);
                if (r < 0)
                        goto out;
        }
        r = sort_nodes(&c);
        for (size_t i = 0; r == 0 && i < c.n; i++) {
                struct node *n = &c.nodes[i];
                struct ext4walk_entry ent = { .path = n->path };
                if ((flags & EXT4WALK_NO_START) && n->ino == ino && !strcmp(n->path, canon))
                        continue;
                ent.name = strrchr(n->path, '/');
                ent.name = ent.name[1] ? ent.name + 1 : ent.name;
                r = describe(w, n->ino, &ent);
                if (r < 0)
                        break;
                if (n->first != i && S_ISREG(ent.mode))
                        ent.link_of = c.nodes[n->first].path;
                r = fn(w, &ent, userdata);
        }
out:
        collect_free(&c);
        return r;
}

/* ---- reading content ----------------------------------------------- */

struct runs {
        struct ext4walk_run *v;
        size_t n, cap;
};

static int push_run(struct runs *rs, uint64_t offset, uint64_t len, bool zero)
{
        struct ext4walk_run *last = rs->n ? &rs->v[rs->n - 1] : NULL;

        if (len == 0)
                return 0;
        /* Physically contiguous extents become one run. */
        if (last && last->zero == zero && (zero || last->offset + last->len == offset)) {
                last->len += len;
                return 0;
        }
        if (GROW(rs->v, rs->n, rs->cap, 8) < 0)
                return imgerr(-ENOMEM, "out of memory");
        rs->v[rs->n++] = (struct ext4walk_run){ .offset = zero ? 0 : offset, .len = len, .zero = zero };
        return 0;
}

/* Walk the extent tree into runs covering exactly e->size bytes. */
static int map_extents(struct ext4walk *w, const struct ext4walk_entry *e, struct runs *rs)
{
        uint64_t bs = w->fs->blocksize, size = e->size, at = 0;
        blk64_t nblocks = ext2fs_blocks_count(w->fs->super);
        ext2_extent_handle_t h;
        struct ext2fs_extent x;
        int op = EXT2_EXTENT_ROOT, r = 0;
        errcode_t err;

        err = ext2fs_extent_open(w->fs, e->ino, &h);
        if (err)
                return imgerr(-EBADMSG, "%s: %s: extent tree: %s", w->image, e->path,
                              error_message(err));
        while (at < size) {
                uint64_t start, len;

                err = ext2fs_extent_get(h, op, &x);
                op = EXT2_EXTENT_NEXT;
                if (err == EXT2_ET_EXTENT_NO_NEXT)
                        break;
                if (err) {
                        r = imgerr(-EBADMSG, "%s: %s: extent tree: %s", w->image, e->path,
                                   error_message(err));
                        break;
                }
                if (!(x.e_flags & EXT2_EXTENT_FLAGS_LEAF) || (x.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT))
                        continue;
                start = x.e_lblk * bs;
                if (start < at || x.e_pblk == 0 || x.e_pblk + x.e_len > nblocks) {
                        r = imgerr(-EBADMSG, "%s: %s: corrupted extent (logical block %llu)",
                                   w->image, e->path, (unsigned long long)x.e_lblk);
                        break;
                }
                if (start >= size)
                        break;
                len = (uint64_t)x.e_len * bs;
                if (len > size - start)
                        len = size - start;
                /* A hole before the extent, then the extent (unwritten ones read as zeros). */
                if ((r = push_run(rs, 0, start - at, true)) < 0 ||
                    (r = push_run(rs, x.e_pblk * bs, len, x.e_flags & EXT2_EXTENT_FLAGS_UNINIT)) < 0)
                        break;
                at = start + len;
        }
        ext2fs_extent_free(h);
        if (r == 0)
                r = push_run(rs, 0, size - at, true);   /* a sparse tail */
        return r;
}

int ext4walk_runs(struct ext4walk *w, const struct ext4walk_entry *e,
                  struct ext4walk_run **runs, size_t *n)
{
        struct runs rs = {};
        struct ext2_inode in;
        errcode_t err;
        int r;

        if (!S_ISREG(e->mode))
                return imgerr(-EINVAL, "%s: %s: not a regular file", w->image, e->path);
        err = ext2fs_read_inode(w->fs, e->ino, &in);
        if (err)
                return imgerr(-EBADMSG, "%s: %s: %s", w->image, e->path, error_message(err));
        if (!(in.i_flags & EXT4_EXTENTS_FL) || (in.i_flags & EXT4_INLINE_DATA_FL))
                return -EOPNOTSUPP;
        r = map_extents(w, e, &rs);
        if (r < 0) {
                free(rs.v);
                return r;
        }
        *runs = rs.v;
        *n = rs.n;
        return 0;
}

int ext4walk_inode_flags(struct ext4walk *w, const struct ext4walk_entry *e, uint32_t *flags)
{
        struct ext2_inode in;
        errcode_t err = ext2fs_read_inode(w->fs, e->ino, &in);

        if (err)
                return imgerr(-EBADMSG, "%s: %s: %s", w->image, e->path, error_message(err));
        *flags = in.i_flags;
        return 0;
}

unsigned ext4walk_block_size(const struct ext4walk *w)
{
        return w->fs->blocksize;
}

int ext4walk_block_end(struct ext4walk *w, const struct ext4walk_entry *e, uint64_t *end)
{
        ext2_extent_handle_t h;
        struct ext2fs_extent x;
        int op = EXT2_EXTENT_ROOT;
        errcode_t err;

        *end = 0;
        err = ext2fs_extent_open(w->fs, e->ino, &h);
        if (err)
                return imgerr(-EBADMSG, "%s: %s: extent tree: %s", w->image, e->path, error_message(err));
        for (;;) {
                err = ext2fs_extent_get(h, op, &x);
                op = EXT2_EXTENT_NEXT;
                if (err == EXT2_ET_EXTENT_NO_NEXT)
                        break;
                if (err) {
                        ext2fs_extent_free(h);
                        return imgerr(-EBADMSG, "%s: %s: extent tree: %s", w->image, e->path, error_message(err));
                }
                if ((x.e_flags & EXT2_EXTENT_FLAGS_LEAF) && x.e_lblk + (uint64_t)x.e_len > *end)
                        *end = x.e_lblk + (uint64_t)x.e_len;
        }
        ext2fs_extent_free(h);
        return 0;
}

int ext4walk_read_blocks(struct ext4walk *w, const struct ext4walk_entry *e, uint64_t lblk,
                         uint64_t count, void *buf)
{
        unsigned bs = w->fs->blocksize;
        blk64_t nblocks = ext2fs_blocks_count(w->fs->super);

        for (uint64_t i = 0; i < count; i++) {
                blk64_t pblk = 0;
                int ret_flags = 0;
                uint8_t *out = (uint8_t *)buf + i * bs;
                errcode_t err = ext2fs_bmap2(w->fs, e->ino, NULL, NULL, 0, lblk + i, &ret_flags, &pblk);

                if (err)
                        return imgerr(-EBADMSG, "%s: %s: block %llu: %s", w->image, e->path,
                                      (unsigned long long)(lblk + i), error_message(err));
                if (!pblk || (ret_flags & BMAP_RET_UNINIT)) {
                        memset(out, 0, bs);
                        continue;
                }
                if (pblk >= nblocks)
                        return imgerr(-EBADMSG, "%s: %s: block %llu lies outside the image", w->image,
                                      e->path, (unsigned long long)(lblk + i));
                err = io_channel_read_blk64(w->fs->io, pblk, 1, out);
                if (err)
                        return imgerr(-EIO, "%s: %s: reading block %llu: %s", w->image, e->path,
                                      (unsigned long long)(lblk + i), error_message(err));
        }
        return 0;
}

bool ext4walk_mapped(const struct ext4walk *w)
{
        return w->fd >= 0;
}

uint64_t ext4walk_image_bytes(const struct ext4walk *w)
{
        return w->fs_bytes;
}

int ext4walk_unchanged(const struct ext4walk *w)
{
        struct stat now;

        if (stat(w->image, &now) < 0)
                return imgerr(-errno, "%s: image changed while reading: %m", w->image);
        if (now.st_dev != w->st.st_dev || now.st_ino != w->st.st_ino || now.st_size != w->st.st_size ||
            now.st_mtim.tv_sec != w->st.st_mtim.tv_sec || now.st_mtim.tv_nsec != w->st.st_mtim.tv_nsec)
                return imgerr(-ESTALE, "%s: image changed while reading: results discarded", w->image);
        return 0;
}

static int shrank(const struct ext4walk *w, uint64_t off)
{
        return imgerr(-ENODATA, "%s: image changed or shrank while reading (no data at byte %llu)",
                      w->image, (unsigned long long)off);
}

/* Zeros for holes, handed out from a static zero page in pieces. */
static int emit_zeros(uint64_t len, ext4walk_data_fn fn, void *userdata)
{
        static const uint8_t zeros[65536];
        int r = 0;

        while (r == 0 && len) {
                size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
                r = fn(zeros, n, userdata);
                len -= n;
        }
        return r;
}

/* pread from the image's own descriptor (thread-safe), into a buffer no
 * larger than the content, so small files cost a small allocation. */
int ext4walk_read_runs(const struct ext4walk *w, const struct ext4walk_run *runs, size_t n,
                       ext4walk_data_fn fn, void *userdata)
{
        _cleanup_free_ uint8_t *buf = NULL;
        uint64_t data = 0;
        size_t cap;
        int r = 0;

        for (size_t i = 0; i < n; i++)
                if (!runs[i].zero)
                        data += runs[i].len;
        cap = data < READ_CHUNK ? (size_t)data : READ_CHUNK;
        if (cap && !(buf = malloc(cap)))
                return imgerr(-ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < n; i++) {
                uint64_t off = runs[i].offset, len = runs[i].len;
                if (runs[i].zero) {
                        r = emit_zeros(len, fn, userdata);
                        continue;
                }
                while (r == 0 && len) {
                        size_t piece = len < cap ? (size_t)len : cap;
                        ssize_t got = pread(w->fd, buf, piece, (off_t)(w->part_offset + off));
                        if (got < 0 && errno == EINTR)
                                continue;
                        if (got < 0)
                                return imgerr(-errno, "%s: reading byte %llu: %m", w->image,
                                              (unsigned long long)off);
                        if (got == 0)
                                return shrank(w, off);
                        r = fn(buf, (size_t)got, userdata);
                        off += (uint64_t)got;
                        len -= (uint64_t)got;
                }
        }
        return r;
}

/* Without a mapping: the runs through the io channel, in large reads. */
static int read_runs_io(struct ext4walk *w, const struct ext4walk_entry *e,
                        const struct ext4walk_run *runs, size_t n,
                        ext4walk_data_fn fn, void *userdata)
{
        unsigned bs = w->fs->blocksize;
        int r = 0;

        for (size_t i = 0; r == 0 && i < n; i++) {
                blk64_t pblk = runs[i].offset / bs;
                uint64_t len = runs[i].len;
                if (runs[i].zero) {
                        r = emit_zeros(len, fn, userdata);
                        continue;
                }
                while (r == 0 && len) {
                        uint64_t want = (len + bs - 1) / bs * bs;
                        size_t piece = want < READ_CHUNK ? want : READ_CHUNK;
                        errcode_t err = io_channel_read_blk64(w->fs->io, pblk, (int)(piece / bs), w->chunk);
                        if (err == EXT2_ET_SHORT_READ)
                                return shrank(w, pblk * bs);
                        if (err)
                                return imgerr(-EIO, "%s: %s: reading block %llu: %s", w->image,
                                              e->path, (unsigned long long)pblk, error_message(err));
                        pblk += piece / bs;
                        if (piece > len)
                                piece = len;   /* the tail of the last block is not content */
                        r = fn(w->chunk, piece, userdata);
                        len -= piece;
                }
        }
        return r;
}

/* Inline-data and block-mapped files: libext2fs's own file reader. */
static int read_generic(struct ext4walk *w, const struct ext4walk_entry *e,
                        ext4walk_data_fn fn, void *userdata)
{
        uint64_t done = 0;
        ext2_file_t f;
        errcode_t err;
        int r = 0;

        err = ext2fs_file_open(w->fs, e->ino, 0, &f);
        if (err)
                return imgerr(-EIO, "%s: %s: %s", w->image, e->path, error_message(err));
        while (r == 0 && done < e->size) {
                unsigned got = 0;
                err = ext2fs_file_read(f, w->chunk, READ_CHUNK, &got);
                if (err || got == 0) {
                        r = imgerr(-EIO, "%s: %s: %s", w->image, e->path,
                                   error_message(err ? err : EXT2_ET_SHORT_READ));
                        break;
                }
                r = fn(w->chunk, got, userdata);
                done += got;
        }
        ext2fs_file_close(f);
        return r;
}

int ext4walk_check_size(const struct ext4walk *w, const struct ext4walk_entry *e)
{
        if (e->size > w->fs_bytes)
                return imgerr(-EFBIG, "%s: %s: %llu bytes, larger than the whole image (%llu bytes): not read",
                              w->image, e->path, (unsigned long long)e->size,
                              (unsigned long long)w->fs_bytes);
        return 0;
}

int ext4walk_read(struct ext4walk *w, const struct ext4walk_entry *e,
                  ext4walk_data_fn fn, void *userdata)
{
        struct ext4walk_run *runs = NULL;
        size_t n = 0;
        int r;

        r = ext4walk_check_size(w, e);
        if (r < 0)
                return r;
        r = ext4walk_runs(w, e, &runs, &n);
        if (r == -EOPNOTSUPP)
                return read_generic(w, e, fn, userdata);
        if (r < 0)
                return r;
        r = w->fd >= 0 ? ext4walk_read_runs(w, runs, n, fn, userdata)
                       : read_runs_io(w, e, runs, n, fn, userdata);
        free(runs);
        return r;
}

/* ---- output helpers ------------------------------------------------ */

char *ext4walk_escape(const char *s)
{
        return escape_text(s, ESCAPE_FIELD);
}

struct small_file {
        char *buf;
        size_t len, size;
};

static int append_small(const void *buf, size_t len, void *userdata)
{
        struct small_file *f = userdata;

        if (len > f->size - f->len)
                return -EFBIG;   /* grew since the stat: checked by ext4walk_unchanged */
        memcpy(f->buf + f->len, buf, len);
        f->len += len;
        return 0;
}

int ext4walk_read_file(struct ext4walk *w, const char *path, size_t max, char **data, size_t *len)
{
        struct ext4walk_entry e;
        struct small_file f = { 0 };
        int r = ext4walk_stat(w, path, &e);

        if (r < 0)
                return r;
        if (!S_ISREG(e.mode))
                return imgerr(-EINVAL, "%s: %s: not a regular file", w->image, path);
        if (e.size > max)
                return imgerr(-EFBIG, "%s: %s: larger than %zu bytes", w->image, path, max);
        f.size = e.size;
        f.buf = calloc(1, e.size + 1);
        if (!f.buf)
                return imgerr(-ENOMEM, "out of memory");
        r = ext4walk_read(w, &e, append_small, &f);
        if (r == -EFBIG)
                r = imgerr(r, "%s: %s: changed while read", w->image, path);
        if (r < 0) {
                free(f.buf);
                return r;
        }
        *data = f.buf;
        *len = f.len;
        return 0;
}
