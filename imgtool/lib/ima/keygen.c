/* Key and certificate generation for `imgtool keygen`.  See keygen.h. */
#include "ima/keygen.h"
#include "ima/certs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ima/imasig.h"
#include "ima/pubkey.h"
#include "base/output.h"
#include "base/util.h"

static const struct {
        enum key_type type;
        const char *name;
} key_types[] = {
        { KEY_EC_P256, "ec-p256" },
        { KEY_EC_P384, "ec-p384" },
        { KEY_RSA_2048, "rsa-2048" },
        { KEY_RSA_3072, "rsa-3072" },
        { KEY_RSA_4096, "rsa-4096" },
};

int keygen_type_from_name(const char *name, enum key_type *out)
{
        for (size_t i = 0; i < ARRAY_SIZE(key_types); i++)
                if (strcmp(name, key_types[i].name) == 0) {
                        *out = key_types[i].type;
                        return 0;
                }
        return imgerr(-EINVAL, "unknown key type '%s' (ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096)",
                      name);
}

const char *keygen_type_name(enum key_type t)
{
        for (size_t i = 0; i < ARRAY_SIZE(key_types); i++)
                if (key_types[i].type == t)
                        return key_types[i].name;
        return "unknown";
}

const char *keygen_basename(bool ca)
{
        return ca ? "ca" : "signing";
}

static int key_generate(enum key_type t, EVP_PKEY **out)
{
        EVP_PKEY *pkey = NULL;

        switch (t) {
        case KEY_EC_P256: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); break;
        case KEY_EC_P384: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"); break;
        case KEY_RSA_2048: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048); break;
        case KEY_RSA_3072: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072); break;
        case KEY_RSA_4096: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096); break;
        }
        if (!pkey) {
                ERR_clear_error();
                return imgerr(-EIO, "cannot generate a %s key", keygen_type_name(t));
        }
        *out = pkey;
        return 0;
}

/* ---- the issuing CA ------------------------------------------------- */

struct issuer {
        X509 *cert;
        EVP_PKEY *key;
};

static void issuer_done(struct issuer *is)
{
        X509_free(is->cert);
        EVP_PKEY_free(is->key);
}


static int read_pem_key(const char *path, EVP_PKEY **out)
{
        _cleanup_free_ uint8_t *data = NULL;
        EVP_PKEY *k;
        BIO *bio;
        size_t len;
        int r = read_file_max(path, READ_FILE_MAX, "private keys", &data, &len);

        if (r < 0)
                return r;
        bio = BIO_new_mem_buf(data, (int)len);
        if (!bio)
                return -ENOMEM;
        k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
        OPENSSL_cleanse(data, len);
        ERR_clear_error();
        if (!k)
                return imgerr(-EBADMSG, "%s: not a PEM private key (unencrypted)", path);
        *out = k;
        return 0;
}

static int issuer_load(const char *dir, struct issuer *is)
{
        _cleanup_free_ char *crt = NULL, *key = NULL;
        int r;

        if (asprintf(&crt, "%s/ca.crt", dir) < 0 || asprintf(&key, "%s/ca.key", dir) < 0)
                return -ENOMEM;
        r = cert_read_one(crt, &is->cert);
        if (r < 0)
                return r;
        if (X509_check_ca(is->cert) == 0)
                return imgerr(-EINVAL, "%s: not a CA certificate (make one with keygen --ca)", crt);
        r = read_pem_key(key, &is->key);
        if (r < 0)
                return r;
        /* the kernel checks the leaf's signature with this key when it
         * loads the cert into a CA-restricted keyring */
        char why[200];
        if (ima_pkey_kernel_check(is->key, why, sizeof(why)) < 0)
                return imgerr(-EOPNOTSUPP, "%s: %s", key, why);
        if (EVP_PKEY_eq(is->key, X509_get0_pubkey(is->cert)) != 1) {
                ERR_clear_error();
                return imgerr(-EINVAL, "%s: key does not match %s", key, crt);
        }
        return 0;
}

