/* rpm's order of scriptlets and triggers for a set of first installs
 * (scriptorder.h). */
#include "image/scriptorder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strv.h"
#include "base/util.h"
#include "boot/initramfs.h"
#include "rpm/rpmpkg.h"
#include "rpm/rpmtrig.h"

#define PRIORITY_BOUND 10000    /* rpmtriggers.c: >= runs before %post */

struct order {
        const struct pkgset *set;
        struct rpmtrigs (*trig)[3];     /* per package, per rpmtrig_type */
        struct scriptlet *v;
        size_t n, cap;
        size_t db;              /* packages [0, db) are in rpm's database */
};

static const char *name_of(const struct order *o, size_t i) { return rpmpkg_name(o->set->pkgs[i]); }

static int count_name(const struct order *o, const char *name)
{
        int c = 0;

        for (size_t i = 0; i < o->db; i++)
                c += !strcmp(name_of(o, i), name);
        return c;
}

static struct scriptlet *push(struct order *o, size_t pkg, const char *kind, bool fatal)
{
        struct scriptlet *s;

        if (GROW(o->v, o->n, o->cap, 16) < 0)
                return NULL;
        s = &o->v[o->n++];
        memset(s, 0, sizeof(*s));
        s->pkg = pkg;
        s->kind = kind;
        s->fatal = fatal;
        s->arg1 = s->arg2 = -1;
        s->status = -1;
        return s;
}

/* rpm's embedded Lua runs in imgtool-lua, which the scriptlets' initramfs
 * carries into the guest (init/lua/runner.c): same chunk, same arg table. */
static int use_lua_runner(char **prog, char **body)
{
        char *runner;

        if (strcmp(prog[0], "<lua>"))
                return 0;
        runner = strdup(INITRAMFS_LUA_RUNNER_COPY);
        if (!runner || (!*body && !(*body = strdup("")))) {
                free(runner);
                return -ENOMEM;
        }
        free(prog[0]);
        prog[0] = runner;
        return 1;
}

/* %pretrans, %pre, %post, %posttrans: $1 = 1, rpm's count of instances
 * after a first install (rpm 4.18 passes it to the trans scripts too). */
static int add_install(struct order *o, size_t pkg, const char *kind)
{
        struct rpmpkg *p = o->set->pkgs[pkg];
        char **prog = NULL, *body = NULL;
        struct scriptlet *s;
        int r = rpmpkg_scriptlet(p, kind, &prog, &body);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        s = push(o, pkg, kind, !strcmp(kind, "%pre") || !strcmp(kind, "%pretrans"));
        if (!s) {
                strv_free(prog);
                free(body);
                return -ENOMEM;
        }
        s->prog = prog;
        s->body = body;
        r = use_lua_runner(s->prog, &s->body);
        s->lua = r > 0;
        s->arg1 = s->body ? 1 : -1;
        if (r >= 0 && asprintf(&s->label, "%s %s", rpmpkg_nevra(p), kind) < 0) {
                s->label = NULL;
                return -ENOMEM;
        }
        if (r >= 0 && prog[0][0] != '/')
                r = imgerr(-EINVAL, "%s: its %s interpreter '%s' is not an absolute path", rpmpkg_path(p), kind,
                           prog[0]);
        return r < 0 ? r : 0;
}

/* One trigger script: rpm runs its interpreter as one word, with the body
 * as a file even when it is empty. */
static int add_trigger(struct order *o, size_t pkg, enum rpmtrig_type type, uint32_t tix, const char *kind,
                       int arg1, int arg2, char *input, const char *by)
{
        const struct rpmtrig_script *sc = &o->trig[pkg][type].s[tix];
        struct scriptlet *s = push(o, pkg, kind, false);
        int r;

        if (!s) {
                free(input);
                return -ENOMEM;
        }
        s->input = input;
        s->arg1 = arg1;
        s->arg2 = arg2;
        if (strv_pushf(&s->prog, "%s", sc->prog) < 0 || !(s->body = strdup(sc->body)))
                return -ENOMEM;
        if ((by ? asprintf(&s->label, "%s %s (set off by %s)", rpmpkg_nevra(o->set->pkgs[pkg]), kind, by)
                : asprintf(&s->label, "%s %s", rpmpkg_nevra(o->set->pkgs[pkg]), kind)) < 0) {
                s->label = NULL;
                return -ENOMEM;
        }
        r = use_lua_runner(s->prog, &s->body);
        s->lua = r > 0;
        if (r >= 0 && s->prog[0][0] != '/')
                r = imgerr(-EINVAL, "%s: its %s interpreter '%s' is not an absolute path",
                           rpmpkg_path(o->set->pkgs[pkg]), kind, sc->prog);
        return r < 0 ? r : 0;
}

