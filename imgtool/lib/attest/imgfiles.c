/* The regular files of an image and their digests (see imgfiles.h). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ext4/ext4verity.h"
#include "ext4/ext4walk.h"
#include "attest/imgfiles.h"
#include "image/imgverify.h"
#include "base/parallel.h"
#include "base/util.h"

/* One file's job: where its content lies, and where the results go. */
struct job {
        struct imgfile *f;
        struct ext4walk_run *runs;
        size_t n_runs;
        bool is_link;                 /* hard link: copy the digests of first_idx */
        size_t first_idx;
};

struct collect {
        struct imgfiles *files;
        size_t cap;
        struct job *jobs;
        /* inode -> index of the first path seen, for hard links */
        struct { uint32_t ino; size_t idx; } *inos;
        size_t n_inos, cap_inos;
        struct ext4walk *w;
};

int imgfiles_ima_algo(const uint8_t *ima, size_t len)
{
        struct imasig s;

        if (ima && imasig_parse(ima, len, &s) == 0 &&
            (s.type == EVM_IMA_XATTR_DIGSIG || s.type == IMA_XATTR_DIGEST_NG) &&
            ima_hash_size(s.hash_algo))
                return s.hash_algo;
        imgerr_clear();
        return IMA_HASH_SHA256;
}

static int grow(struct collect *c)
{
        size_t cap;
        void *v, *j;

        if (c->files->n < c->cap)
                return 0;
        cap = c->cap ? c->cap * 2 : 1024;
        v = realloc(c->files->v, cap * sizeof(*c->files->v));
        if (v)
                c->files->v = v;
        j = realloc(c->jobs, cap * sizeof(*c->jobs));
        if (j)
                c->jobs = j;
        if (!v || !j)
                return imgerr(-ENOMEM, "out of memory");
        c->cap = cap;
        return 0;
}

static ssize_t first_of(struct collect *c, uint32_t ino)
{
        for (size_t i = 0; i < c->n_inos; i++)
                if (c->inos[i].ino == ino)
                        return (ssize_t)c->inos[i].idx;
        return -1;
}

static int remember(struct collect *c, uint32_t ino, size_t idx)
{
        if (GROW(c->inos, c->n_inos, c->cap_inos, 64) < 0)
                return imgerr(-ENOMEM, "out of memory");
        c->inos[c->n_inos].ino = ino;
        c->inos[c->n_inos++].idx = idx;
        return 0;
}


struct digests {
        struct ima_hasher *sha256, *ima;
};

static int feed(const void *buf, size_t len, void *userdata)
{
        struct digests *d = userdata;
        int r = ima_hasher_update(d->sha256, buf, len);
        if (r == 0 && d->ima)
                r = ima_hasher_update(d->ima, buf, len);
        return r;
}

/* Hash f's content, from the mapping (runs) or through the walker. */
static int hash_file(struct imgfile *f, const struct ext4walk *mapped, const struct job *j,
                     struct ext4walk *w, const struct ext4walk_entry *e)
{
        struct digests d = {};
        int r;

        r = ima_hasher_new(IMA_HASH_SHA256, &d.sha256);
        if (r == 0 && f->ima_algo != IMA_HASH_SHA256)
                r = ima_hasher_new(f->ima_algo, &d.ima);
        if (r == 0)
                r = w ? ext4walk_read(w, e, feed, &d)
                      : ext4walk_read_runs(mapped, j->runs, j->n_runs, feed, &d);
        if (r == 0)
                r = ima_hasher_final(d.sha256, f->sha256);
        if (r == 0 && d.ima)
                r = ima_hasher_final(d.ima, f->ima_digest);
        else if (r == 0)
                memcpy(f->ima_digest, f->sha256, 32);
        ima_hasher_free(d.sha256);
        ima_hasher_free(d.ima);
        return r < 0 ? imgerr_prefix(r, "%s: ", f->path) : 0;
}

/* File i's digests, when its runs were gathered (the others were hashed
 * through the walker as they were met, or are hard links). */
static int hash_mapped(size_t i, void *ctx)
{
        struct collect *c = ctx;
        const struct job *j = &c->jobs[i];

        return j->runs ? hash_file(&c->files->v[i], c->w, j, NULL, NULL) : 0;
}

/* Hash every file whose runs were gathered, on one thread per CPU: the
 * first file in walk order that fails is the one reported. */
static int hash_all(struct collect *c)
{
        return parallel_for(c->files->n, parallel_cpus(16), hash_mapped, c);
}

/* The digest the kernel measures for a verity file: that of the descriptor
 * stored with it (the kernel refuses reads that do not match its tree). */
static int verity_digest(struct ext4walk *w, const struct ext4walk_entry *e, struct imgfile *f)
{
        _cleanup_free_ uint8_t *desc = NULL, *tree = NULL;
        size_t desc_len = 0;
        uint64_t tree_size = 0;
        int r = ext4verity_read(w, e, &desc, &desc_len, &tree, &tree_size);

        if (r <= 0)
                return r;
        if (desc_len < VERITY_DESC_SIZE)
                return imgerr(-EBADMSG, "%s: short fs-verity descriptor", f->path);
        r = verity_desc_digest(desc, f->verity_digest);
        f->has_verity = r == 0;
        return r;
}

