/* Triggers from a package header (rpmtrig.h). */
#include "rpm/rpmtrig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rpm/header.h>
#include <rpm/rpmds.h>
#include <rpm/rpmtd.h>

#include "base/util.h"

static const struct {
        rpmTagVal name, version, flags, index, scripts, progs, priorities;
} tags[] = {
        [RPMTRIG_NORMAL] = { RPMTAG_TRIGGERNAME, RPMTAG_TRIGGERVERSION, RPMTAG_TRIGGERFLAGS, RPMTAG_TRIGGERINDEX,
                             RPMTAG_TRIGGERSCRIPTS, RPMTAG_TRIGGERSCRIPTPROG, 0 },
        [RPMTRIG_FILE] = { RPMTAG_FILETRIGGERNAME, RPMTAG_FILETRIGGERVERSION, RPMTAG_FILETRIGGERFLAGS,
                           RPMTAG_FILETRIGGERINDEX, RPMTAG_FILETRIGGERSCRIPTS, RPMTAG_FILETRIGGERSCRIPTPROG,
                           RPMTAG_FILETRIGGERPRIORITIES },
        [RPMTRIG_TRANSFILE] = { RPMTAG_TRANSFILETRIGGERNAME, RPMTAG_TRANSFILETRIGGERVERSION,
                                RPMTAG_TRANSFILETRIGGERFLAGS, RPMTAG_TRANSFILETRIGGERINDEX,
                                RPMTAG_TRANSFILETRIGGERSCRIPTS, RPMTAG_TRANSFILETRIGGERSCRIPTPROG,
                                RPMTAG_TRANSFILETRIGGERPRIORITIES },
};

/* The header's array for tag, or count 0 when absent. */
static void get(Header h, rpmTagVal tag, struct rpmtd_s *td)
{
        rpmtdReset(td);
        if (tag)
                headerGet(h, tag, td, HEADERGET_MINMEM);
}

static int read_scripts(Header h, enum rpmtrig_type type, struct rpmtrigs *t)
{
        struct rpmtd_s sc, pr, pri;
        int r = 0;

        get(h, tags[type].scripts, &sc);
        get(h, tags[type].progs, &pr);
        get(h, tags[type].priorities, &pri);
        t->ns = rpmtdCount(&pr);
        if (rpmtdCount(&sc) > t->ns || (tags[type].priorities && rpmtdCount(&pri) != t->ns)) {
                r = -EBADMSG;
                goto out;
        }
        t->s = calloc(t->ns ? t->ns : 1, sizeof(*t->s));
        if (!t->s) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < t->ns; i++) {
                rpmtdSetIndex(&pr, (int)i);
                t->s[i].prog = rpmtdGetString(&pr);
                t->s[i].body = "";
                if (i < rpmtdCount(&sc)) {
                        rpmtdSetIndex(&sc, (int)i);
                        t->s[i].body = rpmtdGetString(&sc) ? rpmtdGetString(&sc) : "";
                }
                t->s[i].priority = 1000000;
                if (tags[type].priorities) {
                        rpmtdSetIndex(&pri, (int)i);
                        t->s[i].priority = *rpmtdGetUint32(&pri);
                }
                if (!t->s[i].prog)
                        t->s[i].prog = "/bin/sh";
        }
out:
        rpmtdFreeData(&sc);
        rpmtdFreeData(&pr);
        rpmtdFreeData(&pri);
        return r;
}

int rpmtrig_read(const struct rpmpkg *p, enum rpmtrig_type type, struct rpmtrigs *out)
{
        Header h = rpmpkg_header(p);
        struct rpmtd_s nm, ver, fl, ix;
        int r;

        memset(out, 0, sizeof(*out));
        get(h, tags[type].name, &nm);
        get(h, tags[type].version, &ver);
        get(h, tags[type].flags, &fl);
        get(h, tags[type].index, &ix);
        out->n = rpmtdCount(&nm);
        r = read_scripts(h, type, out);
        if (r >= 0 && (rpmtdCount(&ix) != out->n || rpmtdCount(&fl) != out->n ||
                       (rpmtdCount(&ver) && rpmtdCount(&ver) != out->n)))
                r = -EBADMSG;
        if (r >= 0 && !(out->e = calloc(out->n ? out->n : 1, sizeof(*out->e))))
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < out->n; i++) {
                struct rpmtrig_entry *e = &out->e[i];
                rpmtdSetIndex(&nm, (int)i);
                rpmtdSetIndex(&fl, (int)i);
                rpmtdSetIndex(&ix, (int)i);
                e->name = rpmtdGetString(&nm);
                e->flags = *rpmtdGetUint32(&fl);
                e->tix = *rpmtdGetUint32(&ix);
                e->evr = "";
                if (rpmtdCount(&ver)) {
                        rpmtdSetIndex(&ver, (int)i);
                        e->evr = rpmtdGetString(&ver) ? rpmtdGetString(&ver) : "";
                }
                if (!e->name || e->tix >= out->ns)
                        r = -EBADMSG;
        }
        rpmtdFreeData(&nm);
        rpmtdFreeData(&ver);
        rpmtdFreeData(&fl);
        rpmtdFreeData(&ix);
        if (r < 0) {
                rpmtrig_free(out);
                if (r == -EBADMSG)
                        r = imgerr(r, "%s: its header's trigger tables disagree (a damaged or hand-made package)",
                                   rpmpkg_path(p));
        }
        return r;
}

void rpmtrig_free(struct rpmtrigs *t)
{
        free(t->e);
        free(t->s);
        memset(t, 0, sizeof(*t));
}

bool rpmtrig_version_matches(const struct rpmpkg *source, const struct rpmtrig_entry *e)
{
        rpmds ds = rpmdsSingle(RPMTAG_REQUIRENAME, e->name, e->evr, e->flags & RPMSENSE_SENSEMASK);
        bool m = ds && rpmdsAnyMatchesDep(rpmpkg_header(source), ds, 1);

        rpmdsFree(ds);
        return m;
}
