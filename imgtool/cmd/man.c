/* The man pages and the layout key reference, generated: imgtool(1), one
 * imgtool-COMMAND(1) per command from its cmd_spec (cmd.h), as git has one
 * page per command, and imgtool-layout(5) from the layout key table
 * (layout/settings.h), which also gives `imgtool help layout` and the key
 * tables of layouts/README.md (`imgtool help --markdown layout`). */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "layout/settings.h"

/* ---- roff ------------------------------------------------------------------ */

/* Text as roff; with md, Markdown's `code` becomes bold. */
static void roff_text(FILE *f, const char *s, bool md)
{
        bool bol = true, code = false;
        for (; *s; s++) {
                if (bol && (*s == '.' || *s == '\''))
                        fputs("\\&", f);
                bol = false;
                if (md && *s == '`') {
                        fputs(code ? "\\fR" : "\\fB", f);
                        code = !code;
                } else if (*s == '\\')
                        fputs("\\e", f);
                else if (*s == '-')
                        fputs("\\-", f);
                else if (*s == '\n') {
                        fputc('\n', f);
                        bol = true;
                } else
                        fputc(*s, f);
        }
        if (code)
                fputs("\\fR", f);
}

static void roff(FILE *f, const char *s)
{
        roff_text(f, s, false);
}

static void roff_paragraphs(FILE *f, const char *text)
{
        const char *p = text;
        while (*p) {
                const char *end = strstr(p, "\n\n");
                size_t n = end ? (size_t)(end - p) : strlen(p);
                char *para = strndup(p, n);
                if (!para)
                        return;
                fputs(".PP\n", f);
                roff(f, para);
                fputc('\n', f);
                free(para);
                p += n;
                p += strspn(p, "\n");
        }
}

static void roff_options(FILE *f, const struct cmd_option *o)
{
        char head[128];
        for (; o && o->name; o++) {
                cmd_option_head(head, sizeof(head), o);
                fputs(".TP\n.B ", f);
                roff(f, head + strspn(head, " "));
                fputc('\n', f);
                roff(f, o->help);
                fputc('\n', f);
        }
}

static void roff_header(FILE *f, const char *name, int section, const char *manual)
{
        fputs(".TH ", f);
        for (const char *p = name; *p; p++)
                if (*p == '-')
                        fputs("\\-", f);
                else
                        fputc(toupper((unsigned char)*p), f);
        fprintf(f, " %d \"\" \"imgtool ", section);
        roff(f, imgtool_version);
        fprintf(f, "\" \"%s\"\n", manual);
}

static void roff_exits(FILE *f, const struct cmd_exit *e)
{
        for (; e && e->meaning; e++) {
                fprintf(f, ".TP\n.B %d\n", e->code);
                roff(f, e->meaning);
                fputc('\n', f);
        }
}

/* ---- imgtool(1) ------------------------------------------------------------- */

static void see_also(FILE *f, const char *except)
{
        fputs(".SH SEE ALSO\n", f);
        if (strcmp(except, "imgtool"))
                fputs(".BR imgtool (1),\n", f);
        for (size_t i = 0; cmd_table[i]; i++)
                if (strcmp(cmd_table[i]->name, except)) {
                        fputs(".BR imgtool\\-", f);
                        roff(f, cmd_table[i]->name);
                        fputs(" (1),\n", f);
                }
        fputs(".BR imgtool\\-layout (5),\n.BR rpm (8),\n.BR evmctl (1)\n.PP\n"
              "The guides in PREFIX/share/doc/imgtool/ (README.md, docs/).\n", f);
}

