/* The two-phase signing request and response (sigreq.h). */
#include "ima/sigreq.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base/output.h"
#include "base/util.h"
#include "ima/certs.h"
#include "ima/keyref.h"

#define REQUEST_MAGIC "imgtool-signing-request"
#define RESPONSE_MAGIC "imgtool-signing-response"
#define SIGREQ_MAX (1u << 30)   /* a million files' digests and signatures fit easily */
/* The placeholder's signature bytes start with this (never the start of a
 * DER ECDSA signature, 0x30, nor likely of an RSA one), then the entry id. */
static const uint8_t PLACEHOLDER_MAGIC[8] = { 'i', 'm', 'g', 't', 'D', 'E', 'F', 0 };
#define PLACEHOLDER_SIG_MIN (sizeof(PLACEHOLDER_MAGIC) + 32)
#define DIGSIG_HDR 9

int sigreq_new(struct sigreq **out)
{
        struct sigreq *q = calloc(1, sizeof(*q));
        pthread_mutex_t *m = malloc(sizeof(*m));

        if (!q || !m) {
                free(q);
                free(m);
                return -ENOMEM;
        }
        pthread_mutex_init(m, NULL);
        q->lock = m;
        *out = q;
        return 0;
}

void sigreq_free(struct sigreq *q)
{
        if (!q)
                return;
        for (size_t i = 0; i < q->n; i++)
                free(q->e[i].value);
        free(q->e);
        free(q->by_id);
        free(q->cert);
        free(q->sb_cert);
        if (q->lock)
                pthread_mutex_destroy(q->lock);
        free(q->lock);
        free(q);
}

/* ---- entries ---------------------------------------------------------------- */

static void entry_id(int role, int algo, const uint8_t *digest, size_t len, uint8_t id[32])
{
        static const char tag[] = "imgtool deferred signature 1";
        uint8_t a = (uint8_t)(algo | role << 7);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        /* SHA-256 of public data: no secret, nothing to keep constant-time */
        if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) || !EVP_DigestUpdate(ctx, tag, sizeof(tag)) ||
            !EVP_DigestUpdate(ctx, &a, 1) || !EVP_DigestUpdate(ctx, digest, len) ||
            !EVP_DigestFinal_ex(ctx, id, NULL))
                memset(id, 0, 32);
        EVP_MD_CTX_free(ctx);
}

static int entry_cmp(const void *a, const void *b)
{
        const struct sigreq_entry *x = a, *y = b;

        if (x->role != y->role)
                return x->role < y->role ? -1 : 1;
        if (x->algo != y->algo)
                return x->algo < y->algo ? -1 : 1;
        return memcmp(x->digest, y->digest, ima_hash_size(x->algo));
}

static int entry_add(struct sigreq *q, int role, int algo, const uint8_t *digest, size_t len)
{
        struct sigreq_entry *e;

        if (q->n == q->cap) {
                size_t cap = q->cap ? 2 * q->cap : 256;
                e = realloc(q->e, cap * sizeof(*e));
                if (!e)
                        return -ENOMEM;
                q->e = e;
                q->cap = cap;
        }
        e = &q->e[q->n++];
        memset(e, 0, sizeof(*e));
        e->role = (uint8_t)role;
        e->algo = (uint8_t)algo;
        memcpy(e->digest, digest, len);
        entry_id(role, algo, digest, len, e->id);
        return 0;
}

/* Sorted by (algo, digest), each once: the same image gives the same
 * request whatever order its files were signed in. */
static void entries_normalize(struct sigreq *q)
{
        size_t w = 0;

        qsort(q->e, q->n, sizeof(*q->e), entry_cmp);
        for (size_t i = 0; i < q->n; i++) {
                if (w && !entry_cmp(&q->e[w - 1], &q->e[i])) {
                        free(q->e[i].value);
                        continue;
                }
                q->e[w++] = q->e[i];
        }
        q->n = w;
}

