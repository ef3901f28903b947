#include "rpm/composedb.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <fcntl.h>
#include <libgen.h>
#include <rpm/header.h>
#include <rpm/rpmcallback.h>
#include <rpm/rpmio.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmprob.h>
#include <rpm/rpmts.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "rpm/pkgset.h"
#include "base/util.h"

#define DEFAULT_DBPATH "/var/lib/rpm"

/* Expand the few macros rpm's own macros file uses in %_dbpath. */
static int expand_dbpath(const char *v, size_t len, char **out)
{
        static const struct { const char *name, *value; } known[] = {
                { "%{_usr}", "/usr" }, { "%{_var}", "/var" }, { "%{_localstatedir}", "/var" },
                { "%{_prefix}", "/usr" },
        };
        char buf[PATH_MAX] = "";
        size_t o = 0;

        for (size_t i = 0; i < len;) {
                bool done = false;
                for (size_t k = 0; k < sizeof(known) / sizeof(known[0]) && !done; k++) {
                        size_t kl = strlen(known[k].name);
                        if (len - i >= kl && !memcmp(v + i, known[k].name, kl)) {
                                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s", known[k].value);
                                i += kl;
                                done = true;
                        }
                }
                if (done)
                        continue;
                if (v[i] == '%' || o + 1 >= sizeof(buf))
                        return -EINVAL;   /* a macro we do not know: use the default */
                buf[o++] = v[i++];
                buf[o] = 0;
        }
        if (buf[0] != '/' || strstr(buf, ".."))
                return -EINVAL;
        *out = strdup(buf);
        return *out ? 0 : -ENOMEM;
}

int composedb_dbpath(const char *macros, char **out)
{
        const char *p = macros;

        while (p && (p = strstr(p, "%_dbpath"))) {
                bool line_start = p == macros || p[-1] == '\n';
                const char *v = p + 8, *eol;
                p += 8;
                if (!line_start || (*v != ' ' && *v != '\t'))
                        continue;
                while (*v == ' ' || *v == '\t')
                        v++;
                eol = v + strcspn(v, "\n");
                while (eol > v && (eol[-1] == ' ' || eol[-1] == '\t'))
                        eol--;
                if (expand_dbpath(v, (size_t)(eol - v), out) == 0)
                        return 0;
        }
        *out = strdup(DEFAULT_DBPATH);
        return *out ? 0 : -ENOMEM;
}

/* rpm reopens each package during the transaction; the key is our rpmpkg. */
static void *open_callback(const void *hdr, const rpmCallbackType what, const rpm_loff_t amount,
                           const rpm_loff_t total, fnpyKey key, rpmCallbackData data)
{
        static FD_t fd;
        struct rpmpkg *p = (struct rpmpkg *)key;

        switch (what) {
        case RPMCALLBACK_INST_OPEN_FILE:
                fd = Fopen(rpmpkg_db_source(p), "r.ufdio");
                return fd;
        case RPMCALLBACK_INST_CLOSE_FILE:
                if (fd)
                        Fclose(fd);
                fd = NULL;
                return NULL;
        default:
                return NULL;
        }
}

