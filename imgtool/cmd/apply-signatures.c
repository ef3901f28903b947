/* imgtool apply-signatures: the last step of two-phase signing. */
#include <stdio.h>

#include "cmd.h"
#include "base/util.h"
#include "image/applysig.h"

const struct cmd_spec cmd_apply_signatures_spec = {
        .name = "apply-signatures",
        .synopsis = "IMAGE RESPONSE",
        .summary = "stamp a signing response into a deferred image (two-phase signing)",
        .description = "Writes every signature of RESPONSE ('imgtool sign-request') into IMAGE, which "
                       "'imgtool compose --defer-signatures' wrote, in place: each file's security.ima "
                       "placeholder becomes its signature (and a disk's UKI gets its Authenticode signature), and the image is then byte-identical to a "
                       "one-phase compose with the same key. First checks that RESPONSE answers this very "
                       "image (its SHA-256), that every signature verifies with the request's certificate "
                       "and that every file has its signature; any refusal is one line and leaves IMAGE "
                       "untouched.",
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_apply_signatures,
};

int cmd_apply_signatures(int argc, char **argv)
{
        struct cmd_parser p;
        struct applysig_result res = { 0 };
        int c, r;

        cmd_parser_init(&p, &cmd_apply_signatures_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0)
                ;
        if (c < 0)
                return p.exit;
        if (argc - p.next != 2)
                return cmd_usage_error(&p, "expected IMAGE and RESPONSE");
        r = applysig_run(argv[p.next], argv[p.next + 1], &res);
        if (r < 0)
                return cmd_fail(r);
        log_verbose("%s: %zu files stamped with %zu signatures", argv[p.next], res.files, res.signatures);
        return EXIT_OK;
}
