#include "base/output.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/util.h"

#include <openssl/evp.h>

struct output {
        char *target;
        char *tmp;          /* NULL for standard output */
        int fd;
        unsigned flags;
};

static const char *type_name(mode_t m)
{
        switch (m & S_IFMT) {
        case S_IFDIR: return "folder";
        case S_IFLNK: return "symlink";
        case S_IFCHR: return "character device";
        case S_IFBLK: return "block device";
        case S_IFIFO: return "fifo";
        case S_IFSOCK: return "socket";
        default: return "special file";
        }
}

static int check_parent(const char *path)
{
        _cleanup_free_ char *copy = strdup(path);
        const char *dir;
        struct stat st;

        if (!copy)
                return -ENOMEM;
        dir = dirname(copy);
        if (stat(dir, &st) < 0)
                return imgerr(-errno, "%s: cannot write there: %s: %s", path, dir, strerror(errno));
        if (!S_ISDIR(st.st_mode))
                return imgerr(-ENOTDIR, "%s: cannot write there: %s is not a folder", path, dir);
        return 0;
}

static int check_inputs(const char *path, const struct stat *target, const char *const *inputs)
{
        for (size_t i = 0; inputs && inputs[i]; i++) {
                struct stat st;
                if (stat(inputs[i], &st) == 0 && st.st_dev == target->st_dev && st.st_ino == target->st_ino)
                        return imgerr(-EINVAL, "%s: is one of this command's inputs (%s): not overwriting it",
                                      path, inputs[i]);
        }
        return 0;
}

int output_check(const char *path, unsigned flags, const char *const *inputs)
{
        struct stat st;

        if (!path || !*path)
                return imgerr(-EINVAL, "an output path is empty");
        if (!strcmp(path, "-")) {
                if (flags & OUTPUT_STDOUT)
                        return 0;
                return imgerr(-EINVAL, "-: this output cannot go to standard output");
        }
        if (lstat(path, &st) < 0) {
                if (errno != ENOENT)
                        return imgerr(-errno, "%s: %s", path, strerror(errno));
                return check_parent(path);
        }
        if (!S_ISREG(st.st_mode))
                return imgerr(-EEXIST, "%s: exists and is a %s: refusing to replace it (outputs replace only regular files)",
                              path, type_name(st.st_mode));
        if (!(flags & OUTPUT_FORCE))
                return imgerr(-EEXIST, "%s: already exists (use --force to replace it)", path);
        return check_inputs(path, &st, inputs);
}

int output_open(const char *path, unsigned flags, mode_t mode, const char *const *inputs,
                struct output **out)
{
        struct output *o;
        int r = output_check(path, flags, inputs);

        if (r < 0)
                return r;
        o = calloc(1, sizeof(*o));
        if (!o || !(o->target = strdup(path))) {
                free(o);
                return -ENOMEM;
        }
        o->flags = flags;
        o->fd = STDOUT_FILENO;
        if (!strcmp(path, "-")) {
                fflush(stdout);   /* what was printed comes first */
                *out = o;
                return 0;
        }
        r = tmpfile_beside(path, &o->tmp, &o->fd);
        if (r >= 0 && (r = cleanup_add_file(o->tmp)) < 0) {
                unlink(o->tmp);
                close(o->fd);
        }
        if (r >= 0 && fchmod(o->fd, mode) < 0) {
                r = imgerr(-errno, "%s: %s", o->tmp, strerror(errno));
                output_abort(o);
                return r;
        }
        if (r < 0) {
                free(o->tmp);
                free(o->target);
                free(o);
                return r;
        }
        *out = o;
        return 0;
}

