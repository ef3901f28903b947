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
#include "ima/verity.h"
#include "base/output.h"
#include "attest/reference.h"
#include "attest/tpmquote.h"
#include "base/util.h"


/* One size limit per kind of input, named in the message. */
#define TPM_STRUCT_MAX (64u << 10)
#define TPM_STRUCT_WHAT "TPM structures"

static int read_in(const char *dir, const char *name, size_t max, const char *what, uint8_t **data, size_t *len)
{
        _cleanup_free_ char *p = NULL;
        int r;

        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return imgerr(-ENOMEM, "out of memory");
        r = read_file_max(p, max, what, data, len);
        if (r == 0 && *len == 0) {
                free(*data);
                *data = NULL;
                return imgerr(-EBADMSG, "%s: empty", p);
        }
        return r;
}

static int write_state(const char *dir, const char *name, const void *data, size_t len, int mode)
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
        return asprintf(&p, "%s/%s", dir, name) >= 0 && lstat(p, &st) == 0;
}

int attest_folders_check(const char *evidence, const char *state)
{
        _cleanup_free_ char *ev = realpath(evidence, NULL), *st = realpath(state, NULL);
        size_t n;

        if (!ev)
                return imgerr(-errno, "%s: %s", evidence, strerror(errno));
        if (!st)
                return imgerr(-errno, "%s: %s", state, strerror(errno));
        n = strlen(ev);
        /* The guest fills the evidence folder: the verifier's own state
         * must not be something it can write. */
        if (!strcmp(ev, st) || (!strncmp(st, ev, n) && (st[n] == '/' || n == 1)))
                return imgerr(-EINVAL, "%s: the state folder must not be the evidence folder %s or inside it", state,
                              evidence);
        return 0;
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

int attest_challenge(const char *dir, const char *state, const char *ek_ca)
{
        _cleanup_free_ uint8_t *ekder = NULL, *akpub = NULL, *blob = NULL, *enc = NULL;
        _cleanup_free_ char *why = NULL;
        size_t ek_len, ak_len, blob_len, enc_len;
        uint8_t nonce[ATTEST_NONCE_SIZE], cred[ATTEST_CREDENTIAL_SIZE];
        struct tpm_ak ak = {};
        X509 *ek = NULL;
        int r;

        if (mkdir(state, 0700) < 0 && errno != EEXIST)
                return imgerr(-errno, "%s: %s", state, strerror(errno));
        if ((r = attest_folders_check(dir, state)) < 0)
                return r;
        if ((r = read_in(dir, "ek.der", READ_FILE_MAX, "keys, certificates and policies", &ekder, &ek_len)) < 0 ||
            (r = read_in(dir, "enroll-ak.pub", TPM_STRUCT_MAX, TPM_STRUCT_WHAT, &akpub, &ak_len)) < 0)
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
        /* What the verifier made and for whom: the EK it wrapped to, the AK
         * name the credential is bound to, the nonce and the secret. */
        if (r == 0)
                r = write_state(state, "ek.der", ekder, ek_len, 0600);
        if (r == 0)
                r = write_state(state, "ak.name", ak.name, TPM_NAME_SIZE, 0600);
        if (r == 0)
                r = write_state(state, "credential", cred, sizeof(cred), 0600);
        if (r == 0)
                r = write_state(state, "credential.blob", blob, blob_len, 0644);
        if (r == 0)
                r = write_state(state, "credential.secret", enc, enc_len, 0644);
        if (r == 0)
                r = write_state(state, "nonce", nonce, sizeof(nonce), 0644);
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
        struct attest_check *v;
        va_list ap;
        char *d = NULL;

        if (GROW(rep->checks, rep->n_checks, rep->cap_checks, 16) < 0)
                return imgerr(-ENOMEM, "out of memory");
        v = rep->checks;
        va_start(ap, fmt);
        if (vasprintf(&d, fmt, ap) < 0)
                d = NULL;
        va_end(ap);
        /* Details quote the guest (activate-failed, paths in messages):
         * one line of valid UTF-8, whatever it sent. */
        if (d) {
                char *e = escape_text(d, ESCAPE_LINE);
                free(d);
                d = e;
        }
        v[rep->n_checks++] = (struct attest_check){ name, ok, d };
        if (!ok)
                rep->ok = false;
        return 0;
}

static int add_file(struct attest_report *rep, const char *path, const char *reason)
{
        struct attest_file_problem *v;

        if (GROW(rep->files, rep->n_files, rep->cap_files, 16) < 0)
                return imgerr(-ENOMEM, "out of memory");
        v = rep->files;
        v[rep->n_files].path = escape_text(path, ESCAPE_FIELD);   /* a measured path is the guest's text */
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
        char *path;               /* the name's bytes ("path_hex" when not UTF-8) */
        const char *algo;         /* IMA template digest algo name */
        uint8_t digest[64];       /* the digest IMA records */
        size_t digest_len;
        bool has_verity;
        uint8_t verity[32];       /* fs-verity digest (ima-ngv2 "verity:") */
};

static int by_path(const void *a, const void *b)
{
        return strcmp(((const struct ref_file *)a)->path, ((const struct ref_file *)b)->path);
}

static void ref_files_free(struct ref_file *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i].path);
        free(v);
}

