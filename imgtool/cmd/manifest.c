/* imgtool manifest: one stable, sorted line per path of an image. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cmd.h"
#include "ext4/ext4walk.h"
#include "ima/imasig.h"
#include "image/imgverify.h"
#include "base/util.h"

#define MANIFEST_HEADER "# type mode uid gid size mtime sha256 ima caps target path"

static const struct cmd_option options[] = {
        { "json", 'j', NULL, "Print one JSON array of objects (path, type, mode, uid, gid, size, ...) instead of lines." },
        {}
};

const struct cmd_spec cmd_manifest_spec = {
        .name = "manifest",
        .synopsis = "IMAGE [--json]",
        .summary = "print one stable line per path of an image, for diff",
        .description = "Prints a header line, then per path, sorted bytewise: type mode uid gid size mtime "
                       "sha256 ima caps target path ('-' where a field does not apply; paths escaped as in "
                       "/proc/mounts). The image is only read.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_manifest,
};

static char type_char(mode_t m)
{
        return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c'
             : S_ISBLK(m) ? 'b' : S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : '?';
}

/* The fields of one line, as text. */
struct fields {
        char size[48];
        char sha[2 * IMA_MAX_DIGEST + 1];
        char ima[40];
        char *caps;               /* malloc'ed hex or NULL */
};

static int collect_fields(struct ext4walk *w, const struct ext4walk_entry *e, struct fields *f)
{
        uint8_t d[IMA_MAX_DIGEST];
        int r;

        snprintf(f->size, sizeof(f->size), "-");
        snprintf(f->sha, sizeof(f->sha), "-");
        f->caps = NULL;
        if (S_ISREG(e->mode) || S_ISLNK(e->mode))
                snprintf(f->size, sizeof(f->size), "%llu", (unsigned long long)e->size);
        else if (S_ISCHR(e->mode) || S_ISBLK(e->mode))
                snprintf(f->size, sizeof(f->size), "%u,%u", e->rdev_major, e->rdev_minor);
        if (S_ISREG(e->mode)) {
                r = imgverify_file_digest(w, e, IMA_HASH_SHA256, d);
                if (r < 0)
                        return r;
                hex_encode(d, 32, f->sha);
        }
        imgverify_ima_summary(e->ima, e->ima_len, f->ima, sizeof(f->ima));
        if (e->caps) {
                f->caps = malloc(2 * e->caps_len + 1);
                if (!f->caps)
                        return imgerr(-ENOMEM, "out of memory");
                hex_encode(e->caps, e->caps_len, f->caps);
        }
        return 0;
}

/* A regular file's "target" is the earlier path of the same inode. */
static const char *target_of(const struct ext4walk_entry *e)
{
        return e->target ? e->target : e->link_of;
}

static int print_line(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        struct fields f;
        _cleanup_free_ char *path = NULL, *target = NULL;
        int r = collect_fields(w, e, &f);

        if (r < 0)
                return r;
        path = ext4walk_escape(e->path);
        if (target_of(e))
                target = !strcmp(target_of(e), "-") ? strdup("\\055") : ext4walk_escape(target_of(e));
        if (!path || (target_of(e) && !target)) {
                free(f.caps);
                return imgerr(-ENOMEM, "out of memory");
        }
        printf("%c %04o %u %u %s %lld %s %s %s %s %s\n", type_char(e->mode), e->mode & 07777,
               e->uid, e->gid, f.size, (long long)e->mtime, f.sha, f.ima, f.caps ? f.caps : "-",
               target ? target : "-", path);
        free(f.caps);
        return 0;
}

static json_object *json_str_or_null(const char *s)
{
        return s ? json_object_new_string(s) : NULL;
}

static int add_json(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        json_object *arr = userdata, *o;
        struct fields f;
        char type[2] = { type_char(e->mode), 0 };
        int r = collect_fields(w, e, &f);

        if (r < 0)
                return r;
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(e->path));
        json_object_object_add(o, "type", json_object_new_string(type));
        json_object_object_add(o, "mode", json_object_new_int(e->mode & 07777));
        json_object_object_add(o, "uid", json_object_new_int64(e->uid));
        json_object_object_add(o, "gid", json_object_new_int64(e->gid));
        json_object_object_add(o, "size", S_ISDIR(e->mode) ? NULL : json_object_new_int64((int64_t)e->size));
        if (S_ISCHR(e->mode) || S_ISBLK(e->mode)) {
                json_object_object_add(o, "rdev_major", json_object_new_int64(e->rdev_major));
                json_object_object_add(o, "rdev_minor", json_object_new_int64(e->rdev_minor));
        }
        json_object_object_add(o, "mtime", json_object_new_int64(e->mtime));
        json_object_object_add(o, "nlink", json_object_new_int64(e->nlink));
        json_object_object_add(o, "sha256", S_ISREG(e->mode) ? json_object_new_string(f.sha) : NULL);
        json_object_object_add(o, "ima", strcmp(f.ima, "-") ? json_object_new_string(f.ima) : NULL);
        json_object_object_add(o, "capability", json_str_or_null(f.caps));
        json_object_object_add(o, "target", json_str_or_null(e->target));
        json_object_object_add(o, "hardlink_of", json_str_or_null(e->link_of));
        json_object_array_add(arr, o);
        free(f.caps);
        return 0;
}

int cmd_manifest(int argc, char **argv)
{
        struct ext4walk *w;
        bool json = false;
        struct cmd_parser p;
        int c, r;

        cmd_parser_init(&p, &cmd_manifest_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0)
                if (c == 'j')
                        json = true;
        if (c < 0)
                return p.exit;
        if (argc - p.next != 1)
                return cmd_usage_error(&p, "expected exactly one IMAGE");
        r = ext4walk_open(argv[p.next], &w);
        if (r < 0)
                return cmd_fail(r);
        if (json) {
                json_object *arr = json_object_new_array();
                r = ext4walk_walk(w, "/", EXT4WALK_RECURSIVE, add_json, arr);
                if (r == 0)
                        printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
                                                                          JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(arr);
        } else {
                printf("%s\n", MANIFEST_HEADER);
                r = ext4walk_walk(w, "/", EXT4WALK_RECURSIVE, print_line, NULL);
        }
        if (r == 0)
                r = ext4walk_unchanged(w);
        ext4walk_close(w);
        if (r < 0)
                return cmd_fail(r);
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "imgtool: manifest: writing output: %m\n");
                return EXIT_ERROR;
        }
        return EXIT_OK;
}
