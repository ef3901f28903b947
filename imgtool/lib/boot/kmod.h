/* Kernel modules for the initramfs: the ones that find the root on common
 * devices, taken from the kernel's own module folder (lib/modules/VERSION
 * of its package), with their dependencies in load order.
 *
 * Dependencies come from each module's .modinfo "depends=" (what depmod
 * writes into modules.dep, which a kernel package unpacked without depmod
 * lacks).  Modules are decompressed here (.ko.xz/.zst/.gz, libarchive): the
 * signature the kernel checks is appended to the uncompressed module, so
 * they stay the kernel's signed modules and load with plain finit_module,
 * whether or not the kernel has CONFIG_MODULE_DECOMPRESS. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Tried for every image with a kernel; a module the kernel has built in
 * or lacks is left out. */
extern const char *const kmod_root_modules[];

struct kmod {
        char *name;     /* "virtio_blk" */
        char *file;     /* the file in the module folder */
        uint8_t *data;  /* the uncompressed module */
        size_t len;
};

struct kmod_set {
        struct kmod *v; /* in load order: dependencies first */
        size_t n, cap;
        size_t missing; /* default modules neither built in nor in the folder */
};

/* The version string in a bzImage's setup header ("6.12.117+deb12-cloud-amd64"). */
int kmod_kernel_version(const char *vmlinuz, char *ver, size_t size);

/* The module folder of the kernel at vmlinuz: lib/modules/VERSION beside
 * it, in its unpacked package (root/lib/modules, ../lib/modules,
 * ../usr/lib/modules), else /lib/modules/VERSION.  -ENOENT if none. */
int kmod_find_dir(const char *vmlinuz, char **dir);

/* kmod_root_modules plus extra (names; each must exist or be built in),
 * with dependencies, in load order. */
int kmod_resolve(const char *dir, char *const *extra, struct kmod_set *out);
void kmod_set_free(struct kmod_set *s);
