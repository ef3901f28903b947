/* Package payloads read ahead on a second thread (readahead.h).
 *
 * The hand-over is a ring of records (entry, content chunk, content done,
 * package end, error) and a ring of content bytes.  The producer reads
 * content straight into the byte ring, so nothing is copied on the way;
 * both rings are bounded, so memory is too, whatever the packages hold.
 * Records leave in the order they were made: the consumer sees one stream. */
#include "image/readahead.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"

#define RING_RECORDS 8192
#define CHUNK (256u << 10)
/* The producer runs the hook once this many files wait (the writer is
 * behind); the writer, needing one, waits for a batch this big unless the
 * producer is done or stuck.  Signing costs ECDSA about half per file in
 * batches of 64 as one at a time. */
#define DEFAULT_BATCH 256
#define STEAL_MIN 64

enum rec_kind { REC_ENTRY, REC_CHUNK, REC_DONE, REC_PKG_END, REC_ERROR, REC_EOF };

enum fin_state { FIN_PENDING, FIN_TAKEN, FIN_DONE };

/* A finished file and who is working on its hook. */
struct fin {
        struct ra_file f;           /* first: the hook sees &fin->f */
        enum fin_state state;
};

struct rec {
        enum rec_kind kind;
        struct ra_entry e;          /* REC_ENTRY */
        const uint8_t *data;        /* REC_CHUNK */
        size_t len, cost;           /* cost: ring bytes to give back, incl. a skipped tail */
        struct fin *fin;            /* REC_DONE */
        int rc;                     /* REC_ERROR */
        char *msg;
};

struct readahead {
        struct rpmpkg *const *pkgs;
        size_t npkgs;
        struct ra_hooks hooks;

        pthread_t thread;
        bool started;
        pthread_mutex_t lock;
        pthread_cond_t can_push, can_pop, fin_done;
        bool cancel;
        bool producer_done;                     /* finished or failed: no more records */

        struct rec recs[RING_RECORDS];
        size_t rec_head, rec_tail, rec_count;   /* under lock */

        uint8_t *bytes;
        size_t byte_head;                       /* producer only */
        size_t bytes_used;                      /* under lock */

        struct fin **pending;                   /* under lock, stream order */
        size_t npending;

        /* consumer state */
        size_t held_cost;                       /* bytes of the chunk last returned */
        bool in_content;                        /* between an entry with content and its REC_DONE */
        struct fin *cur;                        /* the current entry's finished file */
        bool at_eof;
};

/* ---- the finish hook, on either thread -------------------------------------- */

/* Run the hook on every pending file; called and returns with the lock held. */
static void finish_pending(struct readahead *ra)
{
        size_t n = ra->npending;
        struct fin **batch;
        struct ra_file **files;

        if (!n)
                return;
        batch = malloc(n * sizeof(*batch));
        files = malloc(n * sizeof(*files));
        if (!batch || !files) {
                /* no memory for a batch: finish them one by one */
                free(batch);
                free(files);
                while (ra->npending) {
                        struct fin *one = ra->pending[0];
                        struct ra_file *f = &one->f;
                        memmove(ra->pending, ra->pending + 1, --ra->npending * sizeof(*ra->pending));
                        one->state = FIN_TAKEN;
                        pthread_mutex_unlock(&ra->lock);
                        ra->hooks.finish(ra->hooks.ctx, &f, 1);
                        pthread_mutex_lock(&ra->lock);
                        one->state = FIN_DONE;
                        pthread_cond_broadcast(&ra->fin_done);
                }
                return;
        }
        memcpy(batch, ra->pending, n * sizeof(*batch));
        ra->npending = 0;
        for (size_t i = 0; i < n; i++) {
                batch[i]->state = FIN_TAKEN;
                files[i] = &batch[i]->f;
        }
        pthread_mutex_unlock(&ra->lock);
        ra->hooks.finish(ra->hooks.ctx, files, n);
        pthread_mutex_lock(&ra->lock);
        for (size_t i = 0; i < n; i++)
                batch[i]->state = FIN_DONE;
        pthread_cond_broadcast(&ra->fin_done);
        free(batch);
        free(files);
}

