#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "image/compose.h"
#include "layout/layout.h"
#include "base/output.h"
#include "base/util.h"

enum { OPT_QUIET = 'q', OPT_FORCE = 'f', OPT_LOCK_OUT = 'L', OPT_DEFER = CMD_LONG_ONLY(1) };
static const struct cmd_option options[] = {
        { "output", 'o', "IMAGE", "The image to write (written to a temporary name and renamed at the end); with [Boot] Kernel= also IMAGE.vmlinuz, IMAGE.initramfs, IMAGE.cmdline." },
        { "set", 's', "SECTION.KEY=VALUE", "Override a layout key, as if it were the layout's last line (repeatable; an empty value clears a list)." },
        { "json-report", 'j', "FILE", "Also write the report as JSON to FILE ('-': standard output, and then no summary; fields in docs/reports.md)." },
        { "lock-out", OPT_LOCK_OUT, "FILE", "Also write the exact package set (names, versions, digests) as a lockfile that [Packages] Lock= or verify --against accept." },
        { "defer-signatures", OPT_DEFER, "REQUEST", "Sign nothing: leave every signature Key= and [SecureBoot] Key= would make (security.ima values, the UKI's) as a placeholder and write what must be signed to REQUEST, for 'imgtool sign-request' on another machine and 'imgtool apply-signatures' (docs/keys.md); those keys are not read, their certificates stand in for them; [Verity] is refused." },
        { "force", OPT_FORCE, NULL, "Replace existing output files (regular files only); without it an existing output is refused." },
        { "quiet", OPT_QUIET, NULL, "Print nothing but warnings and errors: no progress line, no summary." },
        {}
};

const struct cmd_spec cmd_compose_spec = {
        .name = "compose",
        .synopsis = "LAYOUT -o IMAGE [--set SECTION.KEY=VALUE]... [--json-report FILE] [--lock-out FILE] [--defer-signatures REQUEST] [--force] [--quiet]",
        .summary = "build a signed ext4 image from the packages a layout names",
        .description = "Reads each package once, checks every file against its header digest, writes it "
                       "straight into a new ext4 image (no root, no mount) with its security.ima from the "
                       "package's signature or the layout's Key=. With [Boot] Kernel= it also writes "
                       "IMAGE.vmlinuz, IMAGE.initramfs and IMAGE.cmdline beside the image. Every layout key: "
                       "layouts/README.md; the resolved layout: 'imgtool summary LAYOUT'.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_compose,
};

int cmd_compose(int argc, char **argv)
{
        const char *output = NULL, *json = NULL;
        _cleanup_free_ char **sets = calloc((size_t)argc + 1, sizeof(char *));
        size_t nsets = 0;
        bool quiet = false;
        struct layout *l = NULL;
        struct compose_report rep;
        struct compose_opts o = { 0 };
        struct cmd_parser p;
        int c, r;

        if (!sets)
                return EXIT_ERROR;
        cmd_parser_init(&p, &cmd_compose_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case 'o': output = p.arg; break;
                case 's': sets[nsets++] = (char *)p.arg; break;
                case 'j': json = p.arg; break;
                case OPT_QUIET: quiet = true; break;
                case OPT_FORCE: o.output_flags |= OUTPUT_FORCE; break;
                case OPT_LOCK_OUT: o.lock_out = p.arg; break;
                case OPT_DEFER: o.defer_request = p.arg; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (argc - p.next != 1)
                return cmd_usage_error(&p, "expected exactly one LAYOUT");
        if (!output)
                return cmd_usage_error(&p, "-o IMAGE is required");
        r = layout_load(argv[p.next], sets, &l);
        if (r < 0)
                return cmd_fail(r);
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
                return cmd_fail(r);
        }
        if (!quiet)
                compose_report_print_summary(stdout, &rep, output);
        compose_report_free(&rep);
        layout_free(l);
        return EXIT_OK;
}
