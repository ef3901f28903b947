/* ECDSA signing with RFC 6979 nonces, every step on a secret done by
 * OpenSSL's own constant-time code.
 *
 * Images must be reproducible, so the nonce k is RFC 6979's (a function of
 * key and digest).  OpenSSL 3.0 cannot take a caller's nonce through EVP
 * (the "nonce-type" parameter came in 3.2), so k is computed here and
 * handed to OpenSSL as the precomputed pair (k^-1, r) of ECDSA_do_sign_ex,
 * which then computes s = k^-1 (e + r d) in its constant-time Montgomery
 * code.  Only curves whose order is a whole number of bytes (P-256, P-384:
 * the kernel's) are taken.  See ecsign.c for why each step is safe. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct ecsign;

/* A signer for an EC private key on prime256v1 or secp384r1; any other
 * curve is -EOPNOTSUPP with a message naming PATH and the curve.  The
 * signer is only read while signing: any number of threads may share it. */
int ecsign_new(EVP_PKEY *pkey, const char *path, struct ecsign **out);
void ecsign_free(struct ecsign *s);

/* DER ECDSA signature (OPENSSL_malloc'ed) of DIGEST, whose hash MD is also
 * RFC 6979's HMAC hash.  Deterministic: the same key and digest give the
 * same bytes. */
int ecsign_sign(const struct ecsign *s, const EVP_MD *md, const uint8_t *digest, size_t len,
                uint8_t **der, size_t *der_len);
/* The same for n digests of LEN bytes: der[i] is exactly what ecsign_sign
 * gives for digests[i], but the k^-1 of up to 64 signatures cost one
 * exponentiation.  On failure every der[i] is NULL. */
int ecsign_sign_many(const struct ecsign *s, const EVP_MD *md, const uint8_t *const digests[], size_t len,
                     size_t n, uint8_t *der[], size_t der_len[]);
