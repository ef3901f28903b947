/* The security.ima parser and verifier (imasig): any bytes as an xattr
 * value, verified against a trust set of three fixed keys (P-256, P-384,
 * and secp256k1, which the kernel cannot use) over a fixed content.
 *
 * IMGTOOL_FUZZ_SEEDS=DIR makes the seed corpus instead: signatures by those
 * keys (RFC 6979, so the same bytes every time) in every hash algo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fuzz.h"
#include "ima/imasig.h"
#include "base/util.h"

static const char content[] = "imgtool fuzz";

static const struct fixed_key {
        const char *curve, *x_hex;
} keys[] = {
        { "prime256v1", "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721" },
        { "secp384r1", "6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D896D5724E4C70A825F872C9EA60D2EDF5" },
        { "secp256k1", "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF" },
};

static struct ima_trust *trust;
static EVP_PKEY *pkeys[3];
static char key_paths[3][64];
static int fds[6];

static EVP_PKEY *make_pkey(const struct fixed_key *k)
{
        BIGNUM *x = NULL;
        EC_GROUP *g = EC_GROUP_new_by_curve_name(OBJ_txt2nid(k->curve));
        EC_POINT *pub = EC_POINT_new(g);
        unsigned char pubbuf[133];
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        EVP_PKEY *pkey = NULL;

        BN_hex2bn(&x, k->x_hex);
        EC_POINT_mul(g, pub, x, NULL, NULL, NULL);
        size_t plen = EC_POINT_point2oct(g, pub, POINT_CONVERSION_UNCOMPRESSED, pubbuf,
                                         sizeof(pubbuf), NULL);
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, k->curve, 0);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, x);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pubbuf, plen);
        OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
        if (EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0)
                abort();
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        EVP_PKEY_CTX_free(ctx);
        EC_POINT_free(pub);
        EC_GROUP_free(g);
        BN_free(x);
        return pkey;
}

/* A self-signed cert with subjectKeyIdentifier = sha1(key), as DER in a memfd. */
static int cert_file(EVP_PKEY *pkey, char *path)
{
        X509 *x = X509_new();
        unsigned char md[20], *der = NULL;
        unsigned int mdlen = sizeof(md);
        ASN1_OCTET_STRING *skid = ASN1_OCTET_STRING_new();
        int n, fd;

        X509_set_version(x, X509_VERSION_3);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                   (const unsigned char *)"fuzz", -1, -1, 0);
        X509_set_issuer_name(x, X509_get_subject_name(x));
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, pkey);
        X509_pubkey_digest(x, EVP_sha1(), md, &mdlen);
        ASN1_OCTET_STRING_set(skid, md, (int)mdlen);
        X509_add1_ext_i2d(x, NID_subject_key_identifier, skid, 0, 0);
        ASN1_OCTET_STRING_free(skid);
        if (X509_sign(x, pkey, EVP_sha256()) <= 0 || (n = i2d_X509(x, &der)) <= 0)
                abort();
        fd = fuzz_memfd(der, (size_t)n, path);
        OPENSSL_free(der);
        X509_free(x);
        return fd;
}

static int key_file(EVP_PKEY *pkey, char *path)
{
        BIO *b = BIO_new(BIO_s_mem());
        char *pem;
        long n;
        int fd;

        PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL);
        n = BIO_get_mem_data(b, &pem);
        fd = fuzz_memfd((const uint8_t *)pem, (size_t)n, path);
        BIO_free(b);
        return fd;
}

static size_t digest_of(int algo, uint8_t *out)
{
        struct ima_hasher *h;
        size_t n = ima_hash_size(algo);

        if (!n || ima_hasher_new(algo, &h) < 0)
                return 0;
        ima_hasher_update(h, content, strlen(content));
        ima_hasher_final(h, out);
        ima_hasher_free(h);
        return n;
}

