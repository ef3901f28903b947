#include "rpm/pkgset.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <rpm/header.h>
#include <rpm/rpmkeyring.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmpgp.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmprob.h>
#include <rpm/rpmps.h>
#include <rpm/rpmte.h>
#include <rpm/rpmts.h>
#include <rpm/rpmlog.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/filehash.h"
#include "rpm/lockfile.h"
#include "rpm/repo.h"
#include "base/cleanup.h"
#include "base/util.h"

/* ---- candidates ---------------------------------------------------------- */

struct candidates {
        struct rpmpkg **pkgs;
        struct pkgorigin *origins;
        size_t count, alloc;
};

static void origin_free(struct pkgorigin *o)
{
        free(o->repository);
        free(o->location);
        memset(o, 0, sizeof(*o));
}

static void candidates_free(struct candidates *c)
{
        for (size_t i = 0; i < c->count; i++) {
                if (c->pkgs[i])
                        rpmpkg_free(c->pkgs[i]);
                origin_free(&c->origins[i]);
        }
        free(c->pkgs);
        free(c->origins);
}

/* Takes p; copies the origin's strings (repo, loc may be NULL). */
static int candidates_add_from(struct candidates *c, struct rpmpkg *p, const char *repo, const char *loc,
                               const char *sha256)
{
        struct pkgorigin *o;

        if (c->count == c->alloc) {
                size_t n = c->alloc ? c->alloc * 2 : 64;
                struct rpmpkg **np = realloc(c->pkgs, n * sizeof(*np));
                struct pkgorigin *no;
                if (!np)
                        return -ENOMEM;
                c->pkgs = np;
                no = realloc(c->origins, n * sizeof(*no));
                if (!no)
                        return -ENOMEM;
                c->origins = no;
                c->alloc = n;
        }
        o = &c->origins[c->count];
        memset(o, 0, sizeof(*o));
        if ((repo && !(o->repository = strdup(repo))) || (loc && !(o->location = strdup(loc)))) {
                origin_free(o);
                return -ENOMEM;
        }
        if (sha256)
                memcpy(o->sha256, sha256, 65);
        c->pkgs[c->count++] = p;
        return 0;
}

/* Move candidate i (package and origin) to the end of dst. */
static int candidates_move(struct candidates *src, size_t i, struct candidates *dst)
{
        struct pkgorigin o = src->origins[i];
        int r = candidates_add_from(dst, src->pkgs[i], NULL, NULL, o.sha256[0] ? o.sha256 : NULL);
        if (r < 0)
                return r;
        dst->origins[dst->count - 1].repository = o.repository;
        dst->origins[dst->count - 1].location = o.location;
        memset(&src->origins[i], 0, sizeof(src->origins[i]));
        src->pkgs[i] = NULL;
        return 0;
}

static bool is_binary_rpm_name(const char *name)
{
        size_t n = strlen(name);
        return n > 4 && !strcmp(name + n - 4, ".rpm") &&
               !(n > 8 && !strcmp(name + n - 8, ".src.rpm"));
}

static int scan_directory(const char *dir, struct candidates *c)
{
        struct dirent **ents = NULL;
        int n = scandir(dir, &ents, NULL, alphasort), r = 0;

        if (n < 0)
                return imgerr(-errno, "%s: cannot read package folder: %s", dir, strerror(errno));
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;
                struct rpmpkg *p;

                if (r < 0 || !is_binary_rpm_name(ents[i]->d_name))
                        goto next;
                if (asprintf(&path, "%s/%s", dir, ents[i]->d_name) < 0) {
                        r = -ENOMEM;
                        goto next;
                }
                r = rpmpkg_open(path, &p);
                if (r >= 0 && (r = candidates_add_from(c, p, dir, ents[i]->d_name, NULL)) < 0)
                        rpmpkg_free(p);
next:
                free(ents[i]);
        }
        free(ents);
        return r;
}

static bool arch_installable(const char *arch)
{
        return !strcmp(arch, "noarch") || rpmMachineScore(RPM_MACHTABLE_INSTARCH, arch) > 0;
}

/* Newer of two packages with one name: rpm's own EVR comparison. */
static bool is_newer(struct rpmpkg *a, struct rpmpkg *b)
{
        return rpmVersionCompare(rpmpkg_header(a), rpmpkg_header(b)) > 0;
}

static bool already_chosen(const struct candidates *chosen, const char *pat)
{
        for (size_t i = 0; i < chosen->count; i++)
                if (!fnmatch(pat, rpmpkg_name(chosen->pkgs[i]), 0))
                        return true;
        return false;
}

