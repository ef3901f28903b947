/* imgtool-init (init.c): The runner disk: a test's script, found by its
 * header (imgtool.run=).
 *
 * Not a translation unit of its own: init.c includes it, in the order
 * the functions always had, so init stays one file for the compiler
 * (the same /init, bytes and all, as before the split). */

/* ---- runner disk ----------------------------------------------------- */

static bool has_run_magic(const char *arg, const char *dev)
{
        char head[16];
        int fd = open(dev, O_RDONLY | O_CLOEXEC);
        bool ok;

        (void)arg;
        if (fd < 0)
                return false;
        ok = pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
             !memcmp(head, RUN_MAGIC, sizeof(head));
        close(fd);
        return ok;
}

/* Header: magic (16 bytes), script length (u32 little-endian); the script
 * starts at byte 512. */
static char *read_run_script(const char *spec)
{
        char dev[256];
        uint8_t head[RUN_HEADER];
        char *script;
        uint32_t len;
        int fd;

        /* "auto": the disk whose header matches (NVMe numbering is not stable) */
        if (!strcmp(spec, "auto-if-present")) {
                if (!wait_for_device_max("runner disk", has_run_magic, "auto", dev, sizeof(dev),
                                         RUN_PROBE_SECONDS, true)) {
                        say("no runner disk: booting /sbin/init");
                        return NULL;
                }
        } else {
                wait_for_device("runner disk", has_run_magic, spec, dev, sizeof(dev));
        }
        fd = open(dev, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head))
                die("runner disk %s: %s", dev, strerror(errno));
        if (memcmp(head, RUN_MAGIC, 16))
                die("runner disk %s: no IMGTOOL-RUN-V1 header", dev);
        len = (uint32_t)head[16] | (uint32_t)head[17] << 8 | (uint32_t)head[18] << 16 |
              (uint32_t)head[19] << 24;
        if (len > RUN_MAX)
                die("runner disk %s: script of %u bytes is too long", dev, len);
        script = malloc(len + 1);
        if (!script)
                die("out of memory");
        if (pread(fd, script, len, RUN_HEADER) != (ssize_t)len)
                die("runner disk %s: short script", dev);
        close(fd);
        script[len] = 0;
        if (strlen(script) != len)
                die("runner disk %s: script contains a NUL byte", dev);
        return script;
}