static int defer(struct sigreq *q, int role, int algo, const uint8_t *digest, size_t len, uint8_t *sig,
                 size_t sig_len)
{
        int r;

        if (len != ima_hash_size(algo))
                return imgerr(-EINVAL, "deferred signature: a %zu-byte digest for %s", len,
                              ima_hash_name(algo) ? ima_hash_name(algo) : "an unknown hash");
        if (sig_len < PLACEHOLDER_SIG_MIN)
                return imgerr(-EINVAL, "deferred signature: a %zu-byte signature leaves no room for the placeholder",
                              sig_len);
        pthread_mutex_lock(q->lock);
        r = entry_add(q, role, algo, digest, len);
        pthread_mutex_unlock(q->lock);
        if (r < 0)
                return r;
        memset(sig, 0, sig_len);
        memcpy(sig, PLACEHOLDER_MAGIC, sizeof(PLACEHOLDER_MAGIC));
        entry_id(role, algo, digest, len, sig + sizeof(PLACEHOLDER_MAGIC));
        return 0;
}

int sigreq_defer(void *ctx, int algo, const uint8_t *digest, size_t len, uint8_t *sig, size_t sig_len)
{
        return defer(ctx, SIGREQ_IMA, algo, digest, len, sig, sig_len);
}

int sigreq_defer_authenticode(struct sigreq *q, const uint8_t digest[32], uint8_t *sig, size_t sig_len)
{
        return defer(q, SIGREQ_AUTHENTICODE, IMA_HASH_SHA256, digest, 32, sig, sig_len);
}

bool sigreq_raw_placeholder_id(const uint8_t *sig, size_t len, const uint8_t **id)
{
        if (len < PLACEHOLDER_SIG_MIN || memcmp(sig, PLACEHOLDER_MAGIC, sizeof(PLACEHOLDER_MAGIC)))
                return false;
        *id = sig + sizeof(PLACEHOLDER_MAGIC);
        return true;
}

const uint8_t *sigreq_placeholder_magic(size_t *len)
{
        *len = sizeof(PLACEHOLDER_MAGIC);
        return PLACEHOLDER_MAGIC;
}

bool sigreq_placeholder_id(const uint8_t *val, size_t len, const uint8_t **id)
{
        if (len < DIGSIG_HDR + PLACEHOLDER_SIG_MIN || val[0] != EVM_IMA_XATTR_DIGSIG || val[1] != 2 ||
            memcmp(val + DIGSIG_HDR, PLACEHOLDER_MAGIC, sizeof(PLACEHOLDER_MAGIC)))
                return false;
        *id = val + DIGSIG_HDR + sizeof(PLACEHOLDER_MAGIC);
        return true;
}

static int by_id_cmp(const void *a, const void *b)
{
        return memcmp((*(struct sigreq_entry *const *)a)->id, (*(struct sigreq_entry *const *)b)->id, 32);
}

static int find_cmp(const void *key, const void *elem)
{
        return memcmp(key, (*(struct sigreq_entry *const *)elem)->id, 32);
}

/* Entries are sorted by digest (what the signer reads), lookups go by id:
 * an index sorted by id, so a big image costs n log n, not n^2. */
static int index_ids(struct sigreq *q)
{
        free(q->by_id);
        q->by_id = malloc((q->n ? q->n : 1) * sizeof(*q->by_id));
        if (!q->by_id)
                return -ENOMEM;
        for (size_t i = 0; i < q->n; i++)
                q->by_id[i] = &q->e[i];
        qsort(q->by_id, q->n, sizeof(*q->by_id), by_id_cmp);
        return 0;
}

const struct sigreq_entry *sigreq_find(const struct sigreq *q, const uint8_t id[32])
{
        struct sigreq_entry *const *hit;

        if (!q->by_id)
                return NULL;
        hit = bsearch(id, q->by_id, q->n, sizeof(*q->by_id), find_cmp);
        return hit ? *hit : NULL;
}

/* ---- writing ---------------------------------------------------------------- */

static void put_hex(FILE *f, const uint8_t *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%02x", b[i]);
}

