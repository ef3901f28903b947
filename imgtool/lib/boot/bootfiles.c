#include "boot/bootfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/initramfs.h"
#include "layout/rootspec.h"
#include "boot/ipe.h"
#include "boot/kmod.h"
#include "base/output.h"
#include "ima/policy.h"
#include "base/util.h"

#define COPY_BUF_SIZE (256u << 10)


int bootfiles_ima_policy_text(const struct layout *l, char **text)
{
        struct ima_policy_opts o = POLICY_OPTS_DEFAULT;
        int r;

        if (l->policy_file) {
                r = read_text_file(l->policy_file, text);
                if (r < 0)
                        return r;
                r = ima_policy_validate(*text);
                if (r < 0) {
                        free(*text);
                        *text = NULL;
                        return imgerr_prefix(r, "%s: ", l->policy_file);
                }
                return 0;
        }
        o.appraise_fowner0_reads = l->appraise_root_reads;
        o.measure = l->measure;
        o.verity_digests = l->verity;
        /* builtin and ipe: fs-verity and IPE enforce, IMA measures */
        o.no_appraise = l->verity && l->verity_sigs != VERITY_SIGS_IMA_V3;
        return ima_policy_default(&o, text);
}

int bootfiles_root_spec(const struct layout *l, const char *uuid, char **spec)
{
        int r;
        if (l->root)
                r = asprintf(spec, "%s", l->root);
        else if (uuid && !strncmp(uuid, "PARTUUID=", 9))   /* a disk's root partition */
                r = asprintf(spec, "%s", uuid);
        else if (l->label)
                r = asprintf(spec, "LABEL=%s", l->label);
        else
                r = asprintf(spec, "UUID=%s", uuid);
        if (r < 0)
                return -ENOMEM;
        r = rootspec_check(*spec);
        if (r < 0)
                return imgerr_prefix(r, "%s: [Boot] Root: ", l->path);
        return 0;
}

static int copy_into(const char *from, struct output *out)
{
        _cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ uint8_t *buf = NULL;
        ssize_t n;
        int r = 0;

        if (in < 0)
                return imgerr(-errno, "%s: %s", from, strerror(errno));
        buf = malloc(COPY_BUF_SIZE);
        if (!buf)
                return -ENOMEM;
        while (r == 0 && (n = read(in, buf, COPY_BUF_SIZE)) > 0)
                r = output_write(out, buf, (size_t)n);
        if (r == 0 && n < 0)
                r = imgerr(-errno, "%s: read error: %s", from, strerror(errno));
        return r;
}

int bootfiles_kernel_cmdline(const struct layout *l, char **cmdline)
{
        const char *s = l->cmdline ? l->cmdline : "";
        size_t n;

        s += strspn(s, " \t");
        n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                n--;
        if (memchr(s, '\n', n))
                return imgerr(-EINVAL, "%s: [Boot] CommandLine: one line only", l->path);
        *cmdline = strndup(s, n);
        return *cmdline ? 0 : -ENOMEM;
}

int bootfiles_paths(const char *image, struct bootfiles_paths *p)
{
        *p = (struct bootfiles_paths){ 0 };
        if (asprintf(&p->vmlinuz, "%s.vmlinuz", image) < 0 || asprintf(&p->initramfs, "%s.initramfs", image) < 0 ||
            asprintf(&p->cmdline, "%s.cmdline", image) < 0) {
                bootfiles_paths_free(p);
                return -ENOMEM;
        }
        return 0;
}

void bootfiles_paths_free(struct bootfiles_paths *p)
{
        free(p->vmlinuz);
        free(p->initramfs);
        free(p->cmdline);
        *p = (struct bootfiles_paths){ 0 };
}

/* ModulesDirectory=, else the kernel package's lib/modules/VERSION. */
static int modules_dir(const struct layout *l, char **dir, char ***warnings)
{
        int r;
        *dir = NULL;
        if (l->modules_dir) {
                *dir = strdup(l->modules_dir);
                return *dir ? 0 : -ENOMEM;
        }
        r = kmod_find_dir(l->kernel, dir);
        /* no module folder, or a kernel whose version we cannot read (not an
         * x86 bzImage): the kernel may have what the root needs built in */
        if ((r == -ENOENT || r == -EINVAL) && !l->modules) {
                strv_pushf(warnings, "%s; the initramfs carries no kernel modules, so a root on a "
                           "modular disk driver (virtio-blk, SCSI, AHCI) will not be found", imgerr_what(r));
                return 0;
        }
        return r;
}

