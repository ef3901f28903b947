/* imgtool reference: the signed reference values of an image, for
 * `imgtool attest` (lib/reference.h). */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "imasig.h"
#include "imgfiles.h"
#include "output.h"
#include "reference.h"
#include "util.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: imgtool reference IMAGE -o FILE --key KEY --cert CERT [--initramfs I] [--kernel K] [--json]\n"
                   "       imgtool reference DISK -o FILE --key KEY --cert CERT [--sb-keys KEYDIR] [--json]\n"
                   "       imgtool reference --check FILE --cert CERT [--json]\n\n"
                   "Write IMAGE's reference values (every regular file's sha256, IMA digest\n"
                   "algorithm and signature keyid; the IMA certs and policy of its initramfs;\n"
                   "kernel and initramfs digests; for a disk, its UKI's and the predicted PCRs\n"
                   "of imgtool pcrs) to FILE, signed into FILE.sig with KEY.\n"
                   "--check verifies FILE.sig with CERT and prints what FILE holds.\n\n"
                   "  -o, --output FILE  the reference file (FILE.sig beside it)\n"
                   "  --key KEY          the owner's private key (PEM)\n"
                   "  --cert CERT        its certificate; with --check: the trusted cert(s)\n"
                   "  --initramfs I      default IMAGE.initramfs beside the image\n"
                   "  --kernel K         default IMAGE.vmlinuz beside the image\n"
                   "  --sb-keys KEYDIR   a disk's Secure Boot keys (keygen --secure-boot): PCR 7\n"
                   "  -f, --force        replace existing FILE and FILE.sig\n"
                   "  --json             print the summary as JSON\n"
                   "  -h, --help         this text\n"
                   "Exit: 0 written / valid, 1 --check found the signature invalid, 2 error.\n");
}

static void summary(bool json, const char *file, const char *what, size_t n_files, size_t n_certs,
                    uint32_t keyid, double secs)
{
        if (json) {
                json_object *o = json_object_new_object();
                char id[9];
                snprintf(id, sizeof(id), "%08x", keyid);
                json_object_object_add(o, "reference", json_object_new_string(file));
                json_object_object_add(o, "ok", json_object_new_boolean(1));
                json_object_object_add(o, "signed_by", json_object_new_string(id));
                json_object_object_add(o, "files", json_object_new_int64((int64_t)n_files));
                json_object_object_add(o, "certs", json_object_new_int64((int64_t)n_certs));
                json_object_object_add(o, "seconds", json_object_new_double(secs));
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        } else {
                printf("%s: %s, key %08x: %zu files, %zu certs (%.3f s)\n", file, what, keyid, n_files, n_certs,
                       secs);
        }
}

static int check(const char *file, const char *cert, bool json)
{
        json_object *doc = NULL, *files, *certs;
        uint32_t keyid = 0;
        double t0 = now_seconds();
        int r = reference_load(file, cert, &doc, &keyid);

        if (r == -EBADMSG) {
                if (json) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "reference", json_object_new_string(file));
                        json_object_object_add(o, "ok", json_object_new_boolean(0));
                        json_object_object_add(o, "error", json_object_new_string(imgerr_msg()));
                        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                          JSON_C_TO_STRING_NOSLASHESCAPE));
                        json_object_put(o);
                } else
                        fprintf(stderr, "imgtool: %s\n", imgerr_msg());
                return EXIT_VIOLATIONS;
        }
        if (r < 0)
                return cmd_fail();
        json_object_object_get_ex(doc, "files", &files);
        json_object_object_get_ex(doc, "certs", &certs);
        summary(json, file, "signature valid", json_object_array_length(files), json_object_array_length(certs),
                keyid, now_seconds() - t0);
        json_object_put(doc);
        return EXIT_OK;
}

int cmd_reference(int argc, char **argv)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "key", required_argument, NULL, 'k' },
                { "cert", required_argument, NULL, 'c' },
                { "initramfs", required_argument, NULL, 'i' },
                { "kernel", required_argument, NULL, 'K' },
                { "check", required_argument, NULL, 'C' },
                { "sb-keys", required_argument, NULL, 'S' },
                { "json", no_argument, NULL, 'j' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *output = NULL, *key = NULL, *cert = NULL, *initramfs = NULL, *kernel = NULL,
                   *check_file = NULL, *sb_keys = NULL, *image;
        struct imgfiles *files = NULL;
        struct imgboot boot = {};
        json_object *doc = NULL;
        bool json = false;
        unsigned flags = 0;
        double t0 = now_seconds();
        _cleanup_free_ char *sigpath = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "o:fh", opts, NULL)) != -1) {
                switch (c) {
                case 'o': output = optarg; break;
                case 'k': key = optarg; break;
                case 'c': cert = optarg; break;
                case 'i': initramfs = optarg; break;
                case 'K': kernel = optarg; break;
                case 'C': check_file = optarg; break;
                case 'S': sb_keys = optarg; break;
                case 'j': json = true; break;
                case 'f': flags |= OUTPUT_FORCE; break;
                case 'h': usage(stdout); return EXIT_OK;
                default: usage(stderr); return EXIT_ERROR;
                }
        }
        if (check_file) {
                if (optind != argc || !cert || output || key) {
                        usage(stderr);
                        return EXIT_ERROR;
                }
                return check(check_file, cert, json);
        }
        if (optind != argc - 1 || !output || !key || !cert) {
                usage(stderr);
                return EXIT_ERROR;
        }
        image = argv[optind];
        {
                const char *inputs[] = { image, key, cert, initramfs, kernel, NULL };
                if (!initramfs)
                        inputs[3] = NULL;
                else if (!kernel)
                        inputs[4] = NULL;
                if (asprintf(&sigpath, "%s.sig", output) < 0)
                        return cmd_fail();
                if (!strcmp(output, "-") || output_check(output, flags, inputs) < 0 ||
                    output_check(sigpath, flags, inputs) < 0) {
                        if (!strcmp(output, "-"))
                                fprintf(stderr, "imgtool: reference: -o needs a file (FILE.sig goes beside it)\n");
                        else
                                cmd_fail();
                        return EXIT_ERROR;
                }
        }
        r = imgboot_load(image, initramfs, kernel, sb_keys, &boot);
        if (r == 0)
                r = imgfiles_collect(image, &files);
        if (r == 0)
                r = reference_build(image, files, &boot, &doc);
        if (r == 0)
                r = reference_write(doc, key, cert, output, flags);
        if (r == 0) {
                uint32_t keyid = 0;
                struct ima_key *k;
                if (ima_key_load(key, cert, &k) == 0) {
                        keyid = ima_key_keyid(k);
                        ima_key_free(k);
                }
                summary(json, output, "written", files->n, boot.ird.n_certs, keyid, now_seconds() - t0);
        }
        json_object_put(doc);
        imgfiles_free(files);
        imgboot_free(&boot);
        return r < 0 ? cmd_fail() : EXIT_OK;
}
