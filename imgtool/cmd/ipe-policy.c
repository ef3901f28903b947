/* imgtool ipe-policy: the IPE policy a layout's initramfs activates. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "boot/ipe.h"
#include "layout/layout.h"
#include "base/output.h"
#include "base/util.h"

static const struct cmd_option options[] = {
        { "output", 'o', "OUT", "Write the signed policy (PKCS#7 DER, the policy inside) to OUT ('-': stdout)." },
        { "force", 'f', NULL, "Replace OUT if it exists." },
        {}
};

const struct cmd_spec cmd_ipe_policy_spec = {
        .name = "ipe-policy",
        .synopsis = "LAYOUT [-o OUT.p7s [--force]]",
        .summary = "print or sign the IPE policy of a [Verity] Signatures=ipe layout",
        .description = "Prints the IPE policy of LAYOUT: only files with a verified fs-verity builtin "
                       "signature, and the initramfs the kernel booted, may execute or load as modules. "
                       "With -o, writes it signed with the layout's Key= and its certificate, as "
                       "`imgtool compose` puts it into the initramfs of a [Verity] Signatures=ipe layout.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_ipe_policy,
};

int cmd_ipe_policy(int argc, char **argv)
{
        const char *out = NULL;
        struct layout *l = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ uint8_t *der = NULL;
        size_t len = 0;
        unsigned flags = OUTPUT_STDOUT;
        struct cmd_parser p;
        int c, r;

        cmd_parser_init(&p, &cmd_ipe_policy_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case 'o': out = p.arg; break;
                case 'f': flags |= OUTPUT_FORCE; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (p.next + 1 != argc)
                return cmd_usage_error(&p, "give one LAYOUT");
        const char *inputs[] = { argv[p.next], NULL };
        r = out ? output_check(out, flags, inputs) : 0;
        if (r >= 0)
                r = layout_load(argv[p.next], NULL, &l);
        if (r >= 0)
                r = ipe_policy_text(l, &text);
        if (r >= 0 && out)
                r = ipe_policy_sign(l, text, &der, &len);
        if (r >= 0 && out)
                r = output_write_file(out, flags, 0644, inputs, der, len);
        layout_free(l);
        if (r < 0)
                return cmd_fail(r);
        if (!out)
                fputs(text, stdout);
        return EXIT_OK;
}
