/* Interpreters of a finished image's programs (interpcheck.h), read back
 * through ext4walk: the image is what the kernel will see. */
#include "image/interpcheck.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/elf.h"
#include "base/util.h"
#include "ext4/ext4walk.h"

#define MAX_SYMLINKS 40         /* the kernel's limit on one lookup */

/* Follow path through the image as the kernel's lookup does: every
 * symlink, in a middle component or the last, relative or absolute.
 * 0 with the regular file's entry in *e, -ENOENT/-ELOOP/-ENOTDIR when the
 * kernel would fail the same way. */
static int follow(struct ext4walk *w, const char *path, struct ext4walk_entry *e)
{
        char todo[2 * PATH_MAX], cur[PATH_MAX] = "", next[2 * PATH_MAX];
        int hops = 0;

        if (snprintf(todo, sizeof(todo), "%s", path) >= (int)sizeof(todo))
                return -ENAMETOOLONG;
        for (;;) {
                char *p = todo + strspn(todo, "/"), *rest;
                size_t n = strcspn(p, "/");
                char comp[NAME_MAX + 1];

                if (n == 0)
                        return ext4walk_stat(w, cur[0] ? cur : "/", e) < 0 ? -ENOENT : 0;
                if (n > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(comp, p, n);
                comp[n] = 0;
                rest = p + n;
                if (!strcmp(comp, "..")) {
                        char *slash = strrchr(cur, '/');
                        if (slash)
                                *slash = 0;
                } else if (strcmp(comp, ".")) {
                        size_t l = strlen(cur);
                        if (l + 1 + n >= sizeof(cur))
                                return -ENAMETOOLONG;
                        snprintf(cur + l, sizeof(cur) - l, "/%s", comp);
                        if (ext4walk_stat(w, cur, e) < 0)
                                return -ENOENT;
                        if (S_ISLNK(e->mode)) {
                                if (++hops > MAX_SYMLINKS)
                                        return -ELOOP;
                                cur[l] = 0;     /* the link's folder: relative targets start there */
                                if (e->target[0] == '/')
                                        cur[0] = 0;
                                if (snprintf(next, sizeof(next), "%s/%s", e->target, rest) >= (int)sizeof(next))
                                        return -ENAMETOOLONG;
                                memcpy(todo, next, sizeof(todo));
                                continue;
                        }
                        if (rest[strspn(rest, "/")] && !S_ISDIR(e->mode))
                                return -ENOTDIR;
                }
                memmove(todo, rest, strlen(rest) + 1);
        }
}

struct head {
        unsigned char buf[ELF_HEAD_BYTES];
        size_t len;
};

static int take_head(const void *buf, size_t len, void *userdata)
{
        struct head *h = userdata;
        size_t n = len < sizeof(h->buf) - h->len ? len : sizeof(h->buf) - h->len;

        memcpy(h->buf + h->len, buf, n);
        h->len += n;
        return h->len == sizeof(h->buf) ? 1 : 0;      /* 1: enough, stop reading */
}

static int check_program(struct ext4walk *w, const char *program, char **missing)
{
        struct ext4walk_entry e;
        char interp[PATH_MAX];
        struct head *h;
        bool script;
        int r;

        if (follow(w, program, &e) < 0 || !S_ISREG(e.mode))
                return 0;       /* no program: compose warns about that on its own */
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        r = ext4walk_read(w, &e, take_head, h);
        if (r >= 0)
                r = elf_interpreter(h->buf, h->len, interp, sizeof(interp));
        script = h->len > 0 && h->buf[0] == '#';
        free(h);
        if (r <= 0 || interp[0] != '/')
                return r == -ENOMEM ? r : 0;    /* static, unknown or malformed: the kernel says */
        if (follow(w, interp, &e) == 0 && S_ISREG(e.mode))
                return 0;
        if (asprintf(missing, "%s (%s)", interp, script ? "its #! interpreter" : "its ELF interpreter") < 0)
                return -ENOMEM;
        return 0;
}

int interpcheck_follow(struct ext4walk *w, const char *path, struct ext4walk_entry *e)
{
        return follow(w, path, e);
}

int interpcheck_program(const char *image, const char *program, char **missing)
{
        struct ext4walk *w;
        int r;

        *missing = NULL;
        r = ext4walk_open(image, &w);
        if (r < 0)
                return r;
        r = check_program(w, program, missing);
        ext4walk_close(w);
        imgerr_clear();         /* lookups that failed are the answer, not errors */
        return r;
}