static int run_justdb(struct rpmpkg *const *pkgs, size_t count, int64_t tid, const char *dbdir)
{
        rpmts ts;
        rpmps ps = NULL;
        char epoch[32], *old_sde;
        int r = 0;

        /* rpm takes the transaction id (INSTALLTID, INSTALLTIME) from
         * SOURCE_DATE_EPOCH when set, else from the clock: pin it. */
        old_sde = getenv("SOURCE_DATE_EPOCH");
        old_sde = old_sde ? strdup(old_sde) : NULL;
        snprintf(epoch, sizeof(epoch), "%lld", (long long)tid);
        setenv("SOURCE_DATE_EPOCH", epoch, 1);
        ts = rpmtsCreate();

        rpmPushMacro(NULL, "_dbpath", NULL, dbdir, RMIL_CMDLINE);
        rpmPushMacro(NULL, "__plugindir", NULL, "/nonexistent", RMIL_CMDLINE);
        rpmtsSetRootDir(ts, "/");
        rpmtsSetFlags(ts, RPMTRANS_FLAG_JUSTDB | RPMTRANS_FLAG_NOSCRIPTS | RPMTRANS_FLAG_NOTRIGGERS);
        rpmtsSetVSFlags(ts, RPMVSF_MASK_NOSIGNATURES);
        rpmtsSetNotifyCallback(ts, open_callback, NULL);
        for (size_t i = 0; i < count; i++)
                rpmtsAddInstallElement(ts, rpmpkg_header(pkgs[i]), pkgs[i], 0, NULL);
        rpmtsOrder(ts);
        /* RPMPROB_FILTER_VERIFY: rpm would read every package again to check
         * its payload digest; rpmpkg checked the header digests when it
         * opened them and every file against its header digest while
         * streaming, and the database is made from those same headers. */
        if (rpmtsRun(ts, NULL, RPMPROB_FILTER_VERIFY | RPMPROB_FILTER_IGNOREOS | RPMPROB_FILTER_IGNOREARCH |
                                   RPMPROB_FILTER_DISKSPACE | RPMPROB_FILTER_DISKNODES |
                                   RPMPROB_FILTER_REPLACEPKG | RPMPROB_FILTER_OLDPACKAGE |
                                   RPMPROB_FILTER_REPLACENEWFILES | RPMPROB_FILTER_REPLACEOLDFILES) != 0) {
                ps = rpmtsProblems(ts);
                r = imgerr(-EIO, "cannot write the image's rpm database (%d problems)", rpmpsNumProblems(ps));
        }
        if (old_sde)
                setenv("SOURCE_DATE_EPOCH", old_sde, 1);
        else
                unsetenv("SOURCE_DATE_EPOCH");
        free(old_sde);
        rpmpsFree(ps);
        rpmtsFree(ts);
        rpmPopMacro(NULL, "__plugindir");
        rpmPopMacro(NULL, "_dbpath");
        return r;
}

/* rpm leaves its sqlite database in WAL mode, which SQLite cannot open on
 * read-only media; an immutable image needs the rollback-journal mode. */
static int set_rollback_journal(const char *dbfile)
{
        sqlite3 *db = NULL;
        char *err = NULL;
        int rc = sqlite3_open_v2(dbfile, &db, SQLITE_OPEN_READWRITE, NULL);

        if (rc == SQLITE_OK)
                rc = sqlite3_exec(db, "PRAGMA journal_mode=DELETE", NULL, NULL, &err);
        if (rc != SQLITE_OK) {
                int r = imgerr(-EIO, "%s: cannot set the journal mode: %s", dbfile,
                               err ? err : sqlite3_errmsg(db));
                sqlite3_free(err);
                sqlite3_close(db);
                return r;
        }
        return sqlite3_close(db) == SQLITE_OK ? 0 : imgerr(-EIO, "%s: cannot close", dbfile);
}

/* A throwaway database folder under TMPDIR (/dev/shm when unset: tmpfs,
 * so sqlite's many small writes cost no filesystem journal), removed whole
 * and on signals (cleanup.h). */
static int make_dbdir(char **out)
{
        return scratch_dir_make("imgtool-rpmdb", out);
}

static void remove_dbdir(const char *dir)
{
        scratch_dir_remove(dir);
}

static int build_in(struct rpmpkg *const *pkgs, size_t count, int64_t tid, const char *dir,
                    char **dbfile)
{
        int r = rpmpkg_init();

        if (r >= 0)
                r = run_justdb(pkgs, count, tid, dir);
        if (r >= 0 && asprintf(dbfile, "%s/rpmdb.sqlite", dir) < 0)
                r = -ENOMEM;
        if (r >= 0 && access(*dbfile, R_OK) < 0)
                r = imgerr(-EIO, "rpm wrote no database in %s (is rpm's sqlite backend configured?)", dir);
        if (r >= 0)
                r = set_rollback_journal(*dbfile);
        return r;
}

