#include "rpm/pathmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"

struct pathmap {
        struct pathmap_entry **slots;
        size_t size, count;   /* size is a power of two */
};

static uint64_t hash_path(const char *s)
{
        uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (uint8_t)*s) * 1099511628211ULL;
        return h;
}

int pathmap_new(struct pathmap **out)
{
        struct pathmap_entry *root;
        struct pathmap *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->size = 1024;
        m->slots = calloc(m->size, sizeof(*m->slots));
        if (!m->slots) {
                free(m);
                return -ENOMEM;
        }
        /* The root exists before any package: a package may own it (Fedora's
         * filesystem has %dir %attr(555,root,root) /). */
        if (pathmap_add(m, "/", &root) < 0) {
                pathmap_free(m);
                return -ENOMEM;
        }
        root->mode = S_IFDIR | 0755;
        root->owner = -1;
        root->file = -1;
        root->implied = true;
        *out = m;
        return 0;
}

void pathmap_free(struct pathmap *m)
{
        if (!m)
                return;
        for (size_t i = 0; i < m->size; i++)
                if (m->slots[i]) {
                        free(m->slots[i]->path);
                        free(m->slots[i]);
                }
        free(m->slots);
        free(m);
}

static size_t find_slot(struct pathmap_entry **slots, size_t size, const char *path)
{
        size_t i = hash_path(path) & (size - 1);
        while (slots[i] && strcmp(slots[i]->path, path))
                i = (i + 1) & (size - 1);
        return i;
}

static int grow(struct pathmap *m)
{
        size_t nsize = m->size * 2;
        struct pathmap_entry **ns = calloc(nsize, sizeof(*ns));
        if (!ns)
                return -ENOMEM;
        for (size_t i = 0; i < m->size; i++)
                if (m->slots[i])
                        ns[find_slot(ns, nsize, m->slots[i]->path)] = m->slots[i];
        free(m->slots);
        m->slots = ns;
        m->size = nsize;
        return 0;
}

struct pathmap_entry *pathmap_get(struct pathmap *m, const char *path)
{
        return m->slots[find_slot(m->slots, m->size, path)];
}

int pathmap_add(struct pathmap *m, const char *path, struct pathmap_entry **out)
{
        struct pathmap_entry *e;
        size_t i;

        if (2 * (m->count + 1) > m->size && grow(m) < 0)
                return -ENOMEM;
        i = find_slot(m->slots, m->size, path);
        if (m->slots[i])
                return -EEXIST;
        e = calloc(1, sizeof(*e));
        if (!e || !(e->path = strdup(path))) {
                free(e);
                return -ENOMEM;
        }
        m->slots[i] = e;
        m->count++;
        *out = e;
        return 0;
}

size_t pathmap_count(const struct pathmap *m)
{
        return m->count;
}

int pathmap_foreach(const struct pathmap *m, int (*fn)(struct pathmap_entry *e, void *ctx), void *ctx)
{
        for (size_t i = 0; i < m->size; i++)
                if (m->slots[i]) {
                        int r = fn(m->slots[i], ctx);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static const char *who_path(struct rpmpkg *const *pkgs, int pkg)
{
        return pkg >= 0 ? rpmpkg_path(pkgs[pkg]) : "imgtool";
}

static const char *who_nevra(struct rpmpkg *const *pkgs, int pkg)
{
        return pkg >= 0 ? rpmpkg_nevra(pkgs[pkg]) : "imgtool";
}

int pathmap_claim(struct pathmap *m, struct rpmpkg *const *pkgs, size_t pkg,
                  const struct rpmpkg_file *f, struct pathmap_entry **out)
{
        struct pathmap_entry *e = pathmap_get(m, f->path);
        const char *label = rpmpkg_path(pkgs[pkg]);
        struct rpmpkg_file prev;
        const char *why;
        int r;

        if (!e) {
                r = pathmap_add(m, f->path, &e);
                if (r < 0)
                        return r;
                e->mode = f->mode;
                e->owner = (int)pkg;
                e->file = f->index;
                *out = e;
                return 0;
        }
        *out = e;
        if (e->implied) {
                if (S_ISDIR(f->mode)) {
                        e->implied = false;
                        e->mode = f->mode;
                        e->owner = (int)pkg;
                        e->file = f->index;
                        return 2;
                }
                if (e->owner < 0)
                        return imgerr(-EEXIST, "%s: %s is not a directory, but it must be one",
                                      label, f->path);
                return imgerr(-EEXIST, "%s: %s is not a directory, but files of earlier packages are inside it (from %s)",
                              label, f->path, who_nevra(pkgs, e->owner));
        }
        if (e->owner < 0 || e->file < 0 || rpmpkg_file(pkgs[e->owner], (size_t)e->file, &prev) < 0)
                return imgerr(-EEXIST, "%s: %s: imgtool writes this path itself", label, f->path);
        why = rpmpkg_file_difference(&prev, f);
        if (!why)
                return 1;
        return imgerr(-EEXIST, "%s: %s conflicts with the file from %s (%s differs)", label, f->path,
                      who_nevra(pkgs, e->owner), why);
}

static int parent_not_dir(struct rpmpkg *const *pkgs, int pkg, const char *path,
                          const char *parent, const struct pathmap_entry *e)
{
        if (pkg < 0)
                return imgerr(-ENOTDIR, "%s: %s is a %s, but imgtool writes %s below it",
                              who_path(pkgs, e->owner), parent, rpmpkg_type_name(e->mode), path);
        return imgerr(-ENOTDIR, "%s: %s: parent %s is a %s from %s, not a directory",
                      who_path(pkgs, pkg), path, parent, rpmpkg_type_name(e->mode),
                      who_nevra(pkgs, e->owner));
}

int pathmap_imply_parents(struct pathmap *m, struct rpmpkg *const *pkgs, int pkg, const char *path,
                          int (*made)(const char *dir, void *userdata), void *userdata)
{
        _cleanup_free_ char *buf = strdup(path);
        struct pathmap_entry *e = NULL;
        char *end;
        int r;

        if (!buf)
                return -ENOMEM;
        /* Up from the nearest parent to one that exists ("/" always does):
         * the parents of an existing directory exist too. */
        end = strrchr(buf, '/');
        while (end && end > buf) {
                *end = 0;
                e = pathmap_get(m, buf);
                if (e)
                        break;
                end = strrchr(buf, '/');
        }
        if (!e || end == buf)
                e = pathmap_get(m, "/"), end = buf, *buf = 0;
        if (e && !S_ISDIR(e->mode))
                return parent_not_dir(pkgs, pkg, path, *buf ? buf : "/", e);
        /* ...then down, adding the missing ones. */
        for (;;) {
                size_t len = strlen(buf);
                const char *next = strchr(path + len + 1, '/');
                if (!next)
                        return 0;
                memcpy(buf, path, (size_t)(next - path));
                buf[next - path] = 0;
                r = pathmap_add(m, buf, &e);
                if (r < 0)
                        return r;
                e->mode = S_IFDIR | 0755;
                e->owner = pkg;
                e->file = -1;
                e->implied = true;
                if (made && (r = made(buf, userdata)) < 0)
                        return r;
        }
}
