/* ext4htree: the hashed directory index (htree) built at close for directories of more than one block. */
#include "ext4/ext4img.h"
#include "ext4/ext4state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* ---- hashed directory index (htree) ------------------------------------------ */

/* Directories of more than one block get an htree index at close, as
 * `e2fsck -D` would build it, so the kernel finds names by hash instead of
 * scanning every block.  One index level (up to 507 leaf blocks, some 40,000
 * names) covers every real directory; bigger ones stay linear, which is
 * still a valid ext4 directory. */

struct hent {
        ext2_dirhash_t hash, minor;
        ext2_ino_t ino;
        uint8_t type, len;
        const char *name;
};

static int hent_cmp(const void *a, const void *b)
{
        const struct hent *x = a, *y = b;
        int c;

        if (x->hash != y->hash)
                return x->hash < y->hash ? -1 : 1;
        if (x->minor != y->minor)
                return x->minor < y->minor ? -1 : 1;
        c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
        return c ? c : (int)x->len - (int)y->len;
}

static unsigned dx_csum_size(struct ext4img *img)
{
        return ext2fs_has_feature_metadata_csum(img->fs->super) ? sizeof(struct ext2_dir_entry_tail) : 0;
}

/* Read every entry but "." and ".." of a (flushed) linear directory. */
static int dir_entries(struct ext4img *img, struct dirstate *d, const struct extent_map *map,
                       size_t map_len, char *blocks, struct hent **out, size_t *n_out,
                       ext2_ino_t *parent)
{
        unsigned bs = img->fs->blocksize, end = bs - dx_csum_size(img);
        size_t n = 0, cap = (size_t)d->nblocks * bs / 12;
        struct hent *h = malloc(cap * sizeof(*h));
        int hash_alg = img->fs->super->s_def_hash_version;

        if (!h)
                return -ENOMEM;
        if (hash_alg <= EXT2_HASH_TEA && (img->fs->super->s_flags & EXT2_FLAGS_UNSIGNED_HASH))
                hash_alg += 3;
        for (size_t m = 0; m < map_len; m++)
                for (uint64_t i = 0; i < map[m].len; i++) {
                        char *buf = blocks + (map[m].lblk + i) * bs;
                        errcode_t err = ext2fs_read_dir_block4(img->fs, map[m].pblk + i, buf, 0, d->ino);
                        if (err) {
                                free(h);
                                return fs_error(img, err, "directory", "reading block");
                        }
                }
        for (uint32_t b = 0; b < d->nblocks; b++) {
                for (unsigned pos = 0, rec; pos < end; pos += rec) {
                        struct ext2_dir_entry *de = (struct ext2_dir_entry *)(blocks + (size_t)b * bs + pos);
                        unsigned len = ext2fs_dirent_name_len(de);
                        if (ext2fs_get_rec_len(img->fs, de, &rec) || rec < 8) {
                                free(h);
                                return imgerr(-EIO, "corrupt directory block");
                        }
                        if (!de->inode)
                                continue;
                        if (len <= 2 && de->name[0] == '.' && (len == 1 || de->name[1] == '.')) {
                                if (len == 2)
                                        *parent = de->inode;
                                continue;
                        }
                        struct hent *e = &h[n++];
                        e->ino = de->inode;
                        e->type = (uint8_t)ext2fs_dirent_file_type(de);
                        e->len = (uint8_t)len;
                        e->name = de->name;
                        ext2fs_dirhash2(hash_alg, de->name, (int)len, img->fs->encoding, 0,
                                        img->fs->super->s_hash_seed, &e->hash, &e->minor);
                }
        }
        qsort(h, n, sizeof(*h), hent_cmp);
        *out = h;
        *n_out = n;
        return 0;
}

/* Pack sorted entries into leaf blocks; with out == NULL only count them.
 * hashes[i] is the index key of leaf i. */
