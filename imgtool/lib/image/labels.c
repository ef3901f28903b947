#include "image/labels.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <fnmatch.h>
#include <ftw.h>
#include <pthread.h>
#include <selinux/label.h>
#include <selinux/selinux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ext4/ext4img.h"
#include "image/fcsubset.h"
#include "layout/layout.h"
#include "base/output.h"
#include "rpm/pathmap.h"
#include "rpm/pkgread.h"
#include "rpm/rpmpkg.h"
#include "base/util.h"

#define MAX_CONTEXTS_FILE (64u << 20)
#define MAX_LABEL_THREADS 16

struct prefetch;

struct labels {
        struct selabel_handle *h;
        char *name;
        char *config_mode;      /* SELINUX= of the set's /etc/selinux/config, or NULL */
        char *policy;           /* the binary policy (the highest policy.N), for the initramfs */
        size_t policy_len;
        int policy_version;
        size_t max_len;
        struct prefetch *pf;    /* lookups done ahead on other threads; NULL: none */
        struct fcsubset *sub;   /* file_contexts cut per folder; NULL: the full handle only */
};

/* ---- the policy from the package set -------------------------------- */

struct extract {
        char *config;           /* /etc/selinux/config */
        char *tmp;              /* contexts files (and policy/policy.N) land in tmp/NAME/... */
};

static bool want_selinux(const char *path, void *ctx)
{
        size_t n = strlen(path);
        if (!strcmp(path, "/etc/selinux/config"))
                return true;
        if (!fnmatch("/etc/selinux/*/policy/policy.[0-9]*", path, FNM_PATHNAME))
                return true;
        return !fnmatch("/etc/selinux/*/contexts/files/*", path, FNM_PATHNAME) &&
               !(n > 4 && !strcmp(path + n - 4, ".bin"));
}

static int mkdirs(char *path)
{
        for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                if (mkdir(path, 0700) < 0 && errno != EEXIST) {
                        int r = -errno;
                        *s = '/';
                        return r;
                }
                *s = '/';
        }
        return 0;
}

static int got_selinux(const char *path, const char *pkg, char *data, size_t len, void *ctx)
{
        struct extract *x = ctx;
        _cleanup_free_ char *dst = NULL;
        int r;

        if (!strcmp(path, "/etc/selinux/config")) {
                free(x->config);
                x->config = data;
                return 0;
        }
        if (asprintf(&dst, "%s%s", x->tmp, path + strlen("/etc/selinux")) < 0) {
                free(data);
                return -ENOMEM;
        }
        r = mkdirs(dst);
        if (r >= 0)
                r = output_write_file(dst, 0, 0600, NULL, data, len);
        free(data);
        if (r < 0)
                return imgerr_prefix(r, "%s: %s: cannot extract: ", pkg, path);
        return 0;
}

/* KEY= of a config text, or NULL. */
static char *config_value(const char *config, const char *key)
{
        const char *p = config;
        size_t klen = strlen(key);

        while (p && *p) {
                const char *eol = strchrnul(p, '\n');
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!strncmp(p, key, klen) && p[klen] == '=') {
                        const char *v = p + klen + 1, *e = v;
                        while (e < eol && *e != ' ' && *e != '\t' && *e != '\r')
                                e++;
                        if (e > v)
                                return strndup(v, (size_t)(e - v));
                }
                p = *eol ? eol + 1 : eol;
        }
        return NULL;
}

