#include "boot/initramfs.h"
#include "ima/certs.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "boot/kmod.h"
#include "ima/imasig.h"
#include "ima/policy.h"
#include "layout/rootspec.h"
#include "base/output.h"
#include "base/util.h"

/* The static init, embedded by init/CMakeLists.txt. */
extern const uint8_t imgtool_init_blob[];
extern const uint8_t imgtool_init_blob_end[];
extern const uint8_t imgtool_lua_blob[];
extern const uint8_t imgtool_lua_blob_end[];

/* ---- certs ----------------------------------------------------------- */

struct blob {
        uint8_t *data;
        size_t len;
};


static int append_der(X509 *x, const char *path, struct blob **ders, size_t *n)
{
        uint8_t *der = NULL;
        int len = i2d_X509(x, &der);
        struct blob *g;

        if (len <= 0)
                return imgerr(-EINVAL, "%s: cannot encode certificate", path);
        g = realloc(*ders, (*n + 1) * sizeof(**ders));
        if (!g) {
                OPENSSL_free(der);
                return imgerr(-ENOMEM, "out of memory");
        }
        *ders = g;
        /* copy into malloc'ed memory: one free() for every blob */
        g[*n].data = malloc((size_t)len);
        if (!g[*n].data) {
                OPENSSL_free(der);
                return imgerr(-ENOMEM, "out of memory");
        }
        memcpy(g[*n].data, der, (size_t)len);
        g[*n].len = (size_t)len;
        (*n)++;
        OPENSSL_free(der);
        return 0;
}

/* The kernel's asymmetric key type takes DER X.509; accept PEM too (any
 * number of certificates in one file). */
static int load_certs(const char *path, struct blob **ders, size_t *n)
{
        X509 **certs = NULL;
        int count = certs_read_file(path, &certs), r = 0;

        if (count < 0)
                return count;
        for (int i = 0; i < count && r >= 0; i++) {
                /* a key IMA could not find by keyid, or not verify with, in
                 * _ima would fail every file at boot: refuse it now */
                char why[200];
                uint32_t keyid;
                r = append_der(certs[i], path, ders, n);
                if (r >= 0)
                        r = ima_cert_keyid((*ders)[*n - 1].data, (*ders)[*n - 1].len, &keyid);
                if (r < 0)
                        r = imgerr_prefix(r, "%s: ", path);
                else if (ima_pkey_kernel_check(X509_get0_pubkey(certs[i]), why, sizeof(why)) < 0)
                        r = imgerr(-EOPNOTSUPP, "%s: %s", path, why);
        }
        certs_free(certs);
        return r;
}

/* ---- archive --------------------------------------------------------- */

struct membuf {
        uint8_t *data;
        size_t len, cap;
};

static la_ssize_t membuf_write(struct archive *a, void *ctx, const void *buf, size_t len)
{
        struct membuf *m = ctx;
        if (m->len + len > m->cap) {
                size_t cap = m->cap ? m->cap : 65536;
                while (cap < m->len + len)
                        cap *= 2;
                uint8_t *g = realloc(m->data, cap);
                if (!g) {
                        archive_set_error(a, ENOMEM, "out of memory");
                        return -1;
                }
                m->data = g;
                m->cap = cap;
        }
        memcpy(m->data + m->len, buf, len);
        m->len += len;
        return (la_ssize_t)len;
}

struct cpio {
        struct archive *a;
        struct archive_entry *e;
        int64_t next_ino;
};

