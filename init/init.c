/* imgtool-init: PID 1 of imgtool's initramfs.
 *
 * Loads the IMA certs into a locked _ima keyring and the IMA policy, then
 * mounts the image and hands over to its /sbin/init.  Every failure stops
 * the machine with a line on the console saying why: the system never runs
 * without enforcement.  Static, no shell, no libraries beyond libc.
 *
 * Files it reads come from `imgtool initramfs` (imgtool/lib/boot/initramfs.h).
 * Kernel parameters (honoured only if the initramfs was made with
 * --cmdline-test, because the runner executes a script as root):
 *   imgtool.test=1         printk_ratelimit=0 so every IMA audit line is kept
 *   imgtool.run=auto|DEV   after switching root, run the script stored on a
 *                          runner disk (found by its header, or DEV) with
 *                          /bin/sh -c, print IMGTOOL-EXIT=<status>, power off
 *   imgtool.run=auto-if-present  the same when a runner disk shows up within
 *                          RUN_PROBE_SECONDS of the root, else boot on: what a
 *                          test UKI carries in its fixed .cmdline
 *   imgtool.out=DEV        the script's stdout/stderr go to DEV (raw), e.g.
 *                          /dev/ttyS1; default: the console, with a
 *                          controlling terminal (interactive use)
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/elf.h"

#define CONF_PATH "/etc/imgtool/init.conf"
#define POLICY_PATH "/etc/imgtool/ima-policy"
#define KEY_DIR "/etc/imgtool/keys"
#define MODULE_LIST "/etc/imgtool/modules"
#define LUA_RUNNER "/etc/imgtool/lua"                     /* INITRAMFS_LUA_RUNNER */
#define LUA_RUNNER_COPY "/.imgtool-scriptlet-mark.lua"     /* INITRAMFS_LUA_RUNNER_COPY */
#define MODULE_DIR "/lib/modules"
#define IMA_POLICY "/sys/kernel/security/ima/policy"
#define IPE_POLICY_PATH "/etc/imgtool/ipe-policy.p7s"
#define IPE_DIR "/sys/kernel/security/ipe"
#define VERITY_REQUIRE_SIGS "/proc/sys/fs/verity/require_signatures"
#define NEWROOT "/newroot"
#define SELINUX_POLICY_PATH "/etc/imgtool/selinux-policy"
#define RUN_MAGIC "IMGTOOL-RUN-V1\n"   /* 16 bytes with the NUL */
#define RUN_HEADER 512
#define RUN_MAX (16u << 20)
#define RUN_ARG_MAX (120u << 10)        /* below MAX_ARG_STRLEN, with the environment */
#define RUN_SCRIPT_FILE "/dev/.imgtool-run-script"
#define ROOT_WAIT_SECONDS 30
#define RUN_PROBE_SECONDS 2

struct config {
        char root[256];
        char init[256];
        bool rw;
        bool cmdline_test;
        char selinux[16];        /* "enforcing", "permissive", or "" (none) */
        bool verity_keyring;     /* certs into .fs-verity, require_signatures=1 */
        char ipe_policy[64];     /* name of the signed IPE policy to load and activate */
        /* from the kernel command line, test images only */
        bool test;
        char run[256];
        char out[256];
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
        va_list ap;
        char line[1024];
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n > sizeof(line) - 2)
                n = sizeof(line) - 2;
        line[n++] = '\n';
        if (write(STDERR_FILENO, "imgtool-init: ", 14) < 0 || write(STDERR_FILENO, line, (size_t)n) < 0)
                return;
}

static void power_off(void)
{
        sync();
        reboot(RB_POWER_OFF);
        for (;;)
                pause();
}

/* Never continue without enforcement: explain, then stop the machine. */
static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
        va_list ap;
        char msg[1024];

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        say("FATAL: %s", msg);
        say("IMGTOOL-INIT-FAILED: powering off");
        power_off();
        __builtin_unreachable();
}

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