/* The highest policy.N in DIR/policy (N <= 33, what kernels take today). */
static int read_binary_policy(struct labels *lb, const char *dir)
{
        for (int n = 33; n >= 15; n--) {
                _cleanup_free_ char *path = NULL;
                _cleanup_fclose_ FILE *f = NULL;
                long len;

                if (asprintf(&path, "%s/policy/policy.%d", dir, n) < 0)
                        return -ENOMEM;
                f = fopen(path, "re");
                if (!f)
                        continue;
                if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) <= 0 || len > (long)MAX_CONTEXTS_FILE ||
                    fseek(f, 0, SEEK_SET) < 0)
                        return imgerr(-EBADMSG, "%s: not a usable policy file", path);
                lb->policy = malloc((size_t)len);
                if (!lb->policy)
                        return -ENOMEM;
                if (fread(lb->policy, 1, (size_t)len, f) != (size_t)len)
                        return imgerr(-EIO, "%s: read error", path);
                lb->policy_len = (size_t)len;
                lb->policy_version = n;
                return 0;
        }
        return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

/* ---- labelling -------------------------------------------------------- */

static void prefetch_stop(struct labels *lb);

/* The longest context in the file_contexts files: the last field of a line. */
static size_t longest_context(const char *fc)
{
        const char *suffixes[] = { "", ".homedirs", ".local" };
        size_t best = 0;

        for (size_t k = 0; k < ARRAY_SIZE(suffixes); k++) {
                _cleanup_free_ char *path = NULL, *line = NULL;
                _cleanup_fclose_ FILE *f = NULL;
                size_t cap = 0;
                ssize_t n;

                if (asprintf(&path, "%s%s", fc, suffixes[k]) < 0 || !(f = fopen(path, "re")))
                        continue;
                while ((n = getline(&line, &cap, f)) > 0) {
                        char *end = line + n, *start;
                        while (end > line && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
                                end--;
                        start = end;
                        while (start > line && start[-1] != ' ' && start[-1] != '\t')
                                start--;
                        if ((size_t)(end - start) > best)
                                best = (size_t)(end - start);
                }
        }
        return best + 1;
}

static int open_handle(struct labels *lb, const char *fc, const char *origin)
{
        struct selinux_opt opt = { SELABEL_OPT_PATH, fc };

        if (access(fc, R_OK) < 0)
                return imgerr(-ENOENT, "%s: no %s (the policy's file contexts)", origin, fc);
        lb->h = selabel_open(SELABEL_CTX_FILE, &opt, 1);
        if (!lb->h)
                return imgerr(-EBADMSG, "%s: libselinux cannot load %s: %s", origin, fc, strerror(errno));
        lb->max_len = longest_context(fc);
        return fcsubset_open(fc, &lb->sub);
}

/* Policy=DIR: libselinux opened on a copy of DIR's file_contexts texts, not
 * on DIR itself, where it would read a file_contexts.bin newer than the
 * text: the folder subsets (fcsubset.h) are cut from the text, and every
 * label then comes from the same specs.  The .bin files are compiled from
 * these texts. */
static int open_policy_texts(struct labels *lb, const char *dir, const char *origin)
{
        static const char *const names[] = { "", ".homedirs", ".local", ".subs", ".subs_dist" };
        char tmpl[] = "/tmp/imgtool-selinux.XXXXXX";
        _cleanup_free_ char *fc = NULL;
        int r = 0;

        if (!mkdtemp(tmpl))
                return imgerr(-errno, "cannot make a temporary folder: %s", strerror(errno));
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(names); i++) {
                _cleanup_free_ char *src = NULL, *dst = NULL;
                _cleanup_free_ uint8_t *data = NULL;
                size_t len;
                if (asprintf(&src, "%s/contexts/files/file_contexts%s", dir, names[i]) < 0 ||
                    asprintf(&dst, "%s/file_contexts%s", tmpl, names[i]) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (i > 0 && access(src, F_OK) < 0)
                        continue;
                if (i == 0 && access(src, R_OK) < 0) {
                        r = imgerr(-ENOENT, "%s: no %s (the policy's file contexts)", origin, src);
                        break;
                }
                r = read_file_max(src, MAX_CONTEXTS_FILE, "file_contexts files", &data, &len);
                if (r >= 0)
                        r = output_write_file(dst, 0, 0600, NULL, data, len);
        }
        if (r >= 0 && asprintf(&fc, "%s/file_contexts", tmpl) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = open_handle(lb, fc, origin);
        nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return r;
}

static int open_from_set(const struct layout *l, const struct pkgset *s, struct labels *lb)
{
        char tmpl[] = "/tmp/imgtool-selinux.XXXXXX";
        struct extract x = { NULL, NULL };
        _cleanup_free_ char *fc = NULL;
        int r;

        if (!mkdtemp(tmpl))
                return imgerr(-errno, "cannot make a temporary folder: %s", strerror(errno));
        x.tmp = tmpl;
        r = pkgread_files(s, want_selinux, got_selinux, MAX_CONTEXTS_FILE, &x);
        if (r >= 0 && x.config)
                lb->config_mode = config_value(x.config, "SELINUX");
        if (r >= 0 && x.config && !(lb->name = config_value(x.config, "SELINUXTYPE")))
                r = imgerr(-EBADMSG, "%s: the package set's /etc/selinux/config names no SELINUXTYPE=", l->path);
        if (r >= 0 && lb->name) {
                if (strchr(lb->name, '/') || !strcmp(lb->name, "..") || asprintf(&fc, "%s/%s/contexts/files/file_contexts", tmpl, lb->name) < 0)
                        r = imgerr(-EINVAL, "%s: SELINUXTYPE=%s is not a policy name", l->path, lb->name);
                else if (access(fc, R_OK) < 0)
                        r = imgerr(-ENOENT, "%s: the package set's /etc/selinux/config says SELINUXTYPE=%s, but no "
                                   "package ships /etc/selinux/%s/contexts/files/file_contexts", l->path, lb->name, lb->name);
                else
                        r = open_handle(lb, fc, l->path);
        }
        if (r >= 0 && lb->name) {
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "%s/%s", tmpl, lb->name) < 0)
                        r = -ENOMEM;
                else
                        r = read_binary_policy(lb, dir);
        }
        free(x.config);
        nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return r;
}

