/* Offline verification of an image's file signatures (see imgverify.h). */
#include "image/imgverify.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ext4/ext4verity.h"
#include "ext4/ext4walk.h"
#include "image/plan.h"
#include "image/labels.h"
#include "base/util.h"
#include "ima/sigreq.h"
#include "ima/imasig.h"
#include "ima/verity.h"

/* ---- hashing ------------------------------------------------------- */

/* Up to two digests of one content (the signature's algo and the
 * expected digest's algo), read once. */
struct hashers {
        struct ima_hasher *h[2];
        int algo[2];
        uint8_t digest[2][IMA_MAX_DIGEST];
        int n;
};

static int feed_hashers(const void *buf, size_t len, void *userdata)
{
        struct hashers *hs = userdata;
        int r = 0;
        for (int i = 0; r == 0 && i < hs->n; i++)
                r = ima_hasher_update(hs->h[i], buf, len);
        return r;
}

static int hashers_add(struct hashers *hs, int algo)
{
        for (int i = 0; i < hs->n; i++)
                if (hs->algo[i] == algo)
                        return 0;
        hs->algo[hs->n] = algo;
        return ima_hasher_new(algo, &hs->h[hs->n++]);
}

static void hashers_free(struct hashers *hs)
{
        for (int i = 0; i < hs->n; i++)
                ima_hasher_free(hs->h[i]);
}

/* Finish every hasher once; then hashers_digest() hands out the results. */
static int hashers_finish(struct hashers *hs)
{
        int r = 0;
        for (int i = 0; r == 0 && i < hs->n; i++)
                r = ima_hasher_final(hs->h[i], hs->digest[i]);
        return r;
}

static const uint8_t *hashers_digest(const struct hashers *hs, int algo)
{
        for (int i = 0; i < hs->n; i++)
                if (hs->algo[i] == algo)
                        return hs->digest[i];
        return NULL;
}

int imgverify_file_digest(struct ext4walk *w, const struct ext4walk_entry *e, int algo,
                          uint8_t *digest)
{
        struct hashers hs = {};
        int r;

        r = hashers_add(&hs, algo);
        if (r == 0)
                r = ext4walk_read(w, e, feed_hashers, &hs);
        if (r == 0)
                r = hashers_finish(&hs);
        if (r == 0)
                memcpy(digest, hashers_digest(&hs, algo), ima_hash_size(algo));
        hashers_free(&hs);
        return r < 0 ? imgerr_prefix(r, "%s: ", e->path) : r;
}

/* ---- one regular file ---------------------------------------------- */

/* What is known about a regular-file path; the content checks are filled
 * in by a worker thread (or inline). */
struct rec {
        char *path;
        uint8_t *ima;             /* copy of security.ima, NULL if absent */
        size_t ima_len;
        struct imasig sig;        /* parsed, valid when parse_r == 0 */
        int parse_r;
        char *parse_msg;          /* why parsing failed */
        const struct imgverify_expected *x;  /* content to compare, or NULL */
        struct rec *first;        /* a hard link: the record that holds the verdict */
        /* the job */
        struct ext4walk_run *runs;
        size_t n_runs;
        uint64_t size;
        uint64_t too_large;       /* the image's size when the file claims more: not hashed */
        /* fs-verity metadata stored beside the content (EXT4_VERITY_FL) */
        bool verity;
        uint8_t *vdesc;           /* descriptor + PKCS#7 */
        size_t vdesc_len;
        uint8_t *vtree;
        uint64_t vtree_size;
        char *vread_msg;          /* the metadata could not be read: why */
        /* results */
        enum imasig_status st;
        uint8_t x_digest[IMA_MAX_DIGEST];
        enum verity_verdict vv;
        char *vmsg;               /* vv is not VERITY_OK: why (a pointer: 160 bytes in every record were 0.16 KB per file) */
        enum imasig_status v3st;  /* security.ima v3 over the stored verity digest */
        int builtin_r;            /* PKCS#7 in the descriptor: 0 valid, 1 none, <0 invalid */
        char *builtin_msg;
        int err;
        char *err_msg;
        bool kept;                /* a hard-linked inode's first record: its links need the verdict */
        bool done;                /* the content check is over (atomic: set by a worker) */
};

static bool needs_signature_check(const struct rec *r)
{
        return r->ima && r->parse_r == 0 && r->sig.type == EVM_IMA_XATTR_DIGSIG &&
               ima_hash_size(r->sig.hash_algo);
}

static bool needs_content(const struct rec *r)
{
        return needs_signature_check(r) || (r->x && r->x->digest_algo) || r->verity;
}

