#include "image/fcsubset.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <pcre2.h>
#include <selinux/label.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/util.h"

#define MAX_FC_FILE (64u << 20)

struct fcspec {
        const char *line;       /* the line in f->text, through its '\n' */
        size_t line_len;
        const char *regex;      /* the first field, regex_len bytes */
        size_t regex_len;
        size_t lit_len;         /* every match starts with regex[0..lit_len) */
        bool literal;           /* the regex is that literal: no metacharacter, no escape */
        pcre2_code *re;         /* ^REGEX$ for the partial test; NULL: never left out */
        bool compiled;          /* re was made (on the first folder that needs it) */
};

struct fcclass {
        uint32_t *spec;         /* indexes into f->specs, ascending */
        size_t n;
        uint64_t hash;
        struct selabel_handle *h;
};

struct fcdir {
        char *path;             /* without its trailing '/': "" is "/" */
        size_t len;
        struct fcclass *cls;
};

struct fcsubset {
        char *text;             /* FC, FC.homedirs, FC.local, each line ending in '\n' */
        size_t text_len;
        struct fcspec *specs;
        size_t nspecs;
        char **subs;            /* sources of FC.subs and FC.subs_dist */
        size_t nsubs, cap_subs;
        struct fcdir *dirs;     /* open addressing, a power of two, at most half full */
        size_t dmask, ndirs;
        struct fcclass **classes;  /* open addressing by hash, same rule */
        size_t cmask, nclasses;
        pcre2_match_data *md;
        uint32_t *scratch;      /* a survivor list being built */
};

/* ---- reading the files ---------------------------------------------------- */

static int append_file(struct fcsubset *f, const char *path, bool must)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        char *t;
        int r = read_file_max(path, MAX_FC_FILE, "file_contexts files", (uint8_t **)&data, &len);

        if (r == -ENOENT && !must) {
                imgerr_clear();
                return 0;
        }
        if (r < 0)
                return r;
        t = realloc(f->text, f->text_len + len + 2);
        if (!t)
                return -ENOMEM;
        f->text = t;
        memcpy(t + f->text_len, data, len);
        f->text_len += len;
        if (len && t[f->text_len - 1] != '\n')
                t[f->text_len++] = '\n';
        t[f->text_len] = 0;
        return 0;
}

/* The sources of a .subs file, read as libselinux's selabel_subs_init reads
 * it (fgets into 1023 bytes, first field unless a comment, a second field
 * needed). */
static int read_subs(struct fcsubset *f, const char *path)
{
        _cleanup_fclose_ FILE *in = fopen(path, "re");
        char buf[1024];

        if (!in)
                return errno == ENOENT ? 0 : imgerr(-errno, "%s: %s", path, strerror(errno));
        while (fgets(buf, sizeof(buf) - 1, in)) {
                char *src = buf, *p;
                while (*src && isspace((unsigned char)*src))
                        src++;
                if (*src == '#')
                        continue;
                for (p = src; *p && !isspace((unsigned char)*p); p++)
                        ;
                *p = 0;
                /* a source without a second field too: libselinux's
                 * parse may take one from the rest of its buffer */
                if (!*src)
                        continue;
                if (GROW(f->subs, f->nsubs, f->cap_subs, 16) < 0)
                        return -ENOMEM;
                if (!(f->subs[f->nsubs] = strdup(src)))
                        return -ENOMEM;
                f->nsubs++;
        }
        return 0;
}

/* Parts of a regex for which PCRE2's partial answer is not a proof (or that
 * could look past the subject): such a spec is kept everywhere. */
static bool untrusted_partial(const char *re, size_t len)
{
        for (size_t i = 0; i + 1 < len; i++) {
                char c = re[i], d = re[i + 1];
                if (c == '\\') {
                        if (strchr("bBzZAGKgkpPX", d) || isdigit((unsigned char)d))
                                return true;
                        i++;
                        continue;
                }
                if (c == '(' && d == '?')
                        return true;
                if (d == '+' && strchr("*+?}", c))
                        return true;
        }
        return false;
}

static void set_literal_prefix(struct fcspec *s)
{
        size_t i = 0;

        while (i < s->regex_len && !strchr(".^$?*+|[({\\", s->regex[i]))
                i++;
        s->literal = i == s->regex_len;
        s->lit_len = i;
        if (!s->literal && strchr("?*+{", s->regex[i]) && i > 0)
                s->lit_len--;   /* the last character is quantified */
        if (memchr(s->regex, '|', s->regex_len)) {
                s->lit_len = 0;  /* top-level alternatives start anywhere */
                s->literal = false;
        }
}

