/* Private keys from a file or from a PKCS#11 token (keyref.h). */
#include "ima/keyref.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

/* OpenSSL 3 deprecates ENGINE, but libp11's engine is what Debian 12 ships
 * for PKCS#11 (its provider, pkcs11-provider, came later). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <openssl/engine.h>

#include "base/util.h"

#define URI_PREFIX "pkcs11:"
#define TPM_HANDLE_PREFIX "handle:"
#define TSS2_PEM "-----BEGIN TSS2 PRIVATE KEY-----"
#define PIN_MAX 256

struct keyref_hold {
        ENGINE *engine;            /* a PKCS#11 key */
        OSSL_LIB_CTX *libctx;      /* a TPM key: tpm2 and default providers only */
        OSSL_PROVIDER *tpm2, *dflt;
};

static int load_tpm(const char *ref, EVP_PKEY **out, struct keyref_hold **hold);

bool keyref_is_tpm_handle(const char *ref)
{
        return ref && !strncmp(ref, TPM_HANDLE_PREFIX, strlen(TPM_HANDLE_PREFIX));
}

bool keyref_is_token(const char *ref)
{
        return ref && !strncmp(ref, URI_PREFIX, strlen(URI_PREFIX));
}

char *keyref_name(const char *ref)
{
        return keyref_is_token(ref) ? strndup(ref, strcspn(ref, "?")) : strdup(ref);
}

/* ---- a key file ----------------------------------------------------- */

static int load_file(const char *path, EVP_PKEY **out)
{
        _cleanup_free_ uint8_t *data = NULL;
        size_t len;
        EVP_PKEY *pkey = NULL;
        int r;

        r = read_file(path, &data, &len);
        if (r < 0)
                return r;
        if (len >= strlen(TSS2_PEM) && !memcmp(data, TSS2_PEM, strlen(TSS2_PEM)))
                return 1;   /* a TPM-wrapped key: the caller loads it through the TPM */
        BIO *bio = BIO_new_mem_buf(data, (int)len);
        if (!bio)
                return -ENOMEM;
        pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (!pkey) {
                const unsigned char *p = data;
                pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
        }
        OPENSSL_cleanse(data, len);
        ERR_clear_error();
        if (!pkey)
                return imgerr(-EBADMSG, "%s: not a private key (PEM or DER, unencrypted)", path);
        *out = pkey;
        return 0;
}

/* ---- a PKCS#11 URI -------------------------------------------------- */

struct uri {
        char *path;        /* "pkcs11:" and the path attributes: what libp11 gets, what messages name */
        char *module;      /* module-path=, percent-decoded; NULL: libp11's default (p11-kit's proxy) */
        char *pin_source;  /* pin-source=, percent-decoded */
};

static void uri_free(struct uri *u)
{
        free(u->path);
        free(u->module);
        free(u->pin_source);
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c |= 0x20;
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 7512 section 2.3: query values are percent-encoded. */
static char *pct_decode(const char *s, size_t n)
{
        char *out = malloc(n + 1), *w = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                int hi, lo;
                if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
                    (lo = hexval(s[i + 2])) >= 0) {
                        *w++ = (char)(hi << 4 | lo);
                        i += 2;
                } else {
                        *w++ = s[i];
                }
        }
        *w = 0;
        return out;
}

static int query_attr(struct uri *u, const char *a, size_t n)
{
        const char *eq = memchr(a, '=', n);
        size_t klen = eq ? (size_t)(eq - a) : n;
        char **f = NULL;

        if (klen == 11 && !strncmp(a, "module-path", klen))
                f = &u->module;
        else if (klen == 10 && !strncmp(a, "pin-source", klen))
                f = &u->pin_source;
        else if (klen == 9 && !strncmp(a, "pin-value", klen))
                return imgerr(-EINVAL, "%s: pin-value= puts the PIN in the URI: use pin-source=file:PATH "
                              "or IMGTOOL_PKCS11_PIN", u->path);
        else
                return imgerr(-EINVAL, "%s: unsupported query attribute \"%.*s\" (module-path= and "
                              "pin-source= are)", u->path, (int)klen, a);
        if (!eq)
                return imgerr(-EINVAL, "%s: %.*s without a value", u->path, (int)klen, a);
        free(*f);
        *f = pct_decode(eq + 1, n - klen - 1);
        return *f ? 0 : -ENOMEM;
}