static uint32_t pack_leaves(struct ext4img *img, const struct hent *h, size_t n, char *out,
                            uint32_t *hashes)
{
        unsigned bs = img->fs->blocksize, end = bs - dx_csum_size(img);
        uint32_t leaves = 0;
        unsigned off = end;
        struct ext2_dir_entry *prev = NULL;

        for (size_t i = 0; i < n; i++) {
                unsigned rec = EXT2_DIR_REC_LEN(h[i].len);
                if (off + rec > end) {
                        if (out && prev)
                                ext2fs_set_rec_len(img->fs, end - ((char *)prev - (out + (size_t)(leaves - 1) * bs)), prev);
                        leaves++;
                        off = 0;
                        prev = NULL;
                        if (hashes)
                                /* a hash continuing from the previous leaf is marked by the low bit */
                                hashes[leaves - 1] = leaves == 1 ? 0
                                        : (h[i].hash == h[i - 1].hash ? h[i].hash | 1 : h[i].hash);
                }
                if (out) {
                        struct ext2_dir_entry *de = (struct ext2_dir_entry *)(out + (size_t)(leaves - 1) * bs + off);
                        de->inode = h[i].ino;
                        ext2fs_dirent_set_name_len(de, h[i].len);
                        ext2fs_dirent_set_file_type(de, h[i].type);
                        ext2fs_set_rec_len(img->fs, rec, de);
                        memcpy(de->name, h[i].name, h[i].len);
                        prev = de;
                }
                off += rec;
        }
        if (out && prev)
                ext2fs_set_rec_len(img->fs, end - ((char *)prev - (out + (size_t)(leaves - 1) * bs)), prev);
        if (out && dx_csum_size(img))
                for (uint32_t l = 0; l < leaves; l++)
                        ext2fs_initialize_dirent_tail(img->fs, EXT2_DIRENT_TAIL(out + (size_t)l * bs, bs));
        return leaves;
}

static void build_dx_root(struct ext4img *img, char *buf, ext2_ino_t ino, ext2_ino_t parent,
                          const uint32_t *hashes, uint32_t leaves)
{
        unsigned bs = img->fs->blocksize;
        struct ext2_dir_entry *dot = (struct ext2_dir_entry *)buf;
        struct ext2_dir_entry *dotdot = (struct ext2_dir_entry *)(buf + 12);
        struct ext2_dx_root_info *info = (struct ext2_dx_root_info *)(buf + 24);
        struct ext2_dx_countlimit *cl = (struct ext2_dx_countlimit *)(buf + 32);
        struct ext2_dx_entry *ent = (struct ext2_dx_entry *)(buf + 32);
        unsigned limit = (bs - 32) / sizeof(struct ext2_dx_entry) - (dx_csum_size(img) ? 1 : 0);

        memset(buf, 0, bs);
        dot->inode = ino;
        ext2fs_dirent_set_name_len(dot, 1);
        ext2fs_dirent_set_file_type(dot, EXT2_FT_DIR);
        ext2fs_set_rec_len(img->fs, 12, dot);
        dot->name[0] = '.';
        dotdot->inode = parent;
        ext2fs_dirent_set_name_len(dotdot, 2);
        ext2fs_dirent_set_file_type(dotdot, EXT2_FT_DIR);
        ext2fs_set_rec_len(img->fs, bs - 12, dotdot);
        dotdot->name[0] = dotdot->name[1] = '.';
        info->hash_version = img->fs->super->s_def_hash_version;
        info->info_length = sizeof(*info);
        info->indirect_levels = 0;
        /* entry 0 has no hash: its slot holds count and limit */
        for (uint32_t i = 0; i < leaves; i++) {
                if (i)
                        ent[i].hash = ext2fs_cpu_to_le32(hashes[i]);
                ent[i].block = ext2fs_cpu_to_le32(i + 1);
        }
        cl->limit = ext2fs_cpu_to_le16((__u16)limit);
        cl->count = ext2fs_cpu_to_le16((__u16)leaves);
}

