/* Signature packs bound to the packages compose installs (sigpack.h).
 *
 * Binding happens before any byte of the image is written, so every refusal
 * (another build, a path the package lacks, a digest that differs) stops
 * compose with nothing half-made.  The signatures themselves are checked
 * later, with the packages' own, by compose's signature pass. */
#include "rpm/sigpack.h"

#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rpm/header.h>
#include <rpm/rpmtag.h>


#include "base/cleanup.h"
#include "base/strv.h"
#include "base/util.h"
#include "ima/imasig.h"
#include "rpm/rpmpkg.h"
#include "rpm/rpmsign.h"

struct bound {
        const struct sigpack *pack;
        const struct sigpack_entry **by_file;   /* file index -> entry or NULL */
        size_t n_files;
};

struct sigpack_set {
        struct sigpack **packs;
        size_t n, cap;
        struct bound *b;        /* per package of the set, after bind */
        size_t n_pkgs;
        size_t max_value, bound_entries, bound_pkgs;
        char *scratch;          /* the packages' headers with the packs' signatures */
};

static int add_pack(struct sigpack_set *s, const char *path, char *const *trusted)
{
        struct sigpack *p = NULL;
        int r = sigpack_load(path, trusted, &p);

        if (r < 0)
                return r;
        if (GROW(s->packs, s->n, s->cap, 4) < 0) {
                sigpack_free(p);
                return -ENOMEM;
        }
        s->packs[s->n++] = p;
        return 0;
}

int sigpack_set_load(char *const *patterns, char *const *trusted, struct sigpack_set **out)
{
        struct sigpack_set *s = calloc(1, sizeof(*s));
        int r = 0;

        if (!s)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && patterns && patterns[i]; i++) {
                glob_t g = { 0 };
                int gr = glob(patterns[i], GLOB_ERR, NULL, &g);
                if (gr == GLOB_NOMATCH)
                        r = imgerr(-ENOENT, "%s: no signature pack there (Packs=)", patterns[i]);
                else if (gr)
                        r = imgerr(-EIO, "%s: cannot list (Packs=)", patterns[i]);
                for (size_t k = 0; r >= 0 && k < g.gl_pathc; k++)
                        r = add_pack(s, g.gl_pathv[k], trusted);
                globfree(&g);
        }
        if (r < 0) {
                sigpack_set_free(s);
                return r;
        }
        *out = s;
        return 0;
}

void sigpack_set_free(struct sigpack_set *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->n; i++)
                sigpack_free(s->packs[i]);
        for (size_t i = 0; i < s->n_pkgs; i++)
                free(s->b[i].by_file);
        free(s->packs);
        free(s->b);
        if (s->scratch)
                scratch_dir_remove(s->scratch);
        free(s->scratch);
        free(s);
}

size_t sigpack_set_count(const struct sigpack_set *s)
{
        return s ? s->n : 0;
}

static void hex8(const uint8_t *d, char out[17])
{
        hex_encode(d, 8, out);
}

/* The pack package with this header digest, or NULL; two packs covering
 * one package are refused (which one would speak for it?). */
static int find_by_digest(const struct sigpack_set *s, const uint8_t *hdr,
                          const struct sigpack **pack, const struct sigpack_pkg **pkg)
{
        *pack = NULL;
        *pkg = NULL;
        for (size_t i = 0; i < s->n; i++)
                for (size_t k = 0; k < s->packs[i]->n; k++) {
                        const struct sigpack_pkg *q = &s->packs[i]->pkgs[k];
                        if (memcmp(q->hdr_digest, hdr, SIGPACK_HDR_DIGEST))
                                continue;
                        if (*pack)
                                return imgerr(-EEXIST, "%s and %s both cover %s: give one pack per package",
                                              (*pack)->path, s->packs[i]->path, q->nevra);
                        *pack = s->packs[i];
                        *pkg = q;
                }
        return 0;
}

