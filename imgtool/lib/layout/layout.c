#include "layout/layout.h"

#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

#include "boot/initramfs.h"
#include "ima/policy.h"
#include "base/util.h"
#include "ima/verity.h"

/* ---- the key table ----------------------------------------------------- */

struct parse_ctx {
        struct layout *l;
        const char *file;  /* for messages */
        unsigned line;
        int error;
};

typedef int (*key_fn)(struct parse_ctx *c, const char *value, void *field);

struct key_def {
        const char *section, *key;
        key_fn parse;
        size_t offset;
};



static int bad_value(struct parse_ctx *c, const char *key, const char *value, const char *want)
{
        if (c->line)
                return imgerr(-EINVAL, "%s:%u: %s=%s: %s", c->file, c->line, key, value, want);
        return imgerr(-EINVAL, "%s: --set %s=%s: %s", c->file, key, value, want);
}

static char *resolve_path(const struct layout *l, const char *p)
{
        char *out;
        if (p[0] == '/')
                return strdup(p);
        if (asprintf(&out, "%s/%s", l->dir, p) < 0)
                return NULL;
        return out;
}

static int parse_string(struct parse_ctx *c, const char *value, void *field)
{
        char **f = field;
        free(*f);
        *f = *value ? strdup(value) : NULL;
        return 0;
}

static int parse_path(struct parse_ctx *c, const char *value, void *field)
{
        char **f = field;
        free(*f);
        *f = *value ? resolve_path(c->l, value) : NULL;
        return 0;
}

/* Lists: whitespace separated; a repeated key appends; an empty value resets. */
static int parse_list_common(struct parse_ctx *c, const char *value, char ***f, bool paths)
{
        _cleanup_free_ char *copy = strdup(value);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        if (!*value) {
                strv_free(*f);
                *f = NULL;
                return 0;
        }
        for (char *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
                char *item = paths ? resolve_path(c->l, tok) : strdup(tok);
                int r = item ? strv_push(f, item) : -ENOMEM;
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A path inside the image: absolute, not resolved against the layout. */
static int parse_path_abs(struct parse_ctx *c, const char *value, void *field)
{
        if (*value && value[0] != '/')
                return bad_value(c, "Init", value, "expected an absolute path inside the image");
        return parse_string(c, value, field);
}

static int parse_list(struct parse_ctx *c, const char *value, void *field)
{
        return parse_list_common(c, value, field, false);
}

static int parse_path_list(struct parse_ctx *c, const char *value, void *field)
{
        return parse_list_common(c, value, field, true);
}

static int parse_bool_value(const char *v)
{
        if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
                return 1;
        if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "off"))
                return 0;
        return -1;
}

static int parse_bool(struct parse_ctx *c, const char *value, void *field)
{
        int b = parse_bool_value(value);
        if (b < 0)
                return bad_value(c, "boolean", value, "expected yes or no");
        *(bool *)field = b;
        return 0;
}

static int parse_image_size(struct parse_ctx *c, const char *value, void *field)
{
        struct layout *l = c->l;
        if (!strcasecmp(value, "auto")) {
                l->size_auto = true;
                l->size = 0;
                return 0;
        }
        if (parse_size(value, &l->size) < 0 || l->size < (4u << 20) || l->size > (1ull << 50))
                return bad_value(c, "Size", value, "expected a size such as 512M, 2G, or auto (4M to 1P)");
        if (l->size % 4096)
                return bad_value(c, "Size", value, "not a multiple of 4K (the block size)");
        l->size_auto = false;
        return 0;
}

static int parse_label(struct parse_ctx *c, const char *value, void *field)
{
        if (strlen(value) > 16)
                return bad_value(c, "Label", value, "an ext4 label has at most 16 characters");
        for (const char *p = value; *p; p++)
                if (*p == ' ' || *p == '/')
                        return bad_value(c, "Label", value, "no spaces or slashes (it becomes root=LABEL=...)");
        return parse_string(c, value, field);
}

static int parse_root(struct parse_ctx *c, const char *value, void *field)
{
        if (*value && initramfs_check_root(value) < 0) {
                _cleanup_free_ char *why = strdup(imgerr_msg());
                return bad_value(c, "Root", value, why ? why : "not a root spec");
        }
        return parse_string(c, value, field);
}

