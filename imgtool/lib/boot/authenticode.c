#include "boot/authenticode.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <string.h>

#include "base/util.h"
#include "ima/keyref.h"
#include "ima/sigreq.h"

#define OID_SPC_INDIRECT_DATA "1.3.6.1.4.1.311.2.1.4"
#define OID_SPC_SP_OPUS_INFO "1.3.6.1.4.1.311.2.1.12"

/* SpcIndirectDataContent with a SHA-256 digest; only the last 32 bytes vary.
 *   SEQUENCE {
 *     SpcAttributeTypeAndOptionalValue { SPC_PE_IMAGE_DATAOBJ,
 *       SpcPeImageData { flags '', file [0] { [2] { [0] "<<<Obsolete>>>" } } } }
 *     DigestInfo { sha256, OCTET STRING digest } }
 * The same bytes sbsign and osslsigncode write. */
static const uint8_t idc_prefix[] = {
        0x30, 0x68,
        0x30, 0x33, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x0f,
        0x30, 0x25, 0x03, 0x01, 0x00, 0xa0, 0x20, 0xa2, 0x1e, 0x80, 0x1c,
        0x00, '<', 0x00, '<', 0x00, '<', 0x00, 'O', 0x00, 'b', 0x00, 's', 0x00, 'o',
        0x00, 'l', 0x00, 'e', 0x00, 't', 0x00, 'e', 0x00, '>', 0x00, '>', 0x00, '>',
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
};
#define IDC_LEN (sizeof(idc_prefix) + 32)

static int ossl_err(int code, const char *what)
{
        unsigned long e = ERR_get_error();
        char buf[256] = "";
        if (e)
                ERR_error_string_n(e, buf, sizeof(buf));
        ERR_clear_error();
        return imgerr(code, "%s%s%s", what, *buf ? ": " : "", buf);
}

int x509_load(const char *path, X509 **out)
{
        _cleanup_free_ uint8_t *data = NULL;
        const uint8_t *p;
        size_t len;
        X509 *x = NULL;
        BIO *b;
        int r = read_file(path, &data, &len);

        if (r < 0)
                return r;
        b = BIO_new_mem_buf(data, (int)len);
        if (b)
                x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
        if (!x) {
                p = data;
                x = d2i_X509(NULL, &p, (long)len);
        }
        ERR_clear_error();
        if (!x)
                return imgerr(-EINVAL, "%s: not an X.509 certificate (PEM or DER)", path);
        *out = x;
        return 0;
}

int sb_signer_load(const char *ref, const char *cert_path, struct sb_signer *s)
{
        _cleanup_free_ char *key_path = keyref_name(ref); /* a URI without its query */
        int r, bits;

        memset(s, 0, sizeof(*s));
        if (!key_path)
                return -ENOMEM;
        r = keyref_load(ref, &s->key, &s->engine);
        if (r < 0)
                return r;
        bits = EVP_PKEY_get_bits(s->key);
        if (EVP_PKEY_get_base_id(s->key) != EVP_PKEY_RSA || bits < 2048 || bits > 4096) {
                sb_signer_free(s);
                return imgerr(-EINVAL, "%s: Secure Boot needs an RSA key of 2048 to 4096 bits (UEFI firmware verifies only RSA)", key_path);
        }
        r = x509_load(cert_path, &s->cert);
        if (r < 0) {
                sb_signer_free(s);
                return r;
        }
        if (X509_check_private_key(s->cert, s->key) != 1) {
                ERR_clear_error();
                sb_signer_free(s);
                return imgerr(-EINVAL, "%s: the certificate does not belong to the key %s", cert_path, key_path);
        }
        return 0;
}

static int check_rsa(EVP_PKEY *key, const char *what)
{
        int bits = EVP_PKEY_get_bits(key);

        if (!EVP_PKEY_is_a(key, "RSA") || bits < 2048 || bits > 4096)
                return imgerr(-EINVAL, "%s: Secure Boot needs an RSA key of 2048 to 4096 bits (UEFI firmware verifies only RSA)", what);
        return 0;
}

