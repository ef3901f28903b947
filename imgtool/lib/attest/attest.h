/* Remote attestation, host side (`imgtool attest`): check a guest's TPM
 * evidence against an image's signed reference values.
 *
 * Evidence folder (qemu-test/run --attest writes it; docs/attestation.md):
 *   enrollment (first boot):  ek.der, enroll-ak.pub
 *   challenge (attest_challenge): nonce, credential (the plain secret, 0600),
 *                             credential.blob, credential.secret
 *   answer (second boot):     ak.pub, activated (or activate-failed), quote.attest,
 *                             quote.sig, pcrs (PCRs 0-10, sha256), ima.log */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Verify ek.der against the CA(s) in ek_ca and enroll-ak.pub, then write a
 * fresh nonce and a credential for that AK, wrapped to the EK. */
int attest_challenge(const char *dir, const char *ek_ca);

struct attest_check {
        const char *name;         /* "ek-cert", "credential", "quote-nonce", ... */
        bool ok;
        char *detail;
};

struct attest_file_problem {
        char *path;
        const char *reason;       /* "unknown-file", "digest-differs", "unsigned", "untrusted-signature" */
};

struct attest_report {
        struct attest_check *checks;
        size_t n_checks;
        struct attest_file_problem *files;
        size_t n_files;
        size_t measured;          /* file entries in the quoted log */
        double seconds;
        bool ok;
};

/* Verify everything (see docs/attestation.md); returns 0 with *out filled whether the
 * checks passed or not, negative on errors (unreadable evidence, a reference
 * whose signature does not verify with ref_cert). */
int attest_verify(const char *dir, const char *reference, const char *ref_cert, const char *ek_ca,
                  struct attest_report **out);
void attest_report_free(struct attest_report *r);
char *attest_report_json(const struct attest_report *r);
