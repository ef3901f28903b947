/* imgtool-guest: a tiny probe the boot checks run inside a test image.
 * Built twice (static and dynamic) so the image has a signed program of each
 * kind; with arguments it tries what the IMA setup must refuse.
 *   imgtool-guest                  print "imgtool-guest: ok (static|dynamic)"
 *   imgtool-guest add-key [DER]    try to add a key to the _ima keyring and to
 *                                  give the keyring write permission back;
 *                                  exit 0 if both are refused
 *   imgtool-guest mmap-exec FILE   map FILE executable; exit 0 if allowed
 *   imgtool-guest attest ...       TPM evidence for remote attestation (attest.c)
 *   imgtool-guest add-key-kernel RING DER
 *                                  the same for a keyring the kernel made
 *                                  (".fs-verity"), found in /proc/keys
 *   imgtool-guest measure FILE...  "sha256:<hex> FILE" per file: the fs-verity
 *                                  digest FS_IOC_MEASURE_VERITY gives, or
 *                                  "error <errno text> FILE"
 *   imgtool-guest read-blocks FILE open FILE, read it 4 KiB at a time; print
 *                                  "open: ok" (or the error), then the first
 *                                  block that failed: "block N: <error>",
 *                                  else "read: N bytes"; exit 0 if all read
 *   imgtool-guest time-read FIRST WHOLE
 *                                  benchmark: "first4k-us N" (open FIRST and
 *                                  read its first 4 KiB), "whole-ms N bytes B"
 *                                  (open WHOLE and read all of it)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fsverity.h>
#include <linux/keyctl.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "attest.h"

#ifndef GUEST_KIND
#define GUEST_KIND "unknown"
#endif

static long keyctl(int cmd, unsigned long a2, unsigned long a3, unsigned long a4,
                   unsigned long a5)
{
        return syscall(SYS_keyctl, cmd, a2, a3, a4, a5);
}

/* A kernel keyring linked nowhere: its id from its /proc/keys line. */
static long find_kernel_keyring(const char *name)
{
        char line[512];
        size_t n = strlen(name);
        long id = -1;
        FILE *f = fopen("/proc/keys", "r");

        while (f && id < 0 && fgets(line, sizeof(line), f)) {
                char *t = strstr(line, " keyring ");
                if (!t)
                        continue;
                t += 9;
                t += strspn(t, " ");
                if (!strncmp(t, name, n) && t[n] == ':')
                        id = strtol(line, NULL, 16);
        }
        if (f)
                fclose(f);
        return id;
}

static int measure_probe(int n, char **files)
{
        for (int i = 0; i < n; i++) {
                struct {
                        struct fsverity_digest d;
                        unsigned char buf[64];
                } m = { .d.digest_size = 64 };
                int fd = open(files[i], O_RDONLY);
                if (fd < 0 || ioctl(fd, FS_IOC_MEASURE_VERITY, &m) < 0) {
                        printf("error %s %s\n", strerror(errno), files[i]);
                } else {
                        printf("%s:", m.d.digest_algorithm == FS_VERITY_HASH_ALG_SHA256 ? "sha256" : "other");
                        for (unsigned k = 0; k < m.d.digest_size; k++)
                                printf("%02x", m.d.digest[k]);
                        printf(" %s\n", files[i]);
                }
                if (fd >= 0)
                        close(fd);
        }
        return 0;
}