/* ---- triggers on packages (psm.c: handleOneTrigger, runTriggers, runImmedTriggers) ---- */

/* trg's first trigger of this sense on src's name whose version range src
 * meets: each pair runs at most one script. */
static int handle_one(struct order *o, size_t src, size_t trg, uint32_t sense, int arg2, bool *ran)
{
        const struct rpmtrigs *t = &o->trig[trg][RPMTRIG_NORMAL];

        for (size_t k = 0; k < t->n; k++) {
                const struct rpmtrig_entry *e = &t->e[k];
                if (!(e->flags & sense) || strcmp(e->name, name_of(o, src)) ||
                    !rpmtrig_version_matches(o->set->pkgs[src], e))
                        continue;
                if (ran && ran[e->tix])
                        return 0;
                if (ran)
                        ran[e->tix] = true;
                return add_trigger(o, trg, RPMTRIG_NORMAL, e->tix,
                                   sense == RPMTRIG_SENSE_PREIN ? "%triggerprein" : "%triggerin",
                                   count_name(o, name_of(o, trg)), arg2, NULL, rpmpkg_nevra(o->set->pkgs[src]));
        }
        return 0;
}

/* Triggers of installed packages that pkg sets off. */
static int run_triggers(struct order *o, size_t pkg, uint32_t sense)
{
        int r = 0;

        for (size_t j = 0; r >= 0 && j < o->db; j++)
                r = handle_one(o, pkg, j, sense, count_name(o, name_of(o, pkg)), NULL);
        return r;
}

/* pkg's own triggers that installed packages set off. */
static int run_immed_triggers(struct order *o, size_t pkg, uint32_t sense)
{
        const struct rpmtrigs *t = &o->trig[pkg][RPMTRIG_NORMAL];
        bool *ran = calloc(t->ns ? t->ns : 1, sizeof(*ran));
        int r = 0;

        if (!ran)
                return -ENOMEM;
        for (size_t k = 0; r >= 0 && k < t->n; k++) {
                if (ran[t->e[k].tix])
                        continue;
                for (size_t j = 0; r >= 0 && j < o->db; j++)
                        if (!strcmp(name_of(o, j), t->e[k].name))
                                r = handle_one(o, j, pkg, sense, count_name(o, t->e[k].name), ran);
        }
        free(ran);
        return r;
}

/* ---- file triggers (rpmtriggers.c) ----------------------------------------------------- */

static bool has_prefix(const char *path, const char *pfx) { return !strncmp(path, pfx, strlen(pfx)); }

/* rpm finds installed packages for a prefix through its index of folder
 * names ("/usr/lib/"), so a package counts when a file's folder starts
 * with the prefix; then all its paths with the prefix are listed. */
static bool folder_matches(const struct rpmpkg_file *f, const char *pfx)
{
        const char *slash = strrchr(f->path, '/');
        size_t plen = strlen(pfx);

        return has_prefix(f->path, pfx) && slash && (size_t)(slash - f->path) + 1 >= plen;
}

static int append_files(FILE *f, const struct rpmpkg *p, const char *pfx, bool *any)
{
        struct rpmpkg_file fi;

        for (size_t i = 0; rpmpkg_file(p, i, &fi) == 0; i++)
                if (has_prefix(fi.path, pfx)) {
                        fprintf(f, "%s\n", fi.path);
                        *any = true;
                }
        return 0;
}