static void copy_value(char *dst, size_t size, const char *v, size_t n)
{
        if (n >= size)
                die("configuration value too long: %.40s...", v);
        memcpy(dst, v, n);
        dst[n] = 0;
}

static void read_config(struct config *c)
{
        char *text = read_file(CONF_PATH, NULL), *line, *next;

        if (!text)
                die("%s: %s (not an imgtool initramfs?)", CONF_PATH, strerror(errno));
        for (line = text; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (*line == '#' || *line == 0)
                        continue;
                char *eq = strchr(line, '=');
                if (!eq)
                        die("%s: bad line '%s'", CONF_PATH, line);
                *eq = 0;
                const char *v = eq + 1;
                if (!strcmp(line, "root"))
                        copy_value(c->root, sizeof(c->root), v, strlen(v));
                else if (!strcmp(line, "rw"))
                        c->rw = !strcmp(v, "1");
                else if (!strcmp(line, "init"))
                        copy_value(c->init, sizeof(c->init), v, strlen(v));
                else if (!strcmp(line, "cmdline_test"))
                        c->cmdline_test = !strcmp(v, "1");
                else if (!strcmp(line, "selinux"))
                        copy_value(c->selinux, sizeof(c->selinux), v, strlen(v));
                else if (!strcmp(line, "verity_keyring"))
                        c->verity_keyring = !strcmp(v, "1");
                else if (!strcmp(line, "ipe_policy"))
                        copy_value(c->ipe_policy, sizeof(c->ipe_policy), v, strlen(v));
                else
                        die("%s: unknown key '%s'", CONF_PATH, line);
        }
        free(text);
        if (!c->root[0])
                die("%s: no root=", CONF_PATH);
}

static void read_cmdline(struct config *c)
{
        char *cmdline = read_file("/proc/cmdline", NULL);
        if (!cmdline)
                die("/proc/cmdline: %s", strerror(errno));
        for (char *p = cmdline; *p;) {
                size_t n = strcspn(p, " \t\n");
                bool ours = !strncmp(p, "imgtool.", 8);
                /* ima_appraise=log/fix/off would turn enforcement into a log
                 * line; only a test initramfs may boot like that. */
                if (!strncmp(p, "ima_appraise=", 13) && strncmp(p, "ima_appraise=enforce", n) &&
                    !c->cmdline_test)
                        die("refusing '%.*s' on the kernel command line: IMA must enforce", (int)n, p);
                if (ours && !c->cmdline_test) {
                        say("ignoring '%.*s': this initramfs was made without --cmdline-test (layout: [Boot] TestHooks=yes)", (int)n, p);
                } else if (ours && !strncmp(p, "imgtool.test=", 13)) {
                        c->test = p[13] == '1';
                } else if (ours && !strncmp(p, "imgtool.run=", 12)) {
                        copy_value(c->run, sizeof(c->run), p + 12, n - 12);
                } else if (ours && !strncmp(p, "imgtool.out=", 12)) {
                        copy_value(c->out, sizeof(c->out), p + 12, n - 12);
                }
                p += n;
                p += strspn(p, " \t\n");
        }
        free(cmdline);
}

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

/* ---- IMA: keyring and policy ----------------------------------------- */

static int load_certs(long ring, const char *ring_name)
{
        DIR *d = opendir(KEY_DIR);
        struct dirent **names;
        int n, loaded = 0;

        if (!d)
                die("%s: %s", KEY_DIR, strerror(errno));
        closedir(d);
        n = scandir(KEY_DIR, &names, NULL, alphasort);
        if (n < 0)
                die("%s: %s", KEY_DIR, strerror(errno));
        for (int i = 0; i < n; i++) {
                char path[512];
                size_t len;
                char *der;

                if (names[i]->d_name[0] == '.')
                        goto next;
                snprintf(path, sizeof(path), "%s/%s", KEY_DIR, names[i]->d_name);
                der = read_file(path, &len);
                if (!der)
                        die("%s: %s", path, strerror(errno));
                long key = add_key("asymmetric", NULL, der, len, ring);
                if (key < 0)
                        die("cannot add %s to the %s keyring: %s (kernel lacks the key's algorithm?)",
                            path, ring_name, strerror(errno));
                free(der);
                loaded++;
        next:
                free(names[i]);
        }
        free(names);
        return loaded;
}

