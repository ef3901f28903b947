#include "bootfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "initramfs.h"
#include "ipe.h"
#include "output.h"
#include "policy.h"
#include "util.h"

#define COPY_BUF_SIZE (256u << 10)


int layout_policy_text(const struct layout *l, char **text)
{
        struct policy_opts o = POLICY_OPTS_DEFAULT;
        int r;

        if (l->policy_file) {
                r = read_text_file(l->policy_file, text);
                if (r < 0)
                        return r;
                r = policy_validate(*text);
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
        return policy_default(&o, text);
}

int layout_initramfs_verity(const struct layout *l, struct initramfs_opts *o, uint8_t **ipe_der)
{
        _cleanup_free_ char *ipe = NULL;
        int r;

        *ipe_der = NULL;
        o->verity_keyring = l->verity && l->verity_sigs != VERITY_SIGS_IMA_V3;
        if (!l->verity || l->verity_sigs != VERITY_SIGS_IPE)
                return 0;
        if ((r = ipe_policy_text(l, &ipe)) < 0 || (r = ipe_policy_sign(l, ipe, ipe_der, &o->ipe_policy_len)) < 0)
                return r;
        o->ipe_policy = *ipe_der;
        o->ipe_policy_name = IPE_POLICY_NAME;
        return 0;
}

int layout_root_spec(const struct layout *l, const char *uuid, char **spec)
{
        int r;
        if (l->root)
                r = asprintf(spec, "%s", l->root);
        else if (l->label)
                r = asprintf(spec, "LABEL=%s", l->label);
        else
                r = asprintf(spec, "UUID=%s", uuid);
        if (r < 0)
                return -ENOMEM;
        r = initramfs_check_root(*spec);
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

int bootfiles_prepare(const struct layout *l, const char *image, const char *uuid, unsigned flags,
                      const char *const *inputs, struct bootfiles *b)
{
        _cleanup_free_ char *vmlinuz = NULL, *initrd = NULL, *policy = NULL, *root = NULL;
        _cleanup_free_ uint8_t *ipe_der = NULL;
        struct initramfs_opts o = { 0 };
        struct stat st;
        int r;

        struct bootfiles in = *b;   /* the caller's SELinux inputs */

        memset(b, 0, sizeof(*b));
        b->selinux_mode = in.selinux_mode;
        b->selinux_policy = in.selinux_policy;
        b->selinux_policy_len = in.selinux_policy_len;
        if (!l->kernel)
                return 0;
        if (stat(l->kernel, &st) < 0)
                return imgerr(-errno, "%s: [Boot] Kernel=%s: %s", l->path, l->kernel, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return imgerr(-EINVAL, "%s: [Boot] Kernel=%s: not a regular file", l->path, l->kernel);
        if (asprintf(&vmlinuz, "%s.vmlinuz", image) < 0 || asprintf(&initrd, "%s.initramfs", image) < 0)
                return -ENOMEM;
        if ((r = layout_policy_text(l, &policy)) < 0 || (r = layout_root_spec(l, uuid, &root)) < 0)
                return r;
        o.certs = (const char *const *)l->certificates;
        o.n_certs = strv_length(l->certificates);
        o.policy_text = policy;
        o.root = root;
        o.rw = l->root_rw;
        o.cmdline_test = l->test_hooks;
        o.selinux_mode = b->selinux_mode;
        o.selinux_policy = b->selinux_policy;
        o.selinux_policy_len = b->selinux_policy_len;
        if ((r = layout_initramfs_verity(l, &o, &ipe_der)) < 0)
                return r;
        r = initramfs_build(&o, &b->initramfs_data, &b->initramfs_len);
        if (r < 0)
                return imgerr_prefix(r, "%s: [Boot]: ", l->path);
        r = output_open(vmlinuz, flags, 0644, inputs, &b->vmlinuz);
        if (r >= 0)
                r = output_open(initrd, flags, 0644, inputs, &b->initramfs);
        if (r < 0)
                bootfiles_abort(b);
        return r;
}

int bootfiles_write(const struct layout *l, struct bootfiles *b)
{
        int r;

        if (!b->vmlinuz)
                return 0;
        r = copy_into(l->kernel, b->vmlinuz);
        if (r >= 0)
                r = output_write(b->initramfs, b->initramfs_data, b->initramfs_len);
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
        }
        bootfiles_abort(b);
        return r;
}

void bootfiles_abort(struct bootfiles *b)
{
        output_abort(b->vmlinuz);
        output_abort(b->initramfs);
        free(b->initramfs_data);
        memset(b, 0, sizeof(*b));
}