static void write_seed(const char *dir, const char *name, const uint8_t *v, size_t n)
{
        char p[4200];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", dir, name);
        f = fopen(p, "wb");
        if (!f || fwrite(v, 1, n, f) != n)
                abort();
        fclose(f);
}

static void make_seeds(const char *dir, char cert_paths[3][64])
{
        static const int algos[] = { IMA_HASH_SHA1, IMA_HASH_SHA256, IMA_HASH_SHA384, IMA_HASH_SHA512 };

        for (int k = 0; k < 2; k++) {
                struct ima_key *key;
                if (ima_key_load(key_paths[k], cert_paths[k], &key) < 0)
                        abort();
                for (size_t a = 0; a < ARRAY_SIZE(algos); a++) {
                        uint8_t d[64], *v;
                        size_t n, dl = digest_of(algos[a], d);
                        char name[64];
                        if (ima_key_sign_digest(key, algos[a], d, dl, &v, &n) < 0)
                                abort();
                        snprintf(name, sizeof(name), "%s-%s", keys[k].curve, ima_hash_name(algos[a]));
                        write_seed(dir, name, v, n);
                        free(v);
                }
                ima_key_free(key);
        }
        /* secp256k1: signed by OpenSSL (imgtool refuses to), keyid from the cert */
        uint8_t d[32], sig[100], v[120];
        size_t slen = sizeof(sig);
        uint32_t keyid;
        FILE *f = fopen(cert_paths[2], "rb");
        uint8_t der[2048];
        size_t dlen = fread(der, 1, sizeof(der), f);
        fclose(f);
        if (ima_cert_keyid(der, dlen, &keyid) < 0)
                abort();
        digest_of(IMA_HASH_SHA256, d);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkeys[2], NULL);
        if (EVP_PKEY_sign_init(ctx) <= 0 || EVP_PKEY_sign(ctx, sig, &slen, d, 32) <= 0)
                abort();
        EVP_PKEY_CTX_free(ctx);
        v[0] = 0x03, v[1] = 0x02, v[2] = IMA_HASH_SHA256;
        v[3] = (uint8_t)(keyid >> 24), v[4] = (uint8_t)(keyid >> 16), v[5] = (uint8_t)(keyid >> 8), v[6] = (uint8_t)keyid;
        v[7] = (uint8_t)(slen >> 8), v[8] = (uint8_t)slen;
        memcpy(v + 9, sig, slen);
        write_seed(dir, "secp256k1-sha256", v, 9 + slen);
        /* hash-only values */
        v[0] = 0x04, v[1] = IMA_HASH_SHA256;
        memcpy(v + 2, d, 32);
        write_seed(dir, "hash-only-sha256", v, 34);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        char cert_paths[3][64];

        if (ima_trust_new(&trust) < 0)
                abort();
        for (int k = 0; k < 3; k++) {
                pkeys[k] = make_pkey(&keys[k]);
                fds[2 * k] = cert_file(pkeys[k], cert_paths[k]);
                fds[2 * k + 1] = key_file(pkeys[k], key_paths[k]);
                if (ima_trust_add_file(trust, cert_paths[k]) != 1)
                        abort();
        }
        const char *seeds = getenv("IMGTOOL_FUZZ_SEEDS");
        if (seeds) {
                make_seeds(seeds, cert_paths);
                exit(0);
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imasig s;
        uint8_t d[64];
        size_t dl;

        if (imasig_parse(data, size, &s) >= 0 || size > 0)
                imasig_type_name(size ? data[0] : 0);
        dl = size > 2 ? digest_of(data[0] == 0x03 ? data[2] : IMA_HASH_SHA256, d) : 0;
        if (!dl)
                dl = digest_of(IMA_HASH_SHA256, d);
        imasig_status_name(ima_trust_verify_digest(trust, data, size, d, dl, &s));
        ima_trust_verify_digests(trust, 1, &data, &size, (const uint8_t *const[]){ d }, &dl,
                                 (enum imasig_status[1]){ 0 }, NULL);
        imgerr_clear();
        return 0;
}
