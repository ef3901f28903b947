/* The command-line convention (cmd.h): getopt tables, help text, man page
 * and bash completion, all generated from each command's cmd_spec. */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "base/util.h"

#define KEY_VERSION CMD_LONG_ONLY(0xff)
#define MAX_OPTIONS 64

const struct cmd_option cmd_global_options[] = {
        { "verbose", 'v', NULL, "Print more: stage times, per-package lines (repeatable)." },
        { "help", 'h', NULL, "Print this help and exit." },
        { "version", KEY_VERSION, NULL, "Print imgtool's version and exit." },
        {}
};

static size_t count_options(const struct cmd_option *o)
{
        size_t n = 0;
        while (o && o[n].name)
                n++;
        return n;
}

/* ---- parsing ------------------------------------------------------------- */

static struct option longopts[MAX_OPTIONS + 1];
static char shortopts[3 * MAX_OPTIONS + 2];

static void add_options(const struct cmd_option *o, size_t *nl, size_t *ns)
{
        for (; o && o->name; o++) {
                if (*nl >= MAX_OPTIONS)
                        abort(); /* a programming error: raise MAX_OPTIONS */
                /* arg "[=NAME]": an optional argument (--name or --name=VALUE) */
                bool optional = o->arg && o->arg[0] == '[';
                longopts[(*nl)++] = (struct option){ o->name, !o->arg ? no_argument :
                                                     optional ? optional_argument : required_argument,
                                                     NULL, o->key };
                if (o->key < 0x100) {
                        shortopts[(*ns)++] = (char)o->key;
                        if (o->arg)
                                shortopts[(*ns)++] = ':';
                        if (optional)
                                shortopts[(*ns)++] = ':';
                }
        }
}

void cmd_parser_init(struct cmd_parser *p, const struct cmd_spec *spec, int argc, char **argv)
{
        size_t nl = 0, ns = 0;

        *p = (struct cmd_parser){ .spec = spec, .argc = argc, .argv = argv, .next = argc };
        shortopts[ns++] = ':'; /* ':' for a missing argument, '?' for an unknown option */
        add_options(spec->options, &nl, &ns);
        add_options(cmd_global_options, &nl, &ns);
        longopts[nl] = (struct option){ 0 };
        shortopts[ns] = 0;
        optind = 0; /* GNU: reinitialise */
        opterr = 0;
}

int cmd_usage_error(const struct cmd_parser *p, const char *fmt, ...)
{
        va_list ap;
        fprintf(stderr, "imgtool: %s: ", p->spec->name);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see 'imgtool %s --help')\n", p->spec->name);
        return EXIT_ERROR;
}

/* The option as the user wrote it: "--name" (without "=value"), or "-x". */
static const char *bad_option_text(const struct cmd_parser *p)
{
        static char buf[128];
        const char *arg = optind > 0 && optind <= p->argc ? p->argv[optind - 1] : "";

        if (!strncmp(arg, "--", 2)) {
                snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(arg, "="), arg);
                return buf;
        }
        snprintf(buf, sizeof(buf), "-%c", optopt > 0 && optopt < 0x100 ? optopt : '?');
        return buf;
}

int cmd_getopt(struct cmd_parser *p)
{
        int c;

        if (p->done)
                return p->done < 0 ? -1 : 0;
        for (;;) {
                c = getopt_long(p->argc, p->argv, shortopts, longopts, NULL);
                p->arg = optarg;
                switch (c) {
                case -1:
                        p->next = optind;
                        p->done = 1;
                        return 0;
                case 'v':
                        imgtool_verbose++;
                        continue;
                case 'h':
                        cmd_print_help(stdout, p->spec);
                        p->exit = EXIT_OK;
                        break;
                case KEY_VERSION:
                        printf("imgtool %s\n", imgtool_version);
                        p->exit = EXIT_OK;
                        break;
                case ':':
                        p->exit = cmd_usage_error(p, "option %s needs an argument", bad_option_text(p));
                        break;
                case '?':
                        p->exit = cmd_usage_error(p, "unknown option %s", bad_option_text(p));
                        break;
                default:
                        return c;
                }
                p->done = -1;
                return -1;
        }
}

/* ---- help text ------------------------------------------------------------ */

#define WIDTH 79
#define OPT_COLUMN 26

