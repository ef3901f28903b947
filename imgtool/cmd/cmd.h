/* The command-line convention, in one place (cmd/cmdline.c).
 *
 * Every command is described by one `struct cmd_spec`: its synopsis, a
 * paragraph, a table of options (each with one sentence of help) and its exit
 * codes.  From that one table come the getopt parsing, `imgtool CMD --help`,
 * `imgtool help CMD` (the same text), the man pages (`imgtool help --man
 * [CMD]`: imgtool(1) and imgtool-CMD(1), installed by CMake) and
 * the bash completion (`imgtool help --bash-completion`): they cannot drift.
 *
 * Adding a command (three steps):
 *   1. cmd/<name>.c: an option table and the spec, then parse with cmd_getopt:
 *
 *        static const struct cmd_option options[] = {
 *                { "output", 'o', "FILE", "Write the result to FILE." },
 *                { "force", CMD_LONG_ONLY(1), NULL, "Replace FILE if it exists." },
 *                {}
 *        };
 *        const struct cmd_spec cmd_frob_spec = {
 *                .name = "frob", .run = cmd_frob, .options = options,
 *                .synopsis = "IMAGE -o FILE [OPTIONS]",
 *                .summary = "frob an image",
 *                .description = "What it does, in a few sentences.",
 *                .exits = CMD_EXITS_DEFAULT,  // or your own {code, meaning} list
 *        };
 *        int cmd_frob(int argc, char **argv)
 *        {
 *                struct cmd_parser p;
 *                int c;
 *                cmd_parser_init(&p, &cmd_frob_spec, argc, argv);
 *                while ((c = cmd_getopt(&p)) > 0)
 *                        switch (c) {
 *                        case 'o': out = p.arg; break;
 *                        case CMD_LONG_ONLY(1): force = true; break;
 *                        }
 *                if (c < 0)
 *                        return p.exit;      // --help/--version printed, or a usage error
 *                // positional arguments: argv[p.next .. argc-1]
 *                if (argc - p.next != 1)
 *                        return cmd_usage_error(&p, "expected exactly one IMAGE");
 *        }
 *   2. declare cmd_frob and cmd_frob_spec below;
 *   3. add &cmd_frob_spec to cmd_table[] in main.c.
 *
 * Converting a command written with getopt_long: each `struct option` row
 * becomes a cmd_option row (its short letter as key, or CMD_LONG_ONLY(n)
 * for a long-only option; drop "help"), the usage() text becomes
 * .synopsis/.summary/.description and one sentence per option, the
 * getopt_long loop becomes the cmd_getopt loop above (optarg -> p.arg,
 * optind -> p.next, no 'h' or default case), and usage errors go through
 * cmd_usage_error().  tests/integration/cli.sh then checks it with the rest.
 *
 * The convention cmd_getopt enforces for every command:
 *   - global options work before and after the command: -v/--verbose,
 *     -h/--help, --version;
 *   - an unknown option or a missing argument prints one line naming it and
 *     "see 'imgtool CMD --help'", exit 2;
 *   - `imgtool help CMD` prints exactly what `imgtool CMD --help` prints,
 *     and `imgtool help --man CMD` the man page imgtool-CMD(1) (man.c).
 * Exit codes: 0 success, 1 a check ran and found problems (only commands
 * that check), 2 could not do the job (usage, bad input, I/O). */
#pragma once
#include <stdio.h>

enum {
        EXIT_OK = 0,
        EXIT_VIOLATIONS = 1, /* a check ran and found problems */
        EXIT_ERROR = 2,      /* could not do the job: bad input, usage, I/O */
};

/* An option key for options without a short letter. */
#define CMD_LONG_ONLY(n) (0x100 + (n))

struct cmd_option {
        const char *name;  /* long name without "--" */
        int key;           /* short letter, or CMD_LONG_ONLY(n) */
        const char *arg;   /* argument name ("FILE"); NULL for a flag */
        const char *help;  /* one sentence */
};

struct cmd_exit {
        int code;
        const char *meaning;
};

struct cmd_spec {
        const char *name;
        const char *synopsis;    /* what follows "imgtool NAME " */
        const char *summary;     /* one line, for `imgtool help` */
        const char *description; /* a paragraph (wrapped on output) */
        const struct cmd_option *options; /* {}-terminated; NULL: none */
        const struct cmd_exit *exits;     /* {}-terminated */
        int (*run)(int argc, char **argv);
};

/* Exit codes of a command that either does its job or fails. */
#define CMD_EXITS_DEFAULT ((const struct cmd_exit[]){ \
        { 0, "success" }, \
        { 2, "could not do the job: bad arguments, bad input, I/O error" }, {} })

struct cmd_parser {
        const struct cmd_spec *spec;
        int argc;
        char **argv;
        const char *arg; /* the current option's argument */
        int next;        /* after the loop: index of the first positional argument */
        int exit;        /* after a negative return: the exit code */
        /* private */
        int done;
};

/* Start parsing argv (argv[0] is the command name). */
void cmd_parser_init(struct cmd_parser *p, const struct cmd_spec *spec, int argc, char **argv);
/* The next option's key (> 0); 0 when only positional arguments are left
 * (they are permuted to the end, as getopt does); -1 when the command must
 * return p->exit (help or version printed, or a usage error printed). */
int cmd_getopt(struct cmd_parser *p);
/* Print "imgtool: CMD: why (see 'imgtool CMD --help')"; returns EXIT_ERROR. */
int cmd_usage_error(const struct cmd_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The help text of a command (what CMD --help and help CMD print). */
void cmd_print_help(FILE *f, const struct cmd_spec *spec);
/* Print text wrapped at 79 columns, each line indented by indent; the first
 * line starts at column col (already printed). */
void cmd_print_wrapped(FILE *f, const char *text, int indent, int col);
/* "-o, --output FILE" for an option; returns its length. */
int cmd_option_head(char *buf, size_t size, const struct cmd_option *o);
/* man.c: a command's man page, or imgtool(1) for NULL; imgtool-layout(5); the
 * layout key reference as layouts/README.md's Markdown and as text. */
void cmd_print_man(FILE *f, const struct cmd_spec *spec);
void cmd_print_layout_man(FILE *f);
void cmd_print_layout_markdown(FILE *f);
void cmd_print_layout_text(FILE *f);
/* Print "imgtool: <msg>" for error r (util.h: its recorded message, or
 * strerror's text when none was recorded for r) and return EXIT_ERROR. */
int cmd_fail(int r);

/* `imgtool help` without a command. */
void cmd_print_overview(FILE *f);

/* The command table (main.c), in the order `imgtool help` lists. */
extern const struct cmd_spec *const cmd_table[];
const struct cmd_spec *cmd_find(const char *name);
/* The global options, documented once. */
extern const struct cmd_option cmd_global_options[];
extern const char imgtool_version[];

#define CMD(name) \
        int cmd_##name(int argc, char **argv); \
        extern const struct cmd_spec cmd_##name##_spec

CMD(keygen);
CMD(sign_rpm);
CMD(sign_request);
CMD(apply_signatures);
CMD(sigpack);
CMD(inspect);
CMD(init_layout);
CMD(summary);
CMD(compose);
CMD(verify);
CMD(manifest);
CMD(ls);
CMD(extract);
CMD(initramfs);
CMD(policy);
CMD(ipe_policy);
CMD(kconfig);
CMD(ima_log);
CMD(reference);
CMD(keylime_policy);
CMD(attest);
CMD(boot);
CMD(pcrs);
CMD(help);
