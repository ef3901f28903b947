/* Signature packs: the bytes, making them, reading them (sigpack.h).
 *
 * Format v1, integers big-endian (docs/sigpack.md):
 *   "IMGTOOL-SIGPACK1"  u32 version=1  u32 flags=0  u64 body_len
 *   body: u32 npkgs, then per package (sorted by header digest):
 *         hdr_digest[32] u16 nevra_len nevra u32 nfiles,
 *         per file (sorted by path, bytewise):
 *         u16 path_len path u8 algo digest[hash size] u16 ima_len ima
 *         and with flag 1 (SIGPACK_F_V3): u16 v3_len v3 (0: none)
 *   u32 p7_len  p7 (DER PKCS#7 SignedData, detached, over header + body)
 * and nothing after it. */
#include "rpm/sigpack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "base/output.h"
#include "base/bytes.h"
#include "base/util.h"
#include "ima/certs.h"
#include "ima/imasig.h"
#include "ima/verity.h"
#include "rpm/rpmpkg.h"

static const char magic[16] = "IMGTOOL-SIGPACK1";
#define HEAD_LEN 32
#define MAX_PACK (1u << 30)
#define SIGPACK_F_V3 1u

/* ---- the header digest ----------------------------------------------------- */

/* lead (96) | signature header, padded to 8 | main header: the digest is
 * over the main header's 16-byte intro, index and data, as rpm computes
 * RPMSIGTAG_SHA256 when it builds the package. */
int rpm_header_sha256(const char *rpm_path, uint8_t out[SIGPACK_HDR_DIGEST])
{
        _cleanup_close_ int fd = open(rpm_path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ uint8_t *buf = NULL;
        uint8_t intro[16];
        off_t off = 96;
        int r;

        if (fd < 0)
                return imgerr(-errno, "%s: cannot open: %s", rpm_path, strerror(errno));
        for (int h = 0; h < 2; h++) {
                r = rpmpkg_pread_exact(fd, intro, sizeof(intro), off, rpm_path);
                if (r < 0)
                        return r;
                uint32_t il = be32_at(intro + 8), dl = be32_at(intro + 12);
                if (intro[0] != 0x8e || intro[1] != 0xad || intro[2] != 0xe8 || il < 1 ||
                    il > 0xffff || dl > 256u * 1024 * 1024)
                        return imgerr(-EBADMSG, "%s: bad header at offset %lld", rpm_path, (long long)off);
                size_t len = 16 + 16 * (size_t)il + dl;
                if (h == 0) {
                        off += (off_t)((len + 7) & ~(size_t)7);
                        continue;
                }
                buf = malloc(len);
                if (!buf)
                        return -ENOMEM;
                r = rpmpkg_pread_exact(fd, buf, len, off, rpm_path);
                if (r < 0)
                        return r;
                if (!EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL))
                        return imgerr(-EIO, "%s: sha256 failed", rpm_path);
        }
        return 0;
}

/* ---- a growing buffer -------------------------------------------------------- */

struct wbuf {
        uint8_t *d;
        size_t len, cap;
        int err;
};

static void put(struct wbuf *w, const void *p, size_t n)
{
        if (w->err)
                return;
        if (w->len + n > w->cap) {
                size_t cap = w->cap ? w->cap : 4096;
                while (cap < w->len + n)
                        cap *= 2;
                uint8_t *d = realloc(w->d, cap);
                if (!d) {
                        w->err = -ENOMEM;
                        return;
                }
                w->d = d;
                w->cap = cap;
        }
        memcpy(w->d + w->len, p, n);
        w->len += n;
}

static void put_be(struct wbuf *w, uint64_t v, unsigned bytes)
{
        uint8_t b[8];
        for (unsigned i = 0; i < bytes; i++)
                b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
        put(w, b, bytes);
}

/* ---- making -------------------------------------------------------------------- */

struct bentry {
        char *path;
        int algo;
        uint8_t digest[IMA_MAX_DIGEST];
        size_t digest_len;
        uint8_t *ima;
        size_t ima_len;
        uint8_t *v3;
        size_t v3_len;
        size_t file;        /* index in the package's file list */
};

