/* imgtool init-layout: write a commented starting layout for the user's own
 * packages and key, ready for `imgtool compose`. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "ima/keygen.h"
#include "layout/settings.h"
#include "base/output.h"
#include "rpm/rpmpkg.h"
#include "base/strv.h"
#include "base/util.h"

#define LAYOUT_NAME "image.conf"
#define SYSTEMD "/lib/systemd/systemd"  /* /usr/lib/... on a merged /usr: is_path() */

enum { OPT_FROM_RPMS = CMD_LONG_ONLY(1), OPT_KEY, OPT_KERNEL, OPT_TEST_HOOKS, OPT_SYSTEMD, OPT_FORCE };
static const struct cmd_option options[] = {
        { "from-rpms", OPT_FROM_RPMS, "FOLDER", "Take the packages from FOLDER: Directory= points there and Install= names every binary package in it (default: DIR/rpms, Install=*)." },
        { "key", OPT_KEY, "KEYDIR", "Sign with KEYDIR/signing.key and trust KEYDIR/signing.der, as 'imgtool keygen --out KEYDIR' makes them (default: DIR/keys, made now if missing)." },
        { "kernel", OPT_KERNEL, "VMLINUZ", "Make the image bootable with this kernel; its modules are taken from its package's lib/modules folder." },
        { "test-hooks", OPT_TEST_HOOKS, NULL, "Set [Boot] TestHooks=yes so 'imgtool boot --exec/--shell' can run commands in the guest (test images only)." },
        { "systemd", OPT_SYSTEMD, NULL, "A systemd image, as layouts/systemd.conf (docs/systemd.md): Scriptlets=run, Init=/usr/lib/systemd/systemd, ldconfig's aux cache left out." },
        { "force", 'f', NULL, "Replace an existing DIR/" LAYOUT_NAME "." },
        {}
};

const struct cmd_spec cmd_init_layout_spec = {
        .name = "init-layout",
        .synopsis = "DIR [--from-rpms FOLDER] [--key KEYDIR] [--kernel VMLINUZ] [--test-hooks] [--systemd] [--force]",
        .summary = "write a commented starting layout for your own packages",
        .description = "Creates DIR (if missing) and writes DIR/" LAYOUT_NAME ": every section with the keys a "
                       "first image needs and a comment for each, Mode=sign with your key, the packages of "
                       "FOLDER, and what a boot still lacks (a package with /sbin/init or /bin/sh). Without "
                       "--key it makes a key in DIR/keys (keep DIR/keys/signing.key private). Then: 'imgtool "
                       "summary DIR/" LAYOUT_NAME "', 'imgtool compose DIR/" LAYOUT_NAME " -o IMAGE'.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_init_layout,
};

struct scan {
        char **names;          /* package names, sorted, unique */
        size_t packages, signed_files, files;
        char *init, *sh;       /* the packages shipping /sbin/init, /bin/sh */
        char *systemd;         /* the package shipping /usr/lib/systemd/systemd */
};

