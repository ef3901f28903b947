#include "ima/pubkey.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

int pubkey_read_file(const char *path, EVP_PKEY **out)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        EVP_PKEY *k;

        if (!f)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        if (!k) {
                rewind(f);
                k = d2i_PUBKEY_fp(f, NULL);
        }
        ERR_clear_error();
        if (!k)
                return 0;
        *out = k;
        return 1;
}

int pubkey_ima_keyid(EVP_PKEY *pkey, uint32_t *keyid)
{
        unsigned char *der = NULL, md[SHA_DIGEST_LENGTH];
        int len = i2d_PublicKey(pkey, &der);

        if (len <= 0) {
                ERR_clear_error();
                return imgerr(-EINVAL, "cannot encode the public key");
        }
        SHA1(der, (size_t)len, md);
        OPENSSL_free(der);
        *keyid = (uint32_t)md[16] << 24 | (uint32_t)md[17] << 16 | (uint32_t)md[18] << 8 | md[19];
        return 0;
}
