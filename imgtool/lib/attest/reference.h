/* Reference values of an image for remote attestation (`imgtool reference`)
 * and the boot inputs shared with `keylime-policy`.
 *
 * The reference file is JSON (format "imgtool-reference" 1, docs/attestation.md,
 * "imgtool reference"), written with a detached signature FILE.sig: the raw
 * signature (ECDSA DER or RSA PKCS#1 v1.5), made with the owner's IMA key,
 * over the SHA-256 of REFERENCE_SIG_PREFIX followed by FILE's bytes (domain
 * separation: never a valid IMA signature of a file holding FILE), so
 * `(printf '\000imgtool reference signature v1\n'; cat FILE) | openssl dgst
 * -sha256 -verify PUB -signature FILE.sig` checks it too.  ECDSA nonces are
 * RFC 6979: the same image and key give the same two files.
 *
 * Every string in FILE is UTF-8: a file name that is not gets "path_hex"
 * (its bytes) beside an escaped "path"; anything else that is not is
 * refused, naming it. */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/initramfs.h"
#include "boot/pcrs.h"

#define REFERENCE_FORMAT "imgtool-reference"
#define REFERENCE_VERSION 2           /* 2: signature over the prefixed digest, path_hex, verity_digest */
#define REFERENCE_SIG_PREFIX "\0imgtool reference signature v1\n"
#define REFERENCE_SIG_PREFIX_LEN (sizeof(REFERENCE_SIG_PREFIX) - 1)

/* What the machine loads besides the image: the initramfs imgtool made (its
 * policy and certs) and the kernel, found beside the image as compose
 * writes them (IMAGE.initramfs, IMAGE.vmlinuz, or with .img dropped).
 * A Format=disk image carries them itself: the UKI on its ESP, whose
 * .initrd is the initramfs, .linux the kernel, .cmdline the command line;
 * and its PCRs 4, 5, 11 (7 with the Secure Boot keys) are predicted. */
struct reference_boot {
        char *initramfs;           /* path, or NULL if none was found */
        char *kernel;              /* path, or NULL */
        struct initramfs_contents ird;
        bool certs_from_image;     /* no initramfs: certs are the image's /etc/keys */
        bool disk;                 /* the rest is for disks only */
        char *cmdline;             /* the UKI's .cmdline */
        uint8_t linux_sha256[32], initrd_sha256[32];
        struct pcrs_prediction pcrs;
};
/* sb_keys: keygen --secure-boot's folder (PCR 7), or NULL; disks only. */
int reference_boot_load(const char *image, const char *initramfs, const char *kernel, const char *sb_keys,
                 struct reference_boot *out);
void reference_boot_free(struct reference_boot *b);

struct imgfiles;
/* Build the reference document but its "files", which reference_write
 * streams from files (the same bytes as one json-c tree would give). */
int reference_build(const char *image, const struct imgfiles *files, const struct reference_boot *boot,
                    json_object **out);
/* Write FILE and FILE.sig signed with key+cert (output.h rules and flags:
 * both complete before either is renamed into place). */
int reference_write(json_object *doc, const struct imgfiles *files, const char *key, const char *cert,
                    const char *path, unsigned flags);
/* Read FILE, check FILE.sig with the trusted cert(s) in cert_path, and parse
 * it.  A changed file, a missing or foreign signature: -EBADMSG/-ENOENT with
 * a message naming the file; *keyid gets the signer's keyid. */
int reference_load(const char *path, const char *cert_path, json_object **out, uint32_t *keyid);
/* -EILSEQ naming the key (escaped) when a string or key of doc is not UTF-8. */
int json_check_utf8(json_object *doc, const char *what);
