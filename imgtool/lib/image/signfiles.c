/* signfiles: each regular file's security.ima: from its package (verified) or signed, in batches. */
#include "image/composer.h"
#include "image/compose.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ima/imasig.h"
#include "image/plan.h"
#include "rpm/pkgset.h"
#include "rpm/rpmpkg.h"
#include "rpm/sigpack.h"
#include "base/strv.h"
#include "base/util.h"
#include "ima/verity.h"

static bool path_allowed_unsigned(const struct layout *l, const char *path)
{
        return plan_allows_unsigned((const char *const *)l->allow_unsigned, strv_length(l->allow_unsigned), path);
}

/* ---- signatures ----------------------------------------------------------------- */

#define SIG_WANT_V3 0x100   /* in ra_file.tag: to be signed by finish_verity only */

int sign_digest(struct composer *c, int algo, const uint8_t *digest, size_t len,
                uint8_t **val, size_t *val_len)
{
        int r = ima_key_sign_digest(c->key, algo, digest, len, val, val_len);
        if (r < 0)
                return imgerr_prefix(r, "%s: cannot sign: ", c->l->key);
        return 0;
}

/* Packs= (sigpack.h): a pack's value stands in for the header's, so every
 * rule below (trust, AllowUnsigned=, verity) holds for both alike.  Returns
 * the pack's name when the value is the pack's. */
static const char *take_pack_value(struct composer *c, size_t pkg, struct rpmpkg_file *f)
{
        const char *pack = NULL;
        size_t len = 0;
        const uint8_t *v = sigpack_set_value(c->packs, pkg, (size_t)f->index, &len, &pack);

        if (v) {
                f->ima = v;
                f->ima_len = len;
        }
        return v ? pack : NULL;
}

/* Decide the security.ima value of one regular file whose content has been
 * checked against the header digest.  Runs on either thread (readahead.h):
 * reads only the layout, the keys and the package. */
static int choose_signature(struct composer *c, struct rpmpkg *p, const struct rpmpkg_file *f,
                            const char *pack, enum imasig_status st, const struct imasig *parsed,
                            uint8_t **val, size_t *val_len, enum sig_source *src, bool *sign_later)
{
        *val = NULL;
        *src = SIG_NONE;
        *sign_later = false;
        if (c->l->sigmode != SIGMODE_SIGN) {
                if (st == IMASIG_VALID) {
                        *val = malloc(f->ima_len);
                        if (!*val)
                                return -ENOMEM;
                        memcpy(*val, f->ima, f->ima_len);
                        *val_len = f->ima_len;
                        *src = SIG_PACKAGE;
                        return 0;
                }
        }
        if (c->l->sigmode != SIGMODE_PACKAGE) {
                *src = SIG_SIGNED;
                *sign_later = true;   /* batched by the caller */
                return 0;
        }
        if (path_allowed_unsigned(c->l, f->path))
                return 0;
        if (pack && st != IMASIG_NONE)
                return imgerr(-EKEYREJECTED, "%s: %s: %s: pack signature %s%s", pack, rpmpkg_nevra(p),
                              f->path, imasig_status_name(st),
                              st == IMASIG_INVALID ? " (not this file's: a swapped or altered signature)" : "");
        if (st == IMASIG_UNKNOWN_KEY)
                return imgerr(-EKEYREJECTED, "%s: %s: package signature by untrusted key %08x (not in Certificate=)",
                              rpmpkg_path(p), f->path, parsed->keyid);
        if (st == IMASIG_UNUSABLE_KEY)
                return imgerr(-EKEYREJECTED, "%s: %s: package signature by key %08x, which the kernel cannot verify: %s",
                              rpmpkg_path(p), f->path, parsed->keyid,
                              ima_trust_key_problem(c->trust, parsed->keyid));
        return imgerr(-EKEYREJECTED, "%s: %s: package signature %s", rpmpkg_path(p), f->path,
                      st == IMASIG_NONE ? "missing" : imasig_status_name(st));
}

static void finish_failed(struct ra_file *rf, int r)
{
        rf->rc = r;
        rf->msg = strdup(imgerr_what(r));
}

/* The packages' own signatures of files[0..n), checked together (ECDSA
 * shares its inversions); st[i] is IMASIG_NONE where there is none to check.
 * vals, lens and digests are scratch arrays of n. */
