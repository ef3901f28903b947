/* The security.ima value: parse, format, keyid, sign, verify.
 *
 * Formats follow the kernel (security/integrity/integrity.h) and
 * ima-evm-utils:
 *   0x03 EVM_IMA_XATTR_DIGSIG, version 2:
 *        03 02 <hash_algo u8> <keyid be32> <sig_len be16> <sig...>
 *        the signature is over the file digest itself (ECDSA: DER signature of
 *        the digest; RSA: PKCS#1 v1.5 with the hash algo's DigestInfo).
 *   0x04 IMA_XATTR_DIGEST_NG: 04 <hash_algo u8> <digest>  ("hash-only")
 *   0x01 IMA_XATTR_DIGEST (sha1 only), 0x02 EVM HMAC, 0x05 EVM portable,
 *   0x06 IMA_VERITY_DIGSIG: recognised and named, never misread.
 * hash_algo numbers are the kernel's enum hash_algo (HASH_ALGO_SHA256 = 4).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ima_hash_algo {
        IMA_HASH_MD5 = 1,
        IMA_HASH_SHA1 = 2,
        IMA_HASH_SHA256 = 4,
        IMA_HASH_SHA384 = 5,
        IMA_HASH_SHA512 = 6,
        IMA_HASH_SHA224 = 7,
};
#define IMA_MAX_DIGEST 64

enum ima_xattr_type {
        IMA_XATTR_DIGEST = 0x01,
        EVM_XATTR_HMAC = 0x02,
        EVM_IMA_XATTR_DIGSIG = 0x03,
        IMA_XATTR_DIGEST_NG = 0x04,
        EVM_XATTR_PORTABLE_DIGSIG = 0x05,
        IMA_VERITY_DIGSIG = 0x06,
};

/* A parsed view into a caller-owned buffer. */
struct imasig {
        uint8_t type;             /* enum ima_xattr_type */
        uint8_t version;          /* 2 for DIGSIG */
        uint8_t hash_algo;        /* enum ima_hash_algo */
        uint32_t keyid;           /* DIGSIG only */
        const uint8_t *sig;       /* DIGSIG: the signature bytes */
        size_t sig_len;
        const uint8_t *digest;    /* DIGEST_NG / DIGEST: the digest */
        size_t digest_len;
};

/* Parse an xattr value.  Returns 0, or -EBADMSG (malformed: message says
 * why) or -EOPNOTSUPP (a known type this tool does not handle; out->type is
 * still set so the caller can name it). */
int imasig_parse(const uint8_t *val, size_t len, struct imasig *out);

/* "digital signature", "hash only", "EVM HMAC", ... for any type byte. */
const char *imasig_type_name(uint8_t type);

/* Name and size of a hash algo ("sha256", 32); NULL/0 if unknown. */
const char *ima_hash_name(int algo);
size_t ima_hash_size(int algo);
/* rpm's PGPHASHALGO_* (RPMTAG_FILEDIGESTALGO) to the kernel's numbering,
 * or -EOPNOTSUPP. */
int ima_hash_from_rpm(int pgp_algo);

/* Digest of a whole buffer / incremental hashing (OpenSSL EVP underneath). */
struct ima_hasher;
int ima_hasher_new(int algo, struct ima_hasher **out);
int ima_hasher_update(struct ima_hasher *h, const void *data, size_t len);
/* Writes ima_hash_size(algo) bytes; the hasher can be reused after reset. */
int ima_hasher_final(struct ima_hasher *h, uint8_t *digest);
int ima_hasher_reset(struct ima_hasher *h);
void ima_hasher_free(struct ima_hasher *h);
/* Hashes fd from its current offset to end of file. */
int ima_digest_fd(int algo, int fd, uint8_t *digest);

/* ---- what the kernel can verify ------------------------------------- */
struct evp_pkey_st;
/* 0 if the kernel's IMA can verify signatures by this key (ECDSA on P-256
 * or P-384, RSA of 2048 bits or more); else -EOPNOTSUPP and WHY says what
 * the key is and why not ("EC key on curve secp256k1: ..."). */
int ima_pkey_kernel_check(struct evp_pkey_st *pkey, char *why, size_t why_len);

/* ---- signing -------------------------------------------------------- */
struct ima_key;   /* a private key and the keyid of its cert */

/* Load a private key (a PEM/DER file or a PKCS#11 URI: keyref.h) and its
 * cert (PEM or DER); fails with a clear
 * message if the key does not match the cert, or if the kernel could not
 * verify its signatures (ima_pkey_kernel_check).  cert may be NULL only if the
 * keyid can be derived from the key alone (evmctl's fallback). */
int ima_key_load(const char *key_path, const char *cert_path, struct ima_key **out);
void ima_key_free(struct ima_key *k);
/* ima_key_load with the certificate given as DER (a signing request's);
 * WHAT names it in messages. */
int ima_key_load_cert_der(const char *key_path, const uint8_t *der, size_t len, const char *what,
                          struct ima_key **out);
/* Two-phase signing (sigreq.h): a key made from CERT_PATH's certificate
 * alone.  Its "signatures" are placeholders of the largest signature's
 * length: FN records each digest and fills the sig_len signature bytes.
 * Everything else (keyid, ima_key_max_xattr, the kernel's checks) is the
 * real key's. */
