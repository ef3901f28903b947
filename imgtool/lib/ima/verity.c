#include "ima/verity.h"

#include <endian.h>
#include <errno.h>
#include <libfsverity.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ima/certs.h"
#include "base/util.h"

/* ---- trees with libfsverity --------------------------------------------------- */

static __thread char libfsverity_msg[256];

static void on_libfsverity_error(const char *msg)
{
        snprintf(libfsverity_msg, sizeof(libfsverity_msg), "%s", msg);
}

static void install_error_callback(void)
{
        libfsverity_set_error_callback(on_libfsverity_error);
}

struct collect {
        struct verity_meta *m;
};

static int on_tree_size(void *ctx, uint64_t size)
{
        struct collect *c = ctx;
        if (size % VERITY_BLOCK)
                return -EINVAL;
        c->m->tree = size ? malloc(size) : NULL;
        if (size && !c->m->tree)
                return -ENOMEM;
        c->m->tree_size = size;
        return 0;
}

static int on_tree_block(void *ctx, const void *block, size_t size, uint64_t offset)
{
        struct collect *c = ctx;
        if (offset > c->m->tree_size || size > c->m->tree_size - offset)
                return -EINVAL;
        memcpy(c->m->tree + offset, block, size);
        return 0;
}

static int on_descriptor(void *ctx, const void *desc, size_t size)
{
        struct collect *c = ctx;
        if (size != VERITY_DESC_SIZE)
                return -EINVAL;
        memcpy(c->m->desc, desc, size);
        return 0;
}

int verity_compute(const struct verity_params *p, uint64_t size, verity_read_fn read, void *ctx,
                   struct verity_meta *out)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        struct collect col = { out };
        struct libfsverity_metadata_callbacks cb = {
                .ctx = &col, .merkle_tree_size = on_tree_size,
                .merkle_tree_block = on_tree_block, .descriptor = on_descriptor,
        };
        struct libfsverity_merkle_tree_params mp = {
                .version = 1, .hash_algorithm = FS_VERITY_HASH_ALG_SHA256, .file_size = size,
                .block_size = VERITY_BLOCK, .salt_size = (uint32_t)p->salt_len,
                .salt = p->salt_len ? p->salt : NULL, .metadata_callbacks = &cb,
        };
        struct libfsverity_digest *d = NULL;
        int r;

        pthread_once(&once, install_error_callback);
        memset(out, 0, sizeof(*out));
        libfsverity_msg[0] = 0;
        r = libfsverity_compute_digest(ctx, read, &mp, &d);
        if (r < 0) {
                verity_meta_free(out);
                /* otherwise the read function failed and said why */
                if (libfsverity_msg[0])
                        return imgerr(r, "fs-verity: %s", libfsverity_msg);
                return r;
        }
        if (d->digest_size != VERITY_DIGEST_SIZE) {
                free(d);
                verity_meta_free(out);
                return imgerr(-EINVAL, "fs-verity: unexpected digest size");
        }
        memcpy(out->digest, d->digest, VERITY_DIGEST_SIZE);
        free(d);
        return 0;
}

struct membuf {
        const uint8_t *p;
        uint64_t left;
};

static int read_mem(void *ctx, void *buf, size_t count)
{
        struct membuf *m = ctx;
        if (count > m->left)
                return -EIO;
        memcpy(buf, m->p, count);
        m->p += count;
        m->left -= count;
        return 0;
}

int verity_compute_buf(const struct verity_params *p, const void *data, uint64_t size,
                       struct verity_meta *out)
{
        struct membuf m = { data, size };
        return verity_compute(p, size, read_mem, &m, out);
}

void verity_meta_free(struct verity_meta *m)
{
        if (!m)
                return;
        free(m->tree);
        free(m->sig);
        m->tree = m->sig = NULL;
        m->tree_size = 0;
        m->sig_len = 0;
}

int verity_params_parse_salt(struct verity_params *p, const char *hex)
{
        _cleanup_free_ uint8_t *bytes = NULL;
        size_t n = 0;

        p->salt_len = 0;
        if (!hex || !*hex)
                return 0;
        if (hex_decode(hex, &bytes, &n) < 0 || n == 0 || n > VERITY_MAX_SALT)
                return imgerr(-EINVAL, "salt '%s': expected 1 to %u bytes in hex", hex, VERITY_MAX_SALT);
        memcpy(p->salt, bytes, n);
        p->salt_len = n;
        return 0;
}

