/* Where a private key is: a file (PEM or DER, unencrypted) or a key that
 * never leaves a PKCS#11 token, named by an RFC 7512 URI such as
 *   pkcs11:token=t;object=ima;type=private?pin-source=file:/run/pin&module-path=/usr/lib/softhsm/libsofthsm2.so
 *
 * A token key is reached through OpenSSL's ENGINE API and libp11's "pkcs11"
 * engine (Debian: libengine-pkcs11-openssl): the EVP_PKEY holds only the
 * public half and a handle, every private operation runs on the token.
 * The PIN comes from pin-source=file:PATH, else from IMGTOOL_PKCS11_PIN; a
 * pin-value= in the URI is refused (a PIN belongs in neither a layout nor a
 * command line).  Messages name the URI without its query part. */
#pragma once
#include <stdbool.h>

struct evp_pkey_st;
struct engine_st;

/* true if REF names a token key ("pkcs11:..."). */
bool keyref_is_token(const char *ref);

/* What messages call REF: a URI without its query (module, PIN file), a
 * path as it is.  Malloc'ed; NULL only without memory. */
char *keyref_name(const char *ref);

/* Load the private key REF names.  For a token key *engine receives the
 * engine that must outlive the key (keyref_release it after
 * EVP_PKEY_free); for a file it is NULL.  Errors: one message naming REF
 * (a token key's URI without its query) and what is missing: the module,
 * the token, the object, or a PIN the token refused. */
int keyref_load(const char *ref, struct evp_pkey_st **out, struct engine_st **engine);
void keyref_release(struct engine_st *engine);
