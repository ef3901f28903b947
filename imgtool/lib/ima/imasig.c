/* The security.ima value: parse, format, keyid, sign (RFC 6979 ECDSA, RSA
 * PKCS#1 v1.5), verify against a set of trusted certs.  See imasig.h. */
#include "ima/imasig.h"
#include "ima/certs.h"
#include "ima/ecsign.h"
#include "ima/keyref.h"
#include "ima/pubkey.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/util.h"

#define DIGSIG_HDR_LEN 9 /* type, version, hash_algo, keyid[4], sig_len[2] */

/* ---- hash algorithms ------------------------------------------------ */

struct hash_info {
        int algo;
        const char *name;    /* the kernel's name (crypto/hash_info.c) */
        size_t size;
        const char *evp;     /* OpenSSL's name, NULL if we cannot compute it */
};

/* Every algo of the kernel's enum hash_algo that a 0x04 value may carry, so
 * a hash-only value is never misread even when we cannot compute its hash. */
static const struct hash_info hash_table[] = {
        { 0, "md4", 16, NULL },
        { IMA_HASH_MD5, "md5", 16, "MD5" },
        { IMA_HASH_SHA1, "sha1", 20, "SHA1" },
        { 3, "rmd160", 20, NULL },
        { IMA_HASH_SHA256, "sha256", 32, "SHA256" },
        { IMA_HASH_SHA384, "sha384", 48, "SHA384" },
        { IMA_HASH_SHA512, "sha512", 64, "SHA512" },
        { IMA_HASH_SHA224, "sha224", 28, "SHA224" },
        { 8, "rmd128", 16, NULL },
        { 9, "rmd256", 32, NULL },
        { 10, "rmd320", 40, NULL },
        { 11, "wp256", 32, NULL },
        { 12, "wp384", 48, NULL },
        { 13, "wp512", 64, NULL },
        { 14, "tgr128", 16, NULL },
        { 15, "tgr160", 20, NULL },
        { 16, "tgr192", 24, NULL },
        { 17, "sm3", 32, NULL },
        { 18, "streebog256", 32, NULL },
        { 19, "streebog512", 64, NULL },
        { 20, "sha3-256", 32, NULL },
        { 21, "sha3-384", 48, NULL },
        { 22, "sha3-512", 64, NULL },
};

static const struct hash_info *hash_lookup(int algo)
{
        for (size_t i = 0; i < ARRAY_SIZE(hash_table); i++)
                if (hash_table[i].algo == algo)
                        return &hash_table[i];
        return NULL;
}

/* Only algos we can compute count as known to callers. */
static const struct hash_info *hash_usable(int algo)
{
        const struct hash_info *h = hash_lookup(algo);
        return h && h->evp ? h : NULL;
}

const char *ima_hash_name(int algo)
{
        const struct hash_info *h = hash_usable(algo);
        return h ? h->name : NULL;
}

size_t ima_hash_size(int algo)
{
        const struct hash_info *h = hash_usable(algo);
        return h ? h->size : 0;
}

int ima_hash_from_rpm(int pgp_algo)
{
        switch (pgp_algo) {
        case 1: return IMA_HASH_MD5;
        case 2: return IMA_HASH_SHA1;
        case 8: return IMA_HASH_SHA256;
        case 9: return IMA_HASH_SHA384;
        case 10: return IMA_HASH_SHA512;
        case 11: return IMA_HASH_SHA224;
        }
        return imgerr(-EOPNOTSUPP, "unsupported rpm file digest algorithm %d", pgp_algo);
}

static EVP_MD *md_fetch(int algo)
{
        const struct hash_info *h = hash_usable(algo);
        if (!h) {
                imgerr(-EOPNOTSUPP, "unsupported hash algorithm %d", algo);
                return NULL;
        }
        EVP_MD *md = EVP_MD_fetch(NULL, h->evp, NULL);
        if (!md)
                imgerr(-EOPNOTSUPP, "OpenSSL cannot compute %s", h->name);
        return md;
}

/* ---- hashing -------------------------------------------------------- */

struct ima_hasher {
        EVP_MD *md;
        EVP_MD_CTX *ctx;
};

int ima_hasher_new(int algo, struct ima_hasher **out)
{
        struct ima_hasher *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->md = md_fetch(algo);
        if (!h->md) {
                free(h);
                return -EOPNOTSUPP;
        }
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || !EVP_DigestInit_ex(h->ctx, h->md, NULL)) {
                ima_hasher_free(h);
                return imgerr(-ENOMEM, "cannot set up hashing");
        }
        *out = h;
        return 0;
}

int ima_hasher_update(struct ima_hasher *h, const void *data, size_t len)
{
        if (!EVP_DigestUpdate(h->ctx, data, len))
                return imgerr(-EIO, "hashing failed");
        return 0;
}

int ima_hasher_final(struct ima_hasher *h, uint8_t *digest)
{
        if (!EVP_DigestFinal_ex(h->ctx, digest, NULL))
                return imgerr(-EIO, "hashing failed");
        return ima_hasher_reset(h);
}

int ima_hasher_reset(struct ima_hasher *h)
{
        if (!EVP_DigestInit_ex(h->ctx, h->md, NULL))
                return imgerr(-EIO, "hashing failed");
        return 0;
}

void ima_hasher_free(struct ima_hasher *h)
{
        if (!h)
                return;
        EVP_MD_CTX_free(h->ctx);
        EVP_MD_free(h->md);
        free(h);
}