static int hex_field(json_object *o, const char *key, uint8_t *out, size_t max, size_t *len)
{
        json_object *v;
        _cleanup_free_ uint8_t *bin = NULL;
        size_t bl = 0;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string) ||
            hex_decode(json_object_get_string(v), &bin, &bl) < 0 || bl > max || bl == 0)
                return -EBADMSG;
        memcpy(out, bin, bl);
        *len = bl;
        return 0;
}

static int ref_file_path(json_object *f, char **out)
{
        json_object *path;
        _cleanup_free_ uint8_t *bin = NULL;
        size_t bl = 0;

        if (json_object_object_get_ex(f, "path_hex", &path)) {
                if (hex_decode(json_object_get_string(path), &bin, &bl) < 0 || bl == 0 || memchr(bin, 0, bl))
                        return -EBADMSG;
                bin[bl] = 0;
                *out = (char *)bin;
                bin = NULL;
                return 0;
        }
        if (!json_object_object_get_ex(f, "path", &path) || !json_object_is_type(path, json_type_string))
                return -EBADMSG;
        *out = strdup(json_object_get_string(path));
        return *out ? 0 : -ENOMEM;
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
                json_object *f = json_object_array_get_idx(files, i), *algo;
                size_t vl = 0;

                if (ref_file_path(f, &v[i].path) < 0 || !json_object_object_get_ex(f, "ima_algo", &algo) ||
                    (hex_field(f, "ima_digest", v[i].digest, 64, &v[i].digest_len) < 0 &&
                     hex_field(f, "sha256", v[i].digest, 64, &v[i].digest_len) < 0)) {
                        ref_files_free(v, len);
                        return imgerr(-EBADMSG, "reference: malformed file entry %zu", i);
                }
                v[i].algo = json_object_get_string(algo);
                v[i].has_verity = hex_field(f, "verity_digest", v[i].verity, 32, &vl) == 0 && vl == 32;
        }
        qsort(v, len, sizeof(*v), by_path);
        *out = v;
        *n = len;
        return 0;
}

static int ref_trust(json_object *doc, struct ima_trust **out, uint8_t (**cert_sha)[32], size_t *n_certs)
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
        *n_certs = json_object_array_length(certs);
        *cert_sha = calloc(*n_certs + 1, sizeof(**cert_sha));
        if (!*cert_sha) {
                ima_trust_free(t);
                return imgerr(-ENOMEM, "out of memory");
        }
        for (size_t i = 0; r >= 0 && i < *n_certs; i++) {
                json_object *c = json_object_array_get_idx(certs, i), *der;
                const char *b64;
                size_t bl;
                unsigned char *bin;
                unsigned int dl32 = 32;
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
                        EVP_Digest(bin, (size_t)dl, (*cert_sha)[i], &dl32, EVP_sha256(), NULL);
                }
                free(bin);
        }
        if (r < 0) {
                free(*cert_sha);
                *cert_sha = NULL;
                ima_trust_free(t);
                return r;
        }
        *out = t;
        return 0;
}

/* ---- the inputs ------------------------------------------------------- */

/* Every input, each with its own size limit; a missing, empty or too large
 * one is kept as the reason the checks that need it could not run. */
enum { IN_AK, IN_ACTIVATED, IN_FAILED, IN_ATTEST, IN_SIG, IN_PCRS, IN_LOG,           /* evidence */
       IN_EK, IN_AK_NAME, IN_NONCE, IN_CRED, IN_N };                                   /* state */