struct bpkg {
        uint8_t hdr[SIGPACK_HDR_DIGEST];
        char *nevra;
        struct bentry *e;
        size_t n;
};

struct sigpack_builder {
        struct bpkg *p;
        size_t n, cap;
        bool v3;
};

int sigpack_builder_new(struct sigpack_builder **out)
{
        *out = calloc(1, sizeof(**out));
        return *out ? 0 : -ENOMEM;
}

static void bpkg_free(struct bpkg *p)
{
        for (size_t i = 0; i < p->n; i++) {
                free(p->e[i].path);
                free(p->e[i].ima);
                free(p->e[i].v3);
        }
        free(p->e);
        free(p->nevra);
}

void sigpack_builder_free(struct sigpack_builder *b)
{
        if (!b)
                return;
        for (size_t i = 0; i < b->n; i++)
                bpkg_free(&b->p[i]);
        free(b->p);
        free(b);
}

static bool packable(const struct rpmpkg_file *f)
{
        return S_ISREG(f->mode) && f->digest && !(f->flags & RPMPKG_FILE_GHOST);
}

/* The entries of one package, signed by key or taken from its header. */
static int collect_entries(struct rpmpkg *rp, const struct ima_key *key, struct bpkg *bp)
{
        size_t n = rpmpkg_file_count(rp), m = 0;
        _cleanup_free_ const uint8_t **digests = calloc(n ? n : 1, sizeof(*digests));
        _cleanup_free_ uint8_t **vals = calloc(n ? n : 1, sizeof(*vals));
        _cleanup_free_ size_t *lens = calloc(n ? n : 1, sizeof(*lens));
        int algo = 0, r = 0;

        bp->e = calloc(n ? n : 1, sizeof(*bp->e));
        if (!bp->e || !digests || !vals || !lens)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct rpmpkg_file f;
                rpmpkg_file(rp, i, &f);
                if (!packable(&f) || (!key && !f.ima))
                        continue;
                struct bentry *e = &bp->e[m];
                e->path = strdup(f.path);
                if (!e->path || f.digest_len > IMA_MAX_DIGEST)
                        return -ENOMEM;
                e->algo = f.digest_algo;
                memcpy(e->digest, f.digest, f.digest_len);
                e->digest_len = f.digest_len;
                e->file = i;
                algo = f.digest_algo;   /* one algo per package (rpmpkg checks) */
                digests[m] = e->digest;
                if (!key) {
                        e->ima = malloc(f.ima_len);
                        if (!e->ima)
                                return -ENOMEM;
                        memcpy(e->ima, f.ima, f.ima_len);
                        e->ima_len = f.ima_len;
                }
                bp->n = ++m;
        }
        if (key && m) {
                /* one batch: ECDSA shares its inversions; deterministic nonces */
                r = ima_key_sign_digests(key, algo, digests, m, vals, lens);
                if (r < 0)
                        return imgerr_prefix(r, "%s: cannot sign: ", rpmpkg_path(rp));
                for (size_t i = 0; i < m; i++) {
                        bp->e[i].ima = vals[i];
                        bp->e[i].ima_len = lens[i];
                }
        }
        return 0;
}

/* ---- v3 values: fs-verity digests from the payload ------------------------------ */

struct pull_ctx {
        struct rpmpkg_payload *pl;
};

static int pull(void *ctx, void *buf, size_t count)
{
        struct pull_ctx *p = ctx;
        uint8_t *b = buf;
        while (count) {
                ssize_t n = rpmpkg_payload_read(p->pl, b, count);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        return imgerr(-EBADMSG, "payload shorter than the header says");
                b += n;
                count -= (size_t)n;
        }
        return 0;
}

/* The fs-verity digest of every file with content, in payload order; the
 * other members of a hard-link set take the one that carried the content. */
