/* Attestation evidence, the parts a guest sends (issue 18): any bytes as
 * an AK's TPM2B_PUBLIC, a TPMS_ATTEST quote, its TPMT_SIGNATURE and an IMA
 * log.  Input: u16be ak_len | ak | u16be attest_len | attest | u16be sig_len
 * | sig | the log (the rest).  The AK is parsed and, when it parses, checks
 * the signature; the quote is parsed; the log is parsed (every template),
 * replayed into both banks, and each entry's name escaped and keyid read,
 * as attest and ima-log print them. */
#include <stdlib.h>
#include <string.h>

#include "attest/imalog.h"
#include "attest/tpmquote.h"
#include "base/util.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        return 0;
}

/* The next u16be-length-prefixed part, or the empty part at the end. */
static const uint8_t *part(const uint8_t **p, size_t *left, size_t *len)
{
        const uint8_t *out;

        if (*left < 2) {
                *len = 0;
                return *p;
        }
        *len = (size_t)(*p)[0] << 8 | (*p)[1];
        *p += 2;
        *left -= 2;
        if (*len > *left)
                *len = *left;
        out = *p;
        *p += *len;
        *left -= *len;
        return out;
}

static void log_checks(const uint8_t *data, size_t size)
{
        struct imalog *l = NULL;
        uint8_t v1[IMALOG_SHA1], v256[IMALOG_SHA256];
        uint32_t keyid;

        if (imalog_parse(data, size, &l) < 0)
                return;
        imalog_replay(l, 10, "sha1", v1);
        imalog_replay(l, 10, "sha256", v256);
        for (size_t i = 0; i < l->n; i++) {
                const struct imalog_entry *e = &l->entries[i];
                char *s = escape_text(e->path ? e->path : e->template_name, ESCAPE_FIELD);

                if (!s || !utf8_valid(s, strlen(s)))
                        abort();   /* escaped text is always valid UTF-8 */
                free(s);
                imalog_entry_keyid(e, &keyid);
                if (e->digest && e->digest_len > 64)
                        abort();
                if (e->kind == IMALOG_BUFFER && !e->buf && e->buf_len)
                        abort();
        }
        imalog_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *p = data, *ak_pub, *attest, *sig;
        size_t left = size, ak_len, attest_len, sig_len;
        struct tpm_ak ak = {};
        struct tpm_quote q;

        ak_pub = part(&p, &left, &ak_len);
        attest = part(&p, &left, &attest_len);
        sig = part(&p, &left, &sig_len);
        if (tpm_ak_parse(ak_pub, ak_len, &ak) == 0)
                tpm_quote_verify(&ak, attest, attest_len, sig, sig_len);
        tpm_ak_clear(&ak);
        tpm_quote_parse(attest, attest_len, &q);
        log_checks(p, left);
        imgerr_clear();
        return 0;
}