static int read_blocks_probe(const char *path)
{
        static char buf[4096];
        int fd = open(path, O_RDONLY);
        long long total = 0;

        if (fd < 0) {
                printf("open: %s\n", strerror(errno));
                return 1;
        }
        printf("open: ok\n");
        for (long long blk = 0;; blk++) {
                ssize_t r = pread(fd, buf, sizeof(buf), blk * 4096);
                if (r < 0) {
                        printf("block %lld: %s\n", blk, strerror(errno));
                        return 1;
                }
                if (r == 0)
                        break;
                total += r;
        }
        printf("read: %lld bytes\n", total);
        return 0;
}

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int time_read_probe(const char *first, const char *whole)
{
        static char buf[1 << 16];
        double t0 = now_us();
        int fd = open(first, O_RDONLY);
        if (fd < 0 || read(fd, buf, 4096) != 4096) {
                printf("time-read: %s: %s\n", first, strerror(errno));
                return 1;
        }
        printf("first4k-us %.0f\n", now_us() - t0);
        close(fd);
        long long total = 0;
        ssize_t n;
        t0 = now_us();
        fd = open(whole, O_RDONLY);
        if (fd < 0) {
                printf("time-read: %s: %s\n", whole, strerror(errno));
                return 1;
        }
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                total += n;
        if (n < 0) {
                printf("time-read: %s: %s\n", whole, strerror(errno));
                return 1;
        }
        printf("whole-ms %.1f bytes %lld\n", (now_us() - t0) / 1e3, total);
        close(fd);
        return 0;
}

static int add_key_probe(const char *ring_name, const char *der_path)
{
        long user = keyctl(KEYCTL_GET_KEYRING_ID, (unsigned long)KEY_SPEC_USER_KEYRING, 0, 0, 0);
        long ring = ring_name[0] == '.' ? find_kernel_keyring(ring_name)
                                       : keyctl(KEYCTL_SEARCH, (unsigned long)user, (unsigned long)"keyring",
                                                (unsigned long)ring_name, 0);
        char payload[8192];
        ssize_t len = 0;
        int refused = 0;
        long k;

        if (ring < 0) {
                printf("add-key: no %s keyring found: %s\n", ring_name, strerror(errno));
                return 2;
        }
        if (der_path) {
                int fd = open(der_path, O_RDONLY);
                len = fd < 0 ? -1 : read(fd, payload, sizeof(payload));
                if (len <= 0) {
                        printf("add-key: cannot read %s\n", der_path);
                        return 2;
                }
                close(fd);
                k = syscall(SYS_add_key, "asymmetric", NULL, payload, (size_t)len, ring);
        } else {
                k = syscall(SYS_add_key, "user", "imgtool-probe", "x", (size_t)1, ring);
        }
        if (k < 0) {
                printf("add-key: refused: %s\n", strerror(errno));
                refused++;
        } else {
                printf("add-key: ACCEPTED as key %ld\n", k);
        }
        if (keyctl(KEYCTL_SETPERM, (unsigned long)ring, 0x3f3f0000UL, 0, 0) < 0) {
                printf("setperm: refused: %s\n", strerror(errno));
                refused++;
        } else {
                printf("setperm: ACCEPTED\n");
        }
        return refused == 2 ? 0 : 1;
}

static int mmap_exec_probe(const char *path)
{
        int fd = open(path, O_RDONLY);
        void *p;

        if (fd < 0) {
                printf("mmap-exec: open %s: %s\n", path, strerror(errno));
                return 1;
        }
        p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
                printf("mmap-exec: %s: %s\n", path, strerror(errno));
                return 1;
        }
        printf("mmap-exec: %s: mapped\n", path);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 1) {
                printf("imgtool-guest: ok (%s)\n", GUEST_KIND);
                return 0;
        }
        if (!strcmp(argv[1], "add-key"))
                return add_key_probe("_ima", argc > 2 ? argv[2] : NULL);
        if (!strcmp(argv[1], "attest"))
                return attest_main(argc - 2, argv + 2);
        if (!strcmp(argv[1], "add-key-kernel") && argc == 4)
                return add_key_probe(argv[2], argv[3]);
        if (!strcmp(argv[1], "measure"))
                return measure_probe(argc - 2, argv + 2);
        if (!strcmp(argv[1], "time-read") && argc == 4)
                return time_read_probe(argv[2], argv[3]);
        if (!strcmp(argv[1], "read-blocks") && argc == 3)
                return read_blocks_probe(argv[2]);
        if (!strcmp(argv[1], "mmap-exec") && argc == 3)
                return mmap_exec_probe(argv[2]);
        fprintf(stderr, "usage: imgtool-guest [add-key [DER] | add-key-kernel RING DER | mmap-exec FILE |\n"
                        "                      measure FILE... | read-blocks FILE | attest ...]\n");
        return 2;
}
