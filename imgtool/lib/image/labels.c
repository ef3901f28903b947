#include "image/labels.h"

#include <errno.h>
#include <fnmatch.h>
#include <ftw.h>
#include <selinux/label.h>
#include <selinux/selinux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ext4/ext4img.h"
#include "layout/layout.h"
#include "base/output.h"
#include "rpm/pathmap.h"
#include "rpm/pkgread.h"
#include "base/util.h"

#define MAX_CONTEXTS_FILE (64u << 20)

struct labels {
        struct selabel_handle *h;
        char *name;
        char *config_mode;      /* SELINUX= of the set's /etc/selinux/config, or NULL */
        char *policy;           /* the binary policy (the highest policy.N), for the initramfs */
        size_t policy_len;
        int policy_version;
        size_t max_len;
};

/* ---- the policy from the package set -------------------------------- */

struct extract {
        char *config;           /* /etc/selinux/config */
        char *tmp;              /* contexts files (and policy/policy.N) land in tmp/NAME/... */
};

static bool want_selinux(const char *path, void *ctx)
{
        size_t n = strlen(path);
        if (!strcmp(path, "/etc/selinux/config"))
                return true;
        if (!fnmatch("/etc/selinux/*/policy/policy.[0-9]*", path, FNM_PATHNAME))
                return true;
        return !fnmatch("/etc/selinux/*/contexts/files/*", path, FNM_PATHNAME) &&
               !(n > 4 && !strcmp(path + n - 4, ".bin"));
}

static int mkdirs(char *path)
{
        for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                if (mkdir(path, 0700) < 0 && errno != EEXIST) {
                        int r = -errno;
                        *s = '/';
                        return r;
                }
                *s = '/';
        }
        return 0;
}

static int got_selinux(const char *path, const char *pkg, char *data, size_t len, void *ctx)
{
        struct extract *x = ctx;
        _cleanup_free_ char *dst = NULL;
        int r;

        if (!strcmp(path, "/etc/selinux/config")) {
                free(x->config);
                x->config = data;
                return 0;
        }
        if (asprintf(&dst, "%s%s", x->tmp, path + strlen("/etc/selinux")) < 0) {
                free(data);
                return -ENOMEM;
        }
        r = mkdirs(dst);
        if (r >= 0)
                r = output_write_file(dst, 0, 0600, NULL, data, len);
        free(data);
        if (r < 0)
                return imgerr_prefix(r, "%s: %s: cannot extract: ", pkg, path);
        return 0;
}

/* KEY= of a config text, or NULL. */
static char *config_value(const char *config, const char *key)
{
        const char *p = config;
        size_t klen = strlen(key);

        while (p && *p) {
                const char *eol = strchrnul(p, '\n');
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!strncmp(p, key, klen) && p[klen] == '=') {
                        const char *v = p + klen + 1, *e = v;
                        while (e < eol && *e != ' ' && *e != '\t' && *e != '\r')
                                e++;
                        if (e > v)
                                return strndup(v, (size_t)(e - v));
                }
                p = *eol ? eol + 1 : eol;
        }
        return NULL;
}

/* The highest policy.N in DIR/policy (N <= 33, what kernels take today). */
static int read_binary_policy(struct labels *lb, const char *dir)
{
        for (int n = 33; n >= 15; n--) {
                _cleanup_free_ char *path = NULL;
                _cleanup_fclose_ FILE *f = NULL;
                long len;

                if (asprintf(&path, "%s/policy/policy.%d", dir, n) < 0)
                        return -ENOMEM;
                f = fopen(path, "re");
                if (!f)
                        continue;
                if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) <= 0 || len > (long)MAX_CONTEXTS_FILE ||
                    fseek(f, 0, SEEK_SET) < 0)
                        return imgerr(-EBADMSG, "%s: not a usable policy file", path);
                lb->policy = malloc((size_t)len);
                if (!lb->policy)
                        return -ENOMEM;
                if (fread(lb->policy, 1, (size_t)len, f) != (size_t)len)
                        return imgerr(-EIO, "%s: read error", path);
                lb->policy_len = (size_t)len;
                lb->policy_version = n;
                return 0;
        }
        return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