/* Print text wrapped at WIDTH, each line starting with indent spaces; the
 * first line starts at column col (already printed). */
void cmd_print_wrapped(FILE *f, const char *text, int indent, int col)
{
        const char *w = text;

        while (*w) {
                size_t n = strcspn(w, " \n");
                if (col > indent && col + 1 + (int)n > WIDTH) {
                        fprintf(f, "\n%*s", indent, "");
                        col = indent;
                } else if (col > indent) {
                        fputc(' ', f);
                        col++;
                }
                fwrite(w, 1, n, f);
                col += (int)n;
                w += n;
                if (*w == '\n' && w[1] == '\n') { /* paragraph break */
                        fprintf(f, "\n\n%*s", indent, "");
                        col = indent;
                        w += 2;
                }
                w += strspn(w, " \n");
        }
        fputc('\n', f);
}

int cmd_option_head(char *buf, size_t size, const struct cmd_option *o)
{
        return snprintf(buf, size, "%s%c%s--%s%s%s", o->key < 0x100 ? "-" : " ",
                        o->key < 0x100 ? o->key : ' ', o->key < 0x100 ? ", " : "  ", o->name,
                        o->arg && o->arg[0] != '[' ? " " : "", o->arg ? o->arg : "");
}

static void print_options(FILE *f, const struct cmd_option *o)
{
        char head[128];
        for (; o && o->name; o++) {
                int n = cmd_option_head(head, sizeof(head), o);
                fprintf(f, "  %s", head);
                if (n + 2 >= OPT_COLUMN - 1) {
                        fprintf(f, "\n%*s", OPT_COLUMN, "");
                } else {
                        fprintf(f, "%*s", OPT_COLUMN - 2 - n, "");
                }
                cmd_print_wrapped(f, o->help, OPT_COLUMN, OPT_COLUMN);
        }
}

void cmd_print_help(FILE *f, const struct cmd_spec *s)
{
        fprintf(f, "Usage: imgtool %s %s\n", s->name, s->synopsis);
        cmd_print_wrapped(f, s->summary, 0, 0);
        if (s->description) {
                fputc('\n', f);
                cmd_print_wrapped(f, s->description, 0, 0);
        }
        if (count_options(s->options)) {
                fprintf(f, "\nOptions:\n");
                print_options(f, s->options);
        }
        fprintf(f, "\nGlobal options (before or after the command):\n");
        print_options(f, cmd_global_options);
        fprintf(f, "\nExit codes:\n");
        for (const struct cmd_exit *e = s->exits; e && e->meaning; e++) {
                fprintf(f, "  %-3d ", e->code);
                cmd_print_wrapped(f, e->meaning, 6, 6);
        }
}

/* One line, whatever a package or image path holds (util.h escape_text). */
int cmd_fail(int r)
{
        const char *what = imgerr_what(r);
        _cleanup_free_ char *msg = escape_text(what, ESCAPE_LINE);

        fprintf(stderr, "imgtool: %s\n", msg ? msg : what);
        imgerr_clear();
        return EXIT_ERROR;
}

const struct cmd_spec *cmd_find(const char *name)
{
        for (size_t i = 0; cmd_table[i]; i++)
                if (!strcmp(cmd_table[i]->name, name))
                        return cmd_table[i];
        return NULL;
}

/* ---- bash completion ---------------------------------------------------------- */

static void print_option_words(FILE *f, const struct cmd_option *o)
{
        for (; o && o->name; o++) {
                fprintf(f, " --%s", o->name);
                if (o->key < 0x100)
                        fprintf(f, " -%c", o->key);
        }
}

