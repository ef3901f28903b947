/* imgtool ls: an `ls -l` style listing of one folder (or one file) of an image. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "ext4/ext4walk.h"
#include "image/imgverify.h"
#include "base/util.h"

enum { OPT_IMA = CMD_LONG_ONLY(1) };
static const struct cmd_option options[] = {
        { "directory", 'd', NULL, "List PATH itself, not its contents, when it is a folder." },
        { "ima", OPT_IMA, NULL, "Add a column with the security.ima state: sig:KEYID, hash:ALGO, bad or -." },
        {}
};

const struct cmd_spec cmd_ls_spec = {
        .name = "ls",
        .synopsis = "IMAGE [PATH] [-d] [--ima]",
        .summary = "list a folder inside an image",
        .description = "Lists the folder PATH (default /) of IMAGE like 'ls -l', or PATH itself when it is "
                       "not a folder. Times are UTC; names are escaped as in 'imgtool manifest'. The image "
                       "is only read.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_ls,
};

static void mode_string(mode_t m, char s[11])
{
        static const char rwx[] = "rwxrwxrwx";
        s[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b'
             : S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : '-';
        for (int i = 0; i < 9; i++)
                s[1 + i] = (m & (0400 >> i)) ? rwx[i] : '-';
        if (m & S_ISUID)
                s[3] = (m & S_IXUSR) ? 's' : 'S';
        if (m & S_ISGID)
                s[6] = (m & S_IXGRP) ? 's' : 'S';
        if (m & S_ISVTX)
                s[9] = (m & S_IXOTH) ? 't' : 'T';
        s[10] = 0;
}

struct ls_opts {
        bool ima;
        bool full_path;           /* print the whole path, not the name */
};

static int print_entry(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        const struct ls_opts *o = userdata;
        _cleanup_free_ char *name = ext4walk_escape(o->full_path ? e->path : e->name);
        _cleanup_free_ char *target = e->target ? ext4walk_escape(e->target) : NULL;
        char mode[11], size[48], when[32], ima[40] = "";
        time_t t = (time_t)e->mtime;
        struct tm tm;

        if (!name || (e->target && !target))
                return imgerr(-ENOMEM, "out of memory");
        mode_string(e->mode, mode);
        if (S_ISCHR(e->mode) || S_ISBLK(e->mode))
                snprintf(size, sizeof(size), "%u, %u", e->rdev_major, e->rdev_minor);
        else
                snprintf(size, sizeof(size), "%llu", (unsigned long long)e->size);
        if (gmtime_r(&t, &tm))
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
        else
                snprintf(when, sizeof(when), "%lld", (long long)e->mtime);
        if (o->ima) {
                imgverify_ima_summary(e->ima, e->ima_len, ima, sizeof(ima) - 1);
                strcat(ima, " ");
        }
        printf("%s %3u %5u %5u %10s %s %s%s%s%s\n", mode, e->nlink, e->uid, e->gid, size, when,
               ima, name, target ? " -> " : "", target ? target : "");
        return 0;
}

int cmd_ls(int argc, char **argv)
{
        struct ls_opts o = {};
        struct ext4walk *w;
        struct ext4walk_entry e;
        const char *path = "/";
        bool dir_itself = false;
        struct cmd_parser p;
        int c, r;

        cmd_parser_init(&p, &cmd_ls_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case 'd': dir_itself = true; break;
                case OPT_IMA: o.ima = true; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (argc - p.next != 1 && argc - p.next != 2)
                return cmd_usage_error(&p, "expected IMAGE [PATH]");
        if (argc - p.next == 2)
                path = argv[p.next + 1];
        r = ext4walk_open(argv[p.next], &w);
        if (r < 0)
                return cmd_fail(r);
        r = ext4walk_stat(w, path, &e);
        if (r == 0 && (dir_itself || !S_ISDIR(e.mode))) {
                o.full_path = true;
                r = print_entry(w, &e, &o);
        } else if (r == 0)
                r = ext4walk_walk(w, path, EXT4WALK_NO_START, print_entry, &o);
        if (r == 0)
                r = ext4walk_unchanged(w);
        ext4walk_close(w);
        if (r < 0)
                return cmd_fail(r);
        return EXIT_OK;
}