/* Hashes from the current position to end of file. */
int ima_digest_fd(int algo, int fd, uint8_t *digest)
{
        struct ima_hasher *h;
        static const size_t bufsz = 1 << 16;
        _cleanup_free_ uint8_t *buf = malloc(bufsz);
        int r;

        if (!buf)
                return -ENOMEM;
        r = ima_hasher_new(algo, &h);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t n = read(fd, buf, bufsz);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = imgerr(-errno, "read failed: %s", strerror(errno));
                        break;
                }
                if (n == 0) {
                        r = ima_hasher_final(h, digest);
                        break;
                }
                r = ima_hasher_update(h, buf, (size_t)n);
                if (r < 0)
                        break;
        }
        ima_hasher_free(h);
        return r;
}

/* ---- parsing -------------------------------------------------------- */

const char *imasig_type_name(uint8_t type)
{
        switch (type) {
        case IMA_XATTR_DIGEST: return "sha1 hash only (legacy)";
        case EVM_XATTR_HMAC: return "EVM HMAC";
        case EVM_IMA_XATTR_DIGSIG: return "digital signature";
        case IMA_XATTR_DIGEST_NG: return "hash only";
        case EVM_XATTR_PORTABLE_DIGSIG: return "EVM portable signature";
        case IMA_VERITY_DIGSIG: return "fs-verity signature";
        }
        return "unknown type";
}

static int parse_digest_ng(const uint8_t *val, size_t len, struct imasig *out)
{
        const struct hash_info *h;

        if (len < 2)
                return imgerr(-EBADMSG, "hash-only value too short (%zu bytes)", len);
        out->hash_algo = val[1];
        h = hash_lookup(val[1]);
        if (!h)
                return imgerr(-EBADMSG, "hash-only value with unknown hash algorithm %u", val[1]);
        if (len - 2 != h->size)
                return imgerr(-EBADMSG, "hash-only value: %s digest of %zu bytes, expected %zu",
                              h->name, len - 2, h->size);
        out->digest = val + 2;
        out->digest_len = h->size;
        return 0;
}

static int parse_digest_sha1(const uint8_t *val, size_t len, struct imasig *out)
{
        out->hash_algo = IMA_HASH_SHA1;
        if (len != 1 + 20)
                return imgerr(-EBADMSG, "legacy sha1 value of %zu bytes, expected 21", len);
        out->digest = val + 1;
        out->digest_len = 20;
        return 0;
}

/* 0x03 v2 and 0x06 v3 share the header; the kernel wants sig_len to account
 * for exactly the rest of the value. */
static int parse_sig_header(const uint8_t *val, size_t len, struct imasig *out)
{
        uint32_t keyid;
        uint16_t sig_len;

        if (len < DIGSIG_HDR_LEN)
                return imgerr(-EBADMSG, "%s too short (%zu bytes, header is %d)",
                              imasig_type_name(val[0]), len, DIGSIG_HDR_LEN);
        out->version = val[1];
        out->hash_algo = val[2];
        memcpy(&keyid, val + 3, 4);
        memcpy(&sig_len, val + 7, 2);
        out->keyid = ntohl(keyid);
        if ((size_t)ntohs(sig_len) != len - DIGSIG_HDR_LEN)
                return imgerr(-EBADMSG, "%s length field says %u bytes, value has %zu",
                              imasig_type_name(val[0]), ntohs(sig_len), len - DIGSIG_HDR_LEN);
        if (ntohs(sig_len) == 0)
                return imgerr(-EBADMSG, "%s with an empty signature", imasig_type_name(val[0]));
        out->sig = val + DIGSIG_HDR_LEN;
        out->sig_len = ntohs(sig_len);
        return 0;
}

static int parse_digsig(const uint8_t *val, size_t len, struct imasig *out)
{
        if (len >= 2 && val[1] == 1)
                return imgerr(-EOPNOTSUPP, "digital signature version 1 (RSA digsig v1) is not supported");
        if (len >= 2 && val[1] != 2)
                return imgerr(-EBADMSG, "digital signature with unknown version %u", val[1]);
        int r = parse_sig_header(val, len, out);
        if (r < 0)
                return r;
        if (!hash_lookup(out->hash_algo))
                return imgerr(-EBADMSG, "digital signature with unknown hash algorithm %u",
                              out->hash_algo);
        return 0;
}

int imasig_parse(const uint8_t *val, size_t len, struct imasig *out)
{
        int r;

        memset(out, 0, sizeof(*out));
        if (!val || len == 0)
                return imgerr(-EBADMSG, "empty security.ima value");
        out->type = val[0];
        switch (val[0]) {
        case EVM_IMA_XATTR_DIGSIG:
                return parse_digsig(val, len, out);
        case IMA_XATTR_DIGEST_NG:
                return parse_digest_ng(val, len, out);
        case IMA_XATTR_DIGEST:
                return parse_digest_sha1(val, len, out);
        case IMA_VERITY_DIGSIG:
                /* Fill in what the header says so callers can name the key. */
                r = parse_sig_header(val, len, out);
                if (r < 0)
                        return r;
                return imgerr(-EOPNOTSUPP, "fs-verity signatures are not supported");
        case EVM_XATTR_HMAC:
        case EVM_XATTR_PORTABLE_DIGSIG:
                return imgerr(-EOPNOTSUPP, "%s is not an IMA value", imasig_type_name(val[0]));
        }
        return imgerr(-EBADMSG, "unknown security.ima type 0x%02x", val[0]);
}

