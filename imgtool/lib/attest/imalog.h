/* The IMA measurement log (binary_runtime_measurements): parse it and replay
 * it into PCR values, to check a TPM's PCR against the log and the log
 * against an image.
 *
 * Binary format (little-endian on x86), per entry:
 *   pcr u32 | template digest (sha1, 20 bytes) | name_len u32 | name |
 *   data_len u32 | data
 * For ima-ng / ima-sig, data is a sequence of u32-length-prefixed fields:
 *   d-ng  "ALGO:" NUL digest        n-ng  path NUL        sig  xattr (ima-sig)
 * Replay (per bank, from a zero PCR): extend with hash(data); a violation
 * (all-zero template digest) extends all-0xff instead. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMALOG_SHA1 20
#define IMALOG_SHA256 32

struct imalog_entry {
        uint32_t pcr;
        uint8_t template_digest[IMALOG_SHA1];
        char template_name[32];
        const uint8_t *data;          /* template data (in the log's buffer) */
        uint32_t data_len;
        bool violation;
        /* ima-ng / ima-sig fields; digest_algo "" for other templates */
        char digest_algo[16];         /* "sha256", "sha1", ... */
        const uint8_t *digest;        /* the file's digest */
        size_t digest_len;
        const char *path;             /* NUL-terminated, in the buffer */
        const uint8_t *sig;           /* security.ima value; NULL if none */
        size_t sig_len;
};

struct imalog {
        uint8_t *buf;
        size_t len;
        struct imalog_entry *entries;
        size_t n;
};

/* Parse a log (the buffer is copied).  -EBADMSG with "entry N: ..." on a
 * malformed log, including a sha1 template digest that does not match its
 * data. */
int imalog_parse(const uint8_t *buf, size_t len, struct imalog **out);
int imalog_read_file(const char *path, struct imalog **out);
void imalog_free(struct imalog *l);

/* Replay the entries for pcr into bank "sha1" (20 bytes) or "sha256"
 * (32 bytes), starting from zero.  Returns the number of entries used. */
int imalog_replay(const struct imalog *l, uint32_t pcr, const char *bank, uint8_t *value);

/* The keyid of an ima-sig entry's v2 signature (03 02 ...), or false. */
bool imalog_entry_keyid(const struct imalog_entry *e, uint32_t *keyid);