/* A pack package with this NEVRA but another header digest: another build. */
static int check_other_build(const struct sigpack_set *s, struct rpmpkg *rp, const uint8_t *hdr)
{
        for (size_t i = 0; i < s->n; i++)
                for (size_t k = 0; k < s->packs[i]->n; k++) {
                        const struct sigpack_pkg *q = &s->packs[i]->pkgs[k];
                        char want[17], have[17];
                        if (strcmp(q->nevra, rpmpkg_nevra(rp)) ||
                            !memcmp(q->hdr_digest, hdr, SIGPACK_HDR_DIGEST))
                                continue;
                        hex8(q->hdr_digest, want);
                        hex8(hdr, have);
                        return imgerr(-EKEYREJECTED, "%s: covers %s with header digest %s..., but %s "
                                      "has %s...: a pack for another build of the same NEVRA",
                                      s->packs[i]->path, q->nevra, want, rpmpkg_path(rp), have);
                }
        return 0;
}

struct file_ix {
        const char *path;
        size_t i;
};

static int by_path(const void *a, const void *b)
{
        return strcmp(((const struct file_ix *)a)->path, ((const struct file_ix *)b)->path);
}

/* What rpm would have put into the image's database from a package signed
 * this way: the file signatures as the signature header carries them (hex,
 * "" for files without one, and the longest length), the pack's where it
 * has one, else the package's own.  rpm reads each package again when it
 * writes the database, so it gets a copy of the package's headers with
 * those signatures (no payload: a database-only transaction reads none).
 * The image's database then says what security.ima holds, as after
 * installing signed packages, and `rpm --restore` would stamp the same. */
static int merge_into_header(struct sigpack_set *s, size_t pi, struct rpmpkg *rp, const struct bound *b)
{
        size_t n = b->n_files;
        char **hex = calloc(n + 1, sizeof(*hex));
        _cleanup_free_ char *tmp = NULL;
        uint32_t max_len = 0;
        int r = 0;

        if (!hex)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct rpmpkg_file f;
                const uint8_t *v = NULL;
                size_t len = 0;
                rpmpkg_file(rp, i, &f);
                if (b->by_file[i]) {
                        v = b->by_file[i]->ima;
                        len = b->by_file[i]->ima_len;
                } else if (f.ima) {
                        v = f.ima;
                        len = f.ima_len;
                }
                hex[i] = malloc(2 * len + 1);
                if (!hex[i]) {
                        r = -ENOMEM;
                        goto out;
                }
                hex_encode(v, len, hex[i]);
                if (len > max_len)
                        max_len = (uint32_t)len;
        }
        if (!s->scratch && (r = scratch_dir_make("imgtool-sigpack", &s->scratch)) < 0)
                goto out;
        if (asprintf(&tmp, "%s/%zu.rpm", s->scratch, pi) < 0) {
                r = -ENOMEM;
                goto out;
        }
        r = rpmsign_header_only(rpmpkg_source(rp), hex, n, max_len, tmp);
        if (r >= 0)
                r = rpmpkg_set_db_source(rp, tmp);
out:
        for (size_t i = 0; i < n; i++)
                free(hex[i]);
        free(hex);
        return r;
}