int composedb_build(struct rpmpkg *const *pkgs, size_t count, int64_t tid, char **dbfile)
{
        _cleanup_free_ char *dir = NULL;
        int r = make_dbdir(&dir);

        if (r < 0)
                return r;
        r = build_in(pkgs, count, tid, dir, dbfile);
        if (r < 0)
                remove_dbdir(dir);
        return r;
}

/* ---- in a child process --------------------------------------------------- */

/* Every connection rpm opens in the builder child: the database is private
 * and thrown away, so no file locks (rpm would take and drop them ~50,000
 * times), and a page cache that holds all of it.  Neither changes a byte
 * of the file. */
static int tune_connection(sqlite3 *db, char **err, const struct sqlite3_api_routines *api)
{
        sqlite3_exec(db, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-65536", NULL, NULL, NULL);
        return SQLITE_OK;
}

struct composedb_job {
        pid_t pid;
        int fd;               /* the child's error message, if any */
        char *dir;
};

int composedb_start(struct rpmpkg *const *pkgs, size_t count, int64_t tid, struct composedb_job **out)
{
        struct composedb_job *j = calloc(1, sizeof(*j));
        int fds[2], r;

        if (!j)
                return -ENOMEM;
        r = make_dbdir(&j->dir);
        if (r < 0) {
                free(j);
                return r;
        }
        r = rpmpkg_init();
        if (r < 0 || pipe2(fds, O_CLOEXEC) < 0) {
                r = r < 0 ? r : imgerr(-errno, "cannot make a pipe: %s", strerror(errno));
                goto fail;
        }
        fflush(NULL);
        j->pid = fork();
        if (j->pid < 0) {
                r = imgerr(-errno, "cannot start the rpm database builder: %s", strerror(errno));
                close(fds[0]);
                close(fds[1]);
                goto fail;
        }
        if (j->pid == 0) {
                /* the child: build, report a failure on the pipe, and leave
                 * without running the parent's exit handlers */
                char *dbfile = NULL;
                cleanup_reset_in_child();
                close(fds[0]);
                sqlite3_auto_extension((void (*)(void))tune_connection);
                r = build_in(pkgs, count, tid, j->dir, &dbfile);
                if (r < 0) {
                        const char *m = imgerr_what(r);
                        if (write(fds[1], m, strlen(m)) < 0)
                                _exit(2);
                }
                _exit(r < 0 ? 1 : 0);
        }
        cleanup_add_child(j->pid);
        close(fds[1]);
        j->fd = fds[0];
        *out = j;
        return 0;
fail:
        remove_dbdir(j->dir);
        free(j->dir);
        free(j);
        return r;
}

static int reap(struct composedb_job *j, char *msg, size_t msg_size)
{
        size_t len = 0;
        ssize_t n;
        int status;

        while (len + 1 < msg_size && (n = read(j->fd, msg + len, msg_size - 1 - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                len += (size_t)n;
        }
        msg[len] = 0;
        close(j->fd);
        while (waitpid(j->pid, &status, 0) < 0)
                if (errno != EINTR) {
                        cleanup_remove_child(j->pid);
                        return -errno;
                }
        cleanup_remove_child(j->pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int composedb_finish(struct composedb_job *j, char **dbfile)
{
        char msg[1024];
        int status = reap(j, msg, sizeof(msg)), r = 0;

        if (status != 0)
                r = imgerr(-EIO, "%s", msg[0] ? msg : "the rpm database builder failed");
        else if (asprintf(dbfile, "%s/rpmdb.sqlite", j->dir) < 0)
                r = -ENOMEM;
        if (r < 0)
                remove_dbdir(j->dir);
        free(j->dir);
        free(j);
        return r;
}

void composedb_abort(struct composedb_job *j)
{
        char msg[16];

        if (!j)
                return;
        kill(j->pid, SIGKILL);
        reap(j, msg, sizeof(msg));
        remove_dbdir(j->dir);
        free(j->dir);
        free(j);
}

void composedb_cleanup(const char *dbfile)
{
        _cleanup_free_ char *dir = strdup(dbfile);

        if (dir)
                scratch_dir_remove(dirname(dir));
}