static int verity_digests(struct rpmpkg *rp, uint8_t (*vd)[VERITY_DIGEST_SIZE], bool *have)
{
        struct rpmpkg_payload *pl = NULL;
        struct verity_params params = { .salt_len = 0 };
        size_t idx, n = rpmpkg_file_count(rp);
        int r = rpmpkg_payload_open(rp, &pl);

        while (r >= 0 && (r = rpmpkg_payload_next(pl, &idx)) > 0) {
                struct rpmpkg_file f;
                struct verity_meta vm;
                struct pull_ctx ctx = { pl };
                uint8_t end;
                rpmpkg_file(rp, idx, &f);
                if (!S_ISREG(f.mode) || !rpmpkg_payload_has_content(pl))
                        continue;
                r = verity_compute(&params, f.size, pull, &ctx, &vm);
                if (r < 0)
                        break;
                memcpy(vd[idx], vm.digest, VERITY_DIGEST_SIZE);
                have[idx] = true;
                verity_meta_free(&vm);
                /* the read of 0 checks the content against the header digest */
                if (rpmpkg_payload_read(pl, &end, 1) != 0) {
                        r = imgerr(-EBADMSG, "%s: %s: payload longer than the header says",
                                   rpmpkg_path(rp), f.path);
                        break;
                }
        }
        rpmpkg_payload_free(pl);
        if (r < 0)
                return imgerr_prefix(r, "%s: ", rpmpkg_path(rp));
        /* the member that carried the content gives it to the set's first... */
        for (size_t i = 0; i < n; i++) {
                struct rpmpkg_file f;
                rpmpkg_file(rp, i, &f);
                if (have[i] && !have[f.link_first]) {
                        memcpy(vd[f.link_first], vd[i], VERITY_DIGEST_SIZE);
                        have[f.link_first] = true;
                }
        }
        /* ...and the first to the others */
        for (size_t i = 0; i < n; i++) {
                struct rpmpkg_file f;
                rpmpkg_file(rp, i, &f);
                if (!have[i] && have[f.link_first]) {
                        memcpy(vd[i], vd[f.link_first], VERITY_DIGEST_SIZE);
                        have[i] = true;
                }
        }
        return 0;
}

static int add_v3(struct rpmpkg *rp, const struct ima_key *key, struct bpkg *bp)
{
        size_t n = rpmpkg_file_count(rp);
        _cleanup_free_ uint8_t (*vd)[VERITY_DIGEST_SIZE] = calloc(n ? n : 1, VERITY_DIGEST_SIZE);
        _cleanup_free_ bool *have = calloc(n ? n : 1, sizeof(bool));
        _cleanup_free_ const uint8_t **digests = calloc(bp->n ? bp->n : 1, sizeof(*digests));
        _cleanup_free_ uint8_t **vals = calloc(bp->n ? bp->n : 1, sizeof(*vals));
        _cleanup_free_ size_t *lens = calloc(bp->n ? bp->n : 1, sizeof(*lens));
        int r;

        if (!vd || !have || !digests || !vals || !lens)
                return -ENOMEM;
        r = verity_digests(rp, vd, have);
        if (r < 0)
                return r;
        for (size_t i = 0; i < bp->n; i++) {
                if (!have[bp->e[i].file])
                        return imgerr(-EBADMSG, "%s: %s: no content in the payload", rpmpkg_path(rp),
                                      bp->e[i].path);
                digests[i] = vd[bp->e[i].file];
        }
        r = bp->n ? verity_ima_sign_many(key, digests, bp->n, vals, lens) : 0;
        if (r < 0)
                return imgerr_prefix(r, "%s: cannot sign: ", rpmpkg_path(rp));
        for (size_t i = 0; i < bp->n; i++) {
                bp->e[i].v3 = vals[i];
                bp->e[i].v3_len = lens[i];
        }
        return 0;
}

static int by_entry_path(const void *a, const void *b)
{
        return strcmp(((const struct bentry *)a)->path, ((const struct bentry *)b)->path);
}