/* Keyrings the kernel made and linked nowhere (.fs-verity) are found the
 * way keyctl's "%:NAME" finds them: their line in /proc/keys. */
static long find_kernel_keyring(const char *name)
{
        char *text = read_file("/proc/keys", NULL), *line, *next;
        size_t n = strlen(name);
        long id = -1;

        if (!text)
                return -1;
        for (line = text; line && *line && id < 0; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                /* "3a1b2c4d I--Q---     1 perm 1f0b0000     0     0 keyring   .fs-verity: empty" */
                char *type = strstr(line, " keyring ");
                if (!type)
                        continue;
                char *desc = type + 9;
                desc += strspn(desc, " ");
                if (!strncmp(desc, name, n) && desc[n] == ':')
                        id = strtol(line, NULL, 16);
        }
        free(text);
        return id;
}

/* fs-verity builtin signatures: the certs go into .fs-verity, nothing can
 * be added afterwards, and files without a valid signature cannot be
 * opened. */
static void setup_verity_keyring(void)
{
        long ring = find_kernel_keyring(".fs-verity");
        if (ring < 0)
                die("no .fs-verity keyring in /proc/keys (kernel without CONFIG_FS_VERITY_BUILTIN_SIGNATURES?)");
        int n = load_certs(ring, ".fs-verity");
        if (n == 0)
                die("no certificate in %s", KEY_DIR);
        if (keyctl(KEYCTL_RESTRICT_KEYRING, (unsigned long)ring, 0, 0) < 0)
                die("cannot restrict the .fs-verity keyring: %s", strerror(errno));
        if (keyctl(KEYCTL_SETPERM, (unsigned long)ring, 0x0b0b0000UL, 0) < 0)
                die("cannot lock the .fs-verity keyring: %s", strerror(errno));
        int fd = open(VERITY_REQUIRE_SIGS, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "1", 1) != 1)
                die("cannot set %s: %s", VERITY_REQUIRE_SIGS, strerror(errno));
        close(fd);
        say("%d key(s) in the .fs-verity keyring, keyring locked, signatures required", n);
}

/* IPE: the signed policy (checked by the kernel against the secondary and
 * platform keyrings), then activated.  Without it nothing would be
 * enforced, so any failure stops the machine. */
static void load_ipe_policy(const char *name)
{
        size_t len;
        char *der = read_file(IPE_POLICY_PATH, &len), path[256];
        int fd;

        if (!der)
                die("%s: %s", IPE_POLICY_PATH, strerror(errno));
        fd = open(IPE_DIR "/new_policy", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                die(IPE_DIR "/new_policy: %s (kernel without IPE, or ipe not in lsm=?)", strerror(errno));
        if (write(fd, der, len) != (ssize_t)len)
                die("the kernel refused the IPE policy: %s (signed by a key outside the secondary/platform keyrings?)",
                    strerror(errno));
        close(fd);
        free(der);
        snprintf(path, sizeof(path), IPE_DIR "/policies/%s/active", name);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "1", 1) != 1)
                die("cannot activate IPE policy %s: %s", name, strerror(errno));
        close(fd);
        say("IPE policy %s loaded and active", name);
}

/* The kernel looks the keyring up by name ("_ima") in the user keyring of
 * the first appraised process (root), so it lives in root's user keyring. */