static void print_bash_completion(FILE *f)
{
        fputs("# bash completion for imgtool (generated by `imgtool help --bash-completion`)\n"
              "_imgtool() {\n"
              "  local cur=${COMP_WORDS[COMP_CWORD]} cmd= i opts\n"
              "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
              "    case ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac\n"
              "  done\n"
              "  if [ -z \"$cmd\" ]; then\n"
              "    COMPREPLY=($(compgen -W \"", f);
        for (size_t i = 0; cmd_table[i]; i++)
                fprintf(f, "%s ", cmd_table[i]->name);
        print_option_words(f, cmd_global_options);
        fputs("\" -- \"$cur\"))\n    return\n  fi\n  case $cmd in\n", f);
        for (size_t i = 0; cmd_table[i]; i++) {
                fprintf(f, "    %s) opts=\"", cmd_table[i]->name);
                print_option_words(f, cmd_table[i]->options);
                print_option_words(f, cmd_global_options);
                if (!strcmp(cmd_table[i]->name, "help"))
                        for (size_t j = 0; cmd_table[j]; j++)
                                fprintf(f, " %s", cmd_table[j]->name);
                fputs("\" ;;\n", f);
        }
        fputs("  esac\n"
              "  if [[ $cur == -* || $cmd == help ]]; then\n"
              "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
              "  else\n"
              "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
              "  fi\n"
              "}\n"
              "complete -o filenames -o bashdefault -F _imgtool imgtool\n", f);
}

/* ---- imgtool help ------------------------------------------------------------- */

void cmd_print_overview(FILE *f)
{
        fprintf(f, "Usage: imgtool [OPTIONS] COMMAND [ARGS]\n"
                   "Compose immutable, IMA-signed OS images offline, check them, boot them.\n\n"
                   "Commands:\n");
        for (size_t i = 0; cmd_table[i]; i++)
                fprintf(f, "  %-12s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
        fprintf(f, "\nGlobal options (before or after the command):\n");
        print_options(f, cmd_global_options);
        fprintf(f, "\n'imgtool help COMMAND' or 'imgtool COMMAND --help': a command's options and exit codes.\n"
                   "Exit codes: 0 success, 1 a check ran and found problems, 2 could not do the job.\n");
}

enum { HELP_MAN = CMD_LONG_ONLY(1), HELP_BASH, HELP_MARKDOWN };
static const struct cmd_option help_options[] = {
        { "man", HELP_MAN, NULL, "Print a man page as roff: imgtool(1) without COMMAND, imgtool-COMMAND(1) with one, "
                                 "imgtool-layout(5) for 'layout'." },
        { "markdown", HELP_MARKDOWN, NULL, "With 'layout': the layout key reference as the Markdown of layouts/README.md." },
        { "bash-completion", HELP_BASH, NULL, "Print the bash completion script." },
        {}
};

const struct cmd_spec cmd_help_spec = {
        .name = "help",
        .synopsis = "[COMMAND | layout] [--man | --markdown | --bash-completion]",
        .summary = "print the commands, or one command's options and exit codes",
        .description = "Without COMMAND: the list of commands. With COMMAND: exactly what "
                       "'imgtool COMMAND --help' prints. 'imgtool help layout': every layout key, its values, "
                       "default and meaning (the man page imgtool-layout(5)).",
        .options = help_options,
        .exits = (const struct cmd_exit[]){ { 0, "help printed" },
                                            { 2, "no such command, or a usage error" }, {} },
        .run = cmd_help,
};

int cmd_help(int argc, char **argv)
{
        const struct cmd_spec *s = NULL;
        struct cmd_parser p;
        bool layout = false;
        int c, what = 0;

        cmd_parser_init(&p, &cmd_help_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0)
                what = c;
        if (c < 0)
                return p.exit;
        if (argc - p.next > 1)
                return cmd_usage_error(&p, "give at most one COMMAND");
        if (argc - p.next == 1) {
                layout = !strcmp(argv[p.next], "layout");
                s = layout ? NULL : cmd_find(argv[p.next]);
                if (!layout && !s)
                        return cmd_usage_error(&p, "'%s' is not a command", argv[p.next]);
        }
        if (what == HELP_BASH) {
                print_bash_completion(stdout);
                return EXIT_OK;
        }
        if (what == HELP_MARKDOWN && !layout)
                return cmd_usage_error(&p, "--markdown is for 'layout' only");
        if (layout) {
                (what == HELP_MAN ? cmd_print_layout_man : what == HELP_MARKDOWN ? cmd_print_layout_markdown :
                                                                                   cmd_print_layout_text)(stdout);
                return EXIT_OK;
        }
        if (what == HELP_MAN) {
                cmd_print_man(stdout, s);
                return EXIT_OK;
        }
        if (!s)
                cmd_print_overview(stdout);
        else
                cmd_print_help(stdout, s);
        return EXIT_OK;
}
