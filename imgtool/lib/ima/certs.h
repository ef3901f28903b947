/* X.509 certificate files as the user gives them: DER, or PEM holding one
 * or more certificates.  One reader for trust sets, initramfs keys, kconfig
 * and keygen's issuer. */
#pragma once
#include <openssl/x509.h>

/* Every cert in the file: returns the count (> 0) and a NULL-terminated
 * array for certs_free(); errors name the file. */
int certs_read_file(const char *path, X509 ***out);
void certs_free(X509 **certs);
/* The first (usually only) cert of the file. */
int cert_read_one(const char *path, X509 **out);
