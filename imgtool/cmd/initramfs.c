/* imgtool initramfs: the initramfs that loads the IMA certs and policy,
 * then switches to the image. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "boot/initramfs.h"
#include "base/output.h"
#include "ima/policy.h"
#include "base/util.h"

enum { OPT_CERT = CMD_LONG_ONLY(1), OPT_POLICY, OPT_ROOT, OPT_RW, OPT_CMDLINE_TEST, OPT_MODULES };
static const struct cmd_option options[] = {
        { "cert", OPT_CERT, "CERT", "An IMA verification certificate, PEM (one or more) or DER, loaded into the _ima keyring; repeatable, at least one." },
        { "policy", OPT_POLICY, "FILE", "The IMA policy to load, validated first (default: what 'imgtool policy' prints)." },
        { "root", OPT_ROOT, "SPEC", "The root filesystem: LABEL=NAME, UUID=UUID or /dev/NAME; required." },
        { "rw", OPT_RW, NULL, "Mount the root read-write (default read-only)." },
        { "cmdline-test", OPT_CMDLINE_TEST, NULL, "Honour imgtool.test= and imgtool.run= on the kernel command line (test images only: the runner executes a script as root)." },
        { "modules", OPT_MODULES, "DIR", "Add the kernel modules that find the root on common devices (virtio, SCSI, AHCI, USB storage, NVMe) from the kernel's module folder DIR (lib/modules/VERSION)." },
        { "output", 'o', "OUT", "The initramfs to write (gzip-compressed newc cpio, written atomically); required." },
        { "force", 'f', NULL, "Replace OUT if it exists (a regular file only)." },
        {}
};

const struct cmd_spec cmd_initramfs_spec = {
        .name = "initramfs",
        .synopsis = "--cert CERT [--cert CERT]... [--policy FILE] --root SPEC [--rw] [--cmdline-test] [--modules DIR] -o OUT [--force]",
        .summary = "make an initramfs that loads the IMA keys and policy, then the root",
        .description = "Its /init is imgtool's static C program: it loads the root device's kernel modules, "
                       "puts the certificates into a locked _ima keyring, writes the IMA policy, mounts the "
                       "root and runs its /sbin/init. Any failure prints 'imgtool-init: FATAL: why' and powers "
                       "off. The archive is deterministic.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_initramfs,
};


int cmd_initramfs(int argc, char **argv)
{
        _cleanup_free_ const char **certs = NULL;
        _cleanup_free_ char *policy = NULL;
        struct initramfs_opts o = { 0 };
        const char *out = NULL, *policy_path = NULL;
        struct cmd_parser p;
        unsigned flags = 0;
        int c, r;

        certs = calloc((size_t)argc + 1, sizeof(*certs));
        if (!certs)
                return EXIT_ERROR;
        cmd_parser_init(&p, &cmd_initramfs_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case OPT_CERT: certs[o.n_certs++] = p.arg; break;
                case OPT_POLICY: policy_path = p.arg; break;
                case OPT_ROOT: o.root = p.arg; break;
                case OPT_RW: o.rw = true; break;
                case OPT_CMDLINE_TEST: o.cmdline_test = true; break;
                case OPT_MODULES: o.modules_dir = p.arg; break;
                case 'o': out = p.arg; break;
                case 'f': flags |= OUTPUT_FORCE; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (p.next < argc || !out || !o.root || !o.n_certs)
                return cmd_usage_error(&p, "%s", p.next < argc ? "unexpected argument" :
                                       !out ? "-o OUT is required" :
                                       !o.root ? "--root SPEC is required" : "at least one --cert is required");
        o.certs = certs;
        certs[o.n_certs] = policy_path;   /* inputs for the output check, NULL-terminated */
        if ((r = output_check(out, flags, certs)) < 0)
                return cmd_fail(r);
        certs[o.n_certs] = NULL;
        if (policy_path) {
                r = read_text_file(policy_path, &policy);
                if (r >= 0 && (r = ima_policy_validate(policy)) < 0)
                        imgerr_prefix(r, "%s: ", policy_path);
                else if (r >= 0 && !ima_policy_has_appraise_rule(policy))
                        r = imgerr(-EINVAL, "%s: no appraise rule: the image would boot without enforcement",
                                   policy_path);
                if (r < 0)
                        return cmd_fail(r);
                o.policy_text = policy;
        }
        r = initramfs_write(&o, out, flags);
        if (r < 0)
                return cmd_fail(r);
        return EXIT_OK;
}
