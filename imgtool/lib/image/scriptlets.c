/* Scriptlets=run (scriptlets.h): plan, guest script, boot, changes. */
#include "image/scriptlets.h"
#include "image/scriptorder.h"

#include <errno.h>
#include <fnmatch.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/datadir.h"
#include "base/strv.h"
#include "base/util.h"
#include "boot/bootfiles.h"
#include "boot/initramfs.h"
#include "ext4/ext4walk.h"
#include "rpm/rpmpkg.h"

#define MARK "/.imgtool-scriptlet-mark."   /* the guest's markers, never changes */
#define BEGIN_TAG "IMGTOOL-SCRIPTLET-BEGIN "
#define END_WORD "IMGTOOL-SCRIPTLET-END "
#define END_TAG "\n" END_WORD
#define TAIL_LINES 5
#define SCRIPT_MAX (16u << 20)   /* the runner disk's limit (init.c RUN_MAX) */

struct scriptlets {
        struct scriptlet *v;
        size_t n, ran;
        struct scriptlet_change *changes;
        size_t n_changes, cap_changes;
        char **nondeterministic;        /* ScriptletCheck=: "PATH (BY): what differs" */
        int64_t start_sec;      /* marker 0: before the first */
        uint32_t start_nsec;
};

/* ---- plan ----------------------------------------------------------------------- */

/* The run list in rpm's order (scriptorder.h). */
int scriptlets_plan(const struct layout *l, const struct pkgset *set, struct scriptlets **out)
{
        struct scriptlets *s;
        int r;

        *out = NULL;
        if (l->scriptlets != SCRIPTLETS_RUN)
                return 0;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        r = scriptorder_plan(set, &s->v, &s->n);
        if (r < 0 || s->n == 0) {
                scriptlets_free(s);
                return r;
        }
        *out = s;
        return 0;
}

static void free_changes(struct scriptlets *s)
{
        for (size_t i = 0; i < s->n_changes; i++) {
                free(s->changes[i].path);
                free(s->changes[i].target);
                free(s->changes[i].data);
        }
        free(s->changes);
        s->changes = NULL;
        s->n_changes = 0;
        s->cap_changes = 0;
}

void scriptlets_free(struct scriptlets *s)
{
        if (!s)
                return;
        scriptorder_free(s->v, s->n);
        free_changes(s);
        strv_free(s->nondeterministic);
        free(s);
}

/* ---- the guest's script ------------------------------------------------------------ */

/* A word for sh: single-quoted. */
static int put_quoted(FILE *f, const char *s)
{
        fputc('\'', f);
        for (; *s; s++)
                if (*s == '\'')
                        fputs("'\\''", f);
                else
                        fputc(*s, f);
        return fputc('\'', f) == EOF ? -EIO : 0;
}

/* A here-document delimiter that is no line of the text. */
static void choose_delimiter(const char *text, const char *what, size_t i, char *d, size_t size)
{
        for (unsigned k = 0;; k++) {
                snprintf(d, size, "IMGTOOL_%s_%zu_%u", what, i, k);
                size_t n = strlen(d);
                const char *p = text;
                bool clash = false;
                while (p && *p && !clash) {
                        clash = !strncmp(p, d, n) && (p[n] == '\n' || p[n] == 0);
                        p = strchr(p, '\n');
                        p = p ? p + 1 : NULL;
                }
                if (!clash)
                        return;
        }
}

static void put_heredoc(FILE *f, const char *text, const char *delim)
{
        fprintf(f, "%s%s%s\n", text, text[0] && text[strlen(text) - 1] != '\n' ? "\n" : "", delim);
}

/* The body is handed to its interpreter as /proc/self/fd/3 (a here-
 * document), so nothing is written to the image but what the scriptlet
 * writes; then rpm's arguments (scriptorder.h).  A file trigger's paths
 * are its stdin, a second here-document on fd 4. */
