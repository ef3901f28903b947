/* TPM 2.0 attestation structures and MakeCredential (see tpmquote.h). */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <string.h>

#include "attest/tpmquote.h"
#include "base/bytes.h"
#include "base/util.h"

#define TPM_ALG_SHA256 0x000B
#define TPM_ALG_NULL 0x0010
#define TPM_ALG_ECDSA 0x0018
#define TPM_ALG_ECC 0x0023
#define TPM_ECC_NIST_P256 0x0003
#define TPM_GENERATED_VALUE 0xff544347u
#define TPM_ST_ATTEST_QUOTE 0x8018

#define ATTR_FIXED_TPM (1u << 1)
#define ATTR_FIXED_PARENT (1u << 4)
#define ATTR_SENSITIVE_DATA_ORIGIN (1u << 5)
#define ATTR_RESTRICTED (1u << 16)
#define ATTR_DECRYPT (1u << 17)
#define ATTR_SIGN (1u << 18)

void tpm_ak_clear(struct tpm_ak *ak)
{
        EVP_PKEY_free(ak->key);
        memset(ak, 0, sizeof(*ak));
}

static EVP_PKEY *p256_key(const uint8_t *x, size_t xl, const uint8_t *y, size_t yl)
{
        uint8_t point[65] = { 0x04 };
        OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        EVP_PKEY *key = NULL;

        if (xl > 32 || yl > 32)
                goto out;
        memcpy(point + 1 + 32 - xl, x, xl);
        memcpy(point + 33 + 32 - yl, y, yl);
        if (!b || !ctx || !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
            !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) ||
            !(params = OSSL_PARAM_BLD_to_param(b)) || EVP_PKEY_fromdata_init(ctx) <= 0 ||
            EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
                key = NULL;
out:
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(b);
        EVP_PKEY_CTX_free(ctx);
        return key;
}

int tpm_ak_parse(const uint8_t *tpm2b, size_t len, struct tpm_ak *out)
{
        struct be_reader r = { tpm2b, len, false };
        size_t n, pub_len, xl, yl;
        const uint8_t *pub, *x, *y;
        uint32_t attrs;
        unsigned dl = 32;

        pub = be_read2b(&r, &pub_len);
        if (r.bad || r.left)
                return imgerr(-EBADMSG, "not a TPM2B_PUBLIC");
        r = (struct be_reader){ pub, pub_len, false };
        if (be_read(&r, 2) != TPM_ALG_ECC || be_read(&r, 2) != TPM_ALG_SHA256)
                return imgerr(-EBADMSG, "the AK is not an ECC key with a sha256 name");
        attrs = (uint32_t)be_read(&r, 4);
        if ((attrs & (ATTR_FIXED_TPM | ATTR_FIXED_PARENT | ATTR_SENSITIVE_DATA_ORIGIN | ATTR_RESTRICTED |
                      ATTR_SIGN)) != (ATTR_FIXED_TPM | ATTR_FIXED_PARENT | ATTR_SENSITIVE_DATA_ORIGIN |
                                      ATTR_RESTRICTED | ATTR_SIGN) || (attrs & ATTR_DECRYPT))
                return imgerr(-EBADMSG, "the AK is not a restricted signing key bound to its TPM (attributes 0x%08x)",
                              attrs);
        be_read2b(&r, &n);                                 /* authPolicy */
        if (be_read(&r, 2) != TPM_ALG_NULL || be_read(&r, 2) != TPM_ALG_ECDSA || be_read(&r, 2) != TPM_ALG_SHA256 ||
            be_read(&r, 2) != TPM_ECC_NIST_P256 || be_read(&r, 2) != TPM_ALG_NULL)
                return imgerr(-EBADMSG, "the AK is not an ECDSA-SHA256 P-256 key");
        x = be_read2b(&r, &xl);
        y = be_read2b(&r, &yl);
        if (r.bad || r.left)
                return imgerr(-EBADMSG, "malformed AK public area");
        memset(out, 0, sizeof(*out));
        out->key = p256_key(x, xl, y, yl);
        if (!out->key)
                return imgerr(-EBADMSG, "the AK's point is not on P-256");
        out->name[0] = TPM_ALG_SHA256 >> 8;
        out->name[1] = TPM_ALG_SHA256 & 0xff;
        EVP_Digest(pub, pub_len, out->name + 2, &dl, EVP_sha256(), NULL);
        {
                uint8_t qn_in[4 + TPM_NAME_SIZE] = { 0x40, 0x00, 0x00, 0x0B };
                memcpy(qn_in + 4, out->name, TPM_NAME_SIZE);
                memcpy(out->qualified_name, out->name, 2);
                EVP_Digest(qn_in, sizeof(qn_in), out->qualified_name + 2, &dl, EVP_sha256(), NULL);
        }
        return 0;
}

