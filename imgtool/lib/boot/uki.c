#include "boot/uki.h"

#include <errno.h>
#include <string.h>

#include "base/util.h"

#define UKI_SECTION_ALIGN 4096u

static int load_pe(const char *path, const char *what, struct pe_image *pe)
{
        uint8_t *data;
        size_t len;
        int r = read_file_max(path, UKI_PART_MAX, "kernels and stubs", &data, &len);

        if (r < 0)
                return r;
        r = pe_parse(pe, data, len, path);
        if (r < 0) {
                free(data);
                if (!strcmp(what, "kernel"))
                        return imgerr(-ENOEXEC, "%s: the kernel has no EFI stub (not a PE image; build it with CONFIG_EFI_STUB=y)", path);
                return imgerr_prefix(r, "%s: ", what);
        }
        return 0;
}

int uki_check(const struct uki_parts *p, uint64_t *size)
{
        struct pe_image stub, kernel;
        int r;

        r = load_pe(p->stub, "systemd-stub", &stub);
        if (r < 0)
                return r;
        if (pe_find_section(&stub, ".sdmagic", &(struct pe_section){ 0 }) < 0 ||
            pe_find_section(&stub, ".linux", &(struct pe_section){ 0 }) == 0) {
                free(stub.data);
                return imgerr(-EINVAL, "%s: not systemd-stub (no .sdmagic section, or already a UKI)", p->stub);
        }
        r = load_pe(p->kernel, "kernel", &kernel);
        if (r < 0) {
                free(stub.data);
                return r;
        }
        *size = stub.len + kernel.len + p->initrd_len + strlen(p->cmdline) + strlen(p->osrel) + 5 * UKI_SECTION_ALIGN;
        free(stub.data);
        free(kernel.data);
        return 0;
}

int uki_build(const struct uki_parts *p, const struct sb_signer *signer, struct pe_image *pe)
{
        _cleanup_free_ uint8_t *kernel = NULL;
        size_t kernel_len;
        int r;

        r = load_pe(p->stub, "systemd-stub", pe);
        if (r < 0)
                return r;
        r = read_file_max(p->kernel, UKI_PART_MAX, "kernels and stubs", &kernel, &kernel_len);
        if (r >= 0)
                r = pe_add_section(pe, ".osrel", p->osrel, strlen(p->osrel), UKI_SECTION_ALIGN);
        if (r >= 0)
                r = pe_add_section(pe, ".cmdline", p->cmdline, strlen(p->cmdline), UKI_SECTION_ALIGN);
        if (r >= 0)
                r = pe_add_section(pe, ".linux", kernel, kernel_len, UKI_SECTION_ALIGN);
        if (r >= 0)
                r = pe_add_section(pe, ".initrd", p->initrd, p->initrd_len, UKI_SECTION_ALIGN);
        if (r >= 0 && signer)
                r = authenticode_sign(pe, signer);
        if (r < 0) {
                free(pe->data);
                pe->data = NULL;
                return imgerr_prefix(r, "building the UKI: ");
        }
        return 0;
}
