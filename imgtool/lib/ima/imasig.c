/* The security.ima value: parse, format, keyid, sign (RFC 6979 ECDSA, RSA
 * PKCS#1 v1.5).  See imasig.h; its hashing is in imahash.c, the verification
 * against a set of trusted certs in imatrust.c. */
#include "ima/imasig.h"
#include "ima/imaparts.h"
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
int x509_keyid(X509 *x, uint32_t *keyid, const char *path)
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
void fetch_mds(EVP_MD **md, size_t n)
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
