/* imgtool ima-log: replay an IMA measurement log into PCR values, compare
 * with the TPM's PCR and with an image manifest. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "attest/imalog.h"
#include "attest/manifest.h"
#include "base/util.h"

enum { OPT_PCR = CMD_LONG_ONLY(1), OPT_EXPECT, OPT_MANIFEST };
static const struct cmd_option options[] = {
        { "pcr", OPT_PCR, "N", "The PCR to replay (default 10)." },
        { "expect", OPT_EXPECT, "HEX", "The PCR value read from the TPM (64 hex digits: sha256 bank; 40: sha1); exit 1 if the replay differs." },
        { "manifest", OPT_MANIFEST, "FILE", "Lines 'SHA256  /path' (sha256sum style, or 'imgtool manifest' output); exit 1 if a measured file's digest differs or its path is missing." },
        { "quiet", 'q', NULL, "Print only the PCR values and problems." },
        {}
};

const struct cmd_spec cmd_ima_log_spec = {
        .name = "ima-log",
        .synopsis = "[--pcr N] [--expect HEX] [--manifest FILE] [--quiet] LOG",
        .summary = "replay an IMA measurement log into PCR values",
        .description = "Parses a binary IMA log (a guest's /sys/kernel/security/ima/binary_runtime_measurements, "
                       "every template the kernel emits: ima, ima-ng, ima-sig, ima-ngv2, ima-sigv2, ima-buf, "
                       "ima-modsig, evm-sig and custom ones made of their fields; any other is an error "
                       "naming the entry), checks each entry's template digest, replays the "
                       "sha256 and sha1 banks from zero and prints one line per entry (names escaped "
                       "as \\ooo) and the PCR values. Logs up to 256 MiB.",
        .options = options,
        .exits = (const struct cmd_exit[]){ { 0, "the log replayed (and matched --expect/--manifest when given)" },
                                            { 1, "the replay differs from --expect, or a measured file from --manifest" },
                                            { 2, "bad arguments, or the log could not be read or parsed" }, {} },
        .run = cmd_ima_log,
};

static void print_entry(const struct imalog_entry *e)
{
        char hex[2 * 64 + 1] = "-", keyid[16] = "-";
        uint32_t k;

        if (e->digest && e->digest_len <= 64)
                hex_encode(e->digest, e->digest_len, hex);
        if (imalog_entry_keyid(e, &k))
                snprintf(keyid, sizeof(keyid), "%08x", k);
        _cleanup_free_ char *name = escape_text(e->path ? e->path : e->template_name, ESCAPE_FIELD);
        printf("%2u %s%s%s%s%s %s %s%s%s\n", e->pcr, e->digest_type, e->digest_type[0] ? ":" : "", e->digest_algo,
               e->digest_algo[0] ? ":" : "", hex, keyid, name ? name : "?", e->kind == IMALOG_BUFFER ? " (buffer)" : "",
               e->violation ? " (violation)" : "");
}

/* Each measured file on the image must have the manifest's digest. */
static int check_manifest(const struct imalog *l, uint32_t pcr, const struct manifest *m)
{
        int bad = 0;
        for (size_t i = 0; i < l->n; i++) {
                const struct imalog_entry *e = &l->entries[i];
                _cleanup_free_ char *path = NULL;
                char hex[65];
                if (e->pcr != pcr || (i == 0 && !strcmp(e->path, "boot_aggregate")))
                        continue;
                path = escape_text(e->path, ESCAPE_FIELD);
                if (e->kind == IMALOG_BUFFER) {
                        printf("manifest: %s: a buffer measurement (%s), not a file\n", path ? path : "?", e->template_name);
                        bad++;
                        continue;
                }
                if (strcmp(e->digest_algo, "sha256") || e->digest_len != 32 || !strcmp(e->digest_type, "verity")) {
                        printf("manifest: %s: measured with %s%s%s, cannot compare\n", path ? path : "?", e->digest_type,
                               e->digest_type[0] ? ":" : "", e->digest_algo);
                        bad++;
                        continue;
                }
                hex_encode(e->digest, 32, hex);
                const struct manifest_line *ml = manifest_find(m, e->path);
                if (!ml) {
                        printf("manifest: %s: measured but not in the manifest\n", path ? path : "?");
                        bad++;
                } else if (strcmp(ml->hex, hex) && !e->violation) {
                        printf("manifest: %s: measured %s, manifest %s\n", path ? path : "?", hex, ml->hex);
                        bad++;
                }
        }
        return bad;
}

int cmd_ima_log(int argc, char **argv)
{
        struct imalog *log = NULL;
        struct manifest man = { 0 };
        const char *expect = NULL, *manifest = NULL;
        uint8_t sha1[IMALOG_SHA1], sha256[IMALOG_SHA256];
        char hex1[2 * IMALOG_SHA1 + 1], hex256[2 * IMALOG_SHA256 + 1];
        unsigned long pcr = 10;
        bool quiet = false;
        int c, r, violations = 0, rc = EXIT_OK;
        char *end;
        struct cmd_parser p;

        cmd_parser_init(&p, &cmd_ima_log_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case OPT_PCR:
                        pcr = strtoul(p.arg, &end, 10);
                        if (*end || !*p.arg || pcr > 23)
                                return cmd_usage_error(&p, "--pcr '%s': want 0..23", p.arg);
                        break;
                case OPT_EXPECT: expect = p.arg; break;
                case OPT_MANIFEST: manifest = p.arg; break;
                case 'q': quiet = true; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (argc - p.next != 1)
                return cmd_usage_error(&p, "give one LOG file");
        if (expect) {
                size_t n = strspn(expect, "0123456789abcdefABCDEF");
                if (expect[n] || (n != 40 && n != 64)) {
                        fprintf(stderr, "imgtool: ima-log: --expect '%s': want 64 (sha256) or 40 (sha1) hex digits\n", expect);
                        return EXIT_ERROR;
                }
        }
        if (manifest && (r = manifest_read(manifest, &man)) < 0) {
                manifest_free(&man);
                return cmd_fail(r);
        }
        r = imalog_read_file(argv[p.next], &log);
        if (r >= 0)
                r = imalog_replay(log, (uint32_t)pcr, "sha1", sha1);
        if (r >= 0)
                r = imalog_replay(log, (uint32_t)pcr, "sha256", sha256);
        if (r < 0) {
                manifest_free(&man);
                imalog_free(log);
                return cmd_fail(r);
        }
        for (size_t i = 0; i < log->n; i++) {
                violations += log->entries[i].violation;
                if (!quiet && log->entries[i].pcr == pcr)
                        print_entry(&log->entries[i]);
        }
        hex_encode(sha1, sizeof(sha1), hex1);
        hex_encode(sha256, sizeof(sha256), hex256);
        printf("PCR %lu sha256: %s\nPCR %lu sha1:   %s\nentries: %zu, violations: %d\n",
               pcr, hex256, pcr, hex1, log->n, violations);
        if (expect) {
                const char *got = strlen(expect) == 64 ? hex256 : hex1;
                if (strcasecmp(got, expect)) {
                        printf("PCR %lu MISMATCH: the log replays to %s, expected %s\n", pcr, got, expect);
                        rc = EXIT_VIOLATIONS;
                } else {
                        printf("PCR %lu matches the expected value\n", pcr);
                }
        }
        if (manifest) {
                int bad = check_manifest(log, (uint32_t)pcr, &man);
                printf("manifest: %d measured file(s) differ or are missing\n", bad);
                if (bad)
                        rc = EXIT_VIOLATIONS;
        }
        manifest_free(&man);
        imalog_free(log);
        return rc;
}
