/* The RPM reader (rpmpkg): header facts, the file list, and the payload
 * streamed to the end with every digest checked, as compose reads it. */
#include <unistd.h>

#include "fuzz.h"
#include "rpm/rpmpkg.h"
#include "base/util.h"

#define MAX_CONTENT (64u << 20) /* bounded work per input */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        return 0;
}

static void read_payload(struct rpmpkg *p)
{
        static uint8_t buf[1 << 16];
        struct rpmpkg_payload *pl;
        size_t idx, total = 0;
        int r;

        if (rpmpkg_payload_open(p, &pl) < 0)
                return;
        while ((r = rpmpkg_payload_next(pl, &idx)) > 0 && total < MAX_CONTENT) {
                struct rpmpkg_file f;
                const uint8_t *d;
                size_t dl;
                ssize_t n;

                if (rpmpkg_file(p, idx, &f) < 0 || !rpmpkg_payload_has_content(pl))
                        continue;
                while ((n = rpmpkg_payload_read(pl, buf, sizeof(buf))) > 0 && total < MAX_CONTENT)
                        total += (size_t)n;
                if (n == 0)
                        rpmpkg_payload_digest(pl, &d, &dl);
                if (n < 0)
                        break;
        }
        rpmpkg_payload_free(pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char path[64];
        struct rpmpkg *p;
        int fd = fuzz_memfd(data, size, path);

        if (fd < 0)
                return 0;
        if (rpmpkg_open(path, &p) >= 0) {
                rpmpkg_nevra(p);
                rpmpkg_scriptlets(p);
                for (size_t i = 0; i < rpmpkg_file_count(p); i++) {
                        struct rpmpkg_file f;
                        rpmpkg_file(p, i, &f);
                }
                read_payload(p);
                rpmpkg_free(p);
        }
        imgerr_clear();
        close(fd);
        return 0;
}