static int sha256(const void *data, size_t len, uint8_t out[32])
{
        return EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) ? 0 : -EIO;
}

static const char *entry_keyword(int role, bool response)
{
        if (role == SIGREQ_AUTHENTICODE)
                return response ? "authenticode-signature" : "authenticode";
        return response ? "signature" : "digest";
}

int sigreq_write(const struct sigreq *q, const char *path, unsigned flags, const char *const *inputs)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = sigreq_format(q, &buf, &len);

        if (r >= 0)
                r = output_write_file(path, flags, 0644, inputs, buf, len);
        return r;
}

int sigreq_format(const struct sigreq *q, char **out, size_t *out_len)
{
        char *buf = NULL;
        size_t len = 0;
        uint8_t sum[32];
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -ENOMEM;
        if (q->is_response) {
                fprintf(f, "%s %d\nrequest-sha256 ", RESPONSE_MAGIC, SIGREQ_VERSION);
                put_hex(f, q->request_sha256, 32);
                fputs("\n", f);
        } else {
                fprintf(f, "%s %d\n", REQUEST_MAGIC, SIGREQ_VERSION);
        }
        fputs("image-sha256 ", f);
        put_hex(f, q->image_sha256, 32);
        fprintf(f, "\nimage-size %" PRIu64 "\ncertificate ", q->image_size);
        put_hex(f, q->cert, q->cert_len);
        fputs("\n", f);
        if (q->sb_cert) {
                fputs("secureboot-certificate ", f);
                put_hex(f, q->sb_cert, q->sb_cert_len);
                fputs("\n", f);
        }
        for (size_t i = 0; i < q->n; i++) {
                const struct sigreq_entry *e = &q->e[i];
                fprintf(f, "%s %s ", entry_keyword(e->role, q->is_response), ima_hash_name(e->algo));
                put_hex(f, e->digest, ima_hash_size(e->algo));
                if (q->is_response) {
                        fputs(" ", f);
                        put_hex(f, e->value, e->value_len);
                }
                fputs("\n", f);
        }
        if (fflush(f) || sha256(buf, len, sum) < 0) {
                fclose(f);
                free(buf);
                return -ENOMEM;
        }
        fprintf(f, "end %zu ", q->n);
        put_hex(f, sum, 32);
        fputs("\n", f);
        if (fclose(f)) {
                free(buf);
                return -ENOMEM;
        }
        *out = buf;
        *out_len = len;
        return 0;
}

/* ---- reading ---------------------------------------------------------------- */

struct reader {
        const char *path;
        char *p, *end;
        unsigned line;
        const char *last;       /* where the last line starts */
        uint8_t body_sum[32];   /* SHA-256 of every byte before it, taken before parsing */
};

/* The next line, NUL-terminated in place; NULL at the end of the data. */
static char *next_line(struct reader *rd)
{
        char *l = rd->p, *nl;

        if (rd->p >= rd->end)
                return NULL;
        nl = memchr(rd->p, '\n', (size_t)(rd->end - rd->p));
        if (!nl)
                return NULL;   /* a last line without its newline: truncated */
        *nl = 0;
        rd->p = nl + 1;
        rd->line++;
        return l;
}

static int bad(const struct reader *rd, const char *what)
{
        return imgerr(-EBADMSG, "%s: line %u: %s", rd->path, rd->line, what);
}

/* "KEY HEX" with exactly N bytes (N 0: any length, malloc'ed into *out). */
static int field_hex(struct reader *rd, char *l, const char *key, uint8_t *fixed, size_t n, uint8_t **out,
                     size_t *out_len)
{
        size_t kl = strlen(key);
        _cleanup_free_ uint8_t *b = NULL;
        size_t len;

        if (!l || strncmp(l, key, kl) || l[kl] != ' ')
                return imgerr(-EBADMSG, "%s: line %u: expected \"%s\"", rd->path, rd->line + !l, key);
        if (hex_decode(l + kl + 1, &b, &len) < 0 || !len || (n && len != n))
                return bad(rd, "not the hex value expected");
        if (fixed)
                memcpy(fixed, b, len);
        else {
                *out = b;
                b = NULL;
                *out_len = len;
        }
        return 0;
}