/* ---- descriptors ---------------------------------------------------------------- */

int verity_desc_parse(const uint8_t *d, size_t len, struct verity_desc_info *out)
{
        uint64_t size;
        uint32_t sig;

        if (len < VERITY_DESC_SIZE)
                return imgerr(-EBADMSG, "descriptor of %zu bytes is too short", len);
        if (d[0] != 1)
                return imgerr(-EBADMSG, "descriptor version %u (expected 1)", d[0]);
        if (d[1] != FS_VERITY_HASH_ALG_SHA256)
                return imgerr(-EBADMSG, "descriptor hash algorithm %u (only SHA-256 is checked)", d[1]);
        if (d[2] != 12)
                return imgerr(-EBADMSG, "descriptor block size 2^%u (only 4096 is checked)", d[2]);
        if (d[3] > VERITY_MAX_SALT)
                return imgerr(-EBADMSG, "descriptor salt of %u bytes", d[3]);
        memcpy(&sig, d + 4, 4);
        memcpy(&size, d + 8, 8);
        out->sig_size = le32toh(sig);
        out->data_size = le64toh(size);
        out->log_blocksize = d[2];
        memcpy(out->root_hash, d + 16, VERITY_DIGEST_SIZE);
        out->salt_len = d[3];
        memcpy(out->salt, d + 80, VERITY_MAX_SALT);
        if (out->sig_size > len - VERITY_DESC_SIZE)
                return imgerr(-EBADMSG, "descriptor says %u signature bytes, %zu follow", out->sig_size,
                              len - VERITY_DESC_SIZE);
        return 0;
}

int verity_desc_digest(const uint8_t *desc, uint8_t digest[VERITY_DIGEST_SIZE])
{
        uint8_t copy[VERITY_DESC_SIZE];
        unsigned int len;

        memcpy(copy, desc, sizeof(copy));
        memset(copy + 4, 0, 4);   /* the kernel hashes it with sig_size 0 */
        if (!EVP_Digest(copy, sizeof(copy), digest, &len, EVP_sha256(), NULL))
                return imgerr(-EIO, "sha256 failed");
        return 0;
}

/* The leaf level (hashes of the data blocks) is the last level of the
 * stored layout, which goes from the root down. */
static uint64_t leaf_level_blocks(uint64_t file_size)
{
        uint64_t data = (file_size + VERITY_BLOCK - 1) / VERITY_BLOCK;
        return data > 1 ? (data + VERITY_BLOCK / VERITY_DIGEST_SIZE - 1) / (VERITY_BLOCK / VERITY_DIGEST_SIZE) : 0;
}

enum verity_verdict verity_check(const uint8_t *stored_desc, const uint8_t *stored_tree,
                                 uint64_t stored_tree_size, const struct verity_meta *computed,
                                 uint64_t file_size, uint64_t *block, char *msg, size_t msg_len)
{
        uint64_t stored_size, leaves = leaf_level_blocks(file_size), data_blocks;
        uint8_t a[VERITY_DESC_SIZE], b[VERITY_DESC_SIZE];

        *block = 0;
        memcpy(&stored_size, stored_desc + 8, 8);
        stored_size = le64toh(stored_size);
        if (stored_size != file_size) {
                snprintf(msg, msg_len, "fs-verity descriptor is for %llu bytes, the file has %llu",
                         (unsigned long long)stored_size, (unsigned long long)file_size);
                return VERITY_BAD_SIZE;
        }
        data_blocks = (file_size + VERITY_BLOCK - 1) / VERITY_BLOCK;
        /* the first data block whose hash is not the stored leaf */
        if (leaves && stored_tree_size == computed->tree_size) {
                const uint8_t *s = stored_tree + stored_tree_size - leaves * VERITY_BLOCK;
                const uint8_t *c = computed->tree + computed->tree_size - leaves * VERITY_BLOCK;
                for (uint64_t i = 0; i < data_blocks; i++)
                        if (memcmp(s + i * VERITY_DIGEST_SIZE, c + i * VERITY_DIGEST_SIZE, VERITY_DIGEST_SIZE)) {
                                *block = i;
                                snprintf(msg, msg_len, "data block %llu (offset %llu) does not match its fs-verity hash",
                                         (unsigned long long)i, (unsigned long long)i * VERITY_BLOCK);
                                return VERITY_BAD_BLOCK;
                        }
        } else if (!leaves && memcmp(stored_desc + 16, computed->desc + 16, VERITY_DIGEST_SIZE)) {
                /* one block or none: the root hash is that block's hash */
                snprintf(msg, msg_len, "data block 0 (offset 0) does not match its fs-verity hash");
                return VERITY_BAD_BLOCK;
        }
        memcpy(a, stored_desc, sizeof(a));
        memcpy(b, computed->desc, sizeof(b));
        memset(a + 4, 0, 4);
        memset(b + 4, 0, 4);
        if (stored_tree_size != computed->tree_size ||
            (stored_tree_size && memcmp(stored_tree, computed->tree, stored_tree_size)) || memcmp(a, b, sizeof(a))) {
                snprintf(msg, msg_len, "fs-verity Merkle tree or descriptor damaged (the data blocks match their leaves)");
                return VERITY_BAD_TREE;
        }
        return VERITY_OK;
}

