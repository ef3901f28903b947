/* composer: the compose pipeline's state, shared by its parts (compose.c the
 * pipeline, prepare.c what it decides before the first file, signfiles.c
 * the signatures, created.c the files compose makes itself, scriptwrite.c
 * what Scriptlets=run changed, bootneeds.c what a boot lacks); not for
 * other modules. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "boot/bootfiles.h"
#include "ext4/ext4img.h"
#include "image/plan.h"
#include "image/readahead.h"
#include "ima/verity.h"

struct compose_opts;     /* compose.h */
struct compose_report;

#define COPY_BUF_SIZE (256u << 10)
#define CAPTURE_MAX (4u << 20)
#define BLOCK 4096u

/* A few image files whose content compose needs to know while it writes:
 * the image's own users and groups (owners.h resolves through them, as rpm
 * resolves through the target's /etc/passwd) and rpm's macros (the rpmdb
 * path). */
struct capture {
        const char *path;
        char *data;
        size_t len;
        bool too_big;         /* over CAPTURE_MAX: not a real passwd file, nothing kept */
};

enum { CAP_PASSWD, CAP_GROUP, CAP_RPM_MACROS, CAP_COUNT };

struct composer {
        const struct layout *l;
        const struct compose_opts *o;
        struct compose_report *rep;
        struct plan plan;            /* the package set, users and groups, labels */
        struct ext4img *img;
        struct ima_trust *trust;
        struct ima_key *key;
        struct sigreq *req;          /* --defer-signatures: what Key= would sign */
        struct output *request_out;  /* its request, committed with the image */
        struct sigpack_set *packs;   /* [Signatures] Packs=, bound to the set; NULL: none */
        struct pathmap *paths;
        struct readahead *ra;        /* the packages' payloads, read ahead on another thread */
        struct composedb_job *db;    /* the rpm database, made by a child process meanwhile */
        struct ima_hasher *sha256;   /* files compose makes, and packages whose digests cannot be signed (md5) */
        struct verity_params vparams;     /* [Verity] Enable=yes */
        struct verity_signer *vsigner;    /* builtin and ipe: PKCS#7 in the descriptors */
        int64_t epoch;
        uint8_t uuid[16];
        char **inputs;               /* every file read: no output may be one of them */
        struct output *image;
        struct bootfiles boot;
        struct bootdisk *disk;       /* Format=disk: the UKI's parts and the disk plan */
        uint64_t root_size;          /* Format=disk with a fixed Size=: what the root partition holds */
        uint8_t *buf;
        struct capture cap[CAP_COUNT];
        bool cap_changed[CAP_COUNT]; /* written by the current package */
        struct owners *owners;
        char **warned_owners;
        struct scriptlets *scr;      /* Scriptlets=run: what the scriptlets changed */
        size_t pkg_index;
        double t0;
};

enum sig_source { SIG_NONE, SIG_PACKAGE, SIG_SIGNED };

/* compose.c */
int label_file(struct composer *c, struct ext4img_file *out, const char *path);
int ensure_parents(struct composer *c, int pkg, const char *path);

/* signfiles.c */
int sign_digest(struct composer *c, int algo, const uint8_t *digest, size_t len,
                uint8_t **val, size_t *val_len);
void finish_files(void *ctx, struct ra_file *const files[], size_t n);

/* created.c */
int write_created_attr(struct composer *c, const char *path, const struct ext4img_attr *attr, int fd);
int write_users_file(struct composer *c, const char *path, const struct ext4img_attr *a,
                     const char *data, size_t len, struct ext4img_file *out);
int write_created_users(struct composer *c);
int write_ima_cert(struct composer *c);
int write_rpmdb(struct composer *c);
int write_kernel(struct composer *c);

/* prepare.c */
int list_skipped_scriptlets(struct composer *c);
int load_keys(struct composer *c);
int64_t choose_epoch(struct composer *c);
void choose_identity(struct composer *c);
int create_image(struct composer *c);
/* --defer-signatures: the signing request, once the image is complete */
int write_request(struct composer *c);

/* scriptwrite.c: Scriptlets=run */
/* The scratch image the scriptlets run in (scriptlets_run's callback; ctx
 * is the composer). */
int make_scratch(void *ctx, const char *path, char uuid[37]);
/* What the scriptlets changed, written into the image, and their manifest. */
int apply_scriptlets(struct composer *c);

/* bootneeds.c: with Kernel=, a warning for each thing a boot needs that
 * the image lacks */
void warn_boot_needs(struct composer *c);
