/* Read a few small files out of the packages' payloads before compose
 * writes anything (users files, sysusers.d, SELinux file contexts): one
 * pass over each package that ships a wanted path. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct pkgset;

/* want(path, ctx): is this regular file wanted?  got(...) receives its
 * content (NUL-terminated, owned by the callee) and the package's path for
 * messages.  Files larger than max bytes are an error naming them. */
int pkgread_files(const struct pkgset *s, bool (*want)(const char *path, void *ctx),
                  int (*got)(const char *path, const char *pkg, char *data, size_t len, void *ctx),
                  size_t max, void *ctx);
