#include "rpm/repo.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <linux/openat2.h>
#include <solv/chksum.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/repo.h>
#include <solv/repo_repomdxml.h>
#include <solv/repo_rpmmd.h>
#include <solv/selection.h>
#include <solv/solv_xfopen.h>
#include <solv/solver.h>
#include <solv/transaction.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/filehash.h"
#include "base/parallel.h"
#include "base/util.h"

/* Checksums a repository may use: sha256 and stronger.  md5 and sha1 make
 * a substituted package cheap to forge. */
static bool strong_chksum(Id type)
{
        return type == REPOKEY_TYPE_SHA256 || type == REPOKEY_TYPE_SHA384 || type == REPOKEY_TYPE_SHA512;
}

/* The open file's digest of the given libsolv type, hex; the file is read
 * from its start and left at its start.  OpenSSL's digest, not libsolv's
 * solv_chksum: the same bytes, but libsolv's sha256 is plain C, about five
 * times slower than OpenSSL's on a CPU with SHA extensions, and every
 * package is hashed before the first file is written. */
static int fd_chksum_hex(int fd, const char *path, Id type, char **hex)
{
        const char *name = type == REPOKEY_TYPE_SHA256   ? "SHA256"
                           : type == REPOKEY_TYPE_SHA384 ? "SHA384"
                           : type == REPOKEY_TYPE_SHA512 ? "SHA512"
                                                         : NULL;

        if (!name)
                return imgerr(-EINVAL, "%s: unknown checksum type", path);
        return filehash_hex_fd(fd, path, name, hex);
}

/* Without openat2 (Linux < 5.6): component by component, no symlink at
 * all, no "..". */
static int open_walk(int dirfd, const char *rel, int flags)
{
        _cleanup_free_ char *copy = strdup(rel);
        char *save = NULL, *next;
        int fd = dup(dirfd);

        if (!copy || fd < 0) {
                if (fd >= 0)
                        close(fd);
                errno = ENOMEM;
                return -1;
        }
        for (char *c = strtok_r(copy, "/", &save); c; c = next) {
                int nfd;
                next = strtok_r(NULL, "/", &save);
                if (!strcmp(c, "..")) {
                        close(fd);
                        errno = EXDEV;
                        return -1;
                }
                nfd = openat(fd, c, next ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC : flags | O_NOFOLLOW);
                close(fd);
                if (nfd < 0)
                        return -1;
                fd = nfd;
        }
        return fd;
}

int repo_open_beneath(const char *dir, const char *rel, const char *what, int *out)
{
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        int fd;

        if (dirfd < 0)
                return imgerr(-errno, "%s: %s", dir, strerror(errno));
        if (rel[0] == '/')
                return imgerr(-EXDEV, "%s: %s '%s' leaves the repository (an absolute path)", dir, what, rel);
        /* RESOLVE_BENEATH: no "..", absolute symlink or symlink through ".." out of dir */
        fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
        if (fd < 0 && (errno == ENOSYS || errno == EPERM))   /* old kernel, or a seccomp filter */
                fd = open_walk(dirfd, rel, (int)how.flags);
        if (fd < 0 && (errno == EXDEV || errno == ELOOP))
                return imgerr(-EXDEV, "%s: %s '%s' leaves the repository (through '..' or a symlink)", dir, what,
                              rel);
        if (fd < 0)
                return imgerr(-errno, "%s/%s: %s", dir, rel, strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return imgerr(-EINVAL, "%s/%s: %s is not a regular file", dir, rel, what);
        }
        *out = fd;
        return 0;
}

/* Decompressed metadata stops at REPO_METADATA_MAX: a small primary.xml.gz
 * must not grow into gigabytes of parser memory. */
struct bounded {
        FILE *in;
        size_t left;
        bool over;
};

static ssize_t bounded_read(void *cookie, char *buf, size_t size)
{
        struct bounded *b = cookie;
        size_t n;

        if (!b->left) {
                /* at the limit: more data is an error, the end is not */
                char c;
                if (fread(&c, 1, 1, b->in) == 1) {
                        b->over = true;
                        errno = EFBIG;
                        return -1;
                }
                return 0;
        }
        n = fread(buf, 1, size < b->left ? size : b->left, b->in);
        b->left -= n;
        return n ? (ssize_t)n : ferror(b->in) ? -1 : 0;
}

