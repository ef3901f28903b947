/* Big-endian numbers in byte strings (rpm headers, TPM 2.0 structures):
 * header-only and libc-only, so the guest probe (init/guest/attest.c)
 * reads TPM responses with the same code as the host (attest/tpmquote.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uint32_t be32_at(const uint8_t *b)
{
        return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* A reader over len bytes that fails closed: a read past the end returns 0
 * (NULL) and sets bad, which stays set. */
struct be_reader {
        const uint8_t *p;
        size_t left;
        bool bad;
};

/* The next n (at most 8) bytes as a big-endian number. */
static inline uint64_t be_read(struct be_reader *r, size_t n)
{
        uint64_t v = 0;
        if (r->left < n) {
                r->bad = true;
                return 0;
        }
        for (size_t i = 0; i < n; i++)
                v = v << 8 | r->p[i];
        r->p += n;
        r->left -= n;
        return v;
}

/* A TPM2B: a 16-bit size, then that many bytes (returned, *n their count;
 * NULL and *n 0 when short). */
static inline const uint8_t *be_read2b(struct be_reader *r, size_t *n)
{
        const uint8_t *p;
        *n = (size_t)be_read(r, 2);
        if (r->bad || r->left < *n) {
                r->bad = true;
                *n = 0;
                return NULL;
        }
        p = r->p;
        r->p += *n;
        r->left -= *n;
        return p;
}