/* ---- producer ------------------------------------------------------------ */

static bool ring_has_room(struct readahead *ra, size_t cost)
{
        return ra->rec_count < RING_RECORDS && ra->bytes_used + cost <= READAHEAD_BYTES;
}

/* Wait (lock held) until a record and cost bytes fit.  While waiting there is
 * nothing better to do than the pending hooks.  false: cancelled. */
static bool wait_for_room(struct readahead *ra, size_t cost)
{
        while (!ring_has_room(ra, cost) && !ra->cancel) {
                if (ra->npending) {
                        finish_pending(ra);
                        continue;
                }
                pthread_cond_wait(&ra->can_push, &ra->lock);
        }
        /* (the writer never waits for a batch while the producer is stuck
         * here: pending is empty then) */
        return !ra->cancel;
}

/* Hand a record over.  A REC_DONE's file joins the pending list in the same
 * step, so whoever sees the record can find the file there. */
static bool push(struct readahead *ra, const struct rec *r)
{
        bool ok;

        pthread_mutex_lock(&ra->lock);
        ok = wait_for_room(ra, 0);
        if (ok) {
                ra->recs[ra->rec_head] = *r;
                ra->rec_head = (ra->rec_head + 1) % RING_RECORDS;
                ra->rec_count++;
                if (r->kind == REC_DONE) {
                        ra->pending[ra->npending++] = r->fin;
                        if (ra->npending == STEAL_MIN)
                                pthread_cond_broadcast(&ra->fin_done);
                }
                pthread_cond_signal(&ra->can_pop);
                if (ra->npending >= ra->hooks.batch)
                        finish_pending(ra);
        }
        pthread_mutex_unlock(&ra->lock);
        return ok;
}

static void push_error(struct readahead *ra, int rc)
{
        struct rec r = { .kind = REC_ERROR, .rc = rc, .msg = strdup(imgerr_what(rc)) };
        if (!push(ra, &r))
                free(r.msg);
}

/* Room for len content bytes in the byte ring, contiguous: a tail too short
 * is skipped (and counted, so it comes back with this chunk). */
static uint8_t *reserve_bytes(struct readahead *ra, size_t len, size_t *cost)
{
        size_t pos = ra->byte_head, waste = 0;
        bool ok;

        if (pos + len > READAHEAD_BYTES) {
                waste = READAHEAD_BYTES - pos;
                pos = 0;
        }
        *cost = waste + len;
        pthread_mutex_lock(&ra->lock);
        ok = wait_for_room(ra, *cost);
        if (ok)
                ra->bytes_used += *cost;
        pthread_mutex_unlock(&ra->lock);
        if (!ok)
                return NULL;
        ra->byte_head = pos + len;
        return ra->bytes + pos;
}

static bool weak_algo(int algo)
{
        return algo != IMA_HASH_SHA256 && algo != IMA_HASH_SHA384 && algo != IMA_HASH_SHA512;
}

/* One file's content, pulled chunk by chunk from the payload into the byte
 * ring and handed over; the fs-verity tree builder pulls through it too. */
struct puller {
        struct readahead *ra;
        struct rpmpkg_payload *pl;
        const struct rpmpkg_file *f;
        size_t pkg;
        struct ima_hasher *sha;
        uint64_t total;
        const uint8_t *cur;             /* bytes of the last chunk not yet pulled */
        size_t cur_left;
};

/* Read, hash and hand over the next chunk: its length, 0 at the end (after
 * rpmpkg checked the digest), <0 on error. */