static int algo_by_name(const char *name, size_t n)
{
        for (int a = 1; a <= IMA_HASH_SHA224; a++)
                if (ima_hash_name(a) && strlen(ima_hash_name(a)) == n && !strncmp(ima_hash_name(a), name, n))
                        return a;
        return -1;
}

/* "digest ALGO HEX" or "signature ALGO HEX VALUE" */
static int parse_entry(struct sigreq *q, struct reader *rd, char *l)
{
        char *algo_s = strchr(l, ' '), *hex, *val;
        _cleanup_free_ uint8_t *d = NULL;
        size_t dlen;
        int algo, role;

        if (!algo_s)
                return bad(rd, "expected a digest or the end line");
        *algo_s++ = 0;
        if (!strcmp(l, entry_keyword(SIGREQ_IMA, q->is_response)))
                role = SIGREQ_IMA;
        else if (!strcmp(l, entry_keyword(SIGREQ_AUTHENTICODE, q->is_response)) && q->sb_cert)
                role = SIGREQ_AUTHENTICODE;
        else
                return bad(rd, "expected a digest or the end line");
        hex = strchr(algo_s, ' ');
        if (!hex || (algo = algo_by_name(algo_s, (size_t)(hex - algo_s))) < 0)
                return bad(rd, "unknown hash algorithm");
        *hex++ = 0;
        val = strchr(hex, ' ');
        if (q->is_response != (val != NULL))
                return bad(rd, q->is_response ? "a digest without its signature" : "unexpected field");
        if (val)
                *val++ = 0;
        if (hex_decode(hex, &d, &dlen) < 0 || dlen != ima_hash_size(algo))
                return bad(rd, "not a digest of its hash algorithm");
        if (role == SIGREQ_AUTHENTICODE && algo != IMA_HASH_SHA256)
                return bad(rd, "Authenticode digests are SHA-256");
        if (entry_add(q, role, algo, d, dlen) < 0)
                return -ENOMEM;
        if (val && (hex_decode(val, &q->e[q->n - 1].value, &q->e[q->n - 1].value_len) < 0 ||
                    !q->e[q->n - 1].value_len))
                return bad(rd, "the signature is not hex");
        if (q->n > 1 && entry_cmp(&q->e[q->n - 2], &q->e[q->n - 1]) >= 0)
                return bad(rd, "digests out of order or repeated");
        return 0;
}

static int parse_end(struct sigreq *q, struct reader *rd, char *l)
{
        _cleanup_free_ uint8_t *want = NULL;
        size_t wl;
        char *sp;
        unsigned long long count;

        if (l != rd->last)
                return imgerr(-EBADMSG, "%s: data after the end line", rd->path);
        count = strtoull(l + 4, &sp, 10);
        if (*sp != ' ' || hex_decode(sp + 1, &want, &wl) < 0 || wl != 32)
                return bad(rd, "a malformed end line");
        if (count != q->n || memcmp(rd->body_sum, want, 32))
                return imgerr(-EBADMSG, "%s: altered or truncated: its end line does not match its contents",
                              rd->path);
        return 0;
}