static void print_man_overview(FILE *f)
{
        roff_header(f, "imgtool", 1, "User Commands");
        fputs(".SH NAME\nimgtool \\- compose immutable, IMA-signed OS images offline\n"
              ".SH SYNOPSIS\n.B imgtool\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n", f);
        fputs(".SH DESCRIPTION\n", f);
        roff_paragraphs(f, "imgtool composes ext4 images and bootable GPT disks from RPM packages without root, "
                           "stamps every regular file's security.ima with the package's IMA signature or the "
                           "owner's key, and makes the initramfs, IMA policy and signed UKI that let a kernel "
                           "enforce them; it checks images offline, boots them under QEMU and attests them.\n\n"
                           "Each command has its own page, imgtool-COMMAND(1), the same text as "
                           "'imgtool help COMMAND'. The layout file is described in imgtool-layout(5).");
        fputs(".SH COMMANDS\n", f);
        for (size_t i = 0; cmd_table[i]; i++) {
                fputs(".TP\n.BR imgtool\\-", f);
                roff(f, cmd_table[i]->name);
                fputs(" (1)\n", f);
                roff(f, cmd_table[i]->summary);
                fputc('\n', f);
        }
        fputs(".SH GLOBAL OPTIONS\nAccepted before or after any command.\n", f);
        roff_options(f, cmd_global_options);
        fputs(".SH EXIT STATUS\n", f);
        roff_exits(f, (const struct cmd_exit[]){ { 0, "success" },
                                                 { 1, "a check ran and found problems (only commands that check)" },
                                                 { 2, "could not do the job: bad arguments, bad input, I/O error" }, {} });
        fputs(".SH FILES\n.TP\n.I PREFIX/libexec/imgtool/\n"
              "the boot harness (qemu\\-test/run, check) and the guest probes that imgtool boot uses\n", f);
        see_also(f, "imgtool");
}

/* ---- imgtool-COMMAND(1) ------------------------------------------------------ */

static void print_man_command(FILE *f, const struct cmd_spec *s)
{
        char name[64];

        snprintf(name, sizeof(name), "imgtool-%s", s->name);
        roff_header(f, name, 1, "User Commands");
        fputs(".SH NAME\nimgtool\\-", f);
        roff(f, s->name);
        fputs(" \\- ", f);
        roff(f, s->summary);
        fputs("\n.SH SYNOPSIS\n.B imgtool ", f);
        roff(f, s->name);
        fputc('\n', f);
        roff(f, s->synopsis);
        fputs("\n.SH DESCRIPTION\n", f);
        roff_paragraphs(f, s->description ? s->description : s->summary);
        if (s->options && s->options->name) {
                fputs(".SH OPTIONS\n", f);
                roff_options(f, s->options);
        }
        fputs(".SH GLOBAL OPTIONS\nAccepted before or after the command.\n", f);
        roff_options(f, cmd_global_options);
        fputs(".SH EXIT STATUS\n", f);
        roff_exits(f, s->exits);
        see_also(f, s->name);
}

void cmd_print_man(FILE *f, const struct cmd_spec *spec)
{
        if (spec)
                print_man_command(f, spec);
        else
                print_man_overview(f);
}

/* ---- imgtool-layout(5) --------------------------------------------------------- */

void cmd_print_layout_man(FILE *f)
{
        char tb[160], db[160];

        roff_header(f, "imgtool-layout", 5, "File Formats");
        fputs(".SH NAME\nimgtool\\-layout \\- the layout file that describes an imgtool image\n"
              ".SH SYNOPSIS\n\\fILAYOUT\\fR.conf\n.SH DESCRIPTION\n", f);
        roff_paragraphs(f, "A layout is an INI file that describes one image: which packages, how big, how files "
                           "get their security.ima, and how the image boots. 'imgtool compose LAYOUT -o IMAGE' "
                           "builds it; 'imgtool summary LAYOUT' prints every key with the value compose will use "
                           "and where it came from; 'imgtool init-layout DIR' writes a commented one to start from.");
        fputs(".SS Syntax\n", f);
        for (size_t i = 0; layout_syntax_rules[i]; i++) {
                fputs(".IP \\(bu 2\n", f);
                roff_text(f, layout_syntax_rules[i], true);
                fputc('\n', f);
        }
        for (const struct layout_section *sec = layout_sections; sec->name; sec++) {
                fprintf(f, ".SH \"[%s]\"\n", sec->name);
                roff_paragraphs(f, sec->help);
                for (size_t i = 0; i < layout_settings_count; i++) {
                        const struct layout_setting *s = &layout_settings[i];
                        if (strcmp(s->section, sec->name))
                                continue;
                        fputs(".TP\n\\fB", f);
                        roff(f, s->key);
                        fputs("=\\fR ", f);
                        roff_text(f, layout_type_doc(s, tb, sizeof(tb)), true);
                        fputs(" (default: ", f);
                        roff_text(f, layout_default_doc(s, db, sizeof(db)), true);
                        fputs(")\n", f);
                        roff_text(f, s->help, true);
                        fputc('\n', f);
                }
        }
        fputs(".SH SEE ALSO\n.BR imgtool (1),\n.BR imgtool\\-compose (1),\n.BR imgtool\\-summary (1),\n"
              ".BR imgtool\\-init\\-layout (1)\n.PP\nlayouts/README.md (PREFIX/share/doc/imgtool/layouts/): "
              "the same keys with notes on each section, and an example.\n", f);
}

