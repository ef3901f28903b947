#include "image/compose.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "boot/bootfiles.h"
#include "ima/certs.h"
#include "boot/bootdisk.h"
#include "rpm/composedb.h"
#include "ext4/ext4img.h"
#include "ext4/ext4verity.h"
#include "rpm/fcaps.h"
#include "ima/imasig.h"
#include "ima/sigreq.h"
#include "image/labels.h"
#include "rpm/lockfile.h"
#include "base/output.h"
#include "base/progress.h"
#include "image/owners.h"
#include "rpm/pathmap.h"
#include "rpm/pkgset.h"
#include "ima/pubkey.h"
#include "image/readahead.h"
#include "image/scriptlets.h"
#include "rpm/rpmpkg.h"
#include "image/users.h"
#include "base/util.h"
#include "ima/verity.h"
#include "rpm/sigpack.h"
#include "base/strv.h"
#include "image/composer.h"

static void count_signature(struct composer *c, int tag, const uint8_t *val, size_t len);
static void stage_mark(const char *name);

/* ---- small helpers -------------------------------------------------------- */

static const char *pkg_label(struct composer *c)
{
        return rpmpkg_path(c->plan.set->pkgs[c->pkg_index]);
}

/* ---- owners ----------------------------------------------------------------- */

static void warn_unknown_owner(struct composer *c, const char *kind, const char *name, const char *path)
{
        _cleanup_free_ char *key = NULL;

        /* a user and a group may share a name: one warning each */
        if (asprintf(&key, "%s:%s", kind, name) < 0 || strv_contains(c->warned_owners, key))
                return;
        strv_pushf(&c->warned_owners, "%s", key);
        strv_pushf(&c->rep->warnings, "%s %s does not exist in the image (first at %s): using root",
                   kind, name, path);
}

/* rpm clears S_ISUID/S_ISGID when the owner falls back to root; say so. */
static void note_setid_cleared(struct composer *c, const struct rpmpkg_file *f, const struct owner *o)
{
        _cleanup_free_ char *u = NULL, *g = NULL;
        mode_t gone = f->mode & ~o->mode;

        if ((gone & S_ISUID) && asprintf(&u, "setuid (user %s)", f->user) < 0)
                u = NULL;
        if ((gone & S_ISGID) && asprintf(&g, "setgid (group %s)", f->group) < 0)
                g = NULL;
        strv_pushf(&c->rep->setid_cleared, "%s", f->path);
        strv_pushf(&c->rep->warnings, "%s: %s%s%s cleared: owner unknown in the image, as rpm does",
                   f->path, u ? u : "", u && g ? " and " : "", g ? g : "");
}

/* Owners as rpm resolves them (owners.h): an unknown name becomes root and
 * loses its set-id bit, which the report lists. */
static void file_attr(struct composer *c, const struct rpmpkg_file *f, struct ext4img_attr *a)
{
        struct owner o;

        owners_resolve(c->owners, f->user, f->group, f->mode, &o);
        if (o.unknown_user)
                warn_unknown_owner(c, "user", f->user, f->path);
        if (o.unknown_group)
                warn_unknown_owner(c, "group", f->group, f->path);
        if (o.mode != f->mode)
                note_setid_cleared(c, f, &o);
        a->mode = o.mode;
        a->uid = o.uid;
        a->gid = o.gid;
        a->mtime = f->mtime < c->epoch ? f->mtime : c->epoch;
}

static struct capture *capture_for(struct composer *c, const char *path)
{
        for (int i = 0; i < CAP_COUNT; i++)
                if (!strcmp(c->cap[i].path, path))
                        return &c->cap[i];
        return NULL;
}

static void capture_reset(struct capture *cap)
{
        free(cap->data);
        cap->data = NULL;
        cap->len = 0;
        cap->too_big = false;
}

static int capture_append(struct capture *cap, const void *buf, size_t len)
{
        char *n;
        if (cap->too_big)
                return 0;
        if (cap->len + len > CAPTURE_MAX) {
                /* not a real passwd file; owners fall back to root (verify
                 * reads no more than this either) */
                capture_reset(cap);
                cap->too_big = true;
                return 0;
        }
        n = realloc(cap->data, cap->len + len + 1);
        if (!n)
                return -ENOMEM;
        memcpy(n + cap->len, buf, len);
        cap->data = n;
        cap->len += len;
        n[cap->len] = 0;
        return 0;
}

/* ---- paths: conflicts and parents (pathmap.h decides) ------------------------- */

static int make_implied_dir(const char *dir, void *userdata)
{
        struct composer *c = userdata;
        return ext4img_mkdir_p(c->img, dir);
}