/* KDFa (Part 1, 11.4.10.2) with HMAC-SHA256; label without its NUL. */
static int kdfa(const uint8_t *key, size_t key_len, const char *label, const uint8_t *u, size_t ul,
                uint8_t *out, size_t bits)
{
        size_t bytes = bits / 8, done = 0;

        for (uint32_t i = 1; done < bytes; i++) {
                uint8_t ctr[4] = { i >> 24, i >> 16, i >> 8, i }, bl[4] = { bits >> 24, bits >> 16, bits >> 8, bits };
                uint8_t block[32];
                EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
                EVP_MAC_CTX *m = mac ? EVP_MAC_CTX_new(mac) : NULL;
                OSSL_PARAM p[] = { OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0), OSSL_PARAM_construct_end() };
                size_t ol = 0;
                int ok = m && EVP_MAC_init(m, key, key_len, p) && EVP_MAC_update(m, ctr, 4) &&
                         EVP_MAC_update(m, (const uint8_t *)label, strlen(label) + 1) &&
                         (!ul || EVP_MAC_update(m, u, ul)) && EVP_MAC_update(m, bl, 4) &&
                         EVP_MAC_final(m, block, &ol, sizeof(block));
                EVP_MAC_CTX_free(m);
                EVP_MAC_free(mac);
                if (!ok)
                        return imgerr(-EIO, "KDFa failed");
                memcpy(out + done, block, bytes - done < 32 ? bytes - done : 32);
                done += bytes - done < 32 ? bytes - done : 32;
                OPENSSL_cleanse(block, sizeof(block));
        }
        return 0;
}

static int hmac_sha256(const uint8_t *key, size_t kl, const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
                       uint8_t out[32])
{
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *m = mac ? EVP_MAC_CTX_new(mac) : NULL;
        OSSL_PARAM p[] = { OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0), OSSL_PARAM_construct_end() };
        size_t ol = 0;
        int ok = m && EVP_MAC_init(m, key, kl, p) && EVP_MAC_update(m, a, al) && EVP_MAC_update(m, b, bl) &&
                 EVP_MAC_final(m, out, &ol, 32);

        EVP_MAC_CTX_free(m);
        EVP_MAC_free(mac);
        return ok ? 0 : imgerr(-EIO, "HMAC failed");
}

int tpm_make_credential(EVP_PKEY *ek, const uint8_t name[TPM_NAME_SIZE], const uint8_t *secret,
                        size_t secret_len, uint8_t **blob, size_t *blob_len, uint8_t **enc_secret,
                        size_t *enc_len)
{
        uint8_t seed[32], sym[16], hkey[32], iv[16] = { 0 }, plain[2 + 64], enc[2 + 64], hmac[32];
        EVP_PKEY_CTX *pc = NULL;
        EVP_CIPHER_CTX *cc = NULL;
        uint8_t *label = NULL, *es = NULL, *b = NULL;
        size_t es_len = 0;
        int outl = 0, r = -EIO;

        if (EVP_PKEY_get_base_id(ek) != EVP_PKEY_RSA)
                return imgerr(-EOPNOTSUPP, "the EK certificate's key is not RSA (only the RSA EK is supported)");
        if (secret_len > 64)
                return imgerr(-EINVAL, "credential too long");
        if (RAND_priv_bytes(seed, sizeof(seed)) != 1)
                return imgerr(-EIO, "no random bytes");
        /* The seed, OAEP-encrypted to the EK with label "IDENTITY\0". */
        label = OPENSSL_memdup("IDENTITY", 9);
        pc = EVP_PKEY_CTX_new(ek, NULL);
        if (!label || !pc || EVP_PKEY_encrypt_init(pc) <= 0 ||
            EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256()) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) <= 0 ||
            EVP_PKEY_CTX_set0_rsa_oaep_label(pc, label, 9) <= 0)
                goto out;
        label = NULL;     /* owned by pc now */
        if (EVP_PKEY_encrypt(pc, NULL, &es_len, seed, sizeof(seed)) <= 0 || !(es = malloc(2 + es_len)) ||
            EVP_PKEY_encrypt(pc, es + 2, &es_len, seed, sizeof(seed)) <= 0)
                goto out;
        es[0] = es_len >> 8;
        es[1] = es_len & 0xff;
        /* encIdentity = AES-128-CFB(KDFa(seed, "STORAGE", name), TPM2B_DIGEST(secret)) */
        if (kdfa(seed, sizeof(seed), "STORAGE", name, TPM_NAME_SIZE, sym, 128) < 0 ||
            kdfa(seed, sizeof(seed), "INTEGRITY", NULL, 0, hkey, 256) < 0)
                goto out;
        plain[0] = secret_len >> 8;
        plain[1] = secret_len & 0xff;
        memcpy(plain + 2, secret, secret_len);
        cc = EVP_CIPHER_CTX_new();
        if (!cc || !EVP_EncryptInit_ex(cc, EVP_aes_128_cfb128(), NULL, sym, iv) ||
            !EVP_EncryptUpdate(cc, enc, &outl, plain, (int)(2 + secret_len)) || outl != (int)(2 + secret_len))
                goto out;
        if (hmac_sha256(hkey, sizeof(hkey), enc, (size_t)outl, name, TPM_NAME_SIZE, hmac) < 0)
                goto out;
        /* TPM2B_ID_OBJECT { TPM2B_DIGEST integrityHMAC, encIdentity } */
        *blob_len = 2 + 2 + 32 + (size_t)outl;
        b = malloc(*blob_len);
        if (!b)
                goto out;
        b[0] = (*blob_len - 2) >> 8;
        b[1] = (*blob_len - 2) & 0xff;
        b[2] = 0;
        b[3] = 32;
        memcpy(b + 4, hmac, 32);
        memcpy(b + 36, enc, (size_t)outl);
        *blob = b;
        *enc_secret = es;
        *enc_len = 2 + es_len;
        b = es = NULL;
        r = 0;