static int digsig_format(uint8_t hash_algo, uint32_t keyid, const uint8_t *sig,
                         size_t sig_len, uint8_t **val, size_t *val_len)
{
        uint32_t be_keyid = htonl(keyid);
        uint16_t be_len = htons((uint16_t)sig_len);
        uint8_t *v;

        if (sig_len == 0 || sig_len > UINT16_MAX)
                return imgerr(-EINVAL, "signature of %zu bytes does not fit the header", sig_len);
        v = malloc(DIGSIG_HDR_LEN + sig_len);
        if (!v)
                return -ENOMEM;
        v[0] = EVM_IMA_XATTR_DIGSIG;
        v[1] = 2;
        v[2] = hash_algo;
        memcpy(v + 3, &be_keyid, 4);
        memcpy(v + 7, &be_len, 2);
        memcpy(v + DIGSIG_HDR_LEN, sig, sig_len);
        *val = v;
        *val_len = DIGSIG_HDR_LEN + sig_len;
        return 0;
}

/* ---- keyid ---------------------------------------------------------- */

/* evmctl's calc_keyid_v2: sha1 over the subjectPublicKey BIT STRING
 * contents, last 4 bytes.  For keys made by keygen this equals the SKID
 * tail, because OpenSSL's "hash" SKID is that same sha1. */
static int pubkey_keyid(const X509_PUBKEY *xpk, uint32_t *keyid)
{
        const unsigned char *pk;
        int pklen;
        uint8_t sha1[20];
        uint32_t be;

        if (!X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, (X509_PUBKEY *)xpk))
                return imgerr(-EBADMSG, "cannot read the public key");
        if (!EVP_Digest(pk, (size_t)pklen, sha1, NULL, EVP_sha1(), NULL))
                return imgerr(-EIO, "sha1 failed");
        memcpy(&be, sha1 + 16, 4);
        *keyid = ntohl(be);
        return 0;
}

static int pkey_keyid(EVP_PKEY *pkey, uint32_t *keyid)
{
        X509_PUBKEY *xpk = NULL;
        int r;

        if (!X509_PUBKEY_set(&xpk, pkey))
                return imgerr(-EINVAL, "cannot encode the public key");
        r = pubkey_keyid(xpk, keyid);
        X509_PUBKEY_free(xpk);
        return r;
}

/* The kernel files an X.509 key under three ids (x509_key_preparse):
 * serial+issuer, the subjectKeyIdentifier, and the subject name; IMA finds
 * the key by "id:<keyid>", which matches the last 4 bytes of any of them.
 * With a SKI that is its tail.  Without one, only the names are left: a
 * keyid from the name's last bytes is no key's id (certificates sharing a
 * name ending collide) and evmctl or rpmsign would sign with sha1(key)'s
 * instead, which the kernel never finds.  So such a cert is refused. */
static int x509_keyid(X509 *x, uint32_t *keyid, const char *path)
{
        const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(x);
        uint32_t be;

        if (!skid || ASN1_STRING_length(skid) < 4) {
                ERR_clear_error();
                return imgerr(-EBADMSG,
                              "%s%scertificate without a subjectKeyIdentifier: the kernel cannot find its key by IMA keyid (reissue it with subjectKeyIdentifier=hash)",
                              path ? path : "", path ? ": " : "");
        }
        memcpy(&be, ASN1_STRING_get0_data(skid) + ASN1_STRING_length(skid) - 4, 4);
        *keyid = ntohl(be);
        return 0;
}

int ima_cert_keyid(const uint8_t *cert_der, size_t len, uint32_t *keyid)
{
        const unsigned char *p = cert_der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        int r;

        if (!x)
                return imgerr(-EBADMSG, "not a DER X.509 certificate");
        r = x509_keyid(x, keyid, NULL);
        X509_free(x);
        return r;
}

/* ---- what the kernel can verify ------------------------------------- */

/* The kernel's IMA checks ECDSA on NIST P-256 and P-384 (crypto/ecdsa.c
 * registers ecdsa-nist-p192/p256/p384; P-192 is too weak to sign with and
 * IMA keys on it are not made) and RSA PKCS#1 v1.5; Debian's 6.12 kernel
 * refuses RSA under 2048 bits in FIPS mode, and nobody should sign with it. */
int ima_pkey_kernel_check(EVP_PKEY *pkey, char *why, size_t why_len)
{
        char curve[80];

        if (EVP_PKEY_is_a(pkey, "EC")) {
                if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve,
                                                    sizeof(curve), NULL))
                        snprintf(curve, sizeof(curve), "with explicit parameters");
                if (!strcmp(curve, "prime256v1") || !strcmp(curve, "secp384r1") ||
                    !strcmp(curve, "P-256") || !strcmp(curve, "P-384"))
                        return 0;
                snprintf(why, why_len,
                         "EC key on curve %s: the kernel verifies ECDSA only on P-256 (prime256v1) and P-384 (secp384r1)",
                         curve);
                ERR_clear_error();
                return -EOPNOTSUPP;
        }
        if (EVP_PKEY_is_a(pkey, "RSA")) {
                if (EVP_PKEY_get_bits(pkey) >= 2048)
                        return 0;
                snprintf(why, why_len, "RSA key of %d bits: at least 2048 needed",
                         EVP_PKEY_get_bits(pkey));
                return -EOPNOTSUPP;
        }
        snprintf(why, why_len, "%s key: the kernel's IMA verifies only ECDSA (P-256, P-384) and RSA",
                 EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "unknown");
        return -EOPNOTSUPP;
}

/* ---- signing -------------------------------------------------------- */

/* KEY_KIND_TOKEN_EC: an ECDSA key on a PKCS#11 token.  RFC 6979 needs the
 * private scalar, which never leaves the token, so the token signs with its
 * own (random) nonces: such signatures differ from build to build. */
enum key_kind { KEY_KIND_EC, KEY_KIND_RSA, KEY_KIND_TOKEN_EC, KEY_KIND_DEFERRED };

