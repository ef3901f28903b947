/* File data of an image, written with direct I/O on a background thread
 * (blockwriter.h).  Two buffers: the caller fills one while the thread
 * writes the other. */
#include "ext4/blockwriter.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

#define BUF_SIZE (4u << 20)

struct blockwriter {
        int fd;                    /* O_DIRECT */
        int fd_plain;              /* the same file without: where direct writes fail */
        bool plain;                /* they did: use fd_plain from now on (writer thread) */
        char *path;
        uint8_t *buf[2];
        int fill;                  /* the buffer the caller fills */
        size_t len;                /* bytes in it */
        uint64_t start;            /* their image offset */
        uint64_t base;             /* where the image starts in the file */

        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool busy;                 /* the other buffer is being written */
        size_t job_len;
        uint64_t job_off;
        bool stop;
        int err;                   /* first write error (-errno) */
};

static int write_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
        while (len) {
                ssize_t n = pwrite(fd, p, len, (off_t)off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t)n;
                off += (uint64_t)n;
        }
        return 0;
}

static void *writer_thread(void *arg)
{
        struct blockwriter *w = arg;

        pthread_setname_np(pthread_self(), "imgtool-write");
        pthread_mutex_lock(&w->lock);
        for (;;) {
                while (!w->busy && !w->stop)
                        pthread_cond_wait(&w->cond, &w->lock);
                if (!w->busy)
                        break;
                const uint8_t *p = w->buf[!w->fill];
                size_t len = w->job_len;
                uint64_t off = w->base + w->job_off;
                pthread_mutex_unlock(&w->lock);
                int r = write_all(w->plain ? w->fd_plain : w->fd, p, len, off);
                if (r == -EINVAL && !w->plain) {
                        /* open(O_DIRECT) can succeed where the writes then fail
                         * (some stacked filesystems): go on without */
                        w->plain = true;
                        r = write_all(w->fd_plain, p, len, off);
                }
                pthread_mutex_lock(&w->lock);
                if (r < 0 && !w->err)
                        w->err = r;
                w->busy = false;
                pthread_cond_broadcast(&w->cond);
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

static int report(struct blockwriter *w, int err)
{
        return imgerr(err, "%s: writing image: %s", w->path, strerror(-err));
}

/* Wait for the thread to be idle; its error, if any. */
static int wait_idle(struct blockwriter *w)
{
        int err;

        pthread_mutex_lock(&w->lock);
        while (w->busy)
                pthread_cond_wait(&w->cond, &w->lock);
        err = w->err;
        pthread_mutex_unlock(&w->lock);
        return err;
}

/* Hand the filled buffer to the thread and switch to the other. */
static int submit(struct blockwriter *w)
{
        int err;

        if (!w->len)
                return 0;
        err = wait_idle(w);
        if (err)
                return report(w, err);
        pthread_mutex_lock(&w->lock);
        w->fill = !w->fill;        /* the thread writes buf[!fill]: the one just filled */
        w->job_len = w->len;
        w->job_off = w->start;
        w->busy = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        w->len = 0;
        return 0;
}

int blockwriter_write(struct blockwriter *w, const void *data, size_t len, uint64_t off)
{
        const uint8_t *p = data;
        int r;

        if (len % BLOCKWRITER_ALIGN || off % BLOCKWRITER_ALIGN)
                return imgerr(-EINVAL, "%s: unaligned write of %zu bytes at %llu", w->path, len,
                              (unsigned long long)off);
        while (len) {
                if (w->len && (off != w->start + w->len || w->len == BUF_SIZE)) {
                        r = submit(w);
                        if (r < 0)
                                return r;
                }
                if (!w->len)
                        w->start = off;
                size_t n = BUF_SIZE - w->len < len ? BUF_SIZE - w->len : len;
                memcpy(w->buf[w->fill] + w->len, p, n);
                w->len += n;
                p += n;
                off += n;
                len -= n;
        }
        return 0;
}

int blockwriter_flush(struct blockwriter *w)
{
        int r = submit(w), err;

        if (r < 0)
                return r;
        err = wait_idle(w);
        return err ? report(w, err) : 0;
}

static void free_writer(struct blockwriter *w)
{
        if (w->fd >= 0)
                close(w->fd);
        if (w->fd_plain >= 0)
                close(w->fd_plain);
        free(w->buf[0]);
        free(w->buf[1]);
        free(w->path);
        free(w);
}

int blockwriter_open(const char *path, struct blockwriter **out)
{
        struct blockwriter *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return -ENOMEM;
        w->fd_plain = -1;
        w->fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
        if (w->fd >= 0)
                w->fd_plain = open(path, O_WRONLY | O_CLOEXEC);
        if (w->fd < 0 || w->fd_plain < 0) {
                r = -errno;
                free_writer(w);
                return r;
        }
        w->path = strdup(path);
        if (!w->path || posix_memalign((void **)&w->buf[0], BLOCKWRITER_ALIGN, BUF_SIZE) ||
            posix_memalign((void **)&w->buf[1], BLOCKWRITER_ALIGN, BUF_SIZE)) {
                free_writer(w);
                return -ENOMEM;
        }
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        r = -pthread_create(&w->thread, NULL, writer_thread, w);
        if (r < 0) {
                pthread_mutex_destroy(&w->lock);
                pthread_cond_destroy(&w->cond);
                free_writer(w);
                return r;
        }
        *out = w;
        return 0;
}

void blockwriter_set_base(struct blockwriter *w, uint64_t base)
{
        w->base = base;
}

int blockwriter_close(struct blockwriter *w)
{
        int r;

        if (!w)
                return 0;
        r = blockwriter_flush(w);
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
        free_writer(w);
        return r;
}