static int parse_inode_size(struct parse_ctx *c, const char *value, void *field)
{
        char *end;
        unsigned long v;
        if (!strcasecmp(value, "auto")) {
                c->l->inode_size = 0;
                return 0;
        }
        v = strtoul(value, &end, 10);
        if (*end || v < 256 || v > 4096 || (v & (v - 1)))
                return bad_value(c, "InodeSize", value, "expected auto or a power of two from 256 to 4096");
        c->l->inode_size = (unsigned)v;
        return 0;
}

static int parse_epoch(struct parse_ctx *c, const char *value, void *field)
{
        char *end;
        long long v;
        if (!*value) {
                c->l->source_date_epoch = -1;
                return 0;
        }
        errno = 0;
        v = strtoll(value, &end, 10);
        if (errno || *end || v < 0 || v > UINT32_MAX)
                return bad_value(c, "SourceDateEpoch", value, "expected seconds since 1970");
        c->l->source_date_epoch = v;
        return 0;
}

static int parse_sigmode(struct parse_ctx *c, const char *value, void *field)
{
        if (!strcmp(value, "package"))
                c->l->sigmode = SIGMODE_PACKAGE;
        else if (!strcmp(value, "sign"))
                c->l->sigmode = SIGMODE_SIGN;
        else if (!strcmp(value, "package-or-sign"))
                c->l->sigmode = SIGMODE_PACKAGE_OR_SIGN;
        else
                return bad_value(c, "Mode", value, "expected package, sign or package-or-sign");
        return 0;
}

static int parse_scriptlets(struct parse_ctx *c, const char *value, void *field)
{
        if (!strcmp(value, "error"))
                c->l->scriptlets = SCRIPTLETS_ERROR;
        else if (!strcmp(value, "skip"))
                c->l->scriptlets = SCRIPTLETS_SKIP;
        else
                return bad_value(c, "Scriptlets", value, "expected error or skip");
        return 0;
}

static int parse_selinux_mode(struct parse_ctx *c, const char *value, void *field)
{
        if (!strcmp(value, "enforcing"))
                c->l->selinux_mode = SELINUX_ENFORCING;
        else if (!strcmp(value, "permissive"))
                c->l->selinux_mode = SELINUX_PERMISSIVE;
        else if (!strcmp(value, "off"))
                c->l->selinux_mode = SELINUX_OFF;
        else
                return bad_value(c, "Mode", value, "expected enforcing, permissive or off");
        return 0;
}

static int parse_verity_sigs(struct parse_ctx *c, const char *value, void *field)
{
        if (!strcmp(value, "ima-v3"))
                c->l->verity_sigs = VERITY_SIGS_IMA_V3;
        else if (!strcmp(value, "builtin"))
                c->l->verity_sigs = VERITY_SIGS_BUILTIN;
        else if (!strcmp(value, "ipe"))
                c->l->verity_sigs = VERITY_SIGS_IPE;
        else
                return bad_value(c, "Signatures", value, "expected ima-v3, builtin or ipe");
        return 0;
}

static int parse_salt(struct parse_ctx *c, const char *value, void *field)
{
        struct verity_params p;
        if (verity_params_parse_salt(&p, value) < 0)
                return bad_value(c, "Salt", value, "expected 1 to 32 bytes in hex, or nothing");
        return parse_string(c, value, field);
}

static int parse_format(struct parse_ctx *c, const char *value, void *field)
{
        if (!strcmp(value, "ext4"))
                c->l->format = FORMAT_EXT4;
        else if (!strcmp(value, "disk"))
                c->l->format = FORMAT_DISK;
        else
                return bad_value(c, "Format", value, "expected ext4 or disk");
        return 0;
}