static void verify_package_signatures(struct composer *c, struct ra_file *const files[], size_t n,
                                      enum imasig_status st[], struct imasig parsed[],
                                      uint8_t *vals[], size_t lens[], const uint8_t *digests[])
{
        _cleanup_free_ size_t *dlens = calloc(n, sizeof(*dlens));
        _cleanup_free_ size_t *which = calloc(n, sizeof(*which));
        _cleanup_free_ enum imasig_status *got = calloc(n, sizeof(*got));
        _cleanup_free_ struct imasig *gotp = calloc(n, sizeof(*gotp));
        size_t m = 0;

        for (size_t i = 0; i < n; i++) {
                struct rpmpkg_file f;
                st[i] = IMASIG_NONE;
                if (c->l->sigmode == SIGMODE_SIGN || !files[i]->digest ||
                    rpmpkg_file(c->plan.set->pkgs[files[i]->pkg], files[i]->file, &f) < 0)
                        continue;
                take_pack_value(c, files[i]->pkg, &f);
                if (!f.ima)
                        continue;
                if (!dlens || !which || !got || !gotp) {
                        st[i] = ima_trust_verify_digest(c->trust, f.ima, f.ima_len, f.digest,
                                                        f.digest_len, &parsed[i]);
                        continue;
                }
                vals[m] = (uint8_t *)f.ima;
                lens[m] = f.ima_len;
                digests[m] = f.digest;
                dlens[m] = f.digest_len;
                which[m++] = i;
        }
        if (!m)
                return;
        ima_trust_verify_digests(c->trust, m, (const uint8_t *const *)vals, lens, digests, dlens, got, gotp);
        for (size_t k = 0; k < m; k++) {
                st[which[k]] = got[k];
                parsed[which[k]] = gotp[k];
                vals[k] = NULL;
        }
}

/* A pack's v3 value for this file, checked over its fs-verity digest like
 * any package signature: 1 used, 0 none, <0 refused. */
static int take_pack_v3(struct composer *c, struct ra_file *rf)
{
        const char *pack = NULL;
        size_t len = 0;
        uint32_t keyid = 0;
        struct rpmpkg_file f;
        const uint8_t *v = sigpack_set_value_v3(c->packs, rf->pkg, rf->file, &len, &pack);
        enum imasig_status st;
        uint8_t *copy;

        if (!v)
                return 0;
        st = verity_ima_verify(c->trust, v, len, rf->verity->digest, &keyid);
        if (st != IMASIG_VALID) {
                rpmpkg_file(c->plan.set->pkgs[rf->pkg], rf->file, &f);
                return imgerr(-EKEYREJECTED, "%s: %s: %s: pack v3 signature %s (over another fs-verity "
                              "digest: another Salt=, or not this file's)", pack,
                              rpmpkg_nevra(c->plan.set->pkgs[rf->pkg]), f.path, imasig_status_name(st));
        }
        copy = malloc(len);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, v, len);
        free(rf->val);
        rf->val = copy;
        rf->val_len = len;
        return 1;
}

/* With [Verity]: the signatures over each file's fs-verity digest, made
 * with the owner's key for every file that got a signature above (files
 * allowed unsigned stay unsigned).  ima-v3 replaces security.ima with a v3
 * value; builtin and ipe put a PKCS#7 into the descriptor and keep the v2
 * security.ima. */
static void finish_verity(struct composer *c, struct ra_file *const files[], size_t n,
                          const uint8_t *digests[], uint8_t *vals[], size_t lens[],
                          struct ra_file *batch[])
{
        size_t m = 0;
        int r;

        for (size_t i = 0; i < n; i++)
                if (files[i]->rc >= 0 && files[i]->verity && (files[i]->val || (files[i]->tag & SIG_WANT_V3))) {
                        files[i]->tag &= ~SIG_WANT_V3;
                        batch[m] = files[i];
                        digests[m++] = files[i]->verity->digest;
                }
        if (!m)
                return;
        if (c->l->verity_sigs != VERITY_SIGS_IMA_V3) {
                r = verity_builtin_sign_many(c->vsigner, digests, m, vals, lens);
                if (r < 0)
                        imgerr_prefix(r, "%s: cannot sign: ", c->l->key);
                for (size_t k = 0; k < m; k++) {
                        if (r < 0) {
                                finish_failed(batch[k], r);
                                continue;
                        }
                        batch[k]->verity->sig = vals[k];
                        batch[k]->verity->sig_len = lens[k];
                }
                return;
        }
        /* v3 values from a pack are used as they are; the rest are signed */
        size_t keep = 0;
        for (size_t k = 0; k < m; k++) {
                r = take_pack_v3(c, batch[k]);
                if (r < 0)
                        finish_failed(batch[k], r);
                if (r == 0) {
                        batch[keep] = batch[k];
                        digests[keep++] = digests[k];
                }
        }
        if (!(m = keep))
                return;
        r = verity_ima_sign_many(c->key, digests, m, vals, lens);
        if (r < 0)
                imgerr_prefix(r, "%s: cannot sign: ", c->l->key);
        for (size_t k = 0; k < m; k++) {
                if (r < 0) {
                        finish_failed(batch[k], r);
                        continue;
                }
                free(batch[k]->val);
                batch[k]->val = vals[k];
                batch[k]->val_len = lens[k];
        }
}

