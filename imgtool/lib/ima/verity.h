/* fs-verity: a file's Merkle tree, descriptor and digest (computed by
 * libfsverity), and the two signature formats the kernel checks over that
 * digest.
 *
 * Parameters are fixed to what imgtool writes: SHA-256, 4 KiB Merkle tree
 * blocks, an optional salt.  The digest is fs-verity's file digest, the
 * SHA-256 of the descriptor (what `fsverity digest` prints and
 * FS_IOC_MEASURE_VERITY returns).
 *
 * Signatures:
 *   IMA v3   security.ima = 06 03 <hash_algo> <keyid be32> <len be16> <sig>
 *            (type IMA_VERITY_DIGSIG, signature_v2_hdr version 3); the
 *            signature is over sha256(ima_file_id), ima_file_id = { 0x06,
 *            HASH_ALGO_SHA256, digest[32] } (security/integrity/ima).
 *   builtin  a detached PKCS#7 SignedData over the formatted digest
 *            "FSVerity" le16(alg=1) le16(32) digest[32], no signed
 *            attributes, no certificates: what `fsverity sign` makes and
 *            fs/verity/signature.c checks against the .fs-verity keyring.
 * Both are thin layers over imasig's sign-a-digest call, so the private key
 * never leaves imasig (and ECDSA stays deterministic). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ima/imasig.h"

#define VERITY_BLOCK 4096u
#define VERITY_DIGEST_SIZE 32u
#define VERITY_MAX_SALT 32u
#define VERITY_DESC_SIZE 256u        /* struct fsverity_descriptor */
#define VERITY_FORMATTED_SIZE (8 + 2 + 2 + VERITY_DIGEST_SIZE)

struct verity_params {
        uint8_t salt[VERITY_MAX_SALT];
        size_t salt_len;             /* 0: unsalted */
};

/* One file's fs-verity metadata. */
struct verity_meta {
        uint8_t digest[VERITY_DIGEST_SIZE];
        uint8_t *tree;               /* Merkle tree, FS_IOC_READ_VERITY_METADATA layout */
        uint64_t tree_size;          /* a multiple of VERITY_BLOCK; 0 for files <= one block */
        uint8_t desc[VERITY_DESC_SIZE];
        uint8_t *sig;                /* builtin PKCS#7 for the descriptor, or NULL (set by the caller) */
        size_t sig_len;
};

/* Pulls the next count bytes of the file (all of them, or a negative errno). */
typedef int (*verity_read_fn)(void *ctx, void *buf, size_t count);

/* Compute the tree, descriptor and digest of a file of size bytes. */
int verity_compute(const struct verity_params *p, uint64_t size, verity_read_fn read, void *ctx,
                   struct verity_meta *out);
int verity_compute_buf(const struct verity_params *p, const void *data, uint64_t size,
                       struct verity_meta *out);
void verity_meta_free(struct verity_meta *m);

/* Salt from hex ("" or NULL: none).  -EINVAL with a message otherwise. */
int verity_params_parse_salt(struct verity_params *p, const char *hex);

/* Fields of an on-disk descriptor (what verify reads back).  -EBADMSG with
 * a message when it is not one imgtool can check (version, algorithm, block
 * size, salt). */
struct verity_desc_info {
        uint64_t data_size;
        uint8_t root_hash[VERITY_DIGEST_SIZE];
        uint32_t sig_size;
        uint8_t log_blocksize;
        size_t salt_len;
        uint8_t salt[VERITY_MAX_SALT];
};
int verity_desc_parse(const uint8_t *desc, size_t len, struct verity_desc_info *out);
/* The digest of a descriptor as the kernel computes it (sig_size zeroed). */
int verity_desc_digest(const uint8_t *desc, uint8_t digest[VERITY_DIGEST_SIZE]);

/* Compare what a file's content gives (computed, with the stored
 * descriptor's salt) with the metadata stored beside it.  Returns
 * VERITY_OK, or the first problem: *block is the first data block whose
 * hash differs from the stored tree's leaf (VERITY_BAD_BLOCK), and msg (64+
 * bytes) says what else differs. */
