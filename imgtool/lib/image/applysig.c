/* Stamping a signing response into a deferred image (applysig.h). */
#include "image/applysig.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"
#include "ext4/ext4stamp.h"
#include "ext4/ext4walk.h"
#include "ima/sigreq.h"

struct target {
        uint32_t ino;
        const struct sigreq_entry *e;
        char *path;
};

struct apply {
        const char *image, *response;
        const struct sigreq *q;
        struct target *t;
        size_t n, cap;
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

static int find_targets(struct apply *a)
{
        struct ext4walk *w;
        int r = ext4walk_open(a->image, &w);

        if (r < 0)
                return r;
        r = ext4walk_walk(w, "/", EXT4WALK_RECURSIVE, visit, a);
        ext4walk_close(w);
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
        free(a.used);
        sigreq_free(q);
        return r;
}