/* Loaded once and only read afterwards, so concurrent
 * ima_key_sign_digest() calls on one key are safe. */
struct ima_key {
        EVP_PKEY *pkey;
        struct keyref_hold *engine;       /* a token or TPM key's hold (keyref.h); NULL for a file */
        uint32_t keyid;
        enum key_kind kind;
        struct ecsign *ec;                /* ECDSA: RFC 6979 through OpenSSL */
        EVP_MD *md[IMA_HASH_SHA224 + 1];  /* by algo: RSA's DigestInfo, RFC 6979's HMAC */
        size_t max_sig;
        ima_defer_fn defer;               /* KEY_KIND_DEFERRED: records, fills the placeholder */
        void *defer_ctx;
};

void ima_key_free(struct ima_key *k)
{
        if (!k)
                return;
        EVP_PKEY_free(k->pkey);
        keyref_release(k->engine);
        ecsign_free(k->ec);
        for (size_t i = 0; i < ARRAY_SIZE(k->md); i++)
                EVP_MD_free(k->md[i]);
        free(k);
}

/* Fetching is slow and takes a lock: do it once per key, for every algo we
 * can sign with. */
static void fetch_mds(EVP_MD **md, size_t n)
{
        for (size_t algo = 0; algo < n; algo++) {
                const struct hash_info *h = hash_usable((int)algo);
                if (h && algo != IMA_HASH_MD5)
                        md[algo] = EVP_MD_fetch(NULL, h->evp, NULL);
        }
        ERR_clear_error();
}

static int check_key_matches_cert(EVP_PKEY *pkey, X509 *cert, const char *key_path,
                                  const char *cert_path)
{
        EVP_PKEY *pub = X509_get0_pubkey(cert);
        if (!pub || EVP_PKEY_eq(pkey, pub) != 1) {
                ERR_clear_error();
                return imgerr(-EINVAL, "%s: key does not match certificate %s", key_path,
                              cert_path);
        }
        return 0;
}

static int key_keyid(struct ima_key *k, const char *key_path, const char *cert_path)
{
        X509 **certs = NULL;
        int r;

        if (!cert_path)
                return pkey_keyid(k->pkey, &k->keyid);
        r = certs_read_file(cert_path, &certs);
        if (r < 0)
                return r;
        r = check_key_matches_cert(k->pkey, certs[0], key_path, cert_path);
        if (r >= 0)
                r = x509_keyid(certs[0], &k->keyid, cert_path);
        certs_free(certs);
        return r;
}

int ima_key_load(const char *key_path, const char *cert_path, struct ima_key **out)
{
        struct ima_key *k = calloc(1, sizeof(*k));
        _cleanup_free_ char *name = keyref_name(key_path); /* a URI without its query */
        char why[200];
        int r;

        if (!k || !name) {
                free(k);
                return -ENOMEM;
        }
        r = keyref_load(key_path, &k->pkey, &k->engine);
        if (r < 0)
                goto fail;
        r = ima_pkey_kernel_check(k->pkey, why, sizeof(why));
        if (r < 0) {
                r = imgerr(r, "%s: %s", name, why);
                goto fail;
        }
        k->kind = EVP_PKEY_is_a(k->pkey, "EC") ? (k->engine ? KEY_KIND_TOKEN_EC : KEY_KIND_EC) : KEY_KIND_RSA;
        if (k->kind == KEY_KIND_EC) {
                r = ecsign_new(k->pkey, name, &k->ec);
                if (r < 0)
                        goto fail;
        }
        fetch_mds(k->md, ARRAY_SIZE(k->md));
        r = key_keyid(k, name, cert_path);
        if (r < 0)
                goto fail;
        k->max_sig = (size_t)EVP_PKEY_get_size(k->pkey);
        *out = k;
        return 0;
fail:
        ima_key_free(k);
        return r;
}

/* The certificate from memory: a signing request carries it (sigreq.h). */
int ima_key_load_cert_der(const char *key_path, const uint8_t *der, size_t len, const char *what,
                          struct ima_key **out)
{
        const unsigned char *p = der;
        X509 *cert = d2i_X509(NULL, &p, (long)len);
        _cleanup_free_ char *name = keyref_name(key_path);
        struct ima_key *k = NULL;
        int r;

        ERR_clear_error();
        if (!cert)
                return imgerr(-EBADMSG, "%s: its certificate is not DER X.509", what);
        r = name ? ima_key_load(key_path, NULL, &k) : -ENOMEM;
        if (r >= 0)
                r = check_key_matches_cert(k->pkey, cert, name, what);
        if (r >= 0)
                r = x509_keyid(cert, &k->keyid, what);
        X509_free(cert);
        if (r < 0) {
                ima_key_free(k);
                return r;
        }
        *out = k;
        return 0;
}

/* Two-phase signing: the certificate's public key stands in for the
 * private key, so every check (the kernel's algorithms, the keyid, the
 * largest signature and with it the inode size) is the one-phase
 * compose's. */
int ima_key_defer(const char *cert_path, ima_defer_fn fn, void *ctx, struct ima_key **out)
{
        struct ima_key *k = calloc(1, sizeof(*k));
        X509 **certs = NULL;
        char why[200];
        int r;

        if (!k)
                return -ENOMEM;
        r = certs_read_file(cert_path, &certs);
        if (r >= 0 && !(k->pkey = X509_get_pubkey(certs[0])))
                r = imgerr(-EBADMSG, "%s: no usable public key", cert_path);
        if (r >= 0 && (r = ima_pkey_kernel_check(k->pkey, why, sizeof(why))) < 0)
                r = imgerr(r, "%s: %s", cert_path, why);
        if (r >= 0)
                r = x509_keyid(certs[0], &k->keyid, cert_path);
        if (certs)
                certs_free(certs);
        ERR_clear_error();
        if (r < 0) {
                ima_key_free(k);
                return r;
        }
        k->kind = KEY_KIND_DEFERRED;
        fetch_mds(k->md, ARRAY_SIZE(k->md));
        k->max_sig = (size_t)EVP_PKEY_get_size(k->pkey);
        k->defer = fn;
        k->defer_ctx = ctx;
        *out = k;
        return 0;
}