int sb_signer_defer(const char *cert_path, struct sigreq *req, struct sb_signer *s)
{
        int r;

        memset(s, 0, sizeof(*s));
        r = x509_load(cert_path, &s->cert);
        if (r >= 0 && !(s->key = X509_get_pubkey(s->cert)))
                r = imgerr(-EINVAL, "%s: no usable public key", cert_path);
        if (r >= 0)
                r = check_rsa(s->key, cert_path);
        if (r >= 0)
                r = sigreq_set_sb_cert_file(req, cert_path);
        ERR_clear_error();
        if (r < 0) {
                sb_signer_free(s);
                return r;
        }
        s->defer = req;
        return 0;
}

/* Two-phase signing: the signature PKCS7_SIGNER_INFO_sign would make is
 * RSA PKCS#1 v1.5 over the SHA-256 of the signed attributes' DER; that
 * digest goes into the request and a placeholder of the signature's
 * (fixed) length into the PKCS#7, so the UKI has its final size and
 * layout, and apply-signatures overwrites the placeholder. */
static int defer_signature(PKCS7_SIGNER_INFO *si, const struct sb_signer *s)
{
        unsigned char *attrs = NULL;
        uint8_t md[32];
        size_t len = (size_t)EVP_PKEY_get_size(s->key);
        _cleanup_free_ uint8_t *sig = malloc(len ? len : 1);
        int alen = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &attrs, ASN1_ITEM_rptr(PKCS7_ATTR_SIGN));
        int r = 0;

        if (!sig || alen <= 0 || !EVP_Digest(attrs, (size_t)alen, md, NULL, EVP_sha256(), NULL))
                r = -EIO;
        OPENSSL_free(attrs);
        if (r >= 0)
                r = sigreq_defer_authenticode(s->defer, md, sig, len);
        if (r >= 0 && !ASN1_STRING_set(si->enc_digest, sig, (int)len))
                r = -ENOMEM;
        return r;
}

void sb_signer_free(struct sb_signer *s)
{
        EVP_PKEY_free(s->key);
        keyref_release(s->engine);
        X509_free(s->cert);
        memset(s, 0, sizeof(*s));
}

/* As an ASN1_TYPE, a V_ASN1_SEQUENCE string holds the whole encoding. */
static int opus_nid(void)
{
        int nid = OBJ_txt2nid(OID_SPC_SP_OPUS_INFO);
        return nid != NID_undef ? nid : OBJ_create(OID_SPC_SP_OPUS_INFO, "spcSpOpusInfo", "SPC_SP_OPUS_INFO");
}

static int build_pkcs7(const uint8_t idc[IDC_LEN], const struct sb_signer *s, uint8_t **der, int *der_len)
{
        uint8_t md[32];
        PKCS7 *p7 = PKCS7_new(), *inner = PKCS7_new();
        PKCS7_SIGNER_INFO *si;
        ASN1_STRING *seq = NULL, *opus = NULL;
        ASN1_OCTET_STRING *digest = NULL;
        ASN1_OBJECT *idc_oid = OBJ_txt2obj(OID_SPC_INDIRECT_DATA, 1);
        static const uint8_t empty_seq[] = { 0x30, 0x00 };
        int r = -EIO;

        *der = NULL;
        if (!p7 || !inner || !idc_oid)
                goto out;
        if (!PKCS7_set_type(p7, NID_pkcs7_signed) || !PKCS7_add_certificate(p7, s->cert))
                goto out;
        si = PKCS7_add_signature(p7, s->cert, s->key, EVP_sha256());
        if (!si)
                goto out;
        /* The content: SpcIndirectDataContent, as an opaque SEQUENCE. */
        seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
        if (!seq || !ASN1_STRING_set(seq, idc, IDC_LEN))
                goto out;
        inner->type = OBJ_dup(idc_oid);
        inner->d.other = ASN1_TYPE_new();
        if (!inner->type || !inner->d.other)
                goto out;
        ASN1_TYPE_set(inner->d.other, V_ASN1_SEQUENCE, seq);
        seq = NULL;
        if (!PKCS7_set_content(p7, inner))
                goto out;
        inner = NULL;
        /* Authenticode's messageDigest covers the content without its
         * SEQUENCE tag and length. */
        if (!EVP_Digest(idc + 2, IDC_LEN - 2, md, NULL, EVP_sha256(), NULL))
                goto out;
        digest = ASN1_OCTET_STRING_new();
        opus = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
        if (!digest || !opus || !ASN1_OCTET_STRING_set(digest, md, 32) || !ASN1_STRING_set(opus, empty_seq, sizeof(empty_seq)))
                goto out;
        if (!PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT, OBJ_dup(idc_oid)))
                goto out;
        if (!PKCS7_add_signed_attribute(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, digest))
                goto out;
        digest = NULL;
        if (!PKCS7_add_signed_attribute(si, opus_nid(), V_ASN1_SEQUENCE, opus))
                goto out;
        opus = NULL;
        /* Signs the DER of the signed attributes; unlike PKCS7_dataFinal it
         * adds no signing time. */
        if (s->defer) {
                r = defer_signature(si, s);
                if (r < 0)
                        goto out;
                r = -EIO;
        } else if (PKCS7_SIGNER_INFO_sign(si) <= 0) {
                goto out;
        }
        *der_len = i2d_PKCS7(p7, der);
        r = *der_len > 0 ? 0 : -EIO;
