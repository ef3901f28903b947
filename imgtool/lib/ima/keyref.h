/* Where a private key is: a file (PEM or DER, unencrypted), a key that
 * never leaves a TPM, or a key that never leaves a PKCS#11 token, named by
 * an RFC 7512 URI such as
 *   pkcs11:token=t;object=ima;type=private?pin-source=file:/run/pin&module-path=/usr/lib/softhsm/libsofthsm2.so
 *
 * A token key is reached through OpenSSL's ENGINE API and libp11's "pkcs11"
 * engine (Debian: libengine-pkcs11-openssl): the EVP_PKEY holds only the
 * public half and a handle, every private operation runs on the token.
 * The PIN comes from pin-source=file:PATH, else from IMGTOOL_PKCS11_PIN; a
 * pin-value= in the URI is refused (a PIN belongs in neither a layout nor a
 * command line).  Messages name the URI without its query part.
 *
 * A TPM key is a persistent handle, "handle:0x81000001", or a TSS2 key file
 * ("-----BEGIN TSS2 PRIVATE KEY-----": the key wrapped by the TPM's
 * storage key, useless without that TPM).  It is reached through OpenSSL's
 * tpm2 provider (Debian: tpm2-openssl), loaded into a library context of
 * its own so that nothing else imgtool computes goes to the TPM; the TPM is
 * the one tpm2-openssl finds (TPM2OPENSSL_TCTI, e.g. "swtpm:port=2321" or
 * "device:/dev/tpmrm0").  Keys with an authorization value are not taken. */
#pragma once
#include <stdbool.h>

struct evp_pkey_st;
/* What a key held elsewhere needs kept open while it is used: the pkcs11
 * engine, or the TPM provider's library context. */
struct keyref_hold;

/* true if REF names a token key ("pkcs11:..."). */
bool keyref_is_token(const char *ref);
/* true if REF names a TPM key by handle ("handle:0x81..."); a TSS2 key
 * file is known by its contents, when loaded. */
bool keyref_is_tpm_handle(const char *ref);

/* What messages call REF: a URI without its query (module, PIN file), a
 * path as it is.  Malloc'ed; NULL only without memory. */
char *keyref_name(const char *ref);

/* Load the private key REF names.  For a key held by a token or a TPM
 * *hold receives what must outlive the key (keyref_release it after
 * EVP_PKEY_free): the private key is not in this process, only a handle;
 * for a key file *hold is NULL.  Errors: one message naming REF (a token
 * key's URI without its query) and what is missing: the module, the token,
 * the object, a PIN the token refused, the TPM or its provider. */
int keyref_load(const char *ref, struct evp_pkey_st **out, struct keyref_hold **hold);
void keyref_release(struct keyref_hold *hold);
/* The library context a TPM key's operations must be fetched in (its
 * provider's); NULL (the default) for every other key. */
struct ossl_lib_ctx_st *keyref_libctx(const struct keyref_hold *hold);