static int uri_parse(const char *ref, struct uri *u)
{
        const char *q = strchr(ref, '?');
        int r = 0;

        memset(u, 0, sizeof(*u));
        u->path = q ? strndup(ref, (size_t)(q - ref)) : strdup(ref);
        if (!u->path)
                return -ENOMEM;
        for (const char *a = q ? q + 1 : NULL; a && *a && r >= 0;) {
                size_t n = strcspn(a, "&");
                if (n)
                        r = query_attr(u, a, n);
                a += n + (a[n] == '&');
        }
        if (r >= 0 && !strstr(u->path, "object=") && !strstr(u->path, "id="))
                r = imgerr(-EINVAL, "%s: names no key (object= or id=)", u->path);
        return r;
}

/* The PIN: pin-source=file:PATH (or a bare path, as p11-kit takes it),
 * else IMGTOOL_PKCS11_PIN.  One trailing newline is not part of it. */
static int read_pin(const struct uri *u, char pin[PIN_MAX])
{
        const char *env = getenv("IMGTOOL_PKCS11_PIN");
        _cleanup_free_ uint8_t *data = NULL;
        size_t len, size;
        int r;

        if (!u->pin_source) {
                if (!env || !*env)
                        return imgerr(-EACCES, "%s: no PIN: add pin-source=file:PATH to the URI or set "
                                      "IMGTOOL_PKCS11_PIN", u->path);
                if (strlen(env) >= PIN_MAX)
                        return imgerr(-EINVAL, "%s: IMGTOOL_PKCS11_PIN is too long", u->path);
                strcpy(pin, env);
                return 0;
        }
        const char *path = u->pin_source;
        if (!strncmp(path, "file:", 5))
                path += 5;
        if (path[0] != '/')
                return imgerr(-EINVAL, "%s: pin-source=%s: expected file:/absolute/path", u->path,
                              u->pin_source);
        r = read_file_max(path, PIN_MAX, "PIN files", &data, &len);
        if (r < 0)
                return imgerr_prefix(r, "%s: pin-source: ", u->path);
        size = len;
        while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
                len--;
        if (len >= PIN_MAX || memchr(data, 0, len))
                r = imgerr(-EINVAL, "%s: pin-source=%s: not a PIN", u->path, u->pin_source);
        else {
                memcpy(pin, data, len);
                pin[len] = 0;
        }
        OPENSSL_cleanse(data, size);
        return r;
}

/* libp11 reports a failure with PKCS#11's CKR_* code as the reason (and
 * prints nothing with QUIET): tell the user which part was wrong. */
static int load_error(const struct uri *u)
{
        unsigned long e, last = 0;

        /* libp11's errors are in a library number it registers (>= ERR_LIB_USER),
         * OpenSSL's own "failed loading private key" follows them */
        while ((e = ERR_get_error()))
                if (ERR_GET_LIB(e) >= ERR_LIB_USER &&
                    (ERR_GET_REASON(e) == 0xa0 /* CKR_PIN_INCORRECT */ ||
                     ERR_GET_REASON(e) == 0xa4 /* CKR_PIN_LOCKED */ || !last))
                        last = e;
        ERR_clear_error();
        switch (ERR_GET_REASON(last)) {
        case 0xa0:
                return imgerr(-EACCES, "%s: the token refused the PIN", u->path);
        case 0xa4:
                return imgerr(-EACCES, "%s: the token's PIN is locked", u->path);
        }
        return imgerr(-ENOENT, "%s: no such private key on the token%s", u->path,
                      u->module ? "" : " (or no such token)");
}