static void rec_free(struct rec *r)
{
        if (!r)
                return;
        free(r->path);
        free(r->ima);
        free(r->parse_msg);
        free(r->runs);
        free(r->err_msg);
        free(r->vdesc);
        free(r->vtree);
        free(r->vread_msg);
        free(r->vmsg);
        free(r->builtin_msg);
        free(r);
}

/* ---- fs-verity ------------------------------------------------------ */

/* libfsverity pulls the content; it comes from the runs (read a piece of up
 * to PULL_PIECE at a time), or from a copy read through libext2fs (inline). */
#define PULL_PIECE (1u << 20)

struct pull_src {
        const struct ext4walk *w;
        const struct ext4walk_run *runs;
        size_t n, i;
        uint64_t at;              /* offset in runs[i] */
        uint8_t *buf;             /* PULL_PIECE bytes */
        size_t have, pos;         /* buf[pos..have) not handed out yet */
        struct hashers *hs;       /* fed on the way: one read for every check */
        const uint8_t *copy;      /* or the whole content */
        uint64_t copy_left;
};

struct copy_to {
        uint8_t *p;
};

static int copy_piece(const void *buf, size_t len, void *userdata)
{
        struct copy_to *c = userdata;
        memcpy(c->p, buf, len);
        c->p += len;
        return 0;
}

static int refill(struct pull_src *s)
{
        struct ext4walk_run piece;
        struct copy_to c = { s->buf };
        uint64_t left;
        int r;

        while (s->i < s->n && s->at == s->runs[s->i].len) {
                s->i++;
                s->at = 0;
        }
        if (s->i >= s->n)
                return imgerr(-EIO, "content shorter than its size");
        piece = s->runs[s->i];
        left = piece.len - s->at;
        piece.len = left < PULL_PIECE ? left : PULL_PIECE;
        if (!piece.zero)
                piece.offset += s->at;
        r = ext4walk_read_runs(s->w, &piece, 1, copy_piece, &c);
        if (r < 0)
                return r;
        s->at += piece.len;
        s->have = (size_t)piece.len;
        s->pos = 0;
        return 0;
}

static int pull_content(void *ctx, void *buf, size_t count)
{
        struct pull_src *s = ctx;
        uint8_t *out = buf;
        size_t want = count;
        int r;

        if (s->copy) {
                if (count > s->copy_left)
                        return -EIO;
                memcpy(buf, s->copy, count);
                s->copy += count;
                s->copy_left -= count;
        } else {
                while (count) {
                        if (s->pos == s->have && (r = refill(s)) < 0)
                                return r;
                        size_t k = count < s->have - s->pos ? count : s->have - s->pos;
                        memcpy(out, s->buf + s->pos, k);
                        s->pos += k;
                        out += k;
                        count -= k;
                }
        }
        return s->hs ? feed_hashers(buf, want, s->hs) : 0;
}

struct grow {
        uint8_t *buf;
        size_t len;
};

static int append_piece(const void *buf, size_t len, void *userdata)
{
        struct grow *g = userdata;
        memcpy(g->buf + g->len, buf, len);
        g->len += len;
        return 0;
}

/* The content's tree against the stored one, and the signatures over the
 * stored descriptor's digest (what the kernel measures and checks). */
static int check_verity(struct rec *r, const struct ext4walk *mapped, struct ext4walk *w,
                        const struct ext4walk_entry *e, const struct ima_trust *trust,
                        char *const *cert_files, struct hashers *hs)
{
        struct verity_desc_info info;
        struct verity_params vp = { .salt_len = 0 };
        struct verity_meta m;
        struct pull_src src = { .w = mapped, .runs = r->runs, .n = r->n_runs, .hs = hs };
        _cleanup_free_ uint8_t *copy = NULL, *piece = NULL;
        uint8_t digest[VERITY_DIGEST_SIZE];
        char vmsg[160] = "";
        uint64_t block;
        int rc;

        rc = verity_desc_parse(r->vdesc, r->vdesc_len, &info);
        if (rc < 0) {
                r->vv = VERITY_BAD_TREE;
                if (asprintf(&r->vmsg, "fs-verity descriptor: %s", imgerr_what(rc)) < 0)
                        r->vmsg = NULL;
                return 1;   /* still hash for the other checks */
        }
        vp.salt_len = info.salt_len;
        memcpy(vp.salt, info.salt, info.salt_len);
        if (w) {
                struct grow g = { malloc(r->size ? r->size : 1), 0 };
                if (!g.buf)
                        return -ENOMEM;
                copy = g.buf;
                rc = ext4walk_read(w, e, append_piece, &g);
                if (rc < 0)
                        return rc;
                src.copy = copy;
                src.copy_left = g.len;
        } else if (!(src.buf = piece = malloc(PULL_PIECE))) {
                return -ENOMEM;
        }
        rc = verity_compute(&vp, r->size, pull_content, &src, &m);
        if (rc < 0)
                return rc;
        r->vv = verity_check(r->vdesc, r->vtree, r->vtree_size, &m, r->size, &block, vmsg, sizeof(vmsg));
        if (r->vv != VERITY_OK && !(r->vmsg = strdup(vmsg))) {
                verity_meta_free(&m);
                return -ENOMEM;
        }
        verity_meta_free(&m);
        verity_desc_digest(r->vdesc, digest);
        r->v3st = r->ima ? verity_ima_verify(trust, r->ima, r->ima_len, digest, NULL) : IMASIG_NONE;
        r->builtin_r = 1;
        if (info.sig_size) {
                imgerr_clear();
                r->builtin_r = verity_builtin_verify(r->vdesc + VERITY_DESC_SIZE, info.sig_size, digest, cert_files);
                if (r->builtin_r < 0)
                        r->builtin_msg = strdup(imgerr_what(r->builtin_r));
        }
        return 0;
}

