/* The owner's Secure Boot keys: PK, KEK and db (RSA-2048, self-signed, as
 * UEFI firmware accepts them), their EFI signature lists and the
 * time-based authenticated variable payloads to enroll them.
 *
 * Files in DIR (nothing is overwritten; keys are 0600):
 *   PK.key PK.crt PK.der PK.esl PK.auth    PK.auth signed by PK
 *   KEK.key KEK.crt KEK.der KEK.esl KEK.auth  signed by PK
 *   db.key db.crt db.der db.esl db.auth    signed by KEK
 *   owner.guid                              the SignatureOwner of every list
 * The .auth files are what `efi-updatevar -f`, KeyTool or a firmware setup
 * screen take (EFI_VARIABLE_AUTHENTICATION_2 + the list); their PKCS#7 has
 * no signed attributes, so with SOURCE_DATE_EPOCH as the time stamp they
 * are the bytes efitools' sign-efi-sig-list writes.  PK and KEK may live
 * on a token or in a TPM instead (sbkeys_opts): then there is no PK.key or
 * KEK.key, and what they sign is signed there. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define EFI_GLOBAL_VARIABLE_GUID "8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define EFI_IMAGE_SECURITY_DATABASE_GUID "d719b2cb-3d3a-4596-a3bc-dad00e67656f"
#define EFI_CERT_X509_GUID "a5c059a1-94e4-4aa7-87b5-ab155c2bf072"
#define EFI_CERT_TYPE_PKCS7_GUID "4aafd29d-68df-49ee-8aa9-347d375665a7"

/* Text GUID -> the 16 bytes UEFI stores (first three fields little-endian). */
int efi_guid_parse(const char *text, uint8_t out[16]);

/* An EFI_SIGNATURE_LIST holding one X.509 cert (DER). *out malloc'ed. */
int efi_esl_x509(const uint8_t owner[16], const uint8_t *der, size_t der_len, uint8_t **out, size_t *out_len);

struct sbkeys_opts {
        const char *subject;   /* common name prefix; NULL: "imgtool Secure Boot" */
        int days;              /* 0: 3650 */
        /* PK and KEK held by a token or a TPM (keyref.h), NULL: made here.
         * A held key is RSA of 2048 bits or more; its certificate is
         * self-signed and the .auth files signed through it; no .key file
         * is written for it (its private half never enters imgtool). */
        const char *pk_key, *kek_key;
};

/* Make the key set in dir (created if missing; existing files refused). */
int sbkeys_generate(const char *dir, const struct sbkeys_opts *o);
