/* imgtool keylime-policy: a Keylime runtime policy that accepts exactly
 * this image (lib/keylime.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "imgfiles.h"
#include "keylime.h"
#include "output.h"
#include "reference.h"
#include "util.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: imgtool keylime-policy IMAGE|DISK -o POLICY.json [--initramfs I] [--force]\n\n"
                   "Write a Keylime runtime policy (meta.version 1) for IMAGE: every regular\n"
                   "file's IMA digest, the initramfs's IMA certs as verification keys.\n\n"
                   "  -o, --output FILE  where to write the policy ('-': stdout)\n"
                   "  --initramfs I      the initramfs the image boots with (default:\n"
                   "                     IMAGE.initramfs beside it; else the image's /etc/keys;\n"
                   "                     a disk: its UKI's .initrd)\n"
                   "  -f, --force        replace an existing POLICY.json\n"
                   "  -h, --help         this text\n");
}

int cmd_keylime_policy(int argc, char **argv)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "initramfs", required_argument, NULL, 'i' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *output = NULL, *initramfs = NULL, *image;
        struct imgfiles *files = NULL;
        struct imgboot boot = {};
        json_object *doc = NULL;
        double t0 = now_seconds();
        unsigned flags = OUTPUT_STDOUT;
        int c, r;

        while ((c = getopt_long(argc, argv, "o:fh", opts, NULL)) != -1) {
                switch (c) {
                case 'o': output = optarg; break;
                case 'i': initramfs = optarg; break;
                case 'f': flags |= OUTPUT_FORCE; break;
                case 'h': usage(stdout); return EXIT_OK;
                default: usage(stderr); return EXIT_ERROR;
                }
        }
        if (optind != argc - 1 || !output) {
                usage(stderr);
                return EXIT_ERROR;
        }
        image = argv[optind];
        {
                const char *inputs[] = { image, initramfs, NULL };
                if (output_check(output, flags, inputs) < 0)
                        return cmd_fail();
        }
        r = imgboot_load(image, initramfs, NULL, NULL, &boot);
        if (r == 0)
                r = imgfiles_collect(image, &files);
        if (r == 0)
                r = keylime_policy_build(files, &boot, &doc);
        if (r == 0) {
                const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
                                                                       JSON_C_TO_STRING_NOSLASHESCAPE);
                _cleanup_free_ char *body = NULL;
                if (asprintf(&body, "%s\n", text) < 0)
                        r = imgerr(-ENOMEM, "out of memory");
                else
                        r = output_write_file(output, flags, 0644, NULL, body, strlen(body));
        }
        if (r == 0)
                log_verbose("%s: %zu files, %zu verification keys in %.3f s", output, files->n,
                            boot.ird.n_certs, now_seconds() - t0);
        json_object_put(doc);
        imgfiles_free(files);
        imgboot_free(&boot);
        return r < 0 ? cmd_fail() : EXIT_OK;
}
