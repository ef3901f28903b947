/* Remote attestation, host side (see attest.h). */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509_vfy.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "attest/attest.h"
#include "ima/certs.h"
#include "attest/imalog.h"
#include "ima/imasig.h"
#include "base/output.h"
#include "attest/reference.h"
#include "attest/tpmquote.h"
#include "base/util.h"

#define NONCE_SIZE 32
#define CREDENTIAL_SIZE 32

static int read_ev(const char *dir, const char *name, uint8_t **data, size_t *len)
{
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return imgerr(-ENOMEM, "out of memory");
        return read_file(p, data, len);
}

static int write_ev(const char *dir, const char *name, const void *data, size_t len, int mode)
{
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return imgerr(-ENOMEM, "out of memory");
        /* A new challenge replaces the previous one's files. */
        return output_write_file(p, OUTPUT_FORCE, (mode_t)mode, NULL, data, len);
}

static bool ev_exists(const char *dir, const char *name)
{
        _cleanup_free_ char *p = NULL;
        struct stat st;
        return asprintf(&p, "%s/%s", dir, name) >= 0 && stat(p, &st) == 0;
}

/* The EK cert must chain to one of the CA file's certs (each one a trust
 * anchor: swtpm's local CA is a root plus an intermediate). */
static int ek_cert_verify(const uint8_t *der, size_t len, const char *ek_ca, X509 **ek, char **why)
{
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        X509 **cas = NULL;
        X509_STORE *store = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        int n, ok = 0;

        *why = NULL;
        n = certs_read_file(ek_ca, &cas);
        if (n < 0) {
                X509_free(x);
                X509_STORE_free(store);
                X509_STORE_CTX_free(ctx);
                return n;
        }
        for (int i = 0; i < n; i++)
                X509_STORE_add_cert(store, cas[i]);
        X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
        if (!x)
                *why = strdup("ek.der is not a DER certificate");
        else if (X509_STORE_CTX_init(ctx, store, x, NULL) == 1 && X509_verify_cert(ctx) == 1)
                ok = 1;
        else if (asprintf(why, "the EK certificate does not verify with %s: %s", ek_ca,
                          X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx))) < 0)
                *why = NULL;
        certs_free(cas);
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(store);
        if (ok)
                *ek = x;
        else
                X509_free(x);
        return ok;
}

int attest_challenge(const char *dir, const char *ek_ca)
{
        _cleanup_free_ uint8_t *ekder = NULL, *akpub = NULL, *blob = NULL, *enc = NULL;
        _cleanup_free_ char *why = NULL;
        size_t ek_len, ak_len, blob_len, enc_len;
        uint8_t nonce[NONCE_SIZE], cred[CREDENTIAL_SIZE];
        struct tpm_ak ak = {};
        X509 *ek = NULL;
        int r;

        if ((r = read_ev(dir, "ek.der", &ekder, &ek_len)) < 0 || (r = read_ev(dir, "enroll-ak.pub", &akpub, &ak_len)) < 0)
                return r;
        r = ek_cert_verify(ekder, ek_len, ek_ca, &ek, &why);
        if (r <= 0)
                return r < 0 ? r : imgerr(-EBADMSG, "%s/ek.der: %s", dir, why ? why : "invalid");
        r = tpm_ak_parse(akpub, ak_len, &ak);
        if (r < 0)
                r = imgerr_prefix(r, "%s/enroll-ak.pub: ", dir);
        if (r == 0 && (RAND_bytes(nonce, sizeof(nonce)) != 1 || RAND_priv_bytes(cred, sizeof(cred)) != 1))
                r = imgerr(-EIO, "no random bytes");
        if (r == 0)
                r = tpm_make_credential(X509_get0_pubkey(ek), ak.name, cred, sizeof(cred), &blob, &blob_len, &enc,
                                        &enc_len);
        if (r == 0)
                r = write_ev(dir, "credential", cred, sizeof(cred), 0600);
        if (r == 0)
                r = write_ev(dir, "credential.blob", blob, blob_len, 0644);
        if (r == 0)
                r = write_ev(dir, "credential.secret", enc, enc_len, 0644);
        if (r == 0)
                r = write_ev(dir, "nonce", nonce, sizeof(nonce), 0644);
        OPENSSL_cleanse(cred, sizeof(cred));
        tpm_ak_clear(&ak);
        X509_free(ek);
        return r;
}

