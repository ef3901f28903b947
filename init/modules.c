/* imgtool-init (init.c): The kernel modules that find the root.
 *
 * Not a translation unit of its own: init.c includes it, in the order
 * the functions always had, so init stays one file for the compiler
 * (the same /init, bytes and all, as before the split). */

/* ---- kernel modules --------------------------------------------------- */

/* The modules that find the root (virtio, SCSI, AHCI, USB storage), listed
 * by imgtool in dependency order.  They are the kernel's own signed
 * modules; the kernel checks their signatures.  One that fails is reported
 * and skipped: the root may well be on another controller. */
static void load_modules(void)
{
        char *list = read_file(MODULE_LIST, NULL), *line, *next;
        int loaded = 0, failed = 0;

        if (!list)
                return; /* an initramfs without modules */
        for (line = list; line && *line; line = next) {
                char path[512];
                int fd;
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (!*line)
                        continue;
                snprintf(path, sizeof(path), MODULE_DIR "/%s", line);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)) {
                        say("warning: cannot load module %s: %s", line, strerror(errno));
                        failed++;
                } else
                        loaded++;
                if (fd >= 0)
                        close(fd);
                unlink(path);
        }
        free(list);
        say("%d kernel module(s) loaded%s", loaded, failed ? ", some failed" : "");
}
