/* The rpm database of an image, made with librpm itself: a --justdb
 * transaction into a private dbpath, as an ordinary user, with the
 * transaction time pinned so the database is the same run after run. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "rpm/rpmpkg.h"

/* Where the image's rpm looks for its database: %_dbpath from the image's
 * /usr/lib/rpm/macros (macros text, may be NULL), else /var/lib/rpm. */
int composedb_dbpath(const char *macros, char **out);
/* Build the database of pkgs; *dbfile is the sqlite file on the host, to
 * be removed with composedb_cleanup. */
int composedb_build(struct rpmpkg *const *pkgs, size_t count, int64_t tid, char **dbfile);
void composedb_cleanup(const char *dbfile);

/* The same in a child process, so it runs beside the image writing.  Start
 * it before any other thread exists (fork); finish gives the database file
 * (remove with composedb_cleanup) or the child's error; abort stops it and
 * removes what it made. */
struct composedb_job;
int composedb_start(struct rpmpkg *const *pkgs, size_t count, int64_t tid, struct composedb_job **job);
int composedb_finish(struct composedb_job *job, char **dbfile);
void composedb_abort(struct composedb_job *job);