/* ---- IMA v3 ----------------------------------------------------------------------- */

int verity_ima_file_id_hash(const uint8_t digest[VERITY_DIGEST_SIZE], uint8_t out[32])
{
        uint8_t id[2 + VERITY_DIGEST_SIZE] = { IMA_VERITY_DIGSIG, IMA_HASH_SHA256 };
        unsigned int len;

        memcpy(id + 2, digest, VERITY_DIGEST_SIZE);
        if (!EVP_Digest(id, sizeof(id), out, &len, EVP_sha256(), NULL))
                return imgerr(-EIO, "sha256 failed");
        return 0;
}

int verity_ima_sign_many(const struct ima_key *k, const uint8_t *const digests[], size_t n,
                         uint8_t *vals[], size_t val_lens[])
{
        uint8_t (*ids)[32] = calloc(n ? n : 1, 32);
        const uint8_t **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
        int r = 0;

        if (!ids || !ptrs) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = verity_ima_file_id_hash(digests[i], ids[i]);
                ptrs[i] = ids[i];
        }
        if (r >= 0)
                r = ima_key_sign_digests(k, IMA_HASH_SHA256, ptrs, n, vals, val_lens);
        /* a v2 value over the file id hash is a v3 value but for its header */
        for (size_t i = 0; r >= 0 && i < n; i++) {
                vals[i][0] = IMA_VERITY_DIGSIG;
                vals[i][1] = 3;
        }
out:
        free(ids);
        free(ptrs);
        return r;
}

int verity_ima_sign(const struct ima_key *k, const uint8_t digest[VERITY_DIGEST_SIZE],
                    uint8_t **val, size_t *val_len)
{
        return verity_ima_sign_many(k, &digest, 1, val, val_len);
}

enum imasig_status verity_ima_verify(const struct ima_trust *t, const uint8_t *val, size_t len,
                                     const uint8_t digest[VERITY_DIGEST_SIZE], uint32_t *keyid)
{
        _cleanup_free_ uint8_t *v2 = NULL;
        struct imasig parsed;
        uint8_t id[32];
        enum imasig_status st;

        if (!val)
                return IMASIG_NONE;
        if (len < 9 || val[0] != IMA_VERITY_DIGSIG)
                return len && (val[0] == IMA_XATTR_DIGEST_NG || val[0] == IMA_XATTR_DIGEST)
                               ? IMASIG_HASH_ONLY : IMASIG_UNSUPPORTED;
        if (val[1] != 3 || val[2] != IMA_HASH_SHA256)
                return IMASIG_MALFORMED;
        v2 = malloc(len);
        if (!v2 || verity_ima_file_id_hash(digest, id) < 0)
                return IMASIG_MALFORMED;
        memcpy(v2, val, len);
        v2[0] = EVM_IMA_XATTR_DIGSIG;
        v2[1] = 2;
        st = ima_trust_verify_digest(t, v2, len, id, sizeof(id), &parsed);
        if (keyid)
                *keyid = parsed.keyid;
        return st;
}

