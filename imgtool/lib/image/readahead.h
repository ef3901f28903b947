/* Package payloads read ahead on a second thread.
 *
 * One producer thread streams the payloads of a list of packages in order:
 * decompresses, hashes and checks every file against its header digest
 * (rpmpkg does that), and hands entries and content over through a bounded
 * buffer (READAHEAD_BYTES of content at most), so decompression and hashing
 * run on one core while the caller writes on another.  The caller sees the
 * same sequence rpmpkg_payload_next/read would give, in the same order, so
 * what it writes does not depend on the timing.
 *
 * The work that needs a file's checked digest (signing, verifying a
 * signature) goes through a finish hook, called in batches on whichever
 * thread gets there first: the caller when it needs a result (it waits for
 * a batch of 64 while the producer is ahead), the producer when many files
 * are waiting (the caller is behind) or it has nothing else to do.  Batches
 * let signers share work (imasig signs 64 digests for little more than one
 * inversion), and the work goes to the thread with time for it.
 *
 *   readahead_start(pkgs, n, &hooks, &ra)
 *   for each package: while ((r = readahead_next(ra, &e)) > 0) {
 *           while ((n = readahead_read(ra, &data)) > 0) ... use data[0..n)
 *           readahead_finished(ra, &fin)   -> the hook's result for it
 *   }   r == 0: end of this package's payload; < 0: error (message set)
 *   readahead_stop(ra)
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ima/imasig.h"
#include "rpm/rpmpkg.h"
#include "ima/verity.h"

#define READAHEAD_BYTES (32u << 20)

/* A file whose content has been read and checked: the finish hook's input
 * and output. */
struct ra_file {
        size_t pkg, file;               /* package index, index in its file list */
        uint64_t size;                  /* bytes read */
        const uint8_t *digest;          /* checked header digest; NULL if there is none */
        size_t digest_len;
        bool has_sha256;                /* opts.sha256_for_weak and a weak header algo */
        uint8_t sha256[32];
        uint8_t digest_buf[IMA_MAX_DIGEST];
        struct verity_meta *verity;     /* with hooks.verity: the file's tree (malloc'ed; the
                                           caller may take it after readahead_finished) */
        /* filled by the hook */
        int rc;                         /* < 0: failed, msg says why */
        char *msg;                      /* malloc'ed */
        uint8_t *val;                   /* malloc'ed result, owned by the caller after readahead_finished */
        size_t val_len;
        int tag;                        /* free for the hook */
};

struct ra_hooks {
        /* files[0..n) in stream order; may run on the producer thread. */
        void (*finish)(void *ctx, struct ra_file *const files[], size_t n);
        void *ctx;
        /* also hash content with sha256 when the header digests are not
         * sha256/384/512 (md5 packages signed with our own key) */
        bool sha256_for_weak;
        size_t batch;                   /* files waiting before the producer runs the hook (default 256) */
        /* also compute every file's fs-verity tree and digest (ra_file.verity),
         * in the same pass as the header digest */
        const struct verity_params *verity;
};

struct ra_entry {
        size_t pkg;                     /* index into pkgs[] */
        size_t file;                    /* index in the package's file list */
        bool content;                   /* a regular file whose content follows */
};

struct readahead;

int readahead_start(struct rpmpkg *const *pkgs, size_t n, const struct ra_hooks *hooks,
                    struct readahead **out);
/* 1: *e is the next entry of the current package; 0: the package's payload
 * ended (the next call starts the next package); <0: error. */
int readahead_next(struct readahead *ra, struct ra_entry *e);
/* The next piece of the current entry's content: its length (data valid
 * until the next call), 0 after the last byte, <0 error. */
ssize_t readahead_read(struct readahead *ra, const uint8_t **data);
/* After readahead_read returned 0: the file with the hook's result.  The
 * pointer is valid until the next readahead_next; the caller may take
 * ->val (set it to NULL). */
int readahead_finished(struct readahead *ra, struct ra_file **out);
/* Stop the producer (early or at the end) and free everything. */
void readahead_stop(struct readahead *ra);