static int parse(struct sigreq *q, struct reader *rd, bool want_response)
{
        const char *magic = want_response ? RESPONSE_MAGIC : REQUEST_MAGIC;
        const char *other = want_response ? REQUEST_MAGIC : RESPONSE_MAGIC;
        char *l = next_line(rd);
        unsigned version;
        size_t ml = strlen(magic);
        int r;

        if (!l || strncmp(l, magic, ml) || l[ml] != ' ') {
                if (l && !strncmp(l, other, strlen(other)))
                        return imgerr(-EINVAL, "%s: a signing %s, not a %s", rd->path,
                                      want_response ? "request" : "response", want_response ? "response" : "request");
                return imgerr(-EBADMSG, "%s: not an imgtool signing %s", rd->path,
                              want_response ? "response" : "request");
        }
        version = (unsigned)strtoul(l + ml + 1, NULL, 10);
        if (version != SIGREQ_VERSION)
                return imgerr(-EOPNOTSUPP, "%s: version %u (this imgtool reads version %d)", rd->path, version,
                              SIGREQ_VERSION);
        q->is_response = want_response;
        if (want_response && (r = field_hex(rd, next_line(rd), "request-sha256", q->request_sha256, 32, NULL, NULL)) < 0)
                return r;
        if ((r = field_hex(rd, next_line(rd), "image-sha256", q->image_sha256, 32, NULL, NULL)) < 0)
                return r;
        l = next_line(rd);
        if (!l || sscanf(l, "image-size %" SCNu64, &q->image_size) != 1)
                return bad(rd, "expected \"image-size\"");
        if ((r = field_hex(rd, next_line(rd), "certificate", NULL, 0, &q->cert, &q->cert_len)) < 0)
                return r;
        l = next_line(rd);
        if (l && !strncmp(l, "secureboot-certificate ", 23)) {
                if ((r = field_hex(rd, l, "secureboot-certificate", NULL, 0, &q->sb_cert, &q->sb_cert_len)) < 0)
                        return r;
                l = next_line(rd);
        }
        for (; l; l = next_line(rd)) {
                if (!strncmp(l, "end ", 4))
                        return parse_end(q, rd, l);
                r = parse_entry(q, rd, l);
                if (r < 0)
                        return r;
        }
        return imgerr(-EBADMSG, "%s: truncated (no end line)", rd->path);
}

int sigreq_read(const char *path, bool want_response, struct sigreq **out)
{
        _cleanup_free_ uint8_t *data = NULL;
        size_t len;
        struct sigreq *q;
        int r;

        r = read_file_max(path, SIGREQ_MAX, "signing requests", &data, &len);
        if (r < 0)
                return r;
        if (memchr(data, 0, len))
                return imgerr(-EBADMSG, "%s: not an imgtool signing %s (binary data)", path,
                              want_response ? "response" : "request");
        r = sigreq_new(&q);
        if (r < 0)
                return r;
        struct reader rd = { .path = path, .p = (char *)data, .end = (char *)data + len, .last = NULL };
        /* the checksum covers the bytes as they are in the file: taken
         * before parsing puts NULs in them */
        if (len && data[len - 1] == '\n') {
                const uint8_t *nl = len > 1 ? memrchr(data, '\n', len - 1) : NULL;
                rd.last = nl ? (const char *)nl + 1 : (const char *)data;
                r = sha256(data, (size_t)(rd.last - (const char *)data), rd.body_sum);
        }
        if (!want_response)
                r = sha256(data, len, q->request_sha256);
        if (r >= 0)
                r = parse(q, &rd, want_response);
        if (r >= 0)
                r = index_ids(q);
        if (r < 0) {
                sigreq_free(q);
                return r;
        }
        *out = q;
        return 0;
}

/* ---- signing and checking -------------------------------------------------- */

/* The UKI's Authenticode signature: RSA PKCS#1 v1.5 over the SHA-256 of
 * the signed attributes (what PKCS7_SIGNER_INFO_sign computes from them). */
static int sign_authenticode(struct sigreq_entry *e, EVP_PKEY *pkey, struct keyref_hold *hold,
                             const char *name)
{
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(keyref_libctx(hold), pkey, NULL);
        size_t len = (size_t)EVP_PKEY_get_size(pkey);
        uint8_t *sig = malloc(len ? len : 1);
        int r = 0;

        if (!ctx || !sig)
                r = -ENOMEM;
        else if (EVP_PKEY_sign_init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
                 EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) <= 0 ||
                 EVP_PKEY_sign(ctx, sig, &len, e->digest, 32) <= 0)
                r = imgerr(-EIO, "%s: cannot sign the UKI's Authenticode digest", name);
        ERR_clear_error();
        EVP_PKEY_CTX_free(ctx);
        if (r < 0) {
                free(sig);
                return r;
        }
        e->value = sig;
        e->value_len = len;
        return 0;
}

