/* The initramfs: a gzip-compressed newc cpio holding imgtool's static init,
 * the IMA certs (DER), the IMA policy and a small config file for init.
 *
 * The archive is deterministic: fixed mtimes, owners, inode numbers, sorted
 * entries and no gzip timestamp, so the same inputs give the same bytes.
 *
 * What init reads (paths inside the archive; init/init.c is the consumer):
 *   /etc/imgtool/init.conf        key=value lines: root=, rw=, cmdline_test=,
 *                                 init=, selinux=, verity_keyring=, ipe_policy=
 *   /etc/imgtool/selinux-policy   the binary SELinux policy (with selinux=)
 *   /etc/imgtool/ima-policy       the policy, written to securityfs in one go
 *   /etc/imgtool/keys/NN.der      the certs, in command-line order
 *   /etc/imgtool/ipe-policy.p7s   a signed IPE policy (with ipe_policy=)
 *   /etc/imgtool/modules          module files (under /lib/modules) in load order
 *   /lib/modules/NAME.ko          the kernel's signed modules, uncompressed
 *   /etc/keys/x509_ima.der        the first cert, for kernels that load it
 *                                 themselves (CONFIG_IMA_LOAD_X509)
 *   /etc/imgtool/lua              imgtool-lua, the runner of -p <lua>
 *                                 scriptlets (lua_runner): init copies it to
 *                                 INITRAMFS_LUA_RUNNER_COPY in the root before
 *                                 it runs the runner disk's script
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INITRAMFS_CONF "etc/imgtool/init.conf"
#define INITRAMFS_POLICY "etc/imgtool/ima-policy"
#define INITRAMFS_KEYDIR "etc/imgtool/keys"
#define INITRAMFS_MODULES "etc/imgtool/modules"
#define INITRAMFS_MODDIR "lib/modules"
#define INITRAMFS_SELINUX_POLICY "etc/imgtool/selinux-policy"
#define INITRAMFS_IPE_POLICY "etc/imgtool/ipe-policy.p7s"
/* The first cert again, where CONFIG_IMA_X509_PATH points by default. */
#define INITRAMFS_KERNEL_X509 "etc/keys/x509_ima.der"
#define INITRAMFS_LUA_RUNNER "etc/imgtool/lua"
/* where init puts it in the root: a name Scriptlets=run's change finder
 * leaves out (one of its markers, scriptlets.c) */
#define INITRAMFS_LUA_RUNNER_COPY "/.imgtool-scriptlet-mark.lua"

struct initramfs_opts {
        const char *const *certs;  /* PEM (one or more certs) or DER files */
        size_t n_certs;
        const char *policy_text;   /* validated here; NULL = ima_policy_default() */
        const char *root;          /* LABEL=..., UUID=... or /dev/... */
        bool rw;                   /* mount the root read-write */
        /* honour imgtool.test= and imgtool.run= on the kernel command line
         * (test images only: the runner executes a script as root) */
        bool cmdline_test;
        /* The kernel's module folder (lib/modules/VERSION): the modules that
         * find the root go into the archive (kmod.h); NULL: none. */
        const char *modules_dir;
        char *const *modules;      /* more module names (Modules=), may be NULL */
        const char *init;          /* the root's init program; NULL: /sbin/init */
        /* SELinux: init loads this binary policy (policy.N) before the IMA
         * policy, so IMA rules may use obj_type= and friends; mode
         * "enforcing" or "permissive" (NULL: no SELinux). */
        const char *selinux_mode;
        const void *selinux_policy;
        size_t selinux_policy_len;
        /* fs-verity builtin signatures: init loads the certs into the
         * .fs-verity keyring too, locks it and sets require_signatures=1;
         * then the IMA policy may do without appraise rules */
        bool verity_keyring;
        /* a signed IPE policy (PKCS#7, DER) and its policy_name: init loads
         * and activates it */
        const uint8_t *ipe_policy;
        size_t ipe_policy_len;
        const char *ipe_policy_name;
        /* Scriptlets=run: carry imgtool-lua (init/lua/runner.c) */
        bool lua_runner;
};

/* Build the compressed archive in memory; *buf is malloc'ed. */
int initramfs_build(const struct initramfs_opts *o, uint8_t **buf, size_t *len);
/* initramfs_build in two steps, so that the slow one (the archive, gzip -9)
 * may run on a thread of its own: gather reads and checks every part (certs,
 * policy, root spec, modules: a bad layout fails here), pack builds the
 * archive from them.  o must be the same for both. */
struct initramfs_parts;
int initramfs_gather(const struct initramfs_opts *o, struct initramfs_parts **out);
int initramfs_pack(const struct initramfs_opts *o, const struct initramfs_parts *p, uint8_t **buf, size_t *len);
void initramfs_parts_free(struct initramfs_parts *p);

/* What an initramfs made by imgtool loads, read back from PATH: the policy
 * text (NUL-terminated) and the DER certs of INITRAMFS_KEYDIR in order.
 * For `reference` and `keylime-policy`.  Free with initramfs_contents_free. */
struct initramfs_contents {
        char *policy;              /* NULL if the archive holds none */
        uint8_t **certs;
        size_t *cert_len;
        size_t n_certs;
};
int initramfs_read(const char *path, struct initramfs_contents *out);
/* The same from memory (a UKI's .initrd); `what` names it in messages. */
int initramfs_read_mem(const void *data, size_t len, const char *what, struct initramfs_contents *out);
void initramfs_contents_free(struct initramfs_contents *c);

/* Build it and write it to path (output.h rules and flags; the caller
 * checks the path against its inputs). */
int initramfs_write(const struct initramfs_opts *o, const char *path, unsigned flags);
