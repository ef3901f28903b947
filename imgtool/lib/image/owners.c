#include "image/owners.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"

struct name_id {
        char *name;
        unsigned id;
};

struct table {
        struct name_id *v;
        size_t n, cap;
};

struct owners {
        struct table file[OWNERS_DB_COUNT];    /* from the image's files */
        struct table extra[OWNERS_DB_COUNT];   /* owners_add() */
};

static void table_clear(struct table *t)
{
        for (size_t i = 0; i < t->n; i++)
                free(t->v[i].name);
        free(t->v);
        memset(t, 0, sizeof(*t));
}

static int table_push(struct table *t, const char *name, size_t len, unsigned id)
{
        char *s;

        if (GROW(t->v, t->n, t->cap, 32) < 0)
                return -ENOMEM;
        s = strndup(name, len);
        if (!s)
                return -ENOMEM;
        t->v[t->n++] = (struct name_id){ s, id };
        return 0;
}

/* First match wins, as getpwnam() reads the file top down. */
static bool table_find(const struct table *t, const char *name, unsigned *id)
{
        for (size_t i = 0; i < t->n; i++)
                if (!strcmp(t->v[i].name, name)) {
                        *id = t->v[i].id;
                        return true;
                }
        return false;
}

int owners_new(struct owners **out)
{
        *out = calloc(1, sizeof(**out));
        return *out ? 0 : -ENOMEM;
}

void owners_free(struct owners *o)
{
        if (!o)
                return;
        for (int i = 0; i < OWNERS_DB_COUNT; i++) {
                table_clear(&o->file[i]);
                table_clear(&o->extra[i]);
        }
        free(o);
}

int owners_db_of_path(const char *path)
{
        if (!strcmp(path, "/etc/passwd"))
                return OWNERS_PASSWD;
        if (!strcmp(path, "/etc/group"))
                return OWNERS_GROUP;
        return -1;
}

/* "name:password:id:..." (passwd and group alike): name and id of one
 * line, or false for a line the C library would skip. */
static bool parse_line(const char *p, const char *eol, size_t *name_len, unsigned *id)
{
        const char *c1 = memchr(p, ':', (size_t)(eol - p)), *c2, *q;
        unsigned long v = 0;

        if (!c1 || c1 == p || *p == '#' || *p == '+' || *p == '-')
                return false;
        c2 = memchr(c1 + 1, ':', (size_t)(eol - c1 - 1));
        if (!c2 || c2 + 1 >= eol)
                return false;
        for (q = c2 + 1; q < eol && *q != ':'; q++) {
                if (*q < '0' || *q > '9')
                        return false;
                v = v * 10 + (unsigned long)(*q - '0');
                if (v > 0xfffffffeUL)   /* (uid_t)-1 is "no owner" */
                        return false;
        }
        if (q == c2 + 1)
                return false;
        *name_len = (size_t)(c1 - p);
        *id = (unsigned)v;
        return true;
}

int owners_set_db(struct owners *o, enum owners_db which, const char *text, size_t len)
{
        struct table *t = &o->file[which];
        const char *p = text, *end = text ? text + len : NULL;

        table_clear(t);
        while (p && p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                size_t nlen;
                unsigned id;

                if (!eol)
                        eol = end;
                if (parse_line(p, eol, &nlen, &id) && !memchr(p, 0, nlen) &&
                    table_push(t, p, nlen, id) < 0)
                        return -ENOMEM;
                p = eol + 1;
        }
        return 0;
}

int owners_add(struct owners *o, enum owners_db which, const char *name, unsigned id)
{
        return table_push(&o->extra[which], name, strlen(name), id);
}

static bool lookup(const struct owners *o, enum owners_db which, const char *name, unsigned *id)
{
        if (!strcmp(name, "root")) {
                *id = 0;
                return true;
        }
        return table_find(&o->file[which], name, id) || table_find(&o->extra[which], name, id);
}

void owners_resolve(const struct owners *o, const char *user, const char *group, mode_t mode,
                    struct owner *out)
{
        unsigned id;

        out->mode = mode;
        out->unknown_user = !user || !lookup(o, OWNERS_PASSWD, user, &id);
        out->uid = out->unknown_user ? 0 : id;
        if (out->unknown_user)
                out->mode &= ~(mode_t)S_ISUID;
        out->unknown_group = !group || !lookup(o, OWNERS_GROUP, group, &id);
        out->gid = out->unknown_group ? 0 : id;
        if (out->unknown_group)
                out->mode &= ~(mode_t)S_ISGID;
}
