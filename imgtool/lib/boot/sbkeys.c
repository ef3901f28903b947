#include "boot/sbkeys.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "ima/keyref.h"

#define EFI_VARIABLE_NV_BS_RT_TIMEAUTH 0x27u  /* NON_VOLATILE|BOOTSERVICE|RUNTIME|TIME_BASED_AUTHENTICATED_WRITE */
#define WIN_CERT_TYPE_EFI_GUID 0x0EF1

int efi_guid_parse(const char *t, uint8_t out[16])
{
        uint8_t b[16];
        size_t k = 0;

        if (strlen(t) != 36)
                return -EINVAL;
        for (size_t i = 0; i < 36;) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (t[i++] != '-')
                                return -EINVAL;
                        continue;
                }
                if (!isxdigit((unsigned char)t[i]) || !isxdigit((unsigned char)t[i + 1]))
                        return -EINVAL;
                char h[3] = { t[i], t[i + 1], 0 };
                b[k++] = (uint8_t)strtoul(h, NULL, 16);
                i += 2;
        }
        uint8_t o[16] = { b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6] };
        memcpy(o + 8, b + 8, 8);
        memcpy(out, o, 16);
        return 0;
}

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

int efi_esl_x509(const uint8_t owner[16], const uint8_t *der, size_t der_len, uint8_t **out, size_t *out_len)
{
        size_t len = 28 + 16 + der_len;
        uint8_t *p = malloc(len);

        if (!p)
                return -ENOMEM;
        efi_guid_parse(EFI_CERT_X509_GUID, p);
        put32(p + 16, (uint32_t)len);          /* SignatureListSize */
        put32(p + 20, 0);                      /* SignatureHeaderSize */
        put32(p + 24, (uint32_t)(16 + der_len)); /* SignatureSize */
        memcpy(p + 28, owner, 16);
        memcpy(p + 44, der, der_len);
        *out = p;
        *out_len = len;
        return 0;
}

/* ---- keys and certs ------------------------------------------------------------ */

struct blob {
        uint8_t *data;
        size_t len;
};

struct sbkey {
        const char *name;        /* "PK", "KEK", "db" */
        const char *ref;         /* a key on a token or in a TPM (keyref.h); NULL: made here */
        EVP_PKEY *key;
        struct keyref_hold *hold; /* ref's key: only its public half and a handle are here */
        X509 *cert;
        uint8_t *der;
        int der_len;
};

static int add_ext(X509 *x, int nid, const char *value)
{
        X509V3_CTX ctx;
        X509_EXTENSION *ext;

        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        if (!ext)
                return -EIO;
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        return 0;
}

/* A PK or KEK held by a token or a TPM: firmware verifies RSA (UEFI's
 * EFI_CERT_RSA2048; 2048 bits or more, as for db's Authenticode). */
static int load_held_key(struct sbkey *k)
{
        _cleanup_free_ char *name = keyref_name(k->ref);
        int r;

        if (!name)
                return -ENOMEM;
        r = keyref_load(k->ref, &k->key, &k->hold);
        if (r < 0)
                return r;
        if (!EVP_PKEY_is_a(k->key, "RSA") || EVP_PKEY_get_bits(k->key) < 2048)
                return imgerr(-EINVAL, "%s: the %s key is %s-%d: UEFI firmware verifies RSA of 2048 bits or more",
                              name, k->name, EVP_PKEY_get0_type_name(k->key) ? EVP_PKEY_get0_type_name(k->key) : "?",
                              EVP_PKEY_get_bits(k->key));
        return 0;
}

/* Self-sign, fetching the key's operations where it lives (a TPM key's
 * provider context; the default one otherwise). */
static int sign_cert(struct sbkey *k)
{
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int ok = md && EVP_DigestSignInit_ex(md, NULL, "SHA256", keyref_libctx(k->hold), NULL, k->key, NULL) == 1 &&
                 X509_sign_ctx(k->cert, md) > 0;

        EVP_MD_CTX_free(md);
        return ok ? 0 : -EIO;
}

