#include "cleanup.h"

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

#include "util.h"

/* Fixed slots, no malloc: the handler may run while malloc holds its lock. */
#define SLOTS 32

struct slot {
        volatile sig_atomic_t used;   /* 0 free, 1 file, 2 tree */
        char path[PATH_MAX];
};

static struct slot slots[SLOTS];
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
        for (size_t i = 0; i < SLOTS; i++) {
                if (slots[i].used == 1)
                        unlink(slots[i].path);
                else if (slots[i].used == 2)
                        remove_at(AT_FDCWD, slots[i].path, 0);
                slots[i].used = 0;
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

/* Slots are claimed with the signals blocked, so the handler never sees a
 * half-copied path. */
static int add(const char *path, int kind)
{
        sigset_t all, old;
        int r = -ENOSPC;

        if (strlen(path) >= PATH_MAX)
                return imgerr(-ENAMETOOLONG, "%s: path too long", path);
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        for (size_t i = 0; i < SLOTS; i++)
                if (!slots[i].used) {
                        strcpy(slots[i].path, path);
                        slots[i].used = kind;
                        r = 0;
                        break;
                }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0)
                return imgerr(r, "%s: too many temporary files at once", path);
        return 0;
}

int cleanup_add_file(const char *path) { return add(path, 1); }
int cleanup_add_tree(const char *path) { return add(path, 2); }

void cleanup_remove(const char *path)
{
        sigset_t all, old;

        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        for (size_t i = 0; i < SLOTS; i++)
                if (slots[i].used && !strcmp(slots[i].path, path)) {
                        slots[i].used = 0;
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
