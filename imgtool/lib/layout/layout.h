/* The layout model: an INI file (libinih) describing one image, validated in
 * one place.  Every key is documented in layouts/README.md.  Relative paths
 * are resolved against the layout file's folder. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strv.h"

enum layout_sigmode {
        SIGMODE_PACKAGE,         /* the packages' own signatures, verified */
        SIGMODE_SIGN,            /* sign every regular file with Key= */
        SIGMODE_PACKAGE_OR_SIGN, /* package signature when it verifies, else sign */
};

enum layout_scriptlets { SCRIPTLETS_ERROR, SCRIPTLETS_SKIP };

enum layout_selinux_mode { SELINUX_DEFAULT, SELINUX_ENFORCING, SELINUX_PERMISSIVE, SELINUX_OFF };

/* [Verity] Signatures=: what the kernel checks verity files against. */
enum layout_verity_sigs {
        VERITY_SIGS_IMA_V3,      /* security.ima v3 over the verity digest; IMA appraises (digest_type=verity) */
        VERITY_SIGS_BUILTIN,     /* PKCS#7 in the descriptor; .fs-verity keyring, require_signatures=1 */
        VERITY_SIGS_IPE,         /* builtin signatures + an IPE policy allowing only them to execute */
};

enum layout_format {
        FORMAT_EXT4,             /* the bare ext4 image (IMAGE.vmlinuz/.initramfs beside it) */
        FORMAT_DISK,             /* a GPT disk: ESP with a UKI, root partition (diskimg.h) */
};

struct layout {
        char *path;              /* the layout file */
        char *dir;               /* its folder */
        char *digest_hex;        /* sha256 of the file's bytes (default seed) */

        /* [Image] */
        uint64_t size;           /* bytes; 0 with size_auto */
        bool size_auto;
        char *label;
        unsigned inode_size;     /* 0: smallest that keeps every signature in the inode */
        char *seed;
        int64_t source_date_epoch; /* -1: environment, else newest build time */
        enum layout_format format;

        /* [Packages] */
        char **directories;      /* NULL-terminated */
        char **install;          /* names or globs */
        char **gpg_keys;
        enum layout_scriptlets scriptlets;
        char **repositories;     /* rpm-md repositories: folders or file:// URLs, as written */
        bool weak_deps;          /* install Recommends/Supplements too */
        char **exclude;          /* name globs the solver never picks */
        char *lock;              /* Lock=: compose exactly this lockfile's set */

        /* [Users] */
        char *users_previous;    /* the previous image's lockfile or passwd: keep its ids */

        /* [SELinux] */
        char *selinux_policy;    /* a policy folder (/etc/selinux/NAME) on the host; NULL: the set's own */
        enum layout_selinux_mode selinux_mode;

        /* [Signatures] */
        enum layout_sigmode sigmode;
        char **certificates;
        char *key;
        char **allow_unsigned;   /* globs */
        char **packs;            /* Packs=: signature pack files or globs (rpm/sigpack.h) */

        /* [Policy] */
        char *policy_file;       /* NULL: the built-in policy */
        bool appraise_root_reads;
        bool measure;

        /* [Verity] */
        bool verity;             /* Enable=: every regular file gets a Merkle tree */
        enum layout_verity_sigs verity_sigs;
        char *verity_salt;       /* hex; NULL: unsalted */

        /* [Boot] */
        char *kernel;            /* path to a vmlinuz; NULL: no boot files */
        char *cmdline;           /* extra kernel command line */
        char *root;              /* root= spec for the initramfs; default LABEL=<label> */
        bool root_rw;
        bool test_hooks;         /* initramfs honours imgtool.test= / imgtool.run= (test images only) */
        char *init;              /* the program the initramfs runs on the root; NULL: /sbin/init */
        char **modules;          /* kernel modules added to the default set */
        char *modules_dir;       /* the kernel's lib/modules/VERSION; NULL: found from Kernel= */

        char *stub;              /* systemd-stub for the UKI (Format=disk); NULL: Debian's */

        /* [SecureBoot] (Format=disk): the db key and cert that sign the UKI */
        char *sb_key;
        char *sb_certificate;

        /* Where each key's value came from, by index in layout_keys(). */
        struct layout_origin *origins;
};

/* Where a key's value came from: its default, a line of the file, or --set. */
enum layout_origin_kind { LAYOUT_DEFAULT, LAYOUT_FILE, LAYOUT_SET };
struct layout_origin {
        enum layout_origin_kind kind;
        unsigned line;           /* LAYOUT_FILE: the last line that set it */
};

/* The keys a layout knows, in documentation order (for `imgtool summary`). */
struct layout_key_info {
        const char *section, *key;
};
size_t layout_key_count(void);
struct layout_key_info layout_key(size_t i);
/* The key's resolved value as layout text (lists space-separated, paths
 * absolute, "" when unset); *text is malloc'ed. */
int layout_key_value(const struct layout *l, size_t i, char **text);

/* Read path, then apply overrides ("Section.Key=Value", NULL-terminated, may
 * be NULL) as if they were the last lines of the file.  Errors name the
 * file, line and key. */
int layout_load(const char *path, char *const *overrides, struct layout **out);
/* A layout whose only content is Lock=path (verify --against LOCKFILE). */
int layout_from_lock(const char *path, struct layout **out);
/* A Repository= value as a local folder: file:// stripped; relative to the layout. */
char *layout_repo_dir(const struct layout *l, const char *repo);
void layout_free(struct layout *l);
