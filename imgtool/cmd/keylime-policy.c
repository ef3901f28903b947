/* imgtool keylime-policy: a Keylime runtime policy that accepts exactly
 * this image (lib/attest/keylime.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "attest/imgfiles.h"
#include "attest/keylime.h"
#include "base/output.h"
#include "attest/reference.h"
#include "base/util.h"

enum { OPT_INITRAMFS = CMD_LONG_ONLY(1) };
static const struct cmd_option options[] = {
        { "output", 'o', "FILE", "Write the policy to FILE ('-': stdout); required." },
        { "initramfs", OPT_INITRAMFS, "FILE", "The initramfs the image boots with (default: IMAGE.initramfs beside it, else the image's /etc/keys; a disk: its UKI's .initrd)." },
        { "force", 'f', NULL, "Replace FILE if it exists." },
        {}
};

const struct cmd_spec cmd_keylime_policy_spec = {
        .name = "keylime-policy",
        .synopsis = "IMAGE|DISK -o POLICY.json [--initramfs FILE] [--force]",
        .summary = "write a Keylime runtime policy for an image",
        .description = "Writes a Keylime runtime policy (meta.version 1) that accepts exactly IMAGE: "
                       "every regular file's IMA digest, and the initramfs's IMA certificates as "
                       "verification keys.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_keylime_policy,
};

int cmd_keylime_policy(int argc, char **argv)
{
        const char *output = NULL, *initramfs = NULL, *image;
        struct imgfiles *files = NULL;
        struct reference_boot boot = {};
        double t0 = now_seconds();
        unsigned flags = OUTPUT_STDOUT;
        struct cmd_parser p;
        int c, r;

        cmd_parser_init(&p, &cmd_keylime_policy_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case 'o': output = p.arg; break;
                case OPT_INITRAMFS: initramfs = p.arg; break;
                case 'f': flags |= OUTPUT_FORCE; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (p.next != argc - 1)
                return cmd_usage_error(&p, "give one IMAGE");
        if (!output)
                return cmd_usage_error(&p, "-o POLICY.json is required");
        image = argv[p.next];
        {
                const char *inputs[] = { image, initramfs, NULL };
                if ((r = output_check(output, flags, inputs)) < 0)
                        return cmd_fail(r);
        }
        r = reference_boot_load(image, initramfs, NULL, NULL, &boot);
        if (r == 0)
                r = imgfiles_collect(image, &files);
        if (r == 0) {
                const char *inputs[] = { image, initramfs, NULL };
                r = keylime_policy_write(files, &boot, output, flags, inputs);
        }
        if (r == 0)
                log_verbose("%s: %zu files, %zu verification keys in %.3f s", output, files->n,
                            boot.ird.n_certs, now_seconds() - t0);
        imgfiles_free(files);
        reference_boot_free(&boot);
        return r < 0 ? cmd_fail(r) : EXIT_OK;
}