/* Parents a package does not own are made 0755 root, as rpm would. */
int ensure_parents(struct composer *c, int pkg, const char *path)
{
        return pathmap_imply_parents(c->paths, c->plan.set->pkgs, pkg, path, make_implied_dir, c);
}

/* ---- writing one entry ---------------------------------------------------------- */

/* A regular file's SELinux label goes in with its other xattrs, before the
 * inode is written: labelling afterwards costs an inode rewrite each. */
int label_file(struct composer *c, struct ext4img_file *out, const char *path)
{
        char *con = NULL;
        int r;

        if (!c->plan.labels)
                return 0;
        r = labels_lookup(c->plan.labels, path, S_IFREG, &con);
        if (r >= 0 && con) {
                r = ext4img_file_set_xattr(out, "security.selinux", con, strlen(con) + 1);
                if (r >= 0)
                        c->rep->labelled++;
        }
        free(con);
        return r;
}

/* Consume a payload file that is not written (its digest still checked). */
static int skip_payload(struct composer *c, const struct rpmpkg_file *f)
{
        struct ra_file *rf;
        const uint8_t *buf;
        ssize_t n;

        while ((n = readahead_read(c->ra, &buf)) > 0)
                ;
        if (n < 0)
                return (int)n;
        if (readahead_finished(c->ra, &rf) < 0 || !rf->digest)
                return imgerr(-EBADMSG, "%s: %s: payload has no checked digest", pkg_label(c), f->path);
        free(rf->val);
        rf->val = NULL;
        return 0;
}

/* A users file a package ships, with the users and groups compose adds:
 * the payload's bytes are consumed (and checked) but the merged text is
 * what the image gets, signed with Key= (the package's signature no
 * longer fits). */
static int replace_users_file(struct composer *c, const struct rpmpkg_file *f, const struct ext4img_attr *a,
                              const char *data, size_t len)
{
        struct ext4img_file *out = NULL;
        int r = skip_payload(c, f);

        if (r < 0)
                return r;
        r = ext4img_file_begin(c->img, f->path, a, len, &out);
        if (r < 0)
                return r;
        r = write_users_file(c, f->path, a, data, len, out);
        if (r >= 0)
                c->rep->regular++;
        return r;
}

/* Stream one regular file: read-ahead payload -> image.  The content was
 * checked against the header digest on the reader thread, and the checked
 * digest (never a second hash of the bytes) is what got signed. */
static int write_regular(struct composer *c, const struct rpmpkg_file *f, const struct ext4img_attr *a)
{
        struct ext4img_file *out = NULL;
        struct capture *cap = capture_for(c, f->path);
        struct ra_file *rf;
        const uint8_t *data;
        uint64_t total = 0;
        ssize_t n;
        int r;

        if (cap) {
                capture_reset(cap);
                c->cap_changed[cap - c->cap] = true;
        }
        for (int k = 0; k < USERS_FILE_COUNT; k++) {
                size_t len;
                bool shipped;
                const char *text = users_content(c->plan.users, (enum users_file)k, &len, &shipped);
                if (text && !strcmp(f->path, users_file_path((enum users_file)k))) {
                        /* owners learn the merged text, as rpm would read it */
                        if (cap && (r = capture_append(cap, text, len)) < 0)
                                return r;
                        return replace_users_file(c, f, a, text, len);
                }
        }
        r = ext4img_file_begin(c->img, f->path, a, f->size, &out);
        if (r < 0)
                return r;
        while ((n = readahead_read(c->ra, &data)) > 0) {
                total += (uint64_t)n;
                if (cap && (r = capture_append(cap, data, (size_t)n)) < 0)
                        goto fail;
                r = ext4img_file_write(out, data, (size_t)n);
                if (r < 0)
                        goto fail;
        }
        if (n < 0) {
                r = (int)n;
                goto fail;
        }
        if (readahead_finished(c->ra, &rf) < 0 || total != f->size || !rf->digest ||
            rf->digest_len != ima_hash_size(f->digest_algo)) {
                r = imgerr(-EBADMSG, "%s: %s: payload is truncated or has no checked digest (%llu of %llu bytes)",
                           pkg_label(c), f->path, (unsigned long long)total, (unsigned long long)f->size);
                goto fail;
        }
        if (rf->rc < 0) {
                r = imgerr(rf->rc, "%s", rf->msg ? rf->msg : "signing failed");
                goto fail;
        }
        if (rf->val && (r = ext4img_file_set_xattr(out, "security.ima", rf->val, rf->val_len)) < 0)
                goto fail;
        if (c->l->verity) {
                if (!rf->verity) {
                        r = imgerr(-EIO, "%s: %s: no fs-verity tree was computed", pkg_label(c), f->path);
                        goto fail;
                }
                r = ext4verity_write(out, f->size, rf->verity, rf->verity->sig, rf->verity->sig_len);
                if (r < 0)
                        goto fail;
        }
        if (f->caps && *f->caps) {
                uint8_t caps[FCAPS_XATTR_SIZE];
                if (fcaps_from_text(f->caps, caps) < 0) {
                        r = imgerr(-EBADMSG, "%s: %s: capabilities '%s' do not parse", pkg_label(c), f->path, f->caps);
                        goto fail;
                }
                if ((r = ext4img_file_set_xattr(out, "security.capability", caps, sizeof(caps))) < 0)
                        goto fail;
        }
        if ((r = label_file(c, out, f->path)) < 0)
                goto fail;
        r = ext4img_file_commit(out);
        if (r < 0)
                return r;
        c->rep->regular++;
        c->rep->bytes += total;
        count_signature(c, rf->tag, rf->val, rf->val_len);
        return 0;
fail:
        ext4img_file_abort(out);
        return r;
}

