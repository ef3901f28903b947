/* What a layout's [Boot] and [Policy] sections produce beside an image:
 * IMAGE.vmlinuz, IMAGE.initramfs (keys, policy, root spec, modules) and
 * IMAGE.cmdline. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "boot/initramfs.h"
#include "layout/layout.h"

/* The IMA policy text the layout enforces (validated); *text is malloc'ed. */
int bootfiles_ima_policy_text(const struct layout *l, char **text);
/* The root= spec: Root=, else LABEL=<Label>, else UUID=<uuid>; a disk
 * passes uuid as PARTUUID=<its root partition>, used unless Root= is set. */
int bootfiles_root_spec(const struct layout *l, const char *uuid, char **spec);
/* The kernel command line the layout asks for ([Boot] CommandLine=,
 * trimmed; "" when unset): what IMAGE.cmdline holds, what the boot harness
 * passes, and what a UKI's .cmdline section must carry. */
int bootfiles_kernel_cmdline(const struct layout *l, char **cmdline);

/* The SELinux policy the initramfs loads, in this mode ("enforcing" or
 * "permissive"; NULL: no SELinux).  It comes from the image's own packages
 * (labels.h), not from the layout alone, so compose passes it in. */
struct boot_selinux {
        const char *mode;
        const void *policy;
        size_t policy_len;
};

/* The initramfs a layout asks for (certs, policy, root spec, the kernel
 * modules that find the root, Init=, test hooks, the SELinux policy in se,
 * [Verity]'s .fs-verity keyring and signed IPE policy), for every boot
 * artefact that carries one (IMAGE.initramfs, a UKI's .initrd): call it
 * rather than filling initramfs_opts by hand.  li->o points into l, se and
 * li.  se may be NULL.  Things the user should know (no module folder) are
 * appended to *warnings. */
struct bootfiles_initramfs {
        struct initramfs_opts o;
        char *policy, *root, *modules_dir;
        uint8_t *ipe_der;
};
int bootfiles_initramfs(const struct layout *l, const char *uuid, const struct boot_selinux *se,
                     struct bootfiles_initramfs *li, char ***warnings);
void bootfiles_initramfs_free(struct bootfiles_initramfs *li);

/* The files written beside IMAGE with [Boot] Kernel=: IMAGE.vmlinuz,
 * IMAGE.initramfs, IMAGE.cmdline. */
struct bootfiles_paths {
        char *vmlinuz, *initramfs, *cmdline;
};
int bootfiles_paths(const char *image, struct bootfiles_paths *p);
void bootfiles_paths_free(struct bootfiles_paths *p);

struct output;
struct bootfiles_build;

/* The boot files being written, when the layout has Kernel=. */
struct bootfiles {
        struct output *vmlinuz, *initramfs, *cmdline;   /* NULL without Kernel= */
        uint8_t *initramfs_data;
        size_t initramfs_len;
        char *cmdline_text;
        struct bootfiles_build *build;   /* the initramfs until bootfiles_write */
        const char *layout_path;
        /* set by the caller before bootfiles_prepare (NULL mode: no SELinux) */
        struct boot_selinux selinux;
};

/* Check everything [Boot] needs (kernel, policy, root spec, modules folder)
 * and gather the initramfs's parts, then open the outputs (output.h
 * rules: flags, inputs).  Runs before compose writes its first byte. */
int bootfiles_prepare(const struct layout *l, const char *image, const char *uuid, unsigned flags,
                      const char *const *inputs, struct bootfiles *b, char ***warnings);
/* Build the initramfs in memory on a thread of its own (certs, modules,
 * gzip -9: about a second on a big policy), overlapping the image's
 * writing; bootfiles_write and bootfiles_abort join it.  Call it after the
 * last fork (a child must not inherit a thread midway).  l, the layout,
 * and the caller's SELinux policy must outlive the join. */
int bootfiles_start(struct bootfiles *b);
/* Wait for the initramfs (its failure: "LAYOUT: [Boot]: ..."), fill the
 * temporaries; commit renames them into place. */
int bootfiles_write(const struct layout *l, struct bootfiles *b);
int bootfiles_commit(struct bootfiles *b);
void bootfiles_abort(struct bootfiles *b);