/* ---- the report ------------------------------------------------------- */

static int add_check(struct attest_report *rep, const char *name, bool ok, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int add_check(struct attest_report *rep, const char *name, bool ok, const char *fmt, ...)
{
        struct attest_check *v = realloc(rep->checks, (rep->n_checks + 1) * sizeof(*v));
        va_list ap;
        char *d = NULL;

        if (!v)
                return imgerr(-ENOMEM, "out of memory");
        rep->checks = v;
        va_start(ap, fmt);
        if (vasprintf(&d, fmt, ap) < 0)
                d = NULL;
        va_end(ap);
        v[rep->n_checks++] = (struct attest_check){ name, ok, d };
        if (!ok)
                rep->ok = false;
        return 0;
}

static int add_file(struct attest_report *rep, const char *path, const char *reason)
{
        struct attest_file_problem *v = realloc(rep->files, (rep->n_files + 1) * sizeof(*v));
        if (!v)
                return imgerr(-ENOMEM, "out of memory");
        rep->files = v;
        v[rep->n_files].path = strdup(path);
        v[rep->n_files++].reason = reason;
        rep->ok = false;
        return 0;
}

void attest_report_free(struct attest_report *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_checks; i++)
                free(r->checks[i].detail);
        for (size_t i = 0; i < r->n_files; i++)
                free(r->files[i].path);
        free(r->checks);
        free(r->files);
        free(r);
}

char *attest_report_json(const struct attest_report *r)
{
        json_object *o = json_object_new_object(), *checks = json_object_new_array(),
                    *files = json_object_new_array();
        char *s;

        json_object_object_add(o, "ok", json_object_new_boolean(r->ok));
        for (size_t i = 0; i < r->n_checks; i++) {
                json_object *c = json_object_new_object();
                json_object_object_add(c, "name", json_object_new_string(r->checks[i].name));
                json_object_object_add(c, "ok", json_object_new_boolean(r->checks[i].ok));
                json_object_object_add(c, "detail", json_object_new_string(r->checks[i].detail ? r->checks[i].detail : ""));
                json_object_array_add(checks, c);
        }
        json_object_object_add(o, "checks", checks);
        json_object_object_add(o, "measured_files", json_object_new_int64((int64_t)r->measured));
        for (size_t i = 0; i < r->n_files; i++) {
                json_object *f = json_object_new_object();
                json_object_object_add(f, "path", json_object_new_string(r->files[i].path));
                json_object_object_add(f, "reason", json_object_new_string(r->files[i].reason));
                json_object_array_add(files, f);
        }
        json_object_object_add(o, "file_problems", files);
        json_object_object_add(o, "seconds", json_object_new_double(r->seconds));
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return s;
}

/* ---- reference lookup ------------------------------------------------- */

struct ref_file {
        const char *path;
        const char *algo;         /* IMA template digest algo name */
        uint8_t digest[64];       /* the digest IMA records */
        size_t digest_len;
};

static int by_path(const void *a, const void *b)
{
        return strcmp(((const struct ref_file *)a)->path, ((const struct ref_file *)b)->path);
}

