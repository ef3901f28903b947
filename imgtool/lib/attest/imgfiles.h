/* The regular files of an image with the digests a verifier needs: sha256
 * of the content and the digest IMA's template will carry (the signature's
 * own hash algo, else sha256), plus the signature's keyid.  Shared by
 * `reference` and `keylime-policy`, so both describe exactly the same files.
 * Content is hashed on one thread per CPU when the image is mapped. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ima/imasig.h"

struct imgfile {
        char *path;
        uint64_t size;
        uint8_t sha256[32];
        int ima_algo;                 /* enum ima_hash_algo of the IMA template digest */
        uint8_t ima_digest[IMA_MAX_DIGEST];
        bool has_sig;                 /* a v2 digital signature (03 02) */
        uint32_t keyid;               /* when has_sig */
        char ima_summary[40];         /* as manifest's "ima" column: sig:KEYID, hash:ALGO, - */
        const char *hardlink_of;      /* an earlier path of the same inode, or NULL */
        bool has_verity;              /* fs-verity enabled ([Verity]) */
        uint8_t verity_digest[32];    /* its fs-verity file digest, as IMA's ima-ngv2 "verity:" records it */
};

struct imgfiles {
        struct imgfile *v;            /* in path order (bytewise) */
        size_t n;
        uint64_t bytes;               /* content hashed (hard links once) */
};

/* Walk IMAGE and hash every regular file. */
int imgfiles_collect(const char *image, struct imgfiles **out);
void imgfiles_free(struct imgfiles *f);

/* Read one whole regular file of IMAGE (small: certs, policies).  -ENOENT
 * without a message when the path does not exist. */
int imgfiles_read_one(const char *image, const char *path, uint8_t **data, size_t *len);

/* The IMA hash algorithm IMA records for a file with this security.ima:
 * a v2 signature's or a digest's own algo, else the kernel default
 * (sha256 in every kernel imgtool targets). */
int imgfiles_ima_algo(const uint8_t *ima, size_t len);