bool ima_key_deferred(const struct ima_key *k)
{
        return k->kind == KEY_KIND_DEFERRED;
}

/* A deferred key signs nothing: each value is a placeholder as long as
 * the largest signature, its digest recorded for the request. */
static int sign_digests_deferred(const struct ima_key *k, int hash_algo, const uint8_t *const digests[],
                                 size_t n, uint8_t *vals[], size_t val_lens[])
{
        _cleanup_free_ uint8_t *sig = malloc(k->max_sig);
        int r = sig ? 0 : -ENOMEM;

        for (size_t i = 0; i < n && r >= 0; i++) {
                r = k->defer(k->defer_ctx, hash_algo, digests[i], ima_hash_size(hash_algo), sig, k->max_sig);
                if (r >= 0)
                        r = digsig_format((uint8_t)hash_algo, k->keyid, sig, k->max_sig, &vals[i], &val_lens[i]);
        }
        if (r < 0)
                for (size_t i = 0; i < n; i++) {
                        free(vals[i]);
                        vals[i] = NULL;
                }
        return r;
}

uint32_t ima_key_keyid(const struct ima_key *k)
{
        return k->keyid;
}

bool ima_key_deterministic(const struct ima_key *k)
{
        return k->kind != KEY_KIND_TOKEN_EC;
}

size_t ima_key_max_xattr(const struct ima_key *k)
{
        return DIGSIG_HDR_LEN + k->max_sig;
}

/* RSA: EVP with a signature md makes the PKCS#1 v1.5 DigestInfo encoding
 * over the digest, which is what the kernel's rsa-pkcs1pad verify expects.
 * OpenSSL blinds RSA private-key operations; a token's key signs on the
 * token (CKM_RSA_PKCS), the same bytes.  A token's ECDSA key: the DER
 * signature of the digest, with the token's nonce. */
static int pkey_sign(const struct ima_key *k, int algo, const uint8_t *digest,
                    size_t digest_len, uint8_t **sig, size_t *sig_len)
{
        /* a TPM key's signature comes from its provider's library context */
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(keyref_libctx(k->engine), k->pkey, NULL);
        size_t len = k->max_sig;
        uint8_t *buf = OPENSSL_malloc(len);
        int r = -EIO;

        if (!ctx || !buf) {
                r = -ENOMEM;
                goto out;
        }
        if (EVP_PKEY_sign_init(ctx) <= 0 ||
            (k->kind == KEY_KIND_RSA && (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
                                         EVP_PKEY_CTX_set_signature_md(ctx, k->md[algo]) <= 0)) ||
            EVP_PKEY_sign(ctx, buf, &len, digest, digest_len) <= 0)
                goto out;
        *sig = buf;
        *sig_len = len;
        buf = NULL;
        r = 0;
out:
        if (r < 0)
                ERR_clear_error();
        OPENSSL_free(buf);
        EVP_PKEY_CTX_free(ctx);
        return r;
}

static int sign_failed(int r)
{
        return imgerr(r, "signing failed: %s", r == -ENOMEM ? "out of memory" : "OpenSSL error");
}

/* ECDSA signs the whole batch at once (ecsign_sign_many: one k^-1
 * exponentiation per 64 signatures). */
static int sign_digests_ec(const struct ima_key *k, int hash_algo, const uint8_t *const digests[],
                           size_t n, uint8_t *vals[], size_t val_lens[])
{
        _cleanup_free_ uint8_t **sigs = calloc(n ? n : 1, sizeof(*sigs));
        _cleanup_free_ size_t *lens = calloc(n ? n : 1, sizeof(*lens));
        int r;

        if (!sigs || !lens)
                return -ENOMEM;
        r = ecsign_sign_many(k->ec, k->md[hash_algo], digests, ima_hash_size(hash_algo), n, sigs, lens);
        if (r < 0)
                return sign_failed(r);
        for (size_t i = 0; i < n; i++) {
                if (r >= 0)
                        r = digsig_format((uint8_t)hash_algo, k->keyid, sigs[i], lens[i], &vals[i], &val_lens[i]);
                OPENSSL_free(sigs[i]);
        }
        if (r < 0)
                for (size_t i = 0; i < n; i++) {
                        free(vals[i]);
                        vals[i] = NULL;
                }
        return r;
}

int ima_key_sign_digests(const struct ima_key *k, int hash_algo, const uint8_t *const digests[],
                         size_t n, uint8_t *vals[], size_t val_lens[])
{
        const size_t dlen = ima_hash_size(hash_algo);
        int r = 0;

        if (hash_algo < 0 || (size_t)hash_algo >= ARRAY_SIZE(k->md) || !k->md[hash_algo])
                return imgerr(-EOPNOTSUPP, "cannot sign with hash algorithm %d", hash_algo);
        for (size_t i = 0; i < n; i++)
                vals[i] = NULL;
        if (k->kind == KEY_KIND_EC)
                return sign_digests_ec(k, hash_algo, digests, n, vals, val_lens);
        if (k->kind == KEY_KIND_DEFERRED)
                return sign_digests_deferred(k, hash_algo, digests, n, vals, val_lens);
        for (size_t i = 0; i < n && r >= 0; i++) {
                uint8_t *sig = NULL;
                size_t len = 0;

                r = pkey_sign(k, hash_algo, digests[i], dlen, &sig, &len);
                if (r < 0) {
                        r = sign_failed(r);
                        break;
                }
                r = digsig_format((uint8_t)hash_algo, k->keyid, sig, len, &vals[i], &val_lens[i]);
                OPENSSL_free(sig);
        }
        if (r < 0)
                for (size_t i = 0; i < n; i++) {
                        free(vals[i]);
                        vals[i] = NULL;
                }
        return r;
}

