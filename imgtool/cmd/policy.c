/* imgtool policy: print the IMA policy an image enforces. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot/bootfiles.h"
#include "cmd.h"
#include "layout/layout.h"
#include "ima/policy.h"
#include "base/util.h"

enum { OPT_FILE = CMD_LONG_ONLY(1), OPT_NO_MEASURE, OPT_NO_ROOT_READS, OPT_EXTRA };
static const struct cmd_option options[] = {
        { "file", OPT_FILE, "FILE", "Validate FILE as an IMA policy (errors name the line) and print it." },
        { "no-measure", OPT_NO_MEASURE, NULL, "Leave out the measure rules (no PCR 10 log)." },
        { "no-root-reads", OPT_NO_ROOT_READS, NULL, "Do not appraise reads of root-owned files (FILE_CHECK fowner=0)." },
        { "extra", OPT_EXTRA, "FILE", "Add FILE's rules (validated) after the exclusions and before the default rules." },
        {}
};

const struct cmd_spec cmd_policy_spec = {
        .name = "policy",
        .synopsis = "[--no-measure] [--no-root-reads] [--extra FILE] | --file FILE | LAYOUT",
        .summary = "print the IMA policy a layout (or the default) enforces",
        .description = "Prints the policy the initramfs loads: with LAYOUT, its [Policy] section decides "
                       "(File=, or the default shaped by AppraiseRootReads= and Measure=); without, the "
                       "default, which appraises every executable, executable mapping and root-owned file "
                       "read with appraise_type=imasig.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_policy,
};


int cmd_policy(int argc, char **argv)
{
        struct ima_policy_opts po = POLICY_OPTS_DEFAULT;
        const char *file = NULL, *extra = NULL;
        _cleanup_free_ char *text = NULL, *extra_text = NULL;
        struct cmd_parser p;
        int c, r;

        cmd_parser_init(&p, &cmd_policy_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case OPT_FILE: file = p.arg; break;
                case OPT_NO_MEASURE: po.measure = false; break;
                case OPT_NO_ROOT_READS: po.appraise_fowner0_reads = false; break;
                case OPT_EXTRA: extra = p.arg; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (p.next + 1 < argc || (p.next < argc && file))
                return cmd_usage_error(&p, "give one LAYOUT or --file FILE");
        if (p.next < argc) {
                /* Exactly what compose embeds: the layout's [Policy] decides. */
                struct layout *l = NULL;
                if (extra || !po.measure || !po.appraise_fowner0_reads) {
                        fprintf(stderr, "imgtool: policy: --extra/--no-* do not combine with LAYOUT; "
                                        "set them in its [Policy] section\n");
                        return EXIT_ERROR;
                }
                r = layout_load(argv[p.next], NULL, &l);
                if (r >= 0)
                        r = bootfiles_ima_policy_text(l, &text);
                layout_free(l);
                if (r < 0)
                        return cmd_fail(r);
                fputs(text, stdout);
                return EXIT_OK;
        }
        if (file) {
                r = read_text_file(file, &text);
                if (r >= 0 && (r = ima_policy_validate(text)) < 0)
                        imgerr_prefix(r, "%s: ", file);
        } else {
                if (extra) {
                        r = read_text_file(extra, &extra_text);
                        if (r < 0)
                                return cmd_fail(r);
                        po.extra_rules = extra_text;
                }
                r = ima_policy_default(&po, &text);
                if (r < 0 && extra)
                        imgerr_prefix(r, "%s: ", extra);
        }
        if (r < 0)
                return cmd_fail(r);
        fputs(text, stdout);
        return EXIT_OK;
}