static void keyref_release_engine(ENGINE *e)
{
        if (e)
                ENGINE_finish(e);
}

static int engine_open(const struct uri *u, ENGINE **out)
{
        ENGINE *e = ENGINE_by_id("pkcs11");

        if (!e) {
                ERR_clear_error();
                return imgerr(-ENOENT, "%s: OpenSSL has no pkcs11 engine (install libengine-pkcs11-openssl)",
                              u->path);
        }
        if (!ENGINE_ctrl_cmd_string(e, "QUIET", NULL, 0) ||
            (u->module && !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", u->module, 0)) || !ENGINE_init(e)) {
                ENGINE_free(e);
                ERR_clear_error();
                return imgerr(-ENOENT, "%s: cannot load the PKCS#11 module %s", u->path,
                              u->module ? u->module : "(p11-kit's default)");
        }
        ENGINE_free(e); /* ENGINE_init holds its own reference */
        *out = e;
        return 0;
}

/* libp11 says "object not found" both for a token that is not there and
 * for a key that is not on it; p11-kit (RFC 7512's matching, the same as
 * p11tool's) tells them apart, and names a module that does not load. */
static bool token_present(CK_FUNCTION_LIST *m, P11KitUri *pu)
{
        CK_SLOT_ID slots[64];
        CK_ULONG n = ARRAY_SIZE(slots);
        CK_TOKEN_INFO ti;

        if (m->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
                return false;
        for (CK_ULONG i = 0; i < n; i++)
                if (m->C_GetTokenInfo(slots[i], &ti) == CKR_OK && p11_kit_uri_match_token_info(pu, &ti))
                        return true;
        return false;
}

static int check_token(const struct uri *u)
{
        P11KitUri *pu;
        CK_FUNCTION_LIST *m = NULL;
        struct stat st;
        int r = 0;

        if (stat(u->module, &st) < 0)
                return imgerr(-ENOENT, "%s: PKCS#11 module %s: %s", u->path, u->module, strerror(errno));
        pu = p11_kit_uri_new();
        if (!pu)
                return -ENOMEM;
        p11_kit_be_quiet();
        if (p11_kit_uri_parse(u->path, P11_KIT_URI_FOR_ANY, pu) != P11_KIT_URI_OK) {
                r = imgerr(-EINVAL, "%s: not a PKCS#11 URI (RFC 7512)", u->path);
                goto out;
        }
        m = p11_kit_module_load(u->module, 0);
        if (!m) {
                r = imgerr(-ENOENT, "%s: cannot load the PKCS#11 module %s: %s", u->path, u->module,
                           p11_kit_message() ? p11_kit_message() : "not a PKCS#11 module");
                goto out;
        }
        if (p11_kit_module_initialize(m) != CKR_OK) {
                r = imgerr(-EIO, "%s: the PKCS#11 module %s does not initialize", u->path, u->module);
                goto out;
        }
        if (!token_present(m, pu))
                r = imgerr(-ENOENT, "%s: no such token in %s", u->path, u->module);
        p11_kit_module_finalize(m);
out:
        if (m)
                p11_kit_module_release(m);
        p11_kit_uri_free(pu);
        return r;
}

static int load_token(const char *ref, EVP_PKEY **out, struct keyref_hold **hold)
{
        struct uri u;
        char pin[PIN_MAX];
        ENGINE *e = NULL;
        EVP_PKEY *pkey = NULL;
        int r = uri_parse(ref, &u);

        if (r >= 0 && u.module)
                r = check_token(&u);
        if (r >= 0)
                r = read_pin(&u, pin);
        if (r < 0)
                goto out;
        r = engine_open(&u, &e);
        if (r >= 0 && !ENGINE_ctrl_cmd_string(e, "PIN", pin, 0))
                r = imgerr(-EIO, "%s: the pkcs11 engine did not take the PIN", u.path);
        OPENSSL_cleanse(pin, sizeof(pin));
        if (r >= 0 && !(pkey = ENGINE_load_private_key(e, u.path, NULL, NULL)))
                r = load_error(&u);
        if (r < 0) {
                keyref_release_engine(e);
                goto out;
        }
        *hold = calloc(1, sizeof(**hold));
        if (!*hold) {
                EVP_PKEY_free(pkey);
                keyref_release_engine(e);
                r = -ENOMEM;
                goto out;
        }
        *out = pkey;
        (*hold)->engine = e;
out:
        uri_free(&u);
        return r;
}

/* ---- a TPM key ------------------------------------------------------ */

/* The tpm2 provider in a library context of its own: in the default one
 * its digests and random numbers could be picked for everything imgtool
 * computes.  Loading it talks to the TPM (TPM2OPENSSL_TCTI). */
static int tpm_open(const char *ref, struct keyref_hold **out)
{
        struct keyref_hold *h = calloc(1, sizeof(*h));

        /* tpm2-tss logs TPM errors on stderr: imgtool says what failed in
         * one line instead (a TSS2_LOG the user set is kept) */
        setenv("TSS2_LOG", "all+NONE", 0);
        if (!h || !(h->libctx = OSSL_LIB_CTX_new())) {
                free(h);
                return -ENOMEM;
        }
        h->tpm2 = OSSL_PROVIDER_load(h->libctx, "tpm2");
        h->dflt = h->tpm2 ? OSSL_PROVIDER_load(h->libctx, "default") : NULL;
        if (!h->tpm2 || !h->dflt) {
                const char *tcti = getenv("TPM2OPENSSL_TCTI");
                int r = imgerr(-ENOENT, "%s: no TPM through OpenSSL's tpm2 provider (tpm2-openssl installed? "
                               "TPM2OPENSSL_TCTI=%s)", ref, tcti ? tcti : "unset: its default TPM");
                ERR_clear_error();
                keyref_release(h);
                return r;
        }
        *out = h;
        return 0;
}

static int load_tpm(const char *ref, EVP_PKEY **out, struct keyref_hold **hold)
{
        struct keyref_hold *h = NULL;
        OSSL_STORE_CTX *st;
        EVP_PKEY *pkey = NULL;
        int r = tpm_open(ref, &h);

        if (r < 0)
                return r;
        st = OSSL_STORE_open_ex(ref, h->libctx, NULL, NULL, NULL, NULL, NULL, NULL);
        if (st && OSSL_STORE_expect(st, OSSL_STORE_INFO_PKEY))
                while (!pkey && !OSSL_STORE_eof(st)) {
                        OSSL_STORE_INFO *info = OSSL_STORE_load(st);
                        if (info && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
                                pkey = OSSL_STORE_INFO_get1_PKEY(info);
                        OSSL_STORE_INFO_free(info);
                        if (!info && OSSL_STORE_error(st))
                                break;
                }
        OSSL_STORE_close(st);
        ERR_clear_error();
        if (!pkey) {
                keyref_release(h);
                return imgerr(-ENOENT, "%s: no such private key in the TPM (or it needs an authorization value)",
                              ref);
        }
        *out = pkey;
        *hold = h;
        return 0;
}

int keyref_load(const char *ref, EVP_PKEY **out, struct keyref_hold **hold)
{
        int r;

        *hold = NULL;
        if (keyref_is_token(ref))
                return load_token(ref, out, hold);
        if (keyref_is_tpm_handle(ref))
                return load_tpm(ref, out, hold);
        r = load_file(ref, out);
        return r == 1 ? load_tpm(ref, out, hold) : r;
}

OSSL_LIB_CTX *keyref_libctx(const struct keyref_hold *h)
{
        return h ? h->libctx : NULL;
}

void keyref_release(struct keyref_hold *h)
{
        if (!h)
                return;
        keyref_release_engine(h->engine);
        OSSL_PROVIDER_unload(h->tpm2);
        OSSL_PROVIDER_unload(h->dflt);
        OSSL_LIB_CTX_free(h->libctx);
        free(h);
}
#pragma GCC diagnostic pop
