#include "image/users.h"

#include <errno.h>
#include <fnmatch.h>
#include <openssl/evp.h>
#include <rpm/header.h>
#include <rpm/rpmtag.h>
#include <rpm/rpmtd.h>
#include <stdlib.h>
#include <string.h>

#include "layout/layout.h"
#include "image/owners.h"
#include "image/passwords.h"
#include "rpm/pkgread.h"
#include "rpm/pkgset.h"
#include "rpm/rpmpkg.h"
#include "base/util.h"

#define SYS_ID_MIN 201u
#define SYS_ID_MAX 999u
#define MAX_READ (4u << 20)
#define DEFAULT_SHELL "/usr/sbin/nologin"
/* systemd's strict rule: what fits utmp's ut_user (UT_NAMESIZE 32) with its NUL */
#define NAME_MAX_LEN 31

struct account {
        char *name, *gecos, *home, *shell;
        unsigned uid, gid;
        char *group;            /* primary group name ('u' lines) */
        bool base;              /* from a package's own /etc/passwd */
        long want_uid;          /* from the line; -1: any */
        long want_gid;          /* "uid:gid" numeric; -1: the group of the same name */
};

struct group {
        char *name;
        unsigned gid;
        bool base;
        long want;              /* from the line; -1: any */
        bool from_user;         /* made for a 'u' line's same-named group */
        char **members;         /* added by 'm' lines */
};

struct users {
        struct account *acc;
        size_t n_acc, cap_acc;
        struct group *grp;
        size_t n_grp, cap_grp;
        char *base[USERS_FILE_COUNT];   /* what the packages ship; NULL if none */
        size_t base_len[USERS_FILE_COUNT];
        bool shipped[USERS_FILE_COUNT];
        char *out[USERS_FILE_COUNT];    /* rendered content; NULL: untouched */
        size_t out_len[USERS_FILE_COUNT];
        char **prev_users, **prev_groups; /* "name\0id" pairs flattened: name, id, name, id... */
        const struct layout *l;         /* [Users] PrivilegedGroups=, AllowPrivileged= */
        char **notes;                   /* privileged memberships allowed: for the report */
        char **allowed;                 /* "user:group" of those, for the lockfile */
        char **lock_allowed;            /* a lock layout's @privileged lines */
};

static const char *const file_paths[USERS_FILE_COUNT] = {
        "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow",
};

const char *users_file_path(enum users_file f)
{
        return file_paths[f];
}

unsigned users_file_mode(enum users_file f)
{
        /* Fedora's setup package: shadow files readable by no one. */
        return f == USERS_SHADOW || f == USERS_GSHADOW ? 0000 : 0644;
}

static struct account *find_acc(const struct users *u, const char *name)
{
        for (size_t i = 0; i < u->n_acc; i++)
                if (!strcmp(u->acc[i].name, name))
                        return &u->acc[i];
        return NULL;
}

static struct group *find_grp(const struct users *u, const char *name)
{
        for (size_t i = 0; i < u->n_grp; i++)
                if (!strcmp(u->grp[i].name, name))
                        return &u->grp[i];
        return NULL;
}

static bool uid_taken(const struct users *u, unsigned id)
{
        for (size_t i = 0; i < u->n_acc; i++)
                if (u->acc[i].uid == id)
                        return true;
        return false;
}

static bool gid_taken(const struct users *u, unsigned id)
{
        for (size_t i = 0; i < u->n_grp; i++)
                if (u->grp[i].gid == id)
                        return true;
        return false;
}

static struct account *add_acc(struct users *u, const char *name)
{
        struct account *n;

        if (GROW(u->acc, u->n_acc, u->cap_acc, 16) < 0)
                return NULL;
        n = &u->acc[u->n_acc];
        memset(n, 0, sizeof(*n));
        if (!(n->name = strdup(name)))
                return NULL;
        n->want_uid = n->want_gid = -1;
        n->uid = n->gid = UINT32_MAX;
        u->n_acc++;
        return n;
}

static struct group *add_grp(struct users *u, const char *name)
{
        struct group *n;

        if (GROW(u->grp, u->n_grp, u->cap_grp, 16) < 0)
                return NULL;
        n = &u->grp[u->n_grp];
        memset(n, 0, sizeof(*n));
        if (!(n->name = strdup(name)))
                return NULL;
        n->want = -1;
        n->gid = UINT32_MAX;
        u->n_grp++;
        return n;
}

/* ---- what a sysusers line may say -------------------------------------- */

/* systemd's valid_user_group_name() in its strict mode (the default; src/
 * basic/user-util.c): a letter or '_', then letters, digits, '_' or '-', at
 * most 31 bytes (utmp's ut_user).  So no ':' (passwd's field separator), no
 * newline (its record separator), no '.', no name that reads as an id. */
static bool valid_name(const char *s)
{
        size_t n = 0;

        if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
                return false;
        for (; s[n]; n++)
                if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
                      (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '-'))
                        return false;
        return n <= NAME_MAX_LEN;
}

