/* expected: what an image of a layout must hold (verify --against): each package's files, users files, scriptlet changes. */
#include "image/imgverify.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ext4/ext4walk.h"
#include "image/owners.h"
#include "image/plan.h"
#include "rpm/pathmap.h"
#include "layout/layout.h"
#include "rpm/pkgset.h"
#include "rpm/rpmpkg.h"
#include "image/labels.h"
#include "image/scriptlets.h"
#include "image/scriptmanifest.h"
#include "image/users.h"
#include "base/strv.h"
#include "base/util.h"

/* ---- the expected files of a layout ------------------------------- */

/* The content of a small image file (passwd, group, rpm macros), or NULL. */
static char *read_image_text(struct ext4walk *w, const char *path, size_t *len)
{
        char *text = NULL;

        if (ext4walk_read_file(w, path, 4u << 20, &text, len) < 0) {
                imgerr_clear();
                return NULL;
        }
        return text;
}

static int by_expected_path_value(const void *a, const void *b)
{
        return strcmp(((const struct imgverify_expected *)a)->path,
                      ((const struct imgverify_expected *)b)->path);
}

static void fill_expected(struct imgverify_expected *x, const struct rpmpkg *p,
                          const struct rpmpkg_file *f, const struct owners *owners)
{
        struct owner o;

        owners_resolve(owners, f->user, f->group, f->mode, &o);
        memset(x, 0, sizeof(*x));
        x->path = f->path;
        x->mode = o.mode;
        x->uid = o.uid;
        x->gid = o.gid;
        x->target = f->link_target;
        x->package = rpmpkg_nevra(p);
        /* md5 (very old packages) is not worth comparing: compose re-signs
         * such files over sha256 anyway. */
        if (S_ISREG(f->mode) && f->digest && f->digest_len && f->digest_algo != IMA_HASH_MD5 &&
            f->digest_len == ima_hash_size(f->digest_algo) && f->digest_len <= IMA_MAX_DIGEST) {
                x->digest_algo = f->digest_algo;
                memcpy(x->digest, f->digest, f->digest_len);
        }
}

/* One record per path: expect_package() keeps only the first package's
 * record of a path packages share (identical by pathmap's rule). */
static size_t dedupe_expected(struct imgverify_expected *v, size_t n)
{
        size_t out = 0;

        qsort(v, n, sizeof(*v), by_expected_path_value);
        for (size_t i = 0; i < n; i++)
                if (out == 0 || strcmp(v[out - 1].path, v[i].path))
                        v[out++] = v[i];
        return out;
}

/* The expected records of one package, as compose writes it: paths
 * claimed by pathmap's rule (a conflict is an error, as in compose; a
 * shared path keeps the first package's record), owners resolved with what
 * earlier packages installed. */
static int expect_package(struct imgverify_expectation *x, struct pathmap *paths, size_t pkg,
                          const struct owners *owners)
{
        struct rpmpkg *p = x->plan.set->pkgs[pkg];

        for (size_t k = 0; k < rpmpkg_file_count(p); k++) {
                struct pathmap_entry *e;
                struct rpmpkg_file f;
                int r = rpmpkg_file(p, k, &f);

                if (r < 0)
                        return r;
                if (f.flags & RPMPKG_FILE_GHOST)
                        continue;
                r = pathmap_imply_parents(paths, x->plan.set->pkgs, (int)pkg, f.path, NULL, NULL);
                if (r >= 0)
                        r = pathmap_claim(paths, x->plan.set->pkgs, pkg, &f, &e);
                if (r < 0)
                        return r;
                if (r != 1)
                        fill_expected(&x->v[x->n++], p, &f, owners);
        }
        return 0;
}

/* After a package: the users files it shipped count from the next one on
 * (plan.h), with the text the image holds in the end. */
static int learn_owners(struct owners *owners, const struct rpmpkg *p, const char *const text[],
                        const size_t len[])
{
        bool ships[OWNERS_DB_COUNT] = { false };

        for (size_t k = 0; k < rpmpkg_file_count(p); k++) {
                struct rpmpkg_file f;
                int db;

                if (rpmpkg_file(p, k, &f) < 0 || (f.flags & RPMPKG_FILE_GHOST) || !S_ISREG(f.mode) ||
                    (db = owners_db_of_path(f.path)) < 0)
                        continue;
                ships[db] = true;
        }
        return plan_learn_owners(owners, ships, text, len);
}

/* The users files compose writes or merges (users.c decides their text). */
static int expect_users_files(const struct users *u, struct imgverify_expectation *x)
{
        for (int k = 0; k < USERS_FILE_COUNT; k++) {
                size_t len;
                bool shipped;
                const char *text = users_content(u, (enum users_file)k, &len, &shipped);
                const char *path = users_file_path((enum users_file)k);
                struct imgverify_expected *e = NULL;

                if (!text)
                        continue;
                for (size_t i = 0; i < x->n && !e; i++)
                        if (!strcmp(x->v[i].path, path))
                                e = &x->v[i];
                if (!e) {
                        struct imgverify_expected *nv = realloc(x->v, (x->n + 1) * sizeof(*nv));
                        if (!nv)
                                return -ENOMEM;
                        x->v = nv;
                        e = &x->v[x->n++];
                        memset(e, 0, sizeof(*e));
                        e->path = path;
                        e->mode = S_IFREG | users_file_mode((enum users_file)k);
                        e->package = "imgtool (users)";
                }
                e->digest_algo = IMA_HASH_SHA256;
                EVP_Digest(text, len, e->digest, NULL, EVP_sha256(), NULL);
        }
        return 0;
}

