/* A package's triggers and file triggers as its header holds them
 * (rpm's TRIGGER*, FILETRIGGER*, TRANSFILETRIGGER* tags), for the image
 * floor's ordering of Scriptlets=run (image/scriptorder.h).
 *
 * One trigger (index tix) has one script and one or more entries: the
 * packages it watches (normal triggers) or the path prefixes (file
 * triggers), in the header's order, which is the order rpm walks them. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpm/rpmpkg.h"

enum rpmtrig_type { RPMTRIG_NORMAL, RPMTRIG_FILE, RPMTRIG_TRANSFILE };

/* rpm's RPMSENSE_TRIGGER* bits of an entry's flags: when it fires. */
#define RPMTRIG_SENSE_IN (1u << 16)
#define RPMTRIG_SENSE_UN (1u << 17)
#define RPMTRIG_SENSE_POSTUN (1u << 18)
#define RPMTRIG_SENSE_PREIN (1u << 25)

struct rpmtrig_entry {
        const char *name;       /* package name, or path prefix */
        const char *evr;        /* "" when unversioned */
        uint32_t flags;         /* sense and comparison bits (rpmsenseFlags) */
        uint32_t tix;           /* its trigger */
};

struct rpmtrig_script {
        const char *prog;       /* rpm runs it as one word: "/bin/sh", "<lua>", "/usr/bin/x" */
        const char *body;       /* the script, "" for none */
        uint32_t priority;      /* file triggers: rpm's -P (default 1000000) */
};

struct rpmtrigs {
        struct rpmtrig_entry *e;
        size_t n;
        struct rpmtrig_script *s;   /* by tix */
        size_t ns;
};

/* The triggers of one type; an empty set when the package has none.
 * Strings point into the package's header (valid while p lives).  A
 * header whose arrays disagree in length is -EBADMSG naming the package. */
int rpmtrig_read(const struct rpmpkg *p, enum rpmtrig_type type, struct rpmtrigs *out);
void rpmtrig_free(struct rpmtrigs *t);

/* rpm's test of a trigger entry against the package that sets it off
 * (rpmdsAnyMatchesDep on its provides): the name is compared by the
 * caller, the version range here. */
bool rpmtrig_version_matches(const struct rpmpkg *source, const struct rpmtrig_entry *e);
