#include "base/filehash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

/* The file's digest from its start into md (EVP_MAX_MD_SIZE), *len bytes. */
static int hash_fd(int fd, const char *path, const EVP_MD *type, unsigned char *md, unsigned int *len)
{
        unsigned char buf[1 << 16];
        EVP_MD_CTX *ctx;
        ssize_t n;
        bool ok;

        if (lseek(fd, 0, SEEK_SET) < 0)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        ok = EVP_DigestInit_ex(ctx, type, NULL);
        while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
                if (n > 0)
                        ok = ok && EVP_DigestUpdate(ctx, buf, (size_t)n);
        ok = ok && EVP_DigestFinal_ex(ctx, md, len);
        EVP_MD_CTX_free(ctx);
        if (n < 0)
                return imgerr(-EIO, "%s: read error: %s", path, strerror(errno));
        return ok ? 0 : imgerr(-EIO, "%s: cannot compute its %s digest", path, EVP_MD_get0_name(type));
}

int filehash_sha256_fd(int fd, const char *path, char hex[65])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len;
        int r = hash_fd(fd, path, EVP_sha256(), md, &len);

        if (r < 0)
                return r;
        hex_encode(md, 32, hex);
        return 0;
}

int filehash_hex_fd(int fd, const char *path, const char *md_name, char **hex)
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len;
        EVP_MD *type = EVP_MD_fetch(NULL, md_name, NULL);
        int r;

        if (!type)
                return imgerr(-EINVAL, "%s: unknown digest %s", path, md_name);
        r = hash_fd(fd, path, type, md, &len);
        EVP_MD_free(type);
        if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
                r = imgerr(-errno, "%s: %s", path, strerror(errno));
        if (r < 0)
                return r;
        *hex = malloc((size_t)len * 2 + 1);
        if (!*hex)
                return -ENOMEM;
        hex_encode(md, len, *hex);
        return 0;
}

int filehash_sha256(const char *path, char hex[65])
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        return filehash_sha256_fd(fd, path, hex);
}
