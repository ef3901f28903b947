/* The rule behind compose's warnings for systemd images (systemdneeds.h).
 * Each check is a failure seen booting Debian 12's systemd 252 from a set
 * that lacked the piece (issue 20; docs/systemd.md). */
#include "image/systemdneeds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/strv.h"
#include "base/util.h"
#include "ext4/ext4walk.h"
#include "image/interpcheck.h"

#define FSTAB_MAX (1u << 20)

static bool ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && !strcmp(s + n - m, suffix);
}

static bool is_systemd(struct ext4walk *w, const char *init)
{
        struct ext4walk_entry e;

        if (ends_with(init, "/systemd"))
                return true;
        return ext4walk_stat(w, init, &e) == 0 && S_ISLNK(e.mode) && ends_with(e.target, "/systemd");
}

/* Any of paths, followed as the kernel follows them, is a regular file. */
static bool has_program(struct ext4walk *w, const char *const *paths)
{
        struct ext4walk_entry e;

        for (size_t i = 0; paths[i]; i++)
                if (interpcheck_follow(w, paths[i], &e) == 0 && S_ISREG(e.mode))
                        return true;
        return false;
}

/* Does /etc/fstab mount something on mountpoint (its second field)? */
static bool fstab_mounts(struct ext4walk *w, const char *mountpoint)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        bool found = false;

        if (ext4walk_read_file(w, "/etc/fstab", FSTAB_MAX, &text, &len) < 0)
                return false;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && !found;
             line = strtok_r(NULL, "\n", &save)) {
                char *f1, *f2, *s2 = NULL;
                if (line[strspn(line, " \t")] == '#')
                        continue;
                f1 = strtok_r(line, " \t", &s2);
                f2 = f1 ? strtok_r(NULL, " \t", &s2) : NULL;
                found = f2 && !strcmp(f2, mountpoint);
        }
        return found;
}

static int check(struct ext4walk *w, const char *init, bool root_rw, char ***warnings)
{
        static const char *const udevd[] = { "/usr/lib/systemd/systemd-udevd", "/lib/systemd/systemd-udevd", NULL };
        static const char *const modprobe[] = { "/usr/sbin/modprobe", "/sbin/modprobe", "/usr/bin/kmod", "/bin/kmod", NULL };
        static const char *const merged[] = { "/bin", "/sbin", "/lib", "/lib64", NULL };
        struct ext4walk_entry e;

        if (!has_program(w, udevd) &&
            strv_pushf(warnings, "[Boot] Init=%s is systemd but the image has no systemd-udevd (udev): device "
                       "units such as dev-ttyS0.device never appear, so the serial getty and mounts of disks "
                       "wait 90 s and fail", init) < 0)
                return -ENOMEM;
        if (!has_program(w, modprobe) &&
            strv_pushf(warnings, "[Boot] Init=%s is systemd but the image has no modprobe (kmod): systemd "
                       "and udev cannot load kernel modules", init) < 0)
                return -ENOMEM;
        for (size_t i = 0; merged[i]; i++)
                if (ext4walk_stat(w, merged[i], &e) < 0 &&
                    strv_pushf(warnings, "[Boot] Init=%s is systemd but the image has no %s (the merged-/usr "
                               "link to usr%s, made by a scriptlet on Debian and shipped by Fedora's filesystem "
                               "package): programs that name a path under it cannot start", init, merged[i],
                               merged[i]) < 0)
                        return -ENOMEM;
        if (!root_rw && !fstab_mounts(w, "/var") &&
            strv_pushf(warnings, "[Boot] Init=%s is systemd on a read-only root but /etc/fstab mounts nothing "
                       "on /var: systemd-logind and other services fail setting up /var/lib (Read-only file "
                       "system); mount a tmpfs or a state partition there", init) < 0)
                return -ENOMEM;
        if (!root_rw && ext4walk_stat(w, "/etc/machine-id", &e) < 0 &&
            strv_pushf(warnings, "[Boot] Init=%s is systemd on a read-only root but the image has no "
                       "/etc/machine-id: every boot is a first boot that cannot write /etc; ship an empty one "
                       "(systemd then puts a new id over it at each boot)", init) < 0)
                return -ENOMEM;
        return 0;
}

int systemdneeds_check(const char *image, const char *init, bool root_rw, char ***warnings)
{
        struct ext4walk *w;
        int r = ext4walk_open(image, &w);

        if (r < 0)
                return r;
        r = is_systemd(w, init) ? check(w, init, root_rw, warnings) : 0;
        ext4walk_close(w);
        imgerr_clear();         /* lookups that failed are the answer, not errors */
        return r;
}
