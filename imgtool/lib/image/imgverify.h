/* Offline verification of an image: every regular file must carry a
 * security.ima digital signature, by a trusted key, over its actual
 * content.  Optionally, the image must hold exactly the expected files.
 *
 * The report is data (a list of violations and figures); the caller
 * prints it as text (imgverify_violation_text) or JSON (imgverify_report_json).
 * The image is opened read-only and never written. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ima/imasig.h"
#include "image/plan.h"

struct ext4walk;
struct ext4walk_entry;

enum imgverify_reason {
        IMGV_NO_SIGNATURE,       /* "no signature" */
        IMGV_HASH_ONLY,          /* "hash-only value, not a signature" */
        IMGV_UNKNOWN_KEY,        /* "unknown key 1a2b3c4d" */
        IMGV_INVALID,            /* "invalid signature (content changed or signed by another key)" */
        IMGV_MALFORMED,          /* "malformed security.ima: <why>" */
        IMGV_UNSUPPORTED,        /* "unsupported security.ima type: <name>" */
        /* Comparison with the expected files (--against): */
        IMGV_UNEXPECTED,         /* "not in the layout's packages" */
        IMGV_MISSING,            /* "missing (from package X)" */
        IMGV_CONTENT_DIFFERS,    /* "content differs from package X" */
        IMGV_TYPE_DIFFERS,       /* "type differs from package X" */
        IMGV_MODE_DIFFERS,       /* "mode 0755, package X says 0644" */
        IMGV_OWNER_DIFFERS,      /* "owner 0:0, package X says 1:1" */
        IMGV_TARGET_DIFFERS,     /* "symlink target differs from package X" */
        IMGV_TOO_LARGE,          /* "N bytes, larger than the whole image (M bytes): not hashed" */
        IMGV_LABEL_DIFFERS,      /* "security.selinux A, the policy says B" */
        /* fs-verity (files with EXT4_VERITY_FL, or any file when required): */
        IMGV_VERITY_BLOCK,       /* "data block 3 (offset 12288) does not match its fs-verity hash" */
        IMGV_VERITY_DAMAGED,     /* "fs-verity Merkle tree or descriptor damaged ..." */
        IMGV_NO_VERITY,          /* "no fs-verity tree" */
        IMGV_VERITY_SIGNATURE,   /* "fs-verity signature: ..." (builtin PKCS#7 missing or invalid) */
};

/* What fs-verity an image must have (verify --against a [Verity] layout). */
enum imgverify_verity {
        IMGV_VERITY_ANY = 0,     /* check whatever verity metadata and signatures are there */
        IMGV_VERITY_IMA_V3,      /* every regular file verity, security.ima a v3 signature */
        IMGV_VERITY_BUILTIN,     /* every regular file verity with a PKCS#7 in its descriptor */
};

struct imgverify_violation {
        char *path;
        enum imgverify_reason reason;
        char *text;              /* the full reason, e.g. "unknown key 1a2b3c4d" */
        size_t seq;              /* order of discovery, for a stable sort */
};

/* One path the image must contain (from a layout's packages).  Sorted by
 * path (strcmp) in imgverify_opts.expected. */
struct imgverify_expected {
        const char *path;        /* absolute, "/usr/bin/x" */
        mode_t mode;             /* type bits + permissions */
        uid_t uid;
        gid_t gid;
        int digest_algo;         /* enum ima_hash_algo; 0: do not compare content */
        uint8_t digest[IMA_MAX_DIGEST];
        const char *target;      /* symlinks; NULL: do not compare */
        const char *package;     /* for messages, may be NULL */
};

struct imgverify_opts {
        const struct ima_trust *trust;          /* required */
        const char *const *allow_unsigned;      /* fnmatch(3) globs, no FNM_PATHNAME */
        size_t n_allow_unsigned;
        const struct imgverify_expected *expected;  /* NULL: no comparison */
        size_t n_expected;
        /* Paths under these prefixes may exist without being expected
         * (e.g. "/var/lib/rpm" written by compose itself). */
        const char *const *extra_ok;
        size_t n_extra_ok;
        /* SELinux labels every inode must carry (labels.h); NULL: not checked. */
        struct labels *labels;
        /* fs-verity: the trusted certificates' files (builtin signatures are
         * PKCS#7, checked with OpenSSL against them; NULL-terminated), and
         * what must be there */
        char *const *cert_files;
        enum imgverify_verity verity;
};

struct imgverify_report {
        char *image;
        struct imgverify_violation *v;
        size_t n_v, cap_v;
        uint64_t files;          /* regular-file paths checked */
        uint64_t signed_ok;      /* of those, with a valid signature */
        uint64_t verity_ok;      /* of those, with fs-verity metadata that matches the content */
        uint64_t bytes;          /* content bytes hashed (hard links once) */
        double seconds;
};

/* The expected files of a layout's packages (--against): every non-ghost
 * file of every package the layout installs, as compose writes them:
 * owners and modes from owners.h (the image's own /etc/passwd and
 * /etc/group as earlier packages left them; unknown names are root without
 * set-id bits), shared paths by pathmap.h's rule (a conflict is an error
 * naming both packages; the first package's record wins).  Strings point
 * into the package set, which lives as long as the expectation. */
struct layout;
struct imgverify_expectation {
        struct imgverify_expected *v;
        size_t n;
        struct plan plan;        /* the package set, users and groups, SELinux labels (plan.h) */
        char **created;          /* the paths compose makes itself (plan.h), allowed
                                  * without a package; rpmdb from the image's macros */
        struct scriptlets_record *scr;  /* Scriptlets=run: the image's record (scriptlets.h) */
        size_t n_scr;
        char *scr_text;
};
int imgverify_expect_layout(const struct layout *l, const char *image,
                            struct imgverify_expectation **out);
void imgverify_expectation_free(struct imgverify_expectation *x);

/* Run the checks.  Returns 0 with *out filled (violations or not), or a
 * negative errno if the image could not be checked at all. */
int imgverify_run(const char *image, const struct imgverify_opts *o,
                  struct imgverify_report **out);
void imgverify_report_free(struct imgverify_report *r);

/* MB/s (10^6 bytes) of the hashing, 0 if nothing was hashed. */
double imgverify_mbps(const struct imgverify_report *r);
/* The whole report as JSON text (json-c); caller frees.  NULL on ENOMEM. */
char *imgverify_report_json(const struct imgverify_report *r);

/* Hash a regular file of the image with algo (enum ima_hash_algo). */
int imgverify_file_digest(struct ext4walk *w, const struct ext4walk_entry *e, int algo,
                          uint8_t *digest);
/* A short, stable description of a security.ima value for listings:
 * "-" (none), "sig:<keyid>" (a v2 signature), "hash:<algo>" (hash only),
 * "bad" (malformed), or the type's name without spaces. */
void imgverify_ima_summary(const uint8_t *val, size_t len, char *buf, size_t buflen);
