/* Small helpers shared by the whole library: error messages, cleanup
 * attributes, hex, logging.
 *
 * Errors are one value (as in systemd, with the message attached): a
 * function returns 0 (or a count) on success and a negative errno on
 * failure.  The function that *detects* the failure records the code with a
 * one-line message, imgerr(code, ...); callers may add context with
 * imgerr_prefix(code, ...); the code that *handles* the error asks for the
 * message of the code it holds, imgerr_what(r) (cmd_fail(r) in cmd/ prints
 * it once).  The recorded message belongs to one code: for any other code
 * (a bare `return -EIO`, a code translated on the way up) imgerr_what()
 * gives strerror's text, never a message left from another error.  Code
 * decides on the code, never on the message's text; code that handles an
 * error and goes on calls imgerr_clear().  The library never prints to
 * stdout and never exits. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
void closep(int *fd);
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_close_ _cleanup_(closep)

/* Room for one more element in the array v of n used and cap allocated
 * (size_t): the capacity doubles, starting at first.  0, or -ENOMEM with
 * v as it was.  The one growth rule for an array appended to one by one. */
#define GROW(v, n, cap, first) grow_array((void **)&(v), sizeof(*(v)), (n), &(cap), (first))
int grow_array(void **v, size_t elem_size, size_t n, size_t *cap, size_t first);

/* Record code (a negative errno) with its message for this thread and
 * return code.  The message should name the thing (file, path, package)
 * and the problem. */
int imgerr(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepend context ("pkg.rpm: ") to code's message (strerror's text when
 * the recorded message belongs to another code); returns code. */
int imgerr_prefix(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The message of error code: the recorded one when it was recorded for
 * code, else strerror(-code). */
const char *imgerr_what(int code);
/* Record code with "WHAT: " and OpenSSL's oldest queued error ("OpenSSL
 * error" when none), and empty OpenSSL's error queue; returns code. */
int imgerr_openssl(int code, const char *what);
/* Forget the recorded message (an error handled, the work goes on). */
void imgerr_clear(void);

/* Diagnostics to stderr, prefixed "imgtool: ".  Warnings are for things the
 * user should act on; verbose lines only appear with -v. */
extern int imgtool_verbose;
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Hex.  hex_decode returns the number of bytes or -EINVAL. */
void hex_encode(const uint8_t *in, size_t len, char *out /* 2*len+1 */);
int hex_decode(const char *hex, uint8_t **out, size_t *out_len);

/* Parse "512M", "2G", "4096", "1.5G" into bytes. */
int parse_size(const char *s, uint64_t *out);

/* Reading a file whole: every file imgtool reads into memory (keys, certs,
 * GPG keys, policies, layouts, logs) goes through read_file_max, which
 * stops at max bytes with "PATH: larger than N MiB (the limit for WHAT)", so
 * `--cert /dev/zero` fails at once instead of filling memory. */
#define READ_FILE_MAX (16u << 20)      /* keys, certificates, policies, layouts */
int read_file_max(const char *path, size_t max, const char *what, uint8_t **data, size_t *len);
/* read_file_max(path, READ_FILE_MAX, "keys, certificates and policies", ...) */
int read_file(const char *path, uint8_t **data, size_t *len);

/* Read a whole text file (policies, small configs) into *out (malloc'ed,
 * NUL-terminated), at most READ_FILE_MAX.  An empty file gives ""; a NUL
 * byte inside is -EINVAL. */
int read_text_file(const char *path, char **out);

/* mkdir -p DIR (0755): -errno with "DIR: cannot create directory: why", or
 * -ENOTDIR when DIR is there and not a folder. */
int mkdir_p(const char *dir);

/* A temporary path beside PATH (same filesystem, for rename).  The caller
 * frees it.  The file is created with mkstemp and left open in *fd.
 * Outputs use output.h, which registers it for removal on signals. */
int tmpfile_beside(const char *path, char **tmp_path, int *fd);

/* A version 4 style UUID derived from a seed and a purpose ("uuid",
 * "hash-seed", "gpt-disk"...): the same layout gives the same identities
 * run after run, different purposes give unrelated ones. */
void derive_uuid(const char *seed, const char *what, uint8_t out[16]);
/* Lower-case 8-4-4-4-12 text. */
void uuid_format(const uint8_t u[16], char out[37]);
/* The one escaping of text from packages, images and guests for a terminal,
 * a line-oriented listing or a JSON string: control characters (below 0x20,
 * 0x7f), bytes that are not well-formed UTF-8, and the code points a
 * terminal acts on (C1 controls, bidirectional overrides) become \ooo per
 * byte (octal, as in /proc/mounts), so the result is always valid UTF-8;
 * with ESCAPE_FIELD also spaces, tabs and
 * backslash, so the result is one field without blanks (ls, manifest,
 * verify, inspect).  Error and warning lines go through it too
 * (ESCAPE_LINE), so a path with a newline or an ESC cannot split or
 * colour a message.  Caller frees; NULL only when out of memory. */
enum { ESCAPE_LINE = 0, ESCAPE_FIELD = 1 };
char *escape_text(const char *s, int how);
/* len bytes are well-formed UTF-8 (RFC 3629). */
bool utf8_valid(const void *s, size_t len);

/* Monotonic seconds, for reports. */
double now_seconds(void);
