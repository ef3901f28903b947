/* The IMA measurement log (binary_runtime_measurements): parse it and replay
 * it into PCR values, to check a TPM's PCR against the log and the log
 * against an image.  The one parser for `attest`, `ima-log` and the guest
 * checks (which run `ima-log`).
 *
 * Binary format (little-endian on x86), per entry:
 *   pcr u32 | template digest (sha1, 20 bytes) | name_len u32 | name |
 *   data_len u32 | data
 * data is the template's fields, each u32-length-prefixed.  Every template
 * the kernel emits is parsed (security/integrity/ima/ima_template.c):
 *   ima-ng     d-ng|n-ng                ima-sig    d-ng|n-ng|sig
 *   ima-ngv2   d-ngv2|n-ng              ima-sigv2  d-ngv2|n-ng|sig
 *   ima-buf    d-ng|n-ng|buf            ima-modsig d-ng|n-ng|sig|d-modsig|modsig
 *   evm-sig    d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode
 *   ima        d|n, framed differently: no data_len, a bare sha1 digest,
 *              the name without its NUL (hashed padded to 256 bytes)
 * and a custom template (ima_template_fmt=), whose name is its field list
 * ("d-ng|n-ng|sig").  A template name that is none of these, or data that
 * does not split exactly into the template's fields, is an error naming
 * the entry: the template name is not covered by the template digest, so
 * an entry the parser skipped could hide a measured file.
 *   d-ng    "ALGO:" NUL digest            d-ngv2  "TYPE:ALGO:" NUL digest,
 *                                                 TYPE ima or verity
 *   n-ng    path NUL                      sig     security.ima value
 * Replay (per bank, from a zero PCR): extend with hash(data); a violation
 * (all-zero template digest) extends all-0xff instead. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMALOG_SHA1 20
#define IMALOG_SHA256 32
/* The one size limit for IMA logs (attest, ima-log): about 100 bytes an
 * entry, so some 2.5 million entries. */
#define IMALOG_MAX (256u << 20)
#define IMALOG_WHAT "IMA measurement logs"

enum imalog_kind {
        IMALOG_FILE,              /* a file (or boot_aggregate): digest and path */
        IMALOG_BUFFER,            /* ima-buf: a buffer (keys, kexec-cmdline, critical data) */
};

struct imalog_entry {
        uint32_t pcr;
        uint8_t template_digest[IMALOG_SHA1];
        char template_name[64];
        const uint8_t *data;          /* template data as hashed (in the log's buffer) */
        uint32_t data_len;
        bool violation;
        enum imalog_kind kind;
        /* "ima" or "verity" for d-ngv2 digests, "" for d-ng and d */
        char digest_type[8];
        char digest_algo[16];         /* "sha256", "sha1", ... */
        const uint8_t *digest;        /* the file's (or buffer's) digest */
        size_t digest_len;
        const char *path;             /* NUL-terminated, in the buffer */
        const uint8_t *sig;           /* security.ima value; NULL if none */
        size_t sig_len;
        const uint8_t *buf;           /* ima-buf's buffer */
        size_t buf_len;
};

struct imalog {
        uint8_t *buf;
        size_t len;
        struct imalog_entry *entries;
        size_t n;
        uint8_t **owned;              /* per-entry copies ('ima' template) */
        size_t n_owned, cap_owned;
};

/* Parse a log (the buffer is copied).  -EBADMSG with "entry N: ..." on a
 * malformed log, an unknown template, or a sha1 template digest that does
 * not match its data. */
int imalog_parse(const uint8_t *buf, size_t len, struct imalog **out);
/* Read (at most IMALOG_MAX bytes) and parse. */
int imalog_read_file(const char *path, struct imalog **out);
void imalog_free(struct imalog *l);

/* Replay the entries for pcr into bank "sha1" (20 bytes) or "sha256"
 * (32 bytes), starting from zero.  Returns the number of entries used. */
int imalog_replay(const struct imalog *l, uint32_t pcr, const char *bank, uint8_t *value);

/* The keyid of an entry's v2 or v3 signature (03 02/03 ...), or false. */
bool imalog_entry_keyid(const struct imalog_entry *e, uint32_t *keyid);