static int check_sb_key(const struct sigreq *q, EVP_PKEY *pkey, const char *name)
{
        const unsigned char *p = q->sb_cert;
        X509 *cert = d2i_X509(NULL, &p, (long)q->sb_cert_len);
        int ok = cert && EVP_PKEY_eq(pkey, X509_get0_pubkey(cert)) == 1;

        X509_free(cert);
        ERR_clear_error();
        return ok ? 0 : imgerr(-EINVAL, "%s: not the key of the request's Secure Boot certificate", name);
}

int sigreq_sign(struct sigreq *q, const struct ima_key *key, const char *key_name, EVP_PKEY *sb_key,
                struct keyref_hold *sb_hold, const char *sb_name)
{
        _cleanup_free_ const uint8_t **digests = calloc(q->n ? q->n : 1, sizeof(*digests));
        _cleanup_free_ uint8_t **vals = calloc(q->n ? q->n : 1, sizeof(*vals));
        _cleanup_free_ size_t *lens = calloc(q->n ? q->n : 1, sizeof(*lens));
        int r;

        if (!digests || !vals || !lens)
                return -ENOMEM;
        if (q->sb_cert && !sb_key)
                return imgerr(-EINVAL, "the request has a UKI to sign: --secure-boot-key is needed");
        if (!q->sb_cert && sb_key)
                return imgerr(-EINVAL, "the request has no UKI to sign: --secure-boot-key is not needed");
        if (sb_key && (r = check_sb_key(q, sb_key, sb_name)) < 0)
                return r;
        /* entries are sorted by role and algo: one batch per algo */
        for (size_t i = 0; i < q->n;) {
                size_t m = 0;
                if (q->e[i].role == SIGREQ_AUTHENTICODE) {
                        r = sign_authenticode(&q->e[i], sb_key, sb_hold, sb_name);
                        if (r < 0)
                                return r;
                        i++;
                        continue;
                }
                while (i + m < q->n && q->e[i + m].role == SIGREQ_IMA && q->e[i + m].algo == q->e[i].algo) {
                        digests[m] = q->e[i + m].digest;
                        m++;
                }
                r = ima_key_sign_digests(key, q->e[i].algo, digests, m, vals, lens);
                if (r < 0)
                        return imgerr_prefix(r, "%s: cannot sign: ", key_name);
                for (size_t k = 0; k < m; k++) {
                        q->e[i + k].value = vals[k];
                        q->e[i + k].value_len = lens[k];
                }
                i += m;
        }
        q->is_response = true;
        return 0;
}

static int verify_authenticode(const struct sigreq *q, const struct sigreq_entry *e, const char *path)
{
        const unsigned char *p = q->sb_cert;
        X509 *cert = d2i_X509(NULL, &p, (long)q->sb_cert_len);
        EVP_PKEY *pub = cert ? X509_get0_pubkey(cert) : NULL;
        EVP_PKEY_CTX *ctx = pub ? EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL) : NULL;
        bool ok = ctx && e->value_len == (size_t)EVP_PKEY_get_size(pub) && EVP_PKEY_verify_init(ctx) > 0 &&
                  EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
                  EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0 &&
                  EVP_PKEY_verify(ctx, e->value, e->value_len, e->digest, 32) == 1;

        EVP_PKEY_CTX_free(ctx);
        X509_free(cert);
        ERR_clear_error();
        return ok ? 0 : imgerr(-EKEYREJECTED, "%s: the UKI's Authenticode signature does not verify with the "
                               "request's Secure Boot certificate", path);
}

