/* imgtool-init (init.c): Finding the root device: by ext4 UUID, GPT PARTUUID
 * or path, waiting for it to show up.
 *
 * Not a translation unit of its own: init.c includes it, in the order
 * the functions always had, so init stays one file for the compiler
 * (the same /init, bytes and all, as before the split). */

/* ---- finding the root device ----------------------------------------- */

struct ext4_id {
        bool is_ext4;
        uint8_t uuid[16];
        char label[17];
};

static bool read_ext4_id(const char *dev, struct ext4_id *id)
{
        uint8_t sb[1024];
        int fd = open(dev, O_RDONLY | O_CLOEXEC);
        bool ok;

        memset(id, 0, sizeof(*id));
        if (fd < 0)
                return false;
        ok = pread(fd, sb, sizeof(sb), 1024) == (ssize_t)sizeof(sb);
        close(fd);
        if (!ok)
                return false;
        id->is_ext4 = sb[0x38] == 0x53 && sb[0x39] == 0xef;
        memcpy(id->uuid, sb + 0x68, 16);
        memcpy(id->label, sb + 0x78, 16);
        return true;
}

static bool uuid_matches(const uint8_t *uuid, const char *text)
{
        char s[37];
        snprintf(s, sizeof(s),
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7],
                 uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
        return !strcasecmp(s, text);
}

/* PARTUUID=: the GPT entry of the partition dev, read from its parent disk
 * (the kernel does not export partition UUIDs to user space). */
static bool partuuid_matches(const char *dev, const char *text)
{
        const char *name = strrchr(dev, '/') + 1;
        char path[512], link[512], *parent, *slash, *s;
        uint8_t hdr[92], entry[32];
        unsigned long partno, ssize = 512;
        uint64_t lba;
        uint32_t n, esize;
        bool ok = false;
        int fd;

        snprintf(path, sizeof(path), "/sys/class/block/%s/partition", name);
        if (!(s = read_file(path, NULL)))
                return false;
        partno = strtoul(s, NULL, 10);
        free(s);
        snprintf(path, sizeof(path), "/sys/class/block/%s", name);
        ssize_t l = readlink(path, link, sizeof(link) - 1);
        if (l <= 0 || partno == 0)
                return false;
        link[l] = 0;
        if (!(slash = strrchr(link, '/')))
                return false;
        *slash = 0;
        parent = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
        snprintf(path, sizeof(path), "/sys/class/block/%.200s/queue/logical_block_size", parent);
        if ((s = read_file(path, NULL))) {
                ssize = strtoul(s, NULL, 10);
                free(s);
        }
        snprintf(path, sizeof(path), "/dev/%.200s", parent);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || ssize < 512)
                goto out;
        if (pread(fd, hdr, sizeof(hdr), (off_t)ssize) != (ssize_t)sizeof(hdr) || memcmp(hdr, "EFI PART", 8))
                goto out;
        memcpy(&lba, hdr + 72, 8);
        memcpy(&n, hdr + 80, 4);
        memcpy(&esize, hdr + 84, 4);
        if (partno > n || esize < 128 ||
            pread(fd, entry, sizeof(entry), (off_t)(lba * ssize + (partno - 1) * esize)) != (ssize_t)sizeof(entry))
                goto out;
        /* The unique GUID at 16, its first three fields little-endian. */
        const uint8_t *g = entry + 16;
        uint8_t u[16] = { g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6] };
        memcpy(u + 8, g + 8, 8);
        ok = uuid_matches(u, text);
out:
        if (fd >= 0)
                close(fd);
        return ok;
}

static bool spec_matches(const char *spec, const char *dev)
{
        struct ext4_id id;

        if (!read_ext4_id(dev, &id) || !id.is_ext4)
                return false;
        if (!strncmp(spec, "PARTUUID=", 9))
                return partuuid_matches(dev, spec + 9);
        if (!strncmp(spec, "LABEL=", 6))
                return !strcmp(id.label, spec + 6);
        if (!strncmp(spec, "UUID=", 5))
                return uuid_matches(id.uuid, spec + 5);
        return false;
}

/* One pass over the block devices; dev receives the match. */
static bool find_block_device(bool (*match)(const char *arg, const char *dev),
                              const char *arg, char *dev, size_t size)
{
        DIR *d = opendir("/sys/class/block");
        struct dirent *e;
        bool found = false;

        if (!d)
                return false;
        while (!found && (e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                snprintf(dev, size, "/dev/%.200s", e->d_name);
                found = match(arg, dev);
        }
        closedir(d);
        return found;
}

static void sleep_ms(long ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static bool path_exists(const char *arg, const char *dev)
{
        (void)arg;
        return access(dev, F_OK) == 0;
}

/* Wait up to max_seconds for the device; false if it did not come (only
 * when may_miss, else that stops the machine). */
static bool wait_for_device_max(const char *what,
                                bool (*match)(const char *arg, const char *dev),
                                const char *spec, char *dev, size_t size, int max_seconds, bool may_miss)
{
        for (int waited = 0;; waited += 100) {
                if (spec[0] == '/') {
                        snprintf(dev, size, "%s", spec);
                        if (path_exists(NULL, dev))
                                return true;
                } else if (find_block_device(match, spec, dev, size)) {
                        return true;
                }
                if (waited >= max_seconds * 1000) {
                        if (may_miss)
                                return false;
                        die("%s %s did not appear within %d s", what, spec, max_seconds);
                }
                if (waited == 3000)
                        say("waiting for %s %s ...", what, spec);
                sleep_ms(100);
        }
}

static void wait_for_device(const char *what,
                            bool (*match)(const char *arg, const char *dev),
                            const char *spec, char *dev, size_t size)
{
        wait_for_device_max(what, match, spec, dev, size, ROOT_WAIT_SECONDS, false);
}
