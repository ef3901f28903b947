/* imgtool manifest: one stable, sorted line per path of an image. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cmd.h"
#include "attest/manifest.h"
#include "ext4/ext4walk.h"
#include "ima/imasig.h"
#include "image/imgverify.h"
#include "base/util.h"

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

static json_object *json_str_or_null(const char *s)
{
        return s ? json_object_new_string(s) : NULL;
}

static int add_json(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        json_object *arr = userdata, *o;
        struct manifest_fields f;
        char type[2] = { manifest_type_char(e->mode), 0 };
        int r = manifest_fields(w, e, &f);

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
                r = ext4walk_walk(w, "/", EXT4WALK_RECURSIVE, manifest_print_line, NULL);
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