static const struct {
        const char *name;
        bool state;
        size_t max;
        const char *what;
} inputs[IN_N] = {
        [IN_AK] = { "ak.pub", false, TPM_STRUCT_MAX, TPM_STRUCT_WHAT },
        [IN_ACTIVATED] = { "activated", false, TPM_STRUCT_MAX, TPM_STRUCT_WHAT },
        [IN_FAILED] = { "activate-failed", false, TPM_STRUCT_MAX, "guest messages" },
        [IN_ATTEST] = { "quote.attest", false, TPM_STRUCT_MAX, TPM_STRUCT_WHAT },
        [IN_SIG] = { "quote.sig", false, TPM_STRUCT_MAX, TPM_STRUCT_WHAT },
        [IN_PCRS] = { "pcrs", false, TPM_STRUCT_MAX, TPM_STRUCT_WHAT },
        [IN_LOG] = { "ima.log", false, IMALOG_MAX, IMALOG_WHAT },
        [IN_EK] = { "ek.der", true, READ_FILE_MAX, "keys, certificates and policies" },
        [IN_AK_NAME] = { "ak.name", true, TPM_STRUCT_MAX, TPM_STRUCT_WHAT },
        [IN_NONCE] = { "nonce", true, TPM_STRUCT_MAX, TPM_STRUCT_WHAT },
        [IN_CRED] = { "credential", true, TPM_STRUCT_MAX, TPM_STRUCT_WHAT },
};

struct evidence {
        uint8_t *data[IN_N];
        size_t len[IN_N];
        char *err[IN_N];           /* why data is NULL */
};

static void evidence_free(struct evidence *e)
{
        for (int i = 0; i < IN_N; i++) {
                if (e->data[i] && i == IN_CRED)
                        OPENSSL_cleanse(e->data[i], e->len[i]);
                free(e->data[i]);
                free(e->err[i]);
        }
}

/* Exact sizes where the verifier knows them. */
static size_t want_size(int i)
{
        switch (i) {
        case IN_PCRS: return TPM_QUOTE_PCRS * 32;
        case IN_AK_NAME: return TPM_NAME_SIZE;
        case IN_NONCE: return ATTEST_NONCE_SIZE;
        case IN_CRED: case IN_ACTIVATED: return ATTEST_CREDENTIAL_SIZE;
        default: return 0;
        }
}

static int evidence_load(const char *dir, const char *state, struct evidence *e)
{
        memset(e, 0, sizeof(*e));
        for (int i = 0; i < IN_N; i++) {
                const char *d = inputs[i].state ? state : dir;
                int r;

                if (i == IN_FAILED && !ev_exists(dir, "activate-failed"))
                        continue;
                if (i == IN_ACTIVATED && !ev_exists(dir, "activated")) {
                        if (asprintf(&e->err[i], "%s/activated: the guest did not activate the credential", dir) < 0)
                                return imgerr(-ENOMEM, "out of memory");
                        continue;
                }
                r = read_in(d, inputs[i].name, inputs[i].max, inputs[i].what, &e->data[i], &e->len[i]);
                if (r == -ENOMEM)
                        return r;
                if (r == 0 && want_size(i) && e->len[i] != want_size(i)) {
                        r = imgerr(-EBADMSG, "%s/%s: %zu bytes, want %zu", d, inputs[i].name, e->len[i], want_size(i));
                        free(e->data[i]);
                        e->data[i] = NULL;
                }
                if (r < 0 && !(e->err[i] = strdup(imgerr_what(r))))
                        return imgerr(-ENOMEM, "out of memory");
        }
        return 0;
}

/* The checks that need input i fail, naming it, when it is missing. */
static bool have(struct attest_report *rep, const struct evidence *e, const char *check, int i)
{
        if (e->data[i])
                return true;
        add_check(rep, check, false, "could not run: %s", e->err[i] ? e->err[i] : inputs[i].name);
        return false;
}

/* ---- the checks --------------------------------------------------------- */

