/* prepare: what compose decides before the first file: keys and trust, the epoch, the inode and image size. */
#include "image/composer.h"
#include "image/plan.h"
#include "image/compose.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "ext4/ext4img.h"
#include "ext4/ext4verity.h"
#include "boot/bootdisk.h"
#include "rpm/fcaps.h"
#include "image/labels.h"
#include "ima/imasig.h"
#include "ima/pubkey.h"
#include "ima/sigreq.h"
#include "ima/verity.h"
#include "rpm/pkgset.h"
#include "rpm/rpmpkg.h"
#include "rpm/sigpack.h"
#include "base/output.h"
#include "base/strv.h"
#include "base/util.h"

/* ---- preparation ------------------------------------------------------------------ */

/* pkgset refused scriptlets already unless Scriptlets=skip: list them. */
int list_skipped_scriptlets(struct composer *c)
{
        if (c->l->scriptlets != SCRIPTLETS_SKIP)
                return 0;       /* Scriptlets=run: scriptlets.c refuses what it does not run */
        for (size_t i = 0; i < c->plan.set->count; i++) {
                const char *const *s = rpmpkg_scriptlets(c->plan.set->pkgs[i]);
                for (size_t k = 0; s && s[k]; k++)
                        if (strv_pushf(&c->rep->scriptlets_skipped, "%s: %s", rpmpkg_nevra(c->plan.set->pkgs[i]), s[k]) < 0)
                                return -ENOMEM;
        }
        return 0;
}

/* A bare public key verifies package signatures, but the kernel loads
 * certificates only: an image that boots needs one issued for the key. */
static int check_bare_key(struct composer *c, const char *path)
{
        EVP_PKEY *pub = NULL;
        int r = pubkey_read_file(path, &pub);

        if (r <= 0)
                return r;
        EVP_PKEY_free(pub);
        if (c->l->kernel)
                return imgerr(-EINVAL, "%s: Certificate= is a bare public key and the kernel loads only "
                              "certificates: issue one under your CA (imgtool keygen --issuer CADIR "
                              "--for-key %s --out DIR) and list DIR/signing.crt instead", path, path);
        return strv_pushf(&c->rep->warnings, "%s is a bare public key: it verifies package signatures "
                          "but is not installed in the image (the kernel loads only certificates; "
                          "imgtool keygen --issuer CADIR --for-key makes one)", path) < 0 ? -ENOMEM : 0;
}

/* --defer-signatures: Key= is never opened; the certificate's public key
 * stands in for it (ima_key_defer).  Signatures outside security.ima are
 * not deferred yet: refused rather than made without the key. */
static int load_deferred_key(struct composer *c)
{
        const char *cert = c->l->certificates ? c->l->certificates[0] : NULL;
        int r;

        if (!c->l->key)
                return imgerr(-EINVAL, "%s: --defer-signatures: the layout has no [Signatures] Key=: nothing to sign",
                              c->l->path);
        if (!cert)
                return imgerr(-EINVAL, "%s: --defer-signatures needs [Signatures] Certificate= (the signer's "
                              "certificate first)", c->l->path);
        if (c->l->verity)
                return imgerr(-EOPNOTSUPP, "%s: --defer-signatures: fs-verity and IPE signatures cannot be "
                              "deferred yet ([Verity])", c->l->path);
        r = sigreq_new(&c->req);
        if (r >= 0)
                r = sigreq_set_cert_file(c->req, cert);
        if (r >= 0)
                r = ima_key_defer(cert, sigreq_defer, c->req, &c->key);
        return r;
}

/* The request, once the image is complete: bound to it by its SHA-256,
 * and renamed into place with the image (commit_outputs). */
int write_request(struct composer *c)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = sigreq_file_sha256(output_tmp_path(c->image), c->req->image_sha256, &c->req->image_size);

        if (r >= 0)
                r = sigreq_normalize(c->req);
        if (r >= 0)
                r = sigreq_format(c->req, &text, &len);
        if (r >= 0)
                r = output_open(c->o->defer_request, c->o->output_flags, 0644, (const char *const *)c->inputs,
                                &c->request_out);
        if (r >= 0)
                r = output_write(c->request_out, text, len);
        return r;
}