/* The per-package and total signature counts of the report. */
static void count_signature(struct composer *c, int tag, const uint8_t *val, size_t len)
{
        struct compose_package_report *p = &c->rep->pkgs[c->pkg_index];

        p->files++;
        if (tag == SIG_PACKAGE) {
                c->rep->sig_from_package++;
                p->sig_from_package++;
                /* 03 02 <algo> <keyid be32> ...: a v2 signature's keyid */
                if (len >= 7 && val[0] == 3) {
                        uint32_t k = (uint32_t)val[3] << 24 | (uint32_t)val[4] << 16 | (uint32_t)val[5] << 8 | val[6];
                        size_t i = 0;
                        while (i < p->n_keyids && p->keyids[i] != k)
                                i++;
                        if (i == p->n_keyids && i < ARRAY_SIZE(p->keyids))
                                p->keyids[p->n_keyids++] = k;
                }
        } else if (tag == SIG_SIGNED) {
                c->rep->sig_signed_here++;
                p->sig_signed_here++;
        } else {
                c->rep->sig_allowed_unsigned++;
                p->sig_allowed_unsigned++;
        }
}

/* The report's package list and keyids, once the set and keys are known. */
static int report_start(struct composer *c)
{
        struct compose_report *rep = c->rep;

        rep->pkgs = calloc(c->plan.set->count, sizeof(*rep->pkgs));
        if (!rep->pkgs)
                return imgerr(-ENOMEM, "out of memory");
        for (size_t i = 0; i < c->plan.set->count; i++) {
                rep->pkgs[i].nevra = strdup(rpmpkg_nevra(c->plan.set->pkgs[i]));
                rep->pkgs[i].file = strdup(rpmpkg_path(c->plan.set->pkgs[i]));
                if (!rep->pkgs[i].nevra || !rep->pkgs[i].file)
                        return imgerr(-ENOMEM, "out of memory");
        }
        if (c->key) {
                rep->has_signing_key = true;
                rep->signing_keyid = ima_key_keyid(c->key);
        }
        /* the trust plan_trust resolved (load_keys): certificates and bare keys */
        rep->n_trusted = ima_trust_count(c->trust);
        if (rep->n_trusted && !(rep->trusted_keyids = calloc(rep->n_trusted, sizeof(*rep->trusted_keyids))))
                return imgerr(-ENOMEM, "out of memory");
        for (size_t i = 0; i < rep->n_trusted; i++)
                rep->trusted_keyids[i] = ima_trust_entry(c->trust, i).keyid;
        return 0;
}

/* Hard links: rpm's payload carries the content once, with one member of
 * the set; the others are names for the same inode.  first_path[] maps the
 * header's inode number to the path that holds the content. */
struct link_set {
        uint32_t inode;
        char *first;          /* member holding the content, once written */
        char **pending;       /* members seen before it */
};

struct link_sets {
        struct link_set *v;
        size_t n, cap;
};

static struct link_set *link_set_get(struct link_sets *s, uint32_t inode)
{
        struct link_set *nv;
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].inode == inode)
                        return &s->v[i];
        if (GROW(s->v, s->n, s->cap, 16) < 0)
                return NULL;
        nv = s->v;
        memset(&nv[s->n], 0, sizeof(*nv));
        nv[s->n].inode = inode;
        return &nv[s->n++];
}

static void link_sets_free(struct link_sets *s)
{
        for (size_t i = 0; i < s->n; i++) {
                free(s->v[i].first);
                strv_free(s->v[i].pending);
        }
        free(s->v);
}

static int link_member(struct composer *c, const char *path, const char *first)
{
        int r = ext4img_hardlink(c->img, path, first);
        if (r < 0)
                return r;
        c->rep->hardlinks++;
        return 0;
}

