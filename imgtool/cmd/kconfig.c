/* imgtool kconfig: a Kconfig fragment for a kernel that trusts a CA. */
#include <stdio.h>

#include "cmd.h"
#include "boot/kconfig.h"
#include "base/util.h"

enum { OPT_CA = CMD_LONG_ONLY(1), OPT_IMA_CERT };
static const struct cmd_option options[] = {
        { "ca", OPT_CA, "CERT", "The CA the kernel trusts in its built-in keyring (PEM or DER); required." },
        { "ima-cert", OPT_IMA_CERT, "CERT", "The IMA signing certificate: checked to be signed by the CA; its key type adds the crypto it needs." },
        {}
};

const struct cmd_spec cmd_kconfig_spec = {
        .name = "kconfig",
        .synopsis = "--ca CERT [--ima-cert CERT]",
        .summary = "print a Kconfig fragment for a kernel that trusts a CA",
        .description = "Prints a Kconfig fragment, a comment per option, for a kernel that trusts the CA in "
                       "its built-in keyring, accepts only IMA keys signed by it and loads the IMA cert from "
                       "/etc/keys/x509_ima.der in the initramfs itself.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_kconfig,
};

int cmd_kconfig(int argc, char **argv)
{
        const char *ca = NULL, *ima = NULL;
        _cleanup_free_ char *text = NULL;
        struct cmd_parser p;
        int c, r;

        cmd_parser_init(&p, &cmd_kconfig_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case OPT_CA: ca = p.arg; break;
                case OPT_IMA_CERT: ima = p.arg; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (!ca || p.next < argc)
                return cmd_usage_error(&p, "%s", ca ? "unexpected argument" : "--ca CERT is required");
        if ((r = kconfig_fragment(ca, ima, &text)) < 0)
                return cmd_fail(r);
        fputs(text, stdout);
        return EXIT_OK;
}