enum verity_verdict {
        VERITY_OK,
        VERITY_BAD_BLOCK,        /* content changed: that block no longer matches */
        VERITY_BAD_SIZE,         /* the descriptor's data_size is not the file's size */
        VERITY_BAD_TREE,         /* leaves match the content, but the tree or root hash is damaged */
};
enum verity_verdict verity_check(const uint8_t *stored_desc, const uint8_t *stored_tree,
                                 uint64_t stored_tree_size, const struct verity_meta *computed,
                                 uint64_t file_size, uint64_t *block, char *msg, size_t msg_len);

/* ---- IMA signature v3 --------------------------------------------------- */

/* sha256 of the ima_file_id the kernel builds for a verity digest. */
int verity_ima_file_id_hash(const uint8_t digest[VERITY_DIGEST_SIZE], uint8_t out[32]);
/* The complete security.ima value (malloc'ed). */
int verity_ima_sign(const struct ima_key *k, const uint8_t digest[VERITY_DIGEST_SIZE],
                    uint8_t **val, size_t *val_len);
/* n digests at once (ECDSA shares inversions), as ima_key_sign_digests. */
int verity_ima_sign_many(const struct ima_key *k, const uint8_t *const digests[], size_t n,
                         uint8_t *vals[], size_t val_lens[]);
/* Check a value against a verity digest: the status a v2 value would get
 * from ima_trust_verify_digest.  A v2 or hash value is IMASIG_UNSUPPORTED
 * here (the kernel's sigv3 rules refuse it). */
enum imasig_status verity_ima_verify(const struct ima_trust *t, const uint8_t *val, size_t len,
                                     const uint8_t digest[VERITY_DIGEST_SIZE], uint32_t *keyid);

/* ---- fs-verity builtin signatures (PKCS#7) -------------------------------- */

void verity_formatted_digest(const uint8_t digest[VERITY_DIGEST_SIZE],
                             uint8_t out[VERITY_FORMATTED_SIZE]);
/* A DER PKCS#7 for the descriptor.  cert_path: the key's certificate (PEM
 * or DER), named in the SignerInfo. */
struct verity_signer;
int verity_signer_new(const struct ima_key *k, const char *cert_path, struct verity_signer **out);
void verity_signer_free(struct verity_signer *s);
int verity_builtin_sign(const struct verity_signer *s, const uint8_t digest[VERITY_DIGEST_SIZE],
                        uint8_t **der, size_t *der_len);
/* n at once: ders[i] is what verity_builtin_sign gives for digests[i], the
 * signatures made in one imasig batch.  On failure every ders[i] is NULL. */
int verity_builtin_sign_many(const struct verity_signer *s, const uint8_t *const digests[], size_t n,
                             uint8_t *ders[], size_t der_lens[]);
/* 0 when der is a PKCS#7 over this digest by one of the trusted certs
 * (files: PEM or DER), -EKEYREJECTED (message says why) otherwise. */
int verity_builtin_verify(const uint8_t *der, size_t der_len,
                          const uint8_t digest[VERITY_DIGEST_SIZE], char *const *cert_files);
/* Sign arbitrary bytes (IPE policies) the same way: detached or with the
 * content inside (IPE wants the policy text inside the PKCS#7). */
int verity_pkcs7_sign_data(const struct verity_signer *s, const void *data, size_t len,
                           bool detached, uint8_t **der, size_t *der_len);
/* The last step of every PKCS#7 imgtool makes (these and signature packs,
 * rpm/sigpack.c): the signer info's signature taken from imasig's v2 value
 * val (over sha256 of the signed bytes), then the whole SignedData as DER
 * in *der (malloc'd). */
struct pkcs7_st;
struct pkcs7_signer_info_st;
int verity_pkcs7_finish(struct pkcs7_st *p7, struct pkcs7_signer_info_st *si, const uint8_t *val,
                        size_t val_len, uint8_t **der, size_t *der_len);
