/* Remote attestation, host side (`imgtool attest`): check a guest's TPM
 * evidence against an image's signed reference values.
 *
 * Two folders (docs/attestation.md):
 *   evidence (only what the guest sends; qemu-test/run --attest fills it):
 *     enrollment (first boot):  ek.der, enroll-ak.pub
 *     answer (second boot):     ak.pub, activated (or activate-failed),
 *                               quote.attest, quote.sig, pcrs (PCRs 0-10,
 *                               sha256), ima.log
 *   state (the verifier's own; the guest never writes it, and it must not be
 *   the evidence folder or inside it), written by attest_challenge:
 *     ek.der (the EK the credential was made with), ak.name (the AK name it
 *     was made for), nonce, credential (the plain secret, 0600), and for the
 *     guest credential.blob, credential.secret.
 * Every check is run and passes, or the report fails it, naming the input
 * that was missing, empty or too large ("could not run: ..."). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define ATTEST_NONCE_SIZE 32
#define ATTEST_CREDENTIAL_SIZE 32

/* Verify evidence/ek.der against the CA(s) in ek_ca and evidence/enroll-ak.pub,
 * then write a fresh nonce and a credential for that AK, wrapped to the EK,
 * into state (created 0700 if missing). */
int attest_challenge(const char *evidence, const char *state, const char *ek_ca);

/* -EINVAL when state is the evidence folder or inside it. */
int attest_folders_check(const char *evidence, const char *state);

struct attest_check {
        const char *name;         /* "ek-cert", "credential", "quote-nonce", ... */
        bool ok;
        char *detail;
};

struct attest_file_problem {
        char *path;               /* escaped (escape_text, ESCAPE_FIELD) */
        const char *reason;       /* "unknown-file", "digest-differs", "verity-digest-differs",
                                     * "unsigned", "untrusted-signature", "unknown-buffer",
                                     * "buffer-digest-differs", "not-in-pcr10" */
};

struct attest_report {
        struct attest_check *checks;
        size_t n_checks, cap_checks;
        struct attest_file_problem *files;
        size_t n_files, cap_files;
        size_t measured;          /* file entries in the quoted log */
        double seconds;
        bool ok;
};

/* Verify everything (see docs/attestation.md); returns 0 with *out filled whether the
 * checks passed or not, negative on errors (unreadable evidence, a reference
 * whose signature does not verify with ref_cert). */
int attest_verify(const char *evidence, const char *state, const char *reference, const char *ref_cert,
                  const char *ek_ca, struct attest_report **out);
void attest_report_free(struct attest_report *r);
char *attest_report_json(const struct attest_report *r);