static int bounded_close(void *cookie)
{
        struct bounded *b = cookie;
        return fclose(b->in);
}

/* Parse with libsolv from fd (taken), decompressing by name, at most
 * REPO_METADATA_MAX bytes. */
static int parse_bounded(Repo *repo, const char *path, int fd, bool repomd)
{
        struct bounded b = { .left = REPO_METADATA_MAX };
        cookie_io_functions_t io = { .read = bounded_read, .close = bounded_close };
        FILE *f;
        int r;

        b.in = repomd ? fdopen(fd, "r") : solv_xfopen_fd(path, fd, "r");
        if (!b.in) {
                close(fd);
                return imgerr(-EIO, "%s: cannot open (compression not supported?)", path);
        }
        f = fopencookie(&b, "r", io);
        if (!f) {
                fclose(b.in);
                return -ENOMEM;
        }
        r = repomd ? repo_add_repomdxml(repo, f, 0) : repo_add_rpmmd(repo, f, NULL, 0);
        fclose(f);
        if (b.over)
                return imgerr(-EFBIG, "%s: larger than %zu MiB decompressed (REPO_METADATA_MAX, the limit for "
                              "repository metadata)", path, REPO_METADATA_MAX >> 20);
        if (r != 0)
                return imgerr(-EBADMSG, "%s: %s%s", path, repomd ? "not a repomd.xml: " : "",
                              pool_errstr(repo->pool));
        return 0;
}

/* Where repomd.xml says the primary metadata is, and its checksum. */
static int find_primary(Repo *repo, const char **location, const unsigned char **chk, Id *chktype)
{
        Pool *pool = repo->pool;
        Dataiterator di;
        int found = 0;

        dataiterator_init(&di, pool, repo, SOLVID_META, REPOSITORY_REPOMD_TYPE, "primary", SEARCH_STRING);
        dataiterator_prepend_keyname(&di, REPOSITORY_REPOMD);
        if (dataiterator_step(&di)) {
                dataiterator_setpos_parent(&di);
                *location = pool_lookup_str(pool, SOLVID_POS, REPOSITORY_REPOMD_LOCATION);
                *chk = pool_lookup_bin_checksum(pool, SOLVID_POS, REPOSITORY_REPOMD_CHECKSUM, chktype);
                found = *location != NULL;
        }
        dataiterator_free(&di);
        return found;
}

static int load_repository(Pool *pool, const char *name, const char *dir)
{
        _cleanup_free_ char *repomd = NULL, *primary = NULL, *hex = NULL;
        const unsigned char *chk = NULL;
        const char *loc = NULL;
        Id chktype = 0;
        Repo *repo;
        int r, fd;

        if (asprintf(&repomd, "%s/repodata/repomd.xml", dir) < 0)
                return -ENOMEM;
        if (access(repomd, F_OK) < 0)
                return imgerr(-errno, "Repository=%s: cannot read %s: %s (make one with createrepo_c)",
                              name, repomd, strerror(errno));
        if ((r = repo_open_beneath(dir, "repodata/repomd.xml", "repomd.xml", &fd)) < 0)
                return r;
        repo = repo_create(pool, name);
        if ((r = parse_bounded(repo, repomd, fd, true)) < 0)
                return r;
        if (!find_primary(repo, &loc, &chk, &chktype))
                return imgerr(-EBADMSG, "%s: names no primary metadata", repomd);
        if (strstr(loc, "..") || loc[0] == '/')
                return imgerr(-EBADMSG, "%s: primary location '%s' leaves the repository", repomd, loc);
        if (asprintf(&primary, "%s/%s", dir, loc) < 0)
                return -ENOMEM;
        if (!chk)
                return imgerr(-EBADMSG, "%s: no checksum for %s", repomd, loc);
        if (!strong_chksum(chktype))
                return imgerr(-EBADMSG, "%s: %s checksum for %s (imgtool accepts sha256, sha384, sha512)", repomd,
                              solv_chksum_type2str(chktype), loc);
        if ((r = repo_open_beneath(dir, loc, "primary metadata", &fd)) < 0)
                return r;
        r = fd_chksum_hex(fd, primary, chktype, &hex);
        if (r >= 0 && strcmp(hex, pool_bin2hex(pool, chk, solv_chksum_len(chktype))))
                r = imgerr(-EBADMSG, "%s: checksum differs from repomd.xml's (repository changed or corrupt)",
                           primary);
        if (r < 0) {
                close(fd);
                return r;
        }
        /* parsed from the file whose checksum was checked */
        if ((r = parse_bounded(repo, primary, fd, false)) < 0)
                return r;
        repo->appdata = strdup(dir);
        return repo->appdata ? 0 : -ENOMEM;
}