static bool is_path(const char *path, const char *want)
{
        /* merged /usr: /usr/sbin/init counts for /sbin/init */
        return !strcmp(path, want) || (!strncmp(path, "/usr", 4) && !strcmp(path + 4, want));
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int scan_rpms(const char *folder, struct scan *s)
{
        DIR *d = opendir(folder);
        struct dirent *e;
        int r = 0;

        if (!d)
                return imgerr(-errno, "%s: %s", folder, strerror(errno));
        while (r >= 0 && (e = readdir(d))) {
                size_t n = strlen(e->d_name);
                _cleanup_free_ char *path = NULL;
                struct rpmpkg *p = NULL;

                if (n < 5 || strcmp(e->d_name + n - 4, ".rpm") || (n > 8 && !strcmp(e->d_name + n - 8, ".src.rpm")))
                        continue;
                if (asprintf(&path, "%s/%s", folder, e->d_name) < 0)
                        return -ENOMEM;
                r = rpmpkg_open(path, &p);
                if (r == RPMPKG_ESOURCE) {
                        imgerr_clear();
                        r = 0;
                        continue;
                }
                if (r < 0)
                        break;
                s->packages++;
                if (!strv_contains(s->names, rpmpkg_name(p)))
                        r = strv_push(&s->names, strdup(rpmpkg_name(p)));
                for (size_t i = 0; r >= 0 && i < rpmpkg_file_count(p); i++) {
                        struct rpmpkg_file f;
                        if (rpmpkg_file(p, i, &f) < 0 || (f.flags & RPMPKG_FILE_GHOST))
                                continue;
                        if (S_ISREG(f.mode)) {
                                s->files++;
                                s->signed_files += f.ima != NULL;
                        }
                        if (!s->init && is_path(f.path, "/sbin/init"))
                                s->init = strdup(rpmpkg_name(p));
                        if (!s->sh && is_path(f.path, "/bin/sh"))
                                s->sh = strdup(rpmpkg_name(p));
                        if (!s->systemd && is_path(f.path, SYSTEMD))
                                s->systemd = strdup(rpmpkg_name(p));
                }
                rpmpkg_free(p);
        }
        closedir(d);
        if (r < 0)
                return r;
        if (!s->names)
                return imgerr(-ENOENT, "%s: no binary .rpm packages in this folder", folder);
        qsort(s->names, strv_length(s->names), sizeof(char *), cmp_str);
        return 0;
}

/* An ext4 label from the folder's name: up to 16 of [A-Za-z0-9_-]. */
static void make_label(const char *dir, char label[17])
{
        _cleanup_free_ char *copy = strdup(dir);
        const char *b = copy ? basename(copy) : "root";
        size_t n = 0;
        for (; *b && n < 16; b++)
                if (isalnum((unsigned char)*b) || *b == '-' || *b == '_')
                        label[n++] = *b;
        label[n] = 0;
        if (!n)
                strcpy(label, "root");
}

static int absolute(const char *p, char **out)
{
        *out = realpath(p, NULL);
        return *out ? 0 : imgerr(-errno, "%s: %s", p, strerror(errno));
}

struct args {
        const char *dir, *rpms, *key, *kernel;
        bool test_hooks, systemd, force;
};

/* The key's one-line comment, from the layout key table (layout/settings.c). */
static void comment(FILE *f, const char *section, const char *key)
{
        bool section_known;
        const struct layout_setting *s = layout_setting_find(section, key, &section_known);
        if (s)
                fprintf(f, "# %s\n", s->comment);
}

static int write_layout(const struct args *a, const struct scan *s, const char *rpms_abs,
                        const char *keydir, const char *kernel_abs, char **text)
{
        char label[17];
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -ENOMEM;
        make_label(a->dir, label);
        fprintf(f, "# A starting layout written by `imgtool init-layout`.  Every key: `imgtool help layout`\n"
                   "# (man imgtool-layout); the resolved values and where each came from: `imgtool summary %s`.\n"
                   "# Relative paths are relative to this file's folder.\n\n", LAYOUT_NAME);
        fprintf(f, "[Image]\n");
        comment(f, "Image", "Label");
        fprintf(f, "Label=%s\n", label);
        comment(f, "Image", "Size");
        fprintf(f, "#Size=2G\n");
        comment(f, "Image", "Seed");
        fprintf(f, "#Seed=%s-1\n\n", label);
        fprintf(f, "[Packages]\n");
        comment(f, "Packages", "Directory");
        if (rpms_abs)
                fprintf(f, "# %zu packages found in this folder.\nDirectory=%s\n", s->packages, rpms_abs);
        else
                fprintf(f, "# Put your .rpm files into %s/rpms (or point Directory= elsewhere).\nDirectory=rpms\n", a->dir);
        comment(f, "Packages", "Install");
        if (rpms_abs) {
                fprintf(f, "# Every name found; the newest version of each wins.\nInstall=");
                for (size_t i = 0; s->names[i]; i++)
                        fprintf(f, "%s%s", i ? " " : "", s->names[i]);
                fputc('\n', f);
        } else {
                fprintf(f, "Install=*\n");
        }
        comment(f, "Packages", "Scriptlets");
        if (a->systemd) {
                /* docs/systemd.md: presets and ldconfig run, their results signed */
                fprintf(f, "# systemctl preset and ldconfig run in the image under QEMU (needs Kernel=).\nScriptlets=run\n");
                comment(f, "Packages", "ScriptletTimeout");
                fprintf(f, "ScriptletTimeout=1200\n");
                comment(f, "Packages", "ScriptletExclude");
                fprintf(f, "# ldconfig's aux cache holds the guest's inode numbers and times: new on every run.\n"
                           "ScriptletExclude=/var/cache/ldconfig/aux-cache\n\n");
        } else {
                fprintf(f, "Scriptlets=error\n\n");
        }
        fprintf(f, "[Signatures]\n");
        comment(f, "Signatures", "Mode");
        if (s->files && s->signed_files == s->files)
                fprintf(f, "# All %zu files of these packages carry IMA signatures: Mode=package keeps them\n"
                           "# (Certificate= must then list the cert they verify with).\n", s->files);
        fprintf(f, "Mode=sign\n");
        comment(f, "Signatures", "Key");
        fprintf(f, "Key=%s/signing.key\n", keydir);
        comment(f, "Signatures", "Certificate");
        fprintf(f, "Certificate=%s/signing.der\n\n", keydir);
        fprintf(f, "[Policy]\n");
        comment(f, "Policy", "AppraiseRootReads");
        fprintf(f, "AppraiseRootReads=yes\n");
        comment(f, "Policy", "Measure");
        fprintf(f, "Measure=yes\n\n");
        fprintf(f, "[Boot]\n");
        comment(f, "Boot", "Kernel");
        if (kernel_abs)
                fprintf(f, "# compose writes IMAGE.vmlinuz, IMAGE.initramfs (with the modules that find the root)\n"
                           "# and IMAGE.cmdline beside the image; `imgtool boot IMAGE` boots them.\nKernel=%s\n",
                        kernel_abs);
        else
                fprintf(f, "#Kernel=/path/to/vmlinuz\n");
        comment(f, "Boot", "CommandLine");
        fprintf(f, "#CommandLine=\n");
        comment(f, "Boot", "Init");
        if (a->systemd)
                fprintf(f, "# systemd as PID 1.  The packages must give it a writable /var (an /etc/fstab mount)\n"
                           "# and an empty /etc/machine-id on the read-only root: compose warns otherwise.\n"
                           "Init=/usr/lib/systemd/systemd\n");
        else if (rpms_abs && !s->init)
                fprintf(f, "# None of these packages ships /sbin/init: add one, or name the program to run:\n#Init=/usr/bin/myapp\n");
        else
                fprintf(f, "# Default /sbin/init%s%s.\n#Init=/sbin/init\n", s->init ? ", from " : "", s->init ? s->init : "");
        comment(f, "Boot", "TestHooks");
        if (rpms_abs && !s->sh)
                fprintf(f, "# None of these packages ships /bin/sh, which the test hooks run commands with.\n");
        fprintf(f, "%sTestHooks=yes\n", a->test_hooks ? "" : "#");
        if (fclose(f) != 0)
                return -ENOMEM;
        *text = buf;
        return 0;
}

int cmd_init_layout(int argc, char **argv)
{
        struct args a = { 0 };
        struct scan s = { 0 };
        struct cmd_parser p;
        _cleanup_free_ char *rpms_abs = NULL, *kernel_abs = NULL, *keydir = NULL, *target = NULL,
                           *text = NULL, *keyfile = NULL;
        bool made_key = false;
        uint32_t keyid = 0;
        int c, r, e = -ENOMEM;   /* the error a `goto fail` reports */

        cmd_parser_init(&p, &cmd_init_layout_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case OPT_FROM_RPMS: a.rpms = p.arg; break;
                case OPT_KEY: a.key = p.arg; break;
                case OPT_KERNEL: a.kernel = p.arg; break;
                case OPT_TEST_HOOKS: a.test_hooks = true; break;
                case OPT_SYSTEMD: a.systemd = true; break;
                case 'f': a.force = true; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (argc - p.next != 1)
                return cmd_usage_error(&p, "expected exactly one DIR");
        a.dir = argv[p.next];
        if (asprintf(&target, "%s/%s", a.dir, LAYOUT_NAME) < 0)
                return EXIT_ERROR;
        /* DIR may not exist yet (it is made below); the rest of the rule now */
        if (access(a.dir, F_OK) == 0 && (r = output_check(target, a.force ? OUTPUT_FORCE : 0, NULL)) < 0)
                return cmd_fail(r);
        /* Check every input before writing anything. */
        if (a.rpms && ((e = absolute(a.rpms, &rpms_abs)) < 0 || (e = scan_rpms(rpms_abs, &s)) < 0))
                goto fail;
        if (a.kernel && (e = absolute(a.kernel, &kernel_abs)) < 0)
                goto fail;
        if (a.key) {
                if ((e = absolute(a.key, &keydir)) < 0 || (e = -ENOMEM, asprintf(&keyfile, "%s/signing.key", keydir) < 0))
                        goto fail;
                if (access(keyfile, R_OK) < 0) {
                        fprintf(stderr, "imgtool: %s: %s (make one with imgtool keygen --out %s)\n", keyfile,
                                strerror(errno), a.key);
                        r = EXIT_ERROR;
                        goto out;
                }
        }
        if ((e = mkdir_p(a.dir)) < 0) {
                fprintf(stderr, "imgtool: %s: cannot create: %s\n", a.dir, strerror(-e));
                r = EXIT_ERROR;
                goto out;
        }
        if (!a.key) {
                struct keygen_opts ko = { .type = KEY_EC_P256 };
                _cleanup_free_ char *kd = NULL;
                e = -ENOMEM;
                if (asprintf(&kd, "%s/keys", a.dir) < 0 || asprintf(&keyfile, "%s/signing.key", kd) < 0)
                        goto fail;
                if (access(keyfile, F_OK) < 0) {
                        if ((e = keygen_write(kd, &ko, &keyid)) < 0)
                                goto fail;
                        made_key = true;
                }
                keydir = strdup("keys");
        }
        e = -ENOMEM;
        if (!keydir || (e = write_layout(&a, &s, rpms_abs, keydir, kernel_abs, &text)) < 0 ||
            (e = output_write_file(target, a.force ? OUTPUT_FORCE : 0, 0644, NULL, text, strlen(text))) < 0)
                goto fail;
        printf("%s: a layout for %s%s, signed with %s/signing.key%s\n", target,
               rpms_abs ? "the packages of " : "the packages you put into ", rpms_abs ? rpms_abs : "rpms/",
               a.key ? a.key : "keys", made_key ? " (a new key, made now: keep it private)" : "");
        if (rpms_abs && !s.init && !a.systemd)
                printf("note: no package ships /sbin/init: add one or set [Boot] Init=\n");
        if (s.systemd && !a.systemd)
                printf("note: %s ships systemd: --systemd writes the settings a systemd image needs (docs/systemd.md)\n",
                       s.systemd);
        if (a.systemd && !a.kernel)
                printf("note: Scriptlets=run boots the image: set [Boot] Kernel= (or pass --kernel)\n");
        printf("next: imgtool summary %s\n      imgtool compose %s -o IMAGE\n", target, target);
        r = EXIT_OK;
        goto out;
fail:
        r = cmd_fail(e);
out:
        strv_free(s.names);
        free(s.init);
        free(s.sh);
        free(s.systemd);
        return r;
}