/* A member of a hard-link set that an earlier package shipped identically
 * (rpm allows that): the set's other members become links to it. */
static int link_shared_member(struct composer *c, const struct rpmpkg_file *f, struct link_sets *links)
{
        struct link_set *s = link_set_get(links, (uint32_t)f->link_first);
        int r;

        if (!s)
                return -ENOMEM;
        if (s->first)
                return 0;
        s->first = strdup(f->path);
        if (!s->first)
                return -ENOMEM;
        for (size_t i = 0; s->pending && s->pending[i]; i++)
                if ((r = link_member(c, s->pending[i], s->first)) < 0)
                        return r;
        return 0;
}

/* Scriptlets=run: a package entry a scriptlet removed, or replaced by
 * something else than a folder, is not written; apply_scriptlets writes
 * what the scriptlet left.  A folder whose mode or owner changed is written
 * and then changed. */
static bool scriptlet_replaces(struct composer *c, const struct rpmpkg_file *f)
{
        const struct scriptlet_change *ch = scriptlets_find(c->scr, f->path);

        return ch && (ch->kind == SCRIPTLET_REMOVED || !S_ISDIR(f->mode) || !S_ISDIR(ch->mode));
}


static int write_entry(struct composer *c, bool content, const struct rpmpkg_file *f,
                       struct link_sets *links)
{
        struct ext4img_attr a;
        struct pathmap_entry *e = NULL;
        int r;

        if (scriptlet_replaces(c, f)) {
                if (capture_for(c, f->path))
                        return imgerr(-EOPNOTSUPP, "%s: %s changed %s, which compose merges itself (users "
                                      "files): not supported yet", c->l->path, scriptlets_find(c->scr, f->path)->by,
                                      f->path);
                return S_ISREG(f->mode) && content ? skip_payload(c, f) : 0;
        }
        r = ensure_parents(c, (int)c->pkg_index, f->path);
        if (r < 0)
                return r;
        r = pathmap_claim(c->paths, c->plan.set->pkgs, c->pkg_index, f, &e);
        if (r < 0)
                return r;
        if (r == 1)   /* shared with an earlier package, identical */
                return S_ISREG(f->mode) && f->nlink > 1 ? link_shared_member(c, f, links) : 0;
        file_attr(c, f, &a);
        c->rep->files++;
        switch (f->mode & S_IFMT) {
        case S_IFDIR:
                c->rep->directories++;
                /* An implied parent (or "/") now gets its owner's metadata. */
                if (r == 2)
                        return ext4img_set_attr(c->img, f->path, &a);
                return ext4img_mkdir(c->img, f->path, &a);
        case S_IFLNK:
                c->rep->symlinks++;
                return ext4img_symlink(c->img, f->path, f->link_target ? f->link_target : "", &a);
        case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
                c->rep->devices++;
                return ext4img_mknod(c->img, f->path, &a, f->rdev);
        case S_IFREG:
                break;
        default:
                return imgerr(-EBADMSG, "%s: %s: unknown file type %o", pkg_label(c), f->path, f->mode & S_IFMT);
        }
        if (f->nlink > 1) {
                struct link_set *s = link_set_get(links, (uint32_t)f->link_first);
                if (!s)
                        return -ENOMEM;
                if (s->first)
                        return link_member(c, f->path, s->first);
                if (!content) {
                        char *p = strdup(f->path);
                        return p ? strv_push(&s->pending, p) : -ENOMEM;
                }
                r = write_regular(c, f, &a);
                if (r < 0)
                        return r;
                s->first = strdup(f->path);
                if (!s->first)
                        return -ENOMEM;
                for (size_t i = 0; s->pending && s->pending[i]; i++)
                        if ((r = link_member(c, s->pending[i], s->first)) < 0)
                                return r;
                return 0;
        }
        return write_regular(c, f, &a);
}

/* ---- one package ------------------------------------------------------------------ */

static size_t payload_entries_expected(struct rpmpkg *p)
{
        size_t n = 0;
        struct rpmpkg_file f;
        for (size_t i = 0; i < rpmpkg_file_count(p); i++)
                if (rpmpkg_file(p, i, &f) == 0 && !(f.flags & RPMPKG_FILE_GHOST))
                        n++;
        return n;
}

