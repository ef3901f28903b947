/* Stamping a signing response into a deferred image (applysig.h). */
#include "image/applysig.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "ext4/ext4stamp.h"
#include "boot/pe.h"
#include "ext4/gpt.h"
#include "ext4/ext4walk.h"
#include "ima/sigreq.h"

struct target {
        uint32_t ino;
        const struct sigreq_entry *e;
        char *path;
};

/* A placeholder outside the filesystem: the UKI's signature on the ESP. */
struct raw_target {
        uint64_t offset;   /* in the image file */
        const struct sigreq_entry *e;
        uint64_t in_file, file_len;   /* the placeholder's offset in its UKI, the UKI's length */
        uint64_t cks_at;              /* the UKI's PE checksum field, in the image file */
        uint32_t cks;                 /* its value now */
        uint8_t *old;                 /* the placeholder's bytes */
};

struct apply {
        const char *image, *response;
        const struct sigreq *q;
        struct target *t;
        size_t n, cap;
        struct raw_target *raw;
        size_t n_raw, cap_raw;
        bool *used;     /* by entry index */
};

static int target_add(struct apply *a, const struct ext4walk_entry *w, const struct sigreq_entry *e)
{
        if (a->n == a->cap) {
                size_t cap = a->cap ? 2 * a->cap : 256;
                struct target *t = realloc(a->t, cap * sizeof(*t));
                if (!t)
                        return -ENOMEM;
                a->t = t;
                a->cap = cap;
        }
        a->t[a->n] = (struct target){ .ino = w->ino, .e = e, .path = strdup(w->path) };
        return a->t[a->n++].path ? 0 : -ENOMEM;
}

static int visit(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        struct apply *a = userdata;
        const uint8_t *id;
        const struct sigreq_entry *se;

        (void)w;
        if (!S_ISREG(e->mode) || e->link_of || !e->ima || !sigreq_placeholder_id(e->ima, e->ima_len, &id))
                return 0;
        se = sigreq_find(a->q, id);
        if (!se)
                return imgerr(-EKEYREJECTED, "%s: %s: %s has no signature for this file (a response to another "
                              "request)", a->response, e->path, a->image);
        a->used[se - a->q->e] = true;
        return target_add(a, e, se);
}