static int cpio_add(struct cpio *c, const char *path, mode_t type, int perm,
                    const void *data, size_t len, dev_t rdev)
{
        archive_entry_clear(c->e);
        archive_entry_set_pathname(c->e, path);
        archive_entry_set_filetype(c->e, type);
        archive_entry_set_perm(c->e, (mode_t)perm);
        archive_entry_set_uid(c->e, 0);
        archive_entry_set_gid(c->e, 0);
        archive_entry_set_mtime(c->e, 0, 0);
        archive_entry_set_ino64(c->e, c->next_ino++);
        archive_entry_set_dev(c->e, 0);
        archive_entry_set_nlink(c->e, type == AE_IFDIR ? 2 : 1);
        archive_entry_set_size(c->e, type == AE_IFREG ? (int64_t)len : 0);
        if (type == AE_IFCHR)
                archive_entry_set_rdev(c->e, rdev);
        if (archive_write_header(c->a, c->e) != ARCHIVE_OK)
                return imgerr(-EIO, "cpio %s: %s", path, archive_error_string(c->a));
        if (type == AE_IFREG && len &&
            archive_write_data(c->a, data, len) != (la_ssize_t)len)
                return imgerr(-EIO, "cpio %s: %s", path, archive_error_string(c->a));
        return 0;
}

static int format_conf(const struct initramfs_opts *o, char **conf)
{
        bool se = o->selinux_mode && o->selinux_policy;

        if (o->init && (o->init[0] != '/' || strpbrk(o->init, "\n ")))
                return imgerr(-EINVAL, "init '%s': want an absolute path without spaces", o->init);
        if (se && strcmp(o->selinux_mode, "enforcing") && strcmp(o->selinux_mode, "permissive"))
                return imgerr(-EINVAL, "SELinux mode '%s': want enforcing or permissive", o->selinux_mode);
        if (asprintf(conf, "# read by imgtool's init\nroot=%s\nrw=%d\ncmdline_test=%d\n%s%s%s%s%s%s%s%s%s%s",
                     o->root, o->rw, o->cmdline_test, o->init ? "init=" : "", o->init ? o->init : "",
                     o->init ? "\n" : "", se ? "selinux=" : "", se ? o->selinux_mode : "",
                     se ? "\n" : "", o->verity_keyring ? "verity_keyring=1\n" : "",
                     o->ipe_policy ? "ipe_policy=" : "", o->ipe_policy ? o->ipe_policy_name : "",
                     o->ipe_policy ? "\n" : "") < 0)
                return imgerr(-ENOMEM, "out of memory");
        return 0;
}

/* /etc/imgtool/modules: the module files under /lib/modules, in load order. */
static int format_module_list(const struct kmod_set *k, char **list)
{
        size_t cap = 1;
        for (size_t i = 0; i < k->n; i++)
                cap += strlen(k->v[i].name) + 4;
        *list = malloc(cap);
        if (!*list)
                return imgerr(-ENOMEM, "out of memory");
        (*list)[0] = 0;
        for (size_t i = 0; i < k->n; i++)
                strcat(strcat(*list, k->v[i].name), ".ko\n");
        return 0;
}

static int kmod_cmp_name(const void *a, const void *b)
{
        return strcmp((*(const struct kmod *const *)a)->name, (*(const struct kmod *const *)b)->name);
}

/* Entries in byte order of their paths: the archive is the same for the
 * same inputs, whatever order the code adds them in. */
