#include "rpm/repo.h"

#include <errno.h>
#include <fnmatch.h>
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
#include <sys/utsname.h>

#include "base/filehash.h"
#include "base/util.h"

/* The file's digest of the given libsolv type (REPOKEY_TYPE_SHA256...), hex. */
static int file_chksum_hex(const char *path, Id type, char **hex)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        unsigned char buf[1 << 16];
        const unsigned char *bin;
        Chksum *ck;
        size_t n;
        int len;

        if (!f)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        ck = solv_chksum_create(type);
        if (!ck)
                return imgerr(-EINVAL, "%s: unknown checksum type", path);
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                solv_chksum_add(ck, buf, (int)n);
        if (ferror(f)) {
                solv_chksum_free(ck, NULL);
                return imgerr(-EIO, "%s: read error", path);
        }
        bin = solv_chksum_get(ck, &len);
        *hex = malloc((size_t)len * 2 + 1);
        if (*hex)
                hex_encode(bin, (size_t)len, *hex);
        solv_chksum_free(ck, NULL);
        return *hex ? 0 : -ENOMEM;
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
        FILE *f;
        int r;

        if (asprintf(&repomd, "%s/repodata/repomd.xml", dir) < 0)
                return -ENOMEM;
        f = fopen(repomd, "re");
        if (!f)
                return imgerr(-errno, "Repository=%s: cannot read %s: %s (make one with createrepo_c)",
                              name, repomd, strerror(errno));
        repo = repo_create(pool, name);
        r = repo_add_repomdxml(repo, f, 0);
        fclose(f);
        if (r != 0)
                return imgerr(-EBADMSG, "%s: not a repomd.xml: %s", repomd, pool_errstr(pool));
        if (!find_primary(repo, &loc, &chk, &chktype))
                return imgerr(-EBADMSG, "%s: names no primary metadata", repomd);
        if (strstr(loc, "..") || loc[0] == '/')
                return imgerr(-EBADMSG, "%s: primary location '%s' leaves the repository", repomd, loc);
        if (asprintf(&primary, "%s/%s", dir, loc) < 0)
                return -ENOMEM;
        if (!chk)
                return imgerr(-EBADMSG, "%s: no checksum for %s", repomd, loc);
        r = file_chksum_hex(primary, chktype, &hex);
        if (r < 0)
                return r;
        if (strcmp(hex, pool_bin2hex(pool, chk, solv_chksum_len(chktype))))
                return imgerr(-EBADMSG, "%s: checksum differs from repomd.xml's (repository changed or corrupt)",
                              primary);
        f = solv_xfopen(primary, "r");
        if (!f)
                return imgerr(-EIO, "%s: cannot open (compression not supported?)", primary);
        r = repo_add_rpmmd(repo, f, NULL, 0);
        fclose(f);
        if (r != 0)
                return imgerr(-EBADMSG, "%s: %s", primary, pool_errstr(pool));
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

/* The picked package: its file, checked against primary.xml's checksum. */
static int make_pick(Pool *pool, Id p, struct repo_pick *out)
{
        Solvable *s = pool->solvables + p;
        const char *dir = s->repo->appdata, *loc = solvable_get_location(s, NULL);
        const unsigned char *chk;
        _cleanup_free_ char *hex = NULL;
        Id type = 0;
        int r;

        if (!loc || strstr(loc, "..") || loc[0] == '/')
                return imgerr(-EBADMSG, "%s: %s: location '%s' leaves the repository", dir,
                              pool_solvable2str(pool, s), loc ? loc : "");
        chk = solvable_lookup_bin_checksum(s, SOLVABLE_CHECKSUM, &type);
        if (!chk)
                return imgerr(-EBADMSG, "%s: %s: primary.xml records no checksum", dir, pool_solvable2str(pool, s));
        if (asprintf(&out->path, "%s/%s", dir, loc) < 0 || !(out->repository = strdup(dir)) ||
            !(out->location = strdup(loc)))
                return -ENOMEM;
        r = file_chksum_hex(out->path, type, &hex);
        if (r < 0)
                return r;
        if (strcmp(hex, pool_bin2hex(pool, chk, solv_chksum_len(type))))
                return imgerr(-EBADMSG, "%s: %s checksum differs from the repository's primary.xml "
                              "(corrupt or replaced package)", out->path, solv_chksum_type2str(type));
        if (type == REPOKEY_TYPE_SHA256)
                memcpy(out->sha256, hex, 65);
        else
                return filehash_sha256(out->path, out->sha256);
        return 0;
}

static int solve(Pool *pool, const struct layout *l, struct repo_pick **out, size_t *n)
{
        Solver *solv = NULL;
        Transaction *trans = NULL;
        Queue job;
        struct repo_pick *picks = NULL;
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
        if (!picks) {
                r = -ENOMEM;
                goto out;
        }
        for (int i = 0; i < trans->steps.count && r >= 0; i++)
                r = make_pick(pool, trans->steps.elements[i], &picks[count++]);
        if (r >= 0 && count)
                qsort(picks, count, sizeof(*picks), pick_cmp);
out:
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
        }
        free(p);
}
