#include "attest/manifest.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ima/imasig.h"
#include "image/imgverify.h"
#include "base/util.h"

/* ---- writing: one line per path ------------------------------------------ */

char manifest_type_char(mode_t m)
{
        return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c'
             : S_ISBLK(m) ? 'b' : S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : '?';
}

int manifest_fields(struct ext4walk *w, const struct ext4walk_entry *e, struct manifest_fields *f)
{
        uint8_t d[IMA_MAX_DIGEST];
        int r;

        snprintf(f->size, sizeof(f->size), "-");
        snprintf(f->sha, sizeof(f->sha), "-");
        f->caps = NULL;
        if (S_ISREG(e->mode) || S_ISLNK(e->mode))
                snprintf(f->size, sizeof(f->size), "%llu", (unsigned long long)e->size);
        else if (S_ISCHR(e->mode) || S_ISBLK(e->mode))
                snprintf(f->size, sizeof(f->size), "%u,%u", e->rdev_major, e->rdev_minor);
        if (S_ISREG(e->mode)) {
                r = imgverify_file_digest(w, e, IMA_HASH_SHA256, d);
                if (r < 0)
                        return r;
                hex_encode(d, 32, f->sha);
        }
        imgverify_ima_summary(e->ima, e->ima_len, f->ima, sizeof(f->ima));
        if (e->caps) {
                f->caps = malloc(2 * e->caps_len + 1);
                if (!f->caps)
                        return imgerr(-ENOMEM, "out of memory");
                hex_encode(e->caps, e->caps_len, f->caps);
        }
        return 0;
}

static const char *target_of(const struct ext4walk_entry *e)
{
        return e->target ? e->target : e->link_of;
}

int manifest_print_line(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        struct manifest_fields f;
        _cleanup_free_ char *path = NULL, *target = NULL;
        int r = manifest_fields(w, e, &f);

        if (r < 0)
                return r;
        path = ext4walk_escape(e->path);
        if (target_of(e))
                target = !strcmp(target_of(e), "-") ? strdup("\\055") : ext4walk_escape(target_of(e));
        if (!path || (target_of(e) && !target)) {
                free(f.caps);
                return imgerr(-ENOMEM, "out of memory");
        }
        fprintf(userdata ? userdata : stdout, "%c %04o %u %u %s %lld %s %s %s %s %s\n", manifest_type_char(e->mode), e->mode & 07777,
               e->uid, e->gid, f.size, (long long)e->mtime, f.sha, f.ima, f.caps ? f.caps : "-",
               target ? target : "-", path);
        free(f.caps);
        return 0;
}

/* ---- reading: the sha256 of each path ------------------------------------ */

static bool is_sha256_hex(const char *s, size_t n)
{
        if (n != 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char)s[i]))
                        return false;
        return true;
}

/* "HEX  /path" (sha256sum; '*' binary marker and './' prefix allowed), or
 * any line with a 'sha256:HEX' or bare 64-hex token and a '/path' token. */
static int parse_manifest_line(char *line, struct manifest_line *out)
{
        char *hex = NULL, *path = NULL;

        line[strcspn(line, "\n")] = 0;
        if (is_sha256_hex(line, strcspn(line, " \t")) && line[64] && isspace((unsigned char)line[64])) {
                hex = line;
                path = line + 64;
                path += strspn(path, " \t");
                if (*path == '*')
                        path++;
                if (!strncmp(path, "./", 2))
                        path++;
                line[64] = 0;
        } else {
                char *save = NULL;
                for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
                        if (!strncmp(t, "sha256:", 7))
                                t += 7;
                        if (!hex && is_sha256_hex(t, strlen(t)))
                                hex = t;
                        else if (!path && t[0] == '/')
                                path = t;
                }
        }
        if (!hex || !path || path[0] != '/')
                return 0;
        for (int i = 0; i < 64; i++)
                out->hex[i] = (char)tolower((unsigned char)hex[i]);
        out->hex[64] = 0;
        out->path = strdup(path);
        return out->path ? 1 : imgerr(-ENOMEM, "out of memory");
}

int manifest_read(const char *path, struct manifest *m)
{
        _cleanup_free_ uint8_t *data = NULL;
        size_t len, alloc = 0;
        char *save = NULL;
        int rr = read_file_max(path, 256u << 20, "manifests", &data, &len);

        if (rr < 0)
                return rr;
        if (memchr(data, 0, len))
                return imgerr(-EINVAL, "%s: contains a NUL byte: not a manifest", path);
        for (char *line = strtok_r((char *)data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (GROW(m->lines, m->n, alloc, 256) < 0)
                        return imgerr(-ENOMEM, "out of memory");
                int r = parse_manifest_line(line, &m->lines[m->n]);
                if (r < 0)
                        return r;
                m->n += (size_t)r;
        }
        if (m->n == 0)
                return imgerr(-EINVAL, "%s: no 'SHA256  /path' lines", path);
        return 0;
}

void manifest_free(struct manifest *m)
{
        for (size_t i = 0; i < m->n; i++)
                free(m->lines[i].path);
        free(m->lines);
}

const struct manifest_line *manifest_find(const struct manifest *m, const char *path)
{
        for (size_t i = 0; i < m->n; i++)
                if (!strcmp(m->lines[i].path, path))
                        return &m->lines[i];
        return NULL;
}