/* ---- the certificate ------------------------------------------------ */

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
        int ok = ext && X509_add_ext(x, ext, -1);

        X509_EXTENSION_free(ext);
        if (!ok) {
                ERR_clear_error();
                return imgerr(-EIO, "cannot add certificate extension %s=%s", OBJ_nid2sn(nid), value);
        }
        return 0;
}

/* The kernel's x509 parser needs v3 with a SKID to find the key by keyid;
 * a random serial keeps issuer+serial unique, as RFC 5280 asks. */
static int cert_set_basics(X509 *x, EVP_PKEY *pkey, const char *cn, int days)
{
        X509_NAME *name = X509_get_subject_name(x);
        BIGNUM *serial = BN_new();
        int ok;

        ok = serial && BN_rand(serial, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) &&
             BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
             X509_set_version(x, X509_VERSION_3) &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                        -1, 0) &&
             X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
             X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) &&
             X509_set_pubkey(x, pkey);
        BN_free(serial);
        if (!ok) {
                ERR_clear_error();
                return imgerr(-EINVAL, "cannot fill in the certificate (subject '%s')", cn);
        }
        return 0;
}

static int cert_add_extensions(X509 *x, X509 *issuer_cert, bool ca)
{
        X509V3_CTX ctx;
        int r;

        X509V3_set_ctx(&ctx, issuer_cert ? issuer_cert : x, x, NULL, NULL, 0);
        r = add_ext(x, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
        if (r >= 0)
                r = add_ext(x, &ctx, NID_key_usage,
                            ca ? "critical,keyCertSign,cRLSign,digitalSignature"
                               : "critical,digitalSignature");
        if (r >= 0 && !ca)
                r = add_ext(x, &ctx, NID_ext_key_usage, "codeSigning");
        if (r >= 0)
                r = add_ext(x, &ctx, NID_subject_key_identifier, "hash");
        if (r >= 0)
                r = add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
        return r;
}

static const EVP_MD *cert_sig_md(EVP_PKEY *signer)
{
        if (EVP_PKEY_is_a(signer, "EC") && EVP_PKEY_get_bits(signer) > 256)
                return EVP_sha384();
        return EVP_sha256();
}

static int cert_make(EVP_PKEY *pkey, const struct keygen_opts *o, const struct issuer *is,
                     X509 **out)
{
        const char *cn = o->subject ? o->subject
                                    : o->ca ? "imgtool IMA CA" : "imgtool IMA signing key";
        X509 *x = X509_new();
        EVP_PKEY *signer = is->key ? is->key : pkey;
        int r;

        if (!x)
                return -ENOMEM;
        r = cert_set_basics(x, pkey, cn, o->days > 0 ? o->days : 3650);
        if (r >= 0 && !X509_set_issuer_name(x, is->cert ? X509_get_subject_name(is->cert)
                                                         : X509_get_subject_name(x)))
                r = imgerr(-ENOMEM, "cannot set the certificate issuer");
        if (r >= 0)
                r = cert_add_extensions(x, is->cert, o->ca);
        if (r >= 0 && X509_sign(x, signer, cert_sig_md(signer)) <= 0) {
                ERR_clear_error();
                r = imgerr(-EIO, "cannot sign the certificate");
        }
        if (r < 0) {
                X509_free(x);
                return r;
        }
        *out = x;
        return 0;
}

/* ---- encoding and writing ------------------------------------------- */

struct blob {
        uint8_t *data;
        size_t len;
};

static int bio_to_blob(BIO *bio, struct blob *b)
{
        char *p;
        long n = BIO_get_mem_data(bio, &p);

        if (n <= 0 || !(b->data = malloc((size_t)n)))
                return -ENOMEM;
        memcpy(b->data, p, (size_t)n);
        b->len = (size_t)n;
        return 0;
}

static int encode_files(EVP_PKEY *pkey, X509 *x, struct blob out[3])
{
        BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
        unsigned char *der = NULL;
        int n, r = -ENOMEM;

        if (!kb || !cb || !PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL) ||
            !PEM_write_bio_X509(cb, x))
                goto out;
        n = i2d_X509(x, &der);
        if (n <= 0)
                goto out;
        r = bio_to_blob(kb, &out[0]);
        if (r >= 0)
                r = bio_to_blob(cb, &out[1]);
        if (r >= 0 && (out[2].data = malloc((size_t)n))) {
                memcpy(out[2].data, der, (size_t)n);
                out[2].len = (size_t)n;
        } else if (r >= 0) {
                r = -ENOMEM;
        }
out:
        ERR_clear_error();
        OPENSSL_free(der);
        BIO_free(kb);  /* the memory BIO of the key is cleared by BIO_free */
        BIO_free(cb);
        return r < 0 ? imgerr(r, "cannot encode the key and certificate") : 0;
}