int labels_open(const struct layout *l, const struct pkgset *s, struct labels **out)
{
        struct labels *lb = calloc(1, sizeof(*lb));
        int r;

        *out = NULL;
        if (!lb)
                return -ENOMEM;
        if (l->selinux_policy) {
                _cleanup_free_ char *copy = strdup(l->selinux_policy);
                char *base = copy ? strrchr(copy, '/') : NULL;
                lb->name = strdup(base ? base + 1 : l->selinux_policy);
                r = lb->name ? open_policy_texts(lb, l->selinux_policy, l->path) : -ENOMEM;
                if (r >= 0)
                        r = read_binary_policy(lb, l->selinux_policy);
        } else {
                r = open_from_set(l, s, lb);
        }
        if (r < 0 || !lb->h) {
                labels_free(lb);
                return r < 0 ? r : 0;
        }
        *out = lb;
        return 0;
}

void labels_free(struct labels *lb)
{
        if (!lb)
                return;
        prefetch_stop(lb);
        fcsubset_free(lb->sub);
        if (lb->h)
                selabel_close(lb->h);
        free(lb->name);
        free(lb->config_mode);
        free(lb->policy);
        free(lb);
}

const char *labels_policy_name(const struct labels *lb)
{
        return lb ? lb->name : NULL;
}

size_t labels_max_len(const struct labels *lb)
{
        return lb ? lb->max_len : 0;
}

/* The folder's subset handle when there is one: the same answer from the
 * few specs that can match there (fcsubset.h). */
static int lookup_direct(struct labels *lb, const char *path, mode_t mode, char **con)
{
        struct selabel_handle *h = fcsubset_handle(lb->sub, path);

        *con = NULL;
        if (selabel_lookup_raw(h ? h : lb->h, con, path, (int)(mode & S_IFMT)) < 0) {
                if (errno == ENOENT)
                        return 0;
                return imgerr(-errno, "%s: label lookup failed: %s", path, strerror(errno));
        }
        if (!strcmp(*con, "<<none>>")) {
                freecon(*con);
                *con = NULL;
        }
        return 0;
}