/* The users files this package wrote count from the next one on (plan.h). */
static int learn_owners(struct composer *c)
{
        const bool changed[OWNERS_DB_COUNT] = {
                [OWNERS_PASSWD] = c->cap_changed[CAP_PASSWD], [OWNERS_GROUP] = c->cap_changed[CAP_GROUP],
        };
        const char *const text[OWNERS_DB_COUNT] = {
                [OWNERS_PASSWD] = c->cap[CAP_PASSWD].data, [OWNERS_GROUP] = c->cap[CAP_GROUP].data,
        };
        const size_t len[OWNERS_DB_COUNT] = {
                [OWNERS_PASSWD] = c->cap[CAP_PASSWD].len, [OWNERS_GROUP] = c->cap[CAP_GROUP].len,
        };

        c->cap_changed[CAP_PASSWD] = c->cap_changed[CAP_GROUP] = false;
        return plan_learn_owners(c->owners, changed, text, len);
}

static int write_package(struct composer *c, struct rpmpkg *p)
{
        struct link_sets links = { 0 };
        struct ra_entry e;
        size_t seen = 0, expected = payload_entries_expected(p);
        int r;

        while ((r = readahead_next(c->ra, &e)) > 0) {
                struct rpmpkg_file f;
                r = rpmpkg_file(p, e.file, &f);
                if (r < 0)
                        break;
                if (f.flags & RPMPKG_FILE_GHOST)
                        continue;
                seen++;
                r = write_entry(c, e.content, &f, &links);
                if (r < 0)
                        break;
        }
        for (size_t i = 0; r >= 0 && i < links.n; i++)
                if (!links.v[i].first)
                        r = imgerr(-EBADMSG, "%s: hard-link set of %s has no content in the payload",
                                   rpmpkg_path(p), links.v[i].pending ? links.v[i].pending[0] : "?");
        if (r >= 0 && seen != expected)
                r = imgerr(-EBADMSG, "%s: payload has %zu of the header's %zu files (truncated or corrupt)",
                           rpmpkg_path(p), seen, expected);
        if (r >= 0)
                r = learn_owners(c);
        link_sets_free(&links);
        return r;
}

/* ---- Scriptlets=run (what they change is written by scriptwrite.c) ---------------------- */

static int run_scriptlets(struct composer *c)
{
        int r = scriptlets_plan(c->l, c->plan.set, &c->scr);

        if (r < 0 || !c->scr)
                return r;
        r = scriptlets_run(c->scr, c->l, c->epoch, make_scratch, c, &c->rep->warnings);
        c->rep->scriptlets_ran = scriptlets_ran(c->scr);
        if (scriptlets_ran_labels(c->scr, &c->rep->scriptlet_runs) < 0 && r >= 0)
                r = -ENOMEM;
        c->rep->scriptlets_checked = c->l->scriptlet_check != SCRIPTLET_CHECK_NO;
        for (char *const *p = scriptlets_nondeterministic(c->scr); r >= 0 && p && *p; p++)
                if (strv_push(&c->rep->scriptlet_nondeterministic, strdup(*p)) < 0)
                        r = -ENOMEM;
        stage_mark("scriptlets");
        return r;
}

/* With -v: wall and CPU seconds (all threads) of each stage since the last
 * mark, for finding where the time goes. */
static void stage_mark(const char *name)
{
        static double w0, c0;
        struct timespec ts;
        double w = now_seconds(), cpu;

        if (!imgtool_verbose)
                return;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        cpu = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        if (name)
                log_verbose("compose: %-9s %6.3f s wall, %6.3f s CPU", name, w - w0, cpu - c0);
        w0 = w;
        c0 = cpu;
}

/* ---- progress and the whole pipeline ------------------------------------------------ */

/* compose's progress line (base/progress.h draws it). */
static void show_progress(struct composer *c, size_t i)
{
        double mb = (double)c->rep->bytes / 1e6;
        char line[512];

        if (!c->o->progress)
                return;
        snprintf(line, sizeof(line), "[%zu/%zu] %7zu files %9.1f MB %s", i + 1, c->plan.set->count,
                 c->rep->files, mb, rpmpkg_name(c->plan.set->pkgs[i]));
        progress_show(line);
}

static void end_progress(struct composer *c)
{
        if (c->o->progress)
                progress_end();
}

static int setup(struct composer *c)
{
        int r;

        c->cap[CAP_PASSWD].path = "/etc/passwd";
        c->cap[CAP_GROUP].path = "/etc/group";
        c->cap[CAP_RPM_MACROS].path = "/usr/lib/rpm/macros";
        c->buf = malloc(COPY_BUF_SIZE);
        if (!c->buf)
                return -ENOMEM;
        r = pathmap_new(&c->paths);
        if (r >= 0)
                r = owners_new(&c->owners);
        if (r >= 0)
                r = ima_hasher_new(IMA_HASH_SHA256, &c->sha256);
        return r;
}

