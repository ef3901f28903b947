/* The ordered run list of Scriptlets=run: every install scriptlet, trigger
 * and file trigger of a package set, in the order rpm 4.18 runs them in
 * one transaction of first installs, with rpm's arguments and, for file
 * triggers, the matched paths rpm writes to their stdin
 * (docs/scriptlets.md, "Order").  The guest script (scriptlets.c) runs
 * the list as it is.
 *
 * rpm's rules, from lib/psm.c, lib/rpmtriggers.c and lib/transaction.c:
 *   every %pretrans (install order); then per package P:
 *     %triggerprein of installed packages on P, P's own %triggerprein on
 *       installed packages;
 *     P's %pre; P enters the database;
 *     %filetriggerin with priority >= 10000: those of installed packages
 *       (P included) matching P's files, by priority, install order,
 *       index; then P's own matching files of packages installed before P;
 *     P's %post;
 *     %triggerin of installed packages (P included) on P, P's own
 *       %triggerin on installed packages;
 *     %filetriggerin with priority < 10000, as above;
 *   every %posttrans; then per package its %transfiletriggerin by
 *   priority, on the files of the whole set.
 * A trigger gets $1 = instances of its own package, $2 = of the package
 * that set it off; a file trigger gets $1 = 0 and the paths on stdin. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpm/pkgset.h"

struct scriptlet {
        size_t pkg;             /* the package whose script it is */
        const char *kind;       /* "%pre", "%triggerin", "%filetriggerin", ... */
        char **prog;            /* interpreter and its arguments */
        char *body;             /* NULL: "-p /path" alone (no script file, no arguments) */
        int arg1, arg2;         /* after the script file; -1: not passed */
        char *input;            /* file triggers: the matched paths, a line each; NULL: /dev/null */
        char *label;            /* "NEVRA %kind", for triggers with what set it off */
        bool fatal;             /* %pretrans, %pre: a failure stops the transaction */
        bool lua;               /* rpm's Lua: prog is the guest's imgtool-lua */
        int status;             /* the run's: -1 did not finish */
        int64_t done_sec;       /* the run's: its marker's ctime */
        uint32_t done_nsec;
};

/* The list for set (install order); *n 0 when nothing runs.  A script in
 * rpm's Lua (`-p <lua>`) runs in imgtool-lua, which the initramfs
 * carries (docs/scriptlets.md, "Lua scriptlets"). */
int scriptorder_plan(const struct pkgset *set, struct scriptlet **out, size_t *n);
void scriptorder_free(struct scriptlet *v, size_t n);
