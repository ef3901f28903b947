/* imgtool reference: the signed reference values of an image, for
 * `imgtool attest` (lib/attest/reference.h). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "ima/imasig.h"
#include "attest/imgfiles.h"
#include "base/output.h"
#include "attest/reference.h"
#include "base/util.h"

enum { OPT_KEY = CMD_LONG_ONLY(1), OPT_CERT, OPT_INITRAMFS, OPT_KERNEL, OPT_CHECK, OPT_SB_KEYS, OPT_JSON };
static const struct cmd_option options[] = {
        { "output", 'o', "FILE", "Write the reference values to FILE, and their signature to FILE.sig." },
        { "key", OPT_KEY, "KEY", "The owner's private key that signs FILE: a key file (PEM or DER), a PKCS#11 URI or a TPM key (docs/keys.md)." },
        { "cert", OPT_CERT, "CERT", "The key's certificate; with --check, the trusted certificate(s)." },
        { "initramfs", OPT_INITRAMFS, "FILE", "The initramfs the image boots with (default: IMAGE.initramfs beside it)." },
        { "kernel", OPT_KERNEL, "FILE", "The kernel the image boots with (default: IMAGE.vmlinuz beside it)." },
        { "sb-keys", OPT_SB_KEYS, "KEYDIR", "A disk's Secure Boot keys (keygen --secure-boot), so the reference predicts PCR 7." },
        { "check", OPT_CHECK, "FILE", "Verify FILE.sig with --cert and print what FILE holds, instead of writing." },
        { "json", OPT_JSON, NULL, "Print the summary as JSON." },
        { "force", 'f', NULL, "Replace FILE and FILE.sig if they exist." },
        {}
};

const struct cmd_spec cmd_reference_spec = {
        .name = "reference",
        .synopsis = "IMAGE|DISK -o FILE --key KEY --cert CERT [--initramfs FILE] [--kernel FILE] [--sb-keys KEYDIR] [--json] | --check FILE --cert CERT [--json]",
        .summary = "write an image's signed reference values for attest",
        .description = "Writes IMAGE's reference values (every regular file's sha256, IMA digest "
                       "algorithm and signature keyid; the IMA certificates and policy of its "
                       "initramfs; kernel and initramfs digests; for a disk, its UKI's digests and the "
                       "PCRs imgtool pcrs predicts) to FILE, signed into FILE.sig with KEY. "
                       "--check verifies FILE.sig with CERT and prints what FILE holds.",
        .options = options,
        .exits = (const struct cmd_exit[]){
                { 0, "written, or (--check) the signature is valid" },
                { 1, "--check found the signature invalid" },
                { 2, "could not do the job: bad arguments, bad input, I/O error" },
                {} },
        .run = cmd_reference,
};

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
                        json_object_object_add(o, "error", json_object_new_string(imgerr_what(r)));
                        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                          JSON_C_TO_STRING_NOSLASHESCAPE));
                        json_object_put(o);
                } else
                        fprintf(stderr, "imgtool: %s\n", imgerr_what(r));
                return EXIT_VIOLATIONS;
        }
        if (r < 0)
                return cmd_fail(r);
        json_object_object_get_ex(doc, "files", &files);
        json_object_object_get_ex(doc, "certs", &certs);
        summary(json, file, "signature valid", json_object_array_length(files), json_object_array_length(certs),
                keyid, now_seconds() - t0);
        json_object_put(doc);
        return EXIT_OK;
}

int cmd_reference(int argc, char **argv)
{
        const char *output = NULL, *key = NULL, *cert = NULL, *initramfs = NULL, *kernel = NULL,
                   *check_file = NULL, *sb_keys = NULL, *image;
        struct imgfiles *files = NULL;
        struct reference_boot boot = {};
        json_object *doc = NULL;
        bool json = false;
        unsigned flags = 0;
        double t0 = now_seconds();
        _cleanup_free_ char *sigpath = NULL;
        struct cmd_parser p;
        int c, r;

        cmd_parser_init(&p, &cmd_reference_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case 'o': output = p.arg; break;
                case OPT_KEY: key = p.arg; break;
                case OPT_CERT: cert = p.arg; break;
                case OPT_INITRAMFS: initramfs = p.arg; break;
                case OPT_KERNEL: kernel = p.arg; break;
                case OPT_CHECK: check_file = p.arg; break;
                case OPT_JSON: json = true; break;
                case OPT_SB_KEYS: sb_keys = p.arg; break;
                case 'f': flags |= OUTPUT_FORCE; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (check_file) {
                if (p.next != argc || !cert || output || key)
                        return cmd_usage_error(&p, "--check FILE takes --cert CERT only");
                return check(check_file, cert, json);
        }
        if (p.next != argc - 1)
                return cmd_usage_error(&p, "give one IMAGE");
        if (!output || !key || !cert)
                return cmd_usage_error(&p, "-o FILE, --key KEY and --cert CERT are required");
        image = argv[p.next];
        {
                const char *inputs[6] = { image, key, cert };
                size_t n = 3;
                if (initramfs)
                        inputs[n++] = initramfs;
                if (kernel)
                        inputs[n++] = kernel;
                if (asprintf(&sigpath, "%s.sig", output) < 0)
                        return cmd_fail(-ENOMEM);
                if (!strcmp(output, "-") || (r = output_check(output, flags, inputs)) < 0 ||
                    (r = output_check(sigpath, flags, inputs)) < 0) {
                        if (!strcmp(output, "-"))
                                fprintf(stderr, "imgtool: reference: -o needs a file (FILE.sig goes beside it)\n");
                        else
                                cmd_fail(r);
                        return EXIT_ERROR;
                }
        }
        r = reference_boot_load(image, initramfs, kernel, sb_keys, &boot);
        if (r == 0)
                r = imgfiles_collect(image, &files);
        if (r == 0)
                r = reference_build(image, files, &boot, &doc);
        if (r == 0)
                r = reference_write(doc, files, key, cert, output, flags);
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
        reference_boot_free(&boot);
        return r < 0 ? cmd_fail(r) : EXIT_OK;
}
