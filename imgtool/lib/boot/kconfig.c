#include "boot/kconfig.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "ima/certs.h"
#include "base/util.h"


/* The crypto the kernel needs to verify signatures made with this key. */
static const char *crypto_option(X509 *x, const char **why)
{
        EVP_PKEY *k = X509_get0_pubkey(x);
        int id = k ? EVP_PKEY_get_base_id(k) : 0;

        if (id == EVP_PKEY_EC) {
                *why = "ECDSA keys (the kernel's x509 parser supports NIST P-256 and P-384)";
                return "CONFIG_CRYPTO_ECDSA=y";
        }
        if (id == EVP_PKEY_RSA) {
                *why = "RSA keys";
                return "CONFIG_CRYPTO_RSA=y";
        }
        *why = NULL;
        return NULL;
}

int kconfig_fragment(const char *ca_path, const char *ima_cert_path, char **text)
{
        X509 *ca = NULL, *ima = NULL;
        const char *ca_crypto, *ima_crypto = NULL, *ca_why, *ima_why = NULL;
        char subject[256] = "";
        int r;

        r = cert_read_one(ca_path, &ca);
        if (r < 0)
                return r;
        if (ima_cert_path) {
                r = cert_read_one(ima_cert_path, &ima);
                if (r < 0)
                        goto out;
                if (X509_verify(ima, X509_get0_pubkey(ca)) != 1) {
                        r = imgerr(-EINVAL, "%s: not signed by the CA %s: the kernel would refuse it for the .ima keyring",
                                   ima_cert_path, ca_path);
                        goto out;
                }
                ima_crypto = crypto_option(ima, &ima_why);
        }
        ca_crypto = crypto_option(ca, &ca_why);
        if (!ca_crypto || (ima && !ima_crypto)) {
                r = imgerr(-EOPNOTSUPP, "%s: key type not supported by the kernel's IMA (want EC or RSA)",
                           !ca_crypto ? ca_path : ima_cert_path);
                goto out;
        }
        X509_NAME_oneline(X509_get_subject_name(ca), subject, sizeof(subject));
        bool is_ca = X509_check_ca(ca) > 0;
        bool second = ima_crypto && strcmp(ima_crypto, ca_crypto);
        r = asprintf(text,
"# Kernel config fragment written by imgtool kconfig for the CA\n"
"#   %s (%s)\n"
"# Merge it into the kernel's .config (scripts/kconfig/merge_config.sh).\n"
"%s"
"\n"
"# The CA goes into the kernel's built-in trusted keyring: copy the CA's PEM\n"
"# into the kernel source tree as certs/imgtool-ca.pem (the path is relative\n"
"# to the source tree).\n"
"CONFIG_SYSTEM_TRUSTED_KEYRING=y\n"
"CONFIG_SYSTEM_TRUSTED_KEYS=\"certs/imgtool-ca.pem\"\n"
"\n"
"# Keys and certificates: the kernel parses X.509 certs into asymmetric keys.\n"
"CONFIG_KEYS=y\n"
"CONFIG_ASYMMETRIC_KEY_TYPE=y\n"
"CONFIG_ASYMMETRIC_PUBLIC_KEY_SUBTYPE=y\n"
"CONFIG_X509_CERTIFICATE_PARSER=y\n"
"# to verify the CA's signature on the IMA cert: %s\n"
"%s\n"
"%s%s%s%s%s"
"CONFIG_CRYPTO_SHA256=y\n"
"\n"
"# Signature-based integrity with asymmetric keys.\n"
"CONFIG_INTEGRITY=y\n"
"CONFIG_INTEGRITY_SIGNATURE=y\n"
"CONFIG_INTEGRITY_ASYMMETRIC_KEYS=y\n"
"# Only keys signed by a built-in (or secondary) trusted key may enter the\n"
"# .ima keyring, so root cannot add its own key later.\n"
"CONFIG_INTEGRITY_TRUSTED_KEYRING=y\n"
"\n"
"# IMA itself: measurement and appraisal (enforcing signatures).\n"
"CONFIG_SECURITYFS=y\n"
"CONFIG_IMA=y\n"
"CONFIG_IMA_APPRAISE=y\n"
"# ima_appraise= on the command line must not be able to switch enforcement off.\n"
"# CONFIG_IMA_APPRAISE_BOOTPARAM is not set\n"
"# The measurement log records signatures (template ima-sig) and sha256 digests.\n"
"CONFIG_IMA_SIG_TEMPLATE=y\n"
"CONFIG_IMA_DEFAULT_HASH_SHA256=y\n"
"# One policy write per boot: nobody can weaken the policy the initramfs loaded.\n"
"# CONFIG_IMA_WRITE_POLICY is not set\n"
"\n"
"# The kernel loads the IMA cert into its .ima keyring itself, before init\n"
"# runs (with CONFIG_INTEGRITY_TRUSTED_KEYRING IMA uses .ima, not the _ima\n"
"# keyring imgtool's init creates).  The IMA signing cert (DER, signed by\n"
"# this CA) must be at this path in the initramfs: `imgtool initramfs` puts\n"
"# its first --cert there (compose: the layout's first Certificate=).\n"
"CONFIG_IMA_LOAD_X509=y\n"
"CONFIG_IMA_X509_PATH=\"/etc/keys/x509_ima.der\"\n"
"# CONFIG_IMA_APPRAISE_SIGNED_INIT would require the initramfs's /init itself\n"
"# to be signed; a cpio carries no security.ima, so leave it off: the image's\n"
"# /sbin/init is appraised by the policy the initramfs loads.\n"
"# CONFIG_IMA_APPRAISE_SIGNED_INIT is not set\n"
"\n"
"# The TPM whose PCR 10 IMA extends (attestation, imgtool ima-log --expect).\n"
"CONFIG_TCG_TPM=y\n",
                     subject, ca_path,
                     is_ca ? "" : "# WARNING: this certificate is not marked as a CA (basicConstraints CA:TRUE)\n",
                     ca_why, ca_crypto,
                     second ? "# to verify the IMA key's file signatures: " : "", second ? ima_why : "",
                     second ? "\n" : "", second ? ima_crypto : "", second ? "\n" : "");
        if (r < 0) {
                r = imgerr(-ENOMEM, "out of memory");
                goto out;
        }
        r = 0;
out:
        X509_free(ca);
        X509_free(ima);
        return r;
}