/* ---- the same as Markdown and as text ------------------------------------------- */

#define MARK_BEGIN "<!-- generated by `imgtool help --markdown layout` from imgtool/lib/layout/settings.c: "
#define MARK_END "<!-- end of generated text: edit settings.c, then tests/layout-doc.py --update -->"

void cmd_print_layout_markdown(FILE *f)
{
        char tb[160], db[160];

        fprintf(f, MARK_BEGIN "syntax -->\n");
        for (size_t i = 0; layout_syntax_rules[i]; i++)
                fprintf(f, "- %s\n", layout_syntax_rules[i]);
        fprintf(f, MARK_END "\n");
        for (const struct layout_section *sec = layout_sections; sec->name; sec++) {
                fprintf(f, "\n" MARK_BEGIN "[%s] -->\n| key | value | default | meaning |\n|---|---|---|---|\n",
                        sec->name);
                for (size_t i = 0; i < layout_settings_count; i++) {
                        const struct layout_setting *s = &layout_settings[i];
                        if (!strcmp(s->section, sec->name))
                                fprintf(f, "| `%s=` | %s | %s | %s |\n", s->key, layout_type_doc(s, tb, sizeof(tb)),
                                        layout_default_doc(s, db, sizeof(db)), s->help);
                }
                fprintf(f, MARK_END "\n");
        }
}

static char *plain(const char *md)
{
        char *s = strdup(md), *w = s;
        if (!s)
                return NULL;
        for (const char *r = md; *r; r++)
                if (*r != '`')
                        *w++ = *r;
        *w = 0;
        return s;
}

static void print_plain(FILE *f, const char *md, int indent, int col)
{
        char *s = plain(md);
        cmd_print_wrapped(f, s ? s : md, indent, col);
        free(s);
}

void cmd_print_layout_text(FILE *f)
{
        char tb[160], db[160], head[512];

        fprintf(f, "The layout file (man imgtool-layout): an INI file describing one image, read by\n"
                   "compose, summary, verify --against, policy and ipe-policy.\n\nSyntax:\n");
        for (size_t i = 0; layout_syntax_rules[i]; i++) {
                fputs("  - ", f);
                print_plain(f, layout_syntax_rules[i], 4, 4);
        }
        for (const struct layout_section *sec = layout_sections; sec->name; sec++) {
                fprintf(f, "\n[%s]\n  ", sec->name);
                print_plain(f, sec->help, 2, 2);
                for (size_t i = 0; i < layout_settings_count; i++) {
                        const struct layout_setting *s = &layout_settings[i];
                        if (strcmp(s->section, sec->name))
                                continue;
                        snprintf(head, sizeof(head), "%s= %s; default: %s", s->key, layout_type_doc(s, tb, sizeof(tb)),
                                 layout_default_doc(s, db, sizeof(db)));
                        fputs("\n  ", f);
                        print_plain(f, head, 4, 2);
                        fputs("      ", f);
                        print_plain(f, s->help, 6, 6);
                }
        }
}