/* Exclude=: packages whose name matches never enter the solver's view. */
static void apply_excludes(Pool *pool, const struct layout *l)
{
        Id p;

        if (!l->exclude)
                return;
        pool->considered = solv_calloc(1, sizeof(Map));
        map_init(pool->considered, pool->nsolvables);
        map_setall(pool->considered);
        FOR_POOL_SOLVABLES(p) {
                const char *name = pool_id2str(pool, pool->solvables[p].name);
                for (size_t i = 0; l->exclude[i]; i++)
                        if (!fnmatch(l->exclude[i], name, 0))
                                MAPCLR(pool->considered, p);
        }
}

static int make_jobs(Pool *pool, const struct layout *l, Queue *job)
{
        for (size_t i = 0; l->install[i]; i++) {
                Queue sel;
                int flags = SELECTION_NAME | SELECTION_PROVIDES | SELECTION_GLOB | SELECTION_DOTARCH |
                            SELECTION_CANON | SELECTION_REL;

                queue_init(&sel);
                selection_make(pool, &sel, l->install[i], flags);
                if (!sel.count) {
                        queue_free(&sel);
                        return imgerr(-ENOENT, "%s: Install=%s: no package of that name in the repositories%s",
                                      l->path, l->install[i], l->exclude ? " (or all are excluded)" : "");
                }
                for (int k = 0; k < sel.count; k += 2)
                        queue_push2(job, SOLVER_INSTALL | sel.elements[k], sel.elements[k + 1]);
                queue_free(&sel);
        }
        return 0;
}

/* The rules behind a problem (a conflict hides behind "none of the
 * providers can be installed"), as dnf lists them. */
static void explain_rules(FILE *m, Solver *solv, Id problem)
{
        const char *main = solver_problem2str(solv, problem);
        _cleanup_free_ char *first = main ? strdup(main) : NULL;
        Queue rules;
        int n = 0;

        queue_init(&rules);
        solver_findallproblemrules(solv, problem, &rules);
        for (int i = 0; i < rules.count; i++) {
                Id source, target, dep;
                SolverRuleinfo type = solver_ruleinfo(solv, rules.elements[i], &source, &target, &dep);
                const char *s = solver_problemruleinfo2str(solv, type, source, target, dep);
                if (!s || !*s || (first && !strcmp(s, first)) || type == SOLVER_RULE_JOB)
                        continue;
                fprintf(m, "%s%s", n++ ? ", " : " [because: ", s);
        }
        if (n)
                fputc(']', m);
        queue_free(&rules);
}

/* libsolv's own explanation of every problem and its solutions, one line. */
static int problems_error(const struct layout *l, Solver *solv, int nprob)
{
        char *msg = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&msg, &len);
        int r;

        if (!m)
                return -ENOMEM;
        for (Id p = 1; p <= nprob; p++) {
                Id s = 0, e, pe, rp;
                int nsol = solver_solution_count(solv, p);

                fprintf(m, "%sproblem %d: %s", p > 1 ? "; " : "", (int)p, solver_problem2str(solv, p));
                explain_rules(m, solv, p);
                for (int k = 0; (s = solver_next_solution(solv, p, s)) != 0; k++) {
                        fprintf(m, "%s", k ? " | " : " (solutions: ");
                        e = 0;
                        for (int j = 0; (e = solver_next_solutionelement(solv, p, s, e, &pe, &rp)) != 0; j++)
                                fprintf(m, "%s%s", j ? ", " : "", solver_solutionelement2str(solv, pe, rp));
                }
                if (nsol)
                        fputc(')', m);
        }
        fclose(m);
        r = imgerr(-ENOENT, "%s: the packages cannot be resolved: %s", l->path, msg);
        free(msg);
        return r;
}