static void teardown(struct composer *c)
{
        ima_hasher_free(c->sha256);
        pathmap_free(c->paths);
        owners_free(c->owners);
        ima_trust_free(c->trust);
        sigpack_set_free(c->packs);
        verity_signer_free(c->vsigner);
        ima_key_free(c->key);
        sigreq_free(c->req);
        plan_free(&c->plan);
        for (int i = 0; i < CAP_COUNT; i++)
                free(c->cap[i].data);
        strv_free(c->warned_owners);
        scriptlets_free(c->scr);
        strv_free(c->inputs);
        free(c->buf);
}

static int write_packages(struct composer *c)
{
        struct ra_hooks hooks = { .finish = finish_files, .ctx = c,
                                  .sha256_for_weak = c->l->sigmode != SIGMODE_PACKAGE,
                                  .verity = c->l->verity ? &c->vparams : NULL };
        int r = readahead_start(c->plan.set->pkgs, c->plan.set->count, &hooks, &c->ra);

        for (c->pkg_index = 0; r >= 0 && c->pkg_index < c->plan.set->count; c->pkg_index++) {
                show_progress(c, c->pkg_index);
                r = write_package(c, c->plan.set->pkgs[c->pkg_index]);
        }
        readahead_stop(c->ra);
        c->ra = NULL;
        return r;
}

static int write_everything(struct composer *c)
{
        struct ext4img_usage u;
        int r;

        r = write_created_users(c);
        if (r >= 0)
                r = write_packages(c);
        if (r >= 0)
                r = apply_scriptlets(c);
        if (r < 0)
                return r;
        end_progress(c);
        stage_mark("packages");
        if ((r = write_ima_cert(c)) < 0 || (r = write_rpmdb(c)) < 0 || (r = write_kernel(c)) < 0)
                return r;
        stage_mark("rpmdb");
        if (c->plan.labels) {
                size_t n = 0;
                r = labels_apply(c->plan.labels, c->img, c->paths, &n);
                if (r < 0)
                        return r;
                c->rep->labelled += n;
                stage_mark("labels");
        }
        if (ext4img_usage(c->img, &u) == 0) {
                c->rep->blocks_used = u.blocks_used;
                c->rep->block_size = u.block_size;
        }
        return 0;
}

/* Every file compose reads, so that no output can be one of them. */
static int collect_inputs(struct composer *c)
{
        const struct layout *l = c->l;
        int r = strv_pushf(&c->inputs, "%s", l->path);

        for (size_t i = 0; r >= 0 && l->certificates && l->certificates[i]; i++)
                r = strv_pushf(&c->inputs, "%s", l->certificates[i]);
        for (size_t i = 0; r >= 0 && l->gpg_keys && l->gpg_keys[i]; i++)
                r = strv_pushf(&c->inputs, "%s", l->gpg_keys[i]);
        if (r >= 0 && l->key)
                r = strv_pushf(&c->inputs, "%s", l->key);
        if (r >= 0 && l->kernel)
                r = strv_pushf(&c->inputs, "%s", l->kernel);
        if (r >= 0 && l->policy_file)
                r = strv_pushf(&c->inputs, "%s", l->policy_file);
        if (r >= 0 && l->sb_key)
                r = strv_pushf(&c->inputs, "%s", l->sb_key);
        if (r >= 0 && l->sb_certificate)
                r = strv_pushf(&c->inputs, "%s", l->sb_certificate);
        if (r >= 0 && l->stub)
                r = strv_pushf(&c->inputs, "%s", l->stub);
        for (size_t i = 0; r >= 0 && i < c->plan.set->count; i++)
                r = strv_pushf(&c->inputs, "%s", rpmpkg_path(c->plan.set->pkgs[i]));
        return r < 0 ? -ENOMEM : 0;
}

/* The report may not be the image or a boot file (all are renamed at the
 * end: the second rename would find the first). */
static int check_distinct_outputs(const struct compose_opts *o)
{
        size_t n = strlen(o->output);
        const char *j = o->json_report;

        if (j && (!strcmp(j, o->output) ||
                  (!strncmp(j, o->output, n) &&
                   (!strcmp(j + n, ".vmlinuz") || !strcmp(j + n, ".initramfs") || !strcmp(j + n, ".cmdline")))))
                return imgerr(-EINVAL, "%s: --json-report names one of the image's own outputs", j);
        return 0;
}

/* Before the first byte: every output path accepted and its temporary
 * made, the boot files built in memory. */