/* Made when a folder first needs it (most specs are ruled out by their
 * literal start and never are).  NULL (not trusted, does not compile, no
 * memory) keeps the spec everywhere; libselinux reports a bad regex. */
static void compile_spec(struct fcspec *s)
{
        _cleanup_free_ char *anchored = NULL;
        int err;
        PCRE2_SIZE off;

        s->compiled = true;
        if (s->literal || untrusted_partial(s->regex, s->regex_len) ||
            asprintf(&anchored, "^%.*s$", (int)s->regex_len, s->regex) < 0)
                return;
        /* libselinux's flags (PCRE2_DOTALL); no start-of-match shortcuts */
        s->re = pcre2_compile((PCRE2_SPTR)anchored, PCRE2_ZERO_TERMINATED, PCRE2_DOTALL | PCRE2_NO_START_OPTIMIZE,
                              &err, &off, NULL);
}

/* The spec lines, tokenized as libselinux's read_spec_entries does. */
static int parse_specs(struct fcsubset *f)
{
        size_t cap = 0;

        for (char *p = f->text; *p;) {
                char *eol = strchr(p, '\n'), *q = p;
                struct fcspec s = { .line = p, .line_len = (size_t)(eol - p) + 1 };

                while (q < eol && isspace((unsigned char)*q))
                        q++;
                p = eol + 1;
                if (q == eol || *q == '#')
                        continue;
                s.regex = q;
                while (q < eol && !isspace((unsigned char)*q))
                        q++;
                s.regex_len = (size_t)(q - s.regex);
                set_literal_prefix(&s);
                if (f->nspecs == cap) {
                        struct fcspec *n = realloc(f->specs, (cap = cap ? 2 * cap : 1024) * sizeof(*n));
                        if (!n)
                                return -ENOMEM;
                        f->specs = n;
                }
                f->specs[f->nspecs++] = s;
        }
        return 0;
}

int fcsubset_open(const char *fc, struct fcsubset **out)
{
        static const char *const more[] = { ".homedirs", ".local" };
        static const char *const subs[] = { ".subs", ".subs_dist" };
        struct fcsubset *f = calloc(1, sizeof(*f));
        int r;

        *out = NULL;
        if (!f)
                return -ENOMEM;
        r = append_file(f, fc, true);
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(more); i++) {
                _cleanup_free_ char *p = NULL;
                r = asprintf(&p, "%s%s", fc, more[i]) < 0 ? -ENOMEM : append_file(f, p, false);
        }
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(subs); i++) {
                _cleanup_free_ char *p = NULL;
                r = asprintf(&p, "%s%s", fc, subs[i]) < 0 ? -ENOMEM : read_subs(f, p);
        }
        if (r >= 0 && f->text && strlen(f->text) != f->text_len) {
                fcsubset_free(f);  /* a NUL byte: libselinux would cut the line there */
                return 0;
        }
        if (r >= 0 && f->text)
                r = parse_specs(f);
        if (r >= 0 && !(f->md = pcre2_match_data_create(1, NULL)))
                r = -ENOMEM;
        if (r < 0 || !f->text) {
                fcsubset_free(f);
                return r;
        }
        *out = f;
        return 0;
}

void fcsubset_free(struct fcsubset *f)
{
        if (!f)
                return;
        for (size_t i = 0; i < f->nspecs; i++)
                pcre2_code_free(f->specs[i].re);
        for (size_t i = 0; i <= f->cmask && f->classes; i++) {
                struct fcclass *c = f->classes[i];
                if (!c)
                        continue;
                if (c->h)
                        selabel_close(c->h);
                free(c->spec);
                free(c);
        }
        for (size_t i = 0; i <= f->dmask && f->dirs; i++)
                free(f->dirs[i].path);
        for (size_t i = 0; i < f->nsubs; i++)
                free(f->subs[i]);
        free(f->subs);
        free(f->classes);
        free(f->dirs);
        free(f->specs);
        free(f->scratch);
        pcre2_match_data_free(f->md);
        free(f->text);
        free(f);
}

/* ---- folders ------------------------------------------------------------ */

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
        for (const unsigned char *c = p; n--; c++)
                h = (h ^ *c) * 1099511628211ull;
        return h;
}