static struct imgverify_expected *expected_slot(struct imgverify_expectation *x, const char *path)
{
        struct imgverify_expected *nv;

        for (size_t i = 0; i < x->n; i++)
                if (x->v[i].path && !strcmp(x->v[i].path, path))
                        return &x->v[i];
        nv = realloc(x->v, (x->n + 1) * sizeof(*nv));
        if (!nv)
                return NULL;
        x->v = nv;
        memset(&x->v[x->n], 0, sizeof(x->v[x->n]));
        x->v[x->n].path = path;
        return &x->v[x->n++];
}

/* Scriptlets=run: what the scriptlets made replaces or removes the
 * packages' records; the record file itself (signed, so checked like any
 * file) is expected too.  An image without one has no scriptlet changes. */
static int expect_scriptlet_changes(struct imgverify_expectation *x, size_t text_len)
{
        struct imgverify_expected *e;
        size_t out = 0;
        int r;

        if (!x->scr_text)
                return 0;
        r = scriptlets_manifest_parse(x->scr_text, &x->scr, &x->n_scr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < x->n_scr; i++) {
                const struct scriptlets_record *c = &x->scr[i];
                if (!(e = expected_slot(x, c->path)))
                        return imgerr(-ENOMEM, "out of memory");
                if (c->kind == SCRIPTLET_REMOVED) {
                        e->path = NULL;
                        continue;
                }
                memset(e, 0, sizeof(*e));
                e->path = c->path;
                e->mode = c->mode;
                e->uid = c->uid;
                e->gid = c->gid;
                e->target = c->target;
                e->package = c->by;
                if (c->has_digest) {
                        e->digest_algo = IMA_HASH_SHA256;
                        memcpy(e->digest, c->sha256, 32);
                }
        }
        if (!(e = expected_slot(x, SCRIPTLETS_MANIFEST)))
                return imgerr(-ENOMEM, "out of memory");
        e->mode = S_IFREG | 0644;
        e->package = "imgtool (scriptlet changes)";
        e->digest_algo = IMA_HASH_SHA256;
        EVP_Digest(x->scr_text, text_len, e->digest, NULL, EVP_sha256(), NULL);
        for (size_t i = 0; i < x->n; i++)
                if (x->v[i].path)
                        x->v[out++] = x->v[i];
        x->n = out;
        return 0;
}

int imgverify_expect_layout(const struct layout *l, const char *image,
                            struct imgverify_expectation **out)
{
        struct imgverify_expectation *x = calloc(1, sizeof(*x));
        _cleanup_free_ char *passwd = NULL, *group = NULL, *macros = NULL;
        struct owners *owners = NULL;
        struct pathmap *paths = NULL;
        struct ext4walk *w = NULL;
        size_t total = 0, len[OWNERS_DB_COUNT] = { 0 }, scr_len = 0;
        int r;

        if (!x)
                return imgerr(-ENOMEM, "out of memory");
        r = plan_resolve(l, &x->plan);
        if (r < 0)
                goto fail;
        r = ext4walk_open(image, &w);
        if (r < 0)
                goto fail;
        passwd = read_image_text(w, "/etc/passwd", &len[OWNERS_PASSWD]);
        group = read_image_text(w, "/etc/group", &len[OWNERS_GROUP]);
        macros = read_image_text(w, "/usr/lib/rpm/macros", &(size_t){ 0 });
        x->scr_text = read_image_text(w, SCRIPTLETS_MANIFEST, &scr_len);
        ext4walk_close(w);
        r = plan_created_paths(macros, &x->created);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < x->plan.set->count; i++)
                total += rpmpkg_file_count(x->plan.set->pkgs[i]);
        x->v = calloc(total ? total : 1, sizeof(*x->v));
        if (!x->v || pathmap_new(&paths) < 0 || owners_new(&owners) < 0) {
                r = imgerr(-ENOMEM, "out of memory");
                goto fail;
        }
        r = plan_users(l, &x->plan, 0, owners);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < x->plan.set->count; i++) {
                const char *text[OWNERS_DB_COUNT] = { [OWNERS_PASSWD] = passwd, [OWNERS_GROUP] = group };
                r = expect_package(x, paths, i, owners);
                if (r >= 0)
                        r = learn_owners(owners, x->plan.set->pkgs[i], text, len);
                if (r < 0)
                        goto fail;
        }
        x->n = dedupe_expected(x->v, x->n);
        r = expect_users_files(x->plan.users, x);
        if (r >= 0)
                r = expect_scriptlet_changes(x, scr_len);
        if (r >= 0)
                r = plan_labels(l, &x->plan);
        /* the labels of the set's paths looked up ahead, from the folder
         * subsets (labels.h); the set outlives them (plan_free) */
        if (r >= 0)
                r = labels_prefetch(x->plan.labels, x->plan.set->pkgs, x->plan.set->count);
        if (r < 0)
                goto fail;
        pathmap_free(paths);
        owners_free(owners);
        *out = x;
        return 0;
fail:
        pathmap_free(paths);
        owners_free(owners);
        imgverify_expectation_free(x);
        return r;
}

void imgverify_expectation_free(struct imgverify_expectation *x)
{
        if (!x)
                return;
        scriptlets_records_free(x->scr, x->n_scr);
        free(x->scr_text);
        free(x->v);
        strv_free(x->created);
        plan_free(&x->plan);
        free(x);
}
