#include "rpm/pkgread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rpm/pkgset.h"
#include "rpm/rpmpkg.h"
#include "base/util.h"

static bool package_wants(struct rpmpkg *p, bool (*want)(const char *, void *), void *ctx)
{
        struct rpmpkg_file f;

        for (size_t i = 0; i < rpmpkg_file_count(p); i++)
                if (rpmpkg_file(p, i, &f) == 0 && S_ISREG(f.mode) && !(f.flags & RPMPKG_FILE_GHOST) &&
                    want(f.path, ctx))
                        return true;
        return false;
}

static int read_content(struct rpmpkg_payload *pl, size_t max, const char *pkg, const char *path,
                        char **out, size_t *out_len)
{
        char *buf = NULL;
        size_t len = 0;
        ssize_t n;

        for (;;) {
                char *nb = realloc(buf, len + 65536 + 1);
                if (!nb) {
                        free(buf);
                        return -ENOMEM;
                }
                buf = nb;
                n = rpmpkg_payload_read(pl, buf + len, 65536);
                if (n <= 0)
                        break;
                len += (size_t)n;
                if (len > max) {
                        free(buf);
                        return imgerr(-EFBIG, "%s: %s: larger than %zu bytes", pkg, path, max);
                }
        }
        if (n < 0) {
                free(buf);
                return (int)n;
        }
        buf[len] = 0;
        *out = buf;
        *out_len = len;
        return 0;
}

static int read_package(struct rpmpkg *p, bool (*want)(const char *, void *),
                        int (*got)(const char *, const char *, char *, size_t, void *), size_t max, void *ctx)
{
        struct rpmpkg_payload *pl = NULL;
        size_t idx;
        int r = rpmpkg_payload_open(p, &pl);

        while (r >= 0 && (r = rpmpkg_payload_next(pl, &idx)) > 0) {
                struct rpmpkg_file f;
                char *data = NULL;
                size_t len = 0;

                if (rpmpkg_file(p, idx, &f) < 0 || !S_ISREG(f.mode) || !rpmpkg_payload_has_content(pl) ||
                    !want(f.path, ctx))
                        continue;
                r = read_content(pl, max, rpmpkg_path(p), f.path, &data, &len);
                if (r >= 0)
                        r = got(f.path, rpmpkg_path(p), data, len, ctx);
        }
        rpmpkg_payload_free(pl);
        return r < 0 ? r : 0;
}

int pkgread_files(const struct pkgset *s, bool (*want)(const char *path, void *ctx),
                  int (*got)(const char *path, const char *pkg, char *data, size_t len, void *ctx),
                  size_t max, void *ctx)
{
        for (size_t i = 0; i < s->count; i++) {
                int r;
                if (!package_wants(s->pkgs[i], want, ctx))
                        continue;
                r = read_package(s->pkgs[i], want, got, max, ctx);
                if (r < 0)
                        return r;
        }
        return 0;
}