/* For every Install= pattern, the newest installable package of each
 * matching name moves from the candidates into the chosen list. */
static int choose_packages(const struct layout *l, struct candidates *c, struct candidates *chosen)
{
        for (size_t k = 0; l->install[k]; k++) {
                const char *pat = l->install[k];
                bool matched = false;

                for (size_t i = 0; i < c->count; i++) {
                        struct rpmpkg *best = c->pkgs[i];
                        size_t best_i = i;

                        if (!best || fnmatch(pat, rpmpkg_name(best), 0) || !arch_installable(rpmpkg_arch(best)))
                                continue;
                        for (size_t j = i + 1; j < c->count; j++) {
                                struct rpmpkg *o = c->pkgs[j];
                                if (o && !strcmp(rpmpkg_name(o), rpmpkg_name(best)) &&
                                    arch_installable(rpmpkg_arch(o)) && is_newer(o, best)) {
                                        best = o;
                                        best_i = j;
                                }
                        }
                        /* Older versions of this name are no longer candidates. */
                        for (size_t j = i; j < c->count; j++)
                                if (j != best_i && c->pkgs[j] &&
                                    !strcmp(rpmpkg_name(c->pkgs[j]), rpmpkg_name(best))) {
                                        rpmpkg_free(c->pkgs[j]);
                                        c->pkgs[j] = NULL;
                                }
                        matched = true;
                        if (candidates_move(c, best_i, chosen) < 0)
                                return -ENOMEM;
                }
                if (!matched && !already_chosen(chosen, pat))
                        return imgerr(-ENOENT, "%s: Install=%s: no installable package of that name in %s%s",
                                      l->path, pat, l->directories[0], l->directories[1] ? " ..." : "");
        }
        return 0;
}

/* ---- OpenPGP package signatures (GpgKey=) ------------------------------ */

/* A key file, armored or binary, read through read_file (its size limit),
 * not librpm's pgpReadPkts (which reads any size). */
static int read_gpg_key(const char *path, uint8_t **pkt, size_t *len)
{
        _cleanup_free_ uint8_t *data = NULL;
        size_t n;
        int r = read_file_max(path, READ_FILE_MAX, "OpenPGP keys", &data, &n);

        if (r < 0)
                return r;
        if (n > 0 && data[0] & 0x80) {   /* a binary packet */
                *pkt = data;
                *len = n;
                data = NULL;
                return 0;
        }
        if (memchr(data, 0, n) || pgpParsePkts((const char *)data, pkt, len) <= 0)
                return imgerr(-EBADMSG, "%s: not an OpenPGP public key", path);
        return 0;
}

static int load_keyring(const struct layout *l, rpmKeyring kr)
{
        for (size_t i = 0; l->gpg_keys[i]; i++) {
                uint8_t *pkt = NULL;
                size_t len = 0;
                rpmPubkey key;
                int r = read_gpg_key(l->gpg_keys[i], &pkt, &len);

                if (r < 0)
                        return r;
                key = rpmPubkeyNew(pkt, len);
                free(pkt);
                if (!key)
                        return imgerr(-EBADMSG, "%s: rpm cannot use this OpenPGP key", l->gpg_keys[i]);
                rpmKeyringAddKey(kr, key);
                rpmPubkeyFree(key);
        }
        return 0;
}

/* Every chosen package must carry an OpenPGP signature that verifies with
 * one of the GpgKey= keys (rpm's own check, at signature level). */
