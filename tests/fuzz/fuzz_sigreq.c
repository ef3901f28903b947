/* Signing requests and responses (ima/sigreq.c): any bytes read as a
 * request (sign-request reads what a build host wrote) and as a response
 * (apply-signatures reads what the signing machine wrote), and a response
 * that parses is checked against its certificates (DER from the file). */
#include <unistd.h>

#include "base/util.h"
#include "fuzz.h"
#include "ima/sigreq.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char path[64];
        struct sigreq *q = NULL;
        int fd = fuzz_memfd(data, size, path);

        if (fd < 0)
                return 0;
        if (sigreq_read(path, false, &q) >= 0) {
                for (size_t i = 0; i < q->n; i++)
                        sigreq_find(q, q->e[i].id);
                sigreq_free(q);
        }
        imgerr_clear();
        if (sigreq_read(path, true, &q) >= 0) {
                sigreq_verify(q, path);
                sigreq_free(q);
        }
        imgerr_clear();
        close(fd);
        return 0;
}