int sigpack_builder_add(struct sigpack_builder *b, const char *rpm_path,
                        const struct ima_key *sign_key, const struct ima_key *v3_key, size_t *added)
{
        struct rpmpkg *rp = NULL;
        struct bpkg bp = { 0 };
        int r = rpm_header_sha256(rpm_path, bp.hdr);

        if (r < 0)
                return r;
        r = rpmpkg_open(rpm_path, &rp);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n; i++)
                if (!memcmp(b->p[i].hdr, bp.hdr, sizeof(bp.hdr))) {
                        r = imgerr(-EEXIST, "%s: given twice (same header digest)", rpm_path);
                        goto out;
                }
        bp.nevra = strdup(rpmpkg_nevra(rp));
        r = bp.nevra ? collect_entries(rp, sign_key, &bp) : -ENOMEM;
        if (r >= 0 && v3_key)
                r = add_v3(rp, v3_key, &bp);
        if (r < 0)
                goto out;
        b->v3 |= v3_key != NULL;
        qsort(bp.e, bp.n, sizeof(*bp.e), by_entry_path);
        for (size_t i = 0; i < bp.n; i++)
                if (bp.e[i].path[0] && strlen(bp.e[i].path) > 0xffff) {
                        r = imgerr(-ENAMETOOLONG, "%s: %s: path too long", rpm_path, bp.e[i].path);
                        goto out;
                }
        if (GROW(b->p, b->n, b->cap, 16) < 0) {
                r = -ENOMEM;
                goto out;
        }
        b->p[b->n++] = bp;
        *added = bp.n;
        bp = (struct bpkg){ 0 };
out:
        bpkg_free(&bp);
        rpmpkg_free(rp);
        return r;
}

static int by_hdr(const void *a, const void *b)
{
        return memcmp(((const struct bpkg *)a)->hdr, ((const struct bpkg *)b)->hdr, SIGPACK_HDR_DIGEST);
}

static void encode(struct sigpack_builder *b, struct wbuf *w)
{
        size_t body_at;

        qsort(b->p, b->n, sizeof(*b->p), by_hdr);
        put(w, magic, sizeof(magic));
        put_be(w, 1, 4);
        put_be(w, b->v3 ? SIGPACK_F_V3 : 0, 4);
        body_at = w->len;
        put_be(w, 0, 8);   /* body_len, filled in below */
        put_be(w, b->n, 4);
        for (size_t i = 0; i < b->n; i++) {
                const struct bpkg *p = &b->p[i];
                put(w, p->hdr, sizeof(p->hdr));
                put_be(w, strlen(p->nevra), 2);
                put(w, p->nevra, strlen(p->nevra));
                put_be(w, p->n, 4);
                for (size_t k = 0; k < p->n; k++) {
                        const struct bentry *e = &p->e[k];
                        put_be(w, strlen(e->path), 2);
                        put(w, e->path, strlen(e->path));
                        put_be(w, (uint64_t)e->algo, 1);
                        put(w, e->digest, e->digest_len);
                        put_be(w, e->ima_len, 2);
                        put(w, e->ima, e->ima_len);
                        if (b->v3) {
                                put_be(w, e->v3_len, 2);
                                put(w, e->v3, e->v3_len);
                        }
                }
        }
        if (!w->err) {
                uint64_t body = w->len - HEAD_LEN;
                for (unsigned i = 0; i < 8; i++)
                        w->d[body_at + i] = (uint8_t)(body >> (8 * (7 - i)));
        }
}

/* A detached SignedData over data with two signed attributes, contentType
 * and messageDigest (no signing time: the same pack gives the same bytes).
 * The signature over the attributes' DER is made by imasig (RFC 6979
 * nonces, OpenSSL's constant-time code); it is what
 * `openssl cms -verify -binary -content PACKBODY` checks. */
static int sign_pkcs7(const struct ima_key *key, X509 *cert, const uint8_t *data, size_t len,
                      uint8_t **der, size_t *der_len)
{
        PKCS7 *p7 = PKCS7_new();
        PKCS7_SIGNER_INFO *si;
        unsigned char *attrs = NULL;
        uint8_t md[32], amd[32];
        _cleanup_free_ uint8_t *val = NULL;
        size_t val_len = 0;
        int alen, r;

        if (!p7)
                return -ENOMEM;
        if (!PKCS7_set_type(p7, NID_pkcs7_signed) || !PKCS7_content_new(p7, NID_pkcs7_data) ||
            !(si = PKCS7_add_signature(p7, cert, X509_get0_pubkey(cert), EVP_sha256()))) {
                r = imgerr_openssl(-EINVAL, "PKCS#7");
                goto out;
        }
        PKCS7_set_detached(p7, 1);
        if (!EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL) ||
            !PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                        OBJ_nid2obj(NID_pkcs7_data)) ||
            !PKCS7_add1_attrib_digest(si, md, sizeof(md))) {
                r = imgerr_openssl(-EINVAL, "PKCS#7 attributes");
                goto out;
        }
        alen = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &attrs, ASN1_ITEM_rptr(PKCS7_ATTR_SIGN));
        if (alen <= 0 || !EVP_Digest(attrs, (size_t)alen, amd, NULL, EVP_sha256(), NULL)) {
                r = imgerr_openssl(-EINVAL, "PKCS#7 attributes");
                goto out;
        }
        r = ima_key_sign_digest(key, IMA_HASH_SHA256, amd, sizeof(amd), &val, &val_len);
        if (r < 0)
                goto out;
        r = verity_pkcs7_finish(p7, si, val, val_len, der, der_len);
