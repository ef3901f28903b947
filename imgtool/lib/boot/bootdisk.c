#include "boot/bootdisk.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/authenticode.h"
#include "base/cleanup.h"
#include "boot/bootfiles.h"
#include "ext4/ext4walk.h"
#include "boot/initramfs.h"
#include "boot/uki.h"
#include "base/util.h"

#define MIN_ROOT (4ull << 20)
#define OSREL_MAX (64u << 10)
#define DEFAULT_OSREL "NAME=\"imgtool image\"\nID=imgtool\n"

struct bootdisk {
        const struct layout *l;
        struct sb_signer signer;
        bool signed_uki;
        /* the initramfs: gathered in bootdisk_prepare, packed (cpio, gzip -9)
         * on a thread from bootdisk_start to bootdisk_size; a failure's
         * message is kept here (imgerr's is per thread) */
        struct bootfiles_initramfs li;
        struct initramfs_parts *parts;
        pthread_t thread;
        bool started;
        int pack_r;
        char *pack_msg;
        uint8_t *initrd;
        size_t initrd_len;
        char *cmdline;
        uint64_t uki_base;              /* the UKI's size bound without the initramfs */
        struct disk_ids ids;
        struct disk_plan plan;
        bool planned;
        uint64_t esp_size;              /* 0 until the initramfs is packed */
};

static void pack_join(struct bootdisk *b)
{
        if (b->started)
                pthread_join(b->thread, NULL);
        b->started = false;
}

void bootdisk_free(struct bootdisk *b)
{
        if (!b)
                return;
        pack_join(b);
        sb_signer_free(&b->signer);
        initramfs_parts_free(b->parts);
        bootfiles_initramfs_free(&b->li);
        free(b->pack_msg);
        free(b->initrd);
        free(b->cmdline);
        free(b);
}

int bootdisk_cmdline(const struct layout *l, const char *root_partuuid, char **out)
{
        /* root= is for people reading /proc/cmdline: imgtool's init finds the
         * root itself (init.conf), by the same PARTUUID.  lockdown=integrity
         * even without Secure Boot (which implies it). */
        const char *test = l->test_hooks ? " imgtool.test=1 imgtool.run=auto-if-present imgtool.out=/dev/ttyS1" : "";
        _cleanup_free_ char *extra = NULL;
        int r = bootfiles_kernel_cmdline(l, &extra);
        if (r < 0)
                return r;
        if (asprintf(out, "root=PARTUUID=%s %s lockdown=integrity%s%s%s", root_partuuid, l->root_rw ? "rw" : "ro",
                     test, *extra ? " " : "", extra) < 0)
                return -ENOMEM;
        return 0;
}

static void make_ids(const struct layout *l, struct disk_ids *ids)
{
        const char *seed = l->seed ? l->seed : l->digest_hex;
        uint8_t u[16];

        derive_uuid(seed, "gpt-disk", u);
        uuid_format(u, ids->disk_guid);
        derive_uuid(seed, "gpt-esp", u);
        uuid_format(u, ids->esp_guid);
        derive_uuid(seed, "gpt-root", u);
        uuid_format(u, ids->root_guid);
        derive_uuid(seed, "esp-volume-id", u);
        ids->esp_volume_id = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/* The same initramfs as IMAGE.initramfs (bootfiles_initramfs: Init=, test
 * hooks, [Verity]), the root found by its PARTUUID unless Root= says
 * otherwise.  Not yet: SELinux (the labels are read after the disk is
 * planned) and kernel modules: under Secure Boot the kernel's arch policy
 * measures every module load, and the measured-file checks (qemu-test/check,
 * reference, keylime-policy) know only the root's files, not the UKI's.
 * Everything that can be wrong is read and checked here; the archive is
 * packed by pack_initrd. */
static int gather_initrd(struct bootdisk *b, char ***warnings)
{
        _cleanup_free_ char *root = NULL;
        int r;

        if (asprintf(&root, "PARTUUID=%s", b->ids.root_guid) < 0)
                return -ENOMEM;
        if ((r = bootfiles_initramfs(b->l, root, NULL, &b->li, warnings)) < 0)
                return r;
        b->li.o.modules_dir = NULL;
        b->li.o.modules = NULL;
        return initramfs_gather(&b->li.o, &b->parts);
}

static void *pack_initrd(void *arg)
{
        struct bootdisk *b = arg;

        b->pack_r = initramfs_pack(&b->li.o, b->parts, &b->initrd, &b->initrd_len);
        if (b->pack_r < 0)
                b->pack_msg = strdup(imgerr_what(b->pack_r));
        return NULL;
}

void bootdisk_start(struct bootdisk *b)
{
        if (!b || b->started || b->esp_size)
                return;
        if (pthread_create(&b->thread, NULL, pack_initrd, b) == 0)
                b->started = true;
        else
                pack_initrd(b);   /* no thread: bootdisk_size finds it packed */
}

int bootdisk_size(struct bootdisk *b)
{
        int r;

        if (b->esp_size)
                return 0;
        if (!b->started && !b->initrd && !b->pack_r)
                pack_initrd(b);   /* never started */
        pack_join(b);
        if ((r = b->pack_r) < 0) {
                if (b->pack_msg)
                        imgerr(r, "%s", b->pack_msg);
                return imgerr_prefix(r, "%s: ", b->l->path);
        }
        b->esp_size = disk_esp_size(b->uki_base + b->initrd_len + OSREL_MAX + (16u << 10));
        return 0;
}

static const char *stub_path(const struct layout *l)
{
        return l->stub ? l->stub : UKI_DEFAULT_STUB;
}

int bootdisk_prepare(const struct layout *l, struct sigreq *defer, struct bootdisk **out, uint64_t *root_size,
                     char ***warnings)
{
        struct bootdisk *b = calloc(1, sizeof(*b));
        struct uki_parts parts;
        int r;

        if (!b)
                return -ENOMEM;
        b->l = l;
        make_ids(l, &b->ids);
        if (l->sb_key) {
                r = defer ? sb_signer_defer(l->sb_certificate, defer, &b->signer)
                          : sb_signer_load(l->sb_key, l->sb_certificate, &b->signer);
                if (r < 0)
                        goto fail;
                b->signed_uki = true;
        }
        if ((r = gather_initrd(b, warnings)) < 0 || (r = bootdisk_cmdline(l, b->ids.root_guid, &b->cmdline)) < 0)
                goto fail;
        /* the stub and the kernel checked now; the UKI's size is linear in
         * the initramfs's, added when it is packed */
        parts = (struct uki_parts){ .stub = stub_path(l), .kernel = l->kernel, .cmdline = b->cmdline, .osrel = "" };
        r = uki_check(&parts, &b->uki_base);
        if (r < 0)
                goto fail;
        *root_size = 0;
        if (!l->size_auto) {
                /* a fixed Size= is checked against the ESP here, as before:
                 * packed now, nothing to overlap */
                pack_initrd(b);
                if ((r = bootdisk_size(b)) < 0) {
                        bootdisk_free(b);
                        return r;
                }
                r = disk_plan_for_size(l->size, b->esp_size, MIN_ROOT, &b->plan);
                if (r < 0)
                        goto fail;
                b->planned = true;
                *root_size = b->plan.root_size;
        }
        *out = b;
        return 0;
fail:
        imgerr_prefix(r, "%s: ", l->path);
        bootdisk_free(b);
        return r;
}

/* ---- os-release from the image ----------------------------------------------- */

/* /etc/os-release, else /usr/lib/os-release (the usual symlink between them
 * resolved by trying both), else a minimal one. */
static int read_osrel(const char *image, char **out)
{
        static const char *const paths[] = { "/etc/os-release", "/usr/lib/os-release" };
        struct ext4walk *w;
        char *text = NULL;
        size_t len;
        int r;

        r = ext4walk_open(image, &w);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ARRAY_SIZE(paths) && !text; i++)
                if (ext4walk_read_file(w, paths[i], OSREL_MAX, &text, &len) == 0 && strlen(text) != len) {
                        free(text);
                        text = NULL;
                }
        imgerr_clear();
        ext4walk_close(w);
        *out = text ? text : strdup(DEFAULT_OSREL);
        return *out ? 0 : -ENOMEM;
}

