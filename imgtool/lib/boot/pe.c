#include "boot/pe.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#define SECTION_HEADER 40
#define OPT_CHECKSUM 64
#define OPT_SIZE_OF_IMAGE 56
#define OPT_SIZE_OF_HEADERS 60
#define OPT_SIZE_OF_INIT_DATA 8
#define WIN_CERT_REVISION_2 0x0200
#define WIN_CERT_TYPE_PKCS_SIGNED_DATA 0x0002
#define SCN_DATA_READ 0x40000040u /* IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

/* Offset of data directory entry i in the optional header. */
static size_t dir_offset(const struct pe_image *pe, unsigned i)
{
        return pe->opt + (pe->pe32plus ? 112 : 96) + 8 * i;
}
#define DIR_SECURITY 4

int pe_parse(struct pe_image *pe, uint8_t *data, size_t len, const char *what)
{
        uint32_t lfanew, ndirs;
        uint16_t opt_size, magic;

        memset(pe, 0, sizeof(*pe));
        pe->data = data;
        pe->len = len;
        if (len < 0x40 || data[0] != 'M' || data[1] != 'Z')
                return imgerr(-ENOEXEC, "%s: not a PE/EFI image (no MZ header)", what);
        lfanew = rd32(data + 0x3c);
        if (lfanew > len - 24 || memcmp(data + lfanew, "PE\0\0", 4))
                return imgerr(-ENOEXEC, "%s: not a PE/EFI image (no PE header)", what);
        pe->coff = lfanew + 4;
        pe->n_sections = rd16(data + pe->coff + 2);
        opt_size = rd16(data + pe->coff + 16);
        pe->opt = pe->coff + 20;
        pe->sections = pe->opt + opt_size;
        if (opt_size < 96 || pe->sections + (size_t)pe->n_sections * SECTION_HEADER > len)
                return imgerr(-ENOEXEC, "%s: truncated PE header", what);
        magic = rd16(data + pe->opt);
        if (magic != 0x10b && magic != 0x20b)
                return imgerr(-ENOEXEC, "%s: unknown PE optional header magic %#x", what, magic);
        pe->pe32plus = magic == 0x20b;
        /* NumberOfRvaAndSizes ends the fixed part: at 92 (PE32) or 108
         * (PE32+); the header must hold it before it is read. */
        if (opt_size < (pe->pe32plus ? 112 : 96))
                return imgerr(-ENOEXEC, "%s: PE optional header of %u bytes is too short for a %s header", what,
                              opt_size, pe->pe32plus ? "PE32+" : "PE32");
        ndirs = rd32(data + pe->opt + (pe->pe32plus ? 108 : 92));
        if (ndirs <= DIR_SECURITY || dir_offset(pe, DIR_SECURITY) + 8 > pe->sections)
                return imgerr(-ENOEXEC, "%s: PE header without a certificate directory", what);
        pe->section_align = rd32(data + pe->opt + 32);
        pe->file_align = rd32(data + pe->opt + 36);
        pe->size_of_headers = rd32(data + pe->opt + OPT_SIZE_OF_HEADERS);
        /* Powers of two, FileAlignment at most 64 KiB (the PE format's own
         * rule): pe_add_section pads to it, so a crafted one cannot make it
         * allocate gigabytes. */
        if (pe->section_align & (pe->section_align - 1) || pe->file_align & (pe->file_align - 1) ||
            pe->file_align > (64u << 10))
                return imgerr(-ENOEXEC, "%s: PE alignments FileAlignment %#x, SectionAlignment %#x are not powers "
                              "of two up to 64 KiB", what, pe->file_align, pe->section_align);
        if (!pe->section_align || !pe->file_align || pe->size_of_headers > len ||
            pe->size_of_headers < pe->sections + (size_t)pe->n_sections * SECTION_HEADER)
                return imgerr(-ENOEXEC, "%s: inconsistent PE header", what);
        for (unsigned i = 0; i < pe->n_sections; i++) {
                struct pe_section s;
                pe_section_get(pe, i, &s);
                if ((uint64_t)s.raw_offset + s.raw_size > len)
                        return imgerr(-ENOEXEC, "%s: PE section %s lies beyond the end of the file", what, s.name);
        }
        return 0;
}

void pe_section_get(const struct pe_image *pe, unsigned i, struct pe_section *s)
{
        const uint8_t *h = pe->data + pe->sections + (size_t)i * SECTION_HEADER;
        memset(s, 0, sizeof(*s));
        memcpy(s->name, h, 8);
        s->virtual_size = rd32(h + 8);
        s->virtual_address = rd32(h + 12);
        s->raw_size = rd32(h + 16);
        s->raw_offset = rd32(h + 20);
        s->characteristics = rd32(h + 36);
}

int pe_find_section(const struct pe_image *pe, const char *name, struct pe_section *s)
{
        for (unsigned i = 0; i < pe->n_sections; i++) {
                pe_section_get(pe, i, s);
                if (!strcmp(s->name, name))
                        return 0;
        }
        return -ENOENT;
}