out:
        if (r < 0)
                r = ossl_err(r, "Authenticode signing failed");
        ASN1_OBJECT_free(idc_oid);
        ASN1_STRING_free(seq);
        ASN1_STRING_free(opus);
        ASN1_OCTET_STRING_free(digest);
        PKCS7_free(inner);
        PKCS7_free(p7);
        return r;
}

/* The deferred signature's placeholder says where it sits in the UKI (its
 * distance from the file's start) and the file's length: apply-signatures
 * finds it in the ESP's bytes and corrects the PE checksum
 * (pe_checksum_update) without knowing the FAT.  The checksum here covers
 * the placeholder as it now is. */
static int locate_placeholder(struct pe_image *pe)
{
        size_t mlen, off, len;
        const uint8_t *magic = sigreq_placeholder_magic(&mlen);

        pe_cert_table(pe, &off, &len);
        for (size_t i = off; i + SIGREQ_RAW_LOCATION + 16 <= off + len; i++)
                if (!memcmp(pe->data + i, magic, mlen)) {
                        for (int b = 0; b < 8; b++) {
                                pe->data[i + SIGREQ_RAW_LOCATION + b] = (uint8_t)((uint64_t)i >> (8 * b));
                                pe->data[i + SIGREQ_RAW_LOCATION + 8 + b] = (uint8_t)((uint64_t)pe->len >> (8 * b));
                        }
                        pe_update_checksum(pe);
                        return 0;
                }
        return imgerr(-EIO, "Authenticode: the deferred signature's placeholder is missing");
}

int authenticode_sign(struct pe_image *pe, const struct sb_signer *s)
{
        uint8_t idc[IDC_LEN], *der = NULL;
        int der_len = 0, r;

        memcpy(idc, idc_prefix, sizeof(idc_prefix));
        r = pe_authenticode_sha256(pe, idc + sizeof(idc_prefix));
        if (r < 0)
                return r;
        r = build_pkcs7(idc, s, &der, &der_len);
        if (r < 0)
                return r;
        r = pe_attach_signature(pe, der, (size_t)der_len);
        OPENSSL_free(der);
        if (r >= 0 && s->defer)
                r = locate_placeholder(pe);
        return r;
}

int authenticode_signer_cert(const struct pe_image *pe, X509 **cert)
{
        const uint8_t *p7der;
        size_t len;
        PKCS7 *p7;
        PKCS7_SIGNER_INFO *si;
        X509 *x;

        if (pe_signature(pe, &p7der, &len) < 0)
                return -ENOENT;
        p7 = d2i_PKCS7(NULL, &p7der, (long)len);
        if (!p7 || !PKCS7_type_is_signed(p7) || sk_PKCS7_SIGNER_INFO_num(PKCS7_get_signer_info(p7)) < 1) {
                PKCS7_free(p7);
                ERR_clear_error();
                return imgerr(-EBADMSG, "the image's Authenticode signature is not a PKCS#7 SignedData");
        }
        si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
        x = X509_find_by_issuer_and_serial(p7->d.sign->cert, si->issuer_and_serial->issuer,
                                           si->issuer_and_serial->serial);
        if (x)
                X509_up_ref(x);
        PKCS7_free(p7);
        if (!x)
                return imgerr(-EBADMSG, "the image's Authenticode signature carries no signer certificate");
        *cert = x;
        return 0;
}