static int open_outputs(struct composer *c)
{
        const char *const *in;
        int r = collect_inputs(c);

        if (r < 0)
                return r;
        in = (const char *const *)c->inputs;
        if (c->o->json_report &&
            (r = output_check(c->o->json_report, c->o->output_flags | OUTPUT_STDOUT, in)) < 0)
                return r;
        r = output_open(c->o->output, c->o->output_flags, 0644, in, &c->image);
        if (r < 0 || c->disk)   /* a disk carries kernel and initramfs in its UKI */
                return r;
        return bootfiles_prepare(c->l, c->o->output, c->rep->uuid, c->o->output_flags, in, &c->boot,
                                 &c->rep->warnings);
}

/* What the report says was written, and how to boot it. */
static int report_outputs(struct composer *c)
{
        struct bootfiles_paths bp;
        int r = strv_pushf(&c->rep->written, "%s", c->o->output);

        if (r >= 0 && c->o->defer_request)
                r = strv_pushf(&c->rep->written, "%s", c->o->defer_request);
        if (r >= 0 && c->disk)   /* kernel, initramfs, command line are in its UKI */
                r = asprintf(&c->rep->boot_command, "imgtool boot %s --uefi", c->o->output) < 0 ? -ENOMEM : 0;
        if (r < 0 || !c->l->kernel || c->disk)
                return r;
        if (bootfiles_paths(c->o->output, &bp) < 0)
                return -ENOMEM;
        if (strv_pushf(&c->rep->written, "%s", bp.vmlinuz) < 0 ||
            strv_pushf(&c->rep->written, "%s", bp.initramfs) < 0 ||
            strv_pushf(&c->rep->written, "%s", bp.cmdline) < 0 ||
            asprintf(&c->rep->boot_command, "imgtool boot %s%s", c->o->output,
                     c->l->test_hooks ? " --exec 'cat /proc/cmdline'" : "") < 0)
                r = -ENOMEM;
        bootfiles_paths_free(&bp);
        return r;
}

/* All outputs are complete: the report, then every rename. */
static int commit_outputs(struct composer *c)
{
        _cleanup_free_ char *json = NULL;
        struct output *report = NULL;
        int r;

        c->rep->seconds = now_seconds() - c->t0;
        r = report_outputs(c);
        if (r < 0)
                return r;
        if (c->o->json_report) {
                r = compose_report_json_text(c->rep, c->o->output, &json);
                if (r >= 0)
                        r = output_open(c->o->json_report, c->o->output_flags | OUTPUT_STDOUT, 0644,
                                        (const char *const *)c->inputs, &report);
                if (r >= 0 && !output_is_stdout(report) && (r = output_write(report, json, strlen(json))) < 0)
                        output_abort(report);
                if (r < 0)
                        return r;
        }
        r = output_commit(c->image);
        c->image = NULL;
        if (r >= 0 && c->request_out) {
                r = output_commit(c->request_out);
                c->request_out = NULL;
        }
        if (r >= 0)
                r = bootfiles_commit(&c->boot);
        if (report && r >= 0 && output_is_stdout(report)) {
                r = output_write(report, json, strlen(json));
                if (r >= 0)
                        r = output_write(report, "\n", 1);
        }
        if (report && r >= 0)
                r = output_commit(report);
        else
                output_abort(report);
        return r;
}

/* Users and groups (users.h) and SELinux labels (labels.h) are decided
 * before anything is written: owners resolve from the first file, inodes
 * are sized for the labels, the initramfs carries the policy. */
static int prepare_users_and_labels(struct composer *c)
{
        int r = plan_users(c->l, &c->plan, c->epoch, c->owners);

        if (r < 0)
                return r;
        c->rep->users_created = users_count_created(c->plan.users);
        for (char *const *n = users_notes(c->plan.users); n && *n; n++)
                if (strv_pushf(&c->rep->warnings, "%s", *n) < 0)
                        return -ENOMEM;
        r = plan_labels(c->l, &c->plan);
        if (r < 0 || !c->plan.labels)
                return r;
        snprintf(c->rep->selinux_policy, sizeof(c->rep->selinux_policy), "%s", labels_policy_name(c->plan.labels));
        c->boot.selinux.mode = labels_boot_mode(c->plan.labels, c->l);
        if (c->boot.selinux.mode && c->l->kernel &&
            !labels_binary_policy(c->plan.labels, &c->boot.selinux.policy, &c->boot.selinux.policy_len))
                return imgerr(-ENOENT, "%s: [SELinux] Mode=%s but the policy has no binary policy "
                              "(policy/policy.N) for the initramfs to load", c->l->path, c->boot.selinux.mode);
        return 0;
}

/* The lockfile's tail: the users and groups compose made. */
static void lock_users(const void *users, FILE *f)
{
        users_write_lock(users, f);
}

