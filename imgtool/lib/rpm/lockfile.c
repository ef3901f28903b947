#include "rpm/lockfile.h"

#include <errno.h>
#include <openssl/evp.h>
#include <rpm/header.h>
#include <rpm/rpmtag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/output.h"
#include "base/filehash.h"
#include "rpm/rpmpkg.h"
#include "base/util.h"

/* One package a line, tab-separated, in this order; sorted by name and arch. */
#define LOCKFILE_HEADER LOCKFILE_MAGIC "\n# name\tepoch\tversion\trelease\tarch\tsha256\trepository\tlocation\n"

bool lockfile_is(const char *path)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[64];

        return f && fgets(line, sizeof(line), f) && !strncmp(line, LOCKFILE_MAGIC, strlen(LOCKFILE_MAGIC));
}

static bool is_hex64(const char *s)
{
        if (strlen(s) != 64)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

/* Split line at tabs into exactly n fields. */
static int split_fields(char *line, char **f, int n)
{
        int k = 0;
        for (char *p = line; k < n; k++) {
                f[k] = p;
                p = strchr(p, '\t');
                if (!p)
                        return k + 1 == n ? 0 : -1;
                *p++ = 0;
        }
        return -1;
}

int lockfile_read(const char *path, struct lock_entry **out, size_t *n)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *line = NULL;
        struct lock_entry *v = NULL;
        size_t cap = 0, count = 0, cap_v = 0, lineno = 0;
        ssize_t len;
        int r = 0;

        if (!f)
                return imgerr(-errno, "%s: cannot read lockfile: %s", path, strerror(errno));
        while ((len = getline(&line, &cap, f)) > 0) {
                char *fld[8];
                struct lock_entry *e;

                lineno++;
                if (line[len - 1] == '\n')
                        line[--len] = 0;
                if (lineno == 1 && strcmp(line, LOCKFILE_MAGIC)) {
                        r = imgerr(-EBADMSG, "%s: not an imgtool lockfile (first line is not '%s')", path, LOCKFILE_MAGIC);
                        break;
                }
                if (!line[0] || line[0] == '#' || line[0] == '@')
                        continue;   /* @user/@group lines are for [Users] Previous= */
                if (split_fields(line, fld, 8) < 0 || !is_hex64(fld[5]) || !fld[0][0] || !fld[6][0] || !fld[7][0]) {
                        r = imgerr(-EBADMSG, "%s:%zu: expected name, epoch, version, release, arch, sha256, "
                                   "repository, location separated by tabs", path, lineno);
                        break;
                }
                if (GROW(v, count, cap_v, 64) < 0) {
                        r = -ENOMEM;
                        break;
                }
                e = &v[count++];
                memset(e, 0, sizeof(*e));
                memcpy(e->sha256, fld[5], 65);
                if (!(e->name = strdup(fld[0])) || !(e->epoch = strdup(fld[1])) || !(e->version = strdup(fld[2])) ||
                    !(e->release = strdup(fld[3])) || !(e->arch = strdup(fld[4])) ||
                    !(e->repository = strdup(fld[6])) || !(e->location = strdup(fld[7]))) {
                        r = -ENOMEM;
                        break;
                }
        }
        if (r >= 0 && lineno == 0)
                r = imgerr(-EBADMSG, "%s: empty lockfile", path);
        if (r >= 0 && count == 0)
                r = imgerr(-EBADMSG, "%s: lockfile names no package", path);
        if (r < 0) {
                lock_entries_free(v, count);
                return r;
        }
        *out = v;
        *n = count;
        return 0;
}

void lock_entries_free(struct lock_entry *e, size_t n)
{
        for (size_t i = 0; e && i < n; i++) {
                free(e[i].name);
                free(e[i].epoch);
                free(e[i].version);
                free(e[i].release);
                free(e[i].arch);
                free(e[i].repository);
                free(e[i].location);
        }
        free(e);
}

struct lock_line {
        char *text;
        const char *name, *arch;
};

static int line_cmp(const void *a, const void *b)
{
        const struct lock_line *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ? c : strcmp(x->text, y->text);
}

/* A field the line format carries as it is: not empty, no tab (the field
 * separator), no newline (the line separator), no other control
 * character (a reader on a terminal).  Nothing is escaped: what cannot be
 * carried is refused. */
static bool field_ok(const char *s)
{
        if (!s || !*s)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

static int format_line(struct rpmpkg *pkg, const struct pkgorigin *o, struct lock_line *out)
{
        Header h = rpmpkg_header(pkg);
        const char *name = headerGetString(h, RPMTAG_NAME), *ver = headerGetString(h, RPMTAG_VERSION),
                   *rel = headerGetString(h, RPMTAG_RELEASE), *arch = headerGetString(h, RPMTAG_ARCH);
        char sha[65];
        int r;

        if (o->sha256[0])
                memcpy(sha, o->sha256, 65);
        else if ((r = filehash_sha256(rpmpkg_source(pkg), sha)) < 0)
                return r;
        if (!field_ok(name) || !field_ok(ver) || !field_ok(rel) || !field_ok(arch) ||
            !field_ok(o->repository) || !field_ok(o->location))
                return imgerr(-EINVAL, "%s: a name or path with a tab, newline or other control character cannot be locked",
                              rpmpkg_path(pkg));
        if (asprintf(&out->text, "%s\t%llu\t%s\t%s\t%s\t%s\t%s\t%s\n", name,
                     (unsigned long long)headerGetNumber(h, RPMTAG_EPOCH), ver, rel, arch, sha,
                     o->repository, o->location) < 0)
                return -ENOMEM;
        out->name = name;
        out->arch = arch;
        return 0;
}

int lockfile_write(const char *path, unsigned flags, struct rpmpkg *const *pkgs,
                   const struct pkgorigin *origins, size_t count,
                   void (*tail)(const void *ctx, FILE *f), const void *ctx)
{
        struct lock_line *lines = calloc(count ? count : 1, sizeof(*lines));
        char *text = NULL;
        size_t len = 0;
        FILE *m = NULL;
        int r = 0;

        if (!lines)
                return -ENOMEM;
        for (size_t i = 0; i < count && r >= 0; i++)
                r = format_line(pkgs[i], &origins[i], &lines[i]);
        if (r < 0)
                goto out;
        if (count)
                qsort(lines, count, sizeof(*lines), line_cmp);
        m = open_memstream(&text, &len);
        if (!m) {
                r = -ENOMEM;
                goto out;
        }
        fputs(LOCKFILE_HEADER, m);
        for (size_t i = 0; i < count; i++)
                fputs(lines[i].text, m);
        if (tail)
                tail(ctx, m);
        fclose(m);
        r = output_write_file(path, flags, 0644, NULL, text, len);
out:
        for (size_t i = 0; i < count; i++)
                free(lines[i].text);
        free(lines);
        free(text);
        return r;
}
