#include "base/filehash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

int filehash_sha256_fd(int fd, const char *path, char hex[65])
{
        unsigned char buf[1 << 16], md[32];
        unsigned int mdlen;
        EVP_MD_CTX *ctx;
        ssize_t n;

        if (lseek(fd, 0, SEEK_SET) < 0)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
        while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
                if (n > 0)
                        EVP_DigestUpdate(ctx, buf, (size_t)n);
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        EVP_MD_CTX_free(ctx);
        if (n < 0)
                return imgerr(-EIO, "%s: read error: %s", path, strerror(errno));
        hex_encode(md, 32, hex);
        return 0;
}

int filehash_sha256(const char *path, char hex[65])
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        return filehash_sha256_fd(fd, path, hex);
}