static int pick_cmp(const void *a, const void *b)
{
        const struct repo_pick *x = a, *y = b;
        return strcmp(x->location, y->location);
}

/* What primary.xml says the package is: name, epoch ("" for none or 0),
 * version, release, arch, from the solvable's "[E:]V-R". */
static int pick_nevra(Pool *pool, Solvable *s, struct repo_pick *out)
{
        const char *evr = pool_id2str(pool, s->evr), *colon = strchr(evr, ':'), *dash = strrchr(evr, '-');
        const char *v = colon ? colon + 1 : evr;

        if (!dash || dash < v)
                return imgerr(-EBADMSG, "%s: %s: version '%s' has no release", (char *)s->repo->appdata,
                              pool_solvable2str(pool, s), evr);
        out->epoch = colon && strncmp(evr, "0:", 2) ? strndup(evr, (size_t)(colon - evr)) : strdup("");
        out->version = strndup(v, (size_t)(dash - v));
        out->release = strdup(dash + 1);
        out->name = strdup(pool_id2str(pool, s->name));
        out->arch = strdup(pool_id2str(pool, s->arch));
        return out->epoch && out->version && out->release && out->name && out->arch ? 0 : -ENOMEM;
}

/* What a pick's file must hash to: filled by open_pick, checked by
 * hash_picks (the packages' hashing is most of the stage before writing,
 * and no core writes yet: two threads share it). */
struct pick_check {
        Id type;
        char *want;             /* primary.xml's checksum, hex */
        char *got;              /* the file's, hex */
};

/* The picked package: its file, opened beneath the repository; its
 * checksum is checked against primary.xml's by hash_picks. */
static int open_pick(Pool *pool, Id p, struct repo_pick *out, struct pick_check *ck)
{
        Solvable *s = pool->solvables + p;
        const char *dir = s->repo->appdata, *loc = solvable_get_location(s, NULL);
        const unsigned char *chk;
        Id type = 0;
        int r;

        out->fd = -1;
        if (!loc || strstr(loc, "..") || loc[0] == '/')
                return imgerr(-EBADMSG, "%s: %s: location '%s' leaves the repository", dir,
                              pool_solvable2str(pool, s), loc ? loc : "");
        chk = solvable_lookup_bin_checksum(s, SOLVABLE_CHECKSUM, &type);
        if (!chk)
                return imgerr(-EBADMSG, "%s: %s: primary.xml records no checksum", dir, pool_solvable2str(pool, s));
        if (!strong_chksum(type))
                return imgerr(-EBADMSG, "%s: %s: primary.xml's checksum is %s (imgtool accepts sha256, sha384, "
                              "sha512)", dir, pool_solvable2str(pool, s), solv_chksum_type2str(type));
        if (asprintf(&out->path, "%s/%s", dir, loc) < 0 || !(out->repository = strdup(dir)) ||
            !(out->location = strdup(loc)))
                return -ENOMEM;
        if ((r = pick_nevra(pool, s, out)) < 0)
                return r;
        ck->type = type;
        if (!(ck->want = strdup(pool_bin2hex(pool, chk, solv_chksum_len(type)))))
                return -ENOMEM;
        return repo_open_beneath(dir, loc, "package location", &out->fd);
}

struct hash_work {
        struct repo_pick *picks;
        struct pick_check *checks;
};

/* Pick i's file against primary.xml's checksum; its sha256 too, which the
 * lockfile and the report name it by. */
static int hash_pick(size_t i, void *ctx)
{
        struct hash_work *w = ctx;
        struct pick_check *ck = &w->checks[i];
        struct repo_pick *pick = &w->picks[i];
        int r = fd_chksum_hex(pick->fd, pick->path, ck->type, &ck->got);

        if (r < 0)
                return r;
        if (strcmp(ck->got, ck->want))
                return imgerr(-EBADMSG, "%s: %s checksum differs from the repository's primary.xml "
                              "(corrupt or replaced package)", pick->path, solv_chksum_type2str(ck->type));
        if (ck->type == REPOKEY_TYPE_SHA256) {
                memcpy(pick->sha256, ck->got, 65);
                return 0;
        }
        return filehash_sha256_fd(pick->fd, pick->path, pick->sha256);
}