static int write_one(FILE *f, const struct scriptlet *sc, size_t i)
{
        char d3[64], d4[64];

        fprintf(f, "run %zu %d %d", i + 1, sc->fatal ? 1 : 0, sc->input ? 1 : 0);
        for (size_t k = 0; sc->prog[k]; k++) {
                fputc(' ', f);
                put_quoted(f, sc->prog[k]);
        }
        if (sc->body) {         /* rpm passes no argument to a bare "-p /path" */
                choose_delimiter(sc->body, "SCRIPTLET", i, d3, sizeof(d3));
                fputs(" /proc/self/fd/3", f);
                if (sc->arg1 >= 0)
                        fprintf(f, " %d", sc->arg1);
                if (sc->arg2 >= 0)
                        fprintf(f, " %d", sc->arg2);
                fprintf(f, " 3<<'%s'", d3);
        }
        if (sc->input) {
                choose_delimiter(sc->input, "FILES", i, d4, sizeof(d4));
                fprintf(f, " 4<<'%s'", d4);
        }
        fputc('\n', f);
        if (sc->body)
                put_heredoc(f, sc->body, d3);
        if (sc->input)
                put_heredoc(f, sc->input, d4);
        return 0;
}

/* The machine-id scriptlets see: fixed, so what they derive from it is too. */
#define FIXED_MACHINE_ID "b6ef2fe7c9a84d3b8e0c6f1a2d5e9a70"

static int guest_script(const struct scriptlets *s, int64_t epoch, char **text)
{
        size_t len = 0;
        FILE *f = open_memstream(text, &len);
        int r = 0;

        if (!f)
                return -ENOMEM;
        /* rpm's environment for scriptlets, fixed names and clocks */
        fprintf(f, "export PATH=/sbin:/bin:/usr/sbin:/usr/bin LANG=C HOME=/root SOURCE_DATE_EPOCH=%lld\n"
                   "umask 022\ncd /\n"
                   "echo localhost > /proc/sys/kernel/hostname\n"
                   /* A fixed machine-id while they run (one a %post reads or
                    * copies is the same on every compose); the image's own
                    * (empty, on an immutable image) is put back at the end. */
                   "mid=none\n"
                   "if [ -f /etc/machine-id ] && [ ! -L /etc/machine-id ]; then\n"
                   "  mid=; IFS= read -r mid < /etc/machine-id\n"
                   "  echo " FIXED_MACHINE_ID " > /etc/machine-id\n"
                   "fi\n"
                   /* File times come from the kernel's coarse clock (a tick of a
                    * few ms): after each marker the next scriptlet must start in a
                    * later tick, or its changes would look like the last one's. */
                   "tick() { sleep 0.02 2>/dev/null || { i=0; while [ $i -lt 5000 ]; do i=$((i+1)); done; }; }\n"
                   ": > " MARK "0\ntick\n"
                   "run() {\n"
                   "  n=$1 fatal=$2 in=$3; shift 3\n"
                   "  echo \"" BEGIN_TAG "$n\"\n"
                   "  if [ \"$in\" = 1 ]; then \"$@\" <&4 4<&- 2>&1; else \"$@\" </dev/null 2>&1; fi\n"
                   "  st=$?\n"
                   "  : > " MARK "$n\n"
                   "  tick\n"
                   "  printf '\\n%s%%s %%s\\n' \"$n\" \"$st\"\n"
                   "  if [ \"$st\" -ne 0 ] && [ \"$fatal\" = 1 ]; then sync; exit 0; fi\n"
                   "}\n", (long long)epoch, END_WORD);
        for (size_t i = 0; r >= 0 && i < s->n; i++)
                r = write_one(f, &s->v[i], i);
        fputs("case $mid in none) ;; '') : > /etc/machine-id ;; *) echo \"$mid\" > /etc/machine-id ;; esac\n"
              "sync\n", f);
        if (fclose(f) != 0 || r < 0) {
                free(*text);
                *text = NULL;
                return r < 0 ? r : -ENOMEM;
        }
        return 0;
}

/* ---- boot ------------------------------------------------------------------------- */

static int write_all(const char *path, const void *buf, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        const uint8_t *p = buf;

        if (fd < 0)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = errno;
                        close(fd);
                        return imgerr(-e, "%s: %s", path, strerror(e));
                }
                p += n;
                len -= (size_t)n;
        }
        return close(fd) < 0 ? imgerr(-errno, "%s: %s", path, strerror(errno)) : 0;
}

