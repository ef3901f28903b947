/* The manifest: one stable line per path of an image, written by `imgtool
 * manifest` and read back (with sha256sum's "HEX  /path" lines) by
 * `imgtool ima-log --manifest`: the format in one place. */
#pragma once
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "ext4/ext4walk.h"
#include "ima/imasig.h"

#define MANIFEST_HEADER "# type mode uid gid size mtime sha256 ima caps target path"

/* The fields of one line, as text. */
struct manifest_fields {
        char size[48];
        char sha[2 * IMA_MAX_DIGEST + 1];
        char ima[40];
        char *caps;               /* malloc'ed hex or NULL */
};

/* 'f', 'd', 'l', 'c', 'b', 'p', 's' or '?'. */
char manifest_type_char(mode_t m);
/* e's fields (its content hashed for a regular file); free f->caps. */
int manifest_fields(struct ext4walk *w, const struct ext4walk_entry *e, struct manifest_fields *f);
/* An ext4walk_walk callback: e's line to the FILE *userdata (NULL: stdout). */
int manifest_print_line(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata);

struct manifest_line {
        char *path;
        char hex[65];
};

struct manifest {
        struct manifest_line *lines;
        size_t n;
};

/* Every line of path with a sha256 and a /path ("HEX  /path" as sha256sum
 * writes, or any line with a 'sha256:HEX' or bare 64-hex token and a '/path'
 * token, as manifest_print_line writes); -EINVAL when none has. */
int manifest_read(const char *path, struct manifest *m);
void manifest_free(struct manifest *m);
const struct manifest_line *manifest_find(const struct manifest *m, const char *path);