/* The readahead finish hook: each file's signature, verified or made here.
 * Signatures to make are signed together, per hash algo, so ECDSA shares
 * its modular inversions. */
void finish_files(void *ctx, struct ra_file *const files[], size_t n)
{
        struct composer *c = ctx;
        _cleanup_free_ enum imasig_status *st = calloc(n, sizeof(*st));
        _cleanup_free_ struct imasig *parsed = calloc(n, sizeof(*parsed));
        _cleanup_free_ int *algo = calloc(n, sizeof(*algo));
        _cleanup_free_ const uint8_t **digests = calloc(n, sizeof(*digests));
        _cleanup_free_ struct ra_file **batch = calloc(n, sizeof(*batch));
        _cleanup_free_ uint8_t **vals = calloc(n, sizeof(*vals));
        _cleanup_free_ size_t *lens = calloc(n, sizeof(*lens));
        size_t to_sign = 0;
        /* with IMA v3 the v2 signatures would be replaced: not made at all */
        bool v3_only = c->l->verity && c->l->verity_sigs == VERITY_SIGS_IMA_V3;

        if (!st || !parsed || !algo || !digests || !batch || !vals || !lens) {
                for (size_t i = 0; i < n; i++)
                        finish_failed(files[i], -ENOMEM);
                return;
        }
        verify_package_signatures(c, files, n, st, parsed, vals, lens, digests);
        for (size_t i = 0; i < n; i++) {
                struct ra_file *rf = files[i];
                struct rpmpkg *p = c->plan.set->pkgs[rf->pkg];
                struct rpmpkg_file f;
                enum sig_source src;
                bool later;
                int r;

                rf->tag = SIG_NONE;
                algo[i] = -1;
                if (rpmpkg_file(p, rf->file, &f) < 0 || !rf->digest)
                        continue;   /* the writer reports the missing digest */
                const char *pack = c->l->sigmode == SIGMODE_SIGN ? NULL : take_pack_value(c, rf->pkg, &f);
                r = choose_signature(c, p, &f, pack, st[i], &parsed[i], &rf->val, &rf->val_len, &src, &later);
                if (r < 0) {
                        finish_failed(rf, r);
                        continue;
                }
                rf->tag = (int)src;
                if (later && v3_only) {
                        rf->tag |= SIG_WANT_V3;   /* signed over the verity digest below */
                } else if (later) {
                        algo[i] = rf->has_sha256 ? IMA_HASH_SHA256 : f.digest_algo;
                        to_sign++;
                }
        }
        /* one pass per hash algo: a package set nearly always has just one */
        for (size_t i = 0; to_sign && i < n; i++) {
                int a = algo[i], r;
                size_t m = 0;

                if (a < 0)
                        continue;
                for (size_t k = i; k < n; k++)
                        if (algo[k] == a) {
                                batch[m] = files[k];
                                digests[m++] = files[k]->has_sha256 ? files[k]->sha256 : files[k]->digest;
                                algo[k] = -1;
                        }
                to_sign -= m;
                r = c->key ? ima_key_sign_digests(c->key, a, digests, m, vals, lens)
                           : imgerr(-EINVAL, "no signing key");
                if (r < 0)
                        imgerr_prefix(r, "%s: cannot sign: ", c->l->key ? c->l->key : "Key=");
                for (size_t k = 0; k < m; k++) {
                        if (r < 0) {
                                finish_failed(batch[k], r);
                                continue;
                        }
                        batch[k]->val = vals[k];
                        batch[k]->val_len = lens[k];
                }
        }
        if (c->l->verity)
                finish_verity(c, files, n, digests, vals, lens, batch);
}