int load_keys(struct composer *c)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && c->l->certificates && c->l->certificates[i]; i++)
                r = check_bare_key(c, c->l->certificates[i]);
        if (r >= 0)
                r = plan_trust(c->l, NULL, 0, &c->trust);
        if (r < 0)
                return r;
        if (c->o->defer_request) {
                r = load_deferred_key(c);
                if (r < 0)
                        return r;
        } else if (c->l->key) {
                const char *cert = c->l->certificates ? c->l->certificates[0] : NULL;
                r = ima_key_load(c->l->key, cert, &c->key);
                if (r < 0)
                        return r;
        }
        if (c->l->packs) {
                char **notes = NULL;
                r = sigpack_set_load(c->l->packs, c->l->certificates, &c->packs);
                if (r >= 0)
                        r = sigpack_set_bind(c->packs, c->plan.set->pkgs, c->plan.set->count, &notes);
                for (size_t i = 0; r >= 0 && notes && notes[i]; i++)
                        r = strv_push(&c->rep->warnings, strdup(notes[i]));
                strv_free(notes);
                if (r < 0)
                        return r;
        }
        if (c->l->verity) {
                r = verity_params_parse_salt(&c->vparams, c->l->verity_salt);
                if (r >= 0 && c->l->verity_sigs != VERITY_SIGS_IMA_V3)
                        r = verity_signer_new(c->key, c->l->certificates[0], &c->vsigner);
                if (r < 0)
                        return r;
        }
        return 0;
}

int64_t choose_epoch(struct composer *c)
{
        const char *env = getenv("SOURCE_DATE_EPOCH");
        int64_t newest = 0;

        if (c->l->source_date_epoch >= 0)
                return c->l->source_date_epoch;
        if (env && *env) {
                char *end;
                long long v = strtoll(env, &end, 10);
                if (!*end && v >= 0)
                        return v;
                strv_pushf(&c->rep->warnings, "SOURCE_DATE_EPOCH=%s is not a number: ignored", env);
        }
        for (size_t i = 0; i < c->plan.set->count; i++)
                if (rpmpkg_buildtime(c->plan.set->pkgs[i]) > newest)
                        newest = rpmpkg_buildtime(c->plan.set->pkgs[i]);
        return newest;
}

/* Bytes an in-inode xattr entry takes: 16-byte header, name and value
 * rounded to 4 ("security." is stored as a prefix index). */
static size_t xattr_entry_size(size_t name_len, size_t value_len)
{
        return 16 + ((name_len + 3) & ~3u) + ((value_len + 3) & ~3u);
}

/* The smallest inode that keeps the largest signature (and capabilities)
 * inside the inode, so signatures cost no xattr block. */
static unsigned choose_inode_size(struct composer *c)
{
        size_t max_sig = 0, need;
        unsigned size = 256;

        if (c->l->inode_size)
                return c->l->inode_size;
        if (c->key)
                max_sig = ima_key_max_xattr(c->key);
        if (sigpack_set_max_value(c->packs) > max_sig)
                max_sig = sigpack_set_max_value(c->packs);
        for (size_t i = 0; i < c->plan.set->count; i++) {
                struct rpmpkg_file f;
                for (size_t k = 0; k < rpmpkg_file_count(c->plan.set->pkgs[i]); k++)
                        if (rpmpkg_file(c->plan.set->pkgs[i], k, &f) == 0 && f.ima_len > max_sig)
                                max_sig = f.ima_len;
        }
        /* 4-byte magic + ima entry + capability entry + 4-byte terminator. */
        need = 4 + xattr_entry_size(3, max_sig) + xattr_entry_size(10, FCAPS_XATTR_SIZE) + 4;
        if (c->plan.labels)
                need += xattr_entry_size(7, labels_max_len(c->plan.labels));
        while (size - 128 - 32 < need && size < 4096)
                size *= 2;
        return size;
}