/* imgtool's initramfs for this run: the layout's certs and modules, the
 * scratch image's root read-write, the runner hooks on. */
static int make_initramfs(const struct layout *l, const struct scriptlets *s, const char *uuid, const char *path,
                          char ***warnings)
{
        struct bootfiles_initramfs li = { 0 };
        _cleanup_free_ char *root = NULL;
        uint8_t *buf = NULL;
        size_t len = 0;
        int r = bootfiles_initramfs(l, uuid, NULL, &li, warnings);

        if (r < 0)
                return r;
        if (asprintf(&root, "UUID=%s", uuid) < 0) {
                root = NULL;
                r = -ENOMEM;
        }
        if (r >= 0) {
                li.o.root = root;
                li.o.rw = true;
                li.o.cmdline_test = true;
                for (size_t i = 0; i < s->n; i++)
                        li.o.lua_runner |= s->v[i].lua;
                r = initramfs_build(&li.o, &buf, &len);
        }
        if (r >= 0)
                r = write_all(path, buf, len);
        free(buf);
        bootfiles_initramfs_free(&li);
        return r;
}

/* The harness on dir/scratch.img, the root as the guest left it into
 * dir/after<SUFFIX>.img, its stdout (the guest's script output) into
 * dir/out<SUFFIX>, its stderr into dir/err<SUFFIX>; its exit status into
 * *status. */
static int run_harness(const char *dir, const char *suffix, const struct layout *l, int *status)
{
        _cleanup_free_ char *run = NULL, *img = NULL, *ird = NULL, *saved = NULL, *out = NULL, *err = NULL,
                            *script = NULL;
        char timeout[16];
        pid_t pid;
        int st;

        if (datadir_find("qemu-test/run", &run) < 0)
                return -ENOENT;
        if (asprintf(&img, "%s/scratch.img", dir) < 0 || asprintf(&ird, "%s/initramfs", dir) < 0 ||
            asprintf(&saved, "%s/after%s.img", dir, suffix) < 0 || asprintf(&out, "%s/out%s", dir, suffix) < 0 ||
            asprintf(&err, "%s/err%s", dir, suffix) < 0 || asprintf(&script, "%s/script", dir) < 0)
                return -ENOMEM;
        snprintf(timeout, sizeof(timeout), "%u", l->scriptlet_timeout);
        pid = fork();
        if (pid < 0)
                return imgerr(-errno, "fork: %s", strerror(errno));
        if (pid == 0) {
                cleanup_reset_in_child();
                int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                int e = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (o < 0 || e < 0 || in < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
                        _exit(125);
                setpgid(0, 0);  /* QEMU and swtpm go with it on a signal */
                execl(run, run, img, "--kernel", l->kernel, "--initramfs", ird, "--timeout", timeout,
                      "--no-network", "--append", "ima_appraise=log", "--save-root", saved,
                      "--exec-file", script, (char *)NULL);
                _exit(126);
        }
        cleanup_add_child(pid);
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR) {
                        cleanup_remove_child(pid);
                        return imgerr(-errno, "waitpid: %s", strerror(errno));
                }
        cleanup_remove_child(pid);
        *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return 0;
}

static char *read_text(const char *path)
{
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t cap = 0, n = 0, got;

        if (!f)
                return strdup("");
        do {
                if (n + 4096 + 1 > cap) {
                        char *g = realloc(buf, cap = cap * 2 + 8192);
                        if (!g) {
                                free(buf);
                                fclose(f);
                                return NULL;
                        }
                        buf = g;
                }
                got = fread(buf + n, 1, cap - n - 1, f);
                n += got;
        } while (got > 0);
        fclose(f);
        if (!buf)
                return strdup("");
        buf[n] = 0;
        return buf;
}

