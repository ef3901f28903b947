/* Two-phase signing: the signing request and its response, the one module
 * that writes and reads them, and the placeholder values a deferred compose
 * leaves in the image (docs/keys.md, "Two-phase signing").
 *
 * A request lists every digest the image needs signed (each (hash algo,
 * digest) once, sorted), the certificate whose key must sign them, and the
 * SHA-256 and size of the image it belongs to.  A response is the request's
 * fields plus the request's own SHA-256 and one security.ima value per
 * digest.  Both are text, one field a line, versioned by their first line
 * and closed by an "end" line carrying the count and the SHA-256 of every
 * byte before it, so a truncated or edited file is refused:
 *
 *   imgtool-signing-request 1             imgtool-signing-response 1
 *   image-sha256 HEX                      request-sha256 HEX
 *   image-size BYTES                      image-sha256 HEX
 *   certificate HEX(DER)                  image-size BYTES
 *   digest ALGO HEX                       certificate HEX(DER)
 *   ...                                   signature ALGO HEX VALUE-HEX
 *   end COUNT SHA256-HEX                  end COUNT SHA256-HEX
 *
 * The placeholder is the v2 value the one-phase compose would write, at
 * the key's largest signature length (ima_key_max_xattr: the inode size is
 * chosen for it, so both composes lay out the same inodes), whose
 * signature bytes are a magic and the SHA-256 of (algo, digest): apply
 * finds each file's entry by it, without paths. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ima/imasig.h"

#define SIGREQ_VERSION 1

/* What an entry's signature is, and which certificate's key makes it. */
enum {
        SIGREQ_IMA = 0,            /* a security.ima v2 value (certificate) */
        SIGREQ_AUTHENTICODE = 1,   /* the UKI's PKCS#7 signature: RSA PKCS#1 v1.5 over the
                                      SHA-256 of its signed attributes (secureboot-certificate) */
};

struct sigreq_entry {
        uint8_t role;                    /* SIGREQ_* */
        uint8_t algo;                    /* enum ima_hash_algo */
        uint8_t digest[IMA_MAX_DIGEST];
        uint8_t id[32];                  /* what the image's placeholder carries */
        uint8_t *value;                  /* response: the security.ima value */
        size_t value_len;
};

struct sigreq {
        bool is_response;
        uint8_t image_sha256[32];
        uint64_t image_size;
        uint8_t *cert;                   /* DER: the IMA key's */
        size_t cert_len;
        uint8_t *sb_cert;                /* DER: the Secure Boot db key's; NULL: no UKI to sign */
        size_t sb_cert_len;
        uint8_t request_sha256[32];      /* a read request's own, or the one a response answers */
        struct sigreq_entry *e;          /* sorted by (algo, digest), no duplicates */
        size_t n, cap;
        struct sigreq_entry **by_id;      /* the entries sorted by id (sigreq_find) */
        void *lock;                      /* sigreq_defer may be called from several threads */
};

int sigreq_new(struct sigreq **out);
void sigreq_free(struct sigreq *q);

/* The ima_key_defer callback (imasig.h): records (algo, digest) in the
 * request CTX and fills SIG (sig_len bytes) with the placeholder's bytes. */
int sigreq_defer(void *ctx, int algo, const uint8_t *digest, size_t len, uint8_t *sig, size_t sig_len);
/* Sort the recorded digests, drop repeats: after the last sigreq_defer. */
int sigreq_normalize(struct sigreq *q);
/* If VAL is a placeholder, its entry id (32 bytes) and true. */
bool sigreq_placeholder_id(const uint8_t *val, size_t len, const uint8_t **id);
/* The entry whose id is ID, or NULL. */
const struct sigreq_entry *sigreq_find(const struct sigreq *q, const uint8_t id[32]);

/* The request's certificates: the first of PATH (PEM or DER). */
int sigreq_set_cert_file(struct sigreq *q, const char *path);
int sigreq_set_sb_cert_file(struct sigreq *q, const char *path);
/* The UKI's Authenticode signature (boot/authenticode.c): records DIGEST
 * (SHA-256 of the signed attributes) and fills the sig_len bytes of the
 * RSA signature with the placeholder. */
int sigreq_defer_authenticode(struct sigreq *q, const uint8_t digest[32], uint8_t *sig, size_t sig_len);
/* If SIG (raw signature bytes) is a placeholder, its entry id; the magic
 * it starts with, for finding one in an image. */
bool sigreq_raw_placeholder_id(const uint8_t *sig, size_t len, const uint8_t **id);
const uint8_t *sigreq_placeholder_magic(size_t *len);
/* In a UKI's placeholder, after the magic and the id: the placeholder's
 * offset in the UKI and the UKI's length (two little-endian u64), written
 * by boot/authenticode.c for apply-signatures. */
#define SIGREQ_RAW_LOCATION 40
/* Write a request (after the image is complete: its SHA-256 and size set)
 * or a response to PATH through output.h (flags: OUTPUT_FORCE). */
int sigreq_write(const struct sigreq *q, const char *path, unsigned flags, const char *const *inputs);
/* The same text in memory (malloc'ed), for a caller that commits it with
 * other outputs. */
int sigreq_format(const struct sigreq *q, char **out, size_t *len);
/* Read a request (want_response false) or a response from PATH: every
 * field checked; a file of the other kind, another version, a truncated or
 * altered file is one message naming PATH. */
int sigreq_read(const char *path, bool want_response, struct sigreq **out);

/* Sign every digest of request Q with KEY (whose certificate must be the
 * request's: ima_key_load_cert_der), and its UKI's with SB_KEY (loaded by
 * keyref_load; NULL when the request has no UKI): Q becomes the response. */
struct keyref_hold;
int sigreq_sign(struct sigreq *q, const struct ima_key *key, const char *key_name, EVP_PKEY *sb_key,
                struct keyref_hold *sb_hold, const char *sb_name);
/* Check every value of response Q against the request's certificate (the
 * kernel's rules: ima_trust); the first that does not verify is one
 * message naming PATH and the digest. */
int sigreq_verify(const struct sigreq *q, const char *path);
/* SHA-256 and size of a whole file. */
int sigreq_file_sha256(const char *path, uint8_t out[32], uint64_t *size);
