/* Bare public keys (a PEM "PUBLIC KEY" or DER SubjectPublicKeyInfo), as some
 * distributions publish their IMA keys (EPEL 10).  Enough to verify package
 * signatures; the kernel loads certificates only, so `imgtool keygen
 * --issuer CADIR --for-key PUBKEY` issues a certificate for such a key. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <openssl/evp.h>

/* 1 and *out set if path holds a bare public key, 0 if it does not (a
 * certificate, say), <0 on read errors. */
int pubkey_read_file(const char *path, EVP_PKEY **out);
/* The IMA keyid of a key: the last 4 bytes of sha1 over the key's bit
 * string, as evmctl computes it and as the subjectKeyIdentifier of a
 * certificate for the key says. */
int pubkey_ima_keyid(EVP_PKEY *pkey, uint32_t *keyid);
