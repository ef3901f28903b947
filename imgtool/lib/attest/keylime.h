/* A Keylime runtime policy for an image (`imgtool keylime-policy`), in the
 * JSON format of Keylime's keylime/ima/ima.py (RUNTIME_POLICY_SCHEMA,
 * meta.version 1): every regular file's IMA digest under its path, the
 * initramfs's certs as "verification-keys" (an ImaKeyring JSON string:
 * base64 SubjectPublicKeyInfo DER plus the keyids, as
 * keylime/ima/file_signatures.py writes it) and the certs' digests under
 * the "_ima" keyring.  Nothing is excluded: the one measurement the image
 * cannot predict, boot_aggregate, Keylime adds itself from the quote. */
#pragma once
#include <json-c/json.h>

struct imgfiles;
struct reference_boot;

#define KEYLIME_POLICY_VERSION 1
#define KEYLIME_GENERATOR_LEGACY 3   /* RUNTIME_POLICY_GENERATOR.LegacyAllowList */
#define KEYLIME_IMA_KEYRING "_ima"   /* the keyring imgtool's init loads */

int keylime_policy_build(const struct imgfiles *files, const struct reference_boot *boot, json_object **out);
/* The policy into PATH (output.h: flags, inputs), as json-c's pretty text
 * of keylime_policy_build's tree plus a newline, without holding the
 * digests as JSON objects. */
int keylime_policy_write(const struct imgfiles *files, const struct reference_boot *boot, const char *path,
                         unsigned flags, const char *const *inputs);
