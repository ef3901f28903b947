/* imgtool initramfs: the initramfs that loads the IMA certs and policy,
 * then switches to the image. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "initramfs.h"
#include "output.h"
#include "policy.h"
#include "util.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: imgtool initramfs --cert CERT [--cert CERT...] [--policy FILE] --root SPEC\n"
                   "                          [--rw] [--cmdline-test] -o OUT\n"
                   "  --cert CERT      IMA verification cert (PEM or DER), loaded into the _ima keyring\n"
                   "  --policy FILE    IMA policy to load (validated; default: 'imgtool policy')\n"
                   "  --root SPEC      root filesystem: LABEL=NAME, UUID=UUID or /dev/NAME\n"
                   "  --rw             mount the root read-write (default read-only)\n"
                   "  --cmdline-test   honour imgtool.test=1 and imgtool.run= on the kernel command\n"
                   "                   line (test images only: the runner executes a script as root)\n"
                   "  -o, --output OUT the initramfs to write (gzip newc cpio)\n"
                   "  -f, --force      replace OUT if it exists (a regular file only)\n");
}


int cmd_initramfs(int argc, char **argv)
{
        static const struct option opts[] = {
                { "cert", required_argument, NULL, 'c' },
                { "policy", required_argument, NULL, 'p' },
                { "root", required_argument, NULL, 'r' },
                { "rw", no_argument, NULL, 'w' },
                { "cmdline-test", no_argument, NULL, 't' },
                { "output", required_argument, NULL, 'o' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_free_ const char **certs = NULL;
        _cleanup_free_ char *policy = NULL;
        struct initramfs_opts o = { 0 };
        const char *out = NULL, *policy_path = NULL;
        unsigned flags = 0;
        int c, r;

        certs = calloc((size_t)argc + 1, sizeof(*certs));
        if (!certs)
                return EXIT_ERROR;
        while ((c = getopt_long(argc, argv, "o:fh", opts, NULL)) != -1) {
                switch (c) {
                case 'c': certs[o.n_certs++] = optarg; break;
                case 'p': policy_path = optarg; break;
                case 'r': o.root = optarg; break;
                case 'w': o.rw = true; break;
                case 't': o.cmdline_test = true; break;
                case 'o': out = optarg; break;
                case 'f': flags |= OUTPUT_FORCE; break;
                case 'h': usage(stdout); return EXIT_OK;
                default: return EXIT_ERROR; /* getopt said why */
                }
        }
        if (optind < argc || !out || !o.root || !o.n_certs) {
                fprintf(stderr, "imgtool: initramfs: %s (see 'imgtool initramfs --help')\n",
                        optind < argc ? "unexpected argument" :
                        !out ? "-o OUT is required" :
                        !o.root ? "--root SPEC is required" : "at least one --cert is required");
                return EXIT_ERROR;
        }
        o.certs = certs;
        certs[o.n_certs] = policy_path;   /* inputs for the output check, NULL-terminated */
        if (output_check(out, flags, certs) < 0)
                return cmd_fail();
        certs[o.n_certs] = NULL;
        if (policy_path) {
                r = read_text_file(policy_path, &policy);
                if (r >= 0 && (r = policy_validate(policy)) < 0)
                        imgerr_prefix(r, "%s: ", policy_path);
                else if (r >= 0 && !policy_has_appraise_rule(policy))
                        r = imgerr(-EINVAL, "%s: no appraise rule: the image would boot without enforcement",
                                   policy_path);
                if (r < 0)
                        return cmd_fail();
                o.policy_text = policy;
        }
        r = initramfs_write(&o, out, flags);
        if (r < 0)
                return cmd_fail();
        return EXIT_OK;
}
