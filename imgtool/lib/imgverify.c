/* Offline verification of an image's file signatures (see imgverify.h). */
#include "imgverify.h"

#include <errno.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>

#include "ext4walk.h"
#include "util.h"

/* ---- digests, cached per inode so hard links are hashed once ------- */

struct digest_slot {
        uint32_t ino;            /* 0: empty */
        int algo;
        uint8_t digest[IMA_MAX_DIGEST];
};

struct digest_cache {
        struct digest_slot *slots;
        size_t cap, used;        /* cap is a power of two */
};

static size_t slot_of(const struct digest_cache *c, uint32_t ino, int algo)
{
        size_t i = ((size_t)ino * 2654435761u + (size_t)algo) & (c->cap - 1);
        while (c->slots[i].ino && !(c->slots[i].ino == ino && c->slots[i].algo == algo))
                i = (i + 1) & (c->cap - 1);
        return i;
}

static const uint8_t *cache_get(const struct digest_cache *c, uint32_t ino, int algo)
{
        size_t i;
        if (!c->cap)
                return NULL;
        i = slot_of(c, ino, algo);
        return c->slots[i].ino ? c->slots[i].digest : NULL;
}

static int cache_grow(struct digest_cache *c)
{
        struct digest_cache n = { .cap = c->cap ? c->cap * 2 : 64 };

        n.slots = calloc(n.cap, sizeof(*n.slots));
        if (!n.slots)
                return imgerr(-ENOMEM, "out of memory");
        for (size_t i = 0; i < c->cap; i++)
                if (c->slots[i].ino)
                        n.slots[slot_of(&n, c->slots[i].ino, c->slots[i].algo)] = c->slots[i];
        n.used = c->used;
        free(c->slots);
        *c = n;
        return 0;
}

static int cache_put(struct digest_cache *c, uint32_t ino, int algo, const uint8_t *digest)
{
        size_t i;
        int r;
        if ((c->used + 1) * 2 > c->cap && (r = cache_grow(c)) < 0)
                return r;
        i = slot_of(c, ino, algo);
        c->slots[i].ino = ino;
        c->slots[i].algo = algo;
        memcpy(c->slots[i].digest, digest, ima_hash_size(algo));
        c->used++;
        return 0;
}

static int feed_hasher(const void *buf, size_t len, void *userdata)
{
        return ima_hasher_update(userdata, buf, len);
}

int imgverify_file_digest(struct ext4walk *w, const struct ext4walk_entry *e, int algo,
                          uint8_t *digest)
{
        struct ima_hasher *h;
        int r;

        r = ima_hasher_new(algo, &h);
        if (r < 0)
                return imgerr_prefix(r, "%s: ", e->path);
        r = ext4walk_read(w, e, feed_hasher, h);
        if (r == 0)
                r = ima_hasher_final(h, digest);
        ima_hasher_free(h);
        return r;
}

/* ---- the run ------------------------------------------------------- */

struct run {
        const struct imgverify_opts *o;
        struct imgverify_report *rep;
        struct digest_cache cache;
        const struct imgverify_expected **expected;  /* sorted by path */
        size_t next_expected;
};