/* ---- labelling -------------------------------------------------------- */

/* The longest context in the file_contexts files: the last field of a line. */
static size_t longest_context(const char *fc)
{
        const char *suffixes[] = { "", ".homedirs", ".local" };
        size_t best = 0;

        for (size_t k = 0; k < ARRAY_SIZE(suffixes); k++) {
                _cleanup_free_ char *path = NULL, *line = NULL;
                _cleanup_fclose_ FILE *f = NULL;
                size_t cap = 0;
                ssize_t n;

                if (asprintf(&path, "%s%s", fc, suffixes[k]) < 0 || !(f = fopen(path, "re")))
                        continue;
                while ((n = getline(&line, &cap, f)) > 0) {
                        char *end = line + n, *start;
                        while (end > line && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
                                end--;
                        start = end;
                        while (start > line && start[-1] != ' ' && start[-1] != '\t')
                                start--;
                        if ((size_t)(end - start) > best)
                                best = (size_t)(end - start);
                }
        }
        return best + 1;
}

static int open_handle(struct labels *lb, const char *fc, const char *origin)
{
        struct selinux_opt opt = { SELABEL_OPT_PATH, fc };

        if (access(fc, R_OK) < 0)
                return imgerr(-ENOENT, "%s: no %s (the policy's file contexts)", origin, fc);
        lb->h = selabel_open(SELABEL_CTX_FILE, &opt, 1);
        if (!lb->h)
                return imgerr(-EBADMSG, "%s: libselinux cannot load %s: %s", origin, fc, strerror(errno));
        lb->max_len = longest_context(fc);
        return 0;
}

static int open_from_set(const struct layout *l, const struct pkgset *s, struct labels *lb)
{
        char tmpl[] = "/tmp/imgtool-selinux.XXXXXX";
        struct extract x = { NULL, NULL };
        _cleanup_free_ char *fc = NULL;
        int r;

        if (!mkdtemp(tmpl))
                return imgerr(-errno, "cannot make a temporary folder: %s", strerror(errno));
        x.tmp = tmpl;
        r = pkgread_files(s, want_selinux, got_selinux, MAX_CONTEXTS_FILE, &x);
        if (r >= 0 && x.config)
                lb->config_mode = config_value(x.config, "SELINUX");
        if (r >= 0 && x.config && !(lb->name = config_value(x.config, "SELINUXTYPE")))
                r = imgerr(-EBADMSG, "%s: the package set's /etc/selinux/config names no SELINUXTYPE=", l->path);
        if (r >= 0 && lb->name) {
                if (strchr(lb->name, '/') || !strcmp(lb->name, "..") || asprintf(&fc, "%s/%s/contexts/files/file_contexts", tmpl, lb->name) < 0)
                        r = imgerr(-EINVAL, "%s: SELINUXTYPE=%s is not a policy name", l->path, lb->name);
                else if (access(fc, R_OK) < 0)
                        r = imgerr(-ENOENT, "%s: the package set's /etc/selinux/config says SELINUXTYPE=%s, but no "
                                   "package ships /etc/selinux/%s/contexts/files/file_contexts", l->path, lb->name, lb->name);
                else
                        r = open_handle(lb, fc, l->path);
        }
        if (r >= 0 && lb->name) {
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "%s/%s", tmpl, lb->name) < 0)
                        r = -ENOMEM;
                else
                        r = read_binary_policy(lb, dir);
        }
        free(x.config);
        nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return r;
}