/* A path libselinux takes as it is: absolute, no "//", no trailing '/', no
 * .subs source in front (compared as plain prefixes: wider than
 * libselinux's rule, which wants a '/' or the end after the source). */
static bool plain_key(const struct fcsubset *f, const char *path, size_t len)
{
        if (len < 2 || path[0] != '/' || path[len - 1] == '/' || strstr(path, "//"))
                return false;
        for (size_t i = 0; i < f->nsubs; i++)
                if (!strncmp(path, f->subs[i], strlen(f->subs[i])))
                        return false;
        return true;
}

static struct fcdir *dir_slot(const struct fcsubset *f, const char *path, size_t len)
{
        for (size_t i = hash_bytes(path, len, 1469598103934665603ull) & f->dmask;; i = (i + 1) & f->dmask) {
                struct fcdir *d = &f->dirs[i];
                if (!d->path || (d->len == len && !memcmp(d->path, path, len)))
                        return d;
        }
}

static int grow_dirs(struct fcsubset *f)
{
        struct fcdir *old = f->dirs;
        size_t oldcap = f->dirs ? f->dmask + 1 : 0, cap = oldcap ? 2 * oldcap : 1024;

        if (f->dirs && 2 * (f->ndirs + 1) <= oldcap)
                return 0;
        if (!(f->dirs = calloc(cap, sizeof(*f->dirs)))) {
                f->dirs = old;
                return -ENOMEM;
        }
        f->dmask = cap - 1;
        for (size_t i = 0; i < oldcap; i++)
                if (old[i].path)
                        *dir_slot(f, old[i].path, old[i].len) = old[i];
        free(old);
        return 0;
}

/* May spec s match a path that starts with prefix (a folder and its '/')? */
static bool may_match_below(struct fcsubset *f, struct fcspec *s, const char *prefix, size_t len)
{
        size_t n = s->lit_len < len ? s->lit_len : len;

        if (memcmp(s->regex, prefix, n))
                return false;
        if (s->literal)
                return s->regex_len > len;
        if (!s->compiled)
                compile_spec(s);
        if (!s->re)
                return true;
        return pcre2_match(s->re, (PCRE2_SPTR)prefix, len, 0, PCRE2_PARTIAL_HARD, f->md, NULL) != PCRE2_ERROR_NOMATCH;
}

static struct fcclass **class_slot(struct fcsubset *f, const uint32_t *spec, size_t n, uint64_t hash)
{
        for (size_t i = hash & f->cmask;; i = (i + 1) & f->cmask) {
                struct fcclass **c = &f->classes[i];
                if (!*c || ((*c)->hash == hash && (*c)->n == n && !memcmp((*c)->spec, spec, n * sizeof(*spec))))
                        return c;
        }
}

static int grow_classes(struct fcsubset *f)
{
        struct fcclass **old = f->classes;
        size_t oldcap = old ? f->cmask + 1 : 0, cap = oldcap ? 2 * oldcap : 256;

        if (old && 2 * (f->nclasses + 1) <= oldcap)
                return 0;
        if (!(f->classes = calloc(cap, sizeof(*f->classes)))) {
                f->classes = old;
                return -ENOMEM;
        }
        f->cmask = cap - 1;
        for (size_t i = 0; i < oldcap; i++)
                if (old[i])
                        *class_slot(f, old[i]->spec, old[i]->n, old[i]->hash) = old[i];
        free(old);
        return 0;
}

/* The survivors of parent (NULL: every spec) below prefix, as a shared class. */
static int survivors(struct fcsubset *f, const struct fcclass *parent, const char *prefix, size_t len,
                     struct fcclass **out)
{
        size_t n = 0, total = parent ? parent->n : f->nspecs;
        struct fcclass **slot, *c;
        uint64_t hash;
        int r;

        for (size_t k = 0; k < total; k++) {
                uint32_t i = parent ? parent->spec[k] : (uint32_t)k;
                if (may_match_below(f, &f->specs[i], prefix, len))
                        f->scratch[n++] = i;
        }
        hash = hash_bytes(f->scratch, n * sizeof(*f->scratch), 1469598103934665603ull ^ n);
        if ((r = grow_classes(f)) < 0)
                return r;
        slot = class_slot(f, f->scratch, n, hash);
        if (!*slot) {
                if (!(c = calloc(1, sizeof(*c))) || !(c->spec = malloc((n ? n : 1) * sizeof(*c->spec)))) {
                        free(c);
                        return -ENOMEM;
                }
                memcpy(c->spec, f->scratch, n * sizeof(*c->spec));
                c->n = n;
                c->hash = hash;
                *slot = c;
                f->nclasses++;
        }
        *out = *slot;
        return 0;
}