static int ref_files(json_object *doc, struct ref_file **out, size_t *n)
{
        json_object *files;
        struct ref_file *v;
        size_t len;

        if (!json_object_object_get_ex(doc, "files", &files) || !json_object_is_type(files, json_type_array))
                return imgerr(-EBADMSG, "reference without a files list");
        len = json_object_array_length(files);
        v = calloc(len ? len : 1, sizeof(*v));
        if (!v)
                return imgerr(-ENOMEM, "out of memory");
        for (size_t i = 0; i < len; i++) {
                json_object *f = json_object_array_get_idx(files, i), *path, *algo, *dg;
                _cleanup_free_ uint8_t *bin = NULL;
                size_t bl = 0;

                if (!json_object_object_get_ex(f, "path", &path) || !json_object_object_get_ex(f, "ima_algo", &algo) ||
                    (!json_object_object_get_ex(f, "ima_digest", &dg) && !json_object_object_get_ex(f, "sha256", &dg)) ||
                    hex_decode(json_object_get_string(dg), &bin, &bl) < 0 || bl > 64) {
                        free(v);
                        return imgerr(-EBADMSG, "reference: malformed file entry %zu", i);
                }
                v[i].path = json_object_get_string(path);
                v[i].algo = json_object_get_string(algo);
                memcpy(v[i].digest, bin, bl);
                v[i].digest_len = bl;
        }
        qsort(v, len, sizeof(*v), by_path);
        *out = v;
        *n = len;
        return 0;
}

static int ref_trust(json_object *doc, struct ima_trust **out)
{
        json_object *certs;
        struct ima_trust *t;
        int r = ima_trust_new(&t);

        if (r < 0)
                return r;
        if (!json_object_object_get_ex(doc, "certs", &certs) || !json_object_is_type(certs, json_type_array)) {
                ima_trust_free(t);
                return imgerr(-EBADMSG, "reference without certs");
        }
        for (size_t i = 0; r >= 0 && i < json_object_array_length(certs); i++) {
                json_object *c = json_object_array_get_idx(certs, i), *der;
                const char *b64;
                size_t bl;
                unsigned char *bin;
                int dl;

                if (!json_object_object_get_ex(c, "der", &der)) {
                        r = imgerr(-EBADMSG, "reference: cert %zu without der", i);
                        break;
                }
                b64 = json_object_get_string(der);
                bl = strlen(b64);
                bin = malloc(bl / 4 * 3 + 3);
                dl = bin ? EVP_DecodeBlock(bin, (const unsigned char *)b64, (int)bl) : -1;
                if (dl < 0)
                        r = imgerr(-EBADMSG, "reference: cert %zu: bad base64", i);
                else {
                        while (bl > 0 && b64[bl - 1] == '=') {   /* DecodeBlock keeps pad bytes */
                                bl--;
                                dl--;
                        }
                        r = ima_trust_add_der(t, bin, (size_t)dl, "reference cert");
                }
                free(bin);
        }
        if (r < 0) {
                ima_trust_free(t);
                return r;
        }
        *out = t;
        return 0;
}

/* ---- the checks --------------------------------------------------------- */

struct evidence {
        uint8_t *ekder, *enroll_ak, *ak, *nonce, *cred, *activated, *attest, *sig, *pcrs, *log, *failed;
        size_t ekder_len, enroll_ak_len, ak_len, nonce_len, cred_len, activated_len, attest_len, sig_len,
               pcrs_len, log_len, failed_len;
};

static void evidence_free(struct evidence *e)
{
        if (e->cred)
                OPENSSL_cleanse(e->cred, e->cred_len);
        free(e->ekder); free(e->enroll_ak); free(e->ak); free(e->nonce); free(e->cred);
        free(e->activated); free(e->attest); free(e->sig); free(e->pcrs); free(e->log); free(e->failed);
}