int compose_image(const struct compose_opts *o, struct compose_report *rep)
{
        struct composer c = { .l = o->layout, .o = o, .rep = rep };
        int r;

        memset(rep, 0, sizeof(*rep));
        c.t0 = now_seconds();
        stage_mark(NULL);
        /* the paths first: a typo fails before any work */
        r = check_distinct_outputs(o);
        if (r >= 0)
                r = output_check(o->output, o->output_flags, NULL);
        if (r >= 0 && o->json_report)
                r = output_check(o->json_report, o->output_flags | OUTPUT_STDOUT, NULL);
        if (r >= 0 && o->lock_out)
                r = output_check(o->lock_out, o->output_flags, NULL);
        if (r >= 0 && o->defer_request)
                r = output_check(o->defer_request, o->output_flags, NULL);
        if (r >= 0)
                r = setup(&c);
        if (r >= 0)
                r = plan_resolve(c.l, &c.plan);
        if (r < 0)
                goto out;
        rep->packages = c.plan.set->count;
        if ((r = list_skipped_scriptlets(&c)) < 0 || (r = load_keys(&c)) < 0 || (r = report_start(&c)) < 0)
                goto out;

        if (c.l->format == FORMAT_DISK && (r = bootdisk_prepare(c.l, c.req, &c.disk, &c.root_size, &rep->warnings)) < 0)
                goto out;
        c.epoch = rep->source_date_epoch = choose_epoch(&c);
        if ((r = run_scriptlets(&c)) < 0)
                goto out;
        bootdisk_start(c.disk);   /* the disk's initramfs packed while users, labels and outputs are prepared */
        if ((r = prepare_users_and_labels(&c)) < 0)
                goto out;
        choose_identity(&c);
        r = open_outputs(&c);
        if (r >= 0 && c.disk)
                r = bootdisk_size(c.disk);   /* joined before the fork */
        if (r < 0)
                goto out;
        /* before any thread exists (fork): the database needs only the headers */
        r = composedb_start(c.plan.set->pkgs, c.plan.set->count, c.epoch, &c.db);
        if (r >= 0)
                r = labels_prefetch(c.plan.labels, c.plan.set->pkgs, c.plan.set->count);  /* after the fork */
        if (r >= 0)
                r = bootfiles_start(&c.boot);   /* after the fork; joined in bootfiles_write */
        if (r < 0)
                goto out;
        stage_mark("resolve");
        r = create_image(&c);
        if (r < 0)
                goto out;
        stage_mark("create");
        r = write_everything(&c);
        if (r < 0)
                goto out;
        r = ext4img_close(c.img);
        c.img = NULL;
        if (r < 0)
                goto out;
        stage_mark("close");
        warn_boot_needs(&c);
        if (c.disk) {
                /* the image's temporary becomes the disk; commit renames it */
                struct bootdisk_made made = { 0 };
                r = bootdisk_finish(c.disk, output_tmp_path(c.image), o->output, c.epoch, &made);
                rep->disk_size = made.disk_size;
                rep->uki_size = made.uki_size;
                rep->uki_signed = made.uki_signed;
                memcpy(rep->root_partuuid, made.root_partuuid, sizeof(rep->root_partuuid));
                stage_mark("disk");
        } else {
                r = bootfiles_write(c.l, &c.boot);
        }
        if (r >= 0 && o->lock_out)
                r = lockfile_write(o->lock_out, o->output_flags, c.plan.set->pkgs, c.plan.set->origins, c.plan.set->count,
                                   lock_users, c.plan.users);
        if (r >= 0 && c.req)
                r = write_request(&c);
        if (r >= 0)
                r = commit_outputs(&c);
out:
        end_progress(&c);
        composedb_abort(c.db);
        if (c.img)
                ext4img_abort(c.img);   /* may report its writer's error only now */
        if (r < 0)
                output_rename_error(c.image, r);
        output_abort(c.image);
        output_abort(c.request_out);
        bootfiles_abort(&c.boot);
        rep->seconds = now_seconds() - c.t0;
        bootdisk_free(c.disk);
        teardown(&c);
        return r;
}

void compose_report_free(struct compose_report *rep)
{
        strv_free(rep->scriptlets_skipped);
        strv_free(rep->scriptlet_changes);
        strv_free(rep->scriptlet_runs);
        strv_free(rep->scriptlet_nondeterministic);
        strv_free(rep->created_unsigned);
        strv_free(rep->warnings);
        for (size_t i = 0; rep->pkgs && i < rep->packages; i++) {
                free(rep->pkgs[i].nevra);
                free(rep->pkgs[i].file);
        }
        free(rep->pkgs);
        free(rep->trusted_keyids);
        strv_free(rep->written);
        free(rep->boot_command);
        strv_free(rep->setid_cleared);
        memset(rep, 0, sizeof(*rep));
}
