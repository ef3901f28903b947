/* imgtool-init (init.c): Small system helpers: the key syscalls, whole small
 * files, the pseudo filesystems, the console.
 *
 * Not a translation unit of its own: init.c includes it, in the order
 * the functions always had, so init stays one file for the compiler
 * (the same /init, bytes and all, as before the split). */

static long keyctl(int cmd, unsigned long a2, unsigned long a3, unsigned long a4)
{
        return syscall(SYS_keyctl, cmd, a2, a3, a4, 0UL);
}

static long add_key(const char *type, const char *desc, const void *payload, size_t len, long ring)
{
        return syscall(SYS_add_key, type, desc, payload, len, ring);
}

/* Read a whole small file; NUL-terminated; *len excludes the NUL. */
static char *read_file(const char *path, size_t *len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        char *buf = NULL;
        size_t cap = 0, n = 0;

        if (fd < 0)
                return NULL;
        for (;;) {
                if (n + 1 >= cap) {
                        char *g = realloc(buf, cap = cap ? cap * 2 : 4096);
                        if (!g)
                                die("out of memory reading %s", path);
                        buf = g;
                }
                ssize_t r = read(fd, buf + n, cap - n - 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        int e = errno;
                        close(fd);
                        free(buf);
                        errno = e;
                        return NULL;
                }
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        close(fd);
        buf[n] = 0;
        if (len)
                *len = n;
        return buf;
}

static void write_file(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, text, strlen(text)) < 0)
                say("warning: %s: %s", path, strerror(errno));
        if (fd >= 0)
                close(fd);
}

static void mount_or_die(const char *src, const char *dst, const char *type, unsigned long flags)
{
        mkdir(dst, 0755);
        if (mount(src, dst, type, flags, NULL) < 0 && errno != EBUSY)
                die("cannot mount %s on %s: %s", type, dst, strerror(errno));
}

static void mount_pseudo_filesystems(void)
{
        mount_or_die("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
        mount_or_die("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC);
        mount_or_die("devtmpfs", "/dev", "devtmpfs", MS_NOSUID);
        mount_or_die("securityfs", "/sys/kernel/security", "securityfs",
                     MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

/* The kernel opens /dev/console for us when the initramfs has it; make
 * sure stdio exists in any case so messages reach the console. */
static void ensure_console(void)
{
        if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
                return;
        int fd = open("/dev/console", O_RDWR | O_NOCTTY);
        if (fd < 0)
                return;
        for (int i = 0; i < 3; i++)
                if (fd != i)
                        dup2(fd, i);
        if (fd > 2)
                close(fd);
}
