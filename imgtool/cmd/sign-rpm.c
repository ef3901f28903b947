/* imgtool sign-rpm: add IMA file signatures to RPM packages, as
 * `rpmsign --signfiles` does, without rpmsign's IMA support (which Debian's
 * librpmsign lacks). */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "ima/imasig.h"
#include "base/output.h"
#include "rpm/rpmsign.h"
#include "base/util.h"

static const struct cmd_option options[] = {
        { "key", 'k', "KEY", "The private key (EC or RSA) to sign with: a PEM file or a PKCS#11 URI (docs/keys.md); required." },
        { "cert", 'c', "CERT", "Its X.509 certificate, PEM or DER, which gives the keyid; a key that does not match it is refused; required." },
        { "skip-config", 's', NULL, "Leave %config files unsigned (they are meant to be edited)." },
        { "strip", 'S', NULL, "Remove every file signature instead of signing (no --key or --cert): the base package shipped beside a signature pack (imgtool sigpack); an unsigned original comes back byte for byte." },
        { "output", 'o', "OUT", "Write the signed package to OUT (one RPM only)." },
        { "output-dir", 'd', "DIR", "Write each signed package to DIR under its own file name (DIR is created if missing)." },
        { "in-place", 'i', NULL, "Replace each RPM with its signed version (atomically)." },
        { "force", 'f', NULL, "Replace existing output files (regular files only); without it an existing output is refused." },
        {}
};

const struct cmd_spec cmd_sign_rpm_spec = {
        .name = "sign-rpm",
        .synopsis = "(--key KEY --cert CERT [--skip-config] | --strip) (-o OUT | --output-dir DIR | --in-place) [--force] RPM...",
        .summary = "add IMA file signatures to RPM packages",
        .description = "Signs every regular file of each package over its header digest and stores the "
                       "signatures where 'rpmsign --signfiles' does (the signature header); existing file "
                       "signatures are replaced. rpm's ima plugin writes them to security.ima on install. "
                       "The header, the payload and any OpenPGP signature are kept byte for byte. With -v: "
                       "one line per package.",
        .options = options,
        .exits = (const struct cmd_exit[]){ { 0, "every package signed" },
                                            { 2, "bad arguments, or a package could not be signed (one line each); then no package is written" }, {} },
        .run = cmd_sign_rpm,
};

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
        int r;
        const char *key_path = NULL, *cert_path = NULL, *out = NULL, *dir = NULL;
        struct rpmsign_opts so = { 0 };
        struct ima_key *key = NULL;
        _cleanup_free_ const char **inputs = NULL;
        struct output **pending = NULL;
        bool in_place = false;
        int c, rc = EXIT_OK;
        struct cmd_parser p;
        struct stat st;

        cmd_parser_init(&p, &cmd_sign_rpm_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case 'k': key_path = p.arg; break;
                case 'c': cert_path = p.arg; break;
                case 's': so.skip_config = true; break;
                case 'S': so.strip = true; break;
                case 'o': out = p.arg; break;
                case 'd': dir = p.arg; break;
                case 'i': in_place = true; break;
                case 'f': so.out_flags |= OUTPUT_FORCE; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (so.strip && (key_path || cert_path || so.skip_config))
                return cmd_usage_error(&p, "--strip takes no --key, --cert or --skip-config");
        if (!so.strip && (!key_path || !cert_path))
                return cmd_usage_error(&p, "--key and --cert are required");
        if ((out != NULL) + (dir != NULL) + in_place != 1)
                return cmd_usage_error(&p, "give exactly one of -o, --output-dir, --in-place");
        if (p.next >= argc)
                return cmd_usage_error(&p, "no RPM given");
        if (out && argc - p.next != 1)
                return cmd_usage_error(&p, "-o takes one RPM; use --output-dir for several");
        if (dir && mkdir(dir, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "imgtool: %s: cannot create: %s\n", dir, strerror(errno));
                return EXIT_ERROR;
        }
        if (dir && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
                fprintf(stderr, "imgtool: %s: not a directory\n", dir);
                return EXIT_ERROR;
        }
        /* every output path before any work; -o and --output-dir may
         * replace no input (--in-place replaces its own, by definition) */
        inputs = calloc((size_t)(argc - p.next) + 3, sizeof(*inputs));
        if (!inputs)
                return EXIT_ERROR;
        inputs[0] = key_path ? key_path : argv[p.next];
        inputs[1] = cert_path ? cert_path : argv[p.next];
        for (int i = p.next; i < argc; i++)
                inputs[2 + i - p.next] = argv[i];
        if (in_place)
                so.out_flags |= OUTPUT_FORCE;
        else
                so.inputs = inputs;
        for (int i = p.next; i < argc; i++) {
                _cleanup_free_ char *dst = NULL;
                if (output_path(argv[i], out, dir, &dst) < 0)
                        return EXIT_ERROR;
                for (int k = p.next; k < i; k++) {
                        _cleanup_free_ char *other = NULL;
                        if (output_path(argv[k], out, dir, &other) == 0 && !strcmp(other, dst)) {
                                fprintf(stderr, "imgtool: %s: two packages would be written there (%s and %s)\n",
                                        dst, argv[k], argv[i]);
                                return EXIT_ERROR;
                        }
                }
                if ((r = output_check(dst, so.out_flags, so.inputs)) < 0)
                        return cmd_fail(r);
        }
        if (!so.strip && (r = ima_key_load(key_path, cert_path, &key)) < 0)
                return cmd_fail(r);

        /* all or nothing: every package is signed into a temporary, and
         * the temporaries are renamed only when all of them are complete */
        pending = calloc((size_t)(argc - p.next), sizeof(*pending));
        if (!pending) {
                ima_key_free(key);
                return EXIT_ERROR;
        }
        for (int i = p.next; i < argc; i++) {
                _cleanup_free_ char *dst = NULL;
                struct rpmsign_result res;

                if (output_path(argv[i], out, dir, &dst) < 0) {
                        rc = EXIT_ERROR;
                        break;
                }
                imgerr_clear();
                if ((r = rpmsign_file(argv[i], dst, key, &so, &res, &pending[i - p.next])) < 0) {
                        rc = cmd_fail(r);
                        continue;   /* report every bad package, write none */
                }
                if (so.strip)
                        log_verbose("%s: %zu file signatures removed -> %s", argv[i], res.replaced, dst);
                else
                        log_verbose("%s: signed %zu files (%zu replaced) with key %08x -> %s", argv[i],
                                    res.signed_files, res.replaced, ima_key_keyid(key), dst);
        }
        for (int i = 0; i < argc - p.next; i++) {
                if (rc == EXIT_OK && pending[i] && (r = output_commit(pending[i])) < 0)
                        rc = cmd_fail(r);
                else if (rc != EXIT_OK || !pending[i])
                        output_abort(pending[i]);
                pending[i] = NULL;
        }
        free(pending);
        ima_key_free(key);
        return rc;
}
