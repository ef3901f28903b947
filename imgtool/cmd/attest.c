/* imgtool attest: verify a guest's TPM evidence against an image's signed
 * reference values (lib/attest.h); `attest challenge` prepares the
 * credential and nonce for the guest's answer. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "attest.h"
#include "cmd.h"
#include "util.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: imgtool attest --reference FILE --cert CERT --ek-ca CA --evidence DIR [--json]\n"
                   "       imgtool attest challenge --evidence DIR --ek-ca CA\n\n"
                   "Verify a TPM quote and IMA log (DIR, from qemu-test/run --attest) against the\n"
                   "reference values FILE (signed into FILE.sig with CERT's key): the EK cert chains\n"
                   "to CA, the AK is bound to that EK (credential activation), the quote is signed\n"
                   "by the AK over this challenge's nonce and PCRs 0-10, the IMA log replays to\n"
                   "PCR 10, and every measured file is in FILE with its digest and a trusted\n"
                   "signature.  'challenge' checks DIR's EK cert and enrolled AK and writes a\n"
                   "fresh nonce and a credential wrapped to the EK into DIR.\n\n"
                   "  --reference FILE  from imgtool reference\n"
                   "  --cert CERT       the cert whose key signed FILE\n"
                   "  --ek-ca CA        the TPM maker's CA cert(s) (PEM), e.g. swtpm's local CA\n"
                   "  --evidence DIR    the evidence folder (README 'imgtool attest')\n"
                   "  --json            the report as JSON\n"
                   "Exit: 0 every check holds, 1 a check failed (each named), 2 error.\n");
}

int cmd_attest(int argc, char **argv)
{
        static const struct option opts[] = {
                { "reference", required_argument, NULL, 'r' },
                { "cert", required_argument, NULL, 'c' },
                { "ek-ca", required_argument, NULL, 'e' },
                { "evidence", required_argument, NULL, 'd' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *reference = NULL, *cert = NULL, *ek_ca = NULL, *dir = NULL;
        struct attest_report *rep = NULL;
        bool json = false, challenge = false;
        int c, r;

        if (argc > 1 && !strcmp(argv[1], "challenge")) {
                challenge = true;
                argc--;
                argv++;
        }
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'r': reference = optarg; break;
                case 'c': cert = optarg; break;
                case 'e': ek_ca = optarg; break;
                case 'd': dir = optarg; break;
                case 'j': json = true; break;
                case 'h': usage(stdout); return EXIT_OK;
                default: usage(stderr); return EXIT_ERROR;
                }
        }
        if (optind != argc || !dir || !ek_ca || (!challenge && (!reference || !cert))) {
                usage(stderr);
                return EXIT_ERROR;
        }
        if (challenge)
                return attest_challenge(dir, ek_ca) < 0 ? cmd_fail() : EXIT_OK;
        r = attest_verify(dir, reference, cert, ek_ca, &rep);
        if (r < 0)
                return cmd_fail();
        if (json) {
                char *s = attest_report_json(rep);
                printf("%s\n", s ? s : "{}");
                free(s);
        } else {
                for (size_t i = 0; i < rep->n_checks; i++)
                        printf("%s %s: %s\n", rep->checks[i].ok ? "ok  " : "FAIL", rep->checks[i].name,
                               rep->checks[i].detail ? rep->checks[i].detail : "");
                for (size_t i = 0; i < rep->n_files; i++)
                        printf("FAIL file %s: %s\n", rep->files[i].path, rep->files[i].reason);
                printf("%s: %s (%zu measured files, %.3f s)\n", dir, rep->ok ? "ATTESTED" : "NOT ATTESTED",
                       rep->measured, rep->seconds);
        }
        r = rep->ok ? EXIT_OK : EXIT_VIOLATIONS;
        attest_report_free(rep);
        if (fflush(stdout) != 0)
                return EXIT_ERROR;
        return r;
}