int ima_key_sign_digest(const struct ima_key *k, int hash_algo, const uint8_t *digest,
                        size_t digest_len, uint8_t **val, size_t *val_len)
{
        if (ima_hash_size(hash_algo) && digest_len != ima_hash_size(hash_algo))
                return imgerr(-EINVAL, "%s digest of %zu bytes, expected %zu",
                              ima_hash_name(hash_algo), digest_len, ima_hash_size(hash_algo));
        return ima_key_sign_digests(k, hash_algo, &digest, 1, val, val_len);
}

/* ---- verifying ------------------------------------------------------ */

/* ECDSA verification is u1 G + u2 Q.  OpenSSL has a table of multiples of
 * G, but multiplies Q afresh each time: 3/4 of a verify.  A copy of the
 * curve whose generator is Q gets such a table too (built once per trusted
 * key), and each verify is two table multiplications: 2.5 times faster than
 * EVP_PKEY_verify for P-256 (measured), about a second of CPU on the bench
 * corpus with Mode=package, which is why it stays.  Everything here is
 * public (signature, digest, public key), so variable-time arithmetic is
 * fine; it is all OpenSSL's. */
struct ec_verifier {
        EC_GROUP *g;          /* the curve, G with its table */
        EC_GROUP *gq;         /* the curve with generator Q and its table */
        int order_bits;
};

struct trusted_key {
        uint32_t keyid;
        EVP_PKEY *pub;
        struct ec_verifier *ecv;   /* EC keys; NULL: verify through EVP */
        char *unusable;            /* why the kernel cannot verify with it; NULL: it can */
};

static void ec_verifier_free(struct ec_verifier *v)
{
        if (!v)
                return;
        EC_GROUP_free(v->g);
        EC_GROUP_free(v->gq);
        free(v);
}

/* EC_GROUP_precompute_mult is deprecated in OpenSSL 3 (without a
 * replacement for a table of an arbitrary point); if it ever goes, verify
 * falls back to EVP. */
static bool precompute_table(EC_GROUP *g, BN_CTX *ctx)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        return EC_GROUP_precompute_mult(g, ctx) == 1;
#pragma GCC diagnostic pop
}

static struct ec_verifier *ec_verifier_new(EVP_PKEY *pub)
{
        struct ec_verifier *v = NULL;
        uint8_t q[160];
        char curve[80];
        size_t qlen = 0;
        EC_POINT *Q = NULL;
        BN_CTX *ctx = BN_CTX_new();
        int nid;
        bool ok = false;

        if (!ctx || !EVP_PKEY_is_a(pub, "EC") ||
            !EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), NULL) ||
            !EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, q, sizeof(q), &qlen))
                goto out;
        nid = OBJ_txt2nid(curve);
        if (nid == NID_undef)
                nid = EC_curve_nist2nid(curve);
        v = calloc(1, sizeof(*v));
        if (!v || nid == NID_undef || !(v->g = EC_GROUP_new_by_curve_name(nid)) ||
            EC_GROUP_get_field_type(v->g) != NID_X9_62_prime_field ||
            !BN_is_one(EC_GROUP_get0_cofactor(v->g)))
                goto out;
        Q = EC_POINT_new(v->g);
        if (!Q || !EC_POINT_oct2point(v->g, Q, q, qlen, ctx) || EC_POINT_is_at_infinity(v->g, Q) ||
            !(v->gq = EC_GROUP_dup(v->g)) ||
            !EC_GROUP_set_generator(v->gq, Q, EC_GROUP_get0_order(v->g), EC_GROUP_get0_cofactor(v->g)) ||
            !precompute_table(v->gq, ctx))
                goto out;
        v->order_bits = EC_GROUP_order_bits(v->g);
        ok = true;
out:
        EC_POINT_free(Q);
        BN_CTX_free(ctx);
        ERR_clear_error();
        if (!ok) {
                ec_verifier_free(v);
                return NULL;
        }
        return v;
}