static void setup_ima_keyring(void)
{
        long user = keyctl(KEYCTL_GET_KEYRING_ID, (unsigned long)KEY_SPEC_USER_KEYRING, 1, 0);
        if (user < 0)
                die("cannot get root's user keyring: %s", strerror(errno));
        long ring = add_key("keyring", "_ima", NULL, 0, user);
        if (ring < 0)
                die("cannot create the _ima keyring: %s", strerror(errno));
        int n = load_certs(ring, "_ima");
        if (n == 0)
                die("no certificate in %s", KEY_DIR);
        /* No restriction type: nothing can be linked in any more. */
        if (keyctl(KEYCTL_RESTRICT_KEYRING, (unsigned long)ring, 0, 0) < 0)
                die("cannot restrict the _ima keyring: %s", strerror(errno));
        /* possessor and user: view, read, search; no write, no setattr */
        if (keyctl(KEYCTL_SETPERM, (unsigned long)ring, 0x0b0b0000UL, 0) < 0)
                die("cannot lock the _ima keyring: %s", strerror(errno));
        say("%d key(s) in the _ima keyring, keyring locked", n);
}

static bool has_appraise_rule(const char *text)
{
        for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                line += strspn(line, " \t");
                if (!strncmp(line, "appraise", 8) && (line[8] == ' ' || line[8] == '\t'))
                        return true;
        }
        return false;
}

/* The kernels this targets accept one policy write per boot, so the whole
 * text goes in with one open; a rule the kernel rejects fails the write. */