out:
        if (r < 0)
                imgerr(r, "MakeCredential failed");
        OPENSSL_cleanse(seed, sizeof(seed));
        OPENSSL_cleanse(sym, sizeof(sym));
        OPENSSL_cleanse(hkey, sizeof(hkey));
        OPENSSL_cleanse(plain, sizeof(plain));
        OPENSSL_free(label);
        EVP_PKEY_CTX_free(pc);
        EVP_CIPHER_CTX_free(cc);
        free(es);
        free(b);
        return r;
}

int tpm_quote_parse(const uint8_t *attest, size_t len, struct tpm_quote *q)
{
        struct be_reader r = { attest, len, false };
        const uint8_t *p;
        size_t n;
        uint32_t count;

        memset(q, 0, sizeof(*q));
        if (be_read(&r, 4) != TPM_GENERATED_VALUE || be_read(&r, 2) != TPM_ST_ATTEST_QUOTE)
                return imgerr(-EBADMSG, "not a TPM quote (magic or type)");
        p = be_read2b(&r, &n);
        if (n > sizeof(q->signer))
                r.bad = true;
        else if (p)
                memcpy(q->signer, p, q->signer_len = n);
        p = be_read2b(&r, &n);
        if (n > sizeof(q->extra))
                r.bad = true;
        else if (p)
                memcpy(q->extra, p, q->extra_len = n);
        be_read(&r, 8);                            /* clock */
        q->reset_count = be_read(&r, 4);
        q->restart_count = be_read(&r, 4);
        be_read(&r, 1);                            /* safe */
        be_read(&r, 8);                            /* firmwareVersion */
        count = (uint32_t)be_read(&r, 4);
        for (uint32_t i = 0; i < count && !r.bad; i++) {
                uint16_t alg = (uint16_t)be_read(&r, 2);
                size_t size = (size_t)be_read(&r, 1);
                uint32_t mask = 0;
                for (size_t k = 0; k < size; k++) {
                        uint32_t byte = (uint32_t)be_read(&r, 1);
                        if (k < 4)
                                mask |= byte << (8 * k);
                        else if (byte)
                                q->other_banks = true;
                }
                if (alg == TPM_ALG_SHA256)
                        q->pcr_mask |= mask;
                else if (mask)
                        q->other_banks = true;
        }
        p = be_read2b(&r, &n);
        if (n > sizeof(q->pcr_digest))
                r.bad = true;
        else if (p)
                memcpy(q->pcr_digest, p, q->pcr_digest_len = n);
        if (r.bad || r.left)
                return imgerr(-EBADMSG, "malformed TPM quote");
        return 0;
}

int tpm_quote_verify(const struct tpm_ak *ak, const uint8_t *attest, size_t len, const uint8_t *sig,
                     size_t sig_len)
{
        struct be_reader r = { sig, sig_len, false };
        const uint8_t *rp, *sp;
        size_t rl, sl;
        ECDSA_SIG *es = NULL;
        BIGNUM *br, *bs;
        unsigned char *der = NULL;
        int der_len, ok = 0;
        EVP_MD_CTX *md = NULL;

        if (be_read(&r, 2) != TPM_ALG_ECDSA || be_read(&r, 2) != TPM_ALG_SHA256)
                return imgerr(-EBADMSG, "quote signature is not ECDSA-SHA256");
        rp = be_read2b(&r, &rl);
        sp = be_read2b(&r, &sl);
        if (r.bad || r.left)
                return imgerr(-EBADMSG, "malformed quote signature");
        br = BN_bin2bn(rp, (int)rl, NULL);
        bs = BN_bin2bn(sp, (int)sl, NULL);
        es = ECDSA_SIG_new();
        if (!br || !bs || !es || !ECDSA_SIG_set0(es, br, bs)) {
                BN_free(br);
                BN_free(bs);
                ECDSA_SIG_free(es);
                return imgerr(-ENOMEM, "out of memory");
        }
        der_len = i2d_ECDSA_SIG(es, &der);
        md = EVP_MD_CTX_new();
        ok = der_len > 0 && md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, ak->key) == 1 &&
             EVP_DigestVerify(md, der, (size_t)der_len, attest, len) == 1;
        EVP_MD_CTX_free(md);
        OPENSSL_free(der);
        ECDSA_SIG_free(es);
        return ok ? 0 : imgerr(-EBADMSG, "quote signature does not verify with the AK");
}