/* SEC 1, 4.1.4, as strict as OpenSSL: canonical DER only, 0 < r, s < n. */
static bool verify_ec(const struct ec_verifier *v, const uint8_t *sig, size_t sig_len,
                      const uint8_t *digest, size_t digest_len, BN_CTX *ctx)
{
        const unsigned char *p = sig;
        unsigned char *der = NULL;
        const BIGNUM *r, *s, *n = EC_GROUP_get0_order(v->g);
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
        EC_POINT *P1 = EC_POINT_new(v->g), *P2 = EC_POINT_new(v->gq);
        BIGNUM *e, *w, *u1, *u2, *x;
        bool ok = false;

        BN_CTX_start(ctx);
        e = BN_CTX_get(ctx);
        w = BN_CTX_get(ctx);
        u1 = BN_CTX_get(ctx);
        u2 = BN_CTX_get(ctx);
        x = BN_CTX_get(ctx);
        if (!x || !P1 || !P2 || !es || p != sig + sig_len ||
            i2d_ECDSA_SIG(es, &der) != (int)sig_len || memcmp(der, sig, sig_len))
                goto out;
        ECDSA_SIG_get0(es, &r, &s);
        if (BN_is_zero(r) || BN_is_negative(r) || BN_cmp(r, n) >= 0 ||
            BN_is_zero(s) || BN_is_negative(s) || BN_cmp(s, n) >= 0)
                goto out;
        /* e: the leftmost order_bits bits of the digest */
        if (digest_len * 8 > (size_t)v->order_bits)
                digest_len = ((size_t)v->order_bits + 7) / 8;
        if (!BN_bin2bn(digest, (int)digest_len, e) ||
            (digest_len * 8 > (size_t)v->order_bits && !BN_rshift(e, e, 8 - (v->order_bits & 7))))
                goto out;
        if (!BN_mod_inverse(w, s, n, ctx) || !BN_mod_mul(u1, e, w, n, ctx) ||
            !BN_mod_mul(u2, r, w, n, ctx))
                goto out;
        if (!EC_POINT_mul(v->g, P1, u1, NULL, NULL, ctx) ||
            !EC_POINT_mul(v->gq, P2, u2, NULL, NULL, ctx) ||
            !EC_POINT_add(v->g, P1, P1, P2, ctx) || EC_POINT_is_at_infinity(v->g, P1) ||
            !EC_POINT_get_affine_coordinates(v->g, P1, x, NULL, ctx) || !BN_nnmod(x, x, n, ctx))
                goto out;
        ok = BN_cmp(x, r) == 0;
out:
        BN_CTX_end(ctx);
        OPENSSL_free(der);
        ECDSA_SIG_free(es);
        EC_POINT_free(P1);
        EC_POINT_free(P2);
        ERR_clear_error();
        return ok;
}

static bool verify_evp(EVP_PKEY *pub, const EVP_MD *md, const struct imasig *s,
                       const uint8_t *digest, size_t digest_len)
{
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
        bool ok = ctx && EVP_PKEY_verify_init(ctx) > 0 &&
                  (!EVP_PKEY_is_a(pub, "RSA") ||
                   EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0) &&
                  EVP_PKEY_CTX_set_signature_md(ctx, md) > 0 &&
                  EVP_PKEY_verify(ctx, s->sig, s->sig_len, digest, digest_len) == 1;
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        return ok;
}

struct ima_trust {
        struct trusted_key *keys;
        size_t n, cap;
        EVP_MD *md[IMA_HASH_SHA224 + 1]; /* fetched once: verify is per file */
};

int ima_trust_new(struct ima_trust **out)
{
        *out = calloc(1, sizeof(**out));
        if (!*out)
                return -ENOMEM;
        fetch_mds((*out)->md, ARRAY_SIZE((*out)->md));
        return 0;
}

static void trusted_key_clear(struct trusted_key *tk)
{
        EVP_PKEY_free(tk->pub);
        ec_verifier_free(tk->ecv);
        free(tk->unusable);
}

void ima_trust_free(struct ima_trust *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++)
                trusted_key_clear(&t->keys[i]);
        for (size_t i = 0; i < ARRAY_SIZE(t->md); i++)
                EVP_MD_free(t->md[i]);
        free(t->keys);
        free(t);
}

size_t ima_trust_count(const struct ima_trust *t)
{
        return t ? t->n : 0;
}

const char *ima_trust_key_problem(const struct ima_trust *t, uint32_t keyid)
{
        const char *why = NULL;

        for (size_t i = 0; t && i < t->n; i++)
                if (t->keys[i].keyid == keyid) {
                        if (!t->keys[i].unusable)
                                return NULL;
                        why = t->keys[i].unusable;
                }
        return why;
}

/* Takes pub.  A key the kernel cannot verify with is still trusted, so its
 * signatures are checked and reported as such (IMASIG_UNUSABLE_KEY) rather
 * than as an unknown key. */
static int trust_add_key(struct ima_trust *t, EVP_PKEY *pub, uint32_t keyid)
{
        struct trusted_key tk = { 0 };
        char why[200];

        tk.keyid = keyid;
        tk.pub = pub;
        if (ima_pkey_kernel_check(tk.pub, why, sizeof(why)) < 0 && !(tk.unusable = strdup(why))) {
                trusted_key_clear(&tk);
                return -ENOMEM;
        }
        tk.ecv = EVP_PKEY_is_a(tk.pub, "EC") ? ec_verifier_new(tk.pub) : NULL;
        if (t->n == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 8;
                struct trusted_key *nk = realloc(t->keys, cap * sizeof(*nk));
                if (!nk) {
                        trusted_key_clear(&tk);
                        return -ENOMEM;
                }
                t->keys = nk;
                t->cap = cap;
        }
        t->keys[t->n++] = tk;
        return 0;
}

static int trust_add_cert(struct ima_trust *t, X509 *x, const char *path)
{
        EVP_PKEY *pub;
        uint32_t keyid = 0; /* set by x509_keyid on success; gcc -O2 cannot see that */
        int r;

        r = x509_keyid(x, &keyid, path);
        if (r < 0)
                return r;
        pub = X509_get_pubkey(x);
        if (!pub)
                return imgerr(-EBADMSG, "%s: certificate with an unusable public key", path);
        return trust_add_key(t, pub, keyid);
}

int ima_trust_add_der(struct ima_trust *t, const uint8_t *der, size_t len, const char *what)
{
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        int r;

        if (!x)
                return imgerr(-EBADMSG, "%s: not a DER X.509 certificate", what);
        r = trust_add_cert(t, x, what);
        X509_free(x);
        return r;
}