static int write_entries(struct cpio *c, const struct initramfs_opts *o, const char *conf, const char *policy,
                         const struct blob *certs, size_t n_certs, const struct kmod_set *mods,
                         const char *mod_list)
{
        int r = 0;

        r = r ?: cpio_add(c, "dev", AE_IFDIR, 0755, NULL, 0, 0);
        /* the kernel opens /dev/console for init's stdio before init runs */
        r = r ?: cpio_add(c, "dev/console", AE_IFCHR, 0600, NULL, 0, makedev(5, 1));
        r = r ?: cpio_add(c, "etc", AE_IFDIR, 0755, NULL, 0, 0);
        r = r ?: cpio_add(c, "etc/imgtool", AE_IFDIR, 0755, NULL, 0, 0);
        r = r ?: cpio_add(c, INITRAMFS_POLICY, AE_IFREG, 0644, policy, strlen(policy), 0);
        r = r ?: cpio_add(c, INITRAMFS_CONF, AE_IFREG, 0644, conf, strlen(conf), 0);
        if (o->ipe_policy)
                r = r ?: cpio_add(c, INITRAMFS_IPE_POLICY, AE_IFREG, 0644, o->ipe_policy, o->ipe_policy_len, 0);
        r = r ?: cpio_add(c, INITRAMFS_KEYDIR, AE_IFDIR, 0755, NULL, 0, 0);
        if (!r && o->selinux_mode && o->selinux_policy)
                r = cpio_add(c, INITRAMFS_SELINUX_POLICY, AE_IFREG, 0644, o->selinux_policy,
                             o->selinux_policy_len, 0);
        for (size_t i = 0; !r && i < n_certs; i++) {
                char name[64];
                snprintf(name, sizeof(name), INITRAMFS_KEYDIR "/%02zu.der", i);
                r = cpio_add(c, name, AE_IFREG, 0644, certs[i].data, certs[i].len, 0);
        }
        if (!r && o->lua_runner)
                r = cpio_add(c, INITRAMFS_LUA_RUNNER, AE_IFREG, 0755, imgtool_lua_blob,
                             (size_t)(imgtool_lua_blob_end - imgtool_lua_blob), 0);
        if (!r && mods->n)
                r = cpio_add(c, INITRAMFS_MODULES, AE_IFREG, 0644, mod_list, strlen(mod_list), 0);
        /* Kernels built with CONFIG_IMA_LOAD_X509 (imgtool kconfig) load this
         * cert into their .ima keyring before init runs; others ignore it. */
        r = r ?: cpio_add(c, "etc/keys", AE_IFDIR, 0755, NULL, 0, 0);
        if (!r && n_certs)
                r = cpio_add(c, INITRAMFS_KERNEL_X509, AE_IFREG, 0644, certs[0].data, certs[0].len, 0);
        r = r ?: cpio_add(c, "init", AE_IFREG, 0755, imgtool_init_blob,
                          (size_t)(imgtool_init_blob_end - imgtool_init_blob), 0);
        if (!r && mods->n) {
                /* sorted by name, whatever the load order */
                _cleanup_free_ const struct kmod **sorted = calloc(mods->n, sizeof(*sorted));
                if (!sorted)
                        return imgerr(-ENOMEM, "out of memory");
                for (size_t i = 0; i < mods->n; i++)
                        sorted[i] = &mods->v[i];
                qsort(sorted, mods->n, sizeof(*sorted), kmod_cmp_name);
                r = r ?: cpio_add(c, "lib", AE_IFDIR, 0755, NULL, 0, 0);
                r = r ?: cpio_add(c, INITRAMFS_MODDIR, AE_IFDIR, 0755, NULL, 0, 0);
                for (size_t i = 0; !r && i < mods->n; i++) {
                        const struct kmod *m = sorted[i];
                        _cleanup_free_ char *path = NULL;
                        if (asprintf(&path, INITRAMFS_MODDIR "/%s.ko", m->name) < 0)
                                return imgerr(-ENOMEM, "out of memory");
                        r = cpio_add(c, path, AE_IFREG, 0644, m->data, m->len, 0);
                }
        }
        r = r ?: cpio_add(c, "newroot", AE_IFDIR, 0755, NULL, 0, 0);
        r = r ?: cpio_add(c, "proc", AE_IFDIR, 0755, NULL, 0, 0);
        r = r ?: cpio_add(c, "sys", AE_IFDIR, 0755, NULL, 0, 0);
        return r;
}