out:
        OPENSSL_free(attrs);
        PKCS7_free(p7);
        return r;
}

int sigpack_builder_write(struct sigpack_builder *b, const struct ima_key *key,
                          const char *cert_path, const char *out, unsigned out_flags,
                          const char *const *inputs, size_t *bytes)
{
        struct wbuf w = { 0 };
        _cleanup_free_ uint8_t *der = NULL;
        size_t der_len = 0;
        X509 *cert = NULL;
        int r;

        encode(b, &w);
        if (w.err) {
                free(w.d);
                return w.err;
        }
        r = cert_read_one(cert_path, &cert);
        if (r >= 0)
                r = sign_pkcs7(key, cert, w.d, w.len, &der, &der_len);
        X509_free(cert);
        if (r >= 0) {
                put_be(&w, der_len, 4);
                put(&w, der, der_len);
                r = w.err;
        }
        if (r >= 0)
                r = output_write_file(out, out_flags, 0644, inputs, w.d, w.len);
        if (r >= 0)
                *bytes = w.len;
        free(w.d);
        return r;
}

/* ---- reading --------------------------------------------------------------------- */

struct rbuf {
        const uint8_t *d;
        size_t len, at;
        bool short_read;
};

static const uint8_t *take(struct rbuf *r, size_t n)
{
        if (r->short_read || r->len - r->at < n) {
                r->short_read = true;
                return NULL;
        }
        r->at += n;
        return r->d + r->at - n;
}

static uint64_t take_be(struct rbuf *r, unsigned bytes)
{
        const uint8_t *b = take(r, bytes);
        uint64_t v = 0;
        for (unsigned i = 0; b && i < bytes; i++)
                v = v << 8 | b[i];
        return v;
}

/* Strings are copied, NUL-terminated, into one arena the size of the body. */
static char *take_str(struct rbuf *r, char **arena)
{
        size_t n = take_be(r, 2);
        const uint8_t *s = take(r, n);
        if (!s || memchr(s, 0, n))
                return NULL;
        char *p = *arena;
        memcpy(p, s, n);
        p[n] = 0;
        *arena = p + n + 1;
        return p;
}

static int parse_entry(struct rbuf *r, char **arena, bool v3, struct sigpack_entry *e)
{
        e->path = take_str(r, arena);
        e->algo = (int)take_be(r, 1);
        e->digest_len = ima_hash_size(e->algo);
        e->digest = take(r, e->digest_len);
        e->ima_len = take_be(r, 2);
        e->ima = take(r, e->ima_len);
        if (v3) {
                e->ima_v3_len = take_be(r, 2);
                e->ima_v3 = take(r, e->ima_v3_len);
                if (!e->ima_v3_len)
                        e->ima_v3 = NULL;
                else if (!e->ima_v3)
                        return -EBADMSG;
        }
        if (!e->path || !e->digest || !e->ima)
                return r->short_read ? -EBADMSG : -EINVAL;
        if (e->path[0] != '/' || !e->digest_len || !e->ima_len)
                return -EINVAL;
        return 0;
}