/* Make the directory exactly `want` blocks long. */
static int dir_resize(struct ext4img *img, struct dirstate *d, struct ext2_inode_large *in,
                      uint32_t want, const char *what)
{
        errcode_t err;
        int r;

        if (want > d->nblocks) {
                r = alloc_blocks(img, d->ino, in, d->nblocks, want - d->nblocks, what);
                if (r < 0)
                        return r;
        } else if (want < d->nblocks) {
                err = ext2fs_punch(img->fs, d->ino, (struct ext2_inode *)in, NULL, want, ~0ULL);
                if (err)
                        return fs_error(img, err, what, "shrinking directory");
        }
        d->nblocks = want;
        in->i_flags |= EXT2_INDEX_FL;
        err = ext2fs_inode_size_set(img->fs, (struct ext2_inode *)in, (uint64_t)want * img->fs->blocksize);
        if (err)
                return fs_error(img, err, what, "setting directory size");
        return update_inode(img, d->ino, in, what);
}

static int write_dir_blocks(struct ext4img *img, struct dirstate *d, char *blocks,
                            const char *what)
{
        struct extent_map *map = NULL;
        struct ext2_inode_large in;
        size_t map_len = 0;
        unsigned bs = img->fs->blocksize;
        int r = read_inode(img, d->ino, &in, what);

        if (r == 0)
                r = read_extents(img, d->ino, &in, &map, &map_len, what);
        for (size_t m = 0; r == 0 && m < map_len; m++)
                for (uint64_t i = 0; r == 0 && i < map[m].len; i++) {
                        errcode_t err = ext2fs_write_dir_block4(img->fs, map[m].pblk + i,
                                                                blocks + (map[m].lblk + i) * bs, 0, d->ino);
                        if (err)
                                r = fs_error(img, err, what, "writing directory block");
                }
        free(map);
        return r;
}

static int index_dir(struct ext4img *img, struct dirstate *d, const char *what)
{
        unsigned bs = img->fs->blocksize;
        unsigned limit = (bs - 32) / sizeof(struct ext2_dx_entry) - (dx_csum_size(img) ? 1 : 0);
        _cleanup_free_ char *old = NULL, *new = NULL;
        _cleanup_free_ struct hent *h = NULL;
        _cleanup_free_ struct extent_map *map = NULL;
        _cleanup_free_ uint32_t *hashes = NULL;
        struct ext2_inode_large in;
        size_t n = 0, map_len = 0;
        ext2_ino_t parent = 0;
        uint32_t leaves;
        int r;

        r = read_inode(img, d->ino, &in, what);
        if (r < 0)
                return r;
        r = read_extents(img, d->ino, &in, &map, &map_len, what);
        if (r < 0)
                return r;
        old = calloc(d->nblocks, bs);
        if (!old)
                return -ENOMEM;
        r = dir_entries(img, d, map, map_len, old, &h, &n, &parent);
        if (r < 0)
                return r;
        leaves = pack_leaves(img, h, n, NULL, NULL);
        if (leaves == 0 || leaves > limit || !parent)
                return 0;
        new = calloc((size_t)leaves + 1, bs);
        hashes = calloc(leaves, sizeof(*hashes));
        if (!new || !hashes)
                return -ENOMEM;
        pack_leaves(img, h, n, new + bs, hashes);
        build_dx_root(img, new, d->ino, parent, hashes, leaves);
        r = dir_resize(img, d, &in, leaves + 1, what);
        if (r < 0)
                return r;
        return write_dir_blocks(img, d, new, what);
}

int index_dirs(struct ext4img *img)
{
        for (size_t i = 0; i < img->nodes_cap; i++) {
                struct dirstate *d = img->nodes[i].dir;
                if (d && d->nblocks > 1) {
                        int r = index_dir(img, d, img->nodes[i].path);
                        if (r < 0)
                                return imgerr_prefix(r, "%s: indexing directory: ", img->nodes[i].path);
                }
        }
        return 0;
}
