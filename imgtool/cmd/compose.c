#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "compose.h"
#include "layout.h"
#include "util.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: imgtool compose LAYOUT -o IMAGE [--set Section.Key=Value]... [--json-report FILE] [--lock-out FILE] [--quiet]\n"
                   "Build a signed ext4 image from the packages a layout names (layouts/README.md).\n"
                   "  --lock-out FILE  also write the exact package set as a lockfile ([Packages] Lock=)\n");
}

int cmd_compose(int argc, char **argv)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "set", required_argument, NULL, 's' },
                { "json-report", required_argument, NULL, 'j' },
                { "quiet", no_argument, NULL, 'q' },
                { "lock-out", required_argument, NULL, 'L' },
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
        while ((c = getopt_long(argc, argv, "o:s:j:qh", opts, NULL)) != -1) {
                switch (c) {
                case 'o': output = optarg; break;
                case 's': sets[nsets++] = optarg; break;
                case 'j': json = optarg; break;
                case 'q': quiet = true; break;
                case 'L': o.lock_out = optarg; break;
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
        o.progress = !quiet && isatty(STDERR_FILENO);
        r = compose_image(&o, &rep);
        if (r < 0) {
                layout_free(l);
                compose_report_free(&rep);
                return cmd_fail();
        }
        if (!quiet)
                report_print_summary(stdout, &rep, output);
        if (json && report_write_json(json, &rep, output) < 0)
                r = cmd_fail();
        compose_report_free(&rep);
        layout_free(l);
        return r < 0 ? EXIT_ERROR : EXIT_OK;
}
