/* What a systemd image usually needs and a package set can easily lack
 * (docs/systemd.md, "What compose warns about"): checked on the finished
 * image when [Boot] Init= is systemd, one warning per missing piece, each
 * saying what fails at boot without it. */
#pragma once

#include <stdbool.h>

/* Is init (a path in the image) systemd: named .../systemd, or a symlink to
 * it (/sbin/init -> /lib/systemd/systemd)?  Then push a warning onto
 * *warnings for each of: udev, kmod, the merged-/usr links, a writable /var
 * on a read-only root (root_rw false), /etc/machine-id.  A negative errno
 * only for the image itself (unreadable) or memory. */
int systemdneeds_check(const char *image, const char *init, bool root_rw, char ***warnings);