/* [Verity]: the .fs-verity keyring for builtin signatures, and for ipe the
 * IPE policy signed with the layout's key (li->ipe_der). */
static int layout_initramfs_verity(const struct layout *l, struct bootfiles_initramfs *li)
{
        _cleanup_free_ char *ipe = NULL;
        int r;

        li->o.verity_keyring = l->verity && l->verity_sigs != VERITY_SIGS_IMA_V3;
        if (!l->verity || l->verity_sigs != VERITY_SIGS_IPE)
                return 0;
        if ((r = ipe_policy_text(l, &ipe)) < 0 || (r = ipe_policy_sign(l, ipe, &li->ipe_der, &li->o.ipe_policy_len)) < 0)
                return r;
        li->o.ipe_policy = li->ipe_der;
        li->o.ipe_policy_name = IPE_POLICY_NAME;
        return 0;
}

int bootfiles_initramfs(const struct layout *l, const char *uuid, const struct boot_selinux *se,
                     struct bootfiles_initramfs *li, char ***warnings)
{
        int r;

        *li = (struct bootfiles_initramfs){ 0 };
        if ((r = bootfiles_ima_policy_text(l, &li->policy)) < 0 || (r = bootfiles_root_spec(l, uuid, &li->root)) < 0 ||
            (r = modules_dir(l, &li->modules_dir, warnings)) < 0 || (r = layout_initramfs_verity(l, li)) < 0) {
                bootfiles_initramfs_free(li);
                return r;
        }
        li->o.certs = (const char *const *)l->certificates;
        li->o.n_certs = strv_length(l->certificates);
        li->o.policy_text = li->policy;
        li->o.root = li->root;
        li->o.rw = l->root_rw;
        li->o.cmdline_test = l->test_hooks;
        li->o.modules_dir = li->modules_dir;
        li->o.modules = l->modules;
        li->o.init = l->init;
        if (se && se->mode) {
                li->o.selinux_mode = se->mode;
                li->o.selinux_policy = se->policy;
                li->o.selinux_policy_len = se->policy_len;
        }
        return 0;
}

void bootfiles_initramfs_free(struct bootfiles_initramfs *li)
{
        free(li->policy);
        free(li->root);
        free(li->modules_dir);
        free(li->ipe_der);
        *li = (struct bootfiles_initramfs){ 0 };
}

/* The initramfs being built on a thread of its own (bootfiles_start), so
 * that its gzip -9 overlaps the package writing; bootfiles_write joins it.
 * The message of a failure is kept here: imgerr's is per thread. */
struct bootfiles_build {
        pthread_t thread;
        bool started;
        struct bootfiles_initramfs li;
        struct initramfs_parts *parts;
        uint8_t *data;
        size_t len;
        int r;
        char *msg;
};

static void build_free(struct bootfiles_build *bb)
{
        if (!bb)
                return;
        if (bb->started)
                pthread_join(bb->thread, NULL);
        initramfs_parts_free(bb->parts);
        bootfiles_initramfs_free(&bb->li);
        free(bb->data);
        free(bb->msg);
        free(bb);
}