/* Hash the content (from runs, or through w when given) and check the
 * signature.  Runs in a worker thread when w is NULL. */
static void check_content(struct rec *r, const struct ext4walk *mapped, struct ext4walk *w,
                          const struct ext4walk_entry *e, const struct ima_trust *trust,
                          char *const *cert_files)
{
        struct hashers hs = {};
        struct imasig parsed;
        int rc = 0;

        if (needs_signature_check(r))
                rc = hashers_add(&hs, r->sig.hash_algo);
        if (rc == 0 && r->x && r->x->digest_algo)
                rc = hashers_add(&hs, r->x->digest_algo);
        /* with verity, the tree builder reads the content and feeds the hashers */
        bool fed = false;
        if (rc == 0 && r->verity) {
                rc = check_verity(r, mapped, w, e, trust, cert_files, &hs);
                fed = rc == 0;
                if (rc == 1)
                        rc = 0;
        }
        if (rc == 0 && !fed)
                rc = w ? ext4walk_read(w, e, feed_hashers, &hs)
                       : ext4walk_read_runs(mapped, r->runs, r->n_runs, feed_hashers, &hs);
        if (rc == 0)
                rc = hashers_finish(&hs);
        if (rc == 0 && r->x && r->x->digest_algo)
                memcpy(r->x_digest, hashers_digest(&hs, r->x->digest_algo),
                       ima_hash_size(r->x->digest_algo));
        if (rc == 0 && needs_signature_check(r))
                r->st = ima_trust_verify_digest(trust, r->ima, r->ima_len,
                                                hashers_digest(&hs, r->sig.hash_algo),
                                                ima_hash_size(r->sig.hash_algo), &parsed);
        hashers_free(&hs);
        if (rc < 0) {
                r->err = rc;
                r->err_msg = strdup(imgerr_what(rc));
        }
        free(r->runs);
        r->runs = NULL;
        __atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
}

/* ---- worker threads ------------------------------------------------ */

#define QUEUE_LEN 128

struct pool {
        pthread_t *threads;
        int n_threads;
        pthread_mutex_t lock;
        pthread_cond_t not_empty, not_full;
        struct rec *q[QUEUE_LEN];
        size_t head, count;
        bool closed;
        const struct ext4walk *w;
        const struct ima_trust *trust;
        char *const *cert_files;
};

static void *worker(void *arg)
{
        struct pool *p = arg;

        for (;;) {
                struct rec *r;
                pthread_mutex_lock(&p->lock);
                while (p->count == 0 && !p->closed)
                        pthread_cond_wait(&p->not_empty, &p->lock);
                if (p->count == 0) {
                        pthread_mutex_unlock(&p->lock);
                        return NULL;
                }
                r = p->q[p->head];
                p->head = (p->head + 1) % QUEUE_LEN;
                p->count--;
                pthread_cond_signal(&p->not_full);
                pthread_mutex_unlock(&p->lock);
                check_content(r, p->w, NULL, NULL, p->trust, p->cert_files);
        }
}

static void pool_submit(struct pool *p, struct rec *r)
{
        pthread_mutex_lock(&p->lock);
        while (p->count == QUEUE_LEN)
                pthread_cond_wait(&p->not_full, &p->lock);
        p->q[(p->head + p->count) % QUEUE_LEN] = r;
        p->count++;
        pthread_cond_signal(&p->not_empty);
        pthread_mutex_unlock(&p->lock);
}

