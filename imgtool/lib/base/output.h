/* Output files: one set of rules for every file any command writes
 * (docs/robustness.md, "Output files").
 *
 *  - "-" means standard output where the command allows it (OUTPUT_STDOUT:
 *    reports, manifests); the bytes go straight through.
 *  - Anything else is written to a temporary name beside the target
 *    (TARGET.tmp.XXXXXX, same filesystem) and renamed over the target by
 *    output_commit(), which a command calls only once all its outputs are
 *    complete; so a failed or interrupted run leaves no partial file and
 *    an old target untouched.  Temporaries are registered with cleanup.h:
 *    SIGINT/SIGTERM/SIGHUP remove them.
 *  - The overwrite rule, the same for every command: an existing target is
 *    refused unless --force (OUTPUT_FORCE), and even then only a regular
 *    file is replaced: a device node (/dev/null), fifo, socket, folder or
 *    symlink at the target is refused, never replaced or followed.
 *  - A target that is one of the command's inputs (same st_dev and st_ino,
 *    so hard links and symlinks to it count) is refused.
 *  - A missing parent folder, and any write, fsync or rename error, is an
 *    error: the command fails.
 *
 * Commands check every output with output_check() before they start work,
 * so a bad path fails in milliseconds, not after a compose. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
        OUTPUT_FORCE = 1 << 0,    /* replace an existing regular file */
        OUTPUT_STDOUT = 1 << 1,   /* "-" is standard output */
};

struct output;

/* Would path be accepted (flags, and not one of inputs: NULL-terminated,
 * may be NULL)?  Makes nothing. */
int output_check(const char *path, unsigned flags, const char *const *inputs);

/* output_check(), then the temporary file (mode applies from the start, so
 * a private key is never readable by others). */
int output_open(const char *path, unsigned flags, mode_t mode, const char *const *inputs,
                struct output **out);
int output_write(struct output *o, const void *buf, size_t len);
int output_fd(const struct output *o);
/* The temporary file's path, for libraries that want a path (libext2fs);
 * NULL for standard output. */
const char *output_tmp_path(const struct output *o);
const char *output_target(const struct output *o);
bool output_is_stdout(const struct output *o);

/* Libraries writing the temporary name their errors after it: say the
 * target instead ("IMAGE: writing image: No space left on device").
 * Returns code. */
int output_rename_error(const struct output *o, int code);

/* fsync, close and rename over the target.  Frees o, even on error (then
 * the temporary is removed). */
int output_commit(struct output *o);
/* Remove the temporary and free o.  NULL is fine. */
void output_abort(struct output *o);

/* The whole job for a buffer: open, write, commit. */
int output_write_file(const char *path, unsigned flags, mode_t mode, const char *const *inputs,
                      const void *data, size_t len);

/* A text written piece by piece (a reference's or a Keylime policy's file
 * list, too long to build in memory): pieces are gathered into 64 KiB
 * writes and, when md is set, hashed as they go.  The first error sticks in
 * r and later pieces are dropped, so a writer checks once, at the end. */
struct output_stream {
        struct output *o;
        struct evp_md_ctx_st *md;       /* EVP_MD_CTX; NULL: not hashed */
        char buf[1 << 16];
        size_t len;
        int r;
};

void output_stream_put(struct output_stream *k, const char *s, size_t n);
void output_stream_puts(struct output_stream *k, const char *s);
/* Writes what is gathered; returns r. */
int output_stream_flush(struct output_stream *k);