#define F(x) offsetof(struct layout, x)
static const struct key_def keys[] = {
        { "Image", "Size", parse_image_size, 0 },
        { "Image", "Label", parse_label, F(label) },
        { "Image", "InodeSize", parse_inode_size, 0 },
        { "Image", "Seed", parse_string, F(seed) },
        { "Image", "SourceDateEpoch", parse_epoch, 0 },
        { "Image", "Format", parse_format, 0 },
        { "Packages", "Directory", parse_path_list, F(directories) },
        { "Packages", "Install", parse_list, F(install) },
        { "Packages", "GpgKey", parse_path_list, F(gpg_keys) },
        { "Packages", "Scriptlets", parse_scriptlets, 0 },
        { "Packages", "Repository", parse_list, F(repositories) },
        { "Packages", "WeakDeps", parse_bool, F(weak_deps) },
        { "Packages", "Exclude", parse_list, F(exclude) },
        { "Packages", "Lock", parse_path, F(lock) },
        { "Users", "Previous", parse_path, F(users_previous) },
        { "SELinux", "Policy", parse_path, F(selinux_policy) },
        { "SELinux", "Mode", parse_selinux_mode, 0 },
        { "Signatures", "Mode", parse_sigmode, 0 },
        { "Signatures", "Certificate", parse_path_list, F(certificates) },
        { "Signatures", "Key", parse_path, F(key) },
        { "Signatures", "AllowUnsigned", parse_list, F(allow_unsigned) },
        { "Signatures", "Packs", parse_path_list, F(packs) },
        { "Policy", "File", parse_path, F(policy_file) },
        { "Policy", "AppraiseRootReads", parse_bool, F(appraise_root_reads) },
        { "Policy", "Measure", parse_bool, F(measure) },
        { "Verity", "Enable", parse_bool, F(verity) },
        { "Verity", "Signatures", parse_verity_sigs, 0 },
        { "Verity", "Salt", parse_salt, F(verity_salt) },
        { "Boot", "Kernel", parse_path, F(kernel) },
        { "Boot", "CommandLine", parse_string, F(cmdline) },
        { "Boot", "Root", parse_root, F(root) },
        { "Boot", "RootReadWrite", parse_bool, F(root_rw) },
        { "Boot", "TestHooks", parse_bool, F(test_hooks) },
        { "Boot", "Init", parse_path_abs, F(init) },
        { "Boot", "Modules", parse_list, F(modules) },
        { "Boot", "ModulesDirectory", parse_path, F(modules_dir) },
        { "Boot", "Stub", parse_path, F(stub) },
        { "SecureBoot", "Key", parse_path, F(sb_key) },
        { "SecureBoot", "Certificate", parse_path, F(sb_certificate) },
};
#undef F

static const struct key_def *find_key(const char *section, const char *key, bool *section_known)
{
        *section_known = false;
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                if (strcmp(keys[i].section, section))
                        continue;
                *section_known = true;
                if (!strcmp(keys[i].key, key))
                        return &keys[i];
        }
        return NULL;
}

/* Every value is one line of text: a control character (a newline from
 * --set, a CR, an escape) could reach init.conf or a terminal. */
static int check_text(struct parse_ctx *c, const char *section, const char *key, const char *value)
{
        for (const char *p = value; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                        if (c->line)
                                return imgerr(-EINVAL, "%s:%u: [%s] %s: the value contains a control character (byte 0x%02x)",
                                              c->file, c->line, section, key, (unsigned char)*p);
                        return imgerr(-EINVAL, "%s: --set %s.%s: the value contains a control character (byte 0x%02x)",
                                      c->file, section, key, (unsigned char)*p);
                }
        return 0;
}

static int apply_key(struct parse_ctx *c, const char *section, const char *key, const char *value)
{
        bool section_known;
        const struct key_def *k = find_key(section, key, &section_known);
        int r = check_text(c, section, key, value);

        if (r < 0)
                return r;
        if (!k) {
                const char *what = section_known ? "unknown key" : "unknown section";
                if (c->line)
                        return imgerr(-EINVAL, "%s:%u: %s [%s] %s (see layouts/README.md)",
                                      c->file, c->line, what, section, key);
                return imgerr(-EINVAL, "%s: --set %s.%s: %s", c->file, section, key, what);
        }
        r = k->parse(c, value, (char *)c->l + k->offset);
        if (r >= 0)
                c->l->origins[k - keys] = (struct layout_origin){ c->line ? LAYOUT_FILE : LAYOUT_SET, c->line };
        return r;
}

static int on_ini_entry(void *user, const char *section, const char *key, const char *value)
{
        struct parse_ctx *c = user;
        if (c->error)
                return 0;
        if (!key) /* a section header with no keys yet */
                return 1;
        c->error = apply_key(c, section, key, value);
        return c->error ? 0 : 1;
}

