/* imgtool keygen: make an IMA signing key and its certificate (or a CA). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "lib/keys.h"
#include "lib/sbkeys.h"
#include "lib/util.h"

static void keygen_usage(FILE *f)
{
        fprintf(f,
                "Usage: imgtool keygen [OPTIONS] --out DIR\n"
                "Make an IMA signing key: DIR/signing.key (PEM, 0600), DIR/signing.crt (PEM),\n"
                "DIR/signing.der (DER, for the kernel's keyring).  Prints the keyid.\n"
                "\n"
                "  -t, --type TYPE      ec-p256 (default), ec-p384, rsa-2048, rsa-3072, rsa-4096\n"
                "  -s, --subject CN     certificate subject common name\n"
                "  -d, --days N         validity in days (default 3650)\n"
                "      --ca             make a CA instead: DIR/ca.key, DIR/ca.crt, DIR/ca.der\n"
                "      --issuer CADIR   sign the certificate with CADIR/ca.key (default: self-signed)\n"
                "  -o, --out DIR        output directory (created if missing)\n"
                "  -f, --force          replace existing key and cert files (regular files only)\n"
                "  -h, --help           this help\n"
                "Existing files are not overwritten without --force.\n"
                "\n"
                "Usage: imgtool keygen --secure-boot DIR [--subject CN] [--days N]\n"
                "Make the owner's Secure Boot keys: PK, KEK, db (RSA-2048) as .key/.crt/.der,\n"
                "their EFI signature lists (.esl) and signed updates to enroll them (.auth),\n"
                "DIR/owner.guid.  The .auth time stamp is SOURCE_DATE_EPOCH when set.  Never\n"
                "overwrites (no --force).\n");
}

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

int cmd_keygen(int argc, char **argv)
{
        enum { OPT_CA = 0x100, OPT_ISSUER, OPT_SECURE_BOOT };
        static const struct option opts[] = {
                { "type", required_argument, NULL, 't' },
                { "subject", required_argument, NULL, 's' },
                { "days", required_argument, NULL, 'd' },
                { "ca", no_argument, NULL, OPT_CA },
                { "issuer", required_argument, NULL, OPT_ISSUER },
                { "secure-boot", required_argument, NULL, OPT_SECURE_BOOT },
                { "out", required_argument, NULL, 'o' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct keygen_opts o = { .type = KEY_EC_P256 };
        const char *out = NULL, *sb_dir = NULL;
        bool type_set = false;
        uint32_t keyid;
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "t:s:d:o:fh", opts, NULL)) != -1) {
                switch (c) {
                case 't':
                        if (key_type_from_name(optarg, &o.type) < 0)
                                return cmd_fail();
                        type_set = true;
                        break;
                case 's':
                        o.subject = optarg;
                        break;
                case 'd':
                        if (parse_days(optarg, &o.days) < 0)
                                return cmd_fail();
                        break;
                case OPT_CA:
                        o.ca = true;
                        break;
                case OPT_ISSUER:
                        o.issuer_dir = optarg;
                        break;
                case OPT_SECURE_BOOT:
                        sb_dir = optarg;
                        break;
                case 'o':
                        out = optarg;
                        break;
                case 'f':
                        o.force = true;
                        break;
                case 'h':
                        keygen_usage(stdout);
                        return EXIT_OK;
                default:
                        keygen_usage(stderr);
                        return EXIT_ERROR;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "imgtool: keygen: unexpected argument '%s'\n", argv[optind]);
                return EXIT_ERROR;
        }
        if (sb_dir) {
                struct sbkeys_opts so = { .subject = o.subject, .days = o.days };
                if (out || o.ca || o.issuer_dir || type_set || o.force) {
                        fprintf(stderr, "imgtool: keygen: --secure-boot DIR takes only --subject and --days (its keys are RSA-2048, the type UEFI firmware verifies)\n");
                        return EXIT_ERROR;
                }
                if (sbkeys_generate(sb_dir, &so) < 0)
                        return cmd_fail();
                log_verbose("wrote PK, KEK, db (.key .crt .der .esl .auth) and owner.guid in %s", sb_dir);
                return EXIT_OK;
        }
        if (!out) {
                fprintf(stderr, "imgtool: keygen: --out DIR is required\n");
                return EXIT_ERROR;
        }
        if (keygen_write(out, &o, &keyid) < 0)
                return cmd_fail();
        printf("%08x\n", keyid);
        log_verbose("wrote %s/%s.key, .crt, .der (%s%s, keyid %08x)", out,
                keygen_basename(o.ca), key_type_name(o.type), o.ca ? " CA" : "", keyid);
        return EXIT_OK;
}
