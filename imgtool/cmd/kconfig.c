/* imgtool kconfig: a Kconfig fragment for a kernel that trusts a CA. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "kconfig.h"
#include "util.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: imgtool kconfig --ca CERT [--ima-cert CERT]\n"
                   "Print a Kconfig fragment for a kernel that trusts CERT in its built-in\n"
                   "keyring and loads the IMA cert (signed by it) into its .ima keyring.\n"
                   "  --ca CERT        the CA (PEM or DER)\n"
                   "  --ima-cert CERT  the IMA signing cert: checked to be signed by the CA;\n"
                   "                   its key type adds the crypto it needs\n");
}

int cmd_kconfig(int argc, char **argv)
{
        static const struct option opts[] = {
                { "ca", required_argument, NULL, 'c' },
                { "ima-cert", required_argument, NULL, 'i' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *ca = NULL, *ima = NULL;
        _cleanup_free_ char *text = NULL;
        int c;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'c': ca = optarg; break;
                case 'i': ima = optarg; break;
                case 'h': usage(stdout); return EXIT_OK;
                default: return EXIT_ERROR; /* getopt said why */
                }
        }
        if (!ca || optind < argc) {
                fprintf(stderr, "imgtool: kconfig: %s (see 'imgtool kconfig --help')\n",
                        ca ? "unexpected argument" : "--ca CERT is required");
                return EXIT_ERROR;
        }
        if (kconfig_fragment(ca, ima, &text) < 0)
                return cmd_fail();
        fputs(text, stdout);
        return EXIT_OK;
}