/* GECOS, home and shell: one passwd field each (systemd's valid_gecos(),
 * valid_home()): no ':' and no control character; paths absolute. */
static bool valid_field(const char *s, bool path)
{
        if (path && s[0] != '/')
                return false;
        for (; *s; s++)
                if (*s == ':' || (unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

static int bad_name(const char *where, char type, const char *name, const char *what)
{
        return imgerr(-EBADMSG, "%s: %c %s: not a valid %s name (a letter or '_', then letters, digits, '_' "
                      "or '-', at most %d: systemd's rule)", where, type, name, what, NAME_MAX_LEN);
}

static bool is_privileged(const struct users *u, const char *group)
{
        static const char *const fixed[] = { "root", "wheel", "sudo", "adm" };
        const struct group *g = find_grp(u, group);

        for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
                if (!strcmp(group, fixed[i]))
                        return true;
        if (u->l && strv_contains(u->l->users_privileged, group))
                return true;
        return g && g->base && g->gid == 0;
}

/* A line putting user into a privileged group (an 'm' line, or a 'u' line
 * naming it as the primary group): refused unless [Users] AllowPrivileged=
 * lists USER:GROUP; allowed ones are noted for the compose report. */
static int privileged_member(struct users *u, const char *user, const char *group, const char *where, char type)
{
        _cleanup_free_ char *pair = NULL;

        if (!strcmp(user, "root") || !is_privileged(u, group))
                return 0;
        if (asprintf(&pair, "%s:%s", user, group) < 0)
                return -ENOMEM;
        if (!strv_contains(u->lock_allowed, pair) && (!u->l || !strv_contains(u->l->users_allow, pair)))
                return imgerr(-EPERM, "%s: %c %s %s: adds %s to the privileged group %s (refused; allow it "
                              "with [Users] AllowPrivileged=%s)", where, type, user, group, user, group, pair);
        if (!strv_contains(u->allowed, pair) && strv_pushf(&u->allowed, "%s", pair) < 0)
                return -ENOMEM;
        return strv_pushf(&u->notes, "%s: %c %s %s: %s added to the privileged group %s ([Users] "
                          "AllowPrivileged=%s)", where, type, user, group, user, group, pair);
}

/* ---- the base files the packages ship --------------------------------- */

/* "name:x:id:..." lines; the id is field 3 in passwd and group alike. */
static int parse_base(struct users *u, enum users_file f)
{
        char *text = u->base[f], *save = NULL;
        _cleanup_free_ char *copy = text ? strdup(text) : NULL;

        if (!copy)
                return text ? -ENOMEM : 0;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *fld[4] = { 0 }, *p = line, *end;
                int k;
                unsigned long id;

                for (k = 0; k < 4 && p; k++) {
                        fld[k] = p;
                        p = strchr(p, ':');
                        if (p)
                                *p++ = 0;
                }
                if (k < 3 || !fld[0][0] || fld[0][0] == '#')
                        continue;
                id = strtoul(fld[2], &end, 10);
                if (*end || end == fld[2])
                        continue;
                if (f == USERS_PASSWD && !find_acc(u, fld[0])) {
                        struct account *a = add_acc(u, fld[0]);
                        if (!a)
                                return -ENOMEM;
                        a->base = true;
                        a->uid = (unsigned)id;
                } else if (f == USERS_GROUP && !find_grp(u, fld[0])) {
                        struct group *g = add_grp(u, fld[0]);
                        if (!g)
                                return -ENOMEM;
                        g->base = true;
                        g->gid = (unsigned)id;
                }
        }
        return 0;
}

/* ---- sysusers.d lines ------------------------------------------------- */

/* Split a sysusers line into up to 6 fields; "quoted strings" are one. */
static int split_sysusers(char *line, char *fld[6])
{
        int n = 0;
        char *p = line;

        while (n < 6) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                if (*p == '"') {
                        fld[n++] = ++p;
                        p = strchr(p, '"');
                        if (!p)
                                return -1;
                        *p++ = 0;
                        continue;
                }
                fld[n++] = p;
                while (*p && *p != ' ' && *p != '\t')
                        p++;
                if (*p)
                        *p++ = 0;
        }
        return n;
}

static const char *field_or(char *fld[6], int n, int i, const char *dflt)
{
        return i < n && strcmp(fld[i], "-") ? fld[i] : dflt;
}

static int parse_id(const char *s, long *id)
{
        char *end;
        unsigned long v;

        if (!s || !strcmp(s, "-") || s[0] == '/') {   /* a path: "like that file's owner"; we allocate */
                *id = -1;
                return 0;
        }
        v = strtoul(s, &end, 10);
        if (*end || end == s || v >= 65535)
                return -1;
        *id = (long)v;
        return 0;
}

static int sysusers_user(struct users *u, char *fld[6], int n, const char *where)
{
        struct account *a;
        struct group *g;
        _cleanup_free_ char *idspec = n > 2 ? strdup(fld[2]) : NULL;
        char *colon = idspec ? strchr(idspec, ':') : NULL;
        long uid = -1, gid = -1;
        const char *gname = fld[1];

        if (colon) {
                *colon++ = 0;
                if (parse_id(colon, &gid) < 0) {
                        gid = -1;
                        gname = colon;    /* "uid:groupname" */
                }
        }
        if (!valid_name(fld[1]))
                return bad_name(where, 'u', fld[1], "user");
        if (parse_id(idspec, &uid) < 0)
                return imgerr(-EBADMSG, "%s: u %s: bad id '%s'", where, fld[1], fld[2]);
        if (!valid_name(gname))
                return bad_name(where, 'u', gname, "group");
        if (!valid_field(field_or(fld, n, 3, ""), false) || !valid_field(field_or(fld, n, 4, "/"), true) ||
            !valid_field(field_or(fld, n, 5, DEFAULT_SHELL), true))
                return imgerr(-EBADMSG, "%s: u %s: a GECOS with ':' or a control character, or a home or "
                              "shell that is not an absolute path without them", where, fld[1]);
        if ((uid == 0 || gid == 0) && strcmp(fld[1], "root"))
                return imgerr(-EPERM, "%s: u %s %s: id 0 is root's alone", where, fld[1], fld[2]);
        if (find_acc(u, fld[1]))
                return 0;               /* the first definition wins, as in systemd-sysusers */
        /* "uid:group" names the primary group, by name or by number */
        for (size_t i = 0; colon && i < u->n_grp; i++)
                if (gid >= 0 ? u->grp[i].base && u->grp[i].gid == (unsigned)gid : !strcmp(u->grp[i].name, gname)) {
                        int r = privileged_member(u, fld[1], u->grp[i].name, where, 'u');
                        if (r < 0)
                                return r;
                }
        if (colon && gid < 0 && !find_grp(u, gname)) {
                int r = privileged_member(u, fld[1], gname, where, 'u');
                if (r < 0)
                        return r;
        }
        a = add_acc(u, fld[1]);
        if (!a || !(a->gecos = strdup(field_or(fld, n, 3, ""))) || !(a->home = strdup(field_or(fld, n, 4, "/"))) ||
            !(a->shell = strdup(field_or(fld, n, 5, DEFAULT_SHELL))) || !(a->group = strdup(gname)))
                return -ENOMEM;
        a->want_uid = uid;
        a->want_gid = gid;
        if (gid < 0 && !find_grp(u, gname)) {
                g = add_grp(u, gname);
                if (!g)
                        return -ENOMEM;
                g->from_user = true;
                g->want = uid;          /* the same number when free */
        }
        return 0;
}

static int sysusers_group(struct users *u, char *fld[6], int n, const char *where)
{
        struct group *g;
        long gid = -1;

        if (!valid_name(fld[1]))
                return bad_name(where, 'g', fld[1], "group");
        if (n > 2 && parse_id(fld[2], &gid) < 0)
                return imgerr(-EBADMSG, "%s: g %s: bad id '%s'", where, fld[1], fld[2]);
        if (gid == 0 && strcmp(fld[1], "root"))
                return imgerr(-EPERM, "%s: g %s %s: id 0 is root's alone", where, fld[1], fld[2]);
        if (find_grp(u, fld[1]))
                return 0;
        g = add_grp(u, fld[1]);
        if (!g)
                return -ENOMEM;
        g->want = gid;
        return 0;
}

/* 'm user group': membership, made after every user and group exists. */
struct membership {
        char **pairs;           /* user, group, user, group, ... */
};

/* expect_type/expect_name: what a user()/group() provide says the line is (0: any). */
static int sysusers_line(struct users *u, struct membership *m, char *line, const char *where, char expect_type,
                         const char *expect_name)
{
        char *fld[6];
        int n, r;

        while (*line == ' ' || *line == '\t')
                line++;
        if (!*line || *line == '#')
                return 0;
        n = split_sysusers(line, fld);
        if (n < 2)
                return imgerr(-EBADMSG, "%s: not a sysusers.d line: %s", where, line);
        if (expect_type && (fld[0][0] != expect_type || fld[0][1] || strcmp(fld[1], expect_name)))
                return imgerr(-EBADMSG, "%s: the line is for '%s %s', not for %s", where, fld[0], fld[1], expect_name);
        switch (fld[0][0]) {
        case 'u':
                return sysusers_user(u, fld, n, where);
        case 'g':
                return sysusers_group(u, fld, n, where);
        case 'm':
                if (n < 3)
                        return imgerr(-EBADMSG, "%s: m %s: no group", where, fld[1]);
                if (!valid_name(fld[1]))
                        return bad_name(where, 'm', fld[1], "user");
                if (!valid_name(fld[2]))
                        return bad_name(where, 'm', fld[2], "group");
                if ((r = privileged_member(u, fld[1], fld[2], where, 'm')) < 0)
                        return r;
                if (strv_pushf(&m->pairs, "%s", fld[1]) < 0 || strv_pushf(&m->pairs, "%s", fld[2]) < 0)
                        return -ENOMEM;
                return 0;
        case 'r':               /* id ranges: we allocate in 201..999 always */
                return 0;
        default:
                return imgerr(-EBADMSG, "%s: unknown sysusers.d type '%s'", where, fld[0]);
        }
}

static int sysusers_text(struct users *u, struct membership *m, const char *text, const char *where)
{
        _cleanup_free_ char *copy = strdup(text);
        char *save = NULL;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line && r >= 0; line = strtok_r(NULL, "\n", &save))
                r = sysusers_line(u, m, line, where, 0, NULL);
        return r;
}