/* The layout is read whole (read_file_max: at most LAYOUT_MAX bytes) and
 * handed to inih one line per call, so line numbers are ours and a line may
 * be as long as the file: Debian's libinih reads its line length limit
 * (ini_max_line, ini_initial_alloc: 200 by default) at run time, and
 * both are raised to the longest line before parsing. */
#define LAYOUT_MAX (16u << 20)

struct line_reader {
        const char *p, *end;
        struct parse_ctx *c;
};

static char *read_line(char *buf, int size, void *stream)
{
        struct line_reader *lr = stream;
        const char *eol;
        size_t n;

        if (lr->p >= lr->end)
                return NULL;
        eol = memchr(lr->p, '\n', (size_t)(lr->end - lr->p));
        n = eol ? (size_t)(eol - lr->p) + 1 : (size_t)(lr->end - lr->p);
        if (n >= (size_t)size)   /* cannot happen: ini_max_line covers the longest line */
                n = (size_t)size - 1;
        memcpy(buf, lr->p, n);
        buf[n] = 0;
        lr->p += n;
        lr->c->line++;
        return buf;
}

/* NUL bytes are refused (inih would end the line there); the longest line
 * sets inih's buffer. */
static int scan_lines(const char *path, const char *data, size_t len, size_t *longest)
{
        unsigned line = 1;
        size_t start = 0;

        *longest = 0;
        for (size_t i = 0; i < len; i++) {
                if (data[i] == 0)
                        return imgerr(-EINVAL, "%s:%u: contains a NUL byte: not a text file", path, line);
                if (data[i] == '\n') {
                        if (i + 1 - start > *longest)
                                *longest = i + 1 - start;
                        start = i + 1;
                        line++;
                }
        }
        if (len - start > *longest)
                *longest = len - start;
        return 0;
}

static int apply_override(struct parse_ctx *c, const char *ov)
{
        _cleanup_free_ char *copy = strdup(ov);
        char *eq, *dot;

        if (!copy)
                return -ENOMEM;
        eq = strchr(copy, '=');
        dot = eq ? memchr(copy, '.', (size_t)(eq - copy)) : NULL;
        if (!eq || !dot)
                return imgerr(-EINVAL, "--set %s: expected Section.Key=Value", ov);
        *eq = *dot = 0;
        return apply_key(c, copy, dot + 1, eq + 1);
}

static int sha256_hex(const void *data, size_t len, char **hex)
{
        unsigned char md[32];
        unsigned int mdlen;

        if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
                return imgerr(-EIO, "sha256 failed");
        *hex = malloc(65);
        if (!*hex)
                return -ENOMEM;
        hex_encode(md, 32, *hex);
        return 0;
}

static int check_required(const struct layout *l)
{
        if (!l->directories && !l->repositories && !l->lock)
                return imgerr(-EINVAL, "%s: [Packages] needs Directory=, Repository= or Lock=", l->path);
        if (l->directories && l->repositories)
                return imgerr(-EINVAL, "%s: [Packages] Directory= and Repository= cannot be mixed "
                              "(make the folder a repository with createrepo_c)", l->path);
        if (!l->install && !l->lock)
                return imgerr(-EINVAL, "%s: [Packages] Install= is required", l->path);
        if (l->sigmode != SIGMODE_PACKAGE && !l->key)
                return imgerr(-EINVAL, "%s: [Signatures] Mode=%s needs Key=", l->path,
                              l->sigmode == SIGMODE_SIGN ? "sign" : "package-or-sign");
        if (l->sigmode != SIGMODE_SIGN && !l->certificates)
                return imgerr(-EINVAL, "%s: [Signatures] Mode=%s needs Certificate= (the keys package signatures must verify with)",
                              l->path, l->sigmode == SIGMODE_PACKAGE ? "package" : "package-or-sign");
        if (l->verity && !l->key)
                return imgerr(-EINVAL, "%s: [Verity] Enable=yes needs [Signatures] Key= (the verity signatures are the owner's)",
                              l->path);
        if (l->packs && l->sigmode == SIGMODE_SIGN)
                return imgerr(-EINVAL, "%s: [Signatures] Packs= needs Mode=package or package-or-sign "
                              "(Mode=sign signs every file itself)", l->path);
        if (l->verity && !l->certificates)
                return imgerr(-EINVAL, "%s: [Verity] Enable=yes needs [Signatures] Certificate= (the key's own certificate first)",
                              l->path);
        if (!l->sb_key != !l->sb_certificate)
                return imgerr(-EINVAL, "%s: [SecureBoot] needs both Key= and Certificate= (the db key that signs the UKI and its cert)",
                              l->path);
        if (l->format == FORMAT_DISK && !l->kernel)
                return imgerr(-EINVAL, "%s: [Image] Format=disk needs [Boot] Kernel= (the disk boots a UKI made from it)", l->path);
        if (l->format != FORMAT_DISK && l->sb_key)
                return imgerr(-EINVAL, "%s: [SecureBoot] signs the UKI of a disk: it needs [Image] Format=disk", l->path);
        return 0;
}

