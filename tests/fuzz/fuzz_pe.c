/* The PE parser (boot/pe.c): any bytes as an EFI binary (a Stub=, or a
 * disk's UKI read back by pcrs/reference/keylime-policy): parse, every
 * section, the certificate table, the Authenticode digest, and adding a
 * section as uki.c does.  The input sits in an allocation of its exact
 * size, so a read past its end is an ASan report. */
#include <stdlib.h>
#include <string.h>

#include "boot/pe.h"
#include "base/util.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint8_t *copy = malloc(size ? size : 1), digest[32];
        struct pe_image pe;
        struct pe_section s;
        const uint8_t *p7;
        size_t off, len;

        if (!copy)
                return 0;
        memcpy(copy, data, size);
        if (pe_parse(&pe, copy, size, "fuzz") < 0) {
                free(copy);
                imgerr_clear();
                return 0;
        }
        for (unsigned i = 0; i < pe.n_sections; i++)
                pe_section_get(&pe, i, &s);
        pe_find_section(&pe, ".osrel", &s);
        pe_cert_table(&pe, &off, &len);
        pe_signature(&pe, &p7, &len);
        pe_authenticode_sha256(&pe, digest);
        if (size < (4u << 20))  /* bounded work: the section is copied */
                pe_add_section(&pe, ".fuzz", "section", 7, 4096);
        free(pe.data);
        imgerr_clear();
        return 0;
}