static int make_key(struct sbkey *k, const struct sbkeys_opts *o)
{
        char cn[256];
        uint8_t serial[16];
        BIGNUM *bn = NULL;
        X509_NAME *name;
        int days = o->days ? o->days : 3650;

        int r = k->ref ? load_held_key(k) : 0;

        if (r < 0)
                return r;
        if (!k->ref)
                k->key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        k->cert = X509_new();
        if (!k->key || !k->cert)
                return imgerr_openssl(-EIO, "generating a Secure Boot key");
        snprintf(cn, sizeof(cn), "%s %s", o->subject ? o->subject : "imgtool Secure Boot", k->name);
        if (RAND_bytes(serial, sizeof(serial)) != 1)
                return imgerr_openssl(-EIO, "random serial");
        serial[0] &= 0x7f;
        bn = BN_bin2bn(serial, sizeof(serial), NULL);
        name = X509_get_subject_name(k->cert);
        if (!bn || !X509_set_version(k->cert, 2) || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(k->cert)) ||
            !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const uint8_t *)cn, -1, -1, 0) ||
            !X509_set_issuer_name(k->cert, name) || !X509_gmtime_adj(X509_getm_notBefore(k->cert), 0) ||
            !X509_gmtime_adj(X509_getm_notAfter(k->cert), (long)days * 86400) ||
            !X509_set_pubkey(k->cert, k->key)) {
                BN_free(bn);
                return imgerr_openssl(-EIO, "making a Secure Boot certificate");
        }
        BN_free(bn);
        if (add_ext(k->cert, NID_subject_key_identifier, "hash") < 0 ||
            add_ext(k->cert, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
            add_ext(k->cert, NID_key_usage, "critical,digitalSignature") < 0 ||
            (!strcmp(k->name, "db") && add_ext(k->cert, NID_ext_key_usage, "codeSigning") < 0))
                return imgerr_openssl(-EIO, "certificate extensions");
        if (sign_cert(k) < 0)
                return imgerr_openssl(-EIO, "self-signing a Secure Boot certificate");
        k->der_len = i2d_X509(k->cert, &k->der);
        return k->der_len > 0 ? 0 : imgerr_openssl(-EIO, "encoding a certificate");
}

static void free_key(struct sbkey *k)
{
        EVP_PKEY_free(k->key);
        keyref_release(k->hold);
        X509_free(k->cert);
        OPENSSL_free(k->der);
}

/* EFI_TIME from SOURCE_DATE_EPOCH, else now (UTC). */
static void efi_time_now(uint8_t t[16])
{
        const char *sde = getenv("SOURCE_DATE_EPOCH");
        time_t now = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
        struct tm tm;

        gmtime_r(&now, &tm);
        memset(t, 0, 16);
        t[0] = (uint8_t)((tm.tm_year + 1900) & 0xff);
        t[1] = (uint8_t)((tm.tm_year + 1900) >> 8);
        t[2] = (uint8_t)(tm.tm_mon + 1);
        t[3] = (uint8_t)tm.tm_mday;
        t[4] = (uint8_t)tm.tm_hour;
        t[5] = (uint8_t)tm.tm_min;
        t[6] = (uint8_t)tm.tm_sec;
}

/* EFI_VARIABLE_AUTHENTICATION_2 for writing var (UTF-16 name, vendor GUID)
 * with esl, signed by signer; then the list itself. */
static int make_auth(const char *var, const char *vendor, const struct blob *esl, const struct sbkey *signer,
                     struct blob *out)
{
        uint8_t guid[16], ts[16], *p7der = NULL;
        size_t nlen = strlen(var), slen = 2 * nlen + 16 + 4 + 16 + esl->len;
        _cleanup_free_ uint8_t *signed_data = malloc(slen);
        BIO *bio = NULL;
        PKCS7 *p7 = NULL;
        int p7len, r = -EIO;

