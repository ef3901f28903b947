/* imgtool sigpack: a signature pack for a set of packages (rpm/sigpack.h),
 * from the signatures they carry or signed here with --files-key. */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "base/output.h"
#include "base/strv.h"
#include "base/util.h"
#include "ima/imasig.h"
#include "rpm/sigpack.h"

static const struct cmd_option options[] = {
        { "key", 'k', "KEY", "The private key that signs the pack (EC or RSA; a PEM file or a PKCS#11 URI, as sign-rpm takes); required." },
        { "cert", 'c', "CERT", "Its X.509 certificate (PEM or DER); compose trusts the pack when CERT is one of Certificate=; required." },
        { "sign-files", 's', NULL, "Sign every regular file with KEY over its header digest instead of taking the signatures the packages carry." },
        { "verity", 'V', NULL, "Also sign each file's fs-verity digest with KEY (IMA signature v3, what [Verity] Signatures=ima-v3 stamps; unsalted), reading every payload." },
        { "output", 'o', "PACK", "Write the pack to PACK; required." },
        { "force", 'f', NULL, "Replace PACK if it exists (regular files only)." },
        {}
};

const struct cmd_spec cmd_sigpack_spec = {
        .name = "sigpack",
        .synopsis = "--key KEY --cert CERT [--sign-files] [--verity] -o PACK [--force] (RPM|DIR)...",
        .summary = "make a signature pack: IMA signatures outside the packages",
        .description = "Writes one file holding, for each package (named by its header digest and NEVRA), "
                       "each regular file's path, header digest and security.ima value in binary, signed "
                       "as a whole with KEY (a detached PKCS#7 with signed attributes). Without "
                       "--sign-files the signatures are extracted from the packages (files without one "
                       "are left out); with it every regular file is signed with KEY, so unsigned packages "
                       "get their signatures without being rewritten. A DIR stands for its *.rpm files. "
                       "Compose reads packs from [Signatures] Packs=. With -v: one line per package. "
                       "docs/sigpack.md describes the format.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_sigpack,
};

/* RPM arguments, directories expanded to their *.rpm (sorted by glob). */
static int expand_inputs(char **argv, int from, int argc, char ***rpms)
{
        for (int i = from; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
                        _cleanup_free_ char *pat = NULL;
                        glob_t g = { 0 };
                        if (asprintf(&pat, "%s/*.rpm", argv[i]) < 0)
                                return -ENOMEM;
                        if (glob(pat, 0, NULL, &g) != 0) {
                                globfree(&g);
                                return imgerr(-ENOENT, "%s: no *.rpm in this folder", argv[i]);
                        }
                        for (size_t k = 0; k < g.gl_pathc; k++)
                                if (strv_push(rpms, strdup(g.gl_pathv[k])) < 0) {
                                        globfree(&g);
                                        return -ENOMEM;
                                }
                        globfree(&g);
                } else if (strv_push(rpms, strdup(argv[i])) < 0) {
                        return -ENOMEM;
                }
        }
        return 0;
}

int cmd_sigpack(int argc, char **argv)
{
        const char *key_path = NULL, *cert_path = NULL, *out = NULL;
        bool sign_files = false, verity = false;
        unsigned flags = 0;
        struct cmd_parser p;
        struct ima_key *key = NULL;
        struct sigpack_builder *b = NULL;
        char **rpms = NULL, **inputs = NULL;
        size_t total = 0, bytes = 0;
        int c, r, rc = EXIT_ERROR;

        cmd_parser_init(&p, &cmd_sigpack_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0)
                switch (c) {
                case 'k': key_path = p.arg; break;
                case 'c': cert_path = p.arg; break;
                case 's': sign_files = true; break;
                case 'V': verity = true; break;
                case 'o': out = p.arg; break;
                case 'f': flags |= OUTPUT_FORCE; break;
                }
        if (c < 0)
                return p.exit;
        if (!key_path || !cert_path || !out)
                return cmd_usage_error(&p, "--key, --cert and -o are required");
        if (p.next >= argc)
                return cmd_usage_error(&p, "no RPM given");
        if ((r = expand_inputs(argv, p.next, argc, &rpms)) < 0 ||
            (r = strv_push(&inputs, strdup(key_path))) < 0 || (r = strv_push(&inputs, strdup(cert_path))) < 0) {
                rc = cmd_fail(r);
                goto out;
        }
        for (size_t i = 0; rpms && rpms[i]; i++)
                if (strv_push(&inputs, strdup(rpms[i])) < 0)
                        goto out;
        if ((r = output_check(out, flags, (const char *const *)inputs)) < 0 ||
            (r = ima_key_load(key_path, cert_path, &key)) < 0 || (r = sigpack_builder_new(&b)) < 0) {
                rc = cmd_fail(r);
                goto out;
        }
        for (size_t i = 0; rpms && rpms[i]; i++) {
                size_t added = 0;
                if ((r = sigpack_builder_add(b, rpms[i], sign_files ? key : NULL, verity ? key : NULL, &added)) < 0) {
                        rc = cmd_fail(r);
                        goto out;
                }
                if (!added && !sign_files)
                        log_warn("%s: no file signatures to take (unsigned package: use --sign-files?)", rpms[i]);
                log_verbose("%s: %zu entries", rpms[i], added);
                total += added;
        }
        if ((r = sigpack_builder_write(b, key, cert_path, out, flags, (const char *const *)inputs, &bytes)) < 0) {
                rc = cmd_fail(r);
                goto out;
        }
        log_verbose("%s: %zu packages, %zu entries, %zu bytes, signed by key %08x", out,
                    strv_length(rpms), total, bytes, ima_key_keyid(key));
        rc = EXIT_OK;
out:
        sigpack_builder_free(b);
        ima_key_free(key);
        strv_free(rpms);
        strv_free(inputs);
        return rc;
}