/* Hash every pick on this thread and one more (no core writes yet); the
 * first package in order that does not match is the one reported (a
 * location that cannot be opened is still reported before any hash is
 * taken). */
static int hash_picks(struct repo_pick *picks, struct pick_check *checks, size_t n)
{
        struct hash_work w = { .picks = picks, .checks = checks };

        return parallel_for(n, 2, hash_pick, &w);
}

static void pick_checks_free(struct pick_check *checks, size_t n)
{
        for (size_t i = 0; checks && i < n; i++) {
                free(checks[i].want);
                free(checks[i].got);
        }
        free(checks);
}

static int solve(Pool *pool, const struct layout *l, struct repo_pick **out, size_t *n)
{
        Solver *solv = NULL;
        Transaction *trans = NULL;
        Queue job;
        struct repo_pick *picks = NULL;
        struct pick_check *checks = NULL;
        size_t count = 0;
        double t0;
        int r, nprob;

        queue_init(&job);
        r = make_jobs(pool, l, &job);
        if (r < 0)
                goto out;
        solv = solver_create(pool);
        solver_set_flag(solv, SOLVER_FLAG_IGNORE_RECOMMENDED, !l->weak_deps);
        t0 = now_seconds();
        nprob = solver_solve(solv, &job);
        log_verbose("libsolv: solved %d jobs over %d solvables in %.3f s", job.count / 2, pool->nsolvables,
                    now_seconds() - t0);
        if (nprob) {
                r = problems_error(l, solv, nprob);
                goto out;
        }
        trans = solver_create_transaction(solv);
        picks = calloc(trans->steps.count ? (size_t)trans->steps.count : 1, sizeof(*picks));
        checks = calloc(trans->steps.count ? (size_t)trans->steps.count : 1, sizeof(*checks));
        if (!picks || !checks) {
                r = -ENOMEM;
                goto out;
        }
        for (int i = 0; i < trans->steps.count && r >= 0; i++) {
                r = open_pick(pool, trans->steps.elements[i], &picks[count], &checks[count]);
                count++;
        }
        if (r >= 0)
                r = hash_picks(picks, checks, count);
        if (r >= 0 && count)
                qsort(picks, count, sizeof(*picks), pick_cmp);
out:
        pick_checks_free(checks, count);
        if (r < 0) {
                repo_picks_free(picks, count);
        } else {
                *out = picks;
                *n = count;
        }
        if (trans)
                transaction_free(trans);
        if (solv)
                solver_free(solv);
        queue_free(&job);
        return r;
}

int repo_solve(const struct layout *l, struct repo_pick **out, size_t *n)
{
        Pool *pool = pool_create();
        struct utsname u;
        Repo *repo;
        int r = 0, i;

        if (pool_setdisttype(pool, DISTTYPE_RPM) < 0) {
                pool_free(pool);
                return imgerr(-ENOTSUP, "libsolv was built without rpm support");
        }
        uname(&u);
        pool_setarch(pool, u.machine);
        double t_load = now_seconds();
        for (size_t k = 0; l->repositories[k] && r >= 0; k++) {
                _cleanup_free_ char *dir = layout_repo_dir(l, l->repositories[k]);
                r = dir ? load_repository(pool, l->repositories[k], dir) : -ENOMEM;
        }
        log_verbose("libsolv: repository metadata read in %.3f s", now_seconds() - t_load);
        if (r >= 0) {
                pool_addfileprovides(pool);
                apply_excludes(pool, l);
                pool_createwhatprovides(pool);
                r = solve(pool, l, out, n);
        }
        FOR_REPOS(i, repo)
                free(repo->appdata);
        if (pool->considered) {   /* pool_free leaves Exclude='s map */
                map_free(pool->considered);
                pool->considered = solv_free(pool->considered);
        }
        pool_free(pool);
        return r;
}

void repo_picks_free(struct repo_pick *p, size_t n)
{
        for (size_t i = 0; p && i < n; i++) {
                free(p[i].path);
                free(p[i].repository);
                free(p[i].location);
                free(p[i].name);
                free(p[i].epoch);
                free(p[i].version);
                free(p[i].release);
                free(p[i].arch);
                if (p[i].fd >= 0)
                        close(p[i].fd);
        }
        free(p);
}