/* One thread per CPU: hashing is the whole cost of a verify. */
static int pool_start(struct pool *p, const struct ext4walk *w, const struct ima_trust *trust,
                      char *const *cert_files)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        p->w = w;
        p->trust = trust;
        p->cert_files = cert_files;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->not_empty, NULL);
        pthread_cond_init(&p->not_full, NULL);
        if (!ext4walk_mapped(w) || n < 2)
                return 0;
        if (n > 8)
                n = 8;
        p->threads = calloc((size_t)n, sizeof(*p->threads));
        if (!p->threads)
                return imgerr(-ENOMEM, "out of memory");
        for (int i = 0; i < n; i++) {
                int e = pthread_create(&p->threads[i], NULL, worker, p);
                if (e)
                        break;
                p->n_threads++;
        }
        return 0;
}

static void pool_finish(struct pool *p)
{
        pthread_mutex_lock(&p->lock);
        p->closed = true;
        pthread_cond_broadcast(&p->not_empty);
        pthread_mutex_unlock(&p->lock);
        for (int i = 0; i < p->n_threads; i++)
                pthread_join(p->threads[i], NULL);
        free(p->threads);
        p->threads = NULL;
        p->n_threads = 0;
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->not_empty);
        pthread_cond_destroy(&p->not_full);
}

/* ---- the run ------------------------------------------------------- */

struct ino_slot {
        uint32_t ino;
        struct rec *rec;
};

struct run {
        const struct imgverify_opts *o;
        struct imgverify_report *rep;
        struct pool pool;
        /* Records in walk order not reported yet: recs[head..n_recs).  Each
         * is reported and freed as soon as it and those before it are
         * checked, so memory holds the files in flight, not the image
         * (1.21 KB per file at 300k files when all were kept to the end). */
        struct rec **recs;
        size_t head, n_recs, cap_recs;
        struct rec **kept;       /* reported records still needed by their hard links */
        size_t n_kept, cap_kept;
        struct ino_slot *inos;   /* hard-linked inodes: ino -> first record */
        size_t n_inos, cap_inos;
        const struct imgverify_expected **expected;  /* sorted by path */
        size_t next_expected;
        size_t seq;
};

/* Violations carry their insertion number so the final sort by path keeps
 * the order in which one path's problems were found. */