static ssize_t next_chunk(struct puller *p)
{
        uint8_t dummy;
        uint64_t size = p->f->size;
        size_t want = size - p->total < CHUNK ? (size_t)(size - p->total) : CHUNK, cost = 0;
        uint8_t *buf = want ? reserve_bytes(p->ra, want, &cost) : &dummy;
        ssize_t n;

        if (!buf)
                return -ECANCELED;
        /* at the end, a read of one byte makes rpmpkg check the digest */
        n = rpmpkg_payload_read(p->pl, buf, want ? want : 1);
        if (n < 0)
                return n;
        if (n == 0) {
                if (want)
                        return imgerr(-EBADMSG, "%s: %s: payload is truncated",
                                      rpmpkg_path(p->ra->pkgs[p->pkg]), p->f->path);
                return 0;
        }
        if (p->sha)
                ima_hasher_update(p->sha, buf, (size_t)n);
        p->total += (uint64_t)n;
        struct rec c = { .kind = REC_CHUNK, .data = buf, .len = (size_t)n, .cost = cost };
        if (!push(p->ra, &c))
                return -ECANCELED;
        /* the consumer may give these ring bytes back, but only this thread
         * writes the ring, and it reserves again only after they are pulled */
        p->cur = buf;
        p->cur_left = (size_t)n;
        return n;
}

static int pull(void *ctx, void *buf, size_t count)
{
        struct puller *p = ctx;
        uint8_t *out = buf;

        while (count) {
                if (!p->cur_left) {
                        ssize_t n = next_chunk(p);
                        if (n < 0)
                                return (int)n;
                        if (n == 0)
                                return imgerr(-EBADMSG, "%s: %s: payload is truncated",
                                              rpmpkg_path(p->ra->pkgs[p->pkg]), p->f->path);
                }
                size_t k = count < p->cur_left ? count : p->cur_left;
                memcpy(out, p->cur, k);
                p->cur += k;
                p->cur_left -= k;
                out += k;
                count -= k;
        }
        return 0;
}

static void fin_free(struct fin *fin);

/* The content of the current entry, chunk by chunk, then its REC_DONE. */
static int read_content(struct readahead *ra, struct rpmpkg_payload *pl, size_t pkg, size_t idx)
{
        struct rpmpkg_file f;
        struct puller p = { .ra = ra, .pl = pl, .f = &f, .pkg = pkg };
        struct verity_meta *vm = NULL;
        struct fin *fin;
        ssize_t n;
        int r;

        r = rpmpkg_file(ra->pkgs[pkg], idx, &f);
        if (r < 0)
                return r;
        if (ra->hooks.sha256_for_weak && weak_algo(f.digest_algo) &&
            (r = ima_hasher_new(IMA_HASH_SHA256, &p.sha)) < 0)
                return r;
        if (ra->hooks.verity) {
                vm = calloc(1, sizeof(*vm));
                if (!vm) {
                        r = -ENOMEM;
                        goto out;
                }
                r = verity_compute(ra->hooks.verity, f.size, pull, &p, vm);
                if (r < 0) {
                        if (r != -ECANCELED)
                                imgerr_prefix(r, "%s: %s: ", rpmpkg_path(ra->pkgs[pkg]), f.path);
                        goto out;
                }
        }
        /* the rest (all of it without verity), then the digest check */
        while ((n = next_chunk(&p)) > 0)
                ;
        if (n < 0) {
                r = (int)n;
                goto out;
        }
        fin = calloc(1, sizeof(*fin));
        if (!fin) {
                r = -ENOMEM;
                goto out;
        }
        fin->f.pkg = pkg;
        fin->f.file = idx;
        fin->f.size = p.total;
        fin->f.verity = vm;
        vm = NULL;
        const uint8_t *d;
        size_t dlen;
        if (rpmpkg_payload_digest(pl, &d, &dlen) == 0 && dlen <= sizeof(fin->f.digest_buf)) {
                memcpy(fin->f.digest_buf, d, dlen);
                fin->f.digest = fin->f.digest_buf;
                fin->f.digest_len = dlen;
        }
        if (p.sha) {
                ima_hasher_final(p.sha, fin->f.sha256);
                fin->f.has_sha256 = true;
        }
        struct rec done = { .kind = REC_DONE, .fin = fin };
        if (!push(ra, &done)) {
                fin_free(fin);
                r = -ECANCELED;
                goto out;
        }
        r = 0;
out:
        if (vm) {
                verity_meta_free(vm);
                free(vm);
        }
        ima_hasher_free(p.sha);
        return r;
}

