/* imgtool extract: copy a file or a tree out of an image (the engine:
 * lib/ext4/extract.c). */
#include "cmd.h"
#include "ext4/extract.h"

enum { OPT_XATTRS = CMD_LONG_ONLY(1) };
static const struct cmd_option options[] = {
        { "output", 'o', "OUT", "Where to write; it must not exist unless --force. '-': a file's content to standard output. Required." },
        { "force", 'f', NULL, "Replace OUT if it exists and is a regular file." },
        { "xattrs", OPT_XATTRS, NULL, "Also copy security.ima and security.capability (setting security.* needs root)." },
        {}
};

const struct cmd_spec cmd_extract_spec = {
        .name = "extract",
        .synopsis = "IMAGE PATH -o OUT [--force] [--xattrs]",
        .summary = "copy a file or tree out of an image",
        .description = "Copies PATH out of IMAGE: a file to the file OUT, a folder to the tree OUT. Modes, "
                       "mtimes, symlinks and hard links are kept; run as root, owners and device nodes too. "
                       "Everything is written into a temporary folder beside OUT and renamed at the end.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_extract,
};

int cmd_extract(int argc, char **argv)
{
        const char *out = NULL;
        bool force = false, xattrs = false;
        struct cmd_parser p;
        int c, r;

        cmd_parser_init(&p, &cmd_extract_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case 'o': out = p.arg; break;
                case 'f': force = true; break;
                case OPT_XATTRS: xattrs = true; break;
                }
        }
        if (c < 0)
                return p.exit;
        if (argc - p.next != 2 || !out || !*out)
                return cmd_usage_error(&p, "need IMAGE PATH -o OUT");
        if ((r = extract_path(argv[p.next], argv[p.next + 1], out, force, xattrs)) < 0)
                return cmd_fail(r);
        return EXIT_OK;
}
