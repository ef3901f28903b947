/* imgtool policy: print the IMA policy an image enforces. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bootfiles.h"
#include "cmd.h"
#include "layout.h"
#include "policy.h"
#include "util.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: imgtool policy [--no-measure | --no-root-reads | --extra FILE] [LAYOUT]\n"
                   "       imgtool policy --file FILE\n"
                   "Print the IMA policy the initramfs loads: the layout's [Policy] (its File,\n"
                   "or the default shaped by AppraiseRootReads and Measure); without a layout\n"
                   "the default (appraise every executable, executable mapping and root-owned\n"
                   "file read).\n"
                   "  --file FILE       validate FILE as an IMA policy and print it\n"
                   "  --no-measure      leave out the measure rules (no PCR 10 log)\n"
                   "  --no-root-reads   do not appraise reads of root-owned files\n"
                   "  --extra FILE      add FILE's rules (validated) before the default rules\n");
}


int cmd_policy(int argc, char **argv)
{
        static const struct option opts[] = {
                { "file", required_argument, NULL, 'f' },
                { "no-measure", no_argument, NULL, 'M' },
                { "no-root-reads", no_argument, NULL, 'R' },
                { "extra", required_argument, NULL, 'e' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct policy_opts po = POLICY_OPTS_DEFAULT;
        const char *file = NULL, *extra = NULL;
        _cleanup_free_ char *text = NULL, *extra_text = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
                switch (c) {
                case 'f': file = optarg; break;
                case 'M': po.measure = false; break;
                case 'R': po.appraise_fowner0_reads = false; break;
                case 'e': extra = optarg; break;
                case 'h': usage(stdout); return EXIT_OK;
                default: return EXIT_ERROR; /* getopt said why */
                }
        }
        if (optind + 1 < argc || (optind < argc && file)) {
                fprintf(stderr, "imgtool: policy: give one LAYOUT or --file FILE; see --help\n");
                return EXIT_ERROR;
        }
        if (optind < argc) {
                /* Exactly what compose embeds: the layout's [Policy] decides. */
                struct layout *l = NULL;
                if (extra || !po.measure || !po.appraise_fowner0_reads) {
                        fprintf(stderr, "imgtool: policy: --extra/--no-* do not combine with LAYOUT; "
                                        "set them in its [Policy] section\n");
                        return EXIT_ERROR;
                }
                r = layout_load(argv[optind], NULL, &l);
                if (r >= 0)
                        r = layout_policy_text(l, &text);
                layout_free(l);
                if (r < 0)
                        return cmd_fail();
                fputs(text, stdout);
                return EXIT_OK;
        }
        if (file) {
                r = read_text_file(file, &text);
                if (r >= 0 && (r = policy_validate(text)) < 0)
                        imgerr_prefix(r, "%s: ", file);
        } else {
                if (extra) {
                        r = read_text_file(extra, &extra_text);
                        if (r < 0)
                                return cmd_fail();
                        po.extra_rules = extra_text;
                }
                r = policy_default(&po, &text);
                if (r < 0 && extra)
                        imgerr_prefix(r, "%s: ", extra);
        }
        if (r < 0)
                return cmd_fail();
        fputs(text, stdout);
        return EXIT_OK;
}
