#include "ext4/gpt.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdisk/libfdisk.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/util.h"

#define SECTOR 512u

int gpt_find_partition(const char *path, const char *type_guid, uint64_t *offset, uint64_t *size)
{
        struct fdisk_context *cxt;
        struct fdisk_table *tb = NULL;
        char sig[8];
        int fd, r, found = 0;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        n = pread(fd, sig, sizeof(sig), SECTOR);
        close(fd);
        if (n != (ssize_t)sizeof(sig) || memcmp(sig, "EFI PART", 8))
                return 0;
        cxt = fdisk_new_context();
        if (!cxt)
                return -ENOMEM;
        fdisk_disable_dialogs(cxt, 1);
        r = fdisk_assign_device(cxt, path, 1);
        if (r >= 0 && !fdisk_is_label(cxt, GPT))
                r = -EBADMSG;
        if (r >= 0)
                r = fdisk_get_partitions(cxt, &tb);
        if (r < 0) {
                fdisk_unref_context(cxt);
                return imgerr(r, "%s: unreadable GPT: %s", path, strerror(-r));
        }
        for (size_t i = 0; i < fdisk_table_get_nents(tb) && !found; i++) {
                struct fdisk_partition *pa = fdisk_table_get_partition(tb, i);
                struct fdisk_parttype *t = pa ? fdisk_partition_get_type(pa) : NULL;
                const char *s = t ? fdisk_parttype_get_string(t) : NULL;
                if (s && !strcasecmp(s, type_guid)) {
                        unsigned long ss = fdisk_get_sector_size(cxt);
                        *offset = (uint64_t)fdisk_partition_get_start(pa) * ss;
                        *size = (uint64_t)fdisk_partition_get_size(pa) * ss;
                        found = 1;
                }
        }
        fdisk_unref_table(tb);
        fdisk_unref_context(cxt);
        if (!found)
                return imgerr(-ENOENT, "%s: a GPT disk without a partition of type %s", path, type_guid);
        return 1;
}
