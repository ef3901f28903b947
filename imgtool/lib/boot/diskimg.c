#include "boot/diskimg.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdisk/libfdisk.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/util.h"

#define SECTOR 512u

extern char **environ;

/* A scratch file under cleanup.h's scratch folder ($TMPDIR, /dev/shm, /tmp),
 * registered for removal on signals; the caller unlinks it and calls
 * cleanup_remove(). */
static int scratch_file(const char *name, char **path, int *fd)
{
        _cleanup_free_ char *p = NULL;
        int r;
        if (asprintf(&p, "%s/%s", scratch_base(), name) < 0)
                return -ENOMEM;
        r = tmpfile_beside(p, path, fd);
        if (r >= 0 && cleanup_add_file(*path) < 0) {
                unlink(*path);
                close(*fd);
                free(*path);
                *path = NULL;
                return -ENOMEM;
        }
        return r;
}

static void scratch_file_remove(const char *path)
{
        unlink(path);
        cleanup_remove(path);
}

static uint64_t align_mib(uint64_t v) { return (v + DISK_ALIGN - 1) / DISK_ALIGN * DISK_ALIGN; }

uint64_t disk_esp_size(uint64_t uki_size)
{
        uint64_t s = align_mib(2 * uki_size + (4ull << 20));
        return s < DISK_ESP_MIN ? DISK_ESP_MIN : s;
}

void disk_plan_for_root(uint64_t esp_size, uint64_t root_size, struct disk_plan *p)
{
        p->esp_offset = DISK_ALIGN;
        p->esp_size = esp_size;
        p->root_offset = p->esp_offset + esp_size;
        p->root_size = root_size;
        p->size = align_mib(p->root_offset + root_size) + DISK_ALIGN;
}

int disk_plan_for_size(uint64_t disk_size, uint64_t esp_size, uint64_t min_root, struct disk_plan *p)
{
        uint64_t overhead = 2 * DISK_ALIGN + esp_size;

        if (disk_size < overhead + min_root)
                return imgerr(-ENOSPC, "Size=%llu MiB is too small for a disk: the GPT and the EFI system partition take %llu MiB, the root filesystem needs at least %llu MiB",
                              (unsigned long long)(disk_size >> 20), (unsigned long long)(overhead >> 20),
                              (unsigned long long)((min_root + DISK_ALIGN - 1) >> 20));
        disk_plan_for_root(esp_size, (disk_size - overhead) / DISK_ALIGN * DISK_ALIGN, p);
        p->size = disk_size / SECTOR * SECTOR;
        return 0;
}

/* ---- running mkfs.fat and mtools ---------------------------------------- */

/* Run argv with SOURCE_DATE_EPOCH and a neutral mtools setup; on failure the
 * message holds the tool's first line of stderr. */
static int run_tool(char *const argv[], int64_t epoch)
{
        _cleanup_free_ char *sde = NULL, *err_path = NULL;
        char *env[] = { NULL, "MTOOLS_SKIP_CHECK=1", "MTOOLSRC=/dev/null", "LC_ALL=C",
                        "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
        posix_spawn_file_actions_t fa;
        char line[512] = "";
        pid_t pid;
        int status, r, fd;

        if (asprintf(&sde, "SOURCE_DATE_EPOCH=%lld", (long long)epoch) < 0)
                return -ENOMEM;
        env[0] = sde;
        r = scratch_file("imgtool-tool.err", &err_path, &fd);
        if (r < 0)
                return r;
        scratch_file_remove(err_path);  /* the open fd is all that is needed */
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, fd, STDERR_FILENO);
        r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        if (r) {
                close(fd);
                return imgerr(-r, "cannot run %s: %s (install %s)", argv[0], strerror(r),
                              !strcmp(argv[0], "mkfs.fat") ? "dosfstools" : "mtools");
        }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                close(fd);
                return 0;
        }
        if (pread(fd, line, sizeof(line) - 1, 0) > 0)
                line[strcspn(line, "\n")] = 0;
        close(fd);
        return imgerr(-EIO, "%s failed: %s", argv[0], *line ? line : "no message");
}

/* ---- GPT ------------------------------------------------------------------ */

