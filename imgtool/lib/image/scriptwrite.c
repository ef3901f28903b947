/* Scriptlets=run, compose's side: the scratch image the scriptlets run in,
 * and what they changed written into the image as compose writes its own
 * files (see composer.h).  Moved from compose.c, which runs them. */
#include "image/composer.h"
#include "image/compose.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout/layout.h"
#include "rpm/pathmap.h"
#include "image/scriptlets.h"
#include "image/scriptmanifest.h"
#include "base/strv.h"
#include "base/util.h"

/* A file whose bytes are in memory, written like compose's own files. */
static int write_memory_file(struct composer *c, const char *path, const struct ext4img_attr *a,
                             const uint8_t *data, size_t size)
{
        int fd = memfd_create("imgtool", MFD_CLOEXEC), r = 0;
        size_t done = 0;

        if (fd < 0)
                return imgerr(-errno, "memfd_create: %s", strerror(errno));
        while (r >= 0 && done < size) {
                ssize_t n = write(fd, data + done, size - done);
                if (n < 0 && errno != EINTR)
                        r = imgerr(-errno, "memfd: %s", strerror(errno));
                else if (n > 0)
                        done += (size_t)n;
        }
        if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
                r = -errno;
        if (r >= 0)
                r = write_created_attr(c, path, a, fd);
        close(fd);
        return r;
}

/* One entry a scriptlet made or changed, written as compose writes its own
 * files (signed with Key=, labelled); its time stamp is SOURCE_DATE_EPOCH. */
static int apply_scriptlet_change(struct composer *c, const struct scriptlet_change *ch)
{
        struct ext4img_attr a = { .mode = ch->mode, .uid = ch->uid, .gid = ch->gid, .mtime = c->epoch };
        struct pathmap_entry *e = pathmap_get(c->paths, ch->path);
        int r;

        if (e && S_ISDIR(e->mode) && S_ISDIR(ch->mode)) {
                e->mode = ch->mode;
                return ext4img_set_attr(c->img, ch->path, &a);
        }
        if (e)
                return imgerr(-EEXIST, "%s: %s changed %s, which compose writes itself (users files): not "
                              "supported yet", c->l->path, ch->by, ch->path);
        if (S_ISREG(ch->mode))
                return write_memory_file(c, ch->path, &a, ch->data, ch->size);
        r = ensure_parents(c, -1, ch->path);
        if (r >= 0)
                r = pathmap_add(c->paths, ch->path, &e);
        if (r < 0)
                return r;
        e->mode = ch->mode;
        e->owner = -1;
        e->file = -1;
        if (S_ISDIR(ch->mode))
                return ext4img_mkdir(c->img, ch->path, &a);
        if (S_ISLNK(ch->mode))
                return ext4img_symlink(c->img, ch->path, ch->target ? ch->target : "", &a);
        return ext4img_mknod(c->img, ch->path, &a, ch->rdev);
}

int apply_scriptlets(struct composer *c)
{
        static const char *const kind[] = { "created", "modified", "removed" };
        int r = 0;

        for (size_t i = 0; r >= 0 && i < scriptlets_count(c->scr); i++) {
                const struct scriptlet_change *ch = scriptlets_change(c->scr, i);
                if (ch->kind != SCRIPTLET_REMOVED)
                        r = apply_scriptlet_change(c, ch);
                if (r >= 0 && strv_pushf(&c->rep->scriptlet_changes, "%s %s (%s)", kind[ch->kind], ch->path,
                                         ch->by) < 0)
                        r = -ENOMEM;
        }
        if (r >= 0 && scriptlets_count(c->scr) > 0) {
                struct ext4img_attr a = { .mode = S_IFREG | 0644, .mtime = c->epoch };
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                r = scriptlets_manifest_text(c->scr, &text, &len);
                if (r >= 0)
                        r = write_memory_file(c, SCRIPTLETS_MANIFEST, &a, (const uint8_t *)text, len);
        }
        return r;
}

/* The scratch image the scriptlets run in: the same layout without boot
 * files or scriptlets, so the set's files are as compose writes them. */
int make_scratch(void *ctx, const char *path, char uuid[37])
{
        struct composer *c = ctx;
        struct layout l = *c->l;
        struct compose_opts o = { .layout = &l, .output = path, .output_flags = c->o->output_flags };
        struct compose_report rep;
        int r;

        l.scriptlets = SCRIPTLETS_SKIP;
        l.kernel = NULL;
        l.format = FORMAT_EXT4;
        l.verity = false;
        l.lock = c->l->lock;
        r = compose_image(&o, &rep);
        if (r >= 0)
                memcpy(uuid, rep.uuid, 37);
        compose_report_free(&rep);
        return r;
}
