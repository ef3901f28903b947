/* A Kconfig fragment for a kernel that trusts a CA in its built-in keyring
 * and loads the IMA cert (signed by that CA) into its .ima keyring itself,
 * instead of relying on the initramfs's _ima keyring. */
#pragma once

/* ca_path: the CA cert (PEM or DER).  ima_cert_path (may be NULL): the IMA
 * signing cert; if given it must be signed by the CA, and its key type
 * selects the crypto options too.  *text is malloc'ed. */
int kconfig_fragment(const char *ca_path, const char *ima_cert_path, char **text);
