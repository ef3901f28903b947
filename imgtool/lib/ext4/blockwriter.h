/* File data of an image, written with direct I/O on a background thread.
 *
 * Writes of whole blocks at block offsets are gathered while they follow
 * one another (ext4img allocates files contiguously, so nearly all do) into
 * a 4 MiB buffer, which a second thread writes with O_DIRECT while the next
 * one fills.  The data skips the page cache: no copy into it, no delayed
 * allocation work in the kernel, and nothing left for the final fsync. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define BLOCKWRITER_ALIGN 4096u

struct blockwriter;

/* Open path (an existing file) for direct writes.  -EINVAL/-EOPNOTSUPP
 * when the filesystem has no direct I/O (tmpfs): use plain pwrite then. */
int blockwriter_open(const char *path, struct blockwriter **out);
/* Add base (a multiple of BLOCKWRITER_ALIGN) to every offset from now on:
 * the filesystem lies at base in the file (a disk's partition). */
void blockwriter_set_base(struct blockwriter *w, uint64_t base);
/* len and off are multiples of BLOCKWRITER_ALIGN.  data is copied; errors
 * of earlier writes may show up here. */
int blockwriter_write(struct blockwriter *w, const void *data, size_t len, uint64_t off);
/* Wait until everything handed over is written; the first error, if any. */
int blockwriter_flush(struct blockwriter *w);
/* Flush and free; NULL is fine. */
int blockwriter_close(struct blockwriter *w);
