#include "ext4/ext4verity.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2_fs.h>

#include "ext4/ext4img.h"
#include "ext4/ext4walk.h"
#include "base/util.h"

#define HASHES_PER_BLOCK (VERITY_BLOCK / VERITY_DIGEST_SIZE)

static uint64_t round_up(uint64_t v, uint64_t to)
{
        return (v + to - 1) / to * to;
}

uint64_t ext4verity_metadata_pos(uint64_t size)
{
        return round_up(size, EXT4VERITY_ALIGN);
}

uint64_t ext4verity_tree_size(uint64_t data_size)
{
        uint64_t blocks = (data_size + VERITY_BLOCK - 1) / VERITY_BLOCK, total = 0;

        /* one level per step until a single block holds the hashes */
        while (blocks > 1) {
                blocks = (blocks + HASHES_PER_BLOCK - 1) / HASHES_PER_BLOCK;
                total += blocks;
        }
        return total * VERITY_BLOCK;
}

/* descriptor + signature, then the le32 size at the end of the last block */
static uint64_t desc_area(size_t sig_len)
{
        return round_up(VERITY_DESC_SIZE + sig_len + 4, VERITY_BLOCK);
}

uint64_t ext4verity_blocks(uint64_t size, size_t sig_len)
{
        return (ext4verity_tree_size(size) + desc_area(sig_len)) / VERITY_BLOCK;
}

int ext4verity_write(struct ext4img_file *f, uint64_t size, const struct verity_meta *m,
                     const uint8_t *sig, size_t sig_len)
{
        uint64_t area = desc_area(sig_len), len = m->tree_size + area;
        _cleanup_free_ uint8_t *buf = NULL;
        uint32_t le;
        int r;

        if (m->tree_size % VERITY_BLOCK || sig_len > UINT32_MAX - VERITY_DESC_SIZE)
                return imgerr(-EINVAL, "fs-verity metadata of unexpected size");
        buf = aligned_alloc(VERITY_BLOCK, len);
        if (!buf)
                return -ENOMEM;
        memset(buf + m->tree_size, 0, area);
        if (m->tree_size)
                memcpy(buf, m->tree, m->tree_size);
        memcpy(buf + m->tree_size, m->desc, VERITY_DESC_SIZE);
        le = htole32((uint32_t)sig_len);
        memcpy(buf + m->tree_size + 4, &le, 4);            /* sig_size */
        if (sig_len)
                memcpy(buf + m->tree_size + VERITY_DESC_SIZE, sig, sig_len);
        le = htole32((uint32_t)(VERITY_DESC_SIZE + sig_len));
        memcpy(buf + len - 4, &le, 4);
        r = ext4img_file_write_past_eof(f, ext4verity_metadata_pos(size), buf, len);
        if (r < 0)
                return r;
        ext4img_file_add_flags(f, EXT4_VERITY_FL);
        return 0;
}

void ext4verity_enable_feature(struct ext4img *img)
{
        ext4img_add_ro_compat(img, EXT4_FEATURE_RO_COMPAT_VERITY);
}

/* As ext4_get_verity_descriptor_location() finds it. */
int ext4verity_read(struct ext4walk *w, const struct ext4walk_entry *e, uint8_t **desc,
                    size_t *desc_len, uint8_t **tree, uint64_t *tree_size)
{
        const char *img = ext4walk_image(w);
        unsigned bs = ext4walk_block_size(w);
        uint64_t end, meta = ext4verity_metadata_pos(e->size), size_pos, desc_pos, first, nblk;
        _cleanup_free_ uint8_t *blk = NULL, *area = NULL;
        uint32_t flags, le, dsize;
        int r;

        *desc = *tree = NULL;
        *desc_len = 0;
        *tree_size = 0;
        r = ext4walk_inode_flags(w, e, &flags);
        if (r < 0 || !(flags & EXT4_VERITY_FL))
                return r;
        if (bs != VERITY_BLOCK)
                return imgerr(-EBADMSG, "%s: %s: fs-verity with %u-byte blocks is not checked", img, e->path, bs);
        r = ext4walk_block_end(w, e, &end);
        if (r < 0)
                return r;
        if (end * bs < meta + bs)
                return imgerr(-EBADMSG, "%s: %s: fs-verity flag but no metadata past the end of the file",
                              img, e->path);
        blk = malloc(bs);
        if (!blk)
                return -ENOMEM;
        r = ext4walk_read_blocks(w, e, end - 1, 1, blk);
        if (r < 0)
                return r;
        memcpy(&le, blk + bs - 4, 4);
        dsize = le32toh(le);
        size_pos = end * bs - 4;
        if (dsize < VERITY_DESC_SIZE || dsize > size_pos)
                return imgerr(-EBADMSG, "%s: %s: fs-verity descriptor size %u is impossible", img, e->path, dsize);
        desc_pos = (size_pos - dsize) / bs * bs;
        if (desc_pos < meta)
                return imgerr(-EBADMSG, "%s: %s: fs-verity descriptor overlaps the data", img, e->path);
        first = desc_pos / bs;
        nblk = end - first;
        area = malloc(nblk * bs);
        if (!area)
                return -ENOMEM;
        r = ext4walk_read_blocks(w, e, first, nblk, area);
        if (r < 0)
                return r;
        *tree_size = ext4verity_tree_size(e->size);
        if (meta + *tree_size > desc_pos)
                return imgerr(-EBADMSG, "%s: %s: fs-verity descriptor overlaps the Merkle tree", img, e->path);
        *tree = malloc(*tree_size ? *tree_size : 1);
        *desc = malloc(dsize);
        if (!*tree || !*desc) {
                free(*tree);
                free(*desc);
                *tree = *desc = NULL;
                return -ENOMEM;
        }
        memcpy(*desc, area + (desc_pos - first * bs), dsize);
        *desc_len = dsize;
        if (*tree_size && (r = ext4walk_read_blocks(w, e, meta / bs, *tree_size / bs, *tree)) < 0) {
                free(*tree);
                free(*desc);
                *tree = *desc = NULL;
                return r;
        }
        return 1;
}
