#include "pathmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
        struct pathmap *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->size = 1024;
        m->slots = calloc(m->size, sizeof(*m->slots));
        if (!m->slots) {
                free(m);
                return -ENOMEM;
        }
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