/* ---- PKCS#7 ---------------------------------------------------------------------- */

struct verity_signer {
        const struct ima_key *key;
        X509 *cert;
};

int verity_signer_new(const struct ima_key *k, const char *cert_path, struct verity_signer **out)
{
        struct verity_signer *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        s->key = k;
        r = cert_read_one(cert_path, &s->cert);
        if (r < 0) {
                free(s);
                return r;
        }
        *out = s;
        return 0;
}

void verity_signer_free(struct verity_signer *s)
{
        if (!s)
                return;
        X509_free(s->cert);
        free(s);
}

void verity_formatted_digest(const uint8_t digest[VERITY_DIGEST_SIZE], uint8_t out[VERITY_FORMATTED_SIZE])
{
        memcpy(out, "FSVerity", 8);
        out[8] = FS_VERITY_HASH_ALG_SHA256;
        out[9] = 0;
        out[10] = VERITY_DIGEST_SIZE;
        out[11] = 0;
        memcpy(out + 12, digest, VERITY_DIGEST_SIZE);
}

int verity_pkcs7_finish(PKCS7 *p7, PKCS7_SIGNER_INFO *si, const uint8_t *val, size_t val_len, uint8_t **der,
                        size_t *der_len)
{
        unsigned char *out = NULL;
        int n;

        /* the v2 value is 03 02 algo keyid[4] len[2] signature */
        if (val_len <= 9 || !ASN1_STRING_set(si->enc_digest, val + 9, (int)(val_len - 9)))
                return imgerr_openssl(-EINVAL, "PKCS#7 signature");
        n = i2d_PKCS7(p7, &out);
        if (n <= 0)
                return imgerr_openssl(-EINVAL, "PKCS#7 encoding");
        *der = malloc((size_t)n);
        if (!*der) {
                OPENSSL_free(out);
                return -ENOMEM;
        }
        memcpy(*der, out, (size_t)n);
        *der_len = (size_t)n;
        OPENSSL_free(out);
        return 0;
}

/* SignedData with one SignerInfo and no signed attributes, as
 * `PKCS7_sign(..., PKCS7_BINARY | PKCS7_DETACHED | PKCS7_NOATTR |
 * PKCS7_NOCERTS)` builds it (fsverity-utils, IPE's documented openssl
 * smime call), around a signature made by imgtool's signer: the algorithm
 * fields are set from the certificate's public key, so no private key is
 * handled here.  val is imasig's v2 value over sha256(data). */
static int build_pkcs7(const struct verity_signer *s, const void *data, size_t len, bool detached,
                       const uint8_t *val, size_t val_len, uint8_t **der, size_t *der_len)
{
        PKCS7 *p7 = PKCS7_new();
        PKCS7_SIGNER_INFO *si;
        int r;

        if (!p7)
                return -ENOMEM;
        if (!PKCS7_set_type(p7, NID_pkcs7_signed) || !PKCS7_content_new(p7, NID_pkcs7_data)) {
                r = imgerr_openssl(-EINVAL, "PKCS#7");
                goto out;
        }
        si = PKCS7_add_signature(p7, s->cert, X509_get0_pubkey(s->cert), EVP_sha256());
        if (!si) {
                r = imgerr_openssl(-EINVAL, "PKCS#7 signer");
                goto out;
        }
        if (detached) {
                PKCS7_set_detached(p7, 1);
        } else {
                ASN1_OCTET_STRING *os = p7->d.sign->contents->d.data;
                if (!os) {
                        os = ASN1_OCTET_STRING_new();
                        p7->d.sign->contents->d.data = os;
                }
                if (!os || !ASN1_OCTET_STRING_set(os, data, (int)len)) {
                        r = imgerr_openssl(-EINVAL, "PKCS#7 content");
                        goto out;
                }
        }
        r = verity_pkcs7_finish(p7, si, val, val_len, der, der_len);
out:
        PKCS7_free(p7);
        return r;
}

