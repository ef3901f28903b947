/* imgtool sign-request: the offline half of two-phase signing.  Reads a
 * signing request (compose --defer-signatures), signs every digest in it
 * with KEY and writes the response for apply-signatures.  It needs nothing
 * but the request and the key: the certificate travels in the request. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "cmd.h"
#include "base/output.h"
#include "base/util.h"
#include "ima/imasig.h"
#include "ima/keyref.h"
#include "ima/sigreq.h"

static const struct cmd_option options[] = {
        { "key", 'k', "KEY", "The private key of the request's certificate: a PEM file, a PKCS#11 URI or a TPM key (docs/keys.md); required." },
        { "secure-boot-key", 'S', "KEY", "The Secure Boot db key (RSA) of the request's secureboot-certificate, for a request with a UKI to sign (compose of a Format=disk layout with [SecureBoot])." },
        { "output", 'o', "RESPONSE", "Write the response to RESPONSE; required." },
        { "force", 'f', NULL, "Replace RESPONSE if it exists." },
        {}
};

const struct cmd_spec cmd_sign_request_spec = {
        .name = "sign-request",
        .synopsis = "REQUEST --key KEY [--secure-boot-key KEY] -o RESPONSE [--force]",
        .summary = "sign a deferred compose's signing request (two-phase signing)",
        .description = "Signs every digest of REQUEST, which 'imgtool compose --defer-signatures' wrote, with "
                       "KEY, the private key of the certificate the request names, and writes the response "
                       "that 'imgtool apply-signatures' stamps into the image. Needs nothing but the request "
                       "and the key (meant for an offline signing machine); a key that does not belong to "
                       "the request's certificate, or that the kernel could not verify, is refused. ECDSA "
                       "with a key file is deterministic (RFC 6979), so the image ends byte-identical to a "
                       "one-phase compose with the same key.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_sign_request,
};

int cmd_sign_request(int argc, char **argv)
{
        const char *key_path = NULL, *sb_path = NULL, *out = NULL;
        EVP_PKEY *sb_key = NULL;
        struct keyref_hold *sb_hold = NULL;
        _cleanup_free_ char *sb_name = NULL;
        unsigned flags = 0;
        struct cmd_parser p;
        struct sigreq *q = NULL;
        struct ima_key *key = NULL;
        _cleanup_free_ char *key_name = NULL;
        int c, r;

        cmd_parser_init(&p, &cmd_sign_request_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0)
                switch (c) {
                case 'k': key_path = p.arg; break;
                case 'S': sb_path = p.arg; break;
                case 'o': out = p.arg; break;
                case 'f': flags |= OUTPUT_FORCE; break;
                }
        if (c < 0)
                return p.exit;
        if (argc - p.next != 1)
                return cmd_usage_error(&p, "expected exactly one REQUEST");
        if (!key_path || !out)
                return cmd_usage_error(&p, "--key and -o are required");
        const char *request = argv[p.next];
        const char *inputs[] = { request, key_path, sb_path, NULL };
        if ((r = output_check(out, flags, inputs)) < 0)
                return cmd_fail(r);
        key_name = keyref_name(key_path);
        sb_name = sb_path ? keyref_name(sb_path) : strdup("");
        if (!key_name || !sb_name)
                return cmd_fail(-ENOMEM);
        r = sigreq_read(request, false, &q);
        if (r >= 0)
                r = ima_key_load_cert_der(key_path, q->cert, q->cert_len, request, &key);
        if (r >= 0 && sb_path)
                r = keyref_load(sb_path, &sb_key, &sb_hold);
        if (r >= 0)
                r = sigreq_sign(q, key, key_name, sb_key, sb_hold, sb_name);
        if (r >= 0)
                r = sigreq_write(q, out, flags, inputs);
        if (r >= 0)
                log_verbose("%s: %zu signatures", out, q->n);
        ima_key_free(key);
        EVP_PKEY_free(sb_key);
        keyref_release(sb_hold);
        sigreq_free(q);
        return r < 0 ? cmd_fail(r) : EXIT_OK;
}
