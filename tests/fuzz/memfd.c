/* fuzz_memfd: see fuzz.h. */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

int fuzz_memfd(const uint8_t *data, size_t size, char *path)
{
        int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
        size_t done = 0;

        if (fd < 0)
                return -1;
        while (done < size) {
                ssize_t n = write(fd, data + done, size - done);
                if (n <= 0) {
                        close(fd);
                        return -1;
                }
                done += (size_t)n;
        }
        snprintf(path, 64, "/proc/self/fd/%d", fd);
        return fd;
}