static void load_policy(bool other_enforcement)
{
        size_t len, done = 0;
        char *text = read_file(POLICY_PATH, &len);
        int fd;

        if (!text)
                die("%s: %s", POLICY_PATH, strerror(errno));
        if (!has_appraise_rule(text) && !other_enforcement)
                die("%s has no appraise rule: nothing would be enforced", POLICY_PATH);
        if (access("/sys/kernel/security/ima", F_OK) < 0)
                die("the kernel has no IMA (/sys/kernel/security/ima missing)");
        fd = open(IMA_POLICY, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                die("%s: %s (policy already loaded?)", IMA_POLICY, strerror(errno));
        while (done < len) {
                ssize_t n = write(fd, text + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        die("the kernel rejected the IMA policy: %s (see dmesg for the rule)",
                            n < 0 ? strerror(errno) : "short write");
                done += (size_t)n;
        }
        if (close(fd) < 0)
                die("the kernel rejected the IMA policy on close: %s", strerror(errno));
        free(text);
        say("IMA policy loaded (%zu bytes)", len);
}

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

/* ---- switching root -------------------------------------------------- */

static void mount_root(const struct config *c)
{
        char dev[256];
        unsigned long flags = c->rw ? 0 : MS_RDONLY;

        wait_for_device("root", spec_matches, c->root, dev, sizeof(dev));
        if (mount(dev, NEWROOT, "ext4", flags, NULL) < 0)
                die("cannot mount %s (%s) on %s as ext4: %s", c->root, dev, NEWROOT, strerror(errno));
        say("root %s (%s) mounted %s", c->root, dev, c->rw ? "read-write" : "read-only");
}

static void move_to_newroot(const char *from)
{
        char to[256];
        snprintf(to, sizeof(to), NEWROOT "%s", from);
        if (mount(from, to, NULL, MS_MOVE, NULL) < 0) {
                say("warning: cannot move %s to %s: %s", from, to, strerror(errno));
                umount2(from, MNT_DETACH);
        }
}

/* Scriptlets=run: the Lua runner the initramfs carries goes into the
 * (read-write, throw-away) root, where the runner disk's script calls it. */
static void copy_lua_runner(void)
{
        size_t len = 0;
        char *data = read_file(LUA_RUNNER, &len);
        int fd;

        if (!data)
                return;
        fd = open(NEWROOT LUA_RUNNER_COPY, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        if (fd < 0 || write(fd, data, len) != (ssize_t)len)
                say("warning: cannot copy the Lua runner to the root: %s", strerror(errno));
        if (fd >= 0)
                close(fd);
        free(data);
        unlink(LUA_RUNNER);
}

/* Free the initramfs memory we know about; the rest is tiny. */
static void remove_initramfs_files(void)
{
        DIR *d = opendir(KEY_DIR);
        struct dirent *e;
        if (d) {
                while ((e = readdir(d)))
                        if (e->d_name[0] != '.')
                                unlinkat(dirfd(d), e->d_name, 0);
                closedir(d);
        }
        rmdir(KEY_DIR);
        unlink(CONF_PATH);
        unlink(POLICY_PATH);
        unlink(MODULE_LIST);
        unlink(IPE_POLICY_PATH);
        rmdir("/etc/imgtool");
        unlink("/init");
}

static void switch_root(void)
{
        move_to_newroot("/dev");
        move_to_newroot("/proc");
        move_to_newroot("/sys");
        remove_initramfs_files();
        if (chdir(NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 ||
            chroot(".") < 0 || chdir("/") < 0)
                die("cannot switch to the new root: %s", strerror(errno));
}

/* ---- after the switch ------------------------------------------------ */

static char *const shell_env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root", "TERM=linux", "LANG=C", NULL,
};

static void set_raw(int fd)
{
        struct termios t;
        if (tcgetattr(fd, &t) == 0) {
                cfmakeraw(&t);
                tcsetattr(fd, TCSANOW, &t);
        }
}

/* The script's output: a raw device (byte-exact for the harness), or the
 * console as controlling terminal so an interactive shell gets ^C. */
static void setup_child_stdio(const struct config *c)
{
        setsid();
        if (c->out[0]) {
                int fd = open(c->out, O_RDWR | O_NOCTTY);
                if (fd < 0) {
                        say("cannot open %s: %s", c->out, strerror(errno));
                        _exit(125);
                }
                set_raw(fd);
                int null = open("/dev/null", O_RDONLY);
                if (null >= 0)
                        dup2(null, 0);
                dup2(fd, 1);
                dup2(fd, 2);
                return;
        }
        char active[64] = "console", tty[80];
        char *name = read_file("/sys/class/tty/console/active", NULL);
        if (name) {
                /* "tty0 ttyS0": the last one is the one that takes input */
                char *last = strrchr(name, ' ');
                snprintf(active, sizeof(active), "%s", last ? last + 1 : name);
                active[strcspn(active, "\n")] = 0;
                free(name);
        }
        snprintf(tty, sizeof(tty), "/dev/%s", active);
        int fd = open(tty, O_RDWR);
        if (fd < 0)
                return;
        ioctl(fd, TIOCSCTTY, 1);
        for (int i = 0; i < 3; i++)
                dup2(fd, i);
        if (fd > 2)
                close(fd);
}

static int run_script(const struct config *c, const char *script)
{
        pid_t child = fork();
        int status;

        if (child < 0)
                die("fork: %s", strerror(errno));
        if (child == 0) {
                setup_child_stdio(c);
                char *argv[] = { "sh", "-c", (char *)script, NULL };
                /* One argument holds at most 128 KiB (MAX_ARG_STRLEN): a
                 * longer script goes to a file on /dev (memory, never the
                 * root disk) and sh reads it from there. */
                if (strlen(script) > RUN_ARG_MAX) {
                        int fd = open(RUN_SCRIPT_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                        if (fd < 0 || write(fd, script, strlen(script)) != (ssize_t)strlen(script)) {
                                fprintf(stderr, "imgtool-init: cannot write %s: %s\n", RUN_SCRIPT_FILE,
                                        strerror(errno));
                                _exit(126);
                        }
                        close(fd);
                        argv[1] = RUN_SCRIPT_FILE;
                        argv[2] = NULL;
                }
                execve("/bin/sh", argv, shell_env);
                fprintf(stderr, "imgtool-init: cannot run /bin/sh: %s\n", strerror(errno));
                _exit(126);
        }
        /* As PID 1 we also reap orphans until our child is done. */
        for (;;) {
                pid_t p = wait(&status);
                if (p == child)
                        break;
                if (p < 0 && errno != EINTR)
                        die("wait: %s", strerror(errno));
        }
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

static void finish_runner(const struct config *c, int status)
{
        char marker[64];
        int n = snprintf(marker, sizeof(marker), "\nIMGTOOL-EXIT=%d\n", status);

        kill(-1, SIGKILL);
        sync();
        if (c->rw)
                mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
        if (write(STDOUT_FILENO, marker, (size_t)n) < 0)
                say("IMGTOOL-EXIT=%d", status);
        power_off();
}

/* ---- why a program cannot run ---------------------------------------- */

/* ENOENT for a program that is there: the kernel could not open what the
 * program names, its ELF interpreter (PT_INTERP) or its "#!" interpreter. */
static void explain_enoent(const char *prog, char *why, size_t size)
{
        static char head[ELF_HEAD_BYTES];
        char interp[256];
        ssize_t n = -1;
        int fd = open(prog, O_RDONLY | O_CLOEXEC), r = 0;

        if (fd >= 0) {
                n = read(fd, head, sizeof(head));
                close(fd);
        }
        if (n > 0)
                r = elf_interpreter(head, (size_t)n, interp, sizeof(interp));
        if (r == 1 && access(interp, F_OK) < 0)
                snprintf(why, size, "the program is there, but its %s interpreter %s is not in the image: "
                         "install it, or the link that should lead to it (merged /usr: /lib64 -> usr/lib64)",
                         head[0] == '#' ? "#!" : "ELF", interp);
        else
                snprintf(why, size, "the program is there, but something the kernel needs to start it "
                         "is missing%s%s", r == 1 ? "; its interpreter is " : "", r == 1 ? interp : "");
}

/* EACCES: the mode, or IMA appraisal, which refuses a program without a
 * valid signature from a key in the _ima keyring (the kernel's audit line
 * "appraise_data" above names the file it refused). */
static void explain_eacces(const char *prog, char *why, size_t size)
{
        struct stat st;
        char sig[8];

        if (stat(prog, &st) == 0 && (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)))
                snprintf(why, size, "not an executable file (mode %04o)", (unsigned)(st.st_mode & 07777));
        else if (getxattr(prog, "security.ima", sig, sizeof(sig)) < 0 && errno == ENODATA)
                snprintf(why, size, "IMA appraisal refused it: it has no security.ima signature");
        else
                snprintf(why, size, "IMA appraisal refused it or its interpreter: a signature not made by a "
                         "key in the _ima keyring, or content changed since it was signed");
}

static void explain_exec_failure(const char *prog, int err, char *why, size_t size)
{
        struct stat st;

        if (err == ENOENT && lstat(prog, &st) < 0)
                snprintf(why, size, "the image has no such program: install one, or set [Boot] Init=");
        else if (err == ENOENT)
                explain_enoent(prog, why, size);
        else if (err == EACCES)
                explain_eacces(prog, why, size);
        else if (err == ENOEXEC)
                snprintf(why, size, "the kernel cannot run this format: another architecture, or a script without #!");
        else
                snprintf(why, size, "execve failed");
}

int main(void)
{
        struct config c = { 0 };
        char *script = NULL;

        if (getpid() != 1)
                die("must run as PID 1 from the initramfs");
        mount_pseudo_filesystems();
        ensure_console();
        read_config(&c);
        read_cmdline(&c);
        if (c.test)
                write_file("/proc/sys/kernel/printk_ratelimit", "0");
        load_modules();
        setup_ima_keyring();
        load_selinux(&c);
        if (c.verity_keyring)
                setup_verity_keyring();
        if (c.ipe_policy[0])
                load_ipe_policy(c.ipe_policy);
        /* without appraise rules only where fs-verity's signatures enforce */
        load_policy(c.verity_keyring);
        mkdir(NEWROOT, 0755);
        mount_root(&c);
        if (c.run[0]) {
                script = read_run_script(c.run);
                copy_lua_runner();
        }
        switch_root();
        if (script)
                finish_runner(&c, run_script(&c, script));
        const char *init = c.init[0] ? c.init : "/sbin/init";
        char *argv[] = { (char *)init, NULL };
        execve(init, argv, shell_env);
        int err = errno;
        char why[512];
        explain_exec_failure(init, err, why, sizeof(why));
        die("cannot run %s: %s (%s)", init, strerror(err), why);
}