/* ---- lookups ahead of the writer ---------------------------------------- *
 * selabel_lookup_raw costs a fraction of a millisecond (every file_contexts
 * regex with the path's stem, matched in turn), so compose asks for every
 * label of the package set up front: worker threads look them up in the
 * order compose writes, into a table keyed by (path, file type); the writer
 * takes the answer from there, and only looks up itself what no worker has
 * reached yet (or what is not in the set: files compose creates).  The
 * answer is libselinux's either way: the same handle, the same call
 * (selabel_lookup_raw is thread-safe on one handle since libselinux 3.3's
 * selinux_restorecon_parallel).  A path shipped by several packages (shared
 * folders) is one entry: looked up once. */

enum { SLOT_EMPTY, SLOT_PENDING, SLOT_BUSY, SLOT_DONE };

struct slot {
        const char *path;       /* the package's string (lives as long as the set) */
        mode_t type;
        _Atomic int state;
        char *con;              /* SLOT_DONE: the label, NULL for none */
        int err;                /* SLOT_DONE: lookup_direct's error (the writer repeats it) */
};

struct prefetch {
        struct slot *slots;     /* open addressing, a power of two, at most half full */
        size_t mask;
        struct slot **order;    /* the distinct entries in write order */
        size_t n;
        _Atomic size_t next;    /* the next index of order for a worker */
        _Atomic bool stop;
        pthread_t threads[MAX_LABEL_THREADS];
        size_t nthreads;
        /* The folder subsets are worked out by the first worker while the
         * writer makes the image; lookups wait for them. */
        pthread_mutex_t lock;
        pthread_cond_t planned_cond;
        _Atomic bool planned;
};

static size_t slot_hash(const char *path, mode_t type)
{
        uint64_t h = 1469598103934665603ull ^ (uint64_t)type;

        for (const unsigned char *p = (const unsigned char *)path; *p; p++)
                h = (h ^ *p) * 1099511628211ull;
        return (size_t)(h ^ (h >> 29));
}

/* The slot of (path, type); with insert, an empty one is claimed for it. */
static struct slot *slot_find(struct prefetch *pf, const char *path, mode_t type, bool insert)
{
        for (size_t i = slot_hash(path, type) & pf->mask;; i = (i + 1) & pf->mask) {
                struct slot *s = &pf->slots[i];
                if (!s->path) {
                        if (!insert)
                                return NULL;
                        s->path = path;
                        s->type = type;
                        atomic_init(&s->state, SLOT_PENDING);
                        pf->order[pf->n++] = s;
                        return s;
                }
                if (s->type == type && !strcmp(s->path, path))
                        return s;
        }
}

static int plan_subsets(struct labels *lb);

/* After this, fcsubset_handle may be asked (lookup_direct). */
static void plan_once(struct labels *lb)
{
        struct prefetch *pf = lb->pf;

        if (atomic_load(&pf->planned))
                return;
        pthread_mutex_lock(&pf->lock);
        if (!atomic_load(&pf->planned)) {
                if (lb->sub && plan_subsets(lb) < 0) {
                        imgerr_clear();  /* only memory: the full handle answers everything */
                        fcsubset_free(lb->sub);
                        lb->sub = NULL;
                }
                atomic_store(&pf->planned, true);
                pthread_cond_broadcast(&pf->planned_cond);
        }
        pthread_mutex_unlock(&pf->lock);
}

static void wait_planned(struct prefetch *pf)
{
        if (atomic_load(&pf->planned))
                return;
        pthread_mutex_lock(&pf->lock);
        while (!atomic_load(&pf->planned))
                pthread_cond_wait(&pf->planned_cond, &pf->lock);
        pthread_mutex_unlock(&pf->lock);
}

