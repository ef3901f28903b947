/* An RPM opened with librpm: header facts, file list, payload stream.
 * Nothing here trusts the package: paths are normalised and checked, sizes
 * bounded, and every content byte can be checked against the header digest. */
#pragma once
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rpmpkg;

/* File flags we care about (subset of RPMFILE_*). */
enum {
        RPMPKG_FILE_GHOST = 1 << 0,
        RPMPKG_FILE_CONFIG = 1 << 1,
        RPMPKG_FILE_DOC = 1 << 2,
};

struct rpmpkg_file {
        const char *path;         /* absolute, normalised ("/usr/bin/x"); never has ".." */
        mode_t mode;              /* type and permission bits, as in the header */
        const char *user, *group; /* owner names from the header */
        uint64_t size;
        int64_t mtime;
        dev_t rdev;               /* character / block devices */
        const char *link_target;  /* symlinks, else NULL */
        int digest_algo;          /* enum ima_hash_algo of the header digests */
        const uint8_t *digest;    /* regular files: header digest; else NULL */
        size_t digest_len;
        const uint8_t *ima;       /* RPMTAG_FILESIGNATURES decoded, or NULL */
        size_t ima_len;
        const char *caps;         /* RPMTAG_FILECAPS text ("cap_net_raw=ep"), NULL or "" if none */
        unsigned flags;           /* RPMPKG_FILE_* */
        unsigned nlink;           /* files in this hard-link set (1 = none) */
        uint32_t inode;           /* RPMTAG_FILEINODES: equal within a hard-link set */
        int link_first;           /* index of the first member of its hard-link set (rpm's
                                   * grouping, all members agree on mode, owner, content);
                                   * its own index if none */
        int index;                /* index in the header's file list */
};

/* rpmpkg_open's code for a source package (callers scanning a folder skip
 * one): an errno of its own, so that no caller reads the message. */
#define RPMPKG_ESOURCE (-EMEDIUMTYPE)

/* Read exactly len bytes of a package file (fd, path for messages) from
 * off: -EBADMSG "PATH: truncated package" when it ends before. */
int rpmpkg_pread_exact(int fd, void *buf, size_t len, off_t off, const char *path);

/* Open and read the header.  Fails with a message naming the file for: not
 * an RPM, truncated, source package, bad header digests, unsafe paths. */
int rpmpkg_open(const char *path, struct rpmpkg **out);
/* The same from an open file (taken, closed by rpmpkg_free): every read,
 * header and payload, is of that file, whatever path names later (path is
 * for messages).  For a package whose checksum was checked on fd. */
int rpmpkg_open_fd(int fd, const char *path, struct rpmpkg **out);
void rpmpkg_free(struct rpmpkg *p);

const char *rpmpkg_path(const struct rpmpkg *p);
/* What to open to read the package again: its path, or for rpmpkg_open_fd
 * /proc/self/fd/N (the very file it was opened on). */
const char *rpmpkg_source(const struct rpmpkg *p);
/* The file rpm reads when it writes this package into the image's rpm
 * database: the package itself, unless a signature pack gave it other file
 * signatures (sigpack.h: the same headers with the pack's signatures). */
const char *rpmpkg_db_source(const struct rpmpkg *p);
int rpmpkg_set_db_source(struct rpmpkg *p, const char *path);
const char *rpmpkg_name(const struct rpmpkg *p);
const char *rpmpkg_nevra(const struct rpmpkg *p);   /* name-[epoch:]version-release.arch */
const char *rpmpkg_arch(const struct rpmpkg *p);
int64_t rpmpkg_buildtime(const struct rpmpkg *p);
/* Names of scriptlets the package has (e.g. "%post"), NULL-terminated;
 * empty list if none.  Owned by the package. */
const char *const *rpmpkg_scriptlets(const struct rpmpkg *p);
/* One install scriptlet ("%pretrans", "%pre", "%post", "%posttrans") as rpm
 * runs it: *prog the interpreter and its arguments (malloc'ed vector;
 * rpm's default "/bin/sh" when the header names none; "<lua>" for rpm's
 * Lua), *body the script (malloc'ed; NULL for "-p /path" alone).  0 when
 * found, -ENOENT when the package has none, -ENOMEM. */
int rpmpkg_scriptlet(const struct rpmpkg *p, const char *name, char ***prog, char **body);
/* The librpm Header (rpm's Header type), for the dependency check and the
 * rpm database.  Owned by the package. */
void *rpmpkg_header(const struct rpmpkg *p);

size_t rpmpkg_file_count(const struct rpmpkg *p);
/* Fill *f for file i (0 <= i < count).  Pointers stay valid while p lives. */
int rpmpkg_file(const struct rpmpkg *p, size_t i, struct rpmpkg_file *f);

/* Payload streaming: the payload is read once, in archive order.
 *   r = rpmpkg_payload_next(pl, &idx)  -> 1 entry, 0 end, <0 error
 *   for a regular file with content, read its bytes with
 *   rpmpkg_payload_read() until it returns 0.  Members of a hard-link set
 *   come one entry each; only one of them carries the content
 *   (rpmpkg_payload_has_content()).
 * A truncated or corrupt payload is an error naming the package. */
struct rpmpkg_payload;
int rpmpkg_payload_open(struct rpmpkg *p, struct rpmpkg_payload **out);
int rpmpkg_payload_next(struct rpmpkg_payload *pl, size_t *file_index);
bool rpmpkg_payload_has_content(struct rpmpkg_payload *pl);
ssize_t rpmpkg_payload_read(struct rpmpkg_payload *pl, void *buf, size_t len);
/* After the last read of an entry's content (rpmpkg_payload_read returned
 * 0): the content's digest, already checked equal to the header digest.
 * -EAGAIN before that.  Lets callers sign without hashing a second time. */
int rpmpkg_payload_digest(struct rpmpkg_payload *pl, const uint8_t **digest, size_t *len);
void rpmpkg_payload_free(struct rpmpkg_payload *pl);

/* rpm's rule (rpmfilesCompare) for one path shipped twice: NULL if a and b
 * may share it, else what differs ("type", "mode", "size", "owner",
 * "symlink target", "content", "device number").  Modes differ unless
 * both are symlinks; owners are compared by name; identical entries of
 * any type are fine. */
const char *rpmpkg_file_difference(const struct rpmpkg_file *a, const struct rpmpkg_file *b);
/* "directory", "symlink", "file", ... for messages. */
const char *rpmpkg_type_name(mode_t mode);

/* Read rpm's configuration once (thread-safe, idempotent); librpm's own
 * messages go to log_verbose. */
int rpmpkg_init(void);
