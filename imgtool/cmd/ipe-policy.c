/* imgtool ipe-policy: the IPE policy a layout's initramfs activates. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "ipe.h"
#include "layout.h"
#include "output.h"
#include "util.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: imgtool ipe-policy LAYOUT [-o OUT.p7s [--force]]\n"
                   "Print the IPE policy of LAYOUT: only files with a verified fs-verity builtin\n"
                   "signature, and the initramfs the kernel booted, may execute or load as\n"
                   "modules.  With -o, write it signed (PKCS#7, the policy inside) with the\n"
                   "layout's Key= and its certificate, as `imgtool compose` puts it into the\n"
                   "initramfs of a [Verity] Signatures=ipe layout.\n"
                   "  -o, --output OUT   write the signed policy (DER) to OUT ('-': stdout)\n"
                   "  -f, --force        replace an existing OUT\n");
}

int cmd_ipe_policy(int argc, char **argv)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *out = NULL;
        struct layout *l = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ uint8_t *der = NULL;
        size_t len = 0;
        unsigned flags = OUTPUT_STDOUT;
        int c, r;

        while ((c = getopt_long(argc, argv, "o:fh", opts, NULL)) != -1) {
                switch (c) {
                case 'o': out = optarg; break;
                case 'f': flags |= OUTPUT_FORCE; break;
                case 'h': usage(stdout); return EXIT_OK;
                default: return EXIT_ERROR;
                }
        }
        if (optind + 1 != argc) {
                fprintf(stderr, "imgtool: ipe-policy: give one LAYOUT; see --help\n");
                return EXIT_ERROR;
        }
        const char *inputs[] = { argv[optind], NULL };
        r = out ? output_check(out, flags, inputs) : 0;
        if (r >= 0)
                r = layout_load(argv[optind], NULL, &l);
        if (r >= 0)
                r = ipe_policy_text(l, &text);
        if (r >= 0 && out)
                r = ipe_policy_sign(l, text, &der, &len);
        if (r >= 0 && out)
                r = output_write_file(out, flags, 0644, inputs, der, len);
        layout_free(l);
        if (r < 0)
                return cmd_fail();
        if (!out)
                fputs(text, stdout);
        return EXIT_OK;
}
