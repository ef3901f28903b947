/* What a layout's [Boot] and [Policy] sections produce beside an image:
 * IMAGE.vmlinuz and IMAGE.initramfs (keys, policy, root spec). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "layout.h"

/* The IMA policy text the layout enforces (validated); *text is malloc'ed. */
int layout_policy_text(const struct layout *l, char **text);
/* [Verity]: what the initramfs sets up besides IMA (the .fs-verity keyring,
 * the signed IPE policy, which *ipe_der then holds: free it after o is used). */
struct initramfs_opts;
int layout_initramfs_verity(const struct layout *l, struct initramfs_opts *o, uint8_t **ipe_der);
/* The root= spec: Root=, else LABEL=<Label>, else UUID=<uuid>. */
int layout_root_spec(const struct layout *l, const char *uuid, char **spec);
struct output;

/* IMAGE.vmlinuz and IMAGE.initramfs, when the layout has Kernel=. */
struct bootfiles {
        struct output *vmlinuz, *initramfs;   /* NULL without Kernel= */
        uint8_t *initramfs_data;
        size_t initramfs_len;
        /* set by the caller before bootfiles_prepare: the initramfs loads
         * this binary SELinux policy in this mode (NULL: no SELinux) */
        const char *selinux_mode;
        const void *selinux_policy;
        size_t selinux_policy_len;
};

/* Check everything [Boot] needs (kernel, certs, policy, root spec) and
 * build the initramfs in memory, then open both outputs (output.h rules:
 * flags, inputs).  Runs before compose writes its first byte. */
int bootfiles_prepare(const struct layout *l, const char *image, const char *uuid, unsigned flags,
                      const char *const *inputs, struct bootfiles *b);
/* Fill the temporaries; commit renames both into place. */
int bootfiles_write(const struct layout *l, struct bootfiles *b);
int bootfiles_commit(struct bootfiles *b);
void bootfiles_abort(struct bootfiles *b);