static int add_partition(struct fdisk_context *cxt, size_t partno, const char *type_guid,
                         const char *uuid, const char *name, uint64_t offset, uint64_t size)
{
        struct fdisk_label *lb = fdisk_get_label(cxt, NULL);
        struct fdisk_parttype *t = fdisk_label_get_parttype_from_string(lb, type_guid);
        struct fdisk_partition *pa = fdisk_new_partition();
        int r = -ENOMEM;

        if (t && pa && !fdisk_partition_set_partno(pa, partno) &&
            !fdisk_partition_set_start(pa, offset / SECTOR) &&
            !fdisk_partition_set_size(pa, size / SECTOR) && !fdisk_partition_set_type(pa, t) &&
            !fdisk_partition_set_uuid(pa, uuid) && !fdisk_partition_set_name(pa, name))
                r = fdisk_add_partition(cxt, pa, NULL);
        fdisk_unref_partition(pa);
        fdisk_unref_parttype(t);
        return r;
}

static int write_gpt(const char *path, const struct disk_plan *p, const struct disk_ids *ids)
{
        struct fdisk_context *cxt = fdisk_new_context();
        int r;

        if (!cxt)
                return -ENOMEM;
        fdisk_disable_dialogs(cxt, 1);
        r = fdisk_assign_device(cxt, path, 0);
        if (r >= 0)
                r = fdisk_create_disklabel(cxt, "gpt");
        if (r >= 0)
                r = fdisk_set_disklabel_id_from_string(cxt, ids->disk_guid);
        if (r >= 0)
                r = add_partition(cxt, 0, GPT_TYPE_ESP, ids->esp_guid, "esp", p->esp_offset, p->esp_size);
        if (r >= 0)
                r = add_partition(cxt, 1, GPT_TYPE_ROOT_X86_64, ids->root_guid, "root-x86-64",
                                  p->root_offset, p->root_size);
        if (r >= 0)
                r = fdisk_write_disklabel(cxt);
        if (r >= 0)
                r = fdisk_deassign_device(cxt, 0);
        fdisk_unref_context(cxt);
        if (r < 0)
                return imgerr(r, "%s: writing the GPT (libfdisk): %s", path, strerror(-r));
        return 0;
}

/* ---- FAT ------------------------------------------------------------------ */

/* mkfs.fat (dosfstools 4.2, and its master in 2023) picks the FAT32 cluster
 * size and the CHS geometry from the size of the whole file it is given, not
 * from --offset and the block count: on a disk of 400 MiB or more it chose
 * 4 KiB clusters for the 64 MiB ESP, 16,344 of them, under the 65,525 below
 * which the FAT specification (fatgen103) says a FAT is FAT16 whatever its
 * boot sector claims.  mtools (and firmware that follows the specification)
 * then read a FAT16 with no root directory: "mmd failed: No directory
 * slots".  So every parameter mkfs.fat would derive from the file is given:
 * the cluster size from the ESP's own size by fatgen103's table (what
 * mkfs.fat picks for a file of exactly the ESP), a geometry of 32 sectors a
 * track (mkfs.fat rounds the filesystem down to whole tracks; 32 divides
 * every whole-MiB ESP, so the FAT fills its partition); the hidden sectors
 * and FAT32 were already given.  The ESP is then the same bytes whatever the
 * disk's size. */
static unsigned esp_sectors_per_cluster(uint64_t esp_size)
{
        uint64_t mib = esp_size >> 20;
        return mib > 32768 ? 64 : mib > 16384 ? 32 : mib > 8192 ? 16 : mib > 260 ? 8 : 1;
}

#define FAT32_MIN_CLUSTERS 65525u

static uint32_t le(const uint8_t *p, int n)
{
        uint32_t v = 0;
        while (n--)
                v = v << 8 | p[n];
        return v;
}

/* Read back what mkfs.fat wrote: a FAT32 that fills the partition and that
 * every reader takes for FAT32 (enough clusters), else a message now rather
 * than mtools' puzzling one or a disk firmware cannot read. */
static int check_boot_sector(const char *path, const struct disk_plan *p)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        uint8_t bs[SECTOR];
        uint64_t total, fat_len, reserved, clusters;
        unsigned spc;

        if (fd < 0 || pread(fd, bs, sizeof(bs), (off_t)p->esp_offset) != (ssize_t)sizeof(bs))
                return imgerr(fd < 0 ? -errno : -EIO, "reading the ESP's boot sector back: %s",
                              fd < 0 ? strerror(errno) : "short read");
        spc = bs[13];
        reserved = le(bs + 14, 2);
        total = le(bs + 32, 4);
        fat_len = le(bs + 36, 4);
        clusters = spc && total > reserved + bs[16] * fat_len ? (total - reserved - bs[16] * fat_len) / spc : 0;
        if (le(bs + 11, 2) != SECTOR || le(bs + 22, 2) != 0 || total != p->esp_size / SECTOR ||
            clusters < FAT32_MIN_CLUSTERS)
                return imgerr(-EPROTO, "mkfs.fat made an ESP of %llu sectors, %llu clusters of %u sectors; "
                              "wanted FAT32 of %llu sectors with at least %u clusters",
                              (unsigned long long)total, (unsigned long long)clusters, spc,
                              (unsigned long long)(p->esp_size / SECTOR), FAT32_MIN_CLUSTERS);
        return 0;
}