static void check_identity(struct attest_report *rep, const struct evidence *e, const char *ek_ca, struct tpm_ak *ak)
{
        char *why = NULL;
        X509 *ek = NULL;
        int r;
        bool ak_ok = false;

        if (have(rep, e, "ek-cert", IN_EK)) {
                r = ek_cert_verify(e->data[IN_EK], e->len[IN_EK], ek_ca, &ek, &why);
                add_check(rep, "ek-cert", r > 0, "%s",
                          r > 0 ? "the EK certificate the credential was made with chains to the TPM maker's CA"
                                : why ? why : imgerr_what(r));
                free(why);
                X509_free(ek);
        }
        if (have(rep, e, "ak", IN_AK)) {
                r = tpm_ak_parse(e->data[IN_AK], e->len[IN_AK], ak);
                ak_ok = r == 0;
                add_check(rep, "ak", ak_ok, "%s", ak_ok ? "the AK is a restricted signing key fixed to its TPM" : imgerr_what(r));
        }
        if (!ak_ok)
                add_check(rep, "ak-enrolled", false, "could not run: no usable AK");
        else if (have(rep, e, "ak-enrolled", IN_AK_NAME))
                add_check(rep, "ak-enrolled", !memcmp(e->data[IN_AK_NAME], ak->name, TPM_NAME_SIZE), "%s",
                          !memcmp(e->data[IN_AK_NAME], ak->name, TPM_NAME_SIZE)
                                  ? "the quoting AK is the one the credential was made for"
                                  : "the quoting AK is not the enrolled AK (a quote from another TPM)");
        if (!have(rep, e, "credential", IN_CRED))
                return;
        if (e->data[IN_ACTIVATED] && CRYPTO_memcmp(e->data[IN_ACTIVATED], e->data[IN_CRED], ATTEST_CREDENTIAL_SIZE) == 0)
                add_check(rep, "credential", true, "the TPM holding the EK activated the credential for the AK");
        else if (e->data[IN_ACTIVATED])
                add_check(rep, "credential", false, "the activated credential is not the one sent (AK not bound to the EK)");
        else if (e->data[IN_FAILED])
                add_check(rep, "credential", false, "credential activation failed in the guest (%.*s): the AK is not bound to the enrolled EK",
                          (int)strnlen((const char *)e->data[IN_FAILED], strcspn((const char *)e->data[IN_FAILED], "\n")),
                          (const char *)e->data[IN_FAILED]);
        else
                add_check(rep, "credential", false, "could not run: %s", e->err[IN_ACTIVATED]);
}