static int verify_openpgp(const struct layout *l, const struct candidates *chosen)
{
        rpmts ts;
        rpmKeyring kr;
        int r;

        if (!l->gpg_keys)
                return 0;
        ts = rpmtsCreate();
        kr = rpmKeyringNew();
        r = load_keyring(l, kr);
        rpmtsSetKeyring(ts, kr);
        rpmtsSetVfyLevel(ts, RPMSIG_SIGNATURE_TYPE);
        for (size_t i = 0; r >= 0 && i < chosen->count; i++) {
                const char *path = rpmpkg_path(chosen->pkgs[i]);
                FD_t fd = Fopen(path, "r.ufdio");
                Header h = NULL;
                rpmRC rc;

                if (!fd || Ferror(fd)) {
                        r = imgerr(-EIO, "%s: cannot open", path);
                        if (fd)
                                Fclose(fd);
                        break;
                }
                /* rpm logs NOKEY as a warning; our error says it once. */
                int mask = rpmlogSetMask(RPMLOG_UPTO(RPMLOG_CRIT));
                rc = rpmReadPackageFile(ts, fd, path, &h);
                rpmlogSetMask(mask);
                Fclose(fd);
                if (rc == RPMRC_NOKEY || rc == RPMRC_NOTTRUSTED)
                        r = imgerr(-EKEYREJECTED, "%s: not signed by any GpgKey= key", path);
                else if (rc != RPMRC_OK)
                        r = imgerr(-EKEYREJECTED, "%s: OpenPGP signature invalid", path);
                else if (!headerIsEntry(h, RPMTAG_RSAHEADER) && !headerIsEntry(h, RPMTAG_DSAHEADER))
                        r = imgerr(-EKEYREJECTED, "%s: has no OpenPGP signature (GpgKey= requires one)", path);
                headerFree(h);
        }
        rpmKeyringFree(kr);
        rpmtsFree(ts);
        return r;
}

/* Scriptlets=error: say so before the
 * dependency check, whose complaint (a missing interpreter) would hide the
 * real reason. */
static int refuse_scriptlets(const struct layout *l, const struct candidates *chosen)
{
        if (l->scriptlets != SCRIPTLETS_ERROR)
                return 0;
        for (size_t i = 0; i < chosen->count; i++) {
                const char *const *s = rpmpkg_scriptlets(chosen->pkgs[i]);
                if (s && s[0])
                        return imgerr(-EPERM, "%s: has a %s scriptlet; compose cannot run scriptlets "
                                      "(set [Packages] Scriptlets=run to run them in the image under QEMU, "
                                      "or skip to go on without them)",
                                      rpmpkg_path(chosen->pkgs[i]), s[0]);
        }
        return 0;
}

/* ---- dependency check and order ----------------------------------------- */

static int problems_message(const struct layout *l, rpmps ps)
{
        char *msg = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&msg, &len);
        rpmpsi it = rpmpsInitIterator(ps);
        rpmProblem p;
        int n = 0, r;

        if (!m)
                return -ENOMEM;
        while ((p = rpmpsiNext(it))) {
                char *s = rpmProblemString(p);
                fprintf(m, "%s%s", n++ ? "; " : "", s);
                free(s);
        }
        rpmpsFreeIterator(it);
        fclose(m);
        r = imgerr(-ENOENT, "%s: the package set is not complete: %s", l->path, msg);
        free(msg);
        return r;
}

/* rpm's own transaction check and ordering, against an empty scratch root
 * so that nothing on the build machine counts as installed.  rpm opens
 * (creates) a database there: %_dbpath is pinned inside the root (Debian's
 * default is $HOME/.rpmdb) and the root is removed whole. */
static int check_and_order(const struct layout *l, struct candidates *chosen, struct pkgset *s)
{
        _cleanup_free_ char *root = NULL;
        rpmts ts = NULL;
        rpmps ps = NULL;
        rpmtsi it = NULL;
        rpmte te;
        int r = 0;

        r = scratch_dir_make("imgtool-root", &root);
        if (r < 0)
                return r;
        rpmPushMacro(NULL, "_dbpath", NULL, "/var/lib/rpm", RMIL_CMDLINE);
        ts = rpmtsCreate();
        rpmtsSetRootDir(ts, root);
        for (size_t i = 0; i < chosen->count; i++)
                if (rpmtsAddInstallElement(ts, rpmpkg_header(chosen->pkgs[i]), chosen->pkgs[i], 0, NULL)) {
                        r = imgerr(-EINVAL, "%s: rpm refused the package", rpmpkg_path(chosen->pkgs[i]));
                        goto out;
                }
        rpmtsCheck(ts);
        ps = rpmtsProblems(ts);
        if (rpmpsNumProblems(ps) > 0) {
                r = problems_message(l, ps);
                goto out;
        }
        if (rpmtsOrder(ts) != 0)
                log_warn("%s: dependency loops in the package set; install order is rpm's best effort", l->path);
        s->pkgs = calloc(chosen->count ? chosen->count : 1, sizeof(*s->pkgs));
        s->origins = calloc(chosen->count ? chosen->count : 1, sizeof(*s->origins));
        if (!s->pkgs || !s->origins) {
                r = -ENOMEM;
                goto out;
        }
        it = rpmtsiInit(ts);
        while ((te = rpmtsiNext(it, TR_ADDED))) {
                struct rpmpkg *p = (struct rpmpkg *)rpmteKey(te);
                for (size_t i = 0; i < chosen->count; i++)
                        if (chosen->pkgs[i] == p) {
                                s->origins[s->count] = chosen->origins[i];
                                memset(&chosen->origins[i], 0, sizeof(chosen->origins[i]));
                                chosen->pkgs[i] = NULL;
                        }
                s->pkgs[s->count++] = p;
        }
out:
        rpmtsiFree(it);
        rpmpsFree(ps);
        rpmtsFree(ts);
        rpmPopMacro(NULL, "_dbpath");
        scratch_dir_remove(root);
        return r;
}