/* ---- the disk ------------------------------------------------------------------- */

static int write_uki(const char *path, const struct pe_image *pe, int64_t epoch)
{
        struct timespec ts[2] = { { .tv_sec = epoch }, { .tv_sec = epoch } };
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        /* A scratch copy for mcopy: no fsync, the disk is what must last. */
        if (fd < 0 || write(fd, pe->data, pe->len) != (ssize_t)pe->len)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        /* mcopy -m keeps it: the FAT entry's time stamp is SourceDateEpoch. */
        if (futimens(fd, ts) < 0)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        return 0;
}

uint64_t bootdisk_root_offset(const struct bootdisk *b)
{
        return DISK_ALIGN + b->esp_size;   /* bootdisk_size was called */
}

int bootdisk_finish(struct bootdisk *b, const char *disk, const char *output, int64_t epoch,
                    struct bootdisk_made *made)
{
        _cleanup_free_ char *osrel = NULL, *scratch = NULL, *uki_tmp = NULL;
        struct pe_image pe = { 0 };
        struct uki_parts parts;
        struct stat st;
        int r;

        if (!b->planned) {
                if (stat(disk, &st) < 0)
                        return imgerr(-errno, "%s: %s", disk, strerror(errno));
                disk_plan_for_root(b->esp_size, (uint64_t)st.st_size - bootdisk_root_offset(b), &b->plan);
        }
        /* The GPT first: then the root filesystem can be read back (os-release). */
        r = disk_write_gpt(disk, &b->plan, &b->ids);
        if (r >= 0)
                r = read_osrel(disk, &osrel);
        if (r < 0)
                return r;
        parts = (struct uki_parts){ .stub = stub_path(b->l), .kernel = b->l->kernel, .initrd = b->initrd,
                                    .initrd_len = b->initrd_len, .cmdline = b->cmdline, .osrel = osrel };
        r = uki_build(&parts, b->signed_uki ? &b->signer : NULL, &pe);
        if (r < 0)
                return r;
        made->disk_size = b->plan.size;
        made->uki_size = pe.len;
        made->uki_signed = b->signed_uki;
        memcpy(made->root_partuuid, b->ids.root_guid, sizeof(made->root_partuuid));
        /* mcopy takes the UKI from a file: a scratch folder (cleanup.h
         * removes it on signals too). */
        r = scratch_dir_make("imgtool-uki", &scratch);
        if (r >= 0 && asprintf(&uki_tmp, "%s/BOOTX64.EFI", scratch) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = write_uki(uki_tmp, &pe, epoch);
        free(pe.data);
        if (r >= 0)
                r = disk_write_esp(disk, &b->plan, &b->ids, uki_tmp, epoch);
        if (scratch)
                scratch_dir_remove(scratch);
        if (r < 0)
                return imgerr_prefix(r, "%s: ", output);
        return 0;
}