static void check_quote(struct attest_report *rep, const struct evidence *e, const struct tpm_ak *ak)
{
        static const char *const names[] = { "quote-signature", "quote-signer", "quote-nonce", "pcr-digest" };
        struct tpm_quote q;
        uint8_t d[32];
        unsigned dl = 32;
        bool ok;
        int r;

        if (!ak->key || !e->data[IN_ATTEST] || !e->data[IN_SIG]) {
                const char *why = !ak->key ? "no usable AK" : e->err[e->data[IN_ATTEST] ? IN_SIG : IN_ATTEST];
                for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                        add_check(rep, names[i], false, "could not run: %s", why);
                return;
        }
        r = tpm_quote_verify(ak, e->data[IN_ATTEST], e->len[IN_ATTEST], e->data[IN_SIG], e->len[IN_SIG]);
        ok = r == 0;
        add_check(rep, "quote-signature", ok, "%s", ok ? "the quote is signed by the AK" : imgerr_what(r));
        r = tpm_quote_parse(e->data[IN_ATTEST], e->len[IN_ATTEST], &q);
        if (r < 0) {
                const char *why = imgerr_what(r);
                for (size_t i = 1; i < ARRAY_SIZE(names); i++)
                        add_check(rep, names[i], false, "could not run: quote.attest: %s", why);
                return;
        }
        ok = q.signer_len == TPM_NAME_SIZE && !memcmp(q.signer, ak->qualified_name, TPM_NAME_SIZE);
        add_check(rep, "quote-signer", ok, "%s", ok ? "the quote names the AK (a primary key of the endorsement hierarchy) as its signer"
                                                    : "the quote names another signer");
        if (have(rep, e, "quote-nonce", IN_NONCE)) {
                ok = q.extra_len == ATTEST_NONCE_SIZE && CRYPTO_memcmp(q.extra, e->data[IN_NONCE], ATTEST_NONCE_SIZE) == 0;
                add_check(rep, "quote-nonce", ok, "%s", ok ? "the quote carries this challenge's nonce"
                                                           : "the quote's nonce is not this challenge's (a replayed quote)");
        }
        if (!have(rep, e, "pcr-digest", IN_PCRS))
                return;
        EVP_Digest(e->data[IN_PCRS], e->len[IN_PCRS], d, &dl, EVP_sha256(), NULL);
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

struct refs {
        struct ref_file *files;
        size_t n_files;
        struct ima_trust *trust;
        uint8_t (*cert_sha)[32];
        size_t n_certs;
};

/* ima-buf: the digest must be the buffer's, and the buffer one the
 * reference knows: a key measurement (a keyring's cert) of its certs. */
static int check_buffer(struct attest_report *rep, const struct imalog_entry *en, const struct refs *refs)
{
        const EVP_MD *md = EVP_get_digestbyname(en->digest_algo);
        uint8_t d[EVP_MAX_MD_SIZE], s[32];
        unsigned dl = 0, sl = 32;

        if (!md || !EVP_Digest(en->buf, en->buf_len, d, &dl, md, NULL) || dl != en->digest_len ||
            memcmp(d, en->digest, dl))
                return add_file(rep, en->path, "buffer-digest-differs");
        EVP_Digest(en->buf, en->buf_len, s, &sl, EVP_sha256(), NULL);
        for (size_t i = 0; i < refs->n_certs; i++)
                if (!memcmp(s, refs->cert_sha[i], 32))
                        return 0;
        return add_file(rep, en->path, "unknown-buffer");
}

/* One measured file against the reference. */
static int check_file(struct attest_report *rep, const struct imalog_entry *en, const struct refs *refs)
{
        const struct ref_file *f = ref_find(refs->files, refs->n_files, en->path);
        struct imasig parsed;
        uint32_t keyid;

        rep->measured++;
        if (!f)
                return add_file(rep, en->path, "unknown-file");
        if (!strcmp(en->digest_type, "verity")) {
                /* ima-ngv2 records the fs-verity digest; the kernel appraised
                 * it (sigv3) but the template carries no signature: the
                 * reference, signed by the owner, vouches for the digest. */
                if (strcmp(en->digest_algo, "sha256") || en->digest_len != 32 || !f->has_verity ||
                    memcmp(f->verity, en->digest, 32))
                        return add_file(rep, en->path, "verity-digest-differs");
                if (en->sig && verity_ima_verify(refs->trust, en->sig, en->sig_len, en->digest, &keyid) != IMASIG_VALID)
                        return add_file(rep, en->path, "untrusted-signature");
                return 0;
        }
        if (strcmp(f->algo, en->digest_algo) || f->digest_len != en->digest_len ||
            memcmp(f->digest, en->digest, f->digest_len))
                return add_file(rep, en->path, "digest-differs");
        if (!en->sig)
                return add_file(rep, en->path, "unsigned");
        if (ima_trust_verify_digest(refs->trust, en->sig, en->sig_len, en->digest, en->digest_len, &parsed) != IMASIG_VALID)
                return add_file(rep, en->path, "untrusted-signature");
        return 0;
}

static int check_entries(struct attest_report *rep, const struct imalog *log, const struct refs *refs,
                         const uint8_t agg[32], bool *agg_seen, bool *agg_ok)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && i < log->n; i++) {
                const struct imalog_entry *en = &log->entries[i];

                if (en->violation)
                        continue;   /* extended as 0xff: the replay accounts for it */
                if (en->pcr != 10)
                        r = add_file(rep, en->path, "not-in-pcr10");    /* not covered by the replay */
                else if (en->kind == IMALOG_BUFFER)
                        r = check_buffer(rep, en, refs);
                else if (!strcmp(en->path, "boot_aggregate") && !*agg_seen && i == 0) {
                        *agg_seen = true;
                        *agg_ok = en->digest_len == 32 && !strcmp(en->digest_algo, "sha256") && !memcmp(en->digest, agg, 32);
                } else
                        r = check_file(rep, en, refs);
        }
        return r;
}

