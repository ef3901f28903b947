#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "compose.h"
#include "layout.h"
#include "output.h"
#include "util.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: imgtool compose LAYOUT -o IMAGE [--set Section.Key=Value]... [--json-report FILE] [--force] [--quiet]\n"
                   "Build a signed ext4 image from the packages a layout names (layouts/README.md).\n"
                   "  -o, --output IMAGE     the image; with [Boot] Kernel= also IMAGE.vmlinuz, IMAGE.initramfs\n"
                   "  -s, --set S.K=V        override a layout key (as a last line of the file)\n"
                   "  -j, --json-report FILE the report as JSON ('-': standard output, then no summary)\n"
                   "  -f, --force            replace existing output files (regular files only)\n"
                   "  -q, --quiet            no progress line, no summary\n");
}

int cmd_compose(int argc, char **argv)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "set", required_argument, NULL, 's' },
                { "json-report", required_argument, NULL, 'j' },
                { "quiet", no_argument, NULL, 'q' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *output = NULL, *json = NULL;
        _cleanup_free_ char **sets = calloc((size_t)argc + 1, sizeof(char *));
        size_t nsets = 0;
        bool quiet = false;
        struct layout *l = NULL;
        struct compose_report rep;
        struct compose_opts o = { 0 };
        int c, r;

        if (!sets)
                return EXIT_ERROR;
        while ((c = getopt_long(argc, argv, "o:s:j:qfh", opts, NULL)) != -1) {
                switch (c) {
                case 'o': output = optarg; break;
                case 's': sets[nsets++] = optarg; break;
                case 'j': json = optarg; break;
                case 'q': quiet = true; break;
                case 'f': o.output_flags |= OUTPUT_FORCE; break;
                case 'h': usage(stdout); return EXIT_OK;
                default: usage(stderr); return EXIT_ERROR;
                }
        }
        if (optind != argc - 1 || !output) {
                fprintf(stderr, "imgtool: compose: %s (see 'imgtool compose --help')\n",
                        !output ? "-o IMAGE is required" : "expected exactly one LAYOUT");
                return EXIT_ERROR;
        }
        r = layout_load(argv[optind], sets, &l);
        if (r < 0)
                return cmd_fail();
        o.layout = l;
        o.output = output;
        o.json_report = json;
        if (json && !strcmp(json, "-"))
                quiet = true;   /* stdout carries the JSON */
        o.progress = !quiet && isatty(STDERR_FILENO);
        r = compose_image(&o, &rep);
        if (r < 0) {
                layout_free(l);
                compose_report_free(&rep);
                return cmd_fail();
        }
        if (!quiet)
                report_print_summary(stdout, &rep, output);
        compose_report_free(&rep);
        layout_free(l);
        return EXIT_OK;
}
