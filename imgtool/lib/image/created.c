/* created: the files compose makes itself (users files, IMA cert, rpmdb, kernel; paths: plan.h). */
#include "image/composer.h"
#include "image/compose.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/x509.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ima/certs.h"
#include "rpm/composedb.h"
#include "ext4/ext4verity.h"
#include "ima/imasig.h"
#include "rpm/pathmap.h"
#include "image/plan.h"
#include "rpm/pkgset.h"
#include "ima/pubkey.h"
#include "image/users.h"
#include "base/util.h"
#include "ima/verity.h"
#include "base/strv.h"

/* ---- files compose makes itself ----------------------------------------------------- */

/* A created file's bytes pulled by libfsverity: written and hashed on the way. */
struct created_pull {
        struct composer *c;
        int fd;
        const char *path;
        struct ext4img_file *out;
};

static int created_read(void *ctx, void *buf, size_t count)
{
        struct created_pull *p = ctx;
        uint8_t *b = buf;
        size_t done = 0;

        while (done < count) {
                ssize_t n = read(p->fd, b + done, count - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return imgerr(n < 0 ? -errno : -EIO, "%s: read error: %s", p->path,
                                      n < 0 ? strerror(errno) : "file shrank");
                done += (size_t)n;
        }
        ima_hasher_update(p->c->sha256, buf, count);
        return ext4img_file_write(p->out, buf, count);
}

/* The end of every file compose writes itself: its content hashed into
 * c->sha256, signed with Key= (or listed as unsigned), labelled, committed;
 * aborted on any failure. */
static int finish_created_file(struct composer *c, const char *path, struct ext4img_file *out)
{
        uint8_t digest[IMA_MAX_DIGEST];
        int r = 0;

        ima_hasher_final(c->sha256, digest);
        if (c->key) {
                _cleanup_free_ uint8_t *sig = NULL;
                size_t len;
                r = sign_digest(c, IMA_HASH_SHA256, digest, 32, &sig, &len);
                if (r >= 0)
                        r = ext4img_file_set_xattr(out, "security.ima", sig, len);
                if (r >= 0)
                        c->rep->sig_signed_here++;
        } else {
                strv_pushf(&c->rep->created_unsigned, "%s", path);
        }
        if (r >= 0)
                r = label_file(c, out, path);
        if (r < 0) {
                ext4img_file_abort(out);
                return r;
        }
        return ext4img_file_commit(out);
}

/* A file compose makes, with [Verity]: data, tree, and the same
 * signatures package files get (always by Key=, which [Verity] requires). */
static int write_created_verity(struct composer *c, const char *path, int fd, uint64_t size,
                                struct ext4img_file *out)
{
        struct created_pull p = { c, fd, path, out };
        struct verity_meta vm;
        _cleanup_free_ uint8_t *sig = NULL;
        uint8_t digest[32];
        size_t len = 0;
        int r;

        r = verity_compute(&c->vparams, size, created_read, &p, &vm);
        if (r < 0)
                return r;
        ima_hasher_final(c->sha256, digest);
        if (c->l->verity_sigs == VERITY_SIGS_IMA_V3) {
                r = verity_ima_sign(c->key, vm.digest, &sig, &len);
        } else {
                r = verity_builtin_sign(c->vsigner, vm.digest, &vm.sig, &vm.sig_len);
                if (r >= 0)
                        r = sign_digest(c, IMA_HASH_SHA256, digest, 32, &sig, &len);
        }
        if (r >= 0)
                r = ext4img_file_set_xattr(out, "security.ima", sig, len);
        if (r >= 0)
                r = ext4verity_write(out, size, &vm, vm.sig, vm.sig_len);
        verity_meta_free(&vm);
        if (r >= 0)
                c->rep->sig_signed_here++;
        return r;
}

/* Write a file that no package ships (rpmdb, the IMA cert, the kernel),
 * signed with Key= when there is one, and listed as unsigned otherwise. */
int write_created_attr(struct composer *c, const char *path, const struct ext4img_attr *attr, int fd)
{
        struct ext4img_attr a = *attr;
        struct ext4img_file *out = NULL;
        struct pathmap_entry *e;
        struct stat st;
        ssize_t n;
        int r;

        if (fstat(fd, &st) < 0)
                return -errno;
        e = pathmap_get(c->paths, path);
        if (e && e->owner >= 0)
                return imgerr(-EEXIST, "%s: %s: imgtool writes this path itself, the package must not ship it",
                              rpmpkg_path(c->plan.set->pkgs[e->owner]), path);
        if (e)
                return imgerr(-EEXIST, "%s: imgtool writes %s twice", c->o->output, path);
        r = ensure_parents(c, -1, path);
        if (r < 0)
                return r;
        r = pathmap_add(c->paths, path, &e);
        if (r < 0)
                return r;
        e->mode = a.mode;
        e->owner = -1;
        e->file = -1;
        r = ima_hasher_reset(c->sha256);
        if (r < 0)
                return r;
        r = ext4img_file_begin(c->img, path, &a, (uint64_t)st.st_size, &out);
        if (r < 0)
                return r;
        if (c->l->verity) {
                r = write_created_verity(c, path, fd, (uint64_t)st.st_size, out);
                if (r < 0)
                        goto fail;
                return ext4img_file_commit(out);
        }
        while ((n = read(fd, c->buf, COPY_BUF_SIZE)) > 0) {
                ima_hasher_update(c->sha256, c->buf, (size_t)n);
                if ((r = ext4img_file_write(out, c->buf, (size_t)n)) < 0)
                        goto fail;
        }
        if (n < 0) {
                r = imgerr(-errno, "%s: read error: %s", path, strerror(errno));
                goto fail;
        }
        return finish_created_file(c, path, out);
fail:
        ext4img_file_abort(out);
        return r;
}

static int write_created_file(struct composer *c, const char *path, mode_t mode, int fd)
{
        struct ext4img_attr a = { .mode = S_IFREG | mode, .uid = 0, .gid = 0, .mtime = c->epoch };

        return write_created_attr(c, path, &a, fd);
}

/* Content compose made (users files), hashed and signed like created files. */
int write_users_file(struct composer *c, const char *path, const struct ext4img_attr *a,
                            const char *data, size_t len, struct ext4img_file *out)
{
        int r = ima_hasher_reset(c->sha256);

        if (r >= 0)
                r = ext4img_file_write(out, data, len);
        if (r < 0)
                goto fail;
        ima_hasher_update(c->sha256, data, len);
        return finish_created_file(c, path, out);
fail:
        ext4img_file_abort(out);
        return r;
}

/* Users files no package ships, written first: /etc/passwd and friends
 * made from the sysusers lines. */
int write_created_users(struct composer *c)
{
        for (int k = 0; k < USERS_FILE_COUNT; k++) {
                size_t len;
                bool shipped;
                const char *text = users_content(c->plan.users, (enum users_file)k, &len, &shipped);
                const char *path = users_file_path((enum users_file)k);
                _cleanup_close_ int fd = -1;
                int r;

                if (!text || shipped)
                        continue;
                fd = memfd_create("imgtool-users", MFD_CLOEXEC);
                if (fd < 0 || write(fd, text, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) < 0)
                        return imgerr(-errno, "cannot buffer %s: %s", path, strerror(errno));
                r = write_created_file(c, path, users_file_mode((enum users_file)k), fd);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_created_path(struct composer *c, const char *image_path, mode_t mode, const char *host_path)
{
        _cleanup_close_ int fd = open(host_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return imgerr(-errno, "%s: %s", host_path, strerror(errno));
        return write_created_file(c, image_path, mode, fd);
}

/* A cert file (PEM or DER) as DER bytes in a memfd, ready to be written. */
static int cert_der_fd(const char *path, int *out)
{
        X509 *x = NULL;
        unsigned char *der = NULL;
        int len, fd, r;

        r = cert_read_one(path, &x);
        if (r < 0)
                return r;
        len = i2d_X509(x, &der);
        X509_free(x);
        if (len <= 0)
                return imgerr(-EBADMSG, "%s: cannot encode the certificate", path);
        fd = memfd_create("imgtool-cert", MFD_CLOEXEC);
        if (fd < 0 || write(fd, der, (size_t)len) != len || lseek(fd, 0, SEEK_SET) < 0) {
                r = imgerr(-errno, "%s: cannot buffer the certificate: %s", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
        } else {
                *out = fd;
        }
        OPENSSL_free(der);
        return r;
}

/* The IMA cert where kernels with CONFIG_IMA_LOAD_X509 and dracut's
 * integrity module look for it: the signing key's cert in Mode=sign, else
 * the first Certificate=. */
int write_ima_cert(struct composer *c)
{
        const char *cert = NULL;
        int r, fd = -1;

        for (size_t i = 0; !cert && c->l->certificates && c->l->certificates[i]; i++) {
                EVP_PKEY *pub = NULL;
                if (pubkey_read_file(c->l->certificates[i], &pub) == 0)
                        cert = c->l->certificates[i];
                EVP_PKEY_free(pub);
        }
        if (!cert)
                return 0;
        r = cert_der_fd(cert, &fd);
        if (r < 0)
                return r;
        r = write_created_file(c, "/etc/keys/x509_ima.der", 0644, fd);
        if (r >= 0 && lseek(fd, 0, SEEK_SET) == 0)
                r = write_created_file(c, "/etc/keys/ima/imgtool-ima.der", 0644, fd);
        close(fd);
        return r;
}

int write_rpmdb(struct composer *c)
{
        _cleanup_free_ char *dbfile = NULL, *dbpath = NULL, *image_path = NULL;
        int r;

        r = plan_rpmdb_dir(c->cap[CAP_RPM_MACROS].data, &dbpath);
        if (r < 0)
                return r;
        r = composedb_finish(c->db, &dbfile);
        c->db = NULL;
        if (r < 0)
                return r;
        if (asprintf(&image_path, "%s/rpmdb.sqlite", dbpath) < 0)
                r = -ENOMEM;
        else
                r = write_created_path(c, image_path, 0644, dbfile);
        composedb_cleanup(dbfile);
        return r;
}

int write_kernel(struct composer *c)
{
        if (!c->l->kernel)
                return 0;
        return write_created_path(c, "/boot/vmlinuz", 0644, c->l->kernel);
}
