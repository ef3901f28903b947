/* One loop over independent items, spread over threads: the one thread
 * pool for work that is a list of items (hashing the picked packages of a
 * repository, the files of an image), so no caller spawns and joins its
 * own.
 *
 * The error rule: parallel_for returns 0 when fn returned >= 0 for every
 * item, else the error of the LOWEST index whose fn failed, with that
 * item's message recorded on the calling thread (imgerr_what(r)).  Every
 * item below that index has run, so the error (and its message) is the
 * same on every run whatever the timing; items above a failed one may be
 * skipped (early stop).  That is the error a loop from 0 to n - 1 that stops
 * at the first failure gives, whatever the number of threads. */
#pragma once
#include <stddef.h>

/* Work on item i (0 <= i < n) with the caller's ctx: 0, or a negative
 * errno with its message recorded (imgerr).  Called from several threads
 * at once, each item exactly once (or not at all after an earlier item
 * failed): it writes only into item i's own slots of ctx. */
typedef int (*parallel_fn)(size_t i, void *ctx);

/* Run fn on items 0..n-1 on up to n_threads threads, the caller's thread
 * being one of them (n_threads 0 or 1, or threads that cannot be started:
 * the caller's thread does all of it).  Returns when every started item is
 * done; see the error rule above. */
int parallel_for(size_t n, size_t n_threads, parallel_fn fn, void *ctx);

/* The threads worth using for CPU-bound items: the online CPUs, at least 1,
 * at most max. */
size_t parallel_cpus(size_t max);