int output_write(struct output *o, const void *buf, size_t len)
{
        const char *p = buf;

        while (len) {
                ssize_t n = write(o->fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return imgerr(-errno, "%s: write failed: %s", o->target, strerror(errno));
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int output_fd(const struct output *o) { return o->fd; }
const char *output_tmp_path(const struct output *o) { return o->tmp; }
const char *output_target(const struct output *o) { return o->target; }
bool output_is_stdout(const struct output *o) { return !o->tmp; }

int output_rename_error(const struct output *o, int code)
{
        const char *msg = imgerr_what(code), *at;
        _cleanup_free_ char *fixed = NULL;

        if (!o || !o->tmp || !(at = strstr(msg, o->tmp)))
                return code;
        if (asprintf(&fixed, "%.*s%s%s", (int)(at - msg), msg, o->target, at + strlen(o->tmp)) < 0)
                return code;
        return imgerr(code, "%s", fixed);
}

static void output_free(struct output *o)
{
        free(o->tmp);
        free(o->target);
        free(o);
}

void output_abort(struct output *o)
{
        if (!o)
                return;
        if (o->tmp) {
                close(o->fd);
                unlink(o->tmp);
                cleanup_remove(o->tmp);
        }
        output_free(o);
}

/* Without --force the rename must not replace anything that appeared
 * meanwhile; with it, only a regular file. */
static int rename_into_place(struct output *o)
{
        struct stat st;

        if (!(o->flags & OUTPUT_FORCE)) {
                if (renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->target, RENAME_NOREPLACE) == 0)
                        return 0;
                if (errno == EEXIST)
                        return imgerr(-EEXIST, "%s: appeared while this command ran (use --force to replace it)",
                                      o->target);
                if (errno != EINVAL && errno != ENOSYS)
                        return imgerr(-errno, "%s: cannot rename into place: %s", o->target, strerror(errno));
                /* a filesystem without RENAME_NOREPLACE: check, then rename */
        }
        if (lstat(o->target, &st) == 0 && (!S_ISREG(st.st_mode) || !(o->flags & OUTPUT_FORCE)))
                return imgerr(-EEXIST, "%s: appeared while this command ran: not replacing it", o->target);
        if (rename(o->tmp, o->target) < 0)
                return imgerr(-errno, "%s: cannot rename into place: %s", o->target, strerror(errno));
        return 0;
}

int output_commit(struct output *o)
{
        int r = 0;

        if (!o->tmp) {
                output_free(o);
                return 0;
        }
        if (fsync(o->fd) < 0)
                r = imgerr(-errno, "%s: write failed: %s", o->target, strerror(errno));
        if (close(o->fd) < 0 && r == 0)
                r = imgerr(-errno, "%s: write failed: %s", o->target, strerror(errno));
        if (r == 0)
                r = rename_into_place(o);
        if (r < 0)
                unlink(o->tmp);
        cleanup_remove(o->tmp);
        output_free(o);
        return r;
}

int output_write_file(const char *path, unsigned flags, mode_t mode, const char *const *inputs,
                      const void *data, size_t len)
{
        struct output *o = NULL;
        int r = output_open(path, flags, mode, inputs, &o);

        if (r < 0)
                return r;
        r = output_write(o, data, len);
        if (r < 0) {
                output_abort(o);
                return r;
        }
        return output_commit(o);
}

void output_stream_put(struct output_stream *k, const char *s, size_t n)
{
        if (k->r < 0)
                return;
        if (k->md && !EVP_DigestUpdate(k->md, s, n)) {
                k->r = imgerr(-EIO, "%s: cannot hash what is written", output_target(k->o));
                return;
        }
        if (k->len + n > sizeof(k->buf)) {
                k->r = output_write(k->o, k->buf, k->len);
                k->len = 0;
                if (k->r < 0 || n > sizeof(k->buf)) {
                        if (k->r >= 0)
                                k->r = output_write(k->o, s, n);
                        return;
                }
        }
        memcpy(k->buf + k->len, s, n);
        k->len += n;
}

void output_stream_puts(struct output_stream *k, const char *s)
{
        output_stream_put(k, s, strlen(s));
}

int output_stream_flush(struct output_stream *k)
{
        if (k->r >= 0 && k->len)
                k->r = output_write(k->o, k->buf, k->len);
        k->len = 0;
        return k->r;
}