/* Every entry names a regular file of the package, with its digest. */
static int bind_package(struct sigpack_set *s, size_t pi, struct rpmpkg *rp,
                        const struct sigpack *pack, const struct sigpack_pkg *q, char ***notes)
{
        size_t n = rpmpkg_file_count(rp), replaced = 0, changed = 0;
        _cleanup_free_ struct file_ix *ix = calloc(n ? n : 1, sizeof(*ix));
        struct bound *b = &s->b[pi];
        const char *first_replaced = NULL;

        b->by_file = calloc(n ? n : 1, sizeof(*b->by_file));
        if (!ix || !b->by_file)
                return -ENOMEM;
        b->pack = pack;
        b->n_files = n;
        for (size_t i = 0; i < n; i++) {
                struct rpmpkg_file f;
                rpmpkg_file(rp, i, &f);
                ix[i] = (struct file_ix){ f.path, i };
        }
        qsort(ix, n, sizeof(*ix), by_path);
        for (size_t k = 0; k < q->n; k++) {
                const struct sigpack_entry *e = &q->e[k];
                struct file_ix key = { e->path, 0 }, *hit = bsearch(&key, ix, n, sizeof(*ix), by_path);
                struct rpmpkg_file f;
                if (!hit || rpmpkg_file(rp, hit->i, &f) < 0 || !S_ISREG(f.mode) || !f.digest)
                        return imgerr(-EKEYREJECTED, "%s: %s: %s: an entry for a path the package "
                                      "lacks (no such regular file in %s)", pack->path, q->nevra,
                                      e->path, rpmpkg_path(rp));
                if (e->algo != f.digest_algo || e->digest_len != f.digest_len ||
                    memcmp(e->digest, f.digest, f.digest_len))
                        return imgerr(-EKEYREJECTED, "%s: %s: %s: the entry's file digest is not the "
                                      "package's (made for other content)", pack->path, q->nevra, e->path);
                changed += !f.ima || f.ima_len != e->ima_len || memcmp(f.ima, e->ima, e->ima_len);
                if (f.ima && (f.ima_len != e->ima_len || memcmp(f.ima, e->ima, e->ima_len))) {
                        replaced++;
                        first_replaced = first_replaced ? first_replaced : e->path;
                }
                b->by_file[hit->i] = e;
                if (e->ima_len > s->max_value)
                        s->max_value = e->ima_len;
                if (e->ima_v3_len > s->max_value)
                        s->max_value = e->ima_v3_len;
        }
        s->bound_entries += q->n;
        s->bound_pkgs++;
        /* an unsigned package gets the tags even when no file is signed
         * (sign-rpm writes one "" per file then, as rpmsign does) */
        if (changed || !headerIsEntry(rpmpkg_header(rp), RPMTAG_FILESIGNATURES)) {
                int r = merge_into_header(s, pi, rp, b);
                if (r < 0)
                        return r;
        }
        if (replaced && strv_pushf(notes, "%s: %zu file signatures in the package header (first %s) "
                                   "differ from %s's: the pack's are used (Packs= is the layout's "
                                   "explicit statement of what these files carry; the header's "
                                   "are not checked)",
                                   rpmpkg_path(rp), replaced, first_replaced, pack->path) < 0)
                return -ENOMEM;
        return 0;
}

int sigpack_set_bind(struct sigpack_set *s, struct rpmpkg *const *pkgs, size_t n, char ***notes)
{
        s->b = calloc(n ? n : 1, sizeof(*s->b));
        if (!s->b)
                return -ENOMEM;
        s->n_pkgs = n;
        for (size_t i = 0; i < n; i++) {
                uint8_t hdr[SIGPACK_HDR_DIGEST];
                const struct sigpack *pack;
                const struct sigpack_pkg *q;
                int r = rpm_header_sha256(rpmpkg_source(pkgs[i]), hdr);

                if (r >= 0)
                        r = find_by_digest(s, hdr, &pack, &q);
                if (r >= 0 && !q)
                        r = check_other_build(s, pkgs[i], hdr);
                if (r >= 0 && q && strcmp(q->nevra, rpmpkg_nevra(pkgs[i])))
                        r = imgerr(-EKEYREJECTED, "%s: names %s for the header digest of %s (%s)",
                                   pack->path, q->nevra, rpmpkg_path(pkgs[i]), rpmpkg_nevra(pkgs[i]));
                if (r >= 0 && q)
                        r = bind_package(s, i, pkgs[i], pack, q, notes);
                if (r < 0)
                        return r;
        }
        return 0;
}

const uint8_t *sigpack_set_value(const struct sigpack_set *s, size_t pkg, size_t file,
                                 size_t *len, const char **pack)
{
        if (!s || pkg >= s->n_pkgs || file >= s->b[pkg].n_files || !s->b[pkg].by_file[file])
                return NULL;
        *len = s->b[pkg].by_file[file]->ima_len;
        if (pack)
                *pack = s->b[pkg].pack->path;
        return s->b[pkg].by_file[file]->ima;
}

const uint8_t *sigpack_set_value_v3(const struct sigpack_set *s, size_t pkg, size_t file,
                                    size_t *len, const char **pack)
{
        if (!s || pkg >= s->n_pkgs || file >= s->b[pkg].n_files || !s->b[pkg].by_file[file] ||
            !s->b[pkg].by_file[file]->ima_v3)
                return NULL;
        *len = s->b[pkg].by_file[file]->ima_v3_len;
        if (pack)
                *pack = s->b[pkg].pack->path;
        return s->b[pkg].by_file[file]->ima_v3;
}

size_t sigpack_set_max_value(const struct sigpack_set *s)
{
        return s ? s->max_value : 0;
}

size_t sigpack_set_bound(const struct sigpack_set *s, size_t *pkgs)
{
        *pkgs = s ? s->bound_pkgs : 0;
        return s ? s->bound_entries : 0;
}