typedef int (*ima_defer_fn)(void *ctx, int algo, const uint8_t *digest, size_t len, uint8_t *sig,
                            size_t sig_len);
int ima_key_defer(const char *cert_path, ima_defer_fn fn, void *ctx, struct ima_key **out);
bool ima_key_deferred(const struct ima_key *k);
uint32_t ima_key_keyid(const struct ima_key *k);
/* false for an ECDSA key on a token: its signatures differ between runs. */
bool ima_key_deterministic(const struct ima_key *k);
/* Largest xattr value this key can produce (for choosing the inode size). */
size_t ima_key_max_xattr(const struct ima_key *k);
/* Sign a file digest; *val (malloc'ed) receives the complete v2 xattr value.
 * ECDSA uses deterministic (RFC 6979) nonces so images are reproducible;
 * an ECDSA key on a token cannot (the nonce needs the private key): its
 * signatures are randomized (ima_key_deterministic() is false). */
int ima_key_sign_digest(const struct ima_key *k, int hash_algo,
                        const uint8_t *digest, size_t digest_len,
                        uint8_t **val, size_t *val_len);
/* The same for n digests of ima_hash_size(hash_algo) bytes each: vals[i]
 * (malloc'ed) is exactly what ima_key_sign_digest() gives for digests[i].
 * On failure every vals[i] is NULL.  Every operation on the private key
 * and the nonce is OpenSSL's constant-time code (ecsign.h).
 *
 * Threads: a loaded key is only read while signing, so any number of
 * threads may sign with one key at once. */
int ima_key_sign_digests(const struct ima_key *k, int hash_algo,
                         const uint8_t *const digests[], size_t n,
                         uint8_t *vals[], size_t val_lens[]);

/* ---- verifying ------------------------------------------------------ */
struct ima_trust; /* a set of trusted certs, looked up by keyid */

int ima_trust_new(struct ima_trust **out);
/* Add every cert in a file: DER, or PEM with one or more certificates. */
int ima_trust_add_file(struct ima_trust *t, const char *path);
/* Add one DER cert from memory; what names it in messages. */
int ima_trust_add_der(struct ima_trust *t, const uint8_t *der, size_t len, const char *what);
size_t ima_trust_count(const struct ima_trust *t);
/* The i-th trusted key (i < ima_trust_count), in the order added: what a
 * report says the image is checked against.  The strings live as long as
 * t. */
struct ima_trust_entry {
        uint32_t keyid;
        const char *source;     /* the file it came from (ima_trust_add_der: its what) */
        bool bare_key;          /* a bare public key, not a certificate's */
};
struct ima_trust_entry ima_trust_entry(const struct ima_trust *t, size_t i);
/* Why the kernel cannot verify with the trusted key KEYID ("EC key on curve
 * secp256k1: ..."), or NULL if it can (or no such key is trusted). */
const char *ima_trust_key_problem(const struct ima_trust *t, uint32_t keyid);
void ima_trust_free(struct ima_trust *t);

enum imasig_status {
        IMASIG_VALID = 0,       /* signature verifies with a trusted key */
        IMASIG_INVALID,         /* trusted key, signature does not verify */
        IMASIG_UNKNOWN_KEY,     /* keyid not in the trust set */
        IMASIG_NONE,            /* no security.ima value */
        IMASIG_HASH_ONLY,       /* 0x04 / 0x01: not a signature */
        IMASIG_MALFORMED,       /* cannot be parsed */
        IMASIG_UNSUPPORTED,     /* other type (EVM, verity) */
        IMASIG_UNUSABLE_KEY,    /* verifies, but with a trusted key the kernel cannot
                                 * verify with (curve, RSA size): the message says why */
};
const char *imasig_status_name(enum imasig_status s); /* "valid", "invalid", "unknown key", ... */

/* Verify an xattr value against a digest computed by the caller with the
 * value's own hash algo (parse first to learn it).  Never fails: every
 * outcome is a status; *parsed is filled when the value parses. */
enum imasig_status ima_trust_verify_digest(const struct ima_trust *t,
                                           const uint8_t *val, size_t len,
                                           const uint8_t *digest, size_t digest_len,
                                           struct imasig *parsed);

/* The same for n values at once: st[i] is what ima_trust_verify_digest
 * gives for vals[i] and digests[i] (parsed[i] filled likewise; parsed may be
 * NULL).  Only the last failure's message is kept.  Thread-safe like the single
 * call: a trust set is only read. */
void ima_trust_verify_digests(const struct ima_trust *t, size_t n, const uint8_t *const vals[],
                              const size_t lens[], const uint8_t *const digests[],
                              const size_t digest_lens[], enum imasig_status st[],
                              struct imasig parsed[]);

/* keyid of an X.509 cert, as the kernel finds it: the last 4 bytes of the
 * subjectKeyIdentifier.  A cert without one is -EBADMSG (imasig.c says
 * why).  cert_der is a DER certificate. */
int ima_cert_keyid(const uint8_t *cert_der, size_t len, uint32_t *keyid);