static int check_log(struct attest_report *rep, const struct evidence *e, json_object *doc)
{
        static const char *const names[] = { "ima-log", "boot-aggregate", "files" };
        struct refs refs = {};
        struct imalog *log = NULL;
        uint8_t pcr10[32], agg[32];
        unsigned dl = 32;
        bool agg_ok = false, agg_seen = false;
        size_t before;
        int r;

        if ((r = ref_files(doc, &refs.files, &refs.n_files)) < 0 ||
            (r = ref_trust(doc, &refs.trust, &refs.cert_sha, &refs.n_certs)) < 0) {
                ref_files_free(refs.files, refs.n_files);
                return r;
        }
        if (!e->data[IN_LOG] || !e->data[IN_PCRS] || (r = imalog_parse(e->data[IN_LOG], e->len[IN_LOG], &log)) < 0) {
                const char *why = !e->data[IN_LOG] ? e->err[IN_LOG] : !e->data[IN_PCRS] ? e->err[IN_PCRS] : NULL;
                _cleanup_free_ char *msg = strdup(why ? why : imgerr_what(r));
                for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                        add_check(rep, names[i], false, "could not run: %s%s",
                                  why ? "" : "ima.log: ", msg ? msg : "out of memory");
                r = 0;  /* a log that cannot be read fails its checks, not the command */
                goto out;
        }
        imalog_replay(log, 10, "sha256", pcr10);
        r = !memcmp(pcr10, e->data[IN_PCRS] + 10 * 32, 32);
        add_check(rep, "ima-log", r, "%s", r ? "the IMA log replays to the quoted PCR 10"
                                             : "the IMA log does not replay to the quoted PCR 10 (an entry changed, dropped or added)");
        /* boot_aggregate (ima-ng, sha256 bank): sha256 over PCRs 0-9. */
        EVP_Digest(e->data[IN_PCRS], 10 * 32, agg, &dl, EVP_sha256(), NULL);
        before = rep->n_files;
        r = check_entries(rep, log, &refs, agg, &agg_seen, &agg_ok);
        add_check(rep, "boot-aggregate", agg_ok, "%s", agg_ok ? "boot_aggregate equals the quoted PCRs 0-9"
                                                              : agg_seen ? "boot_aggregate differs from the quoted PCRs 0-9"
                                                                         : "the log does not start with boot_aggregate");
        if (r >= 0)
                add_check(rep, "files", rep->n_files == before,
                          "%zu measured files: %zu in the reference with their digest and a trusted signature, %zu problems",
                          rep->measured, rep->measured - (rep->n_files - before), rep->n_files - before);
        r = r < 0 ? r : 0;
out:
        imalog_free(log);
        ima_trust_free(refs.trust);
        free(refs.cert_sha);
        ref_files_free(refs.files, refs.n_files);
        return r;
}

/* A disk's reference predicts PCRs (imgtool pcrs): each one the quote
 * covers must hold exactly that value. */
static int check_pcrs(struct attest_report *rep, const struct evidence *e, json_object *doc)
{
        static const char *const names[TPM_QUOTE_PCRS] = { "pcr0", "pcr1", "pcr2", "pcr3", "pcr4", "pcr5",
                                                           "pcr6", "pcr7", "pcr8", "pcr9", "pcr10" };
        json_object *pcrs, *values;
        const uint8_t *got_pcrs = e->data[IN_PCRS];

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
                if (!have(rep, e, names[i], IN_PCRS))
                        continue;
                hex_encode(got_pcrs + i * 32, 32, got);
                if (!memcmp(want, got_pcrs + i * 32, 32))
                        add_check(rep, names[i], true, "PCR %lu equals the reference's prediction", i);
                else
                        add_check(rep, names[i], false, "PCR %lu is %s, the reference predicts %s (%s)", i, got,
                                  json_object_get_string(val),
                                  i == 4 ? "another UKI was booted" : i == 7 ? "other Secure Boot keys or state"
                                  : i == 5 ? "another disk's GPT" : "not the predicted boot");
        }
        return 0;
}

/* Fail closed: a check that was never added is a failure, named. */
static void require_all(struct attest_report *rep)
{
        static const char *const required[] = { "ek-cert", "ak", "ak-enrolled", "credential", "quote-signature",
                                                "quote-signer", "quote-nonce", "pcr-digest", "ima-log",
                                                "boot-aggregate", "files" };
        for (size_t i = 0; i < ARRAY_SIZE(required); i++) {
                bool seen = false;
                for (size_t j = 0; j < rep->n_checks; j++)
                        seen |= !strcmp(rep->checks[j].name, required[i]);
                if (!seen)
                        add_check(rep, required[i], false, "could not run");
        }
        for (size_t j = 0; j < rep->n_checks; j++)
                rep->ok &= rep->checks[j].ok;
}

int attest_verify(const char *dir, const char *state, const char *reference, const char *ref_cert,
                  const char *ek_ca, struct attest_report **out)
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
        memset(&e, 0, sizeof(e));
        r = attest_folders_check(dir, state);
        if (r == 0)
                r = reference_load(reference, ref_cert, &doc, NULL);
        if (r == 0)
                r = evidence_load(dir, state, &e);
        if (r == 0) {
                check_identity(rep, &e, ek_ca, &ak);
                check_quote(rep, &e, &ak);
                r = check_pcrs(rep, &e, doc);
                if (r == 0)
                        r = check_log(rep, &e, doc);
                require_all(rep);
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
