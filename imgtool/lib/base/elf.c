/* PT_INTERP and "#!" (elf.h).  Reads only what the header says, checking
 * every offset against len: the input is a file from a package. */
#include "base/elf.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct elf_view {
        const uint8_t *b;
        size_t len;
        bool be;        /* ELFDATA2MSB */
        bool is64;
};

static uint64_t get(const struct elf_view *v, size_t off, size_t n)
{
        uint64_t x = 0;

        for (size_t i = 0; i < n; i++)
                x = v->be ? x << 8 | v->b[off + i] : x | (uint64_t)v->b[off + i] << (8 * i);
        return x;
}

static int copy_out(const uint8_t *s, size_t n, char *out, size_t out_size)
{
        if (n >= out_size)
                return -ENAMETOOLONG;
        memcpy(out, s, n);
        out[n] = 0;
        return 1;
}

/* "#!/bin/sh -e": the first word after "#!" and any blanks. */
static int script_interpreter(const uint8_t *b, size_t len, char *out, size_t out_size)
{
        size_t i = 2, start;

        while (i < len && (b[i] == ' ' || b[i] == '\t'))
                i++;
        start = i;
        while (i < len && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != 0)
                i++;
        if (i == start)
                return 0;
        return copy_out(b + start, i - start, out, out_size);
}

static int interp_segment(const struct elf_view *v, size_t off, size_t size, char *out, size_t out_size)
{
        size_t n;

        if (off > v->len || size > v->len - off || size == 0)
                return -EINVAL;
        n = strnlen((const char *)v->b + off, size);    /* the string ends at its NUL */
        if (n == 0 || n == size)
                return -EINVAL;
        return copy_out(v->b + off, n, out, out_size);
}

int elf_interpreter(const void *buf, size_t len, char *out, size_t out_size)
{
        struct elf_view v = { .b = buf, .len = len };
        size_t phoff, phentsize, phnum, need;

        if (len >= 2 && v.b[0] == '#' && v.b[1] == '!')
                return script_interpreter(v.b, len, out, out_size);
        if (len < EI_NIDENT || memcmp(v.b, ELFMAG, SELFMAG))
                return 0;
        v.is64 = v.b[EI_CLASS] == ELFCLASS64;
        v.be = v.b[EI_DATA] == ELFDATA2MSB;
        if ((!v.is64 && v.b[EI_CLASS] != ELFCLASS32) || len < (v.is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
                return -EINVAL;
        phoff = v.is64 ? get(&v, 32, 8) : get(&v, 28, 4);
        phentsize = get(&v, v.is64 ? 54 : 42, 2);
        phnum = get(&v, v.is64 ? 56 : 44, 2);
        if (phentsize < (v.is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) || phnum == 0)
                return phnum == 0 ? 0 : -EINVAL;
        need = phentsize * phnum;
        if (phoff > len || need > len - phoff)
                return -EINVAL;
        for (size_t i = 0; i < phnum; i++) {
                size_t p = phoff + i * phentsize;
                if (get(&v, p, 4) != PT_INTERP)
                        continue;
                if (v.is64)
                        return interp_segment(&v, get(&v, p + 8, 8), get(&v, p + 32, 8), out, out_size);
                return interp_segment(&v, get(&v, p + 4, 4), get(&v, p + 16, 4), out, out_size);
        }
        return 0;
}