static int stream_package(struct readahead *ra, size_t pkg)
{
        struct rpmpkg_payload *pl = NULL;
        size_t idx;
        int r;

        r = rpmpkg_payload_open(ra->pkgs[pkg], &pl);
        if (r < 0)
                return r;
        while ((r = rpmpkg_payload_next(pl, &idx)) > 0) {
                struct rec e = { .kind = REC_ENTRY,
                                 .e = { .pkg = pkg, .file = idx,
                                        .content = rpmpkg_payload_has_content(pl) } };
                if (!push(ra, &e)) {
                        r = -ECANCELED;
                        break;
                }
                if (e.e.content && (r = read_content(ra, pl, pkg, idx)) < 0)
                        break;
        }
        rpmpkg_payload_free(pl);
        if (r < 0)
                return r;
        struct rec end = { .kind = REC_PKG_END };
        return push(ra, &end) ? 0 : -ECANCELED;
}

static void producer_finished(struct readahead *ra)
{
        pthread_mutex_lock(&ra->lock);
        ra->producer_done = true;
        pthread_cond_broadcast(&ra->fin_done);
        pthread_mutex_unlock(&ra->lock);
}

static void *producer(void *arg)
{
        struct readahead *ra = arg;
        int r = 0;

        pthread_setname_np(pthread_self(), "imgtool-read");   /* for top and perf */
        for (size_t i = 0; i < ra->npkgs && r >= 0; i++)
                r = stream_package(ra, i);
        if (r < 0 && r != -ECANCELED)
                push_error(ra, r);
        if (r >= 0) {
                struct rec eof = { .kind = REC_EOF };
                push(ra, &eof);
        }
        producer_finished(ra);
        return NULL;
}

/* ---- consumer ------------------------------------------------------------ */

static void give_back_chunk(struct readahead *ra)
{
        if (!ra->held_cost)
                return;
        pthread_mutex_lock(&ra->lock);
        ra->bytes_used -= ra->held_cost;
        pthread_cond_signal(&ra->can_push);
        pthread_mutex_unlock(&ra->lock);
        ra->held_cost = 0;
}

static void pop(struct readahead *ra, struct rec *out)
{
        pthread_mutex_lock(&ra->lock);
        while (!ra->rec_count)
                pthread_cond_wait(&ra->can_pop, &ra->lock);
        *out = ra->recs[ra->rec_tail];
        ra->rec_tail = (ra->rec_tail + 1) % RING_RECORDS;
        ra->rec_count--;
        pthread_cond_signal(&ra->can_push);
        pthread_mutex_unlock(&ra->lock);
}

/* An error record: raise its message here, on the caller's thread. */
static int raise_error(struct readahead *ra, struct rec *r)
{
        int rc = imgerr(r->rc, "%s", r->msg ? r->msg : "payload read failed");
        free(r->msg);
        ra->at_eof = true;
        return rc;
}

/* Make sure the hook has run on fin: do the pending batch here if nobody
 * took it yet, else wait for the thread that did. */
static void wait_finished(struct readahead *ra, struct fin *fin)
{
        pthread_mutex_lock(&ra->lock);
        while (fin->state != FIN_DONE) {
                if (fin->state == FIN_PENDING &&
                    (ra->npending >= STEAL_MIN || ra->producer_done || ra->npending >= ra->hooks.batch))
                        finish_pending(ra);
                else
                        pthread_cond_wait(&ra->fin_done, &ra->lock);
        }
        pthread_mutex_unlock(&ra->lock);
}

static void fin_free(struct fin *fin)
{
        if (!fin)
                return;
        free(fin->f.msg);
        free(fin->f.val);
        if (fin->f.verity) {
                verity_meta_free(fin->f.verity);
                free(fin->f.verity);
        }
        free(fin);
}

static void drop_current(struct readahead *ra)
{
        if (ra->cur) {
                wait_finished(ra, ra->cur);
                fin_free(ra->cur);
                ra->cur = NULL;
        }
}