static int evidence_load(const char *dir, struct evidence *e)
{
        int r;
        memset(e, 0, sizeof(*e));
        if ((r = read_ev(dir, "ek.der", &e->ekder, &e->ekder_len)) < 0 ||
            (r = read_ev(dir, "enroll-ak.pub", &e->enroll_ak, &e->enroll_ak_len)) < 0 ||
            (r = read_ev(dir, "nonce", &e->nonce, &e->nonce_len)) < 0 ||
            (r = read_ev(dir, "credential", &e->cred, &e->cred_len)) < 0 ||
            (r = read_ev(dir, "ak.pub", &e->ak, &e->ak_len)) < 0 ||
            (r = read_ev(dir, "quote.attest", &e->attest, &e->attest_len)) < 0 ||
            (r = read_ev(dir, "quote.sig", &e->sig, &e->sig_len)) < 0 ||
            (r = read_ev(dir, "pcrs", &e->pcrs, &e->pcrs_len)) < 0 ||
            (r = read_ev(dir, "ima.log", &e->log, &e->log_len)) < 0)
                return r;
        if (ev_exists(dir, "activated") && (r = read_ev(dir, "activated", &e->activated, &e->activated_len)) < 0)
                return r;
        if (ev_exists(dir, "activate-failed") &&
            (r = read_ev(dir, "activate-failed", &e->failed, &e->failed_len)) < 0)
                return r;
        if (e->pcrs_len != TPM_QUOTE_PCRS * 32)
                return imgerr(-EBADMSG, "%s/pcrs: %zu bytes, want %d (PCRs 0-10, sha256)", dir, e->pcrs_len,
                              TPM_QUOTE_PCRS * 32);
        return 0;
}

static void check_identity(struct attest_report *rep, const struct evidence *e, const char *ek_ca,
                           struct tpm_ak *ak)
{
        struct tpm_ak enrolled = {};
        char *why = NULL;
        X509 *ek = NULL;
        int r;

        r = ek_cert_verify(e->ekder, e->ekder_len, ek_ca, &ek, &why);
        add_check(rep, "ek-cert", r > 0, "%s", r > 0 ? "the EK certificate chains to the TPM maker's CA"
                                                     : why ? why : imgerr_what(r));
        free(why);
        X509_free(ek);
        r = tpm_ak_parse(e->ak, e->ak_len, ak);
        add_check(rep, "ak", r == 0, "%s", r == 0 ? "the AK is a restricted signing key fixed to its TPM" : imgerr_what(r));
        if (r == 0 && tpm_ak_parse(e->enroll_ak, e->enroll_ak_len, &enrolled) == 0)
                add_check(rep, "ak-enrolled", !memcmp(enrolled.name, ak->name, TPM_NAME_SIZE), "%s",
                          !memcmp(enrolled.name, ak->name, TPM_NAME_SIZE)
                                  ? "the quoting AK is the one the credential was made for"
                                  : "the quoting AK is not the enrolled AK (a quote from another TPM)");
        tpm_ak_clear(&enrolled);
        if (e->activated && e->activated_len == e->cred_len && CRYPTO_memcmp(e->activated, e->cred, e->cred_len) == 0)
                add_check(rep, "credential", true, "the TPM holding the EK activated the credential for the AK");
        else if (e->activated)
                add_check(rep, "credential", false, "the activated credential is not the one sent (AK not bound to the EK)");
        else
                add_check(rep, "credential", false, "credential activation failed in the guest (%.*s): the AK is not bound to the enrolled EK",
                          e->failed ? (int)strcspn((const char *)e->failed, "\n") : 7,
                          e->failed ? (const char *)e->failed : "no rc");
}

