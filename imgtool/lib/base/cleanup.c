#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"

/* A list the handler can walk at any moment: nodes are added at the head
 * with the signals blocked and never freed, only marked free and reused
 * (a handler on another thread may be reading one), so any number of
 * temporaries can be registered and the handler never calls malloc. */
struct node {
        struct node *next;
        volatile sig_atomic_t kind;   /* 0 free, 1 file, 2 tree */
        size_t cap;
        char path[];
};

static struct node *volatile head;
static volatile pid_t children[4];

static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };

struct dirent64_raw {
        uint64_t d_ino;
        int64_t d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
};

/* Remove name in dirfd, a folder with everything below it.  Only system
 * calls: safe in a signal handler. */
static int remove_at(int dirfd, const char *name, int depth)
{
        char buf[4096];
        long n;
        int fd;

        if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if ((errno != EISDIR && errno != EPERM) || depth > 256)
                return -errno;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        fchmod(fd, 0700);   /* extract may have made it read-only already */
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
                for (long off = 0; off < n;) {
                        struct dirent64_raw *d = (struct dirent64_raw *)(buf + off);
                        off += d->d_reclen;
                        if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
                                remove_at(fd, d->d_name, depth + 1);
                }
        }
        close(fd);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int remove_tree(const char *path)
{
        return remove_at(AT_FDCWD, path, 0);
}

static void kill_children(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(children); i++) {
                pid_t pid = children[i];
                if (pid > 0) {
                        kill(pid, SIGKILL);
                        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                                ;
                        children[i] = 0;
                }
        }
}

static void on_signal(int sig)
{
        int saved = errno;

        kill_children();
        for (struct node *n = head; n; n = n->next) {
                if (n->kind == 1)
                        unlink(n->path);
                else if (n->kind == 2)
                        remove_at(AT_FDCWD, n->path, 0);
                n->kind = 0;
        }
        errno = saved;
        signal(sig, SIG_DFL);
        raise(sig);
}

void cleanup_install_handlers(void)
{
        struct sigaction sa = { .sa_handler = on_signal };

        sigfillset(&sa.sa_mask);   /* one cleanup at a time */
        for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
                struct sigaction old;
                /* a signal ignored by whoever started us stays ignored (nohup) */
                if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
                        continue;
                sigaction(signals[i], &sa, NULL);
        }
}

void cleanup_reset_in_child(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
                struct sigaction old;
                if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler == on_signal)
                        signal(signals[i], SIG_DFL);
        }
}

static void block_all(sigset_t *old)
{
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, old);
}

static int add(const char *path, int kind)
{
        size_t len = strlen(path);
        struct node *n, *fresh = NULL;
        sigset_t old;

        block_all(&old);
        for (n = head; n; n = n->next)
                if (!n->kind && n->cap > len)
                        break;
        if (!n) {
                pthread_sigmask(SIG_SETMASK, &old, NULL);
                fresh = calloc(1, sizeof(*fresh) + len + 1);
                if (!fresh)
                        return -ENOMEM;
                fresh->cap = len + 1;
                block_all(&old);
                fresh->next = head;
                head = n = fresh;
        }
        memcpy(n->path, path, len + 1);
        n->kind = kind;   /* last: the handler sees a whole path or none */
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return 0;
}

int cleanup_add_file(const char *path) { return add(path, 1); }
int cleanup_add_tree(const char *path) { return add(path, 2); }

void cleanup_remove(const char *path)
{
        sigset_t old;

        block_all(&old);
        for (struct node *n = head; n; n = n->next)
                if (n->kind && !strcmp(n->path, path)) {
                        n->kind = 0;
                        break;
                }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void cleanup_add_child(pid_t pid)
{
        for (size_t i = 0; i < ARRAY_SIZE(children); i++)
                if (!children[i]) {
                        children[i] = pid;
                        return;
                }
}

void cleanup_remove_child(pid_t pid)
{
        for (size_t i = 0; i < ARRAY_SIZE(children); i++)
                if (children[i] == pid)
                        children[i] = 0;
}

const char *scratch_base(void)
{
        const char *t = getenv("TMPDIR");
        struct stat st;

        if (t && *t)
                return t;
        if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK | X_OK) == 0)
                return "/dev/shm";   /* tmpfs: sqlite's many small writes cost no journal */
        return "/tmp";
}

int scratch_dir_make(const char *prefix, char **out)
{
        char *d;
        int r;

        if (asprintf(&d, "%s/%s.XXXXXX", scratch_base(), prefix) < 0)
                return -ENOMEM;
        if (!mkdtemp(d)) {
                r = imgerr(-errno, "%s: cannot make a scratch folder (TMPDIR): %s", d, strerror(errno));
                free(d);
                return r;
        }
        r = cleanup_add_tree(d);
        if (r < 0) {
                rmdir(d);
                free(d);
                return r;
        }
        *out = d;
        return 0;
}

void scratch_dir_remove(const char *dir)
{
        if (!dir)
                return;
        remove_tree(dir);
        cleanup_remove(dir);
}
