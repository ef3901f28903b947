/* imgtool-guest: a tiny probe the boot checks run inside a test image.
 * Built twice (static and dynamic) so the image has a signed program of each
 * kind; with arguments it tries what the IMA setup must refuse.
 *   imgtool-guest                  print "imgtool-guest: ok (static|dynamic)"
 *   imgtool-guest add-key [DER]    try to add a key to the _ima keyring and to
 *                                  give the keyring write permission back;
 *                                  exit 0 if both are refused
 *   imgtool-guest mmap-exec FILE   map FILE executable; exit 0 if allowed
 *   imgtool-guest attest ...       TPM evidence for remote attestation (attest.c)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
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

static int add_key_probe(const char *der_path)
{
        long user = keyctl(KEYCTL_GET_KEYRING_ID, (unsigned long)KEY_SPEC_USER_KEYRING, 0, 0, 0);
        long ring = keyctl(KEYCTL_SEARCH, (unsigned long)user, (unsigned long)"keyring",
                           (unsigned long)"_ima", 0);
        char payload[8192];
        ssize_t len = 0;
        int refused = 0;
        long k;

        if (ring < 0) {
                printf("add-key: no _ima keyring found: %s\n", strerror(errno));
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
                return add_key_probe(argc > 2 ? argv[2] : NULL);
        if (!strcmp(argv[1], "attest"))
                return attest_main(argc - 2, argv + 2);
        if (!strcmp(argv[1], "mmap-exec") && argc == 3)
                return mmap_exec_probe(argv[2]);
        fprintf(stderr, "usage: imgtool-guest [add-key [DER] | mmap-exec FILE | attest ...]\n");
        return 2;
}