static void *prefetch_worker(void *arg)
{
        struct labels *lb = arg;
        struct prefetch *pf = lb->pf;

        plan_once(lb);  /* the first worker plans, the others wait on the lock */
        while (!atomic_load(&pf->stop)) {
                size_t i = atomic_fetch_add(&pf->next, 1);
                int expect = SLOT_PENDING;
                struct slot *s;

                if (i >= pf->n)
                        break;
                s = pf->order[i];
                if (!atomic_compare_exchange_strong(&s->state, &expect, SLOT_BUSY))
                        continue;       /* the writer got there first */
                s->err = lookup_direct(lb, s->path, s->type, &s->con);
                atomic_store(&s->state, SLOT_DONE);
        }
        return NULL;
}

static void prefetch_stop(struct labels *lb)
{
        struct prefetch *pf = lb->pf;

        if (!pf)
                return;
        atomic_store(&pf->stop, true);
        for (size_t i = 0; i < pf->nthreads; i++)
                pthread_join(pf->threads[i], NULL);
        pthread_mutex_destroy(&pf->lock);
        pthread_cond_destroy(&pf->planned_cond);
        for (size_t i = 0; i < pf->n; i++)
                free(pf->order[i]->con);
        free(pf->slots);
        free(pf->order);
        free(pf);
        lb->pf = NULL;
}

static size_t prefetch_threads(void)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        return n < 1 ? 1 : n > MAX_LABEL_THREADS ? MAX_LABEL_THREADS : (size_t)n;
}

static int prefetch_fill(struct prefetch *pf, struct rpmpkg *const *pkgs, size_t count)
{
        slot_find(pf, "/", S_IFDIR, true);
        slot_find(pf, "/lost+found", S_IFDIR, true);
        for (size_t p = 0; p < count; p++)
                for (size_t i = 0; i < rpmpkg_file_count(pkgs[p]); i++) {
                        struct rpmpkg_file f;
                        int r = rpmpkg_file(pkgs[p], i, &f);
                        if (r < 0)
                                return r;
                        if (!(f.flags & RPMPKG_FILE_GHOST))
                                slot_find(pf, f.path, f.mode & S_IFMT, true);
                }
        return 0;
}

/* The folder subsets for every path of the table, before any worker runs. */
static int plan_subsets(struct labels *lb)
{
        struct prefetch *pf = lb->pf;
        _cleanup_free_ const char **paths = malloc((pf->n ? pf->n : 1) * sizeof(*paths));
        size_t folders, handles, kept, specs;
        double t0 = now_seconds();
        int r;

        if (!paths)
                return -ENOMEM;
        for (size_t i = 0; i < pf->n; i++)
                paths[i] = pf->order[i]->path;
        r = fcsubset_plan(lb->sub, paths, pf->n);
        fcsubset_stats(lb->sub, &folders, &handles, &kept, &specs);
        log_verbose("labels: %zu folders, %zu handles of %.1f specs on average (of %zu), %.3f s", folders, handles,
                    handles ? (double)kept / (double)handles : 0.0, specs, now_seconds() - t0);
        return r;
}

int labels_prefetch(struct labels *lb, struct rpmpkg *const *pkgs, size_t count)
{
        struct prefetch *pf;
        size_t files = 2, cap = 16;
        int r;

        if (!lb || lb->pf)
                return 0;
        for (size_t p = 0; p < count; p++)
                files += rpmpkg_file_count(pkgs[p]);
        while (cap < 2 * files)
                cap *= 2;
        pf = calloc(1, sizeof(*pf));
        if (!pf || !(pf->slots = calloc(cap, sizeof(*pf->slots))) || !(pf->order = calloc(files, sizeof(*pf->order)))) {
                if (pf)
                        free(pf->slots);
                free(pf);
                return -ENOMEM;
        }
        pf->mask = cap - 1;
        lb->pf = pf;
        pthread_mutex_init(&pf->lock, NULL);
        pthread_cond_init(&pf->planned_cond, NULL);
        r = prefetch_fill(pf, pkgs, count);
        for (size_t want = prefetch_threads(); r >= 0 && pf->nthreads < want; pf->nthreads++)
                if (pthread_create(&pf->threads[pf->nthreads], NULL, prefetch_worker, lb) != 0)
                        break;  /* fewer workers: the writer looks up the rest */
        if (r >= 0 && pf->nthreads == 0)
                plan_once(lb);
        if (r < 0)
                prefetch_stop(lb);
        return r;
}