        if (!signed_data)
                return -ENOMEM;
        efi_guid_parse(vendor, guid);
        efi_time_now(ts);
        /* VariableName (no NUL) || VendorGuid || Attributes || TimeStamp || Data */
        for (size_t i = 0; i < nlen; i++) {
                signed_data[2 * i] = (uint8_t)var[i];
                signed_data[2 * i + 1] = 0;
        }
        memcpy(signed_data + 2 * nlen, guid, 16);
        put32(signed_data + 2 * nlen + 16, EFI_VARIABLE_NV_BS_RT_TIMEAUTH);
        memcpy(signed_data + 2 * nlen + 20, ts, 16);
        memcpy(signed_data + 2 * nlen + 36, esl->data, esl->len);
        bio = BIO_new_mem_buf(signed_data, (int)slen);
        /* No signed attributes (no signing time): deterministic, as
         * sign-efi-sig-list makes it; UEFI wants SignedData without the
         * ContentInfo around it. */
        if (bio)
                p7 = PKCS7_sign_ex(signer->cert, signer->key, NULL, bio,
                                   PKCS7_BINARY | PKCS7_DETACHED | PKCS7_NOATTR | PKCS7_NOSMIMECAP,
                                   keyref_libctx(signer->hold), NULL);
        if (!p7 || (p7len = i2d_PKCS7_SIGNED(p7->d.sign, &p7der)) <= 0) {
                r = imgerr_openssl(-EIO, "signing an EFI variable update");
                goto out;
        }
        out->len = 16 + 24 + (size_t)p7len + esl->len;
        out->data = malloc(out->len);
        if (!out->data) {
                r = -ENOMEM;
                goto out;
        }
        memcpy(out->data, ts, 16);
        put32(out->data + 16, (uint32_t)(24 + p7len));      /* dwLength */
        out->data[20] = 0x00;                               /* wRevision 0x0200 */
        out->data[21] = 0x02;
        out->data[22] = WIN_CERT_TYPE_EFI_GUID & 0xff;
        out->data[23] = WIN_CERT_TYPE_EFI_GUID >> 8;
        efi_guid_parse(EFI_CERT_TYPE_PKCS7_GUID, out->data + 24);
        memcpy(out->data + 40, p7der, (size_t)p7len);
        memcpy(out->data + 40 + p7len, esl->data, esl->len);
        r = 0;
out:
        OPENSSL_free(p7der);
        PKCS7_free(p7);
        BIO_free(bio);
        return r;
}

static int pem_blob(EVP_PKEY *key, X509 *cert, struct blob *b)
{
        BIO *bio = BIO_new(BIO_s_mem());
        BUF_MEM *m;
        int ok;

        if (!bio)
                return -ENOMEM;
        ok = key ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) : PEM_write_bio_X509(bio, cert);
        BIO_get_mem_ptr(bio, &m);
        if (ok && m && (b->data = malloc(m->length ? m->length : 1))) {
                memcpy(b->data, m->data, m->length);
                b->len = m->length;
        } else {
                ok = 0;
        }
        BIO_free(bio);
        return ok ? 0 : imgerr_openssl(-EIO, "PEM encoding");
}

/* ---- writing the set ------------------------------------------------------------- */

#define N_FILES (3 * 5 + 1)

struct file {
        char *path;
        struct blob b;
        mode_t mode;
        char *tmp;
};

/* All files go to temporary names first, then are renamed: a failure
 * leaves nothing. */
static int write_files(struct file *f, size_t n)
{
        size_t i, made;
        int r = 0, fd;

        for (i = 0; i < n && r >= 0; i++) {
                if (!f[i].b.data)   /* a held key's .key: there is none */
                        continue;
                r = tmpfile_beside(f[i].path, &f[i].tmp, &fd);
                if (r < 0)
                        break;
                if (fchmod(fd, f[i].mode) < 0 || write(fd, f[i].b.data, f[i].b.len) != (ssize_t)f[i].b.len ||
                    fsync(fd) < 0)
                        r = imgerr(-errno, "%s: %s", f[i].path, strerror(errno));
                close(fd);
        }
        /* link() never replaces what is there (a file, or a dangling symlink
         * stat() did not see): on failure only the names linked here go. */
        for (made = 0; made < n && r >= 0; made++)
                if (f[made].tmp && link(f[made].tmp, f[made].path) < 0) {
                        r = imgerr(-errno, "%s: %s", f[made].path,
                                   errno == EEXIST ? "exists (not overwritten)" : strerror(errno));
                        break;
                }
        if (r < 0)
                while (made-- > 0)
                        if (f[made].tmp)
                                unlink(f[made].path);
        for (i = 0; i < n; i++)
                if (f[i].tmp)
                        unlink(f[i].tmp);
        return r;
}

