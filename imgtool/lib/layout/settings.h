/* The layout model: struct layout, and its keys in one table (settings.c),
 * as mkosi's ConfigSetting: each
 * key's section, name, value type, default, choices and help.  From it come
 * the parser (layout.c), `imgtool summary`, init-layout's comments, `imgtool
 * help layout`, the man page imgtool-layout(5) and the key tables of
 * layouts/README.md (tests/layout-doc.py keeps them equal).
 *
 * Adding a key: a field in struct layout (below), a row below in
 * settings.c (the section's rows stay together; the order is the order of
 * summary and the docs), then `python3 tests/layout-doc.py build/imgtool
 * layouts/README.md --update`. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the model: what a layout holds -------------------------------------- */

enum layout_sigmode {
        SIGMODE_PACKAGE,         /* the packages' own signatures, verified */
        SIGMODE_SIGN,            /* sign every regular file with Key= */
        SIGMODE_PACKAGE_OR_SIGN, /* package signature when it verifies, else sign */
};

enum layout_scriptlets { SCRIPTLETS_ERROR, SCRIPTLETS_SKIP, SCRIPTLETS_RUN };

/* [Packages] ScriptletCheck=: run the scriptlets a second time and name what differs. */
enum layout_scriptlet_check { SCRIPTLET_CHECK_NO, SCRIPTLET_CHECK_WARN, SCRIPTLET_CHECK_FAIL };

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
        unsigned scriptlet_timeout; /* seconds the whole scriptlet run may take (docs/scriptlets.md) */
        char **scriptlet_exclude; /* path globs: scriptlet changes left out of the image */
        enum layout_scriptlet_check scriptlet_check; /* two runs compared (docs/scriptlets.md) */
        char **repositories;     /* rpm-md repositories: folders or file:// URLs, as written */
        bool weak_deps;          /* install Recommends/Supplements too */
        char **exclude;          /* name globs the solver never picks */
        char *lock;              /* Lock=: compose exactly this lockfile's set */

        /* [Users] */
        char *users_previous;    /* the previous image's lockfile or passwd: keep its ids */
        char **users_privileged; /* PrivilegedGroups=: added to root, wheel, sudo, adm */
        char **users_allow;      /* AllowPrivileged=: "USER:GROUP" memberships allowed */
        char **users_password_hash; /* PasswordHash=: "USER:CRYPT-HASH" (image/passwords.h) */
        bool users_allow_from_lock; /* layout_from_lock: the lock's @privileged lines are allowed */

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

/* ---- its keys ------------------------------------------------------------------ */


enum layout_type {
        LAYOUT_TEXT,        /* one line of text */
        LAYOUT_PATH,        /* a file or folder on this machine, relative to the layout's folder */
        LAYOUT_IMAGE_PATH,  /* an absolute path inside the image */
        LAYOUT_LIST,        /* words separated by spaces */
        LAYOUT_PATH_LIST,   /* paths separated by spaces, each relative to the layout's folder */
        LAYOUT_BOOL,        /* yes or no */
        LAYOUT_ENUM,        /* one of .choices */
        LAYOUT_SIZE,        /* bytes with a suffix, or auto */
        LAYOUT_INODE_SIZE,  /* auto or a power of two */
        LAYOUT_EPOCH,       /* seconds since 1970 */
        LAYOUT_SECONDS,     /* a duration, 1 to 86400 seconds (an unsigned field) */
        LAYOUT_LABEL,       /* an ext4 label */
        LAYOUT_ROOT,        /* a root= spec */
        LAYOUT_SALT,        /* hex bytes */
};

/* A value of an enum key and the number stored for it (an enum field of
 * struct layout). */
struct layout_choice {
        const char *name;
        int value;
};

struct layout_setting {
        const char *section, *key;
        enum layout_type type;
        size_t offset;                       /* of the field in struct layout */
        const struct layout_choice *choices; /* LAYOUT_ENUM: {}-terminated */
        const char *value_default;           /* parsed before the file is read; NULL: unset */
        const char *default_doc;             /* the default in words, where value_default cannot say it */
        const char *comment;                 /* one line: the comment init-layout writes above the key */
        const char *help;                    /* the reference: Markdown inline text (`code`), no '|' */
};

struct layout_section {
        const char *name;
        const char *help;                    /* a paragraph, for the man page */
};

extern const struct layout_setting layout_settings[];
extern const size_t layout_settings_count;
extern const struct layout_section layout_sections[]; /* {}-terminated, in order */
/* The rules of the syntax, one sentence each (NULL-terminated). */
extern const char *const layout_syntax_rules[];

/* The key, or NULL; *section_known says whether the section exists. */
const struct layout_setting *layout_setting_find(const char *section, const char *key, bool *section_known);
/* What a value looks like, as Markdown inline text ("`ext4` or `disk`", "path"). */
const char *layout_type_doc(const struct layout_setting *s, char *buf, size_t size);
/* The default as Markdown inline text ("`auto`", "none"). */
const char *layout_default_doc(const struct layout_setting *s, char *buf, size_t size);
