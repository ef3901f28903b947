/* base/elf.c: PT_INTERP and "#!", on crafted headers and, with readelf as
 * the oracle, on the host's own programs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/elf.h"

/* A 64-bit little-endian ELF with a PT_LOAD and, if interp, a PT_INTERP. */
static size_t craft64(uint8_t *b, size_t cap, const char *interp)
{
        Elf64_Ehdr *e = (Elf64_Ehdr *)b;
        Elf64_Phdr *ph = (Elf64_Phdr *)(b + sizeof(*e));
        size_t str = sizeof(*e) + 2 * sizeof(*ph);

        memset(b, 0, cap);
        memcpy(e->e_ident, ELFMAG, SELFMAG);
        e->e_ident[EI_CLASS] = ELFCLASS64;
        e->e_ident[EI_DATA] = ELFDATA2LSB;
        e->e_phoff = sizeof(*e);
        e->e_phentsize = sizeof(*ph);
        e->e_phnum = interp ? 2 : 1;
        ph[0].p_type = PT_LOAD;
        if (!interp)
                return str;
        ph[1].p_type = PT_INTERP;
        ph[1].p_offset = str;
        ph[1].p_filesz = strlen(interp) + 1;
        strcpy((char *)b + str, interp);
        return str + strlen(interp) + 1;
}

/* 32-bit big-endian, one PT_INTERP (a MIPS or PowerPC program). */
static size_t craft32be(uint8_t *b, const char *interp)
{
        size_t str = sizeof(Elf32_Ehdr) + sizeof(Elf32_Phdr), n = strlen(interp) + 1;
        uint8_t *ph = b + sizeof(Elf32_Ehdr);

        memset(b, 0, 512);
        memcpy(b, ELFMAG, SELFMAG);
        b[EI_CLASS] = ELFCLASS32;
        b[EI_DATA] = ELFDATA2MSB;
        b[31] = sizeof(Elf32_Ehdr);             /* e_phoff */
        b[43] = sizeof(Elf32_Phdr);             /* e_phentsize */
        b[45] = 1;                              /* e_phnum */
        ph[3] = PT_INTERP;
        ph[7] = (uint8_t)str;                   /* p_offset */
        ph[19] = (uint8_t)n;                    /* p_filesz */
        strcpy((char *)b + str, interp);
        return str + n;
}

static void test_crafted(void **state)
{
        uint8_t b[1024];
        char out[64];
        size_t n;

        (void)state;
        n = craft64(b, sizeof(b), "/lib64/ld-linux-x86-64.so.2");
        assert_int_equal(elf_interpreter(b, n, out, sizeof(out)), 1);
        assert_string_equal(out, "/lib64/ld-linux-x86-64.so.2");
        assert_int_equal(elf_interpreter(b, n, out, 10), -ENAMETOOLONG);
        /* the string past what was read, or the headers cut short */
        assert_int_equal(elf_interpreter(b, n - 5, out, sizeof(out)), -EINVAL);
        assert_int_equal(elf_interpreter(b, sizeof(Elf64_Ehdr) + 10, out, sizeof(out)), -EINVAL);
        /* an interpreter without its NUL */
        ((Elf64_Phdr *)(b + sizeof(Elf64_Ehdr)))[1].p_filesz -= 1;
        assert_int_equal(elf_interpreter(b, n, out, sizeof(out)), -EINVAL);
        /* static: none */
        n = craft64(b, sizeof(b), NULL);
        assert_int_equal(elf_interpreter(b, n, out, sizeof(out)), 0);
        n = craft32be(b, "/lib/ld.so.1");
        assert_int_equal(elf_interpreter(b, n, out, sizeof(out)), 1);
        assert_string_equal(out, "/lib/ld.so.1");
}

static void test_scripts(void **state)
{
        char out[64];

        (void)state;
        assert_int_equal(elf_interpreter("#!/bin/sh -e\necho\n", 18, out, sizeof(out)), 1);
        assert_string_equal(out, "/bin/sh");
        assert_int_equal(elf_interpreter("#! /usr/bin/env python3\n", 24, out, sizeof(out)), 1);
        assert_string_equal(out, "/usr/bin/env");
        assert_int_equal(elf_interpreter("#!\n", 3, out, sizeof(out)), 0);
        assert_int_equal(elf_interpreter("echo hi\n", 8, out, sizeof(out)), 0);
        assert_int_equal(elf_interpreter("", 0, out, sizeof(out)), 0);
}

/* readelf's "[Requesting program interpreter: X]" for the host's programs. */
static void test_host_programs(void **state)
{
        const char *progs[] = { "/bin/sh", "/usr/bin/env", "/usr/bin/readelf" };
        static uint8_t head[ELF_HEAD_BYTES];

        (void)state;
        for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
                char cmd[256], line[512], want[256] = "", got[256];
                FILE *p, *f;
                size_t n;

                snprintf(cmd, sizeof(cmd), "readelf -lW %s", progs[i]);
                p = popen(cmd, "r");
                assert_non_null(p);
                while (fgets(line, sizeof(line), p))
                        if (sscanf(line, " [Requesting program interpreter: %255[^]]]", want) == 1)
                                break;
                pclose(p);
                assert_true(want[0] == '/');    /* the host's programs are dynamic */
                f = fopen(progs[i], "rb");
                assert_non_null(f);
                n = fread(head, 1, sizeof(head), f);
                fclose(f);
                assert_int_equal(elf_interpreter(head, n, got, sizeof(got)), 1);
                assert_string_equal(got, want);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crafted),
                cmocka_unit_test(test_scripts),
                cmocka_unit_test(test_host_programs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