/* End of the last section's raw data and of its virtual extent. */
static void section_ends(const struct pe_image *pe, uint64_t *raw_end, uint64_t *va_end)
{
        *raw_end = pe->size_of_headers;
        *va_end = 0;
        for (unsigned i = 0; i < pe->n_sections; i++) {
                struct pe_section s;
                pe_section_get(pe, i, &s);
                if (s.raw_size && (uint64_t)s.raw_offset + s.raw_size > *raw_end)
                        *raw_end = (uint64_t)s.raw_offset + s.raw_size;
                uint64_t vend = (uint64_t)s.virtual_address + (s.virtual_size > s.raw_size ? s.virtual_size : s.raw_size);
                if (vend > *va_end)
                        *va_end = vend;
        }
}

int pe_add_section(struct pe_image *pe, const char *name, const void *data, size_t len, uint32_t vma_align)
{
        uint64_t raw_end, va_end, raw_off, va, raw_size, new_len;
        size_t hdr = pe->sections + (size_t)pe->n_sections * SECTION_HEADER;
        size_t cert_off, cert_len;
        uint8_t *d, *h;

        pe_cert_table(pe, &cert_off, &cert_len);
        if (cert_len)
                return imgerr(-EINVAL, "cannot add section %s to a signed PE image", name);
        if (strlen(name) > 8)
                return imgerr(-EINVAL, "PE section name %s is longer than 8 bytes", name);
        if (hdr + SECTION_HEADER > pe->size_of_headers)
                return imgerr(-ENOSPC, "no room in the PE header for section %s", name);
        for (unsigned i = 0; i < pe->n_sections; i++) {
                struct pe_section s;
                pe_section_get(pe, i, &s);
                if (s.raw_size && hdr + SECTION_HEADER > s.raw_offset)
                        return imgerr(-ENOSPC, "no room in the PE header for section %s", name);
        }
        if (vma_align % pe->section_align)
                vma_align = pe->section_align;
        section_ends(pe, &raw_end, &va_end);
        raw_off = align_up(raw_end, pe->file_align);
        va = align_up(va_end, vma_align);
        raw_size = align_up(len, pe->file_align);
        new_len = raw_off + raw_size;
        if (va + len > UINT32_MAX || new_len > UINT32_MAX)
                return imgerr(-EFBIG, "PE section %s makes the image larger than 4 GiB", name);
        d = realloc(pe->data, new_len);
        if (!d)
                return -ENOMEM;
        /* The stub's COFF symbol table (if any) sat after the sections: gone. */
        if (new_len > raw_end)
                memset(d + raw_end, 0, new_len - raw_end);
        memcpy(d + raw_off, data, len);
        pe->data = d;
        pe->len = new_len;
        wr32(d + pe->coff + 8, 0);   /* PointerToSymbolTable */
        wr32(d + pe->coff + 12, 0);  /* NumberOfSymbols */

        h = d + hdr;
        memset(h, 0, SECTION_HEADER);
        memcpy(h, name, strlen(name));
        wr32(h + 8, (uint32_t)len);
        wr32(h + 12, (uint32_t)va);
        wr32(h + 16, (uint32_t)raw_size);
        wr32(h + 20, (uint32_t)raw_off);
        wr32(h + 36, SCN_DATA_READ);
        pe->n_sections++;
        wr16(d + pe->coff + 2, (uint16_t)pe->n_sections);
        wr32(d + pe->opt + OPT_SIZE_OF_IMAGE, (uint32_t)align_up(va + len, pe->section_align));
        wr32(d + pe->opt + OPT_SIZE_OF_INIT_DATA, rd32(d + pe->opt + OPT_SIZE_OF_INIT_DATA) + (uint32_t)raw_size);
        pe_update_checksum(pe);
        return 0;
}

void pe_cert_table(const struct pe_image *pe, size_t *offset, size_t *len)
{
        const uint8_t *e = pe->data + dir_offset(pe, DIR_SECURITY);
        *offset = rd32(e);
        *len = rd32(e + 4);
        if (!*len || *offset > pe->len || *len > pe->len - *offset)
                *offset = *len = 0;
}

static int compare_raw_offset(const void *a, const void *b)
{
        const struct pe_section *x = a, *y = b;
        return x->raw_offset < y->raw_offset ? -1 : x->raw_offset > y->raw_offset;
}

