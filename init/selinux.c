/* imgtool-init (init.c): SELinux: the image's binary policy loaded, the mode
 * set.
 *
 * Not a translation unit of its own: init.c includes it, in the order
 * the functions always had, so init stays one file for the compiler
 * (the same /init, bytes and all, as before the split). */

/* ---- SELinux ----------------------------------------------------------- */

/* The image's binary policy into the kernel, as systemd or load_policy
 * would do it: written whole to selinuxfs' load, then the mode.  It comes
 * from the initramfs (compose took it from the image's own policy), and it
 * is loaded before the IMA policy so that IMA rules may name SELinux types
 * (obj_type=...), which the kernel refuses while no policy is loaded. */
static void load_selinux(const struct config *c)
{
        bool enforcing = !strcmp(c->selinux, "enforcing");
        size_t len = 0, done = 0;
        char *data;
        int fd;

        if (!c->selinux[0])
                return;
        if (mount("selinuxfs", "/sys/fs/selinux", "selinuxfs", MS_NOSUID | MS_NOEXEC, NULL) < 0 && errno != EBUSY) {
                if (!enforcing) {
                        say("warning: SELinux is not active in this kernel (%s): booting without it", strerror(errno));
                        return;
                }
                die("cannot mount selinuxfs: %s (SELinux not active: boot with security=selinux or lsm=...,selinux)",
                    strerror(errno));
        }
        data = read_file(SELINUX_POLICY_PATH, &len);
        if (!data)
                die("%s: %s", SELINUX_POLICY_PATH, strerror(errno));
        fd = open("/sys/fs/selinux/load", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                die("/sys/fs/selinux/load: %s", strerror(errno));
        while (done < len) {
                ssize_t n = write(fd, data + done, len - done);
                if (n <= 0)
                        die("the kernel rejected the SELinux policy: %s", strerror(errno));
                done += (size_t)n;
        }
        close(fd);
        free(data);
        unlink(SELINUX_POLICY_PATH);
        write_file("/sys/fs/selinux/enforce", enforcing ? "1" : "0");
        say("SELinux policy loaded (%zu bytes), %s", len, c->selinux);
}