static int on_entry(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        struct collect *c = userdata;
        struct imgfile *f;
        struct job *j;
        struct imasig s;
        int r;

        if (!S_ISREG(e->mode))
                return 0;
        if ((r = grow(c)) < 0)
                return r;
        f = &c->files->v[c->files->n];
        j = &c->jobs[c->files->n];
        memset(f, 0, sizeof(*f));
        memset(j, 0, sizeof(*j));
        if (!(f->path = strdup(e->path)))
                return imgerr(-ENOMEM, "out of memory");
        c->files->n++;
        f->size = e->size;
        f->ima_algo = imgfiles_ima_algo(e->ima, e->ima_len);
        if (e->ima && imasig_parse(e->ima, e->ima_len, &s) == 0 && s.type == EVM_IMA_XATTR_DIGSIG) {
                f->has_sig = true;
                f->keyid = s.keyid;
        }
        imgerr_clear();
        imgverify_ima_summary(e->ima, e->ima_len, f->ima_summary, sizeof(f->ima_summary));
        if ((r = verity_digest(w, e, f)) < 0)
                return r;
        j->f = f;
        if (e->link_of) {
                ssize_t i = first_of(c, e->ino);
                if (i >= 0) {
                        j->first_idx = (size_t)i;
                        j->is_link = true;
                        return 0;
                }
        }
        if (e->nlink > 1 && (r = remember(c, e->ino, c->files->n - 1)) < 0)
                return r;
        c->files->bytes += e->size;
        if (ext4walk_mapped(w)) {
                r = ext4walk_runs(w, e, &j->runs, &j->n_runs);
                if (r != -EOPNOTSUPP)
                        return r;
                imgerr_clear();
        }
        return hash_file(f, NULL, j, w, e);
}

void imgfiles_free(struct imgfiles *f)
{
        if (!f)
                return;
        for (size_t i = 0; i < f->n; i++)
                free(f->v[i].path);
        free(f->v);
        free(f);
}

int imgfiles_collect(const char *image, struct imgfiles **out)
{
        struct collect c = {};
        int r;

        c.files = calloc(1, sizeof(*c.files));
        if (!c.files)
                return imgerr(-ENOMEM, "out of memory");
        r = ext4walk_open(image, &c.w);
        if (r == 0) {
                r = ext4walk_walk(c.w, "/", EXT4WALK_RECURSIVE, on_entry, &c);
                if (r == 0)
                        r = hash_all(&c);
        }
        for (size_t i = 0; r == 0 && i < c.files->n; i++) {
                struct imgfile *f = &c.files->v[i];
                if (c.jobs[i].is_link) {
                        const struct imgfile *first = &c.files->v[c.jobs[i].first_idx];
                        memcpy(f->sha256, first->sha256, sizeof(f->sha256));
                        memcpy(f->ima_digest, first->ima_digest, sizeof(f->ima_digest));
                        f->hardlink_of = first->path;
                }
        }
        for (size_t i = 0; i < c.files->n; i++)
                free(c.jobs[i].runs);
        free(c.jobs);
        free(c.inos);
        if (c.w)
                ext4walk_close(c.w);
        if (r < 0) {
                imgfiles_free(c.files);
                return r;
        }
        *out = c.files;
        return 0;
}

struct buf {
        uint8_t *p;
        size_t len, cap;
};

static int append(const void *data, size_t len, void *userdata)
{
        struct buf *b = userdata;
        if (b->len + len > b->cap) {
                size_t cap = (b->len + len) * 2;
                uint8_t *p = realloc(b->p, cap);
                if (!p)
                        return imgerr(-ENOMEM, "out of memory");
                b->p = p;
                b->cap = cap;
        }
        memcpy(b->p + b->len, data, len);
        b->len += len;
        return 0;
}

int imgfiles_read_one(const char *image, const char *path, uint8_t **data, size_t *len)
{
        struct ext4walk *w;
        struct ext4walk_entry e;
        struct buf b = {};
        int r;

        r = ext4walk_open(image, &w);
        if (r < 0)
                return r;
        r = ext4walk_stat(w, path, &e);
        if (r == -ENOENT) {
                imgerr_clear();
        } else if (r == 0 && !S_ISREG(e.mode)) {
                r = imgerr(-EINVAL, "%s: %s: not a regular file", image, path);
        } else if (r == 0) {
                r = ext4walk_read(w, &e, append, &b);
        }
        ext4walk_close(w);
        if (r < 0) {
                free(b.p);
                return r;
        }
        *data = b.p ? b.p : malloc(1);
        *len = b.len;
        return *data ? 0 : imgerr(-ENOMEM, "out of memory");
}