static int write_esp(const char *path, const struct disk_plan *p, const struct disk_ids *ids,
                     const char *uki_path, int64_t epoch)
{
        char offset[32], hidden[32], kib[32], spc[8], volid[16], img[4096 + 32];
        int r;

        snprintf(offset, sizeof(offset), "--offset=%llu", (unsigned long long)(p->esp_offset / SECTOR));
        snprintf(hidden, sizeof(hidden), "%llu", (unsigned long long)(p->esp_offset / SECTOR));
        snprintf(kib, sizeof(kib), "%llu", (unsigned long long)(p->esp_size / 1024));
        snprintf(spc, sizeof(spc), "%u", esp_sectors_per_cluster(p->esp_size));
        snprintf(volid, sizeof(volid), "%08x", ids->esp_volume_id);
        if ((size_t)snprintf(img, sizeof(img), "%s@@%llu", path, (unsigned long long)p->esp_offset) >= sizeof(img))
                return imgerr(-ENAMETOOLONG, "%s: path too long", path);
        {
                /* --invariant: mkfs.fat takes the time for the label's
                 * directory entry and ignores SOURCE_DATE_EPOCH; mlabel
                 * (mtools honours it) sets the label and the volume id. */
                char *argv[] = { "mkfs.fat", "-F", "32", "-S", "512", "-s", spc, "-g", "64/32", "--invariant",
                                 "-h", hidden, offset, (char *)path, kib, NULL };
                if ((r = run_tool(argv, epoch)) < 0 || (r = check_boot_sector(path, p)) < 0)
                        return r;
        }
        {
                char *argv[] = { "mlabel", "-i", img, "-N", volid, "::ESP", NULL };
                if ((r = run_tool(argv, epoch)) < 0)
                        return r;
        }
        {
                char *argv[] = { "mmd", "-i", img, "::/EFI", "::/EFI/BOOT", NULL };
                if ((r = run_tool(argv, epoch)) < 0)
                        return r;
        }
        {
                char *argv[] = { "mcopy", "-m", "-i", img, (char *)uki_path, "::/EFI/BOOT/BOOTX64.EFI", NULL };
                if ((r = run_tool(argv, epoch)) < 0)
                        return r;
        }
        return 0;
}

/* ---- the disk ------------------------------------------------------------------ */

int disk_write_gpt(const char *path, const struct disk_plan *p, const struct disk_ids *ids)
{
        _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        if ((uint64_t)st.st_size > p->size)
                return imgerr(-EFBIG, "%s: %lld bytes do not fit a disk of %llu", path, (long long)st.st_size,
                              (unsigned long long)p->size);
        if (ftruncate(fd, (off_t)p->size) < 0)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        return write_gpt(path, p, ids);
}

int disk_write_esp(const char *path, const struct disk_plan *p, const struct disk_ids *ids,
                   const char *uki_path, int64_t epoch)
{
        int r = write_esp(path, p, ids, uki_path, epoch);
        if (r < 0)
                return imgerr_prefix(r, "%s: ", path);
        return 0;
}

/* ---- reading a disk back ---------------------------------------------------- */

int disk_read_esp_file(const char *disk, const char *fat_path, uint8_t **data, size_t *len)
{
        _cleanup_free_ char *img = NULL, *tmp = NULL;
        uint64_t off, size;
        int r, fd;

        r = gpt_find_partition(disk, GPT_TYPE_ESP, &off, &size);
        if (r == 0)
                return imgerr(-EINVAL, "%s: not a GPT disk image", disk);
        if (r < 0)
                return r;
        r = scratch_file("imgtool-esp-file", &tmp, &fd);
        if (r < 0)
                return r;
        close(fd);
        if (asprintf(&img, "%s@@%llu", disk, (unsigned long long)off) < 0) {
                scratch_file_remove(tmp);
                return -ENOMEM;
        }
        {
                char *argv[] = { "mcopy", "-n", "-o", "-i", img, (char *)fat_path, tmp, NULL };
                r = run_tool(argv, 0);
        }
        if (r >= 0)
                r = read_file_max(tmp, 512u << 20, "files read from an ESP", data, len);
        scratch_file_remove(tmp);
        if (r < 0)
                return imgerr_prefix(r, "%s: %s: ", disk, fat_path);
        return 0;
}
