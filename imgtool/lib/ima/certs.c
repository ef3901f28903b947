#include "ima/certs.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <string.h>

#include "base/util.h"

static bool looks_like_der(const uint8_t *data, size_t len)
{
        return len > 0 && data[0] == 0x30;
}

int certs_read_file(const char *path, X509 ***out)
{
        _cleanup_free_ uint8_t *data = NULL;
        size_t len;
        X509 **certs = NULL;
        int n = 0, r;

        r = read_file(path, &data, &len);
        if (r < 0)
                return r;
        if (looks_like_der(data, len)) {
                const unsigned char *p = data;
                X509 *x = d2i_X509(NULL, &p, (long)len);
                if (!x)
                        return imgerr(-EBADMSG, "%s: not a DER or PEM X.509 certificate (DER does not parse)", path);
                certs = calloc(2, sizeof(*certs));
                if (!certs) {
                        X509_free(x);
                        return -ENOMEM;
                }
                certs[0] = x;
                *out = certs;
                return 1;
        }
        BIO *bio = BIO_new_mem_buf(data, (int)len);
        if (!bio)
                return -ENOMEM;
        for (;;) {
                X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
                if (!x)
                        break;
                X509 **nc = realloc(certs, (size_t)(n + 2) * sizeof(*certs));
                if (!nc) {
                        X509_free(x);
                        r = -ENOMEM;
                        goto fail;
                }
                certs = nc;
                certs[n++] = x;
                certs[n] = NULL;
        }
        ERR_clear_error();
        BIO_free(bio);
        bio = NULL;
        if (n == 0) {
                r = imgerr(-EBADMSG, "%s: not a DER or PEM X.509 certificate (no PEM certificate found)", path);
                goto fail;
        }
        *out = certs;
        return n;
fail:
        BIO_free(bio);
        for (int i = 0; i < n; i++)
                X509_free(certs[i]);
        free(certs);
        return r;
}

void certs_free(X509 **certs)
{
        for (size_t i = 0; certs && certs[i]; i++)
                X509_free(certs[i]);
        free(certs);
}

int cert_read_one(const char *path, X509 **out)
{
        X509 **certs = NULL;
        int n = certs_read_file(path, &certs);

        if (n < 0)
                return n;
        *out = certs[0];
        certs[0] = NULL;   /* keep it; free the rest */
        for (int i = 1; i < n; i++)
                X509_free(certs[i]);
        free(certs);
        return 0;
}