static int add_violation(struct run *run, const char *path, enum imgverify_reason reason,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int add_violation(struct run *run, const char *path, enum imgverify_reason reason,
                         const char *fmt, ...)
{
        struct imgverify_report *rep = run->rep;
        struct imgverify_violation *v;
        va_list ap;
        int n;

        v = realloc(rep->v, (rep->n_v + 1) * sizeof(*v));
        if (!v)
                return imgerr(-ENOMEM, "out of memory");
        rep->v = v;
        v = &rep->v[rep->n_v];
        v->reason = reason;
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

/* The content digest of a file, from the cache or hashed now. */
static int content_digest(struct run *run, struct ext4walk *w, const struct ext4walk_entry *e,
                          int algo, const uint8_t **digest)
{
        uint8_t d[IMA_MAX_DIGEST];
        int r;

        *digest = cache_get(&run->cache, e->ino, algo);
        if (*digest)
                return 0;
        r = imgverify_file_digest(w, e, algo, d);
        if (r < 0)
                return r;
        run->rep->bytes += e->size;
        r = cache_put(&run->cache, e->ino, algo, d);
        if (r < 0)
                return r;
        *digest = cache_get(&run->cache, e->ino, algo);
        return 0;
}

static bool allowed_unsigned(const struct imgverify_opts *o, const char *path)
{
        for (size_t i = 0; i < o->n_allow_unsigned; i++)
                if (fnmatch(o->allow_unsigned[i], path, 0) == 0)
                        return true;
        return false;
}

static int check_signature(struct run *run, struct ext4walk *w, const struct ext4walk_entry *e)
{
        struct imasig sig;
        const uint8_t *digest;
        enum imasig_status st;
        int r;

        if (!e->ima)
                return allowed_unsigned(run->o, e->path)
                               ? 0 : add_violation(run, e->path, IMGV_NO_SIGNATURE, "no signature");
        imgerr_clear();
        r = imasig_parse(e->ima, e->ima_len, &sig);
        if (r == -EOPNOTSUPP)
                return add_violation(run, e->path, IMGV_UNSUPPORTED,
                                     "unsupported security.ima type: %s",
                                     imasig_type_name(sig.type));
        if (r < 0)
                return add_violation(run, e->path, IMGV_MALFORMED, "malformed security.ima: %s",
                                     imgerr_msg());
        if (sig.type != EVM_IMA_XATTR_DIGSIG)
                return allowed_unsigned(run->o, e->path)
                               ? 0 : add_violation(run, e->path, IMGV_HASH_ONLY,
                                                   "hash-only value, not a signature");
        if (!ima_hash_size(sig.hash_algo))
                return add_violation(run, e->path, IMGV_MALFORMED,
                                     "malformed security.ima: unknown hash algorithm %u",
                                     sig.hash_algo);
        r = content_digest(run, w, e, sig.hash_algo, &digest);
        if (r < 0)
                return r;
        st = ima_trust_verify_digest(run->o->trust, e->ima, e->ima_len, digest,
                                     ima_hash_size(sig.hash_algo), &sig);
        switch (st) {
        case IMASIG_VALID:
                run->rep->signed_ok++;
                return 0;
        case IMASIG_UNKNOWN_KEY:
                return add_violation(run, e->path, IMGV_UNKNOWN_KEY, "unknown key %08x", sig.keyid);
        case IMASIG_INVALID:
                return add_violation(run, e->path, IMGV_INVALID,
                                     "invalid signature (content changed or signed by another key)");
        case IMASIG_NONE:
                return add_violation(run, e->path, IMGV_NO_SIGNATURE, "no signature");
        case IMASIG_HASH_ONLY:
                return add_violation(run, e->path, IMGV_HASH_ONLY, "hash-only value, not a signature");
        case IMASIG_UNSUPPORTED:
                return add_violation(run, e->path, IMGV_UNSUPPORTED,
                                     "unsupported security.ima type: %s", imasig_type_name(sig.type));
        case IMASIG_MALFORMED:
        default:
                return add_violation(run, e->path, IMGV_MALFORMED, "malformed security.ima: %s",
                                     imasig_status_name(st));
        }
}

/* ---- comparison with the expected files ---------------------------- */

static const char *pkg_name(const struct imgverify_expected *x)
{
        return x->package ? x->package : "the layout";
}

static int compare_expected(struct run *run, struct ext4walk *w, const struct ext4walk_entry *e,
                            const struct imgverify_expected *x)
{
        const uint8_t *digest;
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
        if (S_ISREG(e->mode) && x->digest_algo) {
                r = content_digest(run, w, e, x->digest_algo, &digest);
                if (r < 0)
                        return r;
                if (memcmp(digest, x->digest, ima_hash_size(x->digest_algo)))
                        return add_violation(run, e->path, IMGV_CONTENT_DIFFERS,
                                             "content differs from package %s", pkg_name(x));
        }
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
                if (c < 0 || (c == 0 && p[dl] < '/'))
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < run->o->n_expected && !strncmp(run->expected[lo]->path, dir, dl) &&
               run->expected[lo]->path[dl] == '/';
}

static bool extra_allowed(const struct imgverify_opts *o, const char *path)
{
        for (size_t i = 0; i < o->n_extra_ok; i++) {
                size_t n = strlen(o->extra_ok[i]);
                if (!strncmp(path, o->extra_ok[i], n) && (path[n] == 0 || path[n] == '/'))
                        return true;
        }
        return false;
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

static int check_against(struct run *run, struct ext4walk *w, const struct ext4walk_entry *e)
{
        const struct imgverify_expected *x;
        int r;

        r = report_missing_before(run, e->path);
        if (r < 0)
                return r;
        if (run->next_expected < run->o->n_expected &&
            !strcmp((x = run->expected[run->next_expected])->path, e->path)) {
                run->next_expected++;
                return compare_expected(run, w, e, x);
        }
        if (S_ISDIR(e->mode) && is_parent_of_expected(run, e->path))
                return 0;
        if (extra_allowed(run->o, e->path))
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

static int on_entry(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        struct run *run = userdata;
        int r;

        if (run->expected && (r = check_against(run, w, e)) < 0)
                return r;
        if (!S_ISREG(e->mode))
                return 0;
        run->rep->files++;
        return check_signature(run, w, e);
}

int imgverify_run(const char *image, const struct imgverify_opts *o,
                  struct imgverify_report **out)
{
        struct run run = { .o = o };
        struct ext4walk *w = NULL;
        double t0 = now_seconds();
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
        r = ext4walk_walk(w, "/", EXT4WALK_RECURSIVE, on_entry, &run);
        if (r == 0 && run.expected)
                r = report_missing_before(&run, NULL);
        run.rep->seconds = now_seconds() - t0;
out:
        ext4walk_close(w);
        free(run.cache.slots);
        free(run.expected);
        if (r < 0) {
                imgverify_report_free(run.rep);
                return r;
        }
        *out = run.rep;
        return 0;
}

void imgverify_report_free(struct imgverify_report *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_v; i++) {
                free(r->v[i].path);
                free(r->v[i].text);
        }
        free(r->v);
        free(r->image);
        free(r);
}

double imgverify_mbps(const struct imgverify_report *r)
{
        return r->seconds > 0 ? (double)r->bytes / r->seconds / 1e6 : 0;
}

static const char *reason_key(enum imgverify_reason reason)
{
        static const char *const keys[] = {
                [IMGV_NO_SIGNATURE] = "no-signature",
                [IMGV_HASH_ONLY] = "hash-only",
                [IMGV_UNKNOWN_KEY] = "unknown-key",
                [IMGV_INVALID] = "invalid-signature",
                [IMGV_MALFORMED] = "malformed",
                [IMGV_UNSUPPORTED] = "unsupported",
                [IMGV_UNEXPECTED] = "unexpected",
                [IMGV_MISSING] = "missing",
                [IMGV_CONTENT_DIFFERS] = "content-differs",
                [IMGV_TYPE_DIFFERS] = "type-differs",
                [IMGV_MODE_DIFFERS] = "mode-differs",
                [IMGV_OWNER_DIFFERS] = "owner-differs",
                [IMGV_TARGET_DIFFERS] = "target-differs",
        };
        return (size_t)reason < ARRAY_SIZE(keys) && keys[reason] ? keys[reason] : "unknown";
}

char *imgverify_report_json(const struct imgverify_report *r)
{
        json_object *root = json_object_new_object(), *arr = json_object_new_array();
        char *text;

        if (!root || !arr) {
                json_object_put(root);
                json_object_put(arr);
                return NULL;
        }
        json_object_object_add(root, "image", json_object_new_string(r->image));
        json_object_object_add(root, "ok", json_object_new_boolean(r->n_v == 0));
        json_object_object_add(root, "files", json_object_new_int64((int64_t)r->files));
        json_object_object_add(root, "signed_ok", json_object_new_int64((int64_t)r->signed_ok));
        json_object_object_add(root, "violation_count", json_object_new_int64((int64_t)r->n_v));
        json_object_object_add(root, "bytes", json_object_new_int64((int64_t)r->bytes));
        json_object_object_add(root, "seconds", json_object_new_double(r->seconds));
        json_object_object_add(root, "mb_per_s", json_object_new_double(imgverify_mbps(r)));
        for (size_t i = 0; i < r->n_v; i++) {
                json_object *v = json_object_new_object();
                json_object_object_add(v, "path", json_object_new_string(r->v[i].path));
                json_object_object_add(v, "reason", json_object_new_string(reason_key(r->v[i].reason)));
                json_object_object_add(v, "message", json_object_new_string(r->v[i].text));
                json_object_array_add(arr, v);
        }
        json_object_object_add(root, "violations", arr);
        text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(root);
        return text;
}

void imgverify_ima_summary(const uint8_t *val, size_t len, char *buf, size_t buflen)
{
        struct imasig sig;
        int r;

        if (!val) {
                snprintf(buf, buflen, "-");
                return;
        }
        r = imasig_parse(val, len, &sig);
        imgerr_clear();
        if (r == -EOPNOTSUPP) {
                const char *name = imasig_type_name(sig.type);
                size_t i;
                snprintf(buf, buflen, "%s", name);
                for (i = 0; buf[i]; i++)
                        if (buf[i] == ' ')
                                buf[i] = '-';
        } else if (r < 0)
                snprintf(buf, buflen, "bad");
        else if (sig.type == EVM_IMA_XATTR_DIGSIG)
                snprintf(buf, buflen, "sig:%08x", sig.keyid);
        else
                snprintf(buf, buflen, "hash:%s",
                         ima_hash_name(sig.hash_algo) ? ima_hash_name(sig.hash_algo) : "?");
}