/* Files whose content is a setting, checked now whatever else the layout
 * says: the policy (even without Kernel=). */
static int check_files(const struct layout *l)
{
        _cleanup_free_ char *text = NULL;
        int r;

        if (!l->policy_file)
                return 0;
        r = read_text_file(l->policy_file, &text);
        if (r < 0)
                return imgerr_prefix(r, "%s: [Policy] File: ", l->path);
        r = policy_validate(text);
        if (r < 0)
                return imgerr_prefix(r, "%s: [Policy] File=%s: ", l->path, l->policy_file);
        return 0;
}

static int layout_defaults(struct layout *l, const char *path)
{
        char *copy;
        l->path = strdup(path);
        copy = strdup(path);
        if (!l->path || !copy) {
                free(copy);
                return -ENOMEM;
        }
        l->dir = strdup(dirname(copy));
        free(copy);
        l->origins = calloc(ARRAY_SIZE(keys), sizeof(*l->origins)); /* all LAYOUT_DEFAULT */
        if (!l->origins)
                return -ENOMEM;
        l->size_auto = true;
        l->source_date_epoch = -1;
        l->scriptlets = SCRIPTLETS_ERROR;
        l->sigmode = SIGMODE_PACKAGE;
        l->appraise_root_reads = true;
        l->measure = true;
        l->weak_deps = true;
        return l->dir ? 0 : -ENOMEM;
}

int layout_load(const char *path, char *const *overrides, struct layout **out)
{
        _cleanup_free_ uint8_t *data = NULL;
        struct layout *l = calloc(1, sizeof(*l));
        struct parse_ctx c = { .l = l, .file = path };
        struct line_reader lr = { .c = &c };
        size_t len, longest;
        int r;

        if (!l)
                return -ENOMEM;
        r = layout_defaults(l, path);
        if (r < 0)
                goto fail;
        r = read_file_max(path, LAYOUT_MAX, "layouts", &data, &len);
        if (r < 0)
                goto fail;
        if ((r = scan_lines(path, (const char *)data, len, &longest)) < 0 ||
            (r = sha256_hex(data, len, &l->digest_hex)) < 0)
                goto fail;
        lr.p = (const char *)data;
        lr.end = lr.p + len;
        ini_use_stack = false;
        ini_allow_realloc = false;
        ini_max_line = longest + 3 > INI_MAX_LINE ? (int)longest + 3 : INI_MAX_LINE;
        ini_initial_alloc = ini_max_line;   /* the buffer inih mallocs and hands the reader */
        r = ini_parse_stream(read_line, &lr, on_ini_entry, &c);
        if (c.error) {
                r = c.error;
                goto fail;
        }
        if (r != 0) {
                r = imgerr(-EINVAL, "%s:%d: not a valid INI line", path, r);
                goto fail;
        }
        c.line = 0;
        for (size_t i = 0; overrides && overrides[i]; i++) {
                r = apply_override(&c, overrides[i]);
                if (r < 0)
                        goto fail;
        }
        r = check_required(l);
        if (r >= 0)
                r = check_files(l);
        if (r < 0)
                goto fail;
        *out = l;
        return 0;
fail:
        layout_free(l);
        return r;
}

void layout_free(struct layout *l)
{
        if (!l)
                return;
        free(l->path);
        free(l->dir);
        free(l->digest_hex);
        free(l->label);
        free(l->seed);
        strv_free(l->directories);
        strv_free(l->install);
        strv_free(l->gpg_keys);
        strv_free(l->repositories);
        strv_free(l->exclude);
        free(l->lock);
        free(l->users_previous);
        free(l->selinux_policy);
        strv_free(l->certificates);
        free(l->key);
        strv_free(l->allow_unsigned);
        strv_free(l->packs);
        free(l->policy_file);
        free(l->verity_salt);
        free(l->kernel);
        free(l->cmdline);
        free(l->root);
        free(l->init);
        strv_free(l->modules);
        free(l->modules_dir);
        free(l->origins);
        free(l->stub);
        free(l->sb_key);
        free(l->sb_certificate);
        free(l);
}

