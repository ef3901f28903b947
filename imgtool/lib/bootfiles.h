/* What a layout's [Boot] and [Policy] sections produce beside an image:
 * IMAGE.vmlinuz, IMAGE.initramfs (keys, policy, root spec, modules) and
 * IMAGE.cmdline. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "initramfs.h"
#include "layout.h"

/* The IMA policy text the layout enforces (validated); *text is malloc'ed. */
int layout_policy_text(const struct layout *l, char **text);
/* The root= spec: Root=, else LABEL=<Label>, else UUID=<uuid>. */
int layout_root_spec(const struct layout *l, const char *uuid, char **spec);
/* The kernel command line the layout asks for ([Boot] CommandLine=,
 * trimmed; "" when unset): what IMAGE.cmdline holds, what the boot harness
 * passes, and what a UKI's .cmdline section must carry. */
int layout_kernel_cmdline(const struct layout *l, char **cmdline);

/* The initramfs a layout asks for (certs, policy, root spec, the kernel
 * modules that find the root, Init=, test hooks), for every boot artefact
 * that carries one (IMAGE.initramfs, a UKI's .initrd): call it rather than
 * filling initramfs_opts by hand.  li->o points into l and li.  Things the
 * user should know (no module folder) are appended to *warnings. */
struct layout_initramfs {
        struct initramfs_opts o;
        char *policy, *root, *modules_dir;
};
int layout_initramfs(const struct layout *l, const char *uuid, struct layout_initramfs *li, char ***warnings);
void layout_initramfs_free(struct layout_initramfs *li);

/* The files written beside IMAGE with [Boot] Kernel=: IMAGE.vmlinuz,
 * IMAGE.initramfs, IMAGE.cmdline. */
struct bootfiles_paths {
        char *vmlinuz, *initramfs, *cmdline;
};
int bootfiles_paths(const char *image, struct bootfiles_paths *p);
void bootfiles_paths_free(struct bootfiles_paths *p);

struct output;

/* The boot files being written, when the layout has Kernel=. */
struct bootfiles {
        struct output *vmlinuz, *initramfs, *cmdline;   /* NULL without Kernel= */
        uint8_t *initramfs_data;
        size_t initramfs_len;
        char *cmdline_text;
};

/* Check everything [Boot] needs (kernel, certs, policy, root spec, modules)
 * and build the initramfs in memory, then open the outputs (output.h
 * rules: flags, inputs).  Runs before compose writes its first byte. */
int bootfiles_prepare(const struct layout *l, const char *image, const char *uuid, unsigned flags,
                      const char *const *inputs, struct bootfiles *b, char ***warnings);
/* Fill the temporaries; commit renames them into place. */
int bootfiles_write(const struct layout *l, struct bootfiles *b);
int bootfiles_commit(struct bootfiles *b);
void bootfiles_abort(struct bootfiles *b);
