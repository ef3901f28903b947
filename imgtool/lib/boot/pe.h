/* PE/COFF images (UEFI applications): enough of the format to add data
 * sections to systemd-stub, compute the Authenticode digest the firmware
 * checks and measures, and attach or read the signature.
 *
 * Why not objcopy (as ukify did): the Authenticode digest and the PCR 4
 * prediction need a PE parser anyway; objcopy rewrites every header field it
 * knows, depends on binutils' PE support at run time and gives no control
 * over VMAs beyond what the command line spells.  Here the stub's bytes stay
 * as they are and only the section table, SizeOfImage, the checksum and the
 * certificate directory change, so the same inputs give the same bytes.
 *
 * An image lives in memory as one buffer; functions that grow it realloc. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pe_image {
        uint8_t *data;
        size_t len;
        /* parsed by pe_parse */
        size_t coff;              /* offset of the COFF header (after "PE\0\0") */
        size_t opt;               /* offset of the optional header */
        size_t sections;          /* offset of the section table */
        unsigned n_sections;
        bool pe32plus;
        uint32_t section_align, file_align, size_of_headers;
};

struct pe_section {
        char name[9];
        uint32_t virtual_size, virtual_address, raw_size, raw_offset, characteristics;
};

/* Parse data[0..len) (not copied, not freed).  -ENOEXEC with a message naming
 * `what` when it is no PE image. */
int pe_parse(struct pe_image *pe, uint8_t *data, size_t len, const char *what);
void pe_section_get(const struct pe_image *pe, unsigned i, struct pe_section *s);
/* The section called name (".linux"), or -ENOENT. */
int pe_find_section(const struct pe_image *pe, const char *name, struct pe_section *s);

/* Append an initialized, read-only data section after the last one: its
 * VMA aligned to `vma_align` (a multiple of the section alignment), its file
 * data to the file alignment.  A COFF symbol table after the sections is
 * dropped (images carry none that matter).  pe->data is reallocated. */
int pe_add_section(struct pe_image *pe, const char *name, const void *data, size_t len, uint32_t vma_align);

/* The Authenticode digest (SHA-256) as the UEFI spec defines it: headers
 * without the checksum and the certificate directory, the sections' raw
 * data in file order, then any data after them that is not the certificate
 * table. */
int pe_authenticode_sha256(const struct pe_image *pe, uint8_t out[32]);

/* The certificate table (WIN_CERTIFICATE entries), or len 0. */
void pe_cert_table(const struct pe_image *pe, size_t *offset, size_t *len);
/* The PKCS#7 of the first WIN_CERT_TYPE_PKCS_SIGNED_DATA entry, or -ENOENT. */
int pe_signature(const struct pe_image *pe, const uint8_t **p7, size_t *len);
/* Append a WIN_CERTIFICATE holding pkcs7 (the image must be unsigned) and
 * update the certificate directory and the checksum. */
int pe_attach_signature(struct pe_image *pe, const uint8_t *p7, size_t len);
/* Recompute the optional header's CheckSum field. */
void pe_update_checksum(struct pe_image *pe);
/* Two-phase signing stamps a signature into a UKI in place (image/applysig.c):
 * the file offset of the checksum field, from the file's first LEN bytes
 * (-EINVAL: not a PE), and the checksum after N bytes at file offset OFF
 * change from OLD to NEW, the length FILE_LEN unchanged. */
int pe_checksum_offset(const uint8_t *head, size_t len, size_t *off);
uint32_t pe_checksum_update(uint32_t cks, uint64_t file_len, uint64_t off, const uint8_t *old,
                            const uint8_t *new, size_t n);
