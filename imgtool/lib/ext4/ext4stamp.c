/* Rewriting an xattr in place (ext4stamp.h). */
#include "ext4/ext4stamp.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <ext2fs/ext2fs.h>
#include <et/com_err.h>

#include "base/util.h"
#include "ext4/gpt.h"

struct ext4stamp {
        ext2_filsys fs;
        char *path;
};

static int stamp_error(const struct ext4stamp *s, errcode_t err, const char *what, const char *op)
{
        return imgerr(err == EXT2_ET_NO_MEMORY ? -ENOMEM : -EIO, "%s: %s: %s: %s", s->path, what, op,
                      error_message(err));
}

int ext4stamp_open(const char *path, struct ext4stamp **out)
{
        struct ext4stamp *s = calloc(1, sizeof(*s));
        errcode_t err;

        if (!s || !(s->path = strdup(path))) {
                free(s);
                return -ENOMEM;
        }
        /* a Format=disk image: its root partition, as ext4walk reads it */
        uint64_t off = 0, size = 0;
        char io_options[64] = "";
        int r = gpt_find_partition(path, GPT_TYPE_ROOT_X86_64, &off, &size);
        if (r < 0) {
                free(s->path);
                free(s);
                return r;
        }
        if (r > 0)
                snprintf(io_options, sizeof(io_options), "offset=%llu", (unsigned long long)off);
        err = ext2fs_open2(path, r > 0 ? io_options : NULL, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0,
                           unix_io_manager, &s->fs);
        if (err) {
                int r = imgerr(-EINVAL, "%s: cannot open for writing: %s", path, error_message(err));
                free(s->path);
                free(s);
                return r;
        }
        *out = s;
        return 0;
}

int ext4stamp_check(struct ext4stamp *s, uint32_t ino, const char *what)
{
        struct ext2_inode_large in;
        errcode_t err = ext2fs_read_inode_full(s->fs, ino, (struct ext2_inode *)&in, sizeof(in));

        if (err)
                return stamp_error(s, err, what, "reading the inode");
        if (ext2fs_file_acl_block(s->fs, (struct ext2_inode *)&in))
                return imgerr(-EOPNOTSUPP, "%s: %s: its xattrs do not fit in the inode (an xattr block): "
                              "cannot be stamped in place", s->path, what);
        return 0;
}

long ext4_xattr_set_ino(ext2_filsys fs, uint32_t ino, const char *name, const void *value, size_t len,
                        const char **step)
{
        struct ext2_xattr_handle *h;
        errcode_t err;

        *step = "opening xattrs";
        err = ext2fs_xattrs_open(fs, ino, &h);
        if (err)
                return err;
        err = ext2fs_xattrs_read(h);
        if (!err) {
                *step = name;
                err = ext2fs_xattr_set(h, name, value, len);
        }
        if (err) {
                ext2fs_xattrs_close(&h);
                return err;
        }
        *step = "writing xattrs";
        return ext2fs_xattrs_close(&h);
}

int ext4stamp_set(struct ext4stamp *s, uint32_t ino, const char *name, const void *value, size_t len,
                  const char *what)
{
        const char *step;
        errcode_t err = ext4_xattr_set_ino(s->fs, ino, name, value, len, &step);

        return err ? stamp_error(s, err, what, step) : 0;
}

int ext4stamp_close(struct ext4stamp *s)
{
        errcode_t err;

        /* only inodes were written (write-through): the superblock stays as
         * compose wrote it.  Closing a writable fs would add the bytes
         * written to s_kbytes_written and rewrite the superblock: flush the
         * inodes, then close it as read-only. */
        err = io_channel_flush(s->fs->io);
        s->fs->flags &= ~(EXT2_FLAG_RW | EXT2_FLAG_DIRTY | EXT2_FLAG_CHANGED);
        if (!err)
                err = ext2fs_close_free(&s->fs);
        else
                ext2fs_free(s->fs);
        int r = err ? imgerr(-EIO, "%s: writing: %s", s->path, error_message(err)) : 0;
        free(s->path);
        free(s);
        return r;
}
