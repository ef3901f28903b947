#include "boot/kmod.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/strv.h"
#include "base/util.h"

const char *const kmod_root_modules[] = {
        "virtio_pci", "virtio_blk", "virtio_scsi", /* QEMU/KVM, clouds */
        "nvme",                                    /* NVMe */
        "ahci", "sd_mod",                          /* SATA, and the SCSI disk driver for all of them */
        "xhci_pci", "ehci_pci", "usb_storage", "uas", /* USB storage */
        "ext4",                                    /* the root's filesystem */
        NULL,
};

#define MAX_DEPTH 32

int kmod_kernel_version(const char *vmlinuz, char *ver, size_t size)
{
        _cleanup_close_ int fd = open(vmlinuz, O_RDONLY | O_CLOEXEC);
        uint8_t hdr[0x210], text[128];
        uint16_t off;
        ssize_t n;

        if (fd < 0)
                return imgerr(-errno, "%s: %s", vmlinuz, strerror(errno));
        if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) || memcmp(hdr + 0x202, "HdrS", 4))
                return imgerr(-EINVAL, "%s: not an x86 bzImage (no HdrS setup header)", vmlinuz);
        off = (uint16_t)(hdr[0x20e] | hdr[0x20f] << 8);
        n = pread(fd, text, sizeof(text) - 1, (off_t)off + 0x200);
        if (off == 0 || n <= 0)
                return imgerr(-EINVAL, "%s: no kernel version string", vmlinuz);
        text[n] = 0;
        size_t len = strcspn((char *)text, " ");
        if (len == 0 || len >= size)
                return imgerr(-EINVAL, "%s: bad kernel version string", vmlinuz);
        memcpy(ver, text, len);
        ver[len] = 0;
        return 0;
}

static bool is_dir(const char *p)
{
        struct stat st;
        return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int kmod_find_dir(const char *vmlinuz, char **dir)
{
        static const char *const rel[] = { "root/lib/modules", "lib/modules", "../lib/modules",
                                           "../usr/lib/modules", "root/usr/lib/modules", NULL };
        char ver[128];
        _cleanup_free_ char *copy = strdup(vmlinuz);
        const char *base;
        int r = kmod_kernel_version(vmlinuz, ver, sizeof(ver));

        if (r < 0)
                return r;
        if (!copy)
                return -ENOMEM;
        base = dirname(copy);
        for (size_t i = 0; rel[i]; i++) {
                if (asprintf(dir, "%s/%s/%s", base, rel[i], ver) < 0)
                        return -ENOMEM;
                if (is_dir(*dir))
                        return 0;
                free(*dir);
        }
        if (asprintf(dir, "/lib/modules/%s", ver) < 0)
                return -ENOMEM;
        if (is_dir(*dir))
                return 0;
        free(*dir);
        *dir = NULL;
        return imgerr(-ENOENT, "%s: no module folder lib/modules/%s beside it nor in /lib/modules "
                      "(set [Boot] ModulesDirectory=)", vmlinuz, ver);
}

/* ---- the folder's index: module name -> file ------------------------------ */

struct index {
        char **names, **files; /* parallel */
        char **builtin;        /* names */
};

static void normalize(char *name)
{
        for (char *p = name; *p; p++)
                if (*p == '-')
                        *p = '_';
}

/* "path/to/virtio-blk.ko.xz" -> "virtio_blk"; NULL if not a module. */
static char *module_name(const char *path)
{
        const char *b = strrchr(path, '/');
        char *name, *ko;
        name = strdup(b ? b + 1 : path);
        if (!name)
                return NULL;
        ko = strstr(name, ".ko");
        if (!ko || (ko[3] && strcmp(ko + 3, ".xz") && strcmp(ko + 3, ".zst") && strcmp(ko + 3, ".gz"))) {
                free(name);
                return NULL;
        }
        *ko = 0;
        normalize(name);
        return name;
}

static int scan(struct index *ix, const char *dir, int depth)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int r = 0;

        if (!d)
                return imgerr(-errno, "%s: %s", dir, strerror(errno));
        while (r >= 0 && (e = readdir(d))) {
                char *path, *name;
                if (e->d_name[0] == '.')
                        continue;
                if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                struct stat st;
                /* lstat: a module folder's build/ and source/ are symlinks to
                 * kernel headers, not modules */
                if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                        r = depth < MAX_DEPTH ? scan(ix, path, depth + 1) : 0;
                        free(path);
                } else if ((name = module_name(path))) {
                        r = strv_push(&ix->names, name);
                        if (r >= 0)
                                r = strv_push(&ix->files, path);
                        else
                                free(path);
                } else
                        free(path);
        }
        closedir(d);
        return r;
}

static int read_builtin(struct index *ix, const char *dir)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        if (asprintf(&path, "%s/modules.builtin", dir) < 0)
                return -ENOMEM;
        if (access(path, F_OK) < 0)
                return 0;
        int r = read_text_file(path, &text);
        if (r < 0)
                return r;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *name = module_name(line);
                if (name && (r = strv_push(&ix->builtin, name)) < 0)
                        return r;
        }
        return 0;
}

static ssize_t find(char *const *v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (!strcmp(v[i], s))
                        return (ssize_t)i;
        return -1;
}

/* ---- one module: decompress, read its dependencies -------------------------- */