int pe_authenticode_sha256(const struct pe_image *pe, uint8_t out[32])
{
        size_t cks = pe->opt + OPT_CHECKSUM, dir = dir_offset(pe, DIR_SECURITY);
        size_t cert_off, cert_len, hashed;
        _cleanup_free_ struct pe_section *s = calloc(pe->n_sections + 1, sizeof(*s));
        EVP_MD_CTX *ctx;
        int r = 0;

        if (!s)
                return -ENOMEM;
        pe_cert_table(pe, &cert_off, &cert_len);
        for (unsigned i = 0; i < pe->n_sections; i++)
                pe_section_get(pe, i, &s[i]);
        qsort(s, pe->n_sections, sizeof(*s), compare_raw_offset);
        ctx = EVP_MD_CTX_new();
        if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
                EVP_MD_CTX_free(ctx);
                return -ENOMEM;
        }
        EVP_DigestUpdate(ctx, pe->data, cks);
        EVP_DigestUpdate(ctx, pe->data + cks + 4, dir - (cks + 4));
        EVP_DigestUpdate(ctx, pe->data + dir + 8, pe->size_of_headers - (dir + 8));
        hashed = pe->size_of_headers;
        for (unsigned i = 0; i < pe->n_sections; i++) {
                if (!s[i].raw_size)
                        continue;
                EVP_DigestUpdate(ctx, pe->data + s[i].raw_offset, s[i].raw_size);
                hashed += s[i].raw_size;
        }
        /* Data after the sections that is not the certificate table. */
        if (pe->len > hashed + cert_len)
                EVP_DigestUpdate(ctx, pe->data + hashed, pe->len - hashed - cert_len);
        if (!EVP_DigestFinal_ex(ctx, out, NULL))
                r = -EIO;
        EVP_MD_CTX_free(ctx);
        return r;
}

int pe_signature(const struct pe_image *pe, const uint8_t **p7, size_t *len)
{
        size_t off, tlen;

        pe_cert_table(pe, &off, &tlen);
        for (size_t at = off; tlen && at + 8 <= off + tlen;) {
                uint32_t l = rd32(pe->data + at);
                if (l < 8 || l > off + tlen - at)
                        break;
                if (rd16(pe->data + at + 4) == WIN_CERT_REVISION_2 &&
                    rd16(pe->data + at + 6) == WIN_CERT_TYPE_PKCS_SIGNED_DATA) {
                        *p7 = pe->data + at + 8;
                        *len = l - 8;
                        return 0;
                }
                at += align_up(l, 8);
        }
        return -ENOENT;
}

int pe_attach_signature(struct pe_image *pe, const uint8_t *p7, size_t len)
{
        size_t off, tlen, start = align_up(pe->len, 8);
        size_t entry = align_up(8 + len, 8);
        uint8_t *d;

        pe_cert_table(pe, &off, &tlen);
        if (tlen)
                return imgerr(-EEXIST, "the PE image is already signed");
        d = realloc(pe->data, start + entry);
        if (!d)
                return -ENOMEM;
        memset(d + pe->len, 0, start + entry - pe->len);
        wr32(d + start, (uint32_t)(8 + len));
        wr16(d + start + 4, WIN_CERT_REVISION_2);
        wr16(d + start + 6, WIN_CERT_TYPE_PKCS_SIGNED_DATA);
        memcpy(d + start + 8, p7, len);
        pe->data = d;
        pe->len = start + entry;
        wr32(d + dir_offset(pe, DIR_SECURITY), (uint32_t)start);
        wr32(d + dir_offset(pe, DIR_SECURITY) + 4, (uint32_t)entry);
        pe_update_checksum(pe);
        return 0;
}

/* The PE checksum: 16-bit one's-complement-style sum of the file with the
 * checksum field as zero, folded, plus the file length. */
void pe_update_checksum(struct pe_image *pe)
{
        size_t cks = pe->opt + OPT_CHECKSUM;
        uint64_t sum = 0;

        wr32(pe->data + cks, 0);
        for (size_t i = 0; i + 1 < pe->len; i += 2) {
                sum += rd16(pe->data + i);
                sum = (sum & 0xffff) + (sum >> 16);
        }
        if (pe->len & 1) {
                sum += pe->data[pe->len - 1];
                sum = (sum & 0xffff) + (sum >> 16);
        }
        sum = (sum & 0xffff) + (sum >> 16);
        wr32(pe->data + cks, (uint32_t)(sum + pe->len));
}

int pe_checksum_offset(const uint8_t *head, size_t len, size_t *off)
{
        size_t pe;

        if (len < 0x40 || head[0] != 'M' || head[1] != 'Z')
                return -EINVAL;
        pe = (size_t)rd16(head + 0x3c) | (size_t)rd16(head + 0x3e) << 16;
        if (pe > len || len - pe < 4 + 20 + OPT_CHECKSUM + 4 || memcmp(head + pe, "PE\0\0", 4))
                return -EINVAL;
        *off = pe + 4 + 20 + OPT_CHECKSUM;
        return 0;
}

/* The sum is one's-complement addition of little-endian 16-bit words, so
 * a change of some bytes moves it by (new - old) in that arithmetic,
 * whatever the rest of the file holds (RFC 1624's incremental update). */
uint32_t pe_checksum_update(uint32_t cks, uint64_t file_len, uint64_t off, const uint8_t *old,
                            const uint8_t *new, size_t n)
{
        uint64_t sum = (uint32_t)(cks - (uint32_t)file_len) & 0xffff;

        for (size_t i = 0; i < n; i++) {
                unsigned shift = (off + i) & 1 ? 8 : 0;
                sum += (uint16_t)~(old[i] << shift);
                sum = (sum & 0xffff) + (sum >> 16);
                sum += (uint16_t)(new[i] << shift);
                sum = (sum & 0xffff) + (sum >> 16);
        }
        return (uint32_t)(sum + file_len);
}
