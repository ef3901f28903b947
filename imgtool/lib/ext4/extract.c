/* extract: a file or a tree copied out of an image (imgtool extract).
 *
 * Everything is first written into a fresh temporary folder beside OUT
 * (mkdtemp), then renamed into place, so a failure leaves nothing half
 * written.  Inside it every name is created relative to a directory file
 * descriptor opened with O_NOFOLLOW, and created exclusively, so no entry of
 * the image can make us write outside OUT. */
#include "ext4/extract.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "ext4/ext4walk.h"
#include "base/output.h"
#include "base/util.h"

struct dir_fixup {
        char *rel;
        mode_t mode;
        int64_t mtime;
        uint32_t nsec;
};

struct extract {
        const char *start;        /* canonical start path in the image */
        int rootfd;               /* the temporary folder */
        bool as_root, xattrs;
        struct dir_fixup *dirs;
        size_t n_dirs, cap_dirs;
        int fd;                   /* file being written */
        const char *cur;          /* its image path, for messages */
};

/* Path of e relative to the start: "x" for the start itself (the name it
 * gets in the temporary folder), "x/a/b" below it. */
static char *relative(const struct extract *x, const char *path)
{
        size_t n = strlen(x->start);
        const char *rest = path + n;
        char *out;

        if (!strcmp(x->start, "/"))
                rest = path + 0;
        if (asprintf(&out, "x%s%s", (*rest && *rest != '/') ? "/" : "", !strcmp(path, "/") ? "" : rest) < 0)
                return NULL;
        return out;
}

/* Open the folder holding rel, one component at a time, following no
 * symlink.  *name points at rel's last component. */
static int open_parent(const struct extract *x, char *rel, const char **name)
{
        int fd = dup(x->rootfd);
        char *p = rel, *slash;

        while (fd >= 0 && (slash = strchr(p, '/'))) {
                int next;
                *slash = 0;
                next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                *slash = '/';
                close(fd);
                fd = next;
                p = slash + 1;
        }
        if (fd < 0)
                return imgerr(-errno, "%s: %m", rel);
        *name = p;
        return fd;
}