/* rpm 4.19: "user(name) = BASE64" where the value is the sysusers line,
 * NUL-padded so base64 needs no '=' (not allowed in a version). */
static int provides_lines(struct users *u, struct membership *m, struct rpmpkg *p)
{
        Header h = rpmpkg_header(p);
        struct rpmtd_s names, vers;
        int r = 0;

        if (!headerGet(h, RPMTAG_PROVIDENAME, &names, HEADERGET_MINMEM))
                return 0;
        if (!headerGet(h, RPMTAG_PROVIDEVERSION, &vers, HEADERGET_MINMEM)) {
                rpmtdFreeData(&names);
                return 0;
        }
        for (int i = 0; r >= 0 && rpmtdSetIndex(&names, i) >= 0 && rpmtdSetIndex(&vers, i) >= 0; i++) {
                const char *name = rpmtdGetString(&names), *ver = rpmtdGetString(&vers);
                _cleanup_free_ char *where = NULL;
                unsigned char line[512];
                _cleanup_free_ char *pname = NULL;
                bool is_user;
                size_t len;
                int n;

                if (!name || !ver || !*ver || (strncmp(name, "user(", 5) && strncmp(name, "group(", 6)))
                        continue;
                is_user = name[0] == 'u';
                len = strlen(name);
                /* the provide names the user or group its line makes */
                if (name[len - 1] != ')' ||
                    !(pname = strndup(name + (is_user ? 5 : 6), len - (is_user ? 5 : 6) - 1)))
                        continue;
                len = strlen(ver);
                if (len > 4 * (sizeof(line) - 1) / 3)
                        continue;
                /* base64 without padding: pad it for OpenSSL. */
                char padded[700];
                size_t pl = len;
                memcpy(padded, ver, len);
                while (pl % 4)
                        padded[pl++] = '=';
                padded[pl] = 0;
                n = EVP_DecodeBlock(line, (unsigned char *)padded, (int)pl);
                /* a refusal breaks out of the loop: the tag data is freed below */
                if (asprintf(&where, "%s: Provides: %s", rpmpkg_path(p), name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (n <= 0) {
                        r = imgerr(-EBADMSG, "%s = %s: not base64", where, ver);
                        break;
                }
                line[n] = 0;    /* the NUL padding ends the string early */
                if (strpbrk((char *)line, "\n\r")) {
                        r = imgerr(-EBADMSG, "%s: the sysusers line holds a line break", where);
                        break;
                }
                if (!valid_name(pname)) {
                        r = bad_name(where, is_user ? 'u' : 'g', pname, is_user ? "user" : "group");
                        break;
                }
                r = sysusers_line(u, m, (char *)line, where, is_user ? 'u' : 'g', pname);
        }
        rpmtdFreeData(&names);
        rpmtdFreeData(&vers);
        return r;
}

/* ---- reading the packages --------------------------------------------- */

static bool is_sysusers_path(const char *path)
{
        return !fnmatch("/usr/lib/sysusers.d/*.conf", path, FNM_PATHNAME);
}

static int base_index(const char *path)
{
        for (int f = 0; f < USERS_FILE_COUNT; f++)
                if (!strcmp(path, file_paths[f]))
                        return f;
        return -1;
}

struct sysusers_file {
        char *name;             /* base name: files sort by it, as systemd-sysusers does */
        char *text;
        char *where;
};

struct reading {
        struct users *u;
        struct sysusers_file *files;
        size_t n, cap;
};

/* Called for the file lists too: marks which users files a package ships. */
static bool want_users_file(const char *path, void *ctx)
{
        struct reading *rd = ctx;
        int b = base_index(path);

        if (b >= 0)
                rd->u->shipped[b] = true;
        return b >= 0 || is_sysusers_path(path);
}

static int got_users_file(const char *path, const char *pkg, char *text, size_t len, void *ctx)
{
        struct reading *rd = ctx;
        struct sysusers_file *nf;
        int b = base_index(path);

        if (strlen(text) != len) {
                free(text);
                return imgerr(-EBADMSG, "%s: %s: not text", pkg, path);
        }
        if (b >= 0) {
                free(rd->u->base[b]);
                rd->u->base[b] = text;
                rd->u->base_len[b] = len;
                return 0;
        }
        if (GROW(rd->files, rd->n, rd->cap, 16) < 0) {
                free(text);
                return -ENOMEM;
        }
        nf = &rd->files[rd->n++];
        nf->text = text;
        nf->name = strdup(strrchr(path, '/') + 1);
        if (asprintf(&nf->where, "%s: %s", pkg, path) < 0)
                nf->where = NULL;
        return nf->name && nf->where ? 0 : -ENOMEM;
}

static int file_name_cmp(const void *a, const void *b)
{
        const struct sysusers_file *x = a, *y = b;
        return strcmp(x->name, y->name);
}

/* ---- Previous= -------------------------------------------------------- */

/* A lockfile's @user/@group lines, or passwd / group lines. */
static int read_previous(struct users *u, const char *path)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t len;

        if (!f)
                return imgerr(-errno, "%s: cannot read [Users] Previous=: %s", path, strerror(errno));
        while ((len = getline(&line, &cap, f)) > 0) {
                char *fld[7] = { 0 }, *p = line, sep = ':';
                int k;

                if (line[len - 1] == '\n')
                        line[len - 1] = 0;
                if (line[0] == '@')
                        sep = '\t';
                else if (line[0] == '#' || !line[0])
                        continue;
                for (k = 0; k < 7 && p; k++) {
                        fld[k] = p;
                        p = strchr(p, sep);
                        if (p)
                                *p++ = 0;
                }
                if (sep == '\t' && k == 3) {
                        char ***v = !strcmp(fld[0], "@user") ? &u->prev_users : !strcmp(fld[0], "@group") ? &u->prev_groups : NULL;
                        if (v && (strv_pushf(v, "%s", fld[1]) < 0 || strv_pushf(v, "%s", fld[2]) < 0))
                                return -ENOMEM;
                        /* a lock read as the layout (verify --against LOCK): what compose allowed */
                        if (!strcmp(fld[0], "@privileged") && u->l && u->l->users_allow_from_lock &&
                            strv_pushf(&u->lock_allowed, "%s:%s", fld[1], fld[2]) < 0)
                                return -ENOMEM;
                } else if (sep == ':' && (k == 7 || k == 4)) {
                        /* passwd (7 fields) gives uids and primary gids; group (4) gids */
                        if (k == 7 && (strv_pushf(&u->prev_users, "%s", fld[0]) < 0 ||
                                       strv_pushf(&u->prev_users, "%s", fld[2]) < 0))
                                return -ENOMEM;
                        if (k == 4 && (strv_pushf(&u->prev_groups, "%s", fld[0]) < 0 ||
                                       strv_pushf(&u->prev_groups, "%s", fld[2]) < 0))
                                return -ENOMEM;
                }
        }
        return 0;
}

static long previous_id(char **v, const char *name)
{
        for (size_t i = 0; v && v[i] && v[i + 1]; i += 2)
                if (!strcmp(v[i], name)) {
                        char *end;
                        unsigned long id = strtoul(v[i + 1], &end, 10);
                        return *end || id >= 65535 ? -1 : (long)id;
                }
        return -1;
}

/* ---- allocation ------------------------------------------------------- */

static unsigned name_hash(const char *name)
{
        unsigned char md[32];
        unsigned int len;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
        EVP_DigestUpdate(ctx, "imgtool-sysusers:", 17);
        EVP_DigestUpdate(ctx, name, strlen(name));
        EVP_DigestFinal_ex(ctx, md, &len);
        EVP_MD_CTX_free(ctx);
        return (unsigned)md[0] << 24 | (unsigned)md[1] << 16 | (unsigned)md[2] << 8 | md[3];
}

/* The first id free for what is needed, from the name's hash downward. */
static int hashed_id(struct users *u, const char *name, bool need_uid, bool need_gid, unsigned *out)
{
        unsigned span = SYS_ID_MAX - SYS_ID_MIN + 1, start = name_hash(name) % span;

        for (unsigned k = 0; k < span; k++) {
                unsigned id = SYS_ID_MAX - (start + k) % span;
                if ((!need_uid || !uid_taken(u, id)) && (!need_gid || !gid_taken(u, id))) {
                        *out = id;
                        return 0;
                }
        }
        return imgerr(-ENOSPC, "no free system id left in %u..%u for %s", SYS_ID_MIN, SYS_ID_MAX, name);
}

/* Entries not yet allocated hold UINT32_MAX, which no id equals. */
static bool try_gid(struct users *u, struct group *g, long id)
{
        if (id < 0 || (id == 0 && strcmp(g->name, "root")) || gid_taken(u, (unsigned)id))
                return false;
        g->gid = (unsigned)id;
        return true;
}

static bool try_uid(struct users *u, struct account *a, long id)
{
        if (id < 0 || (id == 0 && strcmp(a->name, "root")) || uid_taken(u, (unsigned)id))
                return false;
        a->uid = (unsigned)id;
        return true;
}

static int allocate(struct users *u)
{
        int r;

        /* Fixed and previous ids first, so hashing never takes them. */
        for (size_t i = 0; i < u->n_grp; i++) {
                struct group *g = &u->grp[i];
                if (g->base)
                        continue;
                if (!try_gid(u, g, previous_id(u->prev_groups, g->name)) && !g->from_user)
                        try_gid(u, g, g->want);
        }
        for (size_t i = 0; i < u->n_acc; i++) {
                struct account *a = &u->acc[i];
                if (a->base)
                        continue;
                if (!try_uid(u, a, previous_id(u->prev_users, a->name)))
                        try_uid(u, a, a->want_uid);
        }
        /* A user's own group takes the user's number when it can. */
        for (size_t i = 0; i < u->n_grp; i++) {
                struct group *g = &u->grp[i];
                struct account *a = find_acc(u, g->name);
                if (g->gid == UINT32_MAX && g->from_user && a && a->uid != UINT32_MAX)
                        try_gid(u, g, a->uid);
        }
        /* The rest by the hash of the name, in name order. */
        for (size_t i = 0; i < u->n_acc; i++) {
                struct account *a = &u->acc[i];
                struct group *g = find_grp(u, a->name);
                bool own = g && g->from_user && g->gid == UINT32_MAX;
                unsigned id = 0;

                if (a->uid != UINT32_MAX)
                        continue;
                if ((r = hashed_id(u, a->name, true, own, &id)) < 0)
                        return r;
                a->uid = id;
                if (own)
                        g->gid = id;
        }
        for (size_t i = 0; i < u->n_grp; i++) {
                struct group *g = &u->grp[i];
                unsigned id = 0;
                if (g->gid != UINT32_MAX)
                        continue;
                if ((r = hashed_id(u, g->name, false, true, &id)) < 0)
                        return r;
                g->gid = id;
        }
        /* Primary groups. */
        for (size_t i = 0; i < u->n_acc; i++) {
                struct account *a = &u->acc[i];
                struct group *g;
                if (a->base)
                        continue;
                if (a->want_gid >= 0) {
                        a->gid = (unsigned)a->want_gid;
                        continue;
                }
                g = find_grp(u, a->group);
                if (!g)
                        return imgerr(-ENOENT, "user %s: primary group %s does not exist", a->name, a->group);
                a->gid = g->gid;
        }
        return 0;
}

static int acc_cmp(const void *a, const void *b)
{
        return strcmp(((const struct account *)a)->name, ((const struct account *)b)->name);
}

static int grp_cmp(const void *a, const void *b)
{
        return strcmp(((const struct group *)a)->name, ((const struct group *)b)->name);
}

static int apply_members(struct users *u, struct membership *m)
{
        for (size_t i = 0; m->pairs && m->pairs[i] && m->pairs[i + 1]; i += 2) {
                struct group *g = find_grp(u, m->pairs[i + 1]);
                if (!g) {
                        g = add_grp(u, m->pairs[i + 1]);
                        if (!g)
                                return -ENOMEM;
                }
                if (!strv_contains(g->members, m->pairs[i]) && strv_pushf(&g->members, "%s", m->pairs[i]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* ---- rendering -------------------------------------------------------- */

static void members_text(FILE *f, const struct group *g)
{
        for (size_t k = 0; g->members && g->members[k]; k++)
                fprintf(f, "%s%s", k ? "," : "", g->members[k]);
}

/* A base group line with members added by 'm' lines. */
static void base_group_line(FILE *f, const struct users *u, const char *line, size_t len)
{
        const char *colon = memchr(line, ':', len);
        _cleanup_free_ char *name = colon ? strndup(line, (size_t)(colon - line)) : NULL;
        const struct group *g = name ? find_grp(u, name) : NULL;

        fwrite(line, 1, len, f);
        if (g && g->members) {
                bool empty = len && line[len - 1] == ':';
                for (size_t k = 0; g->members[k]; k++)
                        fprintf(f, "%s%s", empty && k == 0 ? "" : ",", g->members[k]);
        }
        fputc('\n', f);
}

static void render_base(FILE *f, const struct users *u, enum users_file which)
{
        const char *p = u->base[which], *end = p ? p + u->base_len[which] : NULL;

        while (p && p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
                if (which == USERS_GROUP || which == USERS_GSHADOW)
                        base_group_line(f, u, p, len);
                else {
                        fwrite(p, 1, len, f);
                        fputc('\n', f);
                }
                p += len + 1;
        }
}

static bool has_additions(const struct users *u)
{
        for (size_t i = 0; i < u->n_acc; i++)
                if (!u->acc[i].base)
                        return true;
        for (size_t i = 0; i < u->n_grp; i++)
                if (!u->grp[i].base || u->grp[i].members)
                        return true;
        return false;
}

static int render(struct users *u, enum users_file which)
{
        FILE *f;
        bool fresh = !u->shipped[which];

        f = open_memstream(&u->out[which], &u->out_len[which]);
        if (!f)
                return -ENOMEM;
        render_base(f, u, which);
        /* A file made from nothing gets root, as every system has. */
        const struct account *ra = find_acc(u, "root");
        const struct group *rg = find_grp(u, "root");
        bool root_from_lines = which == USERS_PASSWD || which == USERS_SHADOW ? ra && !ra->base : rg && !rg->base;
        if (fresh && !u->base[which] && !root_from_lines) {
                if (which == USERS_PASSWD)
                        fputs("root:x:0:0:root:/root:/bin/sh\n", f);
                else if (which == USERS_GROUP)
                        fputs("root:x:0:\n", f);
                else if (which == USERS_SHADOW)
                        fputs("root:!*:::::::\n", f);
                else
                        fputs("root:!*::\n", f);
        }
        for (size_t i = 0; i < u->n_acc && (which == USERS_PASSWD || which == USERS_SHADOW); i++) {
                const struct account *a = &u->acc[i];
                /* a shadow file made from nothing covers every user */
                if (a->base && !(which == USERS_SHADOW && fresh && strcmp(a->name, "root")))
                        continue;
                if (which == USERS_PASSWD)
                        fprintf(f, "%s:x:%u:%u:%s:%s:%s\n", a->name, a->uid, a->gid, a->gecos, a->home, a->shell);
                else
                        fprintf(f, "%s:!*:::::::\n", a->name);
        }
        for (size_t i = 0; i < u->n_grp && (which == USERS_GROUP || which == USERS_GSHADOW); i++) {
                const struct group *g = &u->grp[i];
                if (g->base && !(which == USERS_GSHADOW && fresh && strcmp(g->name, "root")))
                        continue;
                if (which == USERS_GROUP)
                        fprintf(f, "%s:x:%u:", g->name, g->gid);
                else
                        fprintf(f, "%s:!*::", g->name);
                members_text(f, g);
                fputc('\n', f);
        }
        return fclose(f) == 0 ? 0 : -ENOMEM;
}

/* ---- the whole ------------------------------------------------------- */

/* [Users] AllowPrivileged=: USER:GROUP pairs, neither side empty. */
static int check_allow(const struct layout *l)
{
        for (char **a = l ? l->users_allow : NULL; a && *a; a++) {
                const char *colon = strchr(*a, ':');
                if (!colon || colon == *a || !colon[1] || strchr(colon + 1, ':'))
                        return imgerr(-EINVAL, "%s: [Users] AllowPrivileged=%s: expected USER:GROUP", l->path, *a);
        }
        return 0;
}

/* Everything after the packages' files were read (s: their provides; NULL
 * for users_build_text). */
static int build_rest(struct users *u, struct reading *rd, const struct pkgset *s)
{
        struct membership m = { NULL };
        int r = check_allow(u->l);

        if (r >= 0)
                r = passwords_check(u->l);

        if (r >= 0 && u->l && u->l->users_previous)
                r = read_previous(u, u->l->users_previous);
        if (r >= 0 && (r = parse_base(u, USERS_PASSWD)) >= 0)
                r = parse_base(u, USERS_GROUP);
        if (rd->n)
                qsort(rd->files, rd->n, sizeof(*rd->files), file_name_cmp);
        for (size_t i = 0; r >= 0 && i < rd->n; i++)
                r = sysusers_text(u, &m, rd->files[i].text, rd->files[i].where);
        for (size_t i = 0; r >= 0 && s && i < s->count; i++)
                r = provides_lines(u, &m, s->pkgs[i]);
        if (r >= 0) {
                /* name order makes allocation independent of package order */
                if (u->n_acc)
                        qsort(u->acc, u->n_acc, sizeof(*u->acc), acc_cmp);
                if (u->n_grp)
                        qsort(u->grp, u->n_grp, sizeof(*u->grp), grp_cmp);
                r = apply_members(u, &m);
        }
        if (r >= 0) {
                if (u->n_grp)
                        qsort(u->grp, u->n_grp, sizeof(*u->grp), grp_cmp);
                r = allocate(u);
        }
        for (int f = 0; r >= 0 && f < USERS_FILE_COUNT && (has_additions(u) || passwords_any(u->l)); f++)
                r = render(u, (enum users_file)f);
        if (r >= 0 && passwords_any(u->l))
                r = passwords_apply(u->l, &u->out[USERS_SHADOW], &u->out_len[USERS_SHADOW]);
        strv_free(m.pairs);
        return r;
}

static int build_finish(struct users *u, struct reading *rd, int r, struct users **out)
{
        for (size_t i = 0; i < rd->n; i++) {
                free(rd->files[i].name);
                free(rd->files[i].text);
                free(rd->files[i].where);
        }
        free(rd->files);
        if (r < 0) {
                users_free(u);
                return r;
        }
        *out = u;
        return 0;
}

int users_build(const struct layout *l, const struct pkgset *s, int64_t epoch, struct users **out)
{
        struct users *u = calloc(1, sizeof(*u));
        struct reading rd = { .u = u };
        int r;

        if (!u)
                return -ENOMEM;
        u->l = l;
        r = pkgread_files(s, want_users_file, got_users_file, MAX_READ, &rd);
        if (r >= 0)
                r = build_rest(u, &rd, s);
        return build_finish(u, &rd, r, out);
}

int users_build_text(const struct layout *l, const char *sysusers, const char *passwd, const char *group,
                     struct users **out)
{
        struct users *u = calloc(1, sizeof(*u));
        struct reading rd = { .u = u };
        const char *base[] = { [USERS_PASSWD] = passwd, [USERS_GROUP] = group };
        int r = 0;

        if (!u)
                return -ENOMEM;
        u->l = l;
        for (int f = USERS_PASSWD; f <= USERS_GROUP && r >= 0; f++)
                if (base[f]) {
                        u->shipped[f] = true;
                        u->base_len[f] = strlen(base[f]);
                        if (!(u->base[f] = strdup(base[f])))
                                r = -ENOMEM;
                }
        char *text = r >= 0 ? strdup(sysusers) : NULL;
        if (r >= 0 && !text)
                r = -ENOMEM;
        if (r >= 0 && (r = got_users_file("/usr/lib/sysusers.d/text.conf", "text", text, strlen(text), &rd)) >= 0)
                r = build_rest(u, &rd, NULL);
        return build_finish(u, &rd, r, out);
}

void users_free(struct users *u)
{
        if (!u)
                return;
        for (size_t i = 0; i < u->n_acc; i++) {
                free(u->acc[i].name);
                free(u->acc[i].gecos);
                free(u->acc[i].home);
                free(u->acc[i].shell);
                free(u->acc[i].group);
        }
        for (size_t i = 0; i < u->n_grp; i++) {
                free(u->grp[i].name);
                strv_free(u->grp[i].members);
        }
        for (int f = 0; f < USERS_FILE_COUNT; f++) {
                free(u->base[f]);
                free(u->out[f]);
        }
        free(u->acc);
        free(u->grp);
        strv_free(u->notes);
        strv_free(u->allowed);
        strv_free(u->lock_allowed);
        strv_free(u->prev_users);
        strv_free(u->prev_groups);
        free(u);
}

bool users_uid(const struct users *u, const char *name, unsigned *id)
{
        const struct account *a = u ? find_acc(u, name) : NULL;
        if (!a || a->uid == UINT32_MAX)
                return false;
        *id = a->uid;
        return true;
}

bool users_gid(const struct users *u, const char *name, unsigned *id)
{
        const struct group *g = u ? find_grp(u, name) : NULL;
        if (!g || g->gid == UINT32_MAX)
                return false;
        *id = g->gid;
        return true;
}

const char *users_content(const struct users *u, enum users_file f, size_t *len, bool *shipped)
{
        *shipped = u && u->shipped[f];
        *len = u && u->out[f] ? u->out_len[f] : 0;
        return u ? u->out[f] : NULL;
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names are valid by construction (valid_name: no tab, no newline), so
 * the lock carries them as they are. */
void users_write_lock(const struct users *u, FILE *f)
{
        for (size_t i = 0; u && i < u->n_acc; i++)
                if (!u->acc[i].base)
                        fprintf(f, "@user\t%s\t%u\n", u->acc[i].name, u->acc[i].uid);
        for (size_t i = 0; u && i < u->n_grp; i++)
                if (!u->grp[i].base)
                        fprintf(f, "@group\t%s\t%u\n", u->grp[i].name, u->grp[i].gid);
        if (u && u->allowed) {
                qsort(u->allowed, strv_length(u->allowed), sizeof(char *), str_cmp);
                for (char **p = u->allowed; *p; p++) {
                        const char *colon = strchr(*p, ':');
                        fprintf(f, "@privileged\t%.*s\t%s\n", (int)(colon - *p), *p, colon + 1);
                }
        }
}

char *const *users_notes(const struct users *u)
{
        return u ? u->notes : NULL;
}

size_t users_count_created(const struct users *u)
{
        size_t n = 0;
        for (size_t i = 0; u && i < u->n_acc; i++)
                n += !u->acc[i].base;
        for (size_t i = 0; u && i < u->n_grp; i++)
                n += !u->grp[i].base;
        return n;
}

int users_register(const struct users *u, struct owners *o)
{
        int r = 0;

        for (size_t i = 0; u && r >= 0 && i < u->n_acc; i++)
                if (!u->acc[i].base)
                        r = owners_add(o, OWNERS_PASSWD, u->acc[i].name, u->acc[i].uid);
        for (size_t i = 0; u && r >= 0 && i < u->n_grp; i++)
                if (!u->grp[i].base)
                        r = owners_add(o, OWNERS_GROUP, u->grp[i].name, u->grp[i].gid);
        return r;
}
