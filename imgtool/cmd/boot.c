/* imgtool boot: boot an image under QEMU with the harness that ships with
 * imgtool (qemu-test/run), wherever imgtool is installed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "base/datadir.h"
#include "base/util.h"

/* The options belong to qemu-test/run; they are listed here so --help,
 * the man page and the completion show them. */
static const struct cmd_option options[] = {
        { "kernel", CMD_LONG_ONLY(1), "K", "The kernel (default IMAGE.vmlinuz beside the image)." },
        { "initramfs", CMD_LONG_ONLY(2), "I", "The initramfs (default IMAGE.initramfs beside the image)." },
        { "exec", CMD_LONG_ONLY(3), "CMD", "Run CMD as root in the guest through the test hooks (TestHooks=yes), print its output and exit with its status." },
        { "shell", CMD_LONG_ONLY(4), NULL, "An interactive root shell through the test hooks; leaving it powers off." },
        { "check", CMD_LONG_ONLY(5), NULL, "Run the guest check suite (qemu-test/README.md) on a tampered copy." },
        { "timeout", CMD_LONG_ONLY(6), "S", "Give up after S seconds (default 300 for --exec and --check)." },
        { "append", CMD_LONG_ONLY(7), "ARGS", "More kernel command line, after IMAGE.cmdline's." },
        { "console", CMD_LONG_ONLY(8), "FILE", "Keep the guest's console log in FILE." },
        { "virtio", CMD_LONG_ONLY(9), NULL, "Attach the image as a virtio-blk disk instead of NVMe." },
        { "uefi", CMD_LONG_ONLY(10), NULL, "Boot a disk (compose Format=disk) through OVMF: its ESP's UKI, whose command line is fixed." },
        { "secure-boot", CMD_LONG_ONLY(11), "[=KEYDIR]", "With --uefi: Secure Boot on, the owner's PK/KEK/db from KEYDIR (keygen --secure-boot; default --sb-keys, else $IMGTOOL_SB_KEYS) enrolled." },
        { "sb-keys", CMD_LONG_ONLY(12), "DIR", "The key folder for --secure-boot." },
        { "vars", CMD_LONG_ONLY(13), "FILE", "With --uefi: this OVMF variable store (copied, never written)." },
        { "also", CMD_LONG_ONLY(14), "DISK", "With --uefi: one more disk, a boot option the firmware tries after the first (repeatable)." },
        { "save-root", CMD_LONG_ONLY(15), "FILE", "With --exec: the root disk as the guest left it, written to FILE (raw) after the run." },
        { "no-network", CMD_LONG_ONLY(16), NULL, "No network card at all (QEMU's default is a user-mode one)." },
        {}
};

const struct cmd_spec cmd_boot_spec = {
        .name = "boot",
        .synopsis = "IMAGE [--exec CMD | --shell | --check] [--kernel K] [--initramfs I] [--timeout S] [--append ARGS] [--console FILE] [--virtio] [--uefi [--secure-boot[=KEYDIR]]]",
        .summary = "boot an image under QEMU with a software TPM (the qemu-test harness)",
        .description = "Runs the qemu-test/run harness installed with imgtool (PREFIX/libexec/imgtool): QEMU "
                       "with -accel tcg, a swtpm TPM 2.0, the image behind a qcow2 overlay so it is never "
                       "written, the kernel command line from IMAGE.cmdline. Without --exec, --shell or "
                       "--check the console is this terminal until the guest powers off.",
        .options = options,
        .exits = (const struct cmd_exit[]){
                { 0, "the guest ran and powered off (--exec: the command's status; --check: every case passed)" },
                { 1, "--check: a case failed; a plain boot: the initramfs's init failed (its FATAL line is printed)" },
                { 2, "bad arguments, or no kernel/initramfs/QEMU" },
                { 124, "--exec: timed out" },
                { 125, "--exec: the guest never ran the command (its console's tail is printed)" },
                { 126, "--uefi: the firmware refused to start the disk's UKI (its message is printed)" }, {} },
        .run = cmd_boot,
};

int cmd_boot(int argc, char **argv)
{
        struct cmd_parser p;
        _cleanup_free_ char *run = NULL, *self = NULL;
        char **args;
        int c, n = 0, r;

        /* Parse only to apply the convention (--help, unknown options);
         * the arguments go to the harness unchanged. */
        cmd_parser_init(&p, &cmd_boot_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0)
                ;
        if (c < 0)
                return p.exit;
        if (argc - p.next != 1)
                return cmd_usage_error(&p, "expected exactly one IMAGE");
        if ((r = datadir_find("qemu-test/run", &run)) < 0)
                return cmd_fail(r);
        self = realpath("/proc/self/exe", NULL);
        if (self)
                setenv("IMGTOOL", self, 1); /* the check suite runs this imgtool */
        args = calloc((size_t)argc + 2, sizeof(*args));
        if (!args)
                return EXIT_ERROR;
        args[n++] = run;
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "-v") && strcmp(argv[i], "--verbose"))
                        args[n++] = argv[i];
        args[n] = NULL;
        execv(run, args);
        fprintf(stderr, "imgtool: %s: %s\n", run, strerror(errno));
        free(args);
        return EXIT_ERROR;
}
