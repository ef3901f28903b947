/* imgtool: compose immutable, IMA-signed ext4 images from RPMs.
 * The command table and global options; everything else is in cmd/ and lib/. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cleanup.h"
#include "util.h"

#ifndef IMGTOOL_VERSION
#define IMGTOOL_VERSION "0.1"
#endif

struct command {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *summary;
};

static const struct command commands[] = {
        { "keygen",    cmd_keygen,    "make a signing key and cert (or a CA)" },
        { "sign-rpm",  cmd_sign_rpm,  "add IMA file signatures to RPM packages" },
        { "inspect",   cmd_inspect,   "list an RPM's files and their signature status" },
        { "compose",   cmd_compose,   "build a signed ext4 image from a layout" },
        { "verify",    cmd_verify,    "check every file signature of an image offline" },
        { "manifest",  cmd_manifest,  "print a stable line per path of an image" },
        { "ls",        cmd_ls,        "list a folder inside an image" },
        { "extract",   cmd_extract,   "copy a file or tree out of an image" },
        { "initramfs", cmd_initramfs, "make an initramfs that loads the IMA key and policy" },
        { "policy",    cmd_policy,    "print the IMA policy a layout enforces" },
        { "ipe-policy", cmd_ipe_policy, "print or sign the IPE policy of a [Verity] Signatures=ipe layout" },
        { "kconfig",   cmd_kconfig,   "print a Kconfig fragment for a kernel that trusts a CA" },
        { "ima-log",   cmd_ima_log,   "replay an IMA measurement log into PCR values" },
        { "reference", cmd_reference, "write an image's signed reference values for attest" },
        { "keylime-policy", cmd_keylime_policy, "write a Keylime runtime policy for an image" },
        { "attest",    cmd_attest,    "verify a TPM quote and IMA log against reference values" },
        { "pcrs",      cmd_pcrs,      "predict the TPM PCRs after a Secure Boot boot of a disk" },
};

static void usage(FILE *f)
{
        fprintf(f, "usage: imgtool [-v] COMMAND [ARGS]\n\ncommands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fprintf(f, "\n'imgtool COMMAND --help' for a command's options.\n"
                   "exit codes: 0 success, 1 a check found violations, 2 error\n");
}

/* One line, whatever a package or image path holds (util.h escape_text). */
int cmd_fail(void)
{
        _cleanup_free_ char *msg = escape_text(imgerr_msg(), ESCAPE_LINE);
        fprintf(stderr, "imgtool: %s\n", msg ? msg : imgerr_msg());
        return EXIT_ERROR;
}

int main(int argc, char **argv)
{
        int i = 1;

        cleanup_install_handlers();
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
                        imgtool_verbose++;
                else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
                        usage(stdout);
                        return EXIT_OK;
                } else if (!strcmp(argv[i], "--version")) {
                        printf("imgtool %s\n", IMGTOOL_VERSION);
                        return EXIT_OK;
                } else {
                        fprintf(stderr, "imgtool: unknown option '%s'\n", argv[i]);
                        usage(stderr);
                        return EXIT_ERROR;
                }
        }
        if (i >= argc) {
                usage(stderr);
                return EXIT_ERROR;
        }
        for (size_t c = 0; c < ARRAY_SIZE(commands); c++)
                if (!strcmp(argv[i], commands[c].name))
                        return commands[c].fn(argc - i, argv + i);
        fprintf(stderr, "imgtool: '%s' is not a command; see 'imgtool --help'\n", argv[i]);
        return EXIT_ERROR;
}