int sbkeys_generate(const char *dir, const struct sbkeys_opts *o)
{
        struct sbkey k[3] = { { .name = "PK", .ref = o->pk_key }, { .name = "KEK", .ref = o->kek_key },
                              { .name = "db" } };
        struct blob esl[3] = { 0 };
        struct file f[N_FILES] = { 0 };
        uint8_t owner[16];
        char guid_text[38];
        size_t n = 0;
        int r;

        for (int i = 0; i < 3; i++) {
                static const char *const ext[] = { "key", "crt", "der", "esl", "auth" };
                for (int e = 0; e < 5; e++) {
                        struct stat st;
                        char *p;
                        if (asprintf(&p, "%s/%s.%s", dir, k[i].name, ext[e]) < 0)
                                return -ENOMEM;
                        f[n++].path = p;
                        if (stat(p, &st) == 0) {
                                r = imgerr(-EEXIST, "%s: exists (keygen --secure-boot never overwrites)", p);
                                goto out;
                        }
                }
        }
        if (asprintf(&f[n].path, "%s/owner.guid", dir) < 0) {
                r = -ENOMEM;
                goto out;
        }
        n++;
        if (RAND_bytes(owner, 16) != 1) {
                r = imgerr_openssl(-EIO, "random GUID");
                goto out;
        }
        owner[7] = (owner[7] & 0x0f) | 0x40;   /* version 4, in the text order (mixed-endian) */
        owner[8] = (owner[8] & 0x3f) | 0x80;
        for (int i = 0; i < 3; i++) {
                r = make_key(&k[i], o);
                if (r < 0)
                        goto out;
                r = efi_esl_x509(owner, k[i].der, (size_t)k[i].der_len, &esl[i].data, &esl[i].len);
                if (r < 0)
                        goto out;
        }
        for (int i = 0; i < 3; i++) {
                struct file *fk = &f[5 * i];
                const struct sbkey *signer = &k[i == 2 ? 1 : 0];   /* PK signs PK and KEK; KEK signs db */
                if ((!k[i].ref && (r = pem_blob(k[i].key, NULL, &fk[0].b)) < 0) ||
                    (r = pem_blob(NULL, k[i].cert, &fk[1].b)) < 0)
                        goto out;
                fk[0].mode = 0600;
                fk[1].mode = fk[2].mode = fk[3].mode = fk[4].mode = 0644;
                fk[2].b.data = malloc((size_t)k[i].der_len);
                if (!fk[2].b.data) {
                        r = -ENOMEM;
                        goto out;
                }
                memcpy(fk[2].b.data, k[i].der, (size_t)k[i].der_len);
                fk[2].b.len = (size_t)k[i].der_len;
                fk[3].b = esl[i];
                esl[i] = (struct blob){ 0 };
                r = make_auth(k[i].name, i == 2 ? EFI_IMAGE_SECURITY_DATABASE_GUID : EFI_GLOBAL_VARIABLE_GUID,
                              &fk[3].b, signer, &fk[4].b);
                if (r < 0)
                        goto out;
        }
        /* The owner GUID, as text (the bytes are in every .esl). */
        {
                const uint8_t *g = owner;
                snprintf(guid_text, sizeof(guid_text),
                         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n",
                         g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
                f[15].b.data = (uint8_t *)strdup(guid_text);
                f[15].b.len = strlen(guid_text);
                f[15].mode = 0644;
                if (!f[15].b.data) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        r = mkdir_p(dir);
        if (r >= 0)
                r = write_files(f, n);
out:
        for (int i = 0; i < 3; i++) {
                free_key(&k[i]);
                free(esl[i].data);
        }
        for (size_t i = 0; i < N_FILES; i++) {
                free(f[i].path);
                free(f[i].tmp);
                if (f[i].b.data)
                        OPENSSL_cleanse(f[i].b.data, f[i].b.len);
                free(f[i].b.data);
        }
        return r;
}