static void check_quote(struct attest_report *rep, const struct evidence *e, const struct tpm_ak *ak)
{
        struct tpm_quote q;
        uint8_t d[32];
        unsigned dl = 32;
        bool ok;
        int r;

        if (!ak->key) {
                add_check(rep, "quote-signature", false, "no usable AK");
                return;
        }
        r = tpm_quote_verify(ak, e->attest, e->attest_len, e->sig, e->sig_len);
        ok = r == 0;
        add_check(rep, "quote-signature", ok, "%s", ok ? "the quote is signed by the AK" : imgerr_what(r));
        r = tpm_quote_parse(e->attest, e->attest_len, &q);
        if (r < 0) {
                add_check(rep, "quote", false, "%s", imgerr_what(r));
                return;
        }
        ok = q.signer_len == TPM_NAME_SIZE && !memcmp(q.signer, ak->qualified_name, TPM_NAME_SIZE);
        add_check(rep, "quote-signer", ok, "%s", ok ? "the quote names the AK (a primary key of the endorsement hierarchy) as its signer"
                                                    : "the quote names another signer");
        ok = q.extra_len == e->nonce_len && CRYPTO_memcmp(q.extra, e->nonce, e->nonce_len) == 0;
        add_check(rep, "quote-nonce", ok, "%s", ok ? "the quote carries this challenge's nonce"
                                                   : "the quote's nonce is not this challenge's (a replayed quote)");
        EVP_Digest(e->pcrs, e->pcrs_len, d, &dl, EVP_sha256(), NULL);
        ok = q.pcr_mask == 0x7ff && !q.other_banks && q.pcr_digest_len == 32 && !memcmp(q.pcr_digest, d, 32);
        add_check(rep, "pcr-digest", ok, "%s", ok ? "PCRs 0-10 (sha256) hash to the quoted digest"
                  : q.pcr_mask != 0x7ff || q.other_banks ? "the quote does not cover exactly PCRs 0-10 of the sha256 bank"
                  : "the reported PCR values do not hash to the quoted digest");
}