int labels_lookup(struct labels *lb, const char *path, mode_t mode, char **con)
{
        struct slot *s;
        int expect = SLOT_PENDING;

        *con = NULL;
        if (lb->pf)
                wait_planned(lb->pf);
        s = lb->pf ? slot_find(lb->pf, path, mode & S_IFMT, false) : NULL;
        if (!s)
                return lookup_direct(lb, path, mode, con);
        if (atomic_compare_exchange_strong(&s->state, &expect, SLOT_BUSY)) {
                /* no worker has it yet: look it up here, keep it for a second ask */
                s->err = lookup_direct(lb, path, mode, &s->con);
                atomic_store(&s->state, SLOT_DONE);
        } else if (expect == SLOT_BUSY) {
                return lookup_direct(lb, path, mode, con);  /* a worker is at it: do not wait */
        }
        if (s->err < 0 || !s->con)
                return s->err < 0 ? lookup_direct(lb, path, mode, con) : 0;  /* the message is the writer's */
        *con = strdup(s->con);
        return *con ? 0 : -ENOMEM;
}

struct apply {
        struct labels *lb;
        struct ext4img *img;
        size_t count;
};

static int label_one(struct apply *a, const char *path, mode_t mode)
{
        char *con = NULL;
        int r = labels_lookup(a->lb, path, mode, &con);

        if (r < 0 || !con)
                return r;
        r = ext4img_set_xattr(a->img, path, "security.selinux", con, strlen(con) + 1);
        freecon(con);
        if (r >= 0)
                a->count++;
        return r;
}

/* Regular files got theirs when they were written (compose). */
static int label_entry(struct pathmap_entry *e, void *ctx)
{
        return S_ISREG(e->mode) ? 0 : label_one(ctx, e->path, e->mode);
}

int labels_apply(struct labels *lb, struct ext4img *img, struct pathmap *paths, size_t *count)
{
        struct apply a = { lb, img, 0 };
        mode_t mode;
        int r = 0;

        /* what libext2fs made, unless the path map has it already */
        if (!pathmap_get(paths, "/"))
                r = label_one(&a, "/", S_IFDIR);
        if (r >= 0 && !pathmap_get(paths, "/lost+found") && ext4img_lookup(img, "/lost+found", &mode) == 1)
                r = label_one(&a, "/lost+found", S_IFDIR);
        if (r >= 0)
                r = pathmap_foreach(paths, label_entry, &a);
        *count = a.count;
        return r;
}

const char *labels_boot_mode(const struct labels *lb, const struct layout *l)
{
        if (!lb || l->selinux_mode == SELINUX_OFF)
                return NULL;
        if (l->selinux_mode == SELINUX_ENFORCING)
                return "enforcing";
        if (l->selinux_mode == SELINUX_PERMISSIVE)
                return "permissive";
        /* default: what the image's own /etc/selinux/config says */
        if (lb->config_mode && !strcmp(lb->config_mode, "enforcing"))
                return "enforcing";
        if (lb->config_mode && !strcmp(lb->config_mode, "permissive"))
                return "permissive";
        return NULL;
}

bool labels_binary_policy(const struct labels *lb, const void **data, size_t *len)
{
        if (!lb || !lb->policy)
                return false;
        *data = lb->policy;
        *len = lb->policy_len;
        return true;
}
