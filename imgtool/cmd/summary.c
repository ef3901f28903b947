/* imgtool summary: the resolved layout, every key with its value and where
 * the value came from (default, FILE:LINE, --set), as `mkosi summary`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/bootfiles.h"
#include "cmd.h"
#include "boot/kmod.h"
#include "layout/layout.h"
#include "base/util.h"

static const struct cmd_option options[] = {
        { "set", 's', "SECTION.KEY=VALUE", "Override a layout key as compose would (repeatable); the origin says --set." },
        {}
};

const struct cmd_spec cmd_summary_spec = {
        .name = "summary",
        .synopsis = "LAYOUT [--set SECTION.KEY=VALUE]...",
        .summary = "print the resolved layout: every key, its value and where it came from",
        .description = "Prints every key of the layout model, section by section, as compose will use it "
                       "(paths joined to the layout's folder, as compose opens them; lists joined), each followed by its origin: 'default', "
                       "'FILE:LINE' (the last line that set it) or '--set'. Then what compose derives for "
                       "the boot: the kernel version, its module folder, the kernel command line.",
        .options = options,
        .exits = (const struct cmd_exit[]){ { 0, "the layout is valid; summary printed" },
                                            { 2, "the layout is not valid (the error names file and line), or bad arguments" }, {} },
        .run = cmd_summary,
};

static void print_origin(const struct layout *l, size_t i)
{
        const struct layout_origin *o = &l->origins[i];
        if (o->kind == LAYOUT_FILE)
                printf("%s:%u", l->path, o->line);
        else
                printf("%s", o->kind == LAYOUT_SET ? "--set" : "default");
}

static void print_boot(const struct layout *l)
{
        _cleanup_free_ char *cmdline = NULL, *dir = NULL;
        char ver[128];
        int r = 0;

        if (!l->kernel)
                return;
        printf("\n# derived for the boot\n");
        if (kmod_kernel_version(l->kernel, ver, sizeof(ver)) == 0)
                printf("#   kernel version:      %s\n", ver);
        if (l->modules_dir || (r = kmod_find_dir(l->kernel, &dir)) == 0)
                printf("#   module folder:       %s\n", l->modules_dir ? l->modules_dir : dir);
        else
                printf("#   module folder:       none found (%s)\n", imgerr_what(r));
        if (bootfiles_kernel_cmdline(l, &cmdline) == 0)
                printf("#   kernel command line: %s\n", *cmdline ? cmdline : "(none)");
        printf("#   init on the root:    %s\n", l->init ? l->init : "/sbin/init");
}

int cmd_summary(int argc, char **argv)
{
        _cleanup_free_ char **sets = calloc((size_t)argc + 1, sizeof(char *));
        struct layout *l = NULL;
        struct cmd_parser p;
        const char *section = "";
        size_t nsets = 0;
        int c, r;

        if (!sets)
                return EXIT_ERROR;
        cmd_parser_init(&p, &cmd_summary_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0)
                if (c == 's')
                        sets[nsets++] = (char *)p.arg;
        if (c < 0)
                return p.exit;
        if (argc - p.next != 1)
                return cmd_usage_error(&p, "expected exactly one LAYOUT");
        if ((r = layout_load(argv[p.next], sets, &l)) < 0)
                return cmd_fail(r);
        printf("# %s, resolved: paths as compose opens them; after each key where its value came from\n", l->path);
        for (size_t i = 0; i < layout_key_count(); i++) {
                const struct layout_setting *k = layout_key(i);
                _cleanup_free_ char *value = NULL;
                int n;

                if (strcmp(section, k->section))
                        printf("%s[%s]\n", i ? "\n" : "", section = k->section);
                if ((r = layout_key_value(l, i, &value)) < 0) {
                        layout_free(l);
                        return cmd_fail(r);
                }
                n = printf("%s=%s", k->key, value);
                printf("%*s# ", n < 40 ? 40 - n : 1, "");
                print_origin(l, i);
                putchar('\n');
        }
        print_boot(l);
        layout_free(l);
        return EXIT_OK;
}
