/* What a bootable image lacks (Kernel= set): the warnings compose gives
 * (see composer.h).  Moved from compose.c; interpcheck and systemdneeds
 * do the looking inside the image. */
#include "image/composer.h"
#include "image/compose.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/output.h"
#include "rpm/pathmap.h"
#include "image/interpcheck.h"
#include "image/systemdneeds.h"
#include "base/strv.h"
#include "base/util.h"

/* Is path in the image, also through a merged-/usr symlink (/sbin -> usr/sbin)? */
static bool image_has(struct composer *c, const char *path)
{
        char alt[PATH_MAX];
        const char *slash = strchr(path + 1, '/');
        struct pathmap_entry *top;

        if (pathmap_get(c->paths, path))
                return true;
        if (!slash || (size_t)(slash - path) >= sizeof(alt))
                return false;
        snprintf(alt, sizeof(alt), "%.*s", (int)(slash - path), path);
        top = pathmap_get(c->paths, alt);
        if (!top || !S_ISLNK(top->mode))
                return false;
        snprintf(alt, sizeof(alt), "/usr%s", path);
        return pathmap_get(c->paths, alt) != NULL;
}

/* A program that is there but whose interpreter is not fails as if it
 * were missing (ENOENT): the merged-/usr links a scriptlet would make. */
static void warn_interpreter(struct composer *c, const char *init)
{
        _cleanup_free_ char *missing = NULL;
        int r = interpcheck_program(output_tmp_path(c->image), init, &missing);

        if (r < 0)
                strv_pushf(&c->rep->warnings, "cannot check the interpreter of %s: %s", init, imgerr_what(r));
        else if (missing)
                strv_pushf(&c->rep->warnings, "[Boot] Init=%s: the image has no %s: the kernel cannot "
                           "start it and the initramfs will stop with FATAL (install the package that "
                           "provides it, or the merged-/usr links such as /lib64 -> usr/lib64)", init, missing);
}

/* With Kernel= the image is meant to boot: say what it lacks. */
void warn_boot_needs(struct composer *c)
{
        const char *init = c->l->init ? c->l->init : "/sbin/init";

        if (!c->l->kernel)
                return;
        if (!image_has(c, init))
                strv_pushf(&c->rep->warnings, "[Boot] Kernel= is set but the image has no %s: the "
                           "initramfs will stop with FATAL (install a package that provides it, or set "
                           "[Boot] Init=)", init);
        else
                warn_interpreter(c, init);
        if (image_has(c, init)) {
                int r = systemdneeds_check(output_tmp_path(c->image), init, c->l->root_rw, &c->rep->warnings);
                if (r < 0)
                        strv_pushf(&c->rep->warnings, "cannot check what systemd needs in the image: %s",
                                   imgerr_what(r));
        }
        if (c->l->test_hooks && !image_has(c, "/bin/sh"))
                strv_pushf(&c->rep->warnings, "[Boot] TestHooks=yes but the image has no /bin/sh: the "
                           "boot harness (imgtool boot --exec/--shell/--check) runs its commands with it");
}
