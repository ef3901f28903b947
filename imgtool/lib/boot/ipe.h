/* IPE (Integrity Policy Enforcement, security/ipe): the policy an image with
 * [Verity] Signatures=ipe activates at boot, and its signature.
 *
 * The policy lets code run (execve, executable mappings) and kernel modules
 * load only from the initramfs the kernel booted (boot_verified) and from
 * files whose fs-verity builtin signature the kernel verified
 * (fsverity_signature); everything else stays allowed.  It is signed as
 * IPE wants it: PKCS#7 SignedData with the policy text inside, no signed
 * attributes, by the owner's UEFI db key ([SecureBoot] Key= and
 * Certificate= of a Format=disk layout), else by [Signatures] Key= and
 * the first Certificate=.  The kernel checks that signature against its
 * secondary and platform keyrings: UEFI db lands in .platform, so the db
 * key is the one that works on a Secure Boot disk. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "layout/layout.h"

#define IPE_POLICY_NAME "imgtool"

/* The policy text; *text is malloc'ed. */
int ipe_policy_text(const struct layout *l, char **text);
/* The same, signed (the db key, else Key=); *der is malloc'ed. */
int ipe_policy_sign(const struct layout *l, const char *text, uint8_t **der, size_t *len);