int sigreq_verify(const struct sigreq *q, const char *path)
{
        struct ima_trust *t = NULL;
        size_t n = q->n ? q->n : 1;
        _cleanup_free_ const uint8_t **vals = calloc(n, sizeof(*vals));
        _cleanup_free_ const uint8_t **digests = calloc(n, sizeof(*digests));
        _cleanup_free_ size_t *lens = calloc(n, sizeof(*lens)), *dlens = calloc(n, sizeof(*dlens));
        _cleanup_free_ enum imasig_status *st = calloc(n, sizeof(*st));
        int r;

        if (!vals || !digests || !lens || !dlens || !st)
                return -ENOMEM;
        r = ima_trust_new(&t);
        if (r >= 0)
                r = ima_trust_add_der(t, q->cert, q->cert_len, path);
        if (r < 0) {
                ima_trust_free(t);
                return r;
        }
        for (size_t i = 0; i < q->n; i++) {
                vals[i] = q->e[i].value;
                lens[i] = q->e[i].value_len;
                digests[i] = q->e[i].digest;
                dlens[i] = ima_hash_size(q->e[i].algo);
        }
        ima_trust_verify_digests(t, q->n, vals, lens, digests, dlens, st, NULL);
        imgerr_clear();
        for (size_t i = 0; i < q->n && r >= 0; i++) {
                struct imasig s;
                if (q->e[i].role == SIGREQ_AUTHENTICODE) {
                        r = verify_authenticode(q, &q->e[i], path);
                        continue;
                }
                if (st[i] == IMASIG_VALID && imasig_parse(vals[i], lens[i], &s) >= 0 && s.hash_algo == q->e[i].algo)
                        continue;
                char hex[2 * IMA_MAX_DIGEST + 1];
                hex_encode(q->e[i].digest, ima_hash_size(q->e[i].algo), hex);
                r = imgerr(-EKEYREJECTED, "%s: the signature of %s:%s does not verify with the request's "
                           "certificate (%s)", path, ima_hash_name(q->e[i].algo), hex,
                           st[i] == IMASIG_VALID ? "another hash algorithm" : imasig_status_name(st[i]));
        }
        ima_trust_free(t);
        return r;
}

int sigreq_file_sha256(const char *path, uint8_t out[32], uint64_t *size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ uint8_t *buf = malloc(1 << 20);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint64_t total = 0;
        ssize_t n;
        int r = 0;

        if (fd < 0)
                r = imgerr(-errno, "%s: %s", path, strerror(errno));
        else if (!buf || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
                r = -ENOMEM;
        while (r >= 0 && (n = read(fd, buf, 1 << 20)) != 0) {
                if (n < 0) {
                        if (errno != EINTR)
                                r = imgerr(-errno, "%s: %s", path, strerror(errno));
                        continue;
                }
                total += (uint64_t)n;
                if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
                        r = -EIO;
        }
        if (r >= 0 && !EVP_DigestFinal_ex(ctx, out, NULL))
                r = -EIO;
        EVP_MD_CTX_free(ctx);
        if (r >= 0)
                *size = total;
        return r;
}

int sigreq_normalize(struct sigreq *q)
{
        entries_normalize(q);
        return index_ids(q);
}

static int set_cert(uint8_t **out, size_t *out_len, const char *path);

int sigreq_set_cert_file(struct sigreq *q, const char *path)
{
        return set_cert(&q->cert, &q->cert_len, path);
}

int sigreq_set_sb_cert_file(struct sigreq *q, const char *path)
{
        return set_cert(&q->sb_cert, &q->sb_cert_len, path);
}

static int set_cert(uint8_t **out, size_t *out_len, const char *path)
{
        X509 **certs = NULL;
        unsigned char *der = NULL;
        int r = certs_read_file(path, &certs), len;

        if (r < 0)
                return r;
        len = i2d_X509(certs[0], &der);
        certs_free(certs);
        if (len <= 0)
                return imgerr(-EBADMSG, "%s: cannot encode the certificate", path);
        free(*out);
        *out = malloc((size_t)len);
        if (*out)
                memcpy(*out, der, (size_t)len);
        *out_len = (size_t)len;
        OPENSSL_free(der);
        return *out ? 0 : -ENOMEM;
}