int ima_trust_add_file(struct ima_trust *t, const char *path)
{
        X509 **certs = NULL;
        EVP_PKEY *pub = NULL;
        uint32_t keyid = 0;
        int n, r = 0;

        /* A bare public key (EPEL publishes its IMA key so) verifies too. */
        r = pubkey_read_file(path, &pub);
        if (r < 0)
                return r;
        if (r > 0) {
                r = pubkey_ima_keyid(pub, &keyid);
                if (r < 0) {
                        EVP_PKEY_free(pub);
                        return imgerr_prefix(r, "%s: ", path);
                }
                r = trust_add_key(t, pub, keyid);
                return r < 0 ? r : 1;
        }
        n = certs_read_file(path, &certs);
        if (n < 0)
                return n;
        for (int i = 0; i < n && r >= 0; i++)
                r = trust_add_cert(t, certs[i], path);
        certs_free(certs);
        return r < 0 ? r : n;
}

const char *imasig_status_name(enum imasig_status s)
{
        switch (s) {
        case IMASIG_VALID: return "valid";
        case IMASIG_INVALID: return "invalid";
        case IMASIG_UNKNOWN_KEY: return "unknown key";
        case IMASIG_NONE: return "no signature";
        case IMASIG_HASH_ONLY: return "hash only";
        case IMASIG_MALFORMED: return "malformed";
        case IMASIG_UNSUPPORTED: return "unsupported";
        case IMASIG_UNUSABLE_KEY: return "key the kernel cannot use";
        }
        return "unknown status";
}

/* Everything up to the arithmetic: a status if that already decides it,
 * else -1 (there is at least one trusted key with the keyid). */
static int verify_start(const struct ima_trust *t, const uint8_t *val, size_t len,
                        size_t digest_len, struct imasig *s)
{
        const struct hash_info *h;
        size_t matches = 0;
        int r;

        if (!val || len == 0) {
                memset(s, 0, sizeof(*s));
                return IMASIG_NONE;
        }
        r = imasig_parse(val, len, s);
        if (s->type == IMA_XATTR_DIGEST_NG || s->type == IMA_XATTR_DIGEST)
                return r == -EBADMSG ? IMASIG_MALFORMED : IMASIG_HASH_ONLY;
        if (r == -EOPNOTSUPP)
                return IMASIG_UNSUPPORTED;
        if (r < 0)
                return IMASIG_MALFORMED;
        for (size_t i = 0; t && i < t->n; i++)
                matches += t->keys[i].keyid == s->keyid;
        if (!matches) {
                imgerr(-ENOKEY, "unknown key %08x", s->keyid);
                return IMASIG_UNKNOWN_KEY;
        }
        h = hash_usable(s->hash_algo);
        if (!h || s->hash_algo >= ARRAY_SIZE(t->md) || !t->md[s->hash_algo]) {
                imgerr(-EOPNOTSUPP, "signature over an unsupported hash algorithm %u", s->hash_algo);
                return IMASIG_UNSUPPORTED;
        }
        if (digest_len != h->size) {
                imgerr(-EINVAL, "%s signature checked against a %zu-byte digest", h->name, digest_len);
                return IMASIG_INVALID;
        }
        return -1;
}

/* Every trusted key with the signature's keyid; a key the kernel can use
 * wins over one it cannot. */
static enum imasig_status verify_each_key(const struct ima_trust *t, const struct imasig *s,
                                          const uint8_t *digest, size_t digest_len, BN_CTX *ctx)
{
        const EVP_MD *md = t->md[s->hash_algo];
        const struct trusted_key *unusable = NULL;

        for (size_t i = 0; i < t->n; i++) {
                const struct trusted_key *k = &t->keys[i];
                if (k->keyid != s->keyid)
                        continue;
                if (!(k->ecv && ctx ? verify_ec(k->ecv, s->sig, s->sig_len, digest, digest_len, ctx)
                                    : verify_evp(k->pub, md, s, digest, digest_len)))
                        continue;
                if (!k->unusable)
                        return IMASIG_VALID;
                unusable = k;
        }
        if (unusable) {
                imgerr(-EKEYREJECTED, "signature by key %08x, an %s", s->keyid, unusable->unusable);
                return IMASIG_UNUSABLE_KEY;
        }
        imgerr(-EBADMSG, "signature by key %08x does not match the content", s->keyid);
        return IMASIG_INVALID;
}

static enum imasig_status verify_one(const struct ima_trust *t, const uint8_t *val, size_t len,
                                     const uint8_t *digest, size_t digest_len, struct imasig *s,
                                     BN_CTX *ctx)
{
        int r = verify_start(t, val, len, digest_len, s);
        return r >= 0 ? (enum imasig_status)r : verify_each_key(t, s, digest, digest_len, ctx);
}

void ima_trust_verify_digests(const struct ima_trust *t, size_t n, const uint8_t *const vals[],
                              const size_t lens[], const uint8_t *const digests[],
                              const size_t digest_lens[], enum imasig_status st[],
                              struct imasig parsed[])
{
        BN_CTX *ctx = BN_CTX_new();   /* NULL: every key through EVP */

        for (size_t i = 0; i < n; i++) {
                struct imasig one;
                st[i] = verify_one(t, vals[i], lens[i], digests[i], digest_lens[i],
                                   parsed ? &parsed[i] : &one, ctx);
        }
        BN_CTX_free(ctx);
}

enum imasig_status ima_trust_verify_digest(const struct ima_trust *t, const uint8_t *val,
                                           size_t len, const uint8_t *digest,
                                           size_t digest_len, struct imasig *parsed)
{
        struct imasig local;
        enum imasig_status st;

        ima_trust_verify_digests(t, 1, &val, &len, &digest, &digest_len, &st, parsed ? parsed : &local);
        return st;
}