/* ---- reading keys back (imgtool summary) ------------------------------------ */

size_t layout_key_count(void)
{
        return ARRAY_SIZE(keys);
}

struct layout_key_info layout_key(size_t i)
{
        return (struct layout_key_info){ keys[i].section, keys[i].key };
}

static const char *sigmode_name(enum layout_sigmode m)
{
        return m == SIGMODE_SIGN ? "sign" : m == SIGMODE_PACKAGE_OR_SIGN ? "package-or-sign" : "package";
}

static int join_list(char *const *v, char **text)
{
        size_t n = 1;
        for (size_t i = 0; v && v[i]; i++)
                n += strlen(v[i]) + 1;
        *text = calloc(1, n);
        if (!*text)
                return -ENOMEM;
        for (size_t i = 0; v && v[i]; i++) {
                if (i)
                        strcat(*text, " ");
                strcat(*text, v[i]);
        }
        return 0;
}

int layout_key_value(const struct layout *l, size_t i, char **text)
{
        const struct key_def *k = &keys[i];
        const void *field = (const char *)l + k->offset;
        int r;

        if (k->parse == parse_list || k->parse == parse_path_list)
                return join_list(*(char *const *const *)field, text);
        if (k->parse == parse_string || k->parse == parse_path || k->parse == parse_path_abs ||
            k->parse == parse_label || k->parse == parse_root)
                r = asprintf(text, "%s", *(char *const *)field ? *(char *const *)field : "");
        else if (k->parse == parse_bool)
                r = asprintf(text, "%s", *(const bool *)field ? "yes" : "no");
        else if (k->parse == parse_image_size)
                r = l->size_auto ? asprintf(text, "auto") : asprintf(text, "%llu", (unsigned long long)l->size);
        else if (k->parse == parse_inode_size)
                r = l->inode_size ? asprintf(text, "%u", l->inode_size) : asprintf(text, "auto");
        else if (k->parse == parse_epoch)
                r = l->source_date_epoch < 0 ? asprintf(text, "%s", "") : asprintf(text, "%lld", (long long)l->source_date_epoch);
        else if (k->parse == parse_sigmode)
                r = asprintf(text, "%s", sigmode_name(l->sigmode));
        else if (k->parse == parse_scriptlets)
                r = asprintf(text, "%s", l->scriptlets == SCRIPTLETS_SKIP ? "skip" : "error");
        else if (k->parse == parse_format)
                r = asprintf(text, "%s", l->format == FORMAT_DISK ? "disk" : "ext4");
        else if (k->parse == parse_salt)
                r = asprintf(text, "%s", l->verity_salt ? l->verity_salt : "");
        else if (k->parse == parse_selinux_mode)
                r = asprintf(text, "%s", l->selinux_mode == SELINUX_ENFORCING ? "enforcing" :
                                         l->selinux_mode == SELINUX_PERMISSIVE ? "permissive" :
                                         l->selinux_mode == SELINUX_OFF ? "off" : "");
        else if (k->parse == parse_verity_sigs)
                r = asprintf(text, "%s", l->verity_sigs == VERITY_SIGS_BUILTIN ? "builtin" :
                                         l->verity_sigs == VERITY_SIGS_IPE ? "ipe" : "ima-v3");
        else
                r = asprintf(text, "?"); /* a parser this function does not know: add it above */
        return r < 0 ? -ENOMEM : 0;
}

int layout_from_lock(const char *path, struct layout **out)
{
        struct layout *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        r = layout_defaults(l, path);
        /* the lock's @user/@group lines are the ids the image was given */
        if (r >= 0 && (!(l->lock = strdup(path)) || !(l->users_previous = strdup(path))))
                r = -ENOMEM;
        if (r < 0) {
                layout_free(l);
                return r;
        }
        *out = l;
        return 0;
}

char *layout_repo_dir(const struct layout *l, const char *repo)
{
        if (!strncmp(repo, "file://", 7))
                repo += 7;
        return resolve_path(l, repo);
}