static int open_archive(struct cpio *c, struct membuf *m)
{
        c->a = archive_write_new();
        c->e = archive_entry_new();
        c->next_ino = 1;
        if (!c->a || !c->e)
                return imgerr(-ENOMEM, "out of memory");
        /* gzip: every kernel can unpack it; no timestamp keeps it reproducible */
        if (archive_write_set_format_cpio_newc(c->a) != ARCHIVE_OK ||
            archive_write_add_filter_gzip(c->a) != ARCHIVE_OK ||
            archive_write_set_filter_option(c->a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
            archive_write_set_filter_option(c->a, "gzip", "compression-level", "9") != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(c->a, 1) != ARCHIVE_OK ||
            archive_write_open2(c->a, m, NULL, membuf_write, NULL, NULL) != ARCHIVE_OK)
                return imgerr(-EIO, "cpio: %s", archive_error_string(c->a));
        return 0;
}

/* What goes into the archive, read and checked: everything that can be
 * wrong in the layout fails here, before compose writes its first byte. */
struct initramfs_parts {
        struct blob *certs;
        size_t n_certs;
        char *conf, *own_policy, *mod_list;
        const char *policy;
        struct kmod_set mods;
};

void initramfs_parts_free(struct initramfs_parts *p)
{
        if (!p)
                return;
        kmod_set_free(&p->mods);
        for (size_t i = 0; i < p->n_certs; i++)
                free(p->certs[i].data);
        free(p->certs);
        free(p->conf);
        free(p->own_policy);
        free(p->mod_list);
        free(p);
}

static int gather(const struct initramfs_opts *o, struct initramfs_parts *p)
{
        int r;

        r = rootspec_check(o->root ? o->root : "");
        if (r < 0)
                return r;
        if (o->n_certs == 0)
                return imgerr(-EINVAL, "no certificate: without a key in the _ima keyring no signed file could run");
        for (size_t i = 0; i < o->n_certs; i++) {
                r = load_certs(o->certs[i], &p->certs, &p->n_certs);
                if (r < 0)
                        return r;
        }
        p->policy = o->policy_text;
        if (p->policy) {
                r = ima_policy_validate(p->policy);
                if (r < 0)
                        return imgerr_prefix(r, "policy: ");
                if (!ima_policy_has_appraise_rule(p->policy) && !o->verity_keyring)
                        return imgerr(-EINVAL, "policy: no appraise rule: the image would boot without enforcement");
        } else {
                struct ima_policy_opts po = POLICY_OPTS_DEFAULT;
                r = ima_policy_default(&po, &p->own_policy);
                if (r < 0)
                        return r;
                p->policy = p->own_policy;
        }
        r = format_conf(o, &p->conf);
        if (r < 0)
                return r;
        if (o->modules_dir) {
                r = kmod_resolve(o->modules_dir, o->modules, &p->mods);
                if (r >= 0)
                        r = format_module_list(&p->mods, &p->mod_list);
                return r;
        }
        if (o->modules && o->modules[0])
                return imgerr(-EINVAL, "modules %s...: no kernel module folder to take them from", o->modules[0]);
        return 0;
}

int initramfs_gather(const struct initramfs_opts *o, struct initramfs_parts **out)
{
        struct initramfs_parts *p = calloc(1, sizeof(*p));
        int r;

        if (!p)
                return -ENOMEM;
        r = gather(o, p);
        if (r < 0) {
                initramfs_parts_free(p);
                return r;
        }
        *out = p;
        return 0;
}

int initramfs_pack(const struct initramfs_opts *o, const struct initramfs_parts *p, uint8_t **buf, size_t *len)
{
        struct membuf m = { 0 };
        struct cpio c = { 0 };
        int r;

        r = open_archive(&c, &m);
        if (r < 0)
                goto out;
        r = write_entries(&c, o, p->conf, p->policy, p->certs, p->n_certs, &p->mods, p->mod_list);
        if (r < 0)
                goto out;
        if (archive_write_close(c.a) != ARCHIVE_OK) {
                r = imgerr(-EIO, "cpio: %s", archive_error_string(c.a));
                goto out;
        }
        *buf = m.data;
        *len = m.len;
        m.data = NULL;
out:
        if (c.a)
                archive_write_free(c.a);
        archive_entry_free(c.e);
        free(m.data);
        return r;
}

int initramfs_build(const struct initramfs_opts *o, uint8_t **buf, size_t *len)
{
        struct initramfs_parts *p = NULL;
        int r = initramfs_gather(o, &p);

        if (r >= 0)
                r = initramfs_pack(o, p, buf, len);
        initramfs_parts_free(p);
        return r;
}

int initramfs_write(const struct initramfs_opts *o, const char *path, unsigned flags)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        r = initramfs_build(o, &buf, &len);
        if (r < 0)
                return r;
        return output_write_file(path, flags, 0644, NULL, buf, len);
}