int verity_pkcs7_sign_data(const struct verity_signer *s, const void *data, size_t len,
                           bool detached, uint8_t **der, size_t *der_len)
{
        _cleanup_free_ uint8_t *val = NULL;
        uint8_t md[32];
        unsigned int mdlen;
        size_t val_len = 0;
        int r;

        if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
                return imgerr_openssl(-EINVAL, "sha256");
        r = ima_key_sign_digest(s->key, IMA_HASH_SHA256, md, mdlen, &val, &val_len);
        if (r < 0)
                return r;
        return build_pkcs7(s, data, len, detached, val, val_len, der, der_len);
}

int verity_builtin_sign(const struct verity_signer *s, const uint8_t digest[VERITY_DIGEST_SIZE],
                        uint8_t **der, size_t *der_len)
{
        return verity_builtin_sign_many(s, &digest, 1, der, der_len);
}

int verity_builtin_sign_many(const struct verity_signer *s, const uint8_t *const digests[], size_t n,
                             uint8_t *ders[], size_t der_lens[])
{
        uint8_t (*fmt)[VERITY_FORMATTED_SIZE] = calloc(n ? n : 1, VERITY_FORMATTED_SIZE);
        uint8_t (*md)[32] = calloc(n ? n : 1, 32);
        const uint8_t **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
        uint8_t **vals = calloc(n ? n : 1, sizeof(*vals));
        size_t *lens = calloc(n ? n : 1, sizeof(*lens));
        unsigned int mdlen;
        int r = 0;

        for (size_t i = 0; i < n; i++)
                ders[i] = NULL;
        if (!fmt || !md || !ptrs || !vals || !lens) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                verity_formatted_digest(digests[i], fmt[i]);
                if (!EVP_Digest(fmt[i], VERITY_FORMATTED_SIZE, md[i], &mdlen, EVP_sha256(), NULL)) {
                        r = imgerr_openssl(-EINVAL, "sha256");
                        goto out;
                }
                ptrs[i] = md[i];
        }
        /* one batch: ECDSA shares its inversions (imasig) */
        r = ima_key_sign_digests(s->key, IMA_HASH_SHA256, ptrs, n, vals, lens);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = build_pkcs7(s, fmt[i], VERITY_FORMATTED_SIZE, true, vals[i], lens[i], &ders[i], &der_lens[i]);
        if (r < 0)
                for (size_t i = 0; i < n; i++) {
                        free(ders[i]);
                        ders[i] = NULL;
                }
out:
        for (size_t i = 0; vals && i < n; i++)
                free(vals[i]);
        free(fmt);
        free(md);
        free(ptrs);
        free(vals);
        free(lens);
        return r;
}

int verity_builtin_verify(const uint8_t *der, size_t der_len,
                          const uint8_t digest[VERITY_DIGEST_SIZE], char *const *cert_files)
{
        const unsigned char *p = der;
        PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)der_len);
        STACK_OF(X509) *certs = sk_X509_new_null();
        X509_STORE *store = X509_STORE_new();
        uint8_t fmt[VERITY_FORMATTED_SIZE];
        BIO *in = NULL;
        int r = 0;

        if (!p7 || p != der + der_len || !PKCS7_type_is_signed(p7)) {
                r = imgerr(-EKEYREJECTED, "not a PKCS#7 signature");
                goto out;
        }
        if (!certs || !store) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; cert_files && cert_files[i]; i++) {
                X509 **xs = NULL;
                r = certs_read_file(cert_files[i], &xs);
                if (r < 0)
                        goto out;
                for (size_t k = 0; xs[k]; k++)
                        if (X509_up_ref(xs[k]))
                                sk_X509_push(certs, xs[k]);
                certs_free(xs);
                r = 0;
        }
        verity_formatted_digest(digest, fmt);
        in = BIO_new_mem_buf(fmt, sizeof(fmt));
        if (!in || PKCS7_verify(p7, certs, store, in, NULL,
                                PKCS7_BINARY | PKCS7_NOINTERN | PKCS7_NOVERIFY | PKCS7_NOCHAIN) != 1) {
                ERR_clear_error();
                r = imgerr(-EKEYREJECTED, "PKCS#7 signature does not verify with a trusted certificate");
        }
out:
        BIO_free(in);
        sk_X509_pop_free(certs, X509_free);
        X509_STORE_free(store);
        PKCS7_free(p7);
        return r;
}
