/* imgtool: compose immutable, IMA-signed ext4 images from RPMs.
 * The command table and the options before the command; each command is
 * cmd/<name>.c, and the CLI convention they share is cmd/cmd.h. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "base/cleanup.h"
#include "base/util.h"

#ifndef IMGTOOL_VERSION
#define IMGTOOL_VERSION "0.1"
#endif

const char imgtool_version[] = IMGTOOL_VERSION;

/* In the order `imgtool help` lists them: make keys, sign, compose, check,
 * look inside, boot. */
const struct cmd_spec *const cmd_table[] = {
        &cmd_keygen_spec,
        &cmd_sign_rpm_spec,
        &cmd_sigpack_spec,
        &cmd_inspect_spec,
        &cmd_init_layout_spec,
        &cmd_summary_spec,
        &cmd_compose_spec,
        &cmd_sign_request_spec,
        &cmd_apply_signatures_spec,
        &cmd_verify_spec,
        &cmd_manifest_spec,
        &cmd_ls_spec,
        &cmd_extract_spec,
        &cmd_initramfs_spec,
        &cmd_policy_spec,
        &cmd_ipe_policy_spec,
        &cmd_kconfig_spec,
        &cmd_ima_log_spec,
        &cmd_reference_spec,
        &cmd_keylime_policy_spec,
        &cmd_attest_spec,
        &cmd_pcrs_spec,
        &cmd_boot_spec,
        &cmd_help_spec,
        NULL,
};

int main(int argc, char **argv)
{
        const struct cmd_spec *s;
        int i = 1;

        /* Global options before the command; after it, cmd_getopt takes them. */
        cleanup_install_handlers();
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
                        imgtool_verbose++;
                else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
                        cmd_print_overview(stdout);
                        return EXIT_OK;
                } else if (!strcmp(argv[i], "--version")) {
                        printf("imgtool %s\n", imgtool_version);
                        return EXIT_OK;
                } else {
                        fprintf(stderr, "imgtool: unknown option %s (see 'imgtool --help')\n", argv[i]);
                        return EXIT_ERROR;
                }
        }
        if (i >= argc) {
                cmd_print_overview(stderr);
                return EXIT_ERROR;
        }
        s = cmd_find(argv[i]);
        if (!s) {
                fprintf(stderr, "imgtool: '%s' is not a command (see 'imgtool help')\n", argv[i]);
                return EXIT_ERROR;
        }
        return s->run(argc - i, argv + i);
}
