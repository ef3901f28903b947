/* Lockfiles (rpm/lockfile.c): any bytes as a lockfile, read as Lock= and
 * verify --against read it, and as [Users] Previous= reads its @user,
 * @group and @privileged lines (with a sysusers line that uses them). */
#include <unistd.h>

#include "base/util.h"
#include "fuzz.h"
#include "image/users.h"
#include "layout/layout.h"
#include "rpm/lockfile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char path[64];
        struct lock_entry *e = NULL;
        struct layout *l = NULL;
        struct users *u = NULL;
        size_t n = 0;
        int fd = fuzz_memfd(data, size, path);

        if (fd < 0)
                return 0;
        lockfile_is(path);
        if (lockfile_read(path, &e, &n) >= 0)
                lock_entries_free(e, n);
        imgerr_clear();
        if (layout_from_lock(path, &l) >= 0) {
                if (users_build_text(l, "u svc -\nm svc wheel\ng grp -\n", "root:x:0:0::/root:/bin/sh\n",
                                     "root:x:0:\nwheel:x:10:\n", &u) >= 0)
                        users_free(u);
                layout_free(l);
        }
        imgerr_clear();
        close(fd);
        return 0;
}
