#include "boot/ipe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ima/imasig.h"
#include "base/util.h"
#include "ima/verity.h"

int ipe_policy_text(const struct layout *l, char **text)
{
        if (asprintf(text,
                     "policy_name=" IPE_POLICY_NAME " policy_version=1.0.0\n"
                     "DEFAULT action=ALLOW\n"
                     "DEFAULT op=EXECUTE action=DENY\n"
                     "DEFAULT op=KMODULE action=DENY\n"
                     "op=EXECUTE boot_verified=TRUE action=ALLOW\n"
                     "op=EXECUTE fsverity_signature=TRUE action=ALLOW\n"
                     "op=KMODULE boot_verified=TRUE action=ALLOW\n"
                     "op=KMODULE fsverity_signature=TRUE action=ALLOW\n") < 0)
                return -ENOMEM;
        return 0;
}

int ipe_policy_sign(const struct layout *l, const char *text, uint8_t **der, size_t *len)
{
        struct ima_key *k = NULL;
        struct verity_signer *s = NULL;
        /* the kernel wants a key from UEFI db (.platform): the disk's db key when there is one */
        const char *key = l->sb_key ? l->sb_key : l->key;
        const char *cert = l->sb_key ? l->sb_certificate : l->certificates ? l->certificates[0] : NULL;
        int r;

        if (!key || !cert)
                return imgerr(-EINVAL, "%s: the IPE policy is signed with [SecureBoot] Key= (or [Signatures] Key=) and its Certificate=",
                              l->path);
        r = ima_key_load(key, cert, &k);
        if (r >= 0)
                r = verity_signer_new(k, cert, &s);
        if (r >= 0)
                r = verity_pkcs7_sign_data(s, text, strlen(text), false, der, len);
        verity_signer_free(s);
        ima_key_free(k);
        return r;
}
