#include "base/filehash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

int filehash_sha256(const char *path, char hex[65])
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        unsigned char buf[1 << 16], md[32];
        unsigned int mdlen;
        EVP_MD_CTX *ctx;
        size_t n;

        if (!f)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                EVP_DigestUpdate(ctx, buf, n);
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        EVP_MD_CTX_free(ctx);
        if (ferror(f))
                return imgerr(-EIO, "%s: read error", path);
        hex_encode(md, 32, hex);
        return 0;
}
