/* Repository metadata through libsolv (rpm/repo.c, the Repository= path):
 * the input is a primary.xml (first byte even) or a repomd.xml (odd), the
 * other file a fixed valid one; a scratch repository is made of them with
 * matching checksums, then repo_solve loads it (bounded reader, checksums,
 * locations beneath the repository) and solves Install=*. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "fuzz.h"
#include "layout/layout.h"
#include "rpm/repo.h"

static char dir[64], layout_path[128];

static const char primary_seed[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"1\">\n"
        "<package type=\"rpm\"><name>a</name><arch>noarch</arch><version epoch=\"0\" ver=\"1\" rel=\"1\"/>"
        "<checksum type=\"sha256\" pkgid=\"YES\">0000000000000000000000000000000000000000000000000000000000000000</checksum>"
        "<location href=\"a-1-1.noarch.rpm\"/><format/></package>\n</metadata>\n";

static void remove_dir(void)
{
        char p[192];
        static const char *const files[] = { "repo/repodata/primary.xml", "repo/repodata/repomd.xml",
                                             "repo/repodata", "repo", "l.conf" };
        for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
                snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
                remove(p);
        }
        rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        FILE *f;

        snprintf(dir, sizeof(dir), "%s/imgtool-fuzz-repomd.XXXXXX", access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
        if (!mkdtemp(dir))
                abort();
        atexit(remove_dir);
        snprintf(layout_path, sizeof(layout_path), "%s/l.conf", dir);
        f = fopen(layout_path, "w");
        if (!f)
                abort();
        fprintf(f, "[Packages]\nRepository=%s/repo\nInstall=*\n", dir);
        fclose(f);
        char sub[128];
        snprintf(sub, sizeof(sub), "%s/repo", dir);
        mkdir(sub, 0755);
        snprintf(sub, sizeof(sub), "%s/repo/repodata", dir);
        mkdir(sub, 0755);
        return 0;
}

static void put(const char *name, const void *data, size_t size)
{
        char path[192];
        FILE *f;

        snprintf(path, sizeof(path), "%s/repo/repodata/%s", dir, name);
        f = fopen(path, "w");
        if (!f)
                abort();
        fwrite(data, 1, size, f);
        fclose(f);
}

static void put_repomd(const void *primary, size_t size)
{
        unsigned char md[32];
        char hex[65], *text = NULL;
        int n;

        EVP_Digest(primary, size, md, NULL, EVP_sha256(), NULL);
        hex_encode(md, 32, hex);
        n = asprintf(&text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<repomd xmlns=\"http://linux.duke.edu/metadata/repo\"><revision>1</revision>"
                     "<data type=\"primary\"><checksum type=\"sha256\">%s</checksum>"
                     "<location href=\"repodata/primary.xml\"/><size>%zu</size></data></repomd>\n", hex, size);
        if (n < 0)
                abort();
        put("repomd.xml", text, (size_t)n);
        free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct layout *l = NULL;
        struct repo_pick *picks = NULL;
        size_t n = 0;

        if (!size)
                return 0;
        if (data[0] % 2 == 0) {
                put("primary.xml", data + 1, size - 1);
                put_repomd(data + 1, size - 1);
        } else {
                put("primary.xml", primary_seed, sizeof(primary_seed) - 1);
                put("repomd.xml", data + 1, size - 1);
        }
        if (layout_load(layout_path, NULL, &l) >= 0) {
                if (repo_solve(l, &picks, &n) >= 0)
                        repo_picks_free(picks, n);
                layout_free(l);
        }
        imgerr_clear();
        return 0;
}