static const struct ref_file *ref_find(const struct ref_file *v, size_t n, const char *path)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(path, v[mid].path);
                if (c == 0)
                        return &v[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

static int check_log(struct attest_report *rep, const struct evidence *e, json_object *doc)
{
        _cleanup_free_ struct ref_file *files = NULL;
        struct ima_trust *trust = NULL;
        struct imalog *log = NULL;
        size_t n_files = 0;
        uint8_t pcr10[32], agg[32];
        unsigned dl = 32;
        bool agg_ok = false, agg_seen = false;
        int r;

        r = imalog_parse(e->log, e->log_len, &log);
        if (r < 0) {
                add_check(rep, "ima-log", false, "the IMA log does not parse: %s", imgerr_what(r));
                return 0;
        }
        imalog_replay(log, 10, "sha256", pcr10);
        r = !memcmp(pcr10, e->pcrs + 10 * 32, 32);
        add_check(rep, "ima-log", r, "%s", r ? "the IMA log replays to the quoted PCR 10"
                                             : "the IMA log does not replay to the quoted PCR 10 (an entry changed, dropped or added)");
        /* boot_aggregate (ima-ng, sha256 bank): sha256 over PCRs 0-9. */
        EVP_Digest(e->pcrs, 10 * 32, agg, &dl, EVP_sha256(), NULL);
        if ((r = ref_files(doc, &files, &n_files)) < 0 || (r = ref_trust(doc, &trust)) < 0) {
                imalog_free(log);
                return r;
        }
        for (size_t i = 0; i < log->n; i++) {
                const struct imalog_entry *en = &log->entries[i];
                const struct ref_file *f;
                struct imasig parsed;

                if (en->pcr != 10 || en->violation || !en->path)
                        continue;
                if (!strcmp(en->path, "boot_aggregate") && !agg_seen) {
                        agg_seen = true;
                        agg_ok = en->digest_len == 32 && !memcmp(en->digest, agg, 32);
                        continue;
                }
                rep->measured++;
                f = ref_find(files, n_files, en->path);
                if (!f)
                        r = add_file(rep, en->path, "unknown-file");
                else if (strcmp(f->algo, en->digest_algo) || f->digest_len != en->digest_len ||
                         memcmp(f->digest, en->digest, f->digest_len))
                        r = add_file(rep, en->path, "digest-differs");
                else if (!en->sig)
                        r = add_file(rep, en->path, "unsigned");
                else if (ima_trust_verify_digest(trust, en->sig, en->sig_len, en->digest, en->digest_len, &parsed) !=
                         IMASIG_VALID)
                        r = add_file(rep, en->path, "untrusted-signature");
                if (r < 0)
                        break;
                r = 0;
        }
        add_check(rep, "boot-aggregate", agg_ok, "%s", agg_ok ? "boot_aggregate equals the quoted PCRs 0-9"
                                                              : agg_seen ? "boot_aggregate differs from the quoted PCRs 0-9"
                                                                         : "the log has no boot_aggregate");
        if (r == 0)
                add_check(rep, "files", rep->n_files == 0,
                          "%zu measured files: %zu in the reference with their digest and a trusted signature",
                          rep->measured, rep->measured - rep->n_files);
        ima_trust_free(trust);
        imalog_free(log);
        return r < 0 ? r : 0;
}

/* A disk's reference predicts PCRs (imgtool pcrs): each one the quote
 * covers must hold exactly that value. */
static int check_pcrs(struct attest_report *rep, const struct evidence *e, json_object *doc)
{
        static const char *const names[TPM_QUOTE_PCRS] = { "pcr0", "pcr1", "pcr2", "pcr3", "pcr4", "pcr5",
                                                           "pcr6", "pcr7", "pcr8", "pcr9", "pcr10" };
        json_object *pcrs, *values;

        if (!json_object_object_get_ex(doc, "pcrs", &pcrs) || !pcrs)
                return 0;         /* an ext4 image: nothing predicted */
        if (!json_object_object_get_ex(pcrs, "values", &values) || !json_object_is_type(values, json_type_object))
                return imgerr(-EBADMSG, "reference: pcrs without values");
        json_object_object_foreach(values, key, val) {
                _cleanup_free_ uint8_t *want = NULL;
                char *end, got[65];
                size_t len = 0;
                unsigned long i = strtoul(key, &end, 10);

                if (*end || end == key || hex_decode(json_object_get_string(val), &want, &len) < 0 || len != 32)
                        return imgerr(-EBADMSG, "reference: malformed pcrs value \"%s\"", key);
                if (i >= TPM_QUOTE_PCRS)
                        continue;  /* not in the quote (PCR 11) */
                hex_encode(e->pcrs + i * 32, 32, got);
                if (!memcmp(want, e->pcrs + i * 32, 32))
                        add_check(rep, names[i], true, "PCR %lu equals the reference's prediction", i);
                else
                        add_check(rep, names[i], false, "PCR %lu is %s, the reference predicts %s (%s)", i, got,
                                  json_object_get_string(val),
                                  i == 4 ? "another UKI was booted" : i == 7 ? "other Secure Boot keys or state"
                                  : i == 5 ? "another disk's GPT" : "not the predicted boot");
        }
        return 0;
}

int attest_verify(const char *dir, const char *reference, const char *ref_cert, const char *ek_ca,
                  struct attest_report **out)
{
        struct attest_report *rep = calloc(1, sizeof(*rep));
        struct evidence e;
        struct tpm_ak ak = {};
        json_object *doc = NULL;
        double t0 = now_seconds();
        int r;

        if (!rep)
                return imgerr(-ENOMEM, "out of memory");
        rep->ok = true;
        r = reference_load(reference, ref_cert, &doc, NULL);
        if (r == 0)
                r = evidence_load(dir, &e);
        else
                memset(&e, 0, sizeof(e));
        if (r == 0) {
                check_identity(rep, &e, ek_ca, &ak);
                check_quote(rep, &e, &ak);
                r = check_pcrs(rep, &e, doc);
                if (r == 0)
                        r = check_log(rep, &e, doc);
        }
        tpm_ak_clear(&ak);
        evidence_free(&e);
        json_object_put(doc);
        if (r < 0) {
                attest_report_free(rep);
                return r;
        }
        rep->seconds = now_seconds() - t0;
        *out = rep;
        return 0;
}