static int add_violation(struct run *run, const char *path, enum imgverify_reason reason,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int add_violation(struct run *run, const char *path, enum imgverify_reason reason,
                         const char *fmt, ...)
{
        struct imgverify_report *rep = run->rep;
        struct imgverify_violation *v;
        va_list ap;
        int n;

        if (GROW(rep->v, rep->n_v, rep->cap_v, 16) < 0)
                return imgerr(-ENOMEM, "out of memory");
        v = &rep->v[rep->n_v];
        v->reason = reason;
        v->seq = run->seq++;
        v->path = strdup(path);
        va_start(ap, fmt);
        n = vasprintf(&v->text, fmt, ap);
        va_end(ap);
        if (!v->path || n < 0) {
                free(v->path);
                return imgerr(-ENOMEM, "out of memory");
        }
        rep->n_v++;
        return 0;
}

static bool allowed_unsigned(const struct imgverify_opts *o, const char *path)
{
        return plan_allows_unsigned(o->allow_unsigned, o->n_allow_unsigned, path);
}

/* The verdict on a file's signature, as a violation (or none). */
static int report_signature(struct run *run, const struct rec *r)
{
        const struct rec *v = r->first ? r->first : r;
        bool allowed = allowed_unsigned(run->o, r->path);

        if (v->verity && r->ima && r->ima_len && r->ima[0] == IMA_VERITY_DIGSIG) {
                switch (v->v3st) {
                case IMASIG_VALID:
                        run->rep->signed_ok++;
                        return 0;
                case IMASIG_UNKNOWN_KEY:
                        return add_violation(run, r->path, IMGV_UNKNOWN_KEY, "unknown key %02x%02x%02x%02x",
                                             r->ima[3], r->ima[4], r->ima[5], r->ima[6]);
                case IMASIG_INVALID:
                        return add_violation(run, r->path, IMGV_INVALID,
                                             "invalid IMA v3 signature (fs-verity digest changed or signed by another key)");
                default:
                        return add_violation(run, r->path, IMGV_MALFORMED, "malformed IMA v3 signature");
                }
        }
        if (run->o->verity == IMGV_VERITY_IMA_V3 && !allowed)
                return add_violation(run, r->path, r->ima ? IMGV_UNSUPPORTED : IMGV_NO_SIGNATURE,
                                     "%s, not an IMA v3 signature over the fs-verity digest",
                                     r->ima ? imasig_type_name(r->ima[0]) : "no signature");
        if (!r->ima)
                return allowed ? 0 : add_violation(run, r->path, IMGV_NO_SIGNATURE, "no signature");
        if (r->parse_r == -EOPNOTSUPP)
                return add_violation(run, r->path, IMGV_UNSUPPORTED, "unsupported security.ima type: %s",
                                     imasig_type_name(r->sig.type));
        if (r->parse_r < 0)
                return add_violation(run, r->path, IMGV_MALFORMED, "malformed security.ima: %s",
                                     r->parse_msg ? r->parse_msg : "cannot be parsed");
        if (r->sig.type != EVM_IMA_XATTR_DIGSIG)
                return allowed ? 0 : add_violation(run, r->path, IMGV_HASH_ONLY,
                                                   "hash-only value, not a signature");
        if (!ima_hash_size(r->sig.hash_algo))
                return add_violation(run, r->path, IMGV_MALFORMED,
                                     "malformed security.ima: unknown hash algorithm %u",
                                     r->sig.hash_algo);
        switch (v->st) {
        case IMASIG_VALID:
                run->rep->signed_ok++;
                return 0;
        case IMASIG_UNKNOWN_KEY:
                return add_violation(run, r->path, IMGV_UNKNOWN_KEY, "unknown key %08x", r->sig.keyid);
        case IMASIG_INVALID: {
                const uint8_t *id;
                if (sigreq_placeholder_id(r->ima, r->ima_len, &id))
                        return add_violation(run, r->path, IMGV_INVALID, "a deferred signature's placeholder "
                                             "(compose --defer-signatures: run imgtool apply-signatures)");
                return add_violation(run, r->path, IMGV_INVALID,
                                     "invalid signature (content changed or signed by another key)");
        }
        case IMASIG_UNSUPPORTED:
                return add_violation(run, r->path, IMGV_UNSUPPORTED,
                                     "unsupported signature (hash algorithm %s)",
                                     ima_hash_name(r->sig.hash_algo));
        case IMASIG_UNUSABLE_KEY:
                return add_violation(run, r->path, IMGV_UNSUPPORTED,
                                     "signature by key %08x, which the kernel cannot verify: %s",
                                     r->sig.keyid, ima_trust_key_problem(run->o->trust, r->sig.keyid));
        default:
                return add_violation(run, r->path, IMGV_MALFORMED, "malformed security.ima: %s",
                                     imasig_status_name(v->st));
        }
}

/* The fs-verity verdict: metadata, content against the tree, builtin
 * signature. */
static int report_verity(struct run *run, const struct rec *r)
{
        const struct rec *v = r->first ? r->first : r;
        bool allowed = allowed_unsigned(run->o, r->path);
        int rc;

        if (v->vread_msg)
                return add_violation(run, r->path, IMGV_VERITY_DAMAGED, "%s", v->vread_msg);
        if (!v->verity)
                return run->o->verity != IMGV_VERITY_ANY
                               ? add_violation(run, r->path, IMGV_NO_VERITY, "no fs-verity tree")
                               : 0;
        if (v->vv == VERITY_BAD_BLOCK)
                return add_violation(run, r->path, IMGV_VERITY_BLOCK, "%s", v->vmsg ? v->vmsg : "out of memory");
        if (v->vv != VERITY_OK)
                return add_violation(run, r->path, IMGV_VERITY_DAMAGED, "%s", v->vmsg ? v->vmsg : "out of memory");
        if (v->builtin_r < 0)
                rc = add_violation(run, r->path, IMGV_VERITY_SIGNATURE, "fs-verity signature: %s",
                                   v->builtin_msg ? v->builtin_msg : "invalid");
        else if (v->builtin_r == 1 && run->o->verity == IMGV_VERITY_BUILTIN && !allowed)
                rc = add_violation(run, r->path, IMGV_VERITY_SIGNATURE, "fs-verity signature: none in the descriptor");
        else
                rc = 0;
        if (rc == 0)
                run->rep->verity_ok++;
        return rc;
}

static const char *pkg_name(const struct imgverify_expected *x)
{
        return x->package ? x->package : "the layout";
}

static int report_content(struct run *run, const struct rec *r)
{
        const struct rec *v = r->first ? r->first : r;

        if (!r->x || !r->x->digest_algo)
                return 0;
        /* A hard link shares its first path's digest only if that one was
         * hashed with the same algo. */
        if (r->first && (!v->x || v->x->digest_algo != r->x->digest_algo))
                return 0;
        if (memcmp(v->x_digest, r->x->digest, ima_hash_size(r->x->digest_algo)))
                return add_violation(run, r->path, IMGV_CONTENT_DIFFERS, "content differs from package %s",
                                     pkg_name(r->x));
        return 0;
}

/* ---- comparison with the expected files ---------------------------- */

static int compare_metadata(struct run *run, const struct ext4walk_entry *e,
                            const struct imgverify_expected *x)
{
        int r;

        if ((e->mode & S_IFMT) != (x->mode & S_IFMT))
                return add_violation(run, e->path, IMGV_TYPE_DIFFERS, "type differs from package %s",
                                     pkg_name(x));
        if ((e->mode & 07777) != (x->mode & 07777) &&
            (r = add_violation(run, e->path, IMGV_MODE_DIFFERS, "mode %04o, package %s says %04o",
                               e->mode & 07777, pkg_name(x), x->mode & 07777)) < 0)
                return r;
        if ((e->uid != x->uid || e->gid != x->gid) &&
            (r = add_violation(run, e->path, IMGV_OWNER_DIFFERS, "owner %u:%u, package %s says %u:%u",
                               e->uid, e->gid, pkg_name(x), x->uid, x->gid)) < 0)
                return r;
        if (S_ISLNK(e->mode) && x->target && strcmp(x->target, e->target ? e->target : ""))
                return add_violation(run, e->path, IMGV_TARGET_DIFFERS,
                                     "symlink target differs from package %s", pkg_name(x));
        return 0;
}

/* Directories that no package owns are fine when something expected lies
 * below them (they were made as parents). */
static bool is_parent_of_expected(const struct run *run, const char *dir)
{
        size_t lo = run->next_expected, hi = run->o->n_expected, dl = strlen(dir);

        if (!strcmp(dir, "/"))
                return true;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                const char *p = run->expected[mid]->path;
                int c = strncmp(p, dir, dl);
                if (c < 0 || (c == 0 && (unsigned char)p[dl] < '/'))
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < run->o->n_expected && !strncmp(run->expected[lo]->path, dir, dl) &&
               run->expected[lo]->path[dl] == '/';
}

/* A file compose makes itself (plan.h decides what such a path covers). */
static bool extra_allowed(const struct imgverify_opts *o, const char *path, bool is_dir)
{
        return plan_created_covers(o->extra_ok, o->n_extra_ok, path, is_dir);
}

static int report_missing_before(struct run *run, const char *path)
{
        int r;
        while (run->next_expected < run->o->n_expected) {
                const struct imgverify_expected *x = run->expected[run->next_expected];
                if (path && strcmp(x->path, path) >= 0)
                        break;
                r = add_violation(run, x->path, IMGV_MISSING, "missing (from package %s)",
                                  pkg_name(x));
                if (r < 0)
                        return r;
                run->next_expected++;
        }
        return 0;
}

/* Compare one entry with the expected list; *x gets its expected record. */
static int check_against(struct run *run, const struct ext4walk_entry *e,
                         const struct imgverify_expected **x)
{
        int r;

        *x = NULL;
        r = report_missing_before(run, e->path);
        if (r < 0)
                return r;
        if (run->next_expected < run->o->n_expected &&
            !strcmp(run->expected[run->next_expected]->path, e->path)) {
                *x = run->expected[run->next_expected++];
                return compare_metadata(run, e, *x);
        }
        if (S_ISDIR(e->mode) && is_parent_of_expected(run, e->path))
                return 0;
        if (extra_allowed(run->o, e->path, S_ISDIR(e->mode)))
                return 0;
        return add_violation(run, e->path, IMGV_UNEXPECTED, "not in the layout's packages");
}

static int by_expected_path(const void *a, const void *b)
{
        return strcmp((*(const struct imgverify_expected *const *)a)->path,
                      (*(const struct imgverify_expected *const *)b)->path);
}

static int sort_expected(struct run *run)
{
        const struct imgverify_opts *o = run->o;

        if (!o->expected)
                return 0;
        run->expected = malloc((o->n_expected ? o->n_expected : 1) * sizeof(*run->expected));
        if (!run->expected)
                return imgerr(-ENOMEM, "out of memory");
        for (size_t i = 0; i < o->n_expected; i++)
                run->expected[i] = &o->expected[i];
        qsort(run->expected, o->n_expected, sizeof(*run->expected), by_expected_path);
        return 0;
}

/* ---- walking ------------------------------------------------------- */

static struct rec *first_of_inode(struct run *run, uint32_t ino)
{
        for (size_t i = 0; i < run->n_inos; i++)
                if (run->inos[i].ino == ino)
                        return run->inos[i].rec;
        return NULL;
}

static int remember_inode(struct run *run, uint32_t ino, struct rec *r)
{
        if (GROW(run->inos, run->n_inos, run->cap_inos, 16) < 0)
                return imgerr(-ENOMEM, "out of memory");
        run->inos[run->n_inos++] = (struct ino_slot){ ino, r };
        return 0;
}

/* The stored tree and descriptor, read here on the walking thread (libext2fs
 * is not thread-safe); a damaged one is a violation, not a failed run. */
static int read_verity(struct ext4walk *w, const struct ext4walk_entry *e, struct rec *r)
{
        imgerr_clear();
        int rc = ext4verity_read(w, e, &r->vdesc, &r->vdesc_len, &r->vtree, &r->vtree_size);
        if (rc == -ENOMEM)
                return rc;
        if (rc < 0) {
                r->vread_msg = strdup(imgerr_what(rc));
                return r->vread_msg ? 0 : -ENOMEM;
        }
        r->verity = rc == 1;
        return 0;
}

static int new_rec(struct run *run, const struct ext4walk_entry *e, struct rec **out)
{
        struct rec *r;

        if (GROW(run->recs, run->n_recs, run->cap_recs, 256) < 0)
                return imgerr(-ENOMEM, "out of memory");
        r = calloc(1, sizeof(*r));
        if (!r || !(r->path = strdup(e->path)) ||
            (e->ima && !(r->ima = malloc(e->ima_len ? e->ima_len : 1)))) {
                rec_free(r);
                return imgerr(-ENOMEM, "out of memory");
        }
        run->recs[run->n_recs++] = r;
        if (e->ima) {
                memcpy(r->ima, e->ima, e->ima_len);
                r->ima_len = e->ima_len;
                imgerr_clear();
                r->parse_r = imasig_parse(r->ima, r->ima_len, &r->sig);
                if (r->parse_r < 0 && r->parse_r != -EOPNOTSUPP && !(r->parse_msg = strdup(imgerr_what(r->parse_r))))
                        return imgerr(-ENOMEM, "out of memory");
        }
        r->size = e->size;
        *out = r;
        return 0;
}

/* A record whose verdict is settled without a worker (no content to hash,
 * a hard link, a file too large): done now, which keeps the window short. */
static int settled(struct rec *r)
{
        __atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
        return 0;
}

/* Hand the content check to a worker, or do it now. */
static int schedule_content(struct run *run, struct ext4walk *w, const struct ext4walk_entry *e,
                            struct rec *r)
{
        int rc;

        run->rep->bytes += e->size;
        if (run->pool.n_threads > 0) {
                rc = ext4walk_runs(w, e, &r->runs, &r->n_runs);
                if (rc == 0) {
                        pool_submit(&run->pool, r);
                        return 0;
                }
                if (rc != -EOPNOTSUPP)
                        return rc;
        }
        check_content(r, NULL, w, e, run->o->trust, run->o->cert_files);
        return 0;
}

/* The label compose gives every inode (labels.c decides it). */
static int check_label(struct run *run, const struct ext4walk_entry *e)
{
        _cleanup_free_ char *got = e->selinux ? strndup(e->selinux, e->selinux_len) : NULL;
        char *want = NULL;
        int r = labels_lookup(run->o->labels, e->path, e->mode, &want);

        if (r < 0)
                return r;
        if ((got ? got : "")[0] || want) {
                if (!want || !got || strcmp(got, want))
                        r = add_violation(run, e->path, IMGV_LABEL_DIFFERS, "security.selinux '%s', the policy says '%s'",
                                          got ? got : "", want ? want : "");
        }
        free(want);
        return r;
}

static int report_done(struct run *run);

static int on_entry(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        struct run *run = userdata;
        const struct imgverify_expected *x = NULL;
        struct rec *r = NULL;
        int rc;

        if (run->expected && (rc = check_against(run, e, &x)) < 0)
                return rc;
        if (run->o->labels && (rc = check_label(run, e)) < 0)
                return rc;
        if (!S_ISREG(e->mode))
                return 0;
        run->rep->files++;
        rc = new_rec(run, e, &r);
        if (rc < 0)
                return rc;
        r->x = x;
        if (e->link_of) {
                r->first = first_of_inode(run, e->ino);
                if (r->first)
                        return settled(r);
        }
        if (e->nlink > 1 && (rc = remember_inode(run, e->ino, r)) < 0)
                return rc;
        r->kept = e->nlink > 1;
        if (ext4walk_check_size(w, e) < 0) {
                /* a sparse terabyte in a small image: reported, never hashed */
                imgerr_clear();
                r->too_large = ext4walk_image_bytes(w);
                return settled(r);
        }
        if ((rc = read_verity(w, e, r)) < 0)
                return rc;
        rc = needs_content(r) ? schedule_content(run, w, e, r) : settled(r);
        return rc < 0 ? rc : report_done(run);
}

static int by_path_then_seq(const void *a, const void *b)
{
        const struct imgverify_violation *x = a, *y = b;
        int c = strcmp(x->path, y->path);
        return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* One checked record's verdicts as violations. */
static int report_one(struct run *run, const struct rec *r)
{
        const struct rec *v = r->first ? r->first : r;
        int rc;

        if (v->err < 0)
                return imgerr(v->err, "%s", v->err_msg ? v->err_msg : "reading failed");
        if (v->too_large)
                return add_violation(run, r->path, IMGV_TOO_LARGE,
                                     "%llu bytes, larger than the whole image (%llu bytes): not hashed",
                                     (unsigned long long)r->size, (unsigned long long)v->too_large);
        if ((rc = report_verity(run, r)) < 0 || (rc = report_signature(run, r)) < 0)
                return rc;
        return report_content(run, r);
}

/* A reported record is freed, unless hard links still need its verdict. */
static int retire(struct run *run, struct rec *r)
{
        if (!r->kept) {
                rec_free(r);
                return 0;
        }
        if (GROW(run->kept, run->n_kept, run->cap_kept, 16) < 0) {
                rec_free(r);
                return imgerr(-ENOMEM, "out of memory");
        }
        run->kept[run->n_kept++] = r;
        return 0;
}

/* Report the record at the window's head, take it out of the window and
 * retire it. */
static int report_head(struct run *run)
{
        struct rec *r = run->recs[run->head];
        int rc = report_one(run, r);

        run->recs[run->head++] = NULL;
        if (rc < 0) {
                rec_free(r);
                return rc;
        }
        return retire(run, r);
}

/* Report, in walk order, the records whose checks are over.  A record that
 * failed to be read stops the reporting: report_rest() returns its error
 * after the walk, as before, so the first failing file in walk order is the
 * one named. */
static int report_done(struct run *run)
{
        int rc;

        while (run->head < run->n_recs) {
                const struct rec *r = run->recs[run->head];
                const struct rec *v = r->first ? r->first : r;
                if (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE) || v->err < 0)
                        break;
                if ((rc = report_head(run)) < 0)
                        return rc;
        }
        /* keep the window at the front of the array */
        if (run->head > 1024 && run->head * 2 > run->n_recs) {
                memmove(run->recs, run->recs + run->head, (run->n_recs - run->head) * sizeof(*run->recs));
                run->n_recs -= run->head;
                run->head = 0;
        }
        return 0;
}

/* After every worker is done: the records left, then the verdicts in path
 * order. */
static int report_rest(struct run *run)
{
        int rc;

        while (run->head < run->n_recs)
                if ((rc = report_head(run)) < 0)
                        return rc;
        if (run->rep->n_v > 1)
                qsort(run->rep->v, run->rep->n_v, sizeof(*run->rep->v), by_path_then_seq);
        return 0;
}

int imgverify_run(const char *image, const struct imgverify_opts *o,
                  struct imgverify_report **out)
{
        struct run run = { .o = o };
        struct ext4walk *w = NULL;
        double t0 = now_seconds();
        bool pool_started = false;
        int r;

        if (!o->trust || ima_trust_count(o->trust) == 0)
                return imgerr(-EINVAL, "verify: no trusted certificate given");
        run.rep = calloc(1, sizeof(*run.rep));
        if (!run.rep || !(run.rep->image = strdup(image))) {
                r = imgerr(-ENOMEM, "out of memory");
                goto out;
        }
        r = sort_expected(&run);
        if (r < 0)
                goto out;
        r = ext4walk_open(image, &w);
        if (r < 0)
                goto out;
        r = pool_start(&run.pool, w, o->trust, o->cert_files);
        pool_started = true;
        if (r == 0)
                r = ext4walk_walk(w, "/", EXT4WALK_RECURSIVE, on_entry, &run);
        if (r == 0 && run.expected)
                r = report_missing_before(&run, NULL);
        pool_finish(&run.pool);
        pool_started = false;
        /* A read error from an image that changed under the walk (libext2fs
         * meeting a short metadata read, say) is that change: report it so. */
        if (r < 0) {
                int changed = ext4walk_unchanged(w);
                if (changed < 0)
                        r = changed;
        }
        if (r == 0)
                r = report_rest(&run);
        if (r == 0)
                r = ext4walk_unchanged(w);
        run.rep->seconds = now_seconds() - t0;
out:
        if (pool_started)
                pool_finish(&run.pool);
        ext4walk_close(w);
        for (size_t i = run.head; i < run.n_recs; i++)
                rec_free(run.recs[i]);
        free(run.recs);
        for (size_t i = 0; i < run.n_kept; i++)
                rec_free(run.kept[i]);
        free(run.kept);
        free(run.inos);
        free(run.expected);
        if (r < 0) {
                imgverify_report_free(run.rep);
                return r;
        }
        *out = run.rep;
        return 0;
}
