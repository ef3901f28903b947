/* Authenticode signatures of PE images (the UKI), as UEFI Secure Boot
 * checks them against db.
 *
 * The signature is deterministic: a PKCS#7 SignedData whose content is the
 * SpcIndirectDataContent with the image's SHA-256 Authenticode digest,
 * signed attributes contentType, messageDigest and an empty SpcSpOpusInfo,
 * and no signing time (it would differ run after run); RSA PKCS#1 v1.5 has
 * no nonce.  So the same image and key give the same bytes.  The format is
 * what sbsign writes; sbverify and the firmware check it. */
#pragma once
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/pe.h"

struct sb_signer {
        EVP_PKEY *key;
        struct keyref_hold *engine; /* a token or TPM key's hold (ima/keyref.h), else NULL */
        X509 *cert;
        struct sigreq *defer;       /* two-phase signing: key is the cert's public key, the
                                       signature a placeholder (ima/sigreq.h) */
};

/* Load a private key (a PEM file or a PKCS#11 URI: ima/keyref.h; RSA
 * PKCS#1 v1.5 is deterministic, so a token signs the same bytes) and its cert (PEM or DER) and check they belong
 * together and that the key is RSA (2048-4096 bits): UEFI firmware verifies
 * Authenticode with RSA only.  Errors name the files. */
int sb_signer_load(const char *key_path, const char *cert_path, struct sb_signer *s);
void sb_signer_free(struct sb_signer *s);
/* Two-phase signing: a signer from the certificate alone whose signature
 * is left to make (recorded in REQ, a placeholder in the PKCS#7 meanwhile).
 * The same RSA checks as sb_signer_load. */
struct sigreq;
int sb_signer_defer(const char *cert_path, struct sigreq *req, struct sb_signer *s);

/* Sign pe in place (it must be unsigned). */
int authenticode_sign(struct pe_image *pe, const struct sb_signer *s);

/* The signer's certificate from a signed image (caller frees with
 * X509_free), or -ENOENT when the image is unsigned. */
int authenticode_signer_cert(const struct pe_image *pe, X509 **cert);

/* Load one certificate (PEM or DER). */
int x509_load(const char *path, X509 **out);
