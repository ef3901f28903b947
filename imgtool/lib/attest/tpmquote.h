/* The host side of TPM 2.0 attestation: the structures a guest's TPM
 * returns (TPM2B_PUBLIC of the attestation key, TPMS_ATTEST of a quote,
 * TPMT_SIGNATURE), and MakeCredential, which binds an AK to an EK: the
 * secret it wraps comes back only from the TPM that holds both the EK
 * and a key of exactly that name (TPM 2.0 Library Part 1, 24
 * "Credential Protection").  OpenSSL does all the cryptography. */
#pragma once
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TPM_NAME_SIZE 34          /* nameAlg (sha256) + digest */
#define TPM_QUOTE_PCRS 11         /* PCRs 0-10, sha256 bank */

struct tpm_ak {
        EVP_PKEY *key;            /* P-256 public key */
        uint8_t name[TPM_NAME_SIZE];
        /* The qualified name a quote carries as its signer, for a primary
         * key of the endorsement hierarchy (our AK): H(0x4000000B || name). */
        uint8_t qualified_name[TPM_NAME_SIZE];
};

/* Parse an AK's TPM2B_PUBLIC: an ECC P-256 restricted signing key
 * (ECDSA-SHA256) that never leaves its TPM (fixedTPM, fixedParent,
 * sensitiveDataOrigin).  -EBADMSG with the reason otherwise. */
int tpm_ak_parse(const uint8_t *tpm2b_public, size_t len, struct tpm_ak *out);
void tpm_ak_clear(struct tpm_ak *ak);

/* MakeCredential for an RSA EK (template: OAEP-SHA256, AES-128-CFB,
 * nameAlg sha256): *blob is the TPM2B_ID_OBJECT, *enc_secret the
 * TPM2B_ENCRYPTED_SECRET, both malloc'ed. */
int tpm_make_credential(EVP_PKEY *ek, const uint8_t name[TPM_NAME_SIZE], const uint8_t *secret,
                        size_t secret_len, uint8_t **blob, size_t *blob_len, uint8_t **enc_secret,
                        size_t *enc_len);

struct tpm_quote {
        uint8_t signer[TPM_NAME_SIZE + 32];   /* qualifiedSigner (TPM2B_NAME content) */
        size_t signer_len;
        uint8_t extra[64];                     /* extraData: the nonce */
        size_t extra_len;
        uint32_t pcr_mask;                     /* sha256 bank; 0 if another bank was selected */
        bool other_banks;
        uint8_t pcr_digest[64];
        size_t pcr_digest_len;
        uint64_t reset_count, restart_count;
};

/* Parse a TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE. */
int tpm_quote_parse(const uint8_t *attest, size_t len, struct tpm_quote *q);
/* Check a TPMT_SIGNATURE (ECDSA, sha256) over attest with the AK: 0 valid,
 * -EBADMSG with the reason otherwise. */
int tpm_quote_verify(const struct tpm_ak *ak, const uint8_t *attest, size_t len, const uint8_t *sig,
                     size_t sig_len);