/* Each package keeps the file it was checked on open until compose ends:
 * a set larger than the soft limit of open files needs the hard one. */
static void raise_fd_limit(size_t n)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n + 256) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
}

/* "name-[epoch:]version-release.arch" of a header, epoch only when not 0. */
static char *header_nevra(Header h)
{
        uint64_t e = headerGetNumber(h, RPMTAG_EPOCH);
        char *out = NULL, epoch[24] = "";

        if (e)
                snprintf(epoch, sizeof(epoch), "%llu:", (unsigned long long)e);
        if (asprintf(&out, "%s-%s%s-%s.%s", headerGetString(h, RPMTAG_NAME), epoch, headerGetString(h, RPMTAG_VERSION),
                     headerGetString(h, RPMTAG_RELEASE), headerGetString(h, RPMTAG_ARCH)) < 0)
                return NULL;
        return out;
}

/* The package is what the metadata that selected it says: otherwise a
 * primary.xml entry for rlib-2.0 could install rlib-1.0 (a downgrade). */
static int check_pick_nevra(const struct repo_pick *k, struct rpmpkg *p)
{
        _cleanup_free_ char *got = header_nevra(rpmpkg_header(p)), *want = NULL;

        if (!got || asprintf(&want, "%s-%s%s%s-%s.%s", k->name, k->epoch, *k->epoch ? ":" : "", k->version,
                             k->release, k->arch) < 0)
                return -ENOMEM;
        if (strcmp(got, want))
                return imgerr(-EBADMSG, "%s: the package is %s, the repository's primary.xml says %s "
                              "(a downgrade or a substitution: refused)", k->path, got, want);
        return 0;
}

/* Repository=: libsolv picks the set; each package was checked against its
 * repository's checksum, and is read here from the file that was checked. */
static int choose_from_repositories(const struct layout *l, struct candidates *chosen)
{
        struct repo_pick *picks = NULL;
        size_t n = 0;
        double t0 = now_seconds();
        int r = repo_solve(l, &picks, &n);

        if (r >= 0)
                log_verbose("libsolv: %zu packages resolved (metadata read, solved, checksums checked) in %.3f s",
                            n, now_seconds() - t0);
        raise_fd_limit(n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct rpmpkg *p;
                r = rpmpkg_open_fd(picks[i].fd, picks[i].path, &p);
                picks[i].fd = -1;       /* rpmpkg_open_fd took it */
                if (r < 0)
                        break;
                r = check_pick_nevra(&picks[i], p);
                if (r >= 0)
                        r = candidates_add_from(chosen, p, picks[i].repository, picks[i].location, picks[i].sha256);
                if (r < 0)
                        rpmpkg_free(p);
        }
        repo_picks_free(picks, n);
        return r;
}

/* A locked package's file, opened beneath its folder (repo.h: no "..", no
 * symlink out, a regular file only): the layout's own Repository=/
 * Directory= folders first (a lock moved with its repositories still
 * works), else the folder the lock recorded. */
/* A locked location that cannot be opened: the lock and the package it names first. */
static int locked_error(const struct layout *l, const struct lock_entry *e, int r)
{
        if (r == -ENOMEM)
                return r;
        return imgerr_prefix(r, "%s: %s-%s-%s.%s: ", l->lock, e->name, e->version, e->release, e->arch);
}