static int decompress(const char *path, uint8_t **data, size_t *len)
{
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        size_t cap = 1 << 20, n = 0;
        uint8_t *buf = malloc(cap);
        int r = 0;

        if (!a || !buf) {
                r = -ENOMEM;
                goto out;
        }
        archive_read_support_filter_all(a);
        archive_read_support_format_raw(a);
        if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK ||
            archive_read_next_header(a, &e) != ARCHIVE_OK) {
                r = imgerr(-EIO, "%s: %s", path, archive_error_string(a));
                goto out;
        }
        for (;;) {
                if (n == cap) {
                        uint8_t *g = realloc(buf, cap *= 2);
                        if (!g) {
                                r = -ENOMEM;
                                goto out;
                        }
                        buf = g;
                }
                la_ssize_t got = archive_read_data(a, buf + n, cap - n);
                if (got < 0) {
                        r = imgerr(-EIO, "%s: %s", path, archive_error_string(a));
                        goto out;
                }
                if (got == 0)
                        break;
                n += (size_t)got;
        }
        *data = buf;
        *len = n;
        buf = NULL;
out:
        free(buf);
        if (a)
                archive_read_free(a);
        return r;
}

/* The "depends=" value of the module's .modinfo section ("" if none). */
static int module_depends(const char *path, const uint8_t *d, size_t len, char **deps)
{
        const Elf64_Ehdr *eh = (const void *)d;
        const Elf64_Shdr *sh;

        if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
            eh->e_shoff > len || eh->e_shnum > (len - eh->e_shoff) / sizeof(*sh) || eh->e_shstrndx >= eh->e_shnum)
                return imgerr(-EINVAL, "%s: not a 64-bit ELF kernel module", path);
        sh = (const void *)(d + eh->e_shoff);
        const Elf64_Shdr *strs = &sh[eh->e_shstrndx];
        for (size_t i = 0; i < eh->e_shnum; i++) {
                if (sh[i].sh_name >= strs->sh_size || strs->sh_offset + strs->sh_size > len ||
                    sh[i].sh_offset + sh[i].sh_size > len)
                        continue;
                if (strncmp((const char *)d + strs->sh_offset + sh[i].sh_name, ".modinfo", 9))
                        continue;
                const char *p = (const char *)d + sh[i].sh_offset, *end = p + sh[i].sh_size;
                while (p < end) {
                        size_t n = strnlen(p, (size_t)(end - p));
                        if (n > 8 && !strncmp(p, "depends=", 8)) {
                                *deps = strndup(p + 8, n - 8);
                                return *deps ? 0 : -ENOMEM;
                        }
                        p += n + 1;
                }
        }
        *deps = strdup("");
        return *deps ? 0 : -ENOMEM;
}

static int add_module(struct index *ix, const char *name, bool required, int depth, struct kmod_set *s);

static int add_depends(struct index *ix, char *deps, int depth, struct kmod_set *s)
{
        int r = 0;
        for (char *save = NULL, *t = strtok_r(deps, ",", &save); t && r >= 0; t = strtok_r(NULL, ",", &save))
                r = add_module(ix, t, true, depth + 1, s);
        return r;
}

static int add_module(struct index *ix, const char *name_in, bool required, int depth, struct kmod_set *s)
{
        _cleanup_free_ char *name = strdup(name_in), *deps = NULL;
        ssize_t i;
        struct kmod m = { 0 };
        int r;

        if (!name)
                return -ENOMEM;
        normalize(name);
        for (size_t j = 0; j < s->n; j++)
                if (!strcmp(s->v[j].name, name))
                        return 0;
        if (find(ix->builtin, name) >= 0)
                return 0;
        if (depth > MAX_DEPTH)
                return imgerr(-ELOOP, "module %s: dependency chain too deep", name);
        i = find(ix->names, name);
        if (i < 0) {
                if (!required) {
                        s->missing++;
                        log_verbose("initramfs: module %s: neither built in nor in the module folder, left out", name);
                        return 0;
                }
                return imgerr(-ENOENT, "module %s: neither built into the kernel nor in its module folder", name);
        }
        r = decompress(ix->files[i], &m.data, &m.len);
        if (r >= 0)
                r = module_depends(ix->files[i], m.data, m.len, &deps);
        /* dependencies first: they must be loaded before this one */
        if (r >= 0)
                r = add_depends(ix, deps, depth, s);
        if (r >= 0) {
                m.name = strdup(name);
                m.file = strdup(ix->files[i]);
                if (!m.name || !m.file || GROW(s->v, s->n, s->cap, 16) < 0)
                        r = -ENOMEM;
                else {
                        s->v[s->n++] = m;
                        return 0;
                }
        }
        free(m.data);
        free(m.name);
        free(m.file);
        return r;
}

int kmod_resolve(const char *dir, char *const *extra, struct kmod_set *out)
{
        struct index ix = { 0 };
        int r;

        *out = (struct kmod_set){ 0 };
        if (!is_dir(dir))
                return imgerr(-ENOENT, "%s: no such module folder", dir);
        r = read_builtin(&ix, dir);
        if (r >= 0)
                r = scan(&ix, dir, 0);
        for (size_t i = 0; r >= 0 && kmod_root_modules[i]; i++)
                r = add_module(&ix, kmod_root_modules[i], false, 0, out);
        for (size_t i = 0; r >= 0 && extra && extra[i]; i++)
                r = add_module(&ix, extra[i], true, 0, out);
        strv_free(ix.names);
        strv_free(ix.files);
        strv_free(ix.builtin);
        if (r < 0)
                kmod_set_free(out);
        return r;
}

void kmod_set_free(struct kmod_set *s)
{
        for (size_t i = 0; i < s->n; i++) {
                free(s->v[i].name);
                free(s->v[i].file);
                free(s->v[i].data);
        }
        free(s->v);
        *s = (struct kmod_set){ 0 };
}