static int parse_body(struct sigpack *p, const uint8_t *body, size_t len, char *arena)
{
        struct rbuf r = { body, len, 0, false };
        uint64_t n = take_be(&r, 4);

        if (n > len / (SIGPACK_HDR_DIGEST + 6))
                return imgerr(-EBADMSG, "%s: truncated or corrupt pack (%llu packages)", p->path,
                              (unsigned long long)n);
        p->pkgs = calloc(n ? n : 1, sizeof(*p->pkgs));
        if (!p->pkgs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct sigpack_pkg *k = &p->pkgs[i];
                k->hdr_digest = take(&r, SIGPACK_HDR_DIGEST);
                k->nevra = take_str(&r, &arena);
                uint64_t m = take_be(&r, 4);
                if (!k->hdr_digest || !k->nevra || m > len / 8)
                        return imgerr(-EBADMSG, "%s: truncated pack (package %zu)", p->path, i + 1);
                if (i && memcmp(p->pkgs[i - 1].hdr_digest, k->hdr_digest, SIGPACK_HDR_DIGEST) >= 0)
                        return imgerr(-EBADMSG, "%s: %s: packages out of order or listed twice "
                                      "(a reordered pack)", p->path, k->nevra);
                k->e = calloc(m ? m : 1, sizeof(*k->e));
                if (!k->e)
                        return -ENOMEM;
                p->n = i + 1;
                for (size_t j = 0; j < m; j++) {
                        int rc = parse_entry(&r, &arena, p->v3, &k->e[j]);
                        if (rc == -EBADMSG)
                                return imgerr(rc, "%s: %s: truncated pack (entry %zu)", p->path, k->nevra, j + 1);
                        if (rc < 0)
                                return imgerr(-EBADMSG, "%s: %s: malformed entry %zu", p->path, k->nevra, j + 1);
                        if (j && strcmp(k->e[j - 1].path, k->e[j].path) >= 0)
                                return imgerr(-EBADMSG, "%s: %s: %s: entries out of order or listed twice "
                                              "(a reordered pack)", p->path, k->nevra, k->e[j].path);
                        k->n = j + 1;
                }
        }
        if (r.at != len)
                return imgerr(-EBADMSG, "%s: %zu bytes after the last package", p->path, len - r.at);
        return 0;
}

static char *describe_signer(X509 *x)
{
        char name[256] = "?", *s = NULL;
        X509_NAME_oneline(X509_get_subject_name(x), name, sizeof(name));
        return asprintf(&s, "%s", name) < 0 ? NULL : s;
}

/* The pack's PKCS#7: one signer, signed attributes present, verifying
 * over the signed bytes with one of the trusted certificates. */
static int check_signature(struct sigpack *p, const uint8_t *der, size_t der_len, char *const *trusted)
{
        const unsigned char *q = der;
        PKCS7 *p7 = d2i_PKCS7(NULL, &q, (long)der_len);
        STACK_OF(X509) *certs = sk_X509_new_null(), *signers = NULL;
        STACK_OF(PKCS7_SIGNER_INFO) *sis;
        X509_STORE *store = X509_STORE_new();
        BIO *in = NULL;
        int r = 0;

        if (!p7 || q != der + der_len || !PKCS7_type_is_signed(p7) || !PKCS7_get_detached(p7)) {
                r = imgerr(-EBADMSG, "%s: the pack's signature is not a detached PKCS#7 SignedData", p->path);
                goto out;
        }
        sis = PKCS7_get_signer_info(p7);
        if (!sis || sk_PKCS7_SIGNER_INFO_num(sis) != 1 ||
            !PKCS7_get_signed_attributes(sk_PKCS7_SIGNER_INFO_value(sis, 0)) ||
            sk_X509_ATTRIBUTE_num(PKCS7_get_signed_attributes(sk_PKCS7_SIGNER_INFO_value(sis, 0))) == 0) {
                /* without signed attributes the signature would be over
                 * sha256(pack): exactly an IMA signature of a pack file */
                r = imgerr(-EKEYREJECTED, "%s: the pack's signature has no signed attributes "
                           "(an IMA file signature is not a pack signature)", p->path);
                goto out;
        }
        if (!certs || !store) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; trusted && trusted[i]; i++) {
                X509 **xs = NULL;
                if (certs_read_file(trusted[i], &xs) < 0)
                        continue;   /* a bare public key: it cannot sign packs */
                for (size_t k = 0; xs[k]; k++)
                        if (X509_up_ref(xs[k]))
                                sk_X509_push(certs, xs[k]);
                certs_free(xs);
        }
        /* who signed, for messages: only trusted certs can be found */
        signers = PKCS7_get0_signers(p7, certs, PKCS7_NOINTERN);
        ERR_clear_error();
        if (signers && sk_X509_num(signers) == 1)
                p->signer = describe_signer(sk_X509_value(signers, 0));
        if (!trusted)
                goto out;
        if (!signers) {
                PKCS7_ISSUER_AND_SERIAL *ias = sk_PKCS7_SIGNER_INFO_value(sis, 0)->issuer_and_serial;
                char issuer[256] = "?";
                X509_NAME_oneline(ias->issuer, issuer, sizeof(issuer));
                r = imgerr(-EKEYREJECTED, "%s: signed by a key that is not trusted (issuer %s; "
                           "not one of Certificate=)", p->path, issuer);
                goto out;
        }
        in = BIO_new_mem_buf(p->bytes, (int)p->signed_len);
        if (!in || PKCS7_verify(p7, certs, store, in, NULL,
                                PKCS7_BINARY | PKCS7_NOINTERN | PKCS7_NOVERIFY | PKCS7_NOCHAIN) != 1) {
                ERR_clear_error();
                r = imgerr(-EKEYREJECTED, "%s: the pack's signature does not verify (pack changed "
                           "after signing)", p->path);
        }
