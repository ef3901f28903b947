/* The IMA policy an image enforces: the default text and a validator that
 * rejects what the kernel would reject, before the text is embedded into an
 * initramfs (a bad policy found at boot means an unbootable image).
 *
 * The grammar is the kernel's (security/integrity/ima/ima_policy.c,
 * Documentation/ABI/testing/ima_policy): one rule per line, an action first,
 * then key=value conditions separated by spaces or tabs; blank lines and
 * whole-line '#' comments are allowed, trailing comments are not. */
#pragma once
#include <stdbool.h>

struct ima_policy_opts {
        /* appraise files owned by root when opened for reading (FILE_CHECK
         * fowner=0), not only what is executed or mapped executable */
        bool appraise_fowner0_reads;
        /* measure executed/mapped/root-read files into PCR 10 */
        bool measure;
        /* more rules, validated, placed after the pseudo-filesystem
         * exclusions and before the default measure/appraise rules (so an
         * extra dont_appraise takes effect); may be NULL */
        const char *extra_rules;
        /* fs-verity images: measure the files' verity digests
         * (digest_type=verity, template ima-ngv2) instead of hashing them
         * whole at open */
        bool verity_digests;
        /* leave out the appraise rules: only where something else enforces
         * (fs-verity builtin signatures, IPE).  Otherwise they require
         * signatures; with verity_digests IMA v3 signatures over the verity
         * digest (appraise_type=sigv3). */
        bool no_appraise;
};
#define POLICY_OPTS_DEFAULT { .appraise_fowner0_reads = true, .measure = true, .extra_rules = NULL, \
                              .verity_digests = false, .no_appraise = false }

/* The policy for these options; *text is malloc'ed and ends with '\n'.
 * Fails (-EINVAL) only if extra_rules does not validate. */
int ima_policy_default(const struct ima_policy_opts *o, char **text);

/* 0 if every line is a rule the kernel accepts, else -EINVAL with a message
 * "line N: what is wrong" (callers prefix the file name). */
int ima_policy_validate(const char *text);

/* True if some rule appraises (the initramfs refuses a policy that would
 * enforce nothing). */
bool ima_policy_has_appraise_rule(const char *text);