int labels_open(const struct layout *l, const struct pkgset *s, struct labels **out)
{
        struct labels *lb = calloc(1, sizeof(*lb));
        int r;

        *out = NULL;
        if (!lb)
                return -ENOMEM;
        if (l->selinux_policy) {
                _cleanup_free_ char *fc = NULL, *copy = strdup(l->selinux_policy);
                char *base = copy ? strrchr(copy, '/') : NULL;
                lb->name = strdup(base ? base + 1 : l->selinux_policy);
                if (asprintf(&fc, "%s/contexts/files/file_contexts", l->selinux_policy) < 0 || !lb->name)
                        r = -ENOMEM;
                else
                        r = open_handle(lb, fc, l->path);
                if (r >= 0)
                        r = read_binary_policy(lb, l->selinux_policy);
        } else {
                r = open_from_set(l, s, lb);
        }
        if (r < 0 || !lb->h) {
                labels_free(lb);
                return r < 0 ? r : 0;
        }
        *out = lb;
        return 0;
}

void labels_free(struct labels *lb)
{
        if (!lb)
                return;
        if (lb->h)
                selabel_close(lb->h);
        free(lb->name);
        free(lb->config_mode);
        free(lb->policy);
        free(lb);
}

const char *labels_policy_name(const struct labels *lb)
{
        return lb ? lb->name : NULL;
}

size_t labels_max_len(const struct labels *lb)
{
        return lb ? lb->max_len : 0;
}

int labels_lookup(struct labels *lb, const char *path, mode_t mode, char **con)
{
        *con = NULL;
        if (selabel_lookup_raw(lb->h, con, path, (int)(mode & S_IFMT)) < 0) {
                if (errno == ENOENT)
                        return 0;
                return imgerr(-errno, "%s: label lookup failed: %s", path, strerror(errno));
        }
        if (!strcmp(*con, "<<none>>")) {
                freecon(*con);
                *con = NULL;
        }
        return 0;
}

struct apply {
        struct labels *lb;
        struct ext4img *img;
        size_t count;
};

static int label_one(struct apply *a, const char *path, mode_t mode)
{
        char *con = NULL;
        int r = labels_lookup(a->lb, path, mode, &con);

        if (r < 0 || !con)
                return r;
        r = ext4img_set_xattr(a->img, path, "security.selinux", con, strlen(con) + 1);
        freecon(con);
        if (r >= 0)
                a->count++;
        return r;
}

/* Regular files got theirs when they were written (compose). */
static int label_entry(struct pathmap_entry *e, void *ctx)
{
        return S_ISREG(e->mode) ? 0 : label_one(ctx, e->path, e->mode);
}

int labels_apply(struct labels *lb, struct ext4img *img, struct pathmap *paths, size_t *count)
{
        struct apply a = { lb, img, 0 };
        mode_t mode;
        int r = 0;

        /* what libext2fs made, unless the path map has it already */
        if (!pathmap_get(paths, "/"))
                r = label_one(&a, "/", S_IFDIR);
        if (r >= 0 && !pathmap_get(paths, "/lost+found") && ext4img_lookup(img, "/lost+found", &mode) == 1)
                r = label_one(&a, "/lost+found", S_IFDIR);
        if (r >= 0)
                r = pathmap_foreach(paths, label_entry, &a);
        *count = a.count;
        return r;
}

const char *labels_boot_mode(const struct labels *lb, const struct layout *l)
{
        if (!lb || l->selinux_mode == SELINUX_OFF)
                return NULL;
        if (l->selinux_mode == SELINUX_ENFORCING)
                return "enforcing";
        if (l->selinux_mode == SELINUX_PERMISSIVE)
                return "permissive";
        /* default: what the image's own /etc/selinux/config says */
        if (lb->config_mode && !strcmp(lb->config_mode, "enforcing"))
                return "enforcing";
        if (lb->config_mode && !strcmp(lb->config_mode, "permissive"))
                return "permissive";
        return NULL;
}

bool labels_binary_policy(const struct labels *lb, const void **data, size_t *len)
{
        if (!lb || !lb->policy)
                return false;
        *data = lb->policy;
        *len = lb->policy_len;
        return true;
}