struct estimate {
        uint64_t blocks, inodes;
        bool verity;
};

/* A PKCS#7 by an RSA-4096 key is about 600 bytes: one descriptor block. */
#define VERITY_SIG_ESTIMATE 1024

static void estimate_add_file(struct estimate *e, const struct rpmpkg_file *f)
{
        e->inodes++;
        if (S_ISREG(f->mode) && e->verity)
                e->blocks += ext4verity_blocks(f->size, VERITY_SIG_ESTIMATE) + 1 /* extent */;
        if (S_ISREG(f->mode))
                e->blocks += (f->size + BLOCK - 1) / BLOCK + (f->size > (48ull << 20) ? f->size / (BLOCK * 340) + 1 : 0);
        else if (S_ISDIR(f->mode))
                e->blocks += 1;
        else if (S_ISLNK(f->mode) && f->link_target && strlen(f->link_target) >= 60)
                e->blocks += 1;
}

static uint64_t file_size_or_zero(const char *path)
{
        struct stat st;
        return path && stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Size=auto: content plus metadata, then 10% and 16 MiB of margin. */
static int estimate_image(struct composer *c, unsigned inode_size, uint64_t *size, uint64_t *inodes)
{
        struct estimate e = { 0, 0, c->l->verity };
        uint64_t meta, total, hdr_bytes = 0;

        for (size_t i = 0; i < c->plan.set->count; i++) {
                struct rpmpkg_file f;
                for (size_t k = 0; k < rpmpkg_file_count(c->plan.set->pkgs[i]); k++)
                        if (rpmpkg_file(c->plan.set->pkgs[i], k, &f) == 0 && !(f.flags & RPMPKG_FILE_GHOST))
                                estimate_add_file(&e, &f);
                hdr_bytes += 64 * 1024 + rpmpkg_file_count(c->plan.set->pkgs[i]) * 256;
        }
        /* rpmdb, certs, kernel: what compose adds itself. */
        e.blocks += (hdr_bytes + file_size_or_zero(c->l->kernel)) / BLOCK + 64;
        *inodes = (e.inodes + 64) * 11 / 10 + 1024;
        meta = *inodes * inode_size / BLOCK + e.blocks / 1024 /* extent and dir blocks */;
        total = (e.blocks + meta) * BLOCK;
        total = total + total / 10 + (16ull << 20);
        /* The journal grows with the filesystem; mke2fs' default sizes. */
        total += total < (128ull << 20) ? (4ull << 20) : total < (1ull << 30) ? (16ull << 20) : (64ull << 20);
        *size = (total + (1u << 20) - 1) & ~((uint64_t)(1u << 20) - 1);
        return 0;
}

/* The filesystem identity comes from the layout (Seed=, else its digest):
 * the same layout gives the same UUID run after run. */
void choose_identity(struct composer *c)
{
        const char *seed = c->l->seed ? c->l->seed : c->l->digest_hex;
        derive_uuid(seed, "uuid", c->uuid);
        uuid_format(c->uuid, c->rep->uuid);
}

int create_image(struct composer *c)
{
        struct ext4img_opts o = { 0 };
        const char *seed = c->l->seed ? c->l->seed : c->l->digest_hex;
        uint64_t est_size, inodes;

        o.inode_size = choose_inode_size(c);
        estimate_image(c, o.inode_size, &est_size, &inodes);
        o.size = c->root_size ? c->root_size : c->l->size_auto ? est_size : c->l->size;
        o.inode_count = inodes;
        o.label = c->l->label;
        o.timestamp = c->epoch;
        o.offset = c->disk ? bootdisk_root_offset(c->disk) : 0;
        memcpy(o.uuid, c->uuid, 16);
        derive_uuid(seed, "hash-seed", o.hash_seed);
        c->rep->inode_size = o.inode_size;
        c->rep->image_size = o.size;
        int r = ext4img_create(output_tmp_path(c->image), &o, &c->img);
        if (r >= 0 && c->l->verity)
                ext4verity_enable_feature(c->img);
        return r;
}