static bool pkg_in_folder_index(const struct rpmpkg *p, const char *pfx)
{
        struct rpmpkg_file fi;

        for (size_t i = 0; rpmpkg_file(p, i, &fi) == 0; i++)
                if (folder_matches(&fi, pfx))
                        return true;
        return false;
}

/* The paths trigger tix of trg matches: in one package's files (only !=
 * SIZE_MAX), else in the installed packages [0, upto).  NULL text when
 * none: the trigger does not run. */
static int matched_paths(const struct order *o, size_t trg, enum rpmtrig_type type, uint32_t tix, size_t only,
                         size_t upto, char **text)
{
        const struct rpmtrigs *t = &o->trig[trg][type];
        size_t len = 0;
        bool any = false;
        FILE *f = open_memstream(text, &len);

        if (!f)
                return -ENOMEM;
        for (size_t k = 0; k < t->n; k++) {
                if (t->e[k].tix != tix)
                        continue;
                if (only != SIZE_MAX)
                        append_files(f, o->set->pkgs[only], t->e[k].name, &any);
                for (size_t j = 0; only == SIZE_MAX && j < upto; j++)
                        if (pkg_in_folder_index(o->set->pkgs[j], t->e[k].name))
                                append_files(f, o->set->pkgs[j], t->e[k].name, &any);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        if (!any) {
                free(*text);
                *text = NULL;
        }
        return 0;
}

/* Whether trigger tix fires on install: its first entry says so. */
static bool fires_on_install(const struct rpmtrigs *t, uint32_t tix)
{
        for (size_t k = 0; k < t->n; k++)
                if (t->e[k].tix == tix)
                        return t->e[k].flags & RPMTRIG_SENSE_IN;
        return false;
}

struct pending {
        size_t pkg;
        uint32_t tix, priority;
};

static int by_priority(const void *a, const void *b)
{
        const struct pending *x = a, *y = b;

        if (x->priority != y->priority)
                return x->priority > y->priority ? -1 : 1;
        if (x->pkg != y->pkg)
                return x->pkg < y->pkg ? -1 : 1;
        return x->tix < y->tix ? -1 : x->tix > y->tix;
}

static bool in_class(uint32_t priority, int class)
{
        return class == 0 || (class == 1) == (priority >= PRIORITY_BOUND);
}

static bool pkg_has_prefix(const struct rpmpkg *p, const char *pfx)
{
        struct rpmpkg_file fi;

        for (size_t i = 0; rpmpkg_file(p, i, &fi) == 0; i++)
                if (has_prefix(fi.path, pfx))
                        return true;
        return false;
}

/* %filetriggerin of installed packages (pkg included) that pkg's files set off. */
static int run_file_triggers(struct order *o, size_t pkg, int class)
{
        struct pending *v = NULL;
        size_t n = 0, cap = 0;
        int r = 0;

        for (size_t j = 0; j < o->db; j++) {
                const struct rpmtrigs *t = &o->trig[j][RPMTRIG_FILE];
                for (size_t k = 0; k < t->n; k++) {
                        if (!pkg_has_prefix(o->set->pkgs[pkg], t->e[k].name))
                                continue;
                        if (GROW(v, n, cap, 16) < 0) {
                                free(v);
                                return -ENOMEM;
                        }
                        v[n++] = (struct pending){ j, t->e[k].tix, t->s[t->e[k].tix].priority };
                }
        }
        if (n > 1)
                qsort(v, n, sizeof(*v), by_priority);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                char *in = NULL;
                if ((i > 0 && !by_priority(&v[i - 1], &v[i])) || !in_class(v[i].priority, class) ||
                    !fires_on_install(&o->trig[v[i].pkg][RPMTRIG_FILE], v[i].tix))
                        continue;
                r = matched_paths(o, v[i].pkg, RPMTRIG_FILE, v[i].tix, pkg, 0, &in);
                if (r >= 0 && in)
                        r = add_trigger(o, v[i].pkg, RPMTRIG_FILE, v[i].tix, "%filetriggerin", 0, -1, in,
                                        rpmpkg_nevra(o->set->pkgs[pkg]));
        }
        free(v);
        return r;
}

