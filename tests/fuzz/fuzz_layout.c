/* The layout parser (layout_load): any bytes as a layout file. */
#include <unistd.h>

#include "fuzz.h"
#include "layout/layout.h"
#include "base/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char path[64];
        struct layout *l = NULL;
        int fd = fuzz_memfd(data, size, path);

        if (fd < 0)
                return 0;
        if (layout_load(path, NULL, &l) >= 0)
                layout_free(l);
        imgerr_clear();
        close(fd);
        return 0;
}