ssize_t readahead_read(struct readahead *ra, const uint8_t **data)
{
        struct rec r;

        give_back_chunk(ra);
        if (!ra->in_content)
                return 0;
        if (ra->at_eof)
                return imgerr(-EIO, "payload stream ended early");
        pop(ra, &r);
        switch (r.kind) {
        case REC_CHUNK:
                ra->held_cost = r.cost;
                *data = r.data;
                return (ssize_t)r.len;
        case REC_DONE:
                ra->in_content = false;
                ra->cur = r.fin;
                return 0;
        case REC_ERROR:
                ra->in_content = false;
                return raise_error(ra, &r);
        default:
                ra->at_eof = true;
                return imgerr(-EIO, "payload stream out of order");
        }
}

int readahead_next(struct readahead *ra, struct ra_entry *e)
{
        const uint8_t *data;
        struct rec r;
        ssize_t n;

        /* content the caller did not read is skipped, its checks still count */
        while ((n = readahead_read(ra, &data)) > 0)
                ;
        if (n < 0)
                return (int)n;
        drop_current(ra);
        if (ra->at_eof)
                return imgerr(-EIO, "payload stream ended early");
        pop(ra, &r);
        switch (r.kind) {
        case REC_ENTRY:
                *e = r.e;
                ra->in_content = r.e.content;
                return 1;
        case REC_PKG_END:
                return 0;
        case REC_ERROR:
                return raise_error(ra, &r);
        default:
                ra->at_eof = true;
                return imgerr(-EIO, "payload stream out of order");
        }
}

int readahead_finished(struct readahead *ra, struct ra_file **out)
{
        if (!ra->cur)
                return -EAGAIN;
        wait_finished(ra, ra->cur);
        *out = &ra->cur->f;
        return 0;
}

int readahead_start(struct rpmpkg *const *pkgs, size_t n, const struct ra_hooks *hooks,
                    struct readahead **out)
{
        struct readahead *ra = calloc(1, sizeof(*ra));
        int r;

        if (!ra)
                return -ENOMEM;
        ra->pkgs = pkgs;
        ra->npkgs = n;
        ra->hooks = *hooks;
        if (!ra->hooks.batch)
                ra->hooks.batch = DEFAULT_BATCH;
        if (ra->hooks.batch > RING_RECORDS)
                ra->hooks.batch = RING_RECORDS;
        ra->bytes = malloc(READAHEAD_BYTES);
        ra->pending = calloc(RING_RECORDS, sizeof(*ra->pending));
        if (!ra->bytes || !ra->pending) {
                free(ra->bytes);
                free(ra->pending);
                free(ra);
                return -ENOMEM;
        }
        pthread_mutex_init(&ra->lock, NULL);
        pthread_cond_init(&ra->can_push, NULL);
        pthread_cond_init(&ra->can_pop, NULL);
        pthread_cond_init(&ra->fin_done, NULL);
        r = -pthread_create(&ra->thread, NULL, producer, ra);
        if (r < 0) {
                readahead_stop(ra);
                return imgerr(r, "cannot start the payload reader thread: %s", strerror(-r));
        }
        ra->started = true;
        *out = ra;
        return 0;
}

void readahead_stop(struct readahead *ra)
{
        if (!ra)
                return;
        if (ra->started) {
                pthread_mutex_lock(&ra->lock);
                ra->cancel = true;
                pthread_cond_broadcast(&ra->can_push);
                pthread_mutex_unlock(&ra->lock);
                pthread_join(ra->thread, NULL);
        }
        /* the producer is gone: whatever is left belongs to nobody else */
        fin_free(ra->cur);
        for (size_t i = 0; i < ra->rec_count; i++) {
                struct rec *r = &ra->recs[(ra->rec_tail + i) % RING_RECORDS];
                if (r->kind == REC_DONE)
                        fin_free(r->fin);
                else if (r->kind == REC_ERROR)
                        free(r->msg);
        }
        pthread_mutex_destroy(&ra->lock);
        pthread_cond_destroy(&ra->can_push);
        pthread_cond_destroy(&ra->can_pop);
        pthread_cond_destroy(&ra->fin_done);
        free(ra->pending);
        free(ra->bytes);
        free(ra);
}