/* The last lines of what scriptlet i printed, on one line ("a | b"). */
static char *output_tail(const char *out, size_t i)
{
        char begin[64], *start, *end, *t, *p;
        int lines = 0;

        snprintf(begin, sizeof(begin), BEGIN_TAG "%zu\n", i + 1);
        start = strstr(out, begin);
        if (!start)
                return strdup("(no output)");
        start += strlen(begin);
        snprintf(begin, sizeof(begin), END_TAG "%zu ", i + 1);
        end = strstr(start, begin);
        if (!end)
                end = start + strlen(start);
        while (end > start && (end[-1] == '\n' || end[-1] == '\r'))
                end--;
        for (p = end; p > start && lines < TAIL_LINES; p--)
                if (p[-1] == '\n' && ++lines == TAIL_LINES)
                        break;
        t = strndup(p, (size_t)(end - p));
        for (char *q = t; q && *q; q++)
                if (*q == '\n')
                        *q = '|';
        return t ? t : NULL;
}

/* What the guest said: each scriptlet's status, in order. */
static int read_statuses(struct scriptlets *s, const char *out, int harness, unsigned timeout, char ***warnings)
{
        for (size_t i = 0; i < s->n; i++) {
                char tag[64], *p;
                struct scriptlet *sc = &s->v[i];
                snprintf(tag, sizeof(tag), END_TAG "%zu ", i + 1);
                p = strstr(out, tag);
                if (p) {
                        sc->status = atoi(p + strlen(tag));
                        s->ran++;
                } else {
                        snprintf(tag, sizeof(tag), BEGIN_TAG "%zu\n", i + 1);
                        if (!strstr(out, tag))
                                break;  /* not started: an earlier one stopped the run */
                        _cleanup_free_ char *tail = output_tail(out, i);
                        if (harness == 124)
                                return imgerr(-ETIMEDOUT, "%s: still running after [Packages] ScriptletTimeout=%u "
                                              "(the whole run): killed; its last output: %s", sc->label,
                                              timeout, tail ? tail : "");
                        return imgerr(-EIO, "%s: did not finish (the guest stopped, harness exit %d); its last "
                                      "output: %s", sc->label, harness, tail ? tail : "");
                }
                if (sc->status == 0)
                        continue;
                _cleanup_free_ char *tail = output_tail(out, i);
                if (sc->fatal)
                        return imgerr(-ECANCELED, "%s: scriptlet failed, exit status %d (rpm would not install "
                                      "the package); its last output: %s", sc->label, sc->status, tail ? tail : "");
                if (strv_pushf(warnings, "%s: scriptlet failed, exit status %d (the package stays installed, "
                               "as with rpm); its last output: %s", sc->label, sc->status, tail ? tail : "") < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* ---- what changed -------------------------------------------------------------------- */

struct node {
        char *path;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        uint64_t size;
        char *target;
        dev_t rdev;
        int64_t ctime;
        uint32_t ctime_nsec;
};

struct tree {
        struct node *v;
        size_t n, cap;
};

static void tree_free(struct tree *t)
{
        for (size_t i = 0; i < t->n; i++) {
                free(t->v[i].path);
                free(t->v[i].target);
        }
        free(t->v);
}

static int collect(struct ext4walk *w, const struct ext4walk_entry *e, void *userdata)
{
        struct tree *t = userdata;
        struct node *n;

        (void)w;
        if (GROW(t->v, t->n, t->cap, 1024) < 0)
                return -ENOMEM;
        n = &t->v[t->n];
        memset(n, 0, sizeof(*n));
        n->path = strdup(e->path);
        n->target = e->target ? strdup(e->target) : NULL;
        if (!n->path || (e->target && !n->target)) {
                free(n->path);
                free(n->target);
                return -ENOMEM;
        }
        n->mode = e->mode;
        n->uid = e->uid;
        n->gid = e->gid;
        n->size = e->size;
        n->rdev = makedev(e->rdev_major, e->rdev_minor);
        n->ctime = e->ctime;
        n->ctime_nsec = e->ctime_nsec;
        t->n++;
        return 0;
}

struct buf {
        uint8_t *p;
        size_t n, cap;
};

static int take(const void *data, size_t len, void *userdata)
{
        struct buf *b = userdata;

        memcpy(b->p + b->n, data, len);
        b->n += len;
        return 0;
}

static int read_whole(struct ext4walk *w, const char *path, uint8_t **data, size_t *size)
{
        struct ext4walk_entry e;
        struct buf b = { 0 };
        int r = ext4walk_stat(w, path, &e);

        if (r < 0)
                return r;
        if (e.size > (64u << 20))
                return imgerr(-EFBIG, "%s: a scriptlet made a file of %llu bytes: more than this run keeps",
                              path, (unsigned long long)e.size);
        b.p = malloc(e.size ? e.size : 1);
        if (!b.p)
                return -ENOMEM;
        b.cap = e.size;
        r = ext4walk_read(w, &e, take, &b);
        if (r < 0 || b.n != e.size) {
                free(b.p);
                return r < 0 ? r : imgerr(-EIO, "%s: short read", path);
        }
        *data = b.p;
        *size = b.n;
        return 0;
}

static bool is_marker(const char *path)
{
        return !strncmp(path, MARK, strlen(MARK));
}

static bool same_meta(const struct node *a, const struct node *b)
{
        return a->mode == b->mode && a->uid == b->uid && a->gid == b->gid &&
               (!S_ISLNK(a->mode) || !strcmp(a->target ? a->target : "", b->target ? b->target : "")) &&
               ((!S_ISCHR(a->mode) && !S_ISBLK(a->mode)) || a->rdev == b->rdev);
}

static bool before_or_at(int64_t s1, uint32_t n1, int64_t s2, uint32_t n2)
{
        return s1 < s2 || (s1 == s2 && n1 <= n2);
}

/* The scriptlet whose window holds the time: the first that finished at
 * or after it. */
static const char *attribute(const struct scriptlets *s, int64_t sec, uint32_t nsec)
{
        if (before_or_at(sec, nsec, s->start_sec, s->start_nsec))
                return "a scriptlet";
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].status >= 0 && before_or_at(sec, nsec, s->v[i].done_sec, s->v[i].done_nsec))
                        return s->v[i].label;
        return "a scriptlet";
}

static const struct node *parent_node(const struct tree *t, const char *path)
{
        char dir[4096];
        const char *slash = strrchr(path, '/');
        size_t lo = 0, hi = t->n;

        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(t->v[mid].path, dir);
                if (c == 0)
                        return &t->v[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

static int add_change(struct scriptlets *s, struct ext4walk *after, const struct node *n,
                      enum scriptlet_change_kind kind, const char *by, const uint8_t *data, size_t size)
{
        struct scriptlet_change *c;

        if (GROW(s->changes, s->n_changes, s->cap_changes, 16) < 0)
                return -ENOMEM;
        c = &s->changes[s->n_changes];
        memset(c, 0, sizeof(*c));
        if (strpbrk(n->path, "\t\n") || (n->target && strpbrk(n->target, "\t\n")))
                return imgerr(-EINVAL, "%s: %s: a path or link target with a tab or newline, which the "
                              "image's record of scriptlet changes cannot hold", by, n->path);
        c->path = strdup(n->path);
        if (!c->path)
                return -ENOMEM;
        s->n_changes++;
        c->kind = kind;
        c->by = by;
        if (kind == SCRIPTLET_REMOVED)
                return 0;
        c->mode = n->mode;
        c->uid = n->uid;
        c->gid = n->gid;
        c->rdev = n->rdev;
        if (n->target && !(c->target = strdup(n->target)))
                return -ENOMEM;
        if (!S_ISREG(n->mode))
                return 0;
        if (data) {
                c->data = malloc(size ? size : 1);
                if (!c->data)
                        return -ENOMEM;
                memcpy(c->data, data, size);
                c->size = size;
                return 0;
        }
        return read_whole(after, n->path, &c->data, &c->size);
}

/* One path in both trees: changed when its inode changed during the run
 * and its metadata or content differs. */
static int compare_one(struct scriptlets *s, struct ext4walk *before, struct ext4walk *after,
                       const struct node *a, const struct node *b)
{
        _cleanup_free_ uint8_t *old = NULL, *new = NULL;
        size_t on = 0, nn = 0;
        const char *by = attribute(s, b->ctime, b->ctime_nsec);
        int r;

        if (a->ctime == b->ctime && a->ctime_nsec == b->ctime_nsec)
                return 0;
        if (!same_meta(a, b) && !(S_ISREG(a->mode) && S_ISREG(b->mode)))
                return add_change(s, after, b, SCRIPTLET_MODIFIED, by, NULL, 0);
        if (!S_ISREG(b->mode))
                return same_meta(a, b) ? 0 : add_change(s, after, b, SCRIPTLET_MODIFIED, by, NULL, 0);
        if ((r = read_whole(after, b->path, &new, &nn)) < 0)
                return r;
        if (same_meta(a, b) && a->size == b->size) {
                if ((r = read_whole(before, a->path, &old, &on)) < 0)
                        return r;
                if (on == nn && !memcmp(old, new, nn))
                        return 0;
        }
        return add_change(s, after, b, SCRIPTLET_MODIFIED, by, new, nn);
}

static int diff_trees(struct scriptlets *s, struct ext4walk *before, struct ext4walk *after,
                      const struct tree *t0, const struct tree *t1)
{
        size_t i = 0, j = 0;
        int r = 0;

        while (r >= 0 && (i < t0->n || j < t1->n)) {
                int c = i == t0->n ? 1 : j == t1->n ? -1 : strcmp(t0->v[i].path, t1->v[j].path);
                if (c < 0) {
                        const struct node *p = parent_node(t1, t0->v[i].path);
                        r = add_change(s, after, &t0->v[i], SCRIPTLET_REMOVED,
                                       p ? attribute(s, p->ctime, p->ctime_nsec) : "a scriptlet", NULL, 0);
                        i++;
                } else if (c > 0) {
                        if (!is_marker(t1->v[j].path))
                                r = add_change(s, after, &t1->v[j], SCRIPTLET_CREATED,
                                               attribute(s, t1->v[j].ctime, t1->v[j].ctime_nsec), NULL, 0);
                        j++;
                } else {
                        r = compare_one(s, before, after, &t0->v[i], &t1->v[j]);
                        i++;
                        j++;
                }
        }
        return r;
}

/* Each scriptlet's marker: the end of its window. */
static int read_markers(struct scriptlets *s, struct ext4walk *after)
{
        struct ext4walk_entry e;
        char path[64];

        if (ext4walk_stat(after, MARK "0", &e) < 0)
                return imgerr(-EIO, "the scriptlet run left no start marker: the guest did not run its script");
        s->start_sec = e.ctime;
        s->start_nsec = e.ctime_nsec;
        for (size_t i = 0; i < s->n; i++) {
                snprintf(path, sizeof(path), MARK "%zu", i + 1);
                if (s->v[i].status < 0 || ext4walk_stat(after, path, &e) < 0) {
                        s->v[i].status = s->v[i].status < 0 ? -1 : s->v[i].status;
                        continue;
                }
                s->v[i].done_sec = e.ctime;
                s->v[i].done_nsec = e.ctime_nsec;
        }
        imgerr_clear();
        return 0;
}

static int find_changes(struct scriptlets *s, const char *dir, const char *suffix)
{
        _cleanup_free_ char *p0 = NULL, *p1 = NULL;
        struct ext4walk *w0 = NULL, *w1 = NULL;
        struct tree t0 = { 0 }, t1 = { 0 };
        int r;

        if (asprintf(&p0, "%s/scratch.img", dir) < 0 || asprintf(&p1, "%s/after%s.img", dir, suffix) < 0)
                return -ENOMEM;
        r = ext4walk_open(p0, &w0);
        if (r >= 0)
                r = ext4walk_open(p1, &w1);
        if (r >= 0)
                r = read_markers(s, w1);
        if (r >= 0)
                r = ext4walk_walk(w0, "/", EXT4WALK_RECURSIVE, collect, &t0);
        if (r >= 0)
                r = ext4walk_walk(w1, "/", EXT4WALK_RECURSIVE, collect, &t1);
        if (r >= 0)
                r = diff_trees(s, w0, w1, &t0, &t1);
        tree_free(&t0);
        tree_free(&t1);
        if (w0)
                ext4walk_close(w0);
        if (w1)
                ext4walk_close(w1);
        return r;
}

/* ---- ScriptletExclude= --------------------------------------------------------------- */

static bool excluded(char *const *globs, const char *path)
{
        _cleanup_free_ char *p = strdup(path);
        char *slash;

        if (!globs || !p)
                return false;
        /* the path, then each folder above it */
        do {
                for (size_t i = 0; globs[i]; i++)
                        if (fnmatch(globs[i], p, FNM_PATHNAME) == 0)
                                return true;
                slash = strrchr(p, '/');
                if (slash)
                        *slash = 0;
        } while (slash && p[0]);
        return false;
}

/* Changes the layout leaves out: dropped, and each named in a warning. */
static int leave_out(struct scriptlets *s, char *const *globs, char ***warnings)
{
        static const char *const kinds[] = { "created", "modified", "removed" };
        size_t kept = 0;

        for (size_t i = 0; i < s->n_changes; i++) {
                struct scriptlet_change *c = &s->changes[i];
                if (!excluded(globs, c->path)) {
                        s->changes[kept++] = *c;
                        continue;
                }
                if (strv_pushf(warnings, "%s %s (%s): left out of the image ([Packages] ScriptletExclude=)",
                               kinds[c->kind], c->path, c->by) < 0)
                        return -ENOMEM;
                free(c->path);
                free(c->target);
                free(c->data);
        }
        s->n_changes = kept;
        return 0;
}

/* ---- the whole run ----------------------------------------------------------------- */

/* One boot of the scratch image: the guest runs the script; each
 * scriptlet's status and the changes into s, those ScriptletExclude= names
 * left out (a warning each).  The saved root is removed once read. */
static int run_once(struct scriptlets *s, const struct layout *l, const char *dir, const char *suffix,
                    char ***warnings)
{
        _cleanup_free_ char *outp = NULL, *out = NULL, *after = NULL;
        int r, status = 0;

        if (asprintf(&outp, "%s/out%s", dir, suffix) < 0 || asprintf(&after, "%s/after%s.img", dir, suffix) < 0)
                return -ENOMEM;
        r = run_harness(dir, suffix, l, &status);
        if (r < 0)
                return r;
        out = read_text(outp);
        if (!out)
                return -ENOMEM;
        r = read_statuses(s, out, status, l->scriptlet_timeout, warnings);
        if (r >= 0 && status != 0) {
                _cleanup_free_ char *err = NULL, *errp = NULL;
                if (asprintf(&errp, "%s/err%s", dir, suffix) >= 0)
                        err = read_text(errp);
                if (err)
                        err[strcspn(err, "\n")] = 0;
                r = imgerr(-EIO, "the scriptlet run failed (boot harness exit %d): %s", status,
                           err && err[0] ? err : "no message");
        }
        if (r >= 0)
                r = find_changes(s, dir, suffix);
        if (r >= 0)
                r = leave_out(s, l->scriptlet_exclude, warnings);
        (void)unlink(after);    /* the next run's room; the changes are in memory */
        return r;
}

/* The lines as one, "a; b". */
static char *join_lines(char *const *v)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return NULL;
        for (size_t i = 0; v && v[i]; i++)
                fprintf(f, "%s%s", i ? "; " : "", v[i]);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

/* ScriptletCheck=: a second boot runs the same script on a fresh overlay of
 * the same scratch image.  Nothing is fixed for the guest's randomness (the
 * kernel seeds it anew on every boot), while the clock, hostname and
 * machine-id are as in the first run; so what the two runs changed
 * differently is what a scriptlet draws from chance: each such path is
 * named, the first run's changes are the ones written. */
static int run_again(struct scriptlets *s, const struct layout *l, const char *dir, char ***warnings)
{
        struct scriptlets again = { .n = s->n };
        char **ignored = NULL;  /* the first run's warnings said it */
        size_t n;
        int r;

        again.v = calloc(s->n, sizeof(*again.v));
        if (!again.v)
                return -ENOMEM;
        for (size_t i = 0; i < s->n; i++) {
                again.v[i] = s->v[i];   /* shares the strings: freed with s */
                again.v[i].status = -1;
                again.v[i].done_sec = 0;
                again.v[i].done_nsec = 0;
        }
        r = run_once(&again, l, dir, "2", &ignored);
        if (r >= 0)
                r = scriptchange_differ(s->changes, s->n_changes, again.changes, again.n_changes,
                                        &s->nondeterministic);
        free_changes(&again);
        free(again.v);
        strv_free(ignored);
        if (r <= 0)
                return r;
        n = strv_length(s->nondeterministic);
        if (l->scriptlet_check == SCRIPTLET_CHECK_FAIL) {
                _cleanup_free_ char *all = join_lines(s->nondeterministic);
                return imgerr(-ENOTRECOVERABLE, "%s: [Packages] ScriptletCheck=fail: %zu path%s changed differently "
                              "by a second run of the scriptlets: %s (leave %s out with [Packages] ScriptletExclude= "
                              "if %s to the first boot)", l->path, n, n == 1 ? "" : "s", all ? all : "",
                              n == 1 ? "it" : "them", n == 1 ? "it belongs" : "they belong");
        }
        for (size_t i = 0; i < n; i++)
                if (strv_pushf(warnings, "%s; not reproducible: a second run of the scriptlets "
                               "wrote it differently (add it to [Packages] ScriptletExclude= if it belongs to "
                               "the first boot)", s->nondeterministic[i]) < 0)
                        return -ENOMEM;
        return 0;
}

int scriptlets_run(struct scriptlets *s, const struct layout *l, int64_t epoch, scriptlets_scratch_fn scratch,
                   void *ctx, char ***warnings)
{
        _cleanup_free_ char *dir = NULL, *img = NULL, *ird = NULL, *script = NULL, *scriptp = NULL;
        char uuid[37] = "";
        int r;

        if (!l->kernel)
                return imgerr(-EINVAL, "%s: Scriptlets=run boots the image to run them: set [Boot] Kernel= "
                              "(./build.sh kernel fetches one)", l->path);
        r = scratch_dir_make("imgtool-scriptlets", &dir);
        if (r < 0)
                return r;
        if (asprintf(&img, "%s/scratch.img", dir) < 0 || asprintf(&ird, "%s/initramfs", dir) < 0 ||
            asprintf(&scriptp, "%s/script", dir) < 0) {
                r = -ENOMEM;
                goto out;
        }
        r = scratch(ctx, img, uuid);
        if (r >= 0)
                r = make_initramfs(l, s, uuid, ird, warnings);
        if (r >= 0)
                r = guest_script(s, epoch, &script);
        if (r >= 0 && strlen(script) > SCRIPT_MAX)
                r = imgerr(-E2BIG, "the scriptlets of this set are %zu bytes of text together (file triggers' "
                           "path lists included), more than the %u the guest's runner disk holds",
                           strlen(script), SCRIPT_MAX);
        if (r >= 0)
                r = write_all(scriptp, script, strlen(script));
        if (r >= 0)
                r = run_once(s, l, dir, "", warnings);
        if (r >= 0 && l->scriptlet_check != SCRIPTLET_CHECK_NO)
                r = run_again(s, l, dir, warnings);
out:
        scratch_dir_remove(dir);
        return r;
}

size_t scriptlets_count(const struct scriptlets *s) { return s ? s->n_changes : 0; }
size_t scriptlets_ran(const struct scriptlets *s) { return s ? s->ran : 0; }
char *const *scriptlets_nondeterministic(const struct scriptlets *s) { return s ? s->nondeterministic : NULL; }

int scriptlets_ran_labels(const struct scriptlets *s, char ***v)
{
        for (size_t i = 0; s && i < s->n; i++)
                if (s->v[i].status >= 0 && strv_pushf(v, "%s", s->v[i].label) < 0)
                        return imgerr(-ENOMEM, "out of memory");
        return 0;
}

const struct scriptlet_change *scriptlets_change(const struct scriptlets *s, size_t i)
{
        return s && i < s->n_changes ? &s->changes[i] : NULL;
}

const struct scriptlet_change *scriptlets_find(const struct scriptlets *s, const char *path)
{
        size_t lo = 0, hi = s ? s->n_changes : 0;

        while (lo < hi) {       /* the changes are in path order: the walks' */
                size_t mid = (lo + hi) / 2;
                int c = strcmp(s->changes[mid].path, path);
                if (c == 0)
                        return &s->changes[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}
