/* imgtool attest: verify a guest's TPM evidence against an image's signed
 * reference values (lib/attest/attest.h); `attest challenge` prepares the
 * credential and nonce for the guest's answer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attest/attest.h"
#include "cmd.h"
#include "base/util.h"

enum { OPT_REFERENCE = CMD_LONG_ONLY(1), OPT_CERT, OPT_EK_CA, OPT_EVIDENCE, OPT_STATE, OPT_JSON };
static const struct cmd_option options[] = {
        { "reference", OPT_REFERENCE, "FILE", "The reference values, from `imgtool reference` (FILE.sig beside it)." },
        { "cert", OPT_CERT, "CERT", "The certificate whose key signed FILE." },
        { "ek-ca", OPT_EK_CA, "CA", "The TPM maker's CA certificate(s) (PEM), e.g. swtpm's local CA." },
        { "evidence", OPT_EVIDENCE, "DIR", "The evidence folder: only what the guest sent (qemu-test/run --attest)." },
        { "state", OPT_STATE, "STATE", "The verifier's own folder (nonce, credential, the AK name and EK it was made for), written by `attest challenge`; never the guest's, not inside DIR." },
        { "json", OPT_JSON, NULL, "Print the report as JSON." },
        {}
};

const struct cmd_spec cmd_attest_spec = {
        .name = "attest",
        .synopsis = "--reference FILE --cert CERT --ek-ca CA --evidence DIR --state STATE [--json] | challenge --evidence DIR --state STATE --ek-ca CA",
        .summary = "verify a TPM quote and IMA log against reference values",
        .description = "Verifies a TPM quote and IMA log (DIR, from qemu-test/run --attest) against the "
                       "reference values FILE (signed into FILE.sig with CERT's key): the EK cert chains "
                       "to CA, the AK is the one the credential was made for and is bound to that EK "
                       "(credential activation), the quote is signed "
                       "by the AK over this challenge's nonce and PCRs 0-10, the IMA log (every "
                       "template the kernel emits) replays to "
                       "PCR 10, and every measured file is in FILE with its digest (fs-verity digest "
                       "for ima-ngv2 verity entries) and a trusted signature. Every check runs and "
                       "passes, or the verdict is NOT ATTESTED naming the one that failed or could not "
                       "run. Text from the guest is printed escaped (\\ooo). `attest challenge` checks DIR's "
                       "EK cert and enrolled AK and writes a fresh nonce and a credential wrapped to "
                       "the EK into STATE (the guest gets STATE/nonce, credential.blob, credential.secret).",
        .options = options,
        .exits = (const struct cmd_exit[]){
                { 0, "every check holds (challenge: the challenge was written)" },
                { 1, "a check failed (each is named)" },
                { 2, "could not do the job: bad arguments, unreadable evidence, I/O error" },
                {} },
        .run = cmd_attest,
};

int cmd_attest(int argc, char **argv)
{
        const char *reference = NULL, *cert = NULL, *ek_ca = NULL, *dir = NULL, *state = NULL;
        struct attest_report *rep = NULL;
        bool json = false, challenge = false;
        struct cmd_parser p;
        int c, r;

        cmd_parser_init(&p, &cmd_attest_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case OPT_REFERENCE: reference = p.arg; break;
                case OPT_CERT: cert = p.arg; break;
                case OPT_EK_CA: ek_ca = p.arg; break;
                case OPT_EVIDENCE: dir = p.arg; break;
                case OPT_STATE: state = p.arg; break;
                case OPT_JSON: json = true; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (p.next < argc && !strcmp(argv[p.next], "challenge")) {
                challenge = true;
                p.next++;
        }
        if (p.next != argc)
                return cmd_usage_error(&p, "unexpected argument '%s'", argv[p.next]);
        if (!dir || !ek_ca || !state)
                return cmd_usage_error(&p, "--evidence DIR, --state STATE and --ek-ca CA are required");
        if (!challenge && (!reference || !cert))
                return cmd_usage_error(&p, "--reference FILE and --cert CERT are required");
        if (challenge)
                return (r = attest_challenge(dir, state, ek_ca)) < 0 ? cmd_fail(r) : EXIT_OK;
        r = attest_verify(dir, state, reference, cert, ek_ca, &rep);
        if (r < 0)
                return cmd_fail(r);
        if (json) {
                char *s = attest_report_json(rep);
                printf("%s\n", s ? s : "{\"ok\": false}");
                free(s);
        } else {
                for (size_t i = 0; i < rep->n_checks; i++)
                        printf("%s %s: %s\n", rep->checks[i].ok ? "ok  " : "FAIL", rep->checks[i].name,
                               rep->checks[i].detail ? rep->checks[i].detail : "");
                for (size_t i = 0; i < rep->n_files; i++)
                        printf("FAIL file %s: %s\n", rep->files[i].path, rep->files[i].reason);
                _cleanup_free_ char *d = escape_text(dir, ESCAPE_LINE);
                printf("%s: %s (%zu measured files, %.3f s)\n", d ? d : "evidence", rep->ok ? "ATTESTED" : "NOT ATTESTED",
                       rep->measured, rep->seconds);
        }
        r = rep->ok ? EXIT_OK : EXIT_VIOLATIONS;
        attest_report_free(rep);
        if (fflush(stdout) != 0)
                return EXIT_ERROR;
        return r;
}