out:
        sk_X509_free(signers);
        BIO_free(in);
        sk_X509_pop_free(certs, X509_free);
        X509_STORE_free(store);
        PKCS7_free(p7);
        return r;
}

static int parse_pack(struct sigpack *p, char *const *trusted)
{
        struct rbuf r = { p->bytes, p->len, 0, false };
        const uint8_t *m = take(&r, sizeof(magic));
        uint64_t version = take_be(&r, 4), flags = take_be(&r, 4), body = take_be(&r, 8);

        if (!m || memcmp(m, magic, sizeof(magic)))
                return imgerr(-EBADMSG, "%s: not a signature pack", p->path);
        if (version != 1 || (flags & ~(uint64_t)SIGPACK_F_V3))
                return imgerr(-EOPNOTSUPP, "%s: pack format %llu (flags %llx): this imgtool reads 1",
                              p->path, (unsigned long long)version, (unsigned long long)flags);
        if (body > p->len - HEAD_LEN)
                return imgerr(-EBADMSG, "%s: truncated pack (%zu of %llu body bytes)", p->path,
                              p->len - HEAD_LEN, (unsigned long long)body);
        const uint8_t *b = take(&r, body);
        p->signed_len = r.at;
        p->v3 = flags & SIGPACK_F_V3;
        uint64_t der_len = take_be(&r, 4);
        const uint8_t *der = take(&r, der_len);
        if (!b || !der || !der_len)
                return imgerr(-EBADMSG, "%s: truncated pack (its signature is missing or cut)", p->path);
        if (r.at != p->len)
                return imgerr(-EBADMSG, "%s: %zu bytes after the pack's signature", p->path, p->len - r.at);
        /* the signature first: nothing of an unsigned body is believed */
        int rc = check_signature(p, der, der_len, trusted);
        if (rc < 0)
                return rc;
        p->arena = malloc(body + 1);
        if (!p->arena)
                return -ENOMEM;
        return parse_body(p, b, body, p->arena);
}

int sigpack_load(const char *path, char *const *trusted, struct sigpack **out)
{
        struct sigpack *p = calloc(1, sizeof(*p));
        int r;

        if (!p || !(p->path = strdup(path))) {
                free(p);
                return -ENOMEM;
        }
        r = read_file_max(path, MAX_PACK, "signature pack", &p->bytes, &p->len);
        if (r >= 0)
                r = parse_pack(p, trusted);
        if (r < 0) {
                sigpack_free(p);
                return r;
        }
        *out = p;
        return 0;
}

void sigpack_free(struct sigpack *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                free(p->pkgs[i].e);
        free(p->pkgs);
        free(p->arena);
        free(p->signer);
        free(p->bytes);
        free(p->path);
        free(p);
}
