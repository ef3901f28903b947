/* The ext4 reader behind verify, ls, manifest and extract (ext4walk): open,
 * walk everything, stat, read each regular file's content and its runs,
 * parse each security.ima. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ext4/ext4walk.h"
#include "fuzz.h"
#include "ima/imasig.h"
#include "base/util.h"

#define MAX_CONTENT (16u << 20) /* per input: a crafted size is not worth hashing */

struct budget {
        size_t left;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        return 0;
}

static int sink(const void *buf, size_t len, void *userdata)
{
        struct budget *b = userdata;
        if (len >= b->left)
                return 1;   /* stop: enough work for one input */
        b->left -= len;
        return 0;
}

static int visit(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        struct budget *b = userdata;
        struct imasig s;

        if (e->ima)
                imasig_parse(e->ima, e->ima_len, &s);
        if (S_ISREG(e->mode) && b->left > 0) {
                struct ext4walk_run *runs = NULL;
                size_t n = 0;
                if (ext4walk_runs(w, e, &runs, &n) >= 0 && ext4walk_mapped(w))
                        ext4walk_read_runs(w, runs, n, sink, b);
                free(runs);
                if (b->left > 0)
                        ext4walk_read(w, e, sink, b);
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char path[64];
        struct ext4walk *w;
        struct budget b = { MAX_CONTENT };
        struct ext4walk_entry e;
        int fd = fuzz_memfd(data, size, path);

        if (fd < 0)
                return 0;
        if (ext4walk_open(path, &w) >= 0) {
                ext4walk_walk(w, "/", EXT4WALK_RECURSIVE, visit, &b);
                ext4walk_stat(w, "/usr/bin/x", &e);
                ext4walk_close(w);
        }
        imgerr_clear();
        close(fd);
        return 0;
}