static int open_locked(const struct layout *l, const struct lock_entry *e, char **path, int *fd)
{
        char **dirs = l->repositories ? l->repositories : l->directories;
        int r;

        for (size_t i = 0; dirs && dirs[i]; i++) {
                _cleanup_free_ char *d = l->repositories ? layout_repo_dir(l, dirs[i]) : strdup(dirs[i]);
                _cleanup_free_ char *p = NULL;
                if (!d || asprintf(&p, "%s/%s", d, e->location) < 0)
                        return -ENOMEM;
                if (access(p, F_OK) < 0 && errno == ENOENT)
                        continue;
                if ((r = repo_open_beneath(d, e->location, "locked location", fd)) < 0)
                        return locked_error(l, e, r);
                *path = p;
                p = NULL;
                return 0;
        }
        if (asprintf(path, "%s/%s", e->repository, e->location) < 0)
                return -ENOMEM;
        if (access(*path, F_OK) < 0 && errno == ENOENT && !strstr(e->location, ".."))
                return imgerr(-ENOENT, "%s: locked package %s-%s-%s.%s is missing (%s)", l->lock, e->name,
                              e->version, e->release, e->arch, *path);
        r = repo_open_beneath(e->repository, e->location, "locked location", fd);
        return r < 0 ? locked_error(l, e, r) : r;
}

static int check_locked_nevra(const struct lock_entry *e, struct rpmpkg *p, const char *lock)
{
        Header h = rpmpkg_header(p);
        char epoch[24];

        snprintf(epoch, sizeof(epoch), "%llu", (unsigned long long)headerGetNumber(h, RPMTAG_EPOCH));
        if (strcmp(e->name, headerGetString(h, RPMTAG_NAME)) || strcmp(e->epoch, epoch) ||
            strcmp(e->version, headerGetString(h, RPMTAG_VERSION)) ||
            strcmp(e->release, headerGetString(h, RPMTAG_RELEASE)) || strcmp(e->arch, headerGetString(h, RPMTAG_ARCH)))
                return imgerr(-EBADMSG, "%s: %s is %s, the lock says %s-%s:%s-%s.%s", lock, rpmpkg_path(p),
                              rpmpkg_nevra(p), e->name, e->epoch, e->version, e->release, e->arch);
        return 0;
}

/* Lock=: exactly the locked packages, each byte-identical to what was locked. */
static int choose_from_lock(const struct layout *l, struct candidates *chosen)
{
        struct lock_entry *e = NULL;
        size_t n = 0;
        int r = lockfile_read(l->lock, &e, &n);

        if (r >= 0)
                raise_fd_limit(n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *path = NULL;
                char sha[65];
                struct rpmpkg *p;
                int fd = -1;

                r = open_locked(l, &e[i], &path, &fd);
                if (r < 0)
                        break;
                /* the file's own digest is not printed: a lock must not
                 * make compose reveal a hash of what it points at */
                r = filehash_sha256_fd(fd, path, sha);
                if (r >= 0 && strcmp(sha, e[i].sha256))
                        r = imgerr(-EBADMSG, "%s: %s changed since it was locked (its sha256 is not the lock's %s)",
                                   l->lock, path, e[i].sha256);
                if (r < 0) {
                        close(fd);
                        break;
                }
                r = rpmpkg_open_fd(fd, path, &p);
                if (r < 0)
                        break;
                r = check_locked_nevra(&e[i], p, l->lock);
                if (r >= 0)
                        r = candidates_add_from(chosen, p, e[i].repository, e[i].location, sha);
                if (r < 0)
                        rpmpkg_free(p);
        }
        lock_entries_free(e, n);
        return r;
}

static int choose_from_directories(const struct layout *l, struct candidates *all, struct candidates *chosen)
{
        int r = 0;
        for (size_t i = 0; l->directories[i] && r >= 0; i++)
                r = scan_directory(l->directories[i], all);
        if (r >= 0)
                r = choose_packages(l, all, chosen);
        return r;
}

int pkgset_resolve(const struct layout *l, struct pkgset **out)
{
        struct candidates all = { 0 }, chosen = { 0 };
        struct pkgset *s;
        int r = rpmpkg_init();

        if (r < 0)
                return r;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        if (l->lock)
                r = choose_from_lock(l, &chosen);
        else if (l->repositories)
                r = choose_from_repositories(l, &chosen);
        else
                r = choose_from_directories(l, &all, &chosen);
        if (r >= 0)
                r = verify_openpgp(l, &chosen);
        if (r >= 0)
                r = refuse_scriptlets(l, &chosen);
        if (r >= 0)
                r = check_and_order(l, &chosen, s);
        candidates_free(&all);
        candidates_free(&chosen);
        if (r < 0) {
                pkgset_free(s);
                return r;
        }
        *out = s;
        return 0;
}

void pkgset_free(struct pkgset *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->count; i++) {
                rpmpkg_free(s->pkgs[i]);
                if (s->origins)
                        origin_free(&s->origins[i]);
        }
        free(s->pkgs);
        free(s->origins);
        free(s);
}