static int write_all(const void *buf, size_t len, void *userdata)
{
        struct extract *x = userdata;
        const char *p = buf;

        while (len) {
                ssize_t n = write(x->fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return imgerr(-errno, "writing %s: %m", x->cur);
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Holes stay holes: zero runs (holes, unwritten extents) are skipped with
 * lseek and the size set at the end, so a sparse terabyte costs nothing. */
static int copy_content(struct extract *x, struct ext4walk *w, const struct ext4walk_entry *e)
{
        _cleanup_free_ struct ext4walk_run *runs = NULL;
        size_t n = 0;
        int r = ext4walk_runs(w, e, &runs, &n);

        if (r == -EOPNOTSUPP)
                return ext4walk_read(w, e, write_all, x);   /* inline data: tiny */
        for (size_t i = 0; r == 0 && i < n; i++) {
                if (runs[i].zero) {
                        if (lseek(x->fd, (off_t)runs[i].len, SEEK_CUR) < 0)
                                r = imgerr(-errno, "writing %s: %m", x->cur);
                } else {
                        r = ext4walk_read_runs(w, &runs[i], 1, write_all, x);
                }
        }
        if (r == 0 && ftruncate(x->fd, (off_t)e->size) < 0)
                r = imgerr(-errno, "writing %s: %m", x->cur);
        return r;
}

static int set_xattrs(const struct extract *x, int fd, const struct ext4walk_entry *e)
{
        if (!x->xattrs)
                return 0;
        if (e->ima && fsetxattr(fd, "security.ima", e->ima, e->ima_len, 0) < 0)
                return imgerr(-errno, "%s: setting security.ima: %m", e->path);
        if (e->caps && fsetxattr(fd, "security.capability", e->caps, e->caps_len, 0) < 0)
                return imgerr(-errno, "%s: setting security.capability: %m", e->path);
        return 0;
}

static int make_file(struct extract *x, struct ext4walk *w, const struct ext4walk_entry *e,
                     int dirfd, const char *name)
{
        struct timespec ts[2] = { { e->mtime, e->mtime_nsec }, { e->mtime, e->mtime_nsec } };
        int r;

        x->fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (x->fd < 0)
                return imgerr(-errno, "%s: creating: %m", e->path);
        x->cur = e->path;
        r = copy_content(x, w, e);
        if (r == 0 && x->as_root && fchown(x->fd, e->uid, e->gid) < 0)
                r = imgerr(-errno, "%s: chown: %m", e->path);
        if (r == 0)
                r = set_xattrs(x, x->fd, e);
        /* chmod after chown: chown clears set-id bits. */
        if (r == 0 && fchmod(x->fd, e->mode & 07777) < 0)
                r = imgerr(-errno, "%s: chmod: %m", e->path);
        if (r == 0 && futimens(x->fd, ts) < 0)
                r = imgerr(-errno, "%s: setting times: %m", e->path);
        if (close(x->fd) < 0 && r == 0)
                r = imgerr(-errno, "%s: %m", e->path);
        x->fd = -1;
        return r;
}

static int make_hardlink(struct extract *x, const struct ext4walk_entry *e, int dirfd,
                         const char *name)
{
        _cleanup_free_ char *first = relative(x, e->link_of);
        const char *first_name = NULL;
        int fd, r = 0;

        if (!first)
                return imgerr(-ENOMEM, "out of memory");
        fd = open_parent(x, first, &first_name);
        if (fd < 0)
                return fd;
        if (linkat(fd, first_name, dirfd, name, 0) < 0)
                r = imgerr(-errno, "%s: linking to %s: %m", e->path, e->link_of);
        close(fd);
        return r;
}

static int make_special(struct extract *x, const struct ext4walk_entry *e, int dirfd,
                        const char *name)
{
        struct timespec ts[2] = { { e->mtime, e->mtime_nsec }, { e->mtime, e->mtime_nsec } };

        if (S_ISLNK(e->mode)) {
                if (symlinkat(e->target, dirfd, name) < 0)
                        return imgerr(-errno, "%s: creating symlink: %m", e->path);
        } else if (S_ISSOCK(e->mode) || ((S_ISCHR(e->mode) || S_ISBLK(e->mode)) && !x->as_root)) {
                log_warn("%s: skipped (%s)", e->path,
                         S_ISSOCK(e->mode) ? "a socket" : "device nodes need root");
                return 0;
        } else if (mknodat(dirfd, name, (e->mode & S_IFMT) | 0600,
                           makedev(e->rdev_major, e->rdev_minor)) < 0)
                return imgerr(-errno, "%s: creating node: %m", e->path);
        if (x->as_root && fchownat(dirfd, name, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return imgerr(-errno, "%s: chown: %m", e->path);
        if (!S_ISLNK(e->mode) && fchmodat(dirfd, name, e->mode & 07777, 0) < 0)
                return imgerr(-errno, "%s: chmod: %m", e->path);
        if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return imgerr(-errno, "%s: setting times: %m", e->path);
        return 0;
}

static int make_dir(struct extract *x, const struct ext4walk_entry *e, int dirfd,
                    const char *name, const char *rel)
{
        struct dir_fixup *d;

        /* Writable while we fill it; the real mode is set at the end. */
        if (mkdirat(dirfd, name, 0700) < 0)
                return imgerr(-errno, "%s: creating folder: %m", e->path);
        if (x->as_root && fchownat(dirfd, name, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return imgerr(-errno, "%s: chown: %m", e->path);
        if (GROW(x->dirs, x->n_dirs, x->cap_dirs, 64) < 0)
                return imgerr(-ENOMEM, "out of memory");
        d = x->dirs;
        d[x->n_dirs] = (struct dir_fixup){ strdup(rel), e->mode & 07777, e->mtime, e->mtime_nsec };
        if (!d[x->n_dirs].rel)
                return imgerr(-ENOMEM, "out of memory");
        x->n_dirs++;
        return 0;
}

static int extract_entry(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        struct extract *x = userdata;
        _cleanup_free_ char *rel = relative(x, e->path);
        const char *name = NULL;
        int dirfd, r;

        if (!rel)
                return imgerr(-ENOMEM, "out of memory");
        dirfd = open_parent(x, rel, &name);
        if (dirfd < 0)
                return imgerr_prefix(dirfd, "%s: ", e->path);
        if (S_ISDIR(e->mode))
                r = make_dir(x, e, dirfd, name, rel);
        else if (S_ISREG(e->mode) && e->link_of)
                r = make_hardlink(x, e, dirfd, name);
        else if (S_ISREG(e->mode))
                r = make_file(x, w, e, dirfd, name);
        else
                r = make_special(x, e, dirfd, name);
        close(dirfd);
        return r;
}

/* Deepest first, so a read-only folder is closed after its children. */
static int fix_dirs(struct extract *x)
{
        for (size_t i = x->n_dirs; i-- > 0;) {
                struct dir_fixup *d = &x->dirs[i];
                struct timespec ts[2] = { { d->mtime, d->nsec }, { d->mtime, d->nsec } };
                if (fchmodat(x->rootfd, d->rel, d->mode, 0) < 0 ||
                    utimensat(x->rootfd, d->rel, ts, AT_SYMLINK_NOFOLLOW) < 0)
                        return imgerr(-errno, "%s: %m", d->rel);
        }
        return 0;
}

/* Move tmp/x to out, by output.h's rule: without --force nothing that
 * exists (or appeared meanwhile) is replaced; with it only a regular file. */
static int install(const char *tmp, const char *out, bool force)
{
        _cleanup_free_ char *src = NULL;
        int r = output_check(out, force ? OUTPUT_FORCE : 0, NULL);

        if (r < 0)
                return r;
        if (asprintf(&src, "%s/x", tmp) < 0)
                return imgerr(-ENOMEM, "out of memory");
        if (renameat2(AT_FDCWD, src, AT_FDCWD, out, force ? 0 : RENAME_NOREPLACE) < 0)
                return imgerr(-errno, "%s: %s", out,
                              errno == EEXIST ? "appeared while extracting: not replacing it" : strerror(errno));
        return 0;
}

static int make_tmp(const char *out, char **tmp)
{
        _cleanup_free_ char *copy = strdup(out);
        char *dir;

        if (!copy)
                return imgerr(-ENOMEM, "out of memory");
        dir = dirname(copy);
        if (asprintf(tmp, "%s/.imgtool-extract.XXXXXX", dir) < 0)
                return imgerr(-ENOMEM, "out of memory");
        if (!mkdtemp(*tmp)) {
                int r = imgerr(-errno, "%s: cannot create a temporary folder there: %m", dir);
                free(*tmp);
                *tmp = NULL;
                return r;
        }
        return cleanup_add_tree(*tmp);
}

/* "-o -": one regular file's content to standard output. */
static int write_stdout(const void *buf, size_t len, void *userdata)
{
        struct extract *x = userdata;
        x->fd = STDOUT_FILENO;
        return write_all(buf, len, x);
}

static int extract_to_stdout(const char *image, const char *path)
{
        struct extract x = { .fd = STDOUT_FILENO, .cur = path };
        struct ext4walk *w = NULL;
        struct ext4walk_entry e;
        int r = ext4walk_open(image, &w);

        if (r == 0)
                r = ext4walk_stat(w, path, &e);
        if (r == 0 && !S_ISREG(e.mode))
                r = imgerr(-EINVAL, "%s: %s: only a regular file can go to standard output (-o -)", image, path);
        if (r == 0)
                r = ext4walk_read(w, &e, write_stdout, &x);
        if (r == 0)
                r = ext4walk_unchanged(w);
        ext4walk_close(w);
        return r;
}

int extract_path(const char *image, const char *path, const char *out, bool force, bool xattrs)
{
        struct extract x = { .rootfd = -1, .fd = -1, .xattrs = xattrs, .as_root = geteuid() == 0 };
        struct ext4walk *w = NULL;
        struct ext4walk_entry e;
        _cleanup_free_ char *tmp = NULL, *start = NULL;
        int r;

        const char *inputs[] = { image, NULL };

        if (!strcmp(out, "-"))
                return extract_to_stdout(image, path);
        r = output_check(out, force ? OUTPUT_FORCE : 0, inputs);
        if (r < 0)
                return r;
        r = ext4walk_open(image, &w);
        if (r < 0)
                return r;
        r = ext4walk_stat(w, path, &e);
        if (r < 0)
                goto out;
        start = strdup(e.path);
        x.start = start;
        r = start ? make_tmp(out, &tmp) : imgerr(-ENOMEM, "out of memory");
        if (r < 0)
                goto out;
        x.rootfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (x.rootfd < 0) {
                r = imgerr(-errno, "%s: %m", tmp);
                goto out;
        }
        r = ext4walk_walk(w, path, EXT4WALK_RECURSIVE, extract_entry, &x);
        if (r == 0)
                r = ext4walk_unchanged(w);
        if (r == 0)
                r = fix_dirs(&x);
        if (r == 0)
                r = install(tmp, out, force);
out:
        if (x.rootfd >= 0)
                close(x.rootfd);
        if (tmp) {
                remove_tree(tmp);   /* read-only folders made writable first */
                cleanup_remove(tmp);
        }
        for (size_t i = 0; i < x.n_dirs; i++)
                free(x.dirs[i].rel);
        free(x.dirs);
        ext4walk_close(w);
        return r;
}