/* The folder path[0..len) (len 0: "/"), made from its parent's class. */
static int folder(struct fcsubset *f, const char *path, size_t len, struct fcclass **out)
{
        _cleanup_free_ char *prefix = NULL;
        struct fcclass *parent = NULL;
        struct fcdir *d;
        int r;

        if (f->dirs && (d = dir_slot(f, path, len))->path) {
                *out = d->cls;
                return 0;
        }
        if (len > 0) {
                size_t plen = len - 1;
                while (plen > 0 && path[plen] != '/')
                        plen--;
                if ((r = folder(f, path, plen, &parent)) < 0)
                        return r;
        }
        if (!(prefix = malloc(len + 2)))
                return -ENOMEM;
        memcpy(prefix, path, len);
        prefix[len] = '/';
        prefix[len + 1] = 0;
        if ((r = survivors(f, parent, prefix, len + 1, out)) < 0 || (r = grow_dirs(f)) < 0)
                return r;
        d = dir_slot(f, path, len);
        prefix[len] = 0;
        d->path = prefix;
        prefix = NULL;
        d->len = len;
        d->cls = *out;
        f->ndirs++;
        return 0;
}

/* libselinux reads the kept lines from a memfd: the lines as written, in
 * their order.  A handle that cannot be opened stays NULL (the full handle
 * answers those folders).  Opening costs more than linear time in the lines
 * (5,600 lines: 70 ms), so classes of more than half the specs ("/", "/usr":
 * few paths) are left to the full handle. */
static void open_class(struct fcsubset *f, struct fcclass *c)
{
        _cleanup_close_ int fd = memfd_create("imgtool-fc", MFD_CLOEXEC);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        char path[64];
        struct selinux_opt opt = { SELABEL_OPT_PATH, path };

        for (size_t k = 0; k < c->n; k++)
                len += f->specs[c->spec[k]].line_len;
        if (fd < 0 || !(text = malloc(len + 1)))
                return;
        len = 0;
        for (size_t k = 0; k < c->n; k++) {
                const struct fcspec *s = &f->specs[c->spec[k]];
                memcpy(text + len, s->line, s->line_len);
                len += s->line_len;
        }
        if (write(fd, text, len) != (ssize_t)len)
                return;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        c->h = selabel_open(SELABEL_CTX_FILE, &opt, 1);
}

int fcsubset_plan(struct fcsubset *f, const char *const *paths, size_t n)
{
        int r = 0;

        if (!f->scratch && !(f->scratch = malloc((f->nspecs ? f->nspecs : 1) * sizeof(*f->scratch))))
                return -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++) {
                size_t len = strlen(paths[i]), dlen = len;
                struct fcclass *c;
                if (!plain_key(f, paths[i], len))
                        continue;
                while (dlen > 0 && paths[i][dlen] != '/')
                        dlen--;
                r = folder(f, paths[i], dlen, &c);
        }
        for (size_t i = 0; r >= 0 && i <= f->cmask && f->classes; i++)
                if (f->classes[i] && !f->classes[i]->h && 2 * f->classes[i]->n <= f->nspecs)
                        open_class(f, f->classes[i]);
        return r;
}

struct selabel_handle *fcsubset_handle(const struct fcsubset *f, const char *path)
{
        size_t len = strlen(path), dlen = len;
        const struct fcdir *d;

        if (!f || !f->dirs || !plain_key(f, path, len))
                return NULL;
        while (dlen > 0 && path[dlen] != '/')
                dlen--;
        d = dir_slot(f, path, dlen);
        return d->path ? d->cls->h : NULL;
}

void fcsubset_stats(const struct fcsubset *f, size_t *folders, size_t *handles, size_t *kept, size_t *specs)
{
        *folders = *handles = *kept = *specs = 0;
        if (!f)
                return;
        *folders = f->ndirs;
        *specs = f->nspecs;
        for (size_t i = 0; f->classes && i <= f->cmask; i++)
                if (f->classes[i]) {
                        (*handles)++;
                        *kept += f->classes[i]->n;
                }
}
