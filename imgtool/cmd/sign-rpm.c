/* imgtool sign-rpm: add IMA file signatures to RPM packages, as
 * `rpmsign --signfiles` does, without rpmsign's IMA support (which Debian's
 * librpmsign lacks). */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "imasig.h"
#include "output.h"
#include "rpmsign.h"
#include "util.h"

static void usage(FILE *out)
{
        fprintf(out,
                "usage: imgtool sign-rpm --key KEY --cert CERT [--skip-config]\n"
                "                        (-o OUT | --output-dir DIR | --in-place) RPM...\n"
                "\n"
                "Sign every regular file of each package over its header digest and store\n"
                "the signatures where rpmsign --signfiles does (the signature header);\n"
                "existing file signatures are replaced.  rpm's ima plugin writes them to\n"
                "security.ima on install.  Header, payload and OpenPGP signatures are kept.\n"
                "\n"
                "  -k, --key KEY         PEM private key\n"
                "  -c, --cert CERT       its X.509 cert (PEM or DER): gives the keyid\n"
                "  -s, --skip-config     leave %%config files unsigned\n"
                "  -o, --output OUT      write the signed package to OUT (one RPM only)\n"
                "  -d, --output-dir DIR  write DIR/<name of each RPM>\n"
                "  -i, --in-place        replace each RPM (atomically)\n"
                "  -f, --force           replace existing output files (regular files only)\n"
                "  -h, --help            this text\n");
}

static int output_path(const char *in, const char *out, const char *dir, char **path)
{
        if (out)
                *path = strdup(out);
        else if (dir) {
                _cleanup_free_ char *copy = strdup(in);
                if (!copy || asprintf(path, "%s/%s", dir, basename(copy)) < 0)
                        *path = NULL;
        } else
                *path = strdup(in);
        return *path ? 0 : -1;
}

int cmd_sign_rpm(int argc, char **argv)
{
        static const struct option opts[] = {
                { "key", required_argument, NULL, 'k' },
                { "cert", required_argument, NULL, 'c' },
                { "skip-config", no_argument, NULL, 's' },
                { "output", required_argument, NULL, 'o' },
                { "output-dir", required_argument, NULL, 'd' },
                { "in-place", no_argument, NULL, 'i' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *key_path = NULL, *cert_path = NULL, *out = NULL, *dir = NULL;
        struct rpmsign_opts so = { 0 };
        struct ima_key *key = NULL;
        _cleanup_free_ const char **inputs = NULL;
        struct output **pending = NULL;
        bool in_place = false;
        int c, rc = EXIT_OK;
        struct stat st;

        while ((c = getopt_long(argc, argv, "k:c:so:d:ifh", opts, NULL)) != -1) {
                switch (c) {
                case 'k': key_path = optarg; break;
                case 'c': cert_path = optarg; break;
                case 's': so.skip_config = true; break;
                case 'o': out = optarg; break;
                case 'd': dir = optarg; break;
                case 'i': in_place = true; break;
                case 'f': so.out_flags |= OUTPUT_FORCE; break;
                case 'h': usage(stdout); return EXIT_OK;
                default: usage(stderr); return EXIT_ERROR;
                }
        }
        if (!key_path || !cert_path) {
                fprintf(stderr, "imgtool: sign-rpm: --key and --cert are required\n");
                return EXIT_ERROR;
        }
        if ((out != NULL) + (dir != NULL) + in_place != 1) {
                fprintf(stderr, "imgtool: sign-rpm: give exactly one of -o, --output-dir, --in-place\n");
                return EXIT_ERROR;
        }
        if (optind >= argc) {
                fprintf(stderr, "imgtool: sign-rpm: no RPM given\n");
                return EXIT_ERROR;
        }
        if (out && argc - optind != 1) {
                fprintf(stderr, "imgtool: sign-rpm: -o takes one RPM; use --output-dir for several\n");
                return EXIT_ERROR;
        }
        if (dir && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
                fprintf(stderr, "imgtool: %s: not a directory\n", dir);
                return EXIT_ERROR;
        }
        /* every output path before any work; -o and --output-dir may
         * replace no input (--in-place replaces its own, by definition) */
        inputs = calloc((size_t)(argc - optind) + 3, sizeof(*inputs));
        if (!inputs)
                return EXIT_ERROR;
        inputs[0] = key_path;
        inputs[1] = cert_path;
        for (int i = optind; i < argc; i++)
                inputs[2 + i - optind] = argv[i];
        if (in_place)
                so.out_flags |= OUTPUT_FORCE;
        else
                so.inputs = inputs;
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *dst = NULL;
                if (output_path(argv[i], out, dir, &dst) < 0)
                        return EXIT_ERROR;
                for (int k = optind; k < i; k++) {
                        _cleanup_free_ char *other = NULL;
                        if (output_path(argv[k], out, dir, &other) == 0 && !strcmp(other, dst)) {
                                fprintf(stderr, "imgtool: %s: two packages would be written there (%s and %s)\n",
                                        dst, argv[k], argv[i]);
                                return EXIT_ERROR;
                        }
                }
                if (output_check(dst, so.out_flags, so.inputs) < 0)
                        return cmd_fail();
        }
        if (ima_key_load(key_path, cert_path, &key) < 0)
                return cmd_fail();

        /* all or nothing: every package is signed into a temporary, and
         * the temporaries are renamed only when all of them are complete */
        pending = calloc((size_t)(argc - optind), sizeof(*pending));
        if (!pending) {
                ima_key_free(key);
                return EXIT_ERROR;
        }
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *dst = NULL;
                struct rpmsign_result res;

                if (output_path(argv[i], out, dir, &dst) < 0) {
                        rc = EXIT_ERROR;
                        break;
                }
                imgerr_clear();
                if (rpmsign_file(argv[i], dst, key, &so, &res, &pending[i - optind]) < 0) {
                        rc = cmd_fail();
                        continue;   /* report every bad package, write none */
                }
                log_verbose("%s: signed %zu files (%zu replaced) with key %08x -> %s", argv[i],
                            res.signed_files, res.replaced, ima_key_keyid(key), dst);
        }
        for (int i = 0; i < argc - optind; i++) {
                if (rc == EXIT_OK && pending[i] && output_commit(pending[i]) < 0)
                        rc = cmd_fail();
                else if (rc != EXIT_OK || !pending[i])
                        output_abort(pending[i]);
                pending[i] = NULL;
        }
        free(pending);
        ima_key_free(key);
        return rc;
}
