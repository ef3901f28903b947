/* Runs a harness once over each input file (or every file of each input
 * directory), without libFuzzer: how ctest replays the seed corpora and
 * the inputs that once crashed, in every build (gcc, ASan). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        uint8_t *buf = NULL;
        long len;

        if (!f || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
                fprintf(stderr, "%s: cannot read\n", path);
                if (f)
                        fclose(f);
                return 1;
        }
        buf = malloc(len ? (size_t)len : 1);
        if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
                fprintf(stderr, "%s: cannot read\n", path);
                fclose(f);
                free(buf);
                return 1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)len);
        free(buf);
        return 0;
}

int main(int argc, char **argv)
{
        int rc = 0, n = 0;

        LLVMFuzzerInitialize(&argc, &argv);
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: no such input\n", argv[i]);
                        rc = 1;
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        rc |= run_file(argv[i]);
                        n++;
                        continue;
                }
                struct dirent **ents;
                int m = scandir(argv[i], &ents, NULL, alphasort);
                for (int k = 0; k < m; k++) {
                        char p[8192];
                        if (ents[k]->d_name[0] != '.') {
                                snprintf(p, sizeof(p), "%s/%s", argv[i], ents[k]->d_name);
                                rc |= run_file(p);
                                n++;
                        }
                        free(ents[k]);
                }
                free(ents);
        }
        printf("%d inputs replayed\n", n);
        return rc;
}
