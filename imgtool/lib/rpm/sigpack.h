/* Signature packs: IMA file signatures kept outside the packages they sign
 * (docs/sigpack.md describes the format and why it is shaped so).
 *
 * A pack lists packages, each named by its header digest (SHA-256 of the
 * main header, what rpm calls SHA256HEADER) and NEVRA, and for each of their
 * regular files: path, content digest (the header's file digest) and the
 * complete security.ima value, in binary.  The bytes are canonical (packages
 * sorted by header digest, files by path), so the same input gives the same
 * pack.  The pack ends with a detached PKCS#7 SignedData over everything
 * before it, with signed attributes: the signature is over the DER of those
 * attributes, never over a file digest, so it cannot pass as an IMA
 * signature, and a signature without them (what an IMA signature of a pack
 * file would give) is refused. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIGPACK_HDR_DIGEST 32

struct ima_key;
struct rpmpkg;

struct sigpack_entry {
        const char *path;
        int algo;                  /* enum ima_hash_algo of digest */
        const uint8_t *digest;
        size_t digest_len;
        const uint8_t *ima;        /* the security.ima value */
        size_t ima_len;
        const uint8_t *ima_v3;     /* a v3 value over the file's fs-verity digest (unsalted,
                                    * 4K blocks, SHA-256), or NULL */
        size_t ima_v3_len;
};

struct sigpack_pkg {
        const uint8_t *hdr_digest; /* SIGPACK_HDR_DIGEST bytes */
        const char *nevra;
        struct sigpack_entry *e;
        size_t n;
};

struct sigpack {
        char *path;
        uint8_t *bytes;            /* the whole file: every pointer above points here */
        size_t len;
        size_t signed_len;         /* bytes the PKCS#7 covers */
        struct sigpack_pkg *pkgs;
        size_t n;
        bool v3;                   /* entries carry v3 values (format flag 1) */
        char *signer;              /* subject of the signing certificate, when known */
        char *arena;               /* private: the strings */
};

/* SHA-256 of an RPM's main header (magic, index and data), computed from
 * the file's bytes: equal to `rpm -qp --qf '%{SHA256HEADER}'`. */
int rpm_header_sha256(const char *rpm_path, uint8_t out[SIGPACK_HDR_DIGEST]);

/* ---- making ---------------------------------------------------------------- */

struct sigpack_builder;
int sigpack_builder_new(struct sigpack_builder **out);
void sigpack_builder_free(struct sigpack_builder *b);
/* Add one package: every regular file that is not a ghost, signed with
 * sign_key over its header digest, or (sign_key NULL) the signature the
 * package carries (files without one are left out).  With v3_key each
 * entry also gets a v3 signature by it over the file's fs-verity digest,
 * computed from the payload.  *added: entries. */
int sigpack_builder_add(struct sigpack_builder *b, const char *rpm_path,
                        const struct ima_key *sign_key, const struct ima_key *v3_key, size_t *added);
/* Write the pack, signed with key (its certificate cert_path), to out
 * (output.h's rules; inputs: files out must not be). */
int sigpack_builder_write(struct sigpack_builder *b, const struct ima_key *key,
                          const char *cert_path, const char *out, unsigned out_flags,
                          const char *const *inputs, size_t *bytes);

/* ---- reading ---------------------------------------------------------------- */

/* Read and check a pack.  With trusted (NULL-terminated certificate files),
 * the pack's signature must verify with one of them (-EKEYREJECTED
 * otherwise, naming the signer); with NULL, only its form is checked
 * (inspect).  Every failure names the file and the problem: truncated,
 * trailing bytes, not canonical (reordered or duplicate), bad signature. */
int sigpack_load(const char *path, char *const *trusted, struct sigpack **out);
void sigpack_free(struct sigpack *p);

/* ---- compose: packs bound to a package set ------------------------------------ */

struct sigpack_set;
/* Load every pack matching the patterns (files or globs; a pattern matching
 * nothing is an error), each checked with sigpack_load(trusted). */
int sigpack_set_load(char *const *patterns, char *const *trusted, struct sigpack_set **out);
void sigpack_set_free(struct sigpack_set *s);
size_t sigpack_set_count(const struct sigpack_set *s);
/* Bind the packs to the packages to be installed.  Refused, naming the
 * pack, package and path: a pack package with a set package's NEVRA but
 * another header digest (another build); an entry for a path the package
 * lacks or that is not a regular file there; an entry whose digest is not
 * the package's; a package covered by two packs.  *notes gets one line per
 * package whose header signatures the pack replaces. */
int sigpack_set_bind(struct sigpack_set *s, struct rpmpkg *const *pkgs, size_t n, char ***notes);
/* After bind: the pack's value for file `file` of package `pkg`, or NULL;
 * *pack names the pack file. */
const uint8_t *sigpack_set_value(const struct sigpack_set *s, size_t pkg, size_t file,
                                 size_t *len, const char **pack);
/* The same for the entry's v3 value ([Verity] Signatures=ima-v3). */
const uint8_t *sigpack_set_value_v3(const struct sigpack_set *s, size_t pkg, size_t file,
                                    size_t *len, const char **pack);
/* Largest value of any bound entry (for the inode size). */
size_t sigpack_set_max_value(const struct sigpack_set *s);
/* Bound entries, and packages covered. */
size_t sigpack_set_bound(const struct sigpack_set *s, size_t *pkgs);