/* All three files appear, or none: each through output.h's temporary
 * (the key 0600 from the start), renamed only when all three are written;
 * without --force no rename replaces a file that appeared meanwhile. */
static int write_set(char *const paths[3], const struct blob blobs[3], unsigned flags,
                     const char *const *inputs)
{
        static const mode_t modes[3] = { 0600, 0644, 0644 };
        struct output *outs[3] = { NULL, NULL, NULL };
        int committed = 0, r = 0;

        for (int i = 0; i < 3 && r >= 0; i++)
                r = output_open(paths[i], flags, modes[i], inputs, &outs[i]);
        for (int i = 0; i < 3 && r >= 0; i++)
                r = output_write(outs[i], blobs[i].data, blobs[i].len);
        for (; r >= 0 && committed < 3; committed++) {
                r = output_commit(outs[committed]);
                outs[committed] = NULL;
        }
        if (r < 0 && !(flags & OUTPUT_FORCE))
                for (int i = 0; i < committed - 1; i++)
                        unlink(paths[i]);
        for (int i = 0; i < 3; i++)
                output_abort(outs[i]);
        return r;
}

static int make_key_and_cert(const struct keygen_opts *o, struct blob blobs[3], uint32_t *keyid)
{
        struct issuer is = { NULL, NULL };
        EVP_PKEY *pkey = NULL;
        X509 *x = NULL;
        int r = 0;

        if (o->issuer_dir)
                r = issuer_load(o->issuer_dir, &is);
        if (r >= 0)
                r = key_generate(o->type, &pkey);
        if (r >= 0)
                r = cert_make(pkey, o, &is, &x);
        if (r >= 0)
                r = encode_files(pkey, x, blobs);
        if (r >= 0)
                r = ima_cert_keyid(blobs[2].data, blobs[2].len, keyid);
        X509_free(x);
        EVP_PKEY_free(pkey);
        issuer_done(&is);
        return r;
}

int keygen_write(const char *dir, const struct keygen_opts *o, uint32_t *keyid)
{
        const char *base = keygen_basename(o->ca);
        char *paths[3] = { NULL, NULL, NULL }, *issuer[3] = { NULL, NULL, NULL };
        struct blob blobs[3] = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
        unsigned flags = o->force ? OUTPUT_FORCE : 0;
        int r = -ENOMEM;

        if (!*dir)
                return imgerr(-EINVAL, "keygen: the output directory name is empty");
        if (asprintf(&paths[0], "%s/%s.key", dir, base) < 0 ||
            asprintf(&paths[1], "%s/%s.crt", dir, base) < 0 ||
            asprintf(&paths[2], "%s/%s.der", dir, base) < 0)
                goto out;
        if (o->issuer_dir && (asprintf(&issuer[0], "%s/ca.key", o->issuer_dir) < 0 ||
                              asprintf(&issuer[1], "%s/ca.crt", o->issuer_dir) < 0))
                goto out;
        r = 0;
        /* refused before the work; the folder is made only to write into */
        for (int i = 0; i < 3 && r >= 0 && access(dir, F_OK) == 0; i++)
                r = output_check(paths[i], flags, (const char *const *)issuer);
        if (r >= 0)
                r = make_key_and_cert(o, blobs, keyid);
        if (r >= 0)
                r = mkdir_p(dir);
        if (r >= 0)
                r = write_set(paths, blobs, flags, (const char *const *)issuer);
out:
        free(issuer[0]);
        free(issuer[1]);
        for (int i = 0; i < 3; i++) {
                if (blobs[i].data)
                        OPENSSL_cleanse(blobs[i].data, blobs[i].len);
                free(blobs[i].data);
                free(paths[i]);
        }
        return r;
}