/* ---- reading an initramfs back ---------------------------------------- */

void initramfs_contents_free(struct initramfs_contents *c)
{
        for (size_t i = 0; i < c->n_certs; i++)
                free(c->certs[i]);
        free(c->certs);
        free(c->cert_len);
        free(c->policy);
        memset(c, 0, sizeof(*c));
}

static int read_entry_data(struct archive *a, int64_t size, uint8_t **out)
{
        uint8_t *p;
        la_ssize_t got;

        if (size < 0 || size > (64 << 20))
                return -EFBIG;
        p = malloc((size_t)size + 1);
        if (!p)
                return -ENOMEM;
        got = archive_read_data(a, p, (size_t)size);
        if (got != size) {
                free(p);
                return -EIO;
        }
        p[size] = 0;
        *out = p;
        return 0;
}

static int add_cert(struct initramfs_contents *c, uint8_t *der, size_t len)
{
        uint8_t **v = realloc(c->certs, (c->n_certs + 1) * sizeof(*v));
        size_t *l;

        if (!v)
                return -ENOMEM;
        c->certs = v;
        l = realloc(c->cert_len, (c->n_certs + 1) * sizeof(*l));
        if (!l)
                return -ENOMEM;
        c->cert_len = l;
        c->certs[c->n_certs] = der;
        c->cert_len[c->n_certs++] = len;
        return 0;
}

/* path names the archive in messages; data, when not NULL, holds it. */
static int read_contents(const char *path, const void *data, size_t len, struct initramfs_contents *out)
{
        struct initramfs_contents c = {};
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        int r = 0, ar;

        if (!a)
                return imgerr(-ENOMEM, "out of memory");
        archive_read_support_filter_all(a);
        archive_read_support_format_cpio(a);
        if ((data ? archive_read_open_memory(a, data, len) : archive_read_open_filename(a, path, 1 << 16)) !=
            ARCHIVE_OK) {
                r = imgerr(-EINVAL, "%s: not an initramfs: %s", path, archive_error_string(a));
                goto out;
        }
        /* Entries are sorted, so the certs come in their NN order. */
        while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
                const char *name = archive_entry_pathname(e);
                uint8_t *data = NULL;
                bool is_policy, is_cert;

                if (!name)
                        continue;
                if (name[0] == '/')
                        name++;
                is_policy = !strcmp(name, INITRAMFS_POLICY);
                is_cert = !strncmp(name, INITRAMFS_KEYDIR "/", strlen(INITRAMFS_KEYDIR) + 1) &&
                          strlen(name) > 4 && !strcmp(name + strlen(name) - 4, ".der");
                if (!is_policy && !is_cert)
                        continue;
                r = read_entry_data(a, archive_entry_size(e), &data);
                if (r < 0) {
                        r = imgerr(r, "%s: cannot read %s", path, name);
                        goto out;
                }
                if (is_policy) {
                        free(c.policy);
                        c.policy = (char *)data;
                } else if (add_cert(&c, data, (size_t)archive_entry_size(e)) < 0) {
                        free(data);
                        r = imgerr(-ENOMEM, "out of memory");
                        goto out;
                }
        }
        if (ar != ARCHIVE_EOF)
                r = imgerr(-EINVAL, "%s: corrupt initramfs: %s", path, archive_error_string(a));
out:
        archive_read_free(a);
        if (r < 0)
                initramfs_contents_free(&c);
        else
                *out = c;
        return r;
}

int initramfs_read(const char *path, struct initramfs_contents *out)
{
        return read_contents(path, NULL, 0, out);
}

int initramfs_read_mem(const void *data, size_t len, const char *what, struct initramfs_contents *out)
{
        return read_contents(what, data, len, out);
}
