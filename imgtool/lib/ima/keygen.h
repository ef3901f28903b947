/* Signing keys and certificates: generation for `imgtool keygen`.
 *
 * A key set is three files in one directory: NAME.key (PEM private key,
 * mode 0600), NAME.crt (PEM cert) and NAME.der (the same cert in DER, the
 * form the kernel's keyring takes).  NAME is "signing" for a leaf key and
 * "ca" for a CA.  Certs are X.509 v3 with a subjectKeyIdentifier (sha1 of
 * the public key, so the IMA keyid equals what evmctl computes) and a random
 * serial, as the kernel's x509 parser and IMA keyid lookup expect. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

enum key_type {
        KEY_EC_P256,
        KEY_EC_P384,
        KEY_RSA_2048,
        KEY_RSA_3072,
        KEY_RSA_4096,
};

/* "ec-p256", "rsa-3072", ...; -EINVAL with a message listing the valid names. */
int keygen_type_from_name(const char *name, enum key_type *out);
const char *keygen_type_name(enum key_type t);

struct keygen_opts {
        enum key_type type;
        const char *subject;    /* CN; NULL = a default naming the role */
        int days;               /* validity; 0 = 3650 */
        bool ca;                /* a CA (CA:TRUE, keyCertSign) instead of a leaf */
        const char *issuer_dir; /* sign with ISSUER_DIR/ca.key + ca.crt; NULL = self-signed */
        bool force;             /* replace existing files (output.h's rule) */
};

/* "signing" or "ca": the base name of the files keygen writes. */
const char *keygen_basename(bool ca);

/* Generate a key and cert into DIR (created if missing).  Refuses (-EEXIST,
 * nothing written) if any of the three files exists, unless o->force
 * (output.h: regular files only); on any failure nothing
 * is left behind.  *keyid is the IMA keyid of the new cert. */
int keygen_write(const char *dir, const struct keygen_opts *o, uint32_t *keyid);

/* A certificate for someone else's public key, issued by o->issuer_dir's CA
 * (keygen --for-key: the kernel loads certificates only). */
#include <openssl/x509.h>
int keygen_cert_for_key(EVP_PKEY *pub, const struct keygen_opts *o, X509 **out);

/* Write DIR/signing.crt (PEM) and DIR/signing.der for the public key in
 * PUBKEY, issued by CADIR/ca.key (keygen_cert_for_key); nothing is
 * overwritten, both files or none. */
int keygen_issue_for_key(const char *dir, const char *pubkey_path, const struct keygen_opts *o, uint32_t *keyid);
