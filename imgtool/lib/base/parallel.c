/* parallel_for: the one thread pool for a list of items (see parallel.h). */
#include "base/parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

struct loop {
        parallel_fn fn;
        void *ctx;
        size_t n;
        atomic_size_t next;             /* the next item to take */
        atomic_size_t first_failed;     /* lowest failed index so far; n: none */
        pthread_mutex_t lock;           /* guards err and msg */
        int err;
        char *msg;                      /* first_failed's message, copied off its thread */
};

/* Keep item i's error if it is the lowest failed so far: the messages are
 * per thread, so the one to report is copied before the thread moves on. */
static void record_failure(struct loop *l, size_t i, int r)
{
        pthread_mutex_lock(&l->lock);
        if (i < atomic_load(&l->first_failed)) {
                free(l->msg);
                l->msg = strdup(imgerr_what(r));
                l->err = r;
                atomic_store(&l->first_failed, i);
        }
        pthread_mutex_unlock(&l->lock);
}

static void *run_items(void *arg)
{
        struct loop *l = arg;
        size_t i;

        while ((i = atomic_fetch_add(&l->next, 1)) < l->n) {
                int r;

                /* Items above a failed one cannot change the outcome;
                 * items below it still run, and may fail lower. */
                if (i > atomic_load(&l->first_failed))
                        continue;
                r = l->fn(i, l->ctx);
                if (r < 0)
                        record_failure(l, i, r);
        }
        return NULL;
}

int parallel_for(size_t n, size_t n_threads, parallel_fn fn, void *ctx)
{
        struct loop l = { .fn = fn, .ctx = ctx, .n = n };
        pthread_t *threads = NULL;
        size_t started = 0, extra = n_threads > 1 ? n_threads - 1 : 0;

        atomic_init(&l.next, 0);
        atomic_init(&l.first_failed, n);
        if (extra > n)
                extra = n ? n - 1 : 0;
        pthread_mutex_init(&l.lock, NULL);
        /* Without memory for the handles the caller's thread does it all. */
        if (extra && (threads = calloc(extra, sizeof(*threads))))
                for (; started < extra; started++)
                        if (pthread_create(&threads[started], NULL, run_items, &l) != 0)
                                break;
        run_items(&l);
        for (size_t t = 0; t < started; t++)
                pthread_join(threads[t], NULL);
        free(threads);
        pthread_mutex_destroy(&l.lock);
        if (!l.err)
                return 0;
        /* Without a copy of the message, strerror's text (imgerr_what). */
        if (l.msg)
                imgerr(l.err, "%s", l.msg);
        else
                imgerr_clear();
        free(l.msg);
        return l.err;
}

size_t parallel_cpus(size_t max)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        if (n < 1)
                return 1;
        return (size_t)n > max ? max : (size_t)n;
}
