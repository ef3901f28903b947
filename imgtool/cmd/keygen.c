/* imgtool keygen: make an IMA signing key and its certificate (or a CA). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "ima/keygen.h"
#include "ima/pubkey.h"
#include "boot/sbkeys.h"
#include "base/util.h"

static int parse_days(const char *s, int *out)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || end == s || v < 1 || v > 365L * 1000)
                return imgerr(-EINVAL, "--days: '%s' is not a number of days (1..365000)", s);
        *out = (int)v;
        return 0;
}

enum { OPT_CA = CMD_LONG_ONLY(1), OPT_ISSUER, OPT_SECURE_BOOT, OPT_FOR_KEY, OPT_PK_KEY, OPT_KEK_KEY };
static const struct cmd_option options[] = {
        { "type", 't', "TYPE", "Key type: ec-p256 (default), ec-p384, rsa-2048, rsa-3072 or rsa-4096." },
        { "subject", 's', "CN", "The certificate's common name (default 'imgtool IMA signing key', or 'imgtool IMA CA' with --ca)." },
        { "days", 'd', "N", "Validity in days (default 3650)." },
        { "ca", OPT_CA, NULL, "Make a CA instead (CA:TRUE, keyCertSign): DIR/ca.key, DIR/ca.crt, DIR/ca.der." },
        { "issuer", OPT_ISSUER, "CADIR", "Sign the new certificate with CADIR/ca.key (default: self-signed)." },
        { "for-key", OPT_FOR_KEY, "PUBKEY", "With --issuer: make no key, only DIR/signing.crt and DIR/signing.der for this public key (PEM PUBLIC KEY, e.g. a distribution's IMA key), so the kernel can trust it." },
        { "out", 'o', "DIR", "Where to write (created if missing); required unless --secure-boot." },
        { "secure-boot", OPT_SECURE_BOOT, "DIR", "Make the owner's Secure Boot keys instead: PK, KEK, db (RSA-2048) as .key/.crt/.der, their EFI signature lists (.esl), signed updates to enroll them (.auth) and DIR/owner.guid; takes only --subject, --days, --pk-key and --kek-key, never overwrites." },
        { "pk-key", OPT_PK_KEY, "KEY", "With --secure-boot: the PK is this key on a token or in a TPM (a PKCS#11 URI, handle:0x81..., a TSS2 key file; RSA-2048 or more): its certificate and the PK and KEK updates are signed through it, and no PK.key is written." },
        { "kek-key", OPT_KEK_KEY, "KEY", "With --secure-boot: the KEK is this key on a token or in a TPM (as --pk-key): db.auth is signed through it, and no KEK.key is written." },
        { "force", 'f', NULL, "Replace existing key and cert files (regular files only); without it an existing file is refused and nothing is written." },
        {}
};

const struct cmd_spec cmd_keygen_spec = {
        .name = "keygen",
        .synopsis = "[--type TYPE] [--subject CN] [--days N] [--ca] [--issuer CADIR [--for-key PUBKEY]] [--force] --out DIR | --secure-boot DIR [--subject CN] [--days N] [--pk-key KEY] [--kek-key KEY]",
        .summary = "make a signing key and its certificate (or a CA)",
        .description = "Writes DIR/signing.key (PEM, mode 0600), DIR/signing.crt (PEM) and DIR/signing.der "
                       "(DER, what the initramfs loads into the kernel's _ima keyring) and prints the key's "
                       "IMA keyid (8 hex digits). Keep signing.key out of version control.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_keygen,
};

int cmd_keygen(int argc, char **argv)
{
        struct keygen_opts o = { .type = KEY_EC_P256 };
        const char *out = NULL, *sb_dir = NULL, *for_key = NULL, *pk_key = NULL, *kek_key = NULL;
        bool type_set = false;
        struct cmd_parser p;
        uint32_t keyid;
        int c, r;

        cmd_parser_init(&p, &cmd_keygen_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case 't':
                        if ((r = keygen_type_from_name(p.arg, &o.type)) < 0)
                                return cmd_fail(r);
                        type_set = true;
                        break;
                case 's': o.subject = p.arg; break;
                case 'd':
                        if ((r = parse_days(p.arg, &o.days)) < 0)
                                return cmd_fail(r);
                        break;
                case OPT_CA: o.ca = true; break;
                case OPT_ISSUER: o.issuer_dir = p.arg; break;
                case OPT_SECURE_BOOT: sb_dir = p.arg; break;
                case OPT_FOR_KEY: for_key = p.arg; break;
                case OPT_PK_KEY: pk_key = p.arg; break;
                case OPT_KEK_KEY: kek_key = p.arg; break;
                case 'o': out = p.arg; break;
                case 'f': o.force = true; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (p.next < argc)
                return cmd_usage_error(&p, "unexpected argument '%s'", argv[p.next]);
        if (sb_dir) {
                struct sbkeys_opts so = { .subject = o.subject, .days = o.days, .pk_key = pk_key, .kek_key = kek_key };
                if (out || o.ca || o.issuer_dir || type_set || o.force)
                        return cmd_usage_error(&p, "--secure-boot DIR takes only --subject, --days, --pk-key and --kek-key (its keys are RSA-2048, the type UEFI firmware verifies)");
                if ((r = sbkeys_generate(sb_dir, &so)) < 0)
                        return cmd_fail(r);
                log_verbose("wrote PK, KEK, db (.key .crt .der .esl .auth) and owner.guid in %s", sb_dir);
                return EXIT_OK;
        }
        if (pk_key || kek_key)
                return cmd_usage_error(&p, "--pk-key and --kek-key go with --secure-boot DIR");
        if (!out)
                return cmd_usage_error(&p, "--out DIR is required (or --secure-boot DIR)");
        if (for_key) {
                if ((r = keygen_issue_for_key(out, for_key, &o, &keyid)) < 0)
                        return cmd_fail(r);
                printf("%08x\n", keyid);
                return EXIT_OK;
        }
        if ((r = keygen_write(out, &o, &keyid)) < 0)
                return cmd_fail(r);
        printf("%08x\n", keyid);
        log_verbose("wrote %s/%s.key, .crt, .der (%s%s, keyid %08x)", out,
                keygen_basename(o.ca), keygen_type_name(o.type), o.ca ? " CA" : "", keyid);
        return EXIT_OK;
}
