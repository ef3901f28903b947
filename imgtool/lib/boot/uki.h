/* Unified Kernel Images: systemd-stub with the kernel, the initramfs, the
 * command line and os-release as PE sections (.linux, .initrd, .cmdline,
 * .osrel), optionally Authenticode-signed for Secure Boot.
 *
 * The stub (Debian's systemd-boot-efi) finds the sections by name, measures
 * them into PCR 11 and boots the kernel with the initrd; under Secure Boot
 * it ignores any command line passed from outside, so .cmdline is the one
 * the kernel gets.  Sections are appended after the stub's own at
 * page-aligned addresses, in the order above; nothing in them depends on
 * time or randomness, so the same inputs give the same bytes. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "boot/authenticode.h"
#include "boot/pe.h"

#define UKI_DEFAULT_STUB "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
/* The largest kernel or stub read into memory (a UKI's parts). */
#define UKI_PART_MAX (256u << 20)

struct uki_parts {
        const char *stub;          /* path of systemd-stub (linuxx64.efi.stub) */
        const char *kernel;        /* path of a vmlinuz with an EFI stub */
        const uint8_t *initrd;
        size_t initrd_len;
        const char *cmdline;
        const char *osrel;         /* os-release text */
};

/* Check the stub and the kernel are PE images (a kernel built without
 * CONFIG_EFI_STUB is refused here) and return the size the UKI will have,
 * give or take a signature. */
int uki_check(const struct uki_parts *p, uint64_t *size);

/* Build the UKI into *pe (pe->data malloc'ed; free it); sign it when
 * signer is not NULL. */
int uki_build(const struct uki_parts *p, const struct sb_signer *signer, struct pe_image *pe);
