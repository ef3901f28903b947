/* Adding IMA file signatures to an RPM, as `rpmsign --signfiles` (rpm 4.18)
 * does: one signature per regular file over its header digest, stored as
 * RPMSIGTAG_FILESIGNATURES / RPMSIGTAG_FILESIGNATURELENGTH in the signature
 * header.  The lead, the main header and the payload are copied byte for
 * byte, so the header digests and any OpenPGP signature stay valid. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ima_key;

struct rpmsign_opts {
        bool skip_config;   /* leave %config files unsigned (they change on the target) */
        bool strip;         /* remove every file signature instead (key may be NULL): the
                             * package a distribution ships beside a signature pack */
        unsigned out_flags; /* output.h: OUTPUT_FORCE */
        const char *const *inputs;  /* OUT may be none of these (NULL: in place) */
};

struct rpmsign_result {
        size_t signed_files;   /* signatures written */
        size_t replaced;       /* files that had a signature before */
};

/* Sign IN into OUT (may equal IN when opts->inputs is NULL).  OUT follows
 * output.h's rules: written beside itself and renamed into place, so on
 * any failure it is untouched; the result is
 * read back with librpm before the rename.  Fails, naming IN, for packages
 * rpmpkg_open refuses, a payload that does not match its digest, and the
 * pre-4.16 layout with signatures inside the main header. */
/* IN's lead, signature header with these file signatures (sigs: n hex
 * strings, "" for none, n = the package's file count; max_len the longest
 * in bytes) and main header, without the payload: what rpm reads to put a
 * package into a database (composedb, with Packs=).  OUT is created (O_EXCL). */
int rpmsign_header_only(const char *in, char *const *sigs, size_t n, uint32_t max_len,
                        const char *out);

struct output;
/* With pending, OUT is left as a complete temporary in *pending, for the
 * caller to output_commit() once every package is signed. */
int rpmsign_file(const char *in, const char *out, const struct ima_key *key,
                 const struct rpmsign_opts *opts, struct rpmsign_result *res,
                 struct output **pending);