int bootfiles_prepare(const struct layout *l, const char *image, const char *uuid, unsigned flags,
                      const char *const *inputs, struct bootfiles *b, char ***warnings)
{
        struct bootfiles_paths p;
        struct stat st;
        int r;

        struct boot_selinux se = b->selinux;   /* the caller's input */

        memset(b, 0, sizeof(*b));
        b->selinux = se;
        if (!l->kernel)
                return 0;
        if (stat(l->kernel, &st) < 0)
                return imgerr(-errno, "%s: [Boot] Kernel=%s: %s", l->path, l->kernel, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return imgerr(-EINVAL, "%s: [Boot] Kernel=%s: not a regular file", l->path, l->kernel);
        b->build = calloc(1, sizeof(*b->build));
        if (!b->build)
                return -ENOMEM;
        b->layout_path = l->path;
        /* se's policy belongs to the caller and outlives the build */
        if ((r = bootfiles_kernel_cmdline(l, &b->cmdline_text)) < 0 ||
            (r = bootfiles_initramfs(l, uuid, &se, &b->build->li, warnings)) < 0) {
                bootfiles_abort(b);
                return r;
        }
        r = initramfs_gather(&b->build->li.o, &b->build->parts);   /* a bad layout fails here */
        if (r < 0) {
                bootfiles_abort(b);
                return imgerr_prefix(r, "%s: [Boot]: ", l->path);
        }
        if (bootfiles_paths(image, &p) < 0) {
                bootfiles_abort(b);
                return -ENOMEM;
        }
        r = output_open(p.vmlinuz, flags, 0644, inputs, &b->vmlinuz);
        if (r >= 0)
                r = output_open(p.initramfs, flags, 0644, inputs, &b->initramfs);
        if (r >= 0)
                r = output_open(p.cmdline, flags, 0644, inputs, &b->cmdline);
        bootfiles_paths_free(&p);
        if (r < 0)
                bootfiles_abort(b);
        return r;
}

static void *build_thread(void *arg)
{
        struct bootfiles_build *bb = arg;

        bb->r = initramfs_pack(&bb->li.o, bb->parts, &bb->data, &bb->len);
        if (bb->r < 0)
                bb->msg = strdup(imgerr_what(bb->r));
        return NULL;
}

/* Built here, on the caller's thread, when no thread can be made. */
int bootfiles_start(struct bootfiles *b)
{
        struct bootfiles_build *bb = b->build;

        if (!bb || bb->started)
                return 0;
        if (pthread_create(&bb->thread, NULL, build_thread, bb) == 0)
                bb->started = true;
        else
                build_thread(bb);
        return 0;
}

/* Wait for the initramfs; its failure is reported as before, as
 * "LAYOUT: [Boot]: ..." */
static int build_join(struct bootfiles *b)
{
        struct bootfiles_build *bb = b->build;
        int r;

        if (!bb)
                return 0;
        bootfiles_start(b);   /* never started (a caller without bootfiles_start): build now */
        if (bb->started) {
                pthread_join(bb->thread, NULL);
                bb->started = false;
        }
        r = bb->r;
        if (r < 0) {
                if (bb->msg)
                        imgerr(r, "%s", bb->msg);
                return imgerr_prefix(r, "%s: [Boot]: ", b->layout_path);
        }
        b->initramfs_data = bb->data;
        b->initramfs_len = bb->len;
        bb->data = NULL;
        build_free(bb);
        b->build = NULL;
        return 0;
}

int bootfiles_write(const struct layout *l, struct bootfiles *b)
{
        int r;

        if (!b->vmlinuz)
                return 0;
        r = build_join(b);
        if (r >= 0)
                r = copy_into(l->kernel, b->vmlinuz);
        if (r >= 0)
                r = output_write(b->initramfs, b->initramfs_data, b->initramfs_len);
        if (r >= 0)
                r = output_write(b->cmdline, b->cmdline_text, strlen(b->cmdline_text));
        if (r >= 0)
                r = output_write(b->cmdline, "\n", 1);
        return r;
}

int bootfiles_commit(struct bootfiles *b)
{
        int r = 0;

        if (b->vmlinuz) {
                r = output_commit(b->vmlinuz);
                b->vmlinuz = NULL;
                if (r >= 0)
                        r = output_commit(b->initramfs);
                else
                        output_abort(b->initramfs);
                b->initramfs = NULL;
                if (r >= 0)
                        r = output_commit(b->cmdline);
                else
                        output_abort(b->cmdline);
                b->cmdline = NULL;
        }
        bootfiles_abort(b);
        return r;
}

void bootfiles_abort(struct bootfiles *b)
{
        output_abort(b->vmlinuz);
        output_abort(b->initramfs);
        output_abort(b->cmdline);
        build_free(b->build);   /* joins a build still running */
        free(b->initramfs_data);
        free(b->cmdline_text);
        memset(b, 0, sizeof(*b));
}