/* pkg's own file triggers of one type on the files of the packages
 * installed before it (upto): rpm does not count the files of the package
 * being installed here. */
static int run_immed_file_triggers(struct order *o, size_t pkg, enum rpmtrig_type type, int class, size_t upto)
{
        const struct rpmtrigs *t = &o->trig[pkg][type];
        struct pending *v = calloc(t->ns ? t->ns : 1, sizeof(*v));
        int r = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < t->ns; i++)
                v[i] = (struct pending){ pkg, (uint32_t)i, t->s[i].priority };
        if (t->ns > 1)
                qsort(v, t->ns, sizeof(*v), by_priority);
        for (size_t i = 0; r >= 0 && i < t->ns; i++) {
                char *in = NULL;
                if (!in_class(v[i].priority, class) || !fires_on_install(t, v[i].tix))
                        continue;
                r = matched_paths(o, pkg, type, v[i].tix, SIZE_MAX, upto, &in);
                if (r >= 0 && in)
                        r = add_trigger(o, pkg, type, v[i].tix,
                                        type == RPMTRIG_FILE ? "%filetriggerin" : "%transfiletriggerin", 0, -1, in,
                                        NULL);
        }
        free(v);
        return r;
}

/* ---- the transaction (psm.c: rpmPackageInstall; transaction.c) ------------------------- */

static int install_one(struct order *o, size_t i)
{
        int r;

        o->db = i;
        r = run_triggers(o, i, RPMTRIG_SENSE_PREIN);
        if (r >= 0)
                r = run_immed_triggers(o, i, RPMTRIG_SENSE_PREIN);
        if (r >= 0)
                r = add_install(o, i, "%pre");
        o->db = i + 1;
        for (int class = 1; r >= 0 && class <= 2; class++) {
                r = run_file_triggers(o, i, class);
                if (r >= 0)
                        r = run_immed_file_triggers(o, i, RPMTRIG_FILE, class, i);
                if (r >= 0 && class == 1)
                        r = add_install(o, i, "%post");
                if (r >= 0 && class == 1)
                        r = run_triggers(o, i, RPMTRIG_SENSE_IN);
                if (r >= 0 && class == 1)
                        r = run_immed_triggers(o, i, RPMTRIG_SENSE_IN);
        }
        return r;
}

static int read_triggers(struct order *o)
{
        int r = 0;

        o->trig = calloc(o->set->count ? o->set->count : 1, sizeof(*o->trig));
        if (!o->trig)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < o->set->count; i++)
                for (int t = RPMTRIG_NORMAL; r >= 0 && t <= RPMTRIG_TRANSFILE; t++)
                        r = rpmtrig_read(o->set->pkgs[i], (enum rpmtrig_type)t, &o->trig[i][t]);
        return r;
}

int scriptorder_plan(const struct pkgset *set, struct scriptlet **out, size_t *n)
{
        struct order o = { .set = set };
        int r = read_triggers(&o);

        *out = NULL;
        *n = 0;
        for (size_t i = 0; r >= 0 && i < set->count; i++)
                r = add_install(&o, i, "%pretrans");
        for (size_t i = 0; r >= 0 && i < set->count; i++)
                r = install_one(&o, i);
        for (size_t i = 0; r >= 0 && i < set->count; i++)
                r = add_install(&o, i, "%posttrans");
        for (size_t i = 0; r >= 0 && i < set->count; i++)
                r = run_immed_file_triggers(&o, i, RPMTRIG_TRANSFILE, 0, set->count);
        for (size_t i = 0; o.trig && i < set->count; i++)
                for (int t = RPMTRIG_NORMAL; t <= RPMTRIG_TRANSFILE; t++)
                        rpmtrig_free(&o.trig[i][t]);
        free(o.trig);
        if (r < 0) {
                scriptorder_free(o.v, o.n);
                return r;
        }
        *out = o.v;
        *n = o.n;
        return 0;
}

void scriptorder_free(struct scriptlet *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                strv_free(v[i].prog);
                free(v[i].body);
                free(v[i].input);
                free(v[i].label);
        }
        free(v);
}