static uint64_t le64(const uint8_t *p)
{
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

/* The UKI around a placeholder: where authenticode.c says it starts, a PE
 * whose checksum apply corrects; anything else (a UKI not stored in one
 * piece) is refused before anything is written. */
static int locate_uki(const struct apply *a, int fd, uint64_t esp_off, struct raw_target *t)
{
        uint8_t head[4096];
        size_t n = t->e->value_len, cks_off;
        ssize_t got;

        t->old = malloc(n);
        if (!t->old)
                return -ENOMEM;
        if (pread(fd, t->old, n, (off_t)t->offset) != (ssize_t)n)
                return imgerr(-EIO, "%s: reading the UKI's signature placeholder", a->image);
        t->in_file = le64(t->old + SIGREQ_RAW_LOCATION);
        t->file_len = le64(t->old + SIGREQ_RAW_LOCATION + 8);
        if (t->in_file > t->offset - esp_off || t->in_file + n > t->file_len)
                return imgerr(-EBADMSG, "%s: the UKI's signature placeholder is damaged", a->image);
        got = pread(fd, head, sizeof(head), (off_t)(t->offset - t->in_file));
        if (got < 0 || pe_checksum_offset(head, (size_t)got, &cks_off) < 0)
                return imgerr(-EOPNOTSUPP, "%s: the UKI is not stored in one piece on the ESP: its signature "
                              "cannot be stamped in place", a->image);
        t->cks_at = t->offset - t->in_file + cks_off;
        uint8_t c[4];
        if (pread(fd, c, 4, (off_t)t->cks_at) != 4)
                return imgerr(-EIO, "%s: reading the UKI's checksum", a->image);
        t->cks = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
        return 0;
}

static int raw_add(struct apply *a, int fd, uint64_t esp_off, uint64_t offset, const struct sigreq_entry *e)
{
        struct raw_target *t;

        if (GROW(a->raw, a->n_raw, a->cap_raw, 4) < 0)
                return -ENOMEM;
        t = &a->raw[a->n_raw++];
        *t = (struct raw_target){ .offset = offset, .e = e };
        a->used[e - a->q->e] = true;
        return locate_uki(a, fd, esp_off, t);
}

/* The UKI's placeholder signature, in the ESP's bytes: found by its magic
 * and entry id (the UKI is a file on the FAT; its PKCS#7 has the final
 * signature's length, so stamping changes no size and no FAT). */
static int find_raw_targets(struct apply *a)
{
        enum { CHUNK = 1 << 20 };
        size_t mlen, idlen = 32, keep;
        const uint8_t *magic = sigreq_placeholder_magic(&mlen);
        uint64_t esp_off, esp_size;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        /* a disk's ESP is searched whether the response signs a UKI or not:
         * a placeholder the response has no signature for is refused */
        r = gpt_find_partition(a->image, GPT_TYPE_ESP, &esp_off, &esp_size);
        if (r <= 0)
                return r;
        keep = mlen + idlen - 1;
        buf = malloc(CHUNK + keep);
        fd = open(a->image, O_RDONLY | O_CLOEXEC);
        if (!buf || fd < 0)
                return fd < 0 ? imgerr(-errno, "%s: %s", a->image, strerror(errno)) : -ENOMEM;
        /* each chunk is read after the last KEEP bytes of the one before, so
         * a placeholder across two chunks is seen whole */
        size_t have = 0;
        for (uint64_t pos = 0; pos < esp_size;) {
                size_t want = (size_t)(esp_size - pos < CHUNK ? esp_size - pos : CHUNK);
                ssize_t got = pread(fd, buf + have, want, (off_t)(esp_off + pos));
                if (got <= 0)
                        return imgerr(got < 0 ? -errno : -ENODATA, "%s: reading the ESP: %s", a->image,
                                      got < 0 ? strerror(errno) : "truncated image");
                size_t len = have + (size_t)got;
                uint64_t base = esp_off + pos - have;   /* image offset of buf[0] */
                for (size_t i = 0; i + mlen + idlen <= len; i++) {
                        const struct sigreq_entry *e;
                        if (buf[i] != magic[0] || memcmp(buf + i, magic, mlen))
                                continue;
                        e = sigreq_find(a->q, buf + i + mlen);
                        if (!e || e->role != SIGREQ_AUTHENTICODE)
                                return imgerr(-EKEYREJECTED, "%s: %s has no signature for the UKI (a response to "
                                              "another request)", a->response, a->image);
                        if ((r = raw_add(a, fd, esp_off, base + i, e)) < 0)
                                return r;
                }
                pos += (uint64_t)got;
                have = len < keep ? len : keep;
                memmove(buf, buf + len - have, have);
        }
        return 0;
}

static int stamp_raw(const struct apply *a)
{
        _cleanup_close_ int fd = a->n_raw ? open(a->image, O_WRONLY | O_CLOEXEC) : -1;

        if (a->n_raw && fd < 0)
                return imgerr(-errno, "%s: %s", a->image, strerror(errno));
        for (size_t i = 0; i < a->n_raw; i++) {
                const struct raw_target *t = &a->raw[i];
                uint32_t cks = pe_checksum_update(t->cks, t->file_len, t->in_file, t->old, t->e->value,
                                                  t->e->value_len);
                uint8_t c[4] = { (uint8_t)cks, (uint8_t)(cks >> 8), (uint8_t)(cks >> 16), (uint8_t)(cks >> 24) };
                if (pwrite(fd, t->e->value, t->e->value_len, (off_t)t->offset) != (ssize_t)t->e->value_len ||
                    pwrite(fd, c, 4, (off_t)t->cks_at) != 4)
                        return imgerr(-EIO, "%s: writing the UKI's signature: %s", a->image, strerror(errno));
        }
        if (a->n_raw && fsync(fd) < 0)
                return imgerr(-errno, "%s: %s", a->image, strerror(errno));
        return 0;
}

static int find_targets(struct apply *a)
{
        struct ext4walk *w;
        int r = ext4walk_open(a->image, &w);

        if (r < 0)
                return r;
        r = ext4walk_walk(w, "/", EXT4WALK_RECURSIVE, visit, a);
        ext4walk_close(w);
        if (r >= 0)
                r = find_raw_targets(a);
        if (r < 0)
                return r;
        for (size_t i = 0; i < a->q->n; i++)
                if (!a->used[i])
                        return imgerr(-EKEYREJECTED, "%s: signs digests no file of %s has (a response to "
                                      "another request)", a->response, a->image);
        return 0;
}

static int check_image(const struct apply *a)
{
        uint8_t sum[32];
        uint64_t size;
        int r = sigreq_file_sha256(a->image, sum, &size);

        if (r < 0)
                return r;
        if (size != a->q->image_size || memcmp(sum, a->q->image_sha256, 32))
                return imgerr(-EKEYREJECTED, "%s: not the image %s answers (another image, or one already "
                              "stamped)", a->image, a->response);
        return 0;
}

static int stamp(const struct apply *a)
{
        struct ext4stamp *s;
        int r = ext4stamp_open(a->image, &s);

        if (r < 0)
                return r;
        /* Ctrl-C or a TERM while stamping would leave some files with their
         * signature and some with the placeholder: they wait for the end */
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGHUP);
        sigprocmask(SIG_BLOCK, &block, &old);
        /* every inode checked before the first is written */
        for (size_t i = 0; i < a->n && r >= 0; i++)
                r = ext4stamp_check(s, a->t[i].ino, a->t[i].path);
        for (size_t i = 0; i < a->n && r >= 0; i++)
                r = ext4stamp_set(s, a->t[i].ino, "security.ima", a->t[i].e->value, a->t[i].e->value_len,
                                  a->t[i].path);
        int rc = ext4stamp_close(s);
        if (r >= 0 && rc >= 0)
                rc = stamp_raw(a);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r < 0 ? r : rc;
}

int applysig_run(const char *image, const char *response, struct applysig_result *res)
{
        struct sigreq *q = NULL;
        struct apply a = { .image = image, .response = response };
        int r = sigreq_read(response, true, &q);

        if (r < 0)
                return r;
        a.q = q;
        a.used = calloc(q->n ? q->n : 1, sizeof(*a.used));
        if (!a.used)
                r = -ENOMEM;
        if (r >= 0)
                r = check_image(&a);
        if (r >= 0)
                r = sigreq_verify(q, response);
        if (r >= 0)
                r = find_targets(&a);
        if (r >= 0)
                r = stamp(&a);
        if (r >= 0 && res) {
                res->files = a.n;
                res->signatures = q->n;
        }
        for (size_t i = 0; i < a.n; i++)
                free(a.t[i].path);
        free(a.t);
        for (size_t i = 0; i < a.n_raw; i++)
                free(a.raw[i].old);
        free(a.raw);
        free(a.used);
        sigreq_free(q);
        return r;
}
