/* The pipeline from a layout to an image: packages are read once, in install
 * order; each regular file's bytes are hashed, checked against the header
 * digest and written into the image in the same pass; its security.ima comes
 * from the package (verified) or from the owner's key. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "layout/layout.h"

/* What compose took from one package (JSON report: "packages"). */
struct compose_package_report {
        char *nevra, *file;
        size_t files;                   /* regular files */
        size_t sig_from_package, sig_signed_here, sig_allowed_unsigned;
        uint32_t keyids[8];             /* keyids of the package signatures kept */
        size_t n_keyids;
};

struct compose_report {
        size_t packages, files, regular, directories, symlinks, hardlinks, devices;
        uint64_t bytes;                 /* regular file content */
        size_t sig_from_package, sig_signed_here, sig_allowed_unsigned;
        size_t users_created;           /* users and groups made from sysusers lines */
        size_t labelled;                /* inodes given security.selinux */
        char selinux_policy[64];        /* SELINUXTYPE labels came from; "" none */
        char **scriptlets_skipped;      /* "pkg: %post" lines, NULL-terminated */
        size_t scriptlets_ran;          /* Scriptlets=run: how many ran */
        char **scriptlet_changes;       /* "created PATH (NEVRA %post)" lines, in path order */
        char **scriptlet_runs;          /* "NEVRA %post" labels of the scriptlets that ran, in order */
        bool scriptlets_checked;        /* ScriptletCheck=warn|fail: a second run compared */
        char **scriptlet_nondeterministic; /* its "PATH (NEVRA %post): what differs" lines */
        char **created_unsigned;        /* files compose made itself and left unsigned */
        char **warnings;
        char **setid_cleared;           /* paths whose setuid/setgid bit was cleared (owner unknown: root) */
        uint64_t image_size, blocks_used, block_size;
        unsigned inode_size;
        int64_t source_date_epoch;
        char uuid[37];
        /* Format=disk: the whole disk, the UKI on its ESP; 0 for ext4 */
        uint64_t disk_size, uki_size;
        bool uki_signed;
        char root_partuuid[37];
        double seconds;
        struct compose_package_report *pkgs; /* [packages], in install order */
        bool has_signing_key;
        uint32_t signing_keyid;         /* Key='s */
        uint32_t *trusted_keyids;       /* Certificate='s keys (certificates and bare keys), as plan_trust resolved them */
        size_t n_trusted;
        char **written;                 /* every file compose wrote: the image, boot files */
        char *boot_command;             /* how to boot them; NULL without Kernel= */
};

struct compose_opts {
        const struct layout *layout;
        const char *output;             /* the image; IMAGE.vmlinuz/.initramfs beside it with [Boot] */
        const char *json_report;        /* NULL, a file, or "-" (stdout, after everything succeeded) */
        unsigned output_flags;          /* output.h: OUTPUT_FORCE */
        bool progress;                  /* a progress line on stderr */
        const char *lock_out;           /* write the package set's lockfile here (NULL: none) */
        const char *defer_request;      /* two-phase signing (ima/sigreq.h): Key= is not read, every
                                           signature it would make is a placeholder, and the
                                           signing request goes here (NULL: sign now) */
};

/* Every input and setting is checked before the first byte is written;
 * all outputs (image, boot files, report) go to temporary names and are
 * renamed into place together at the end (output.h). */
int compose_image(const struct compose_opts *o, struct compose_report *rep);
void compose_report_free(struct compose_report *rep);

/* Summary text / JSON (json-c) of a report. */
void compose_report_print_summary(FILE *f, const struct compose_report *rep, const char *output);
int compose_report_json_text(const struct compose_report *rep, const char *output, char **text);
