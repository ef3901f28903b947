/* What a layout's [Boot] and [Policy] sections produce beside an image:
 * IMAGE.vmlinuz and IMAGE.initramfs (keys, policy, root spec). */
#pragma once
#include "layout.h"

/* The IMA policy text the layout enforces (validated); *text is malloc'ed. */
int layout_policy_text(const struct layout *l, char **text);
/* The root= spec: Root=, else LABEL=<Label>, else UUID=<uuid>. */
int layout_root_spec(const struct layout *l, const char *uuid, char **spec);
/* Write IMAGE.vmlinuz and IMAGE.initramfs when the layout has Kernel=. */
/* selinux_mode: the initramfs loads the binary policy se_policy (NULL: none). */
int bootfiles_write(const struct layout *l, const char *image, const char *uuid,
                    const char *selinux_mode, const void *se_policy, size_t se_policy_len);