int keygen_cert_for_key(EVP_PKEY *pub, const struct keygen_opts *o, X509 **out)
{
        struct issuer is = { NULL, NULL };
        int r = issuer_load(o->issuer_dir, &is);

        if (r >= 0)
                r = cert_make(pub, o, &is, out);
        issuer_done(&is);
        return r;
}

/* ---- a certificate for a bare public key (--for-key) ---------------------- */

/* Both files appear, or neither: temporaries linked into place (link never
 * replaces a file that appeared meanwhile). */
static int write_pair(char *const paths[2], const uint8_t *data[2], const size_t len[2])
{
        char *tmps[2] = { NULL, NULL };
        int r = 0, linked = 0;

        for (int i = 0; i < 2 && r >= 0; i++) {
                int fd;
                r = tmpfile_beside(paths[i], &tmps[i], &fd);
                if (r < 0)
                        break;
                if (fchmod(fd, 0644) < 0 || write(fd, data[i], len[i]) != (ssize_t)len[i] || fsync(fd) < 0)
                        r = imgerr(-errno, "%s: cannot write: %s", paths[i], strerror(errno));
                close(fd);
        }
        for (; r >= 0 && linked < 2; linked++)
                if (link(tmps[linked], paths[linked]) < 0)
                        r = imgerr(-errno, "%s: %s", paths[linked],
                                   errno == EEXIST ? "already exists, not overwriting" : strerror(errno));
        if (r < 0)
                for (int i = 0; i < linked; i++)
                        unlink(paths[i]);
        for (int i = 0; i < 2; i++) {
                if (tmps[i])
                        unlink(tmps[i]);
                free(tmps[i]);
        }
        return r;
}

int keygen_issue_for_key(const char *dir, const char *pubkey_path, const struct keygen_opts *o, uint32_t *keyid)
{
        _cleanup_free_ char *crt = NULL, *der_path = NULL;
        EVP_PKEY *pub = NULL;
        X509 *x = NULL;
        BIO *bio = NULL;
        unsigned char *der = NULL;
        char *pem = NULL;
        int r, der_len = 0;
        long pem_len = 0;

        if (!o->issuer_dir || o->ca)
                return imgerr(-EINVAL, "--for-key needs --issuer CADIR (and no --ca)");
        r = pubkey_read_file(pubkey_path, &pub);
        if (r == 0)
                r = imgerr(-EBADMSG, "%s: not a public key (PEM PUBLIC KEY or DER)", pubkey_path);
        if (r < 0)
                return r;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                r = imgerr(-errno, "%s: cannot create directory: %s", dir, strerror(errno));
        if (r >= 0 && (asprintf(&crt, "%s/signing.crt", dir) < 0 || asprintf(&der_path, "%s/signing.der", dir) < 0))
                r = -ENOMEM;
        if (r >= 0)
                r = keygen_cert_for_key(pub, o, &x);
        if (r >= 0 && ((der_len = i2d_X509(x, &der)) <= 0 || !(bio = BIO_new(BIO_s_mem())) ||
                       !PEM_write_bio_X509(bio, x) || (pem_len = BIO_get_mem_data(bio, &pem)) <= 0))
                r = imgerr(-ENOMEM, "cannot encode the certificate");
        if (r >= 0) {
                char *paths[2] = { crt, der_path };
                const uint8_t *data[2] = { (uint8_t *)pem, der };
                const size_t len[2] = { (size_t)pem_len, (size_t)der_len };
                r = write_pair(paths, data, len);
        }
        if (r >= 0)
                r = pubkey_ima_keyid(pub, keyid);
        ERR_clear_error();
        BIO_free(bio);
        OPENSSL_free(der);
        X509_free(x);
        EVP_PKEY_free(pub);
        return r;
}
