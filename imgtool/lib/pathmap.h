/* A map from image path to what was written there, to find conflicts
 * between packages and hard-link partners.  Open addressing, grows by 2. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pathmap_entry {
        char *path;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        int owner;              /* index of the package that wrote it; -1: made by compose */
        bool implied;           /* a parent dir made by compose, not owned by a package */
        uint8_t digest_len;
        uint8_t digest[64];
};

struct pathmap;
int pathmap_new(struct pathmap **out);
void pathmap_free(struct pathmap *m);
/* The entry for path, or NULL. */
struct pathmap_entry *pathmap_get(struct pathmap *m, const char *path);
/* Insert a new entry (path copied); returns it through *out. -EEXIST if present. */
int pathmap_add(struct pathmap *m, const char *path, struct pathmap_entry **out);
size_t pathmap_count(const struct pathmap *m);
/* Call fn for every entry (in no particular order); stops at the first
 * negative return. */
int pathmap_foreach(const struct pathmap *m, int (*fn)(struct pathmap_entry *e, void *ctx), void *ctx);
