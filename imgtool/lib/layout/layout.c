#include "layout/layout.h"

#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

#include "layout/rootspec.h"
#include "ima/keyref.h"
#include "ima/policy.h"
#include "base/util.h"
#include "ima/verity.h"
#include "layout/settings.h"

/* ---- parsing one value (the keys: settings.c) ---------------------------- */

struct parse_ctx {
        struct layout *l;
        const char *file;  /* for messages */
        unsigned line;
        int error;
};

static int bad_value(struct parse_ctx *c, const char *key, const char *value, const char *want)
{
        if (c->line)
                return imgerr(-EINVAL, "%s:%u: %s=%s: %s", c->file, c->line, key, value, want);
        return imgerr(-EINVAL, "%s: --set %s=%s: %s", c->file, key, value, want);
}

/* A message is plain text: "`a`, `b` or `c`" loses its backticks, in place. */
static char *strip_backticks(char *s)
{
        char *w = s;
        for (const char *r = s; *r; r++)
                if (*r != '`')
                        *w++ = *r;
        *w = 0;
        return s;
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

/* A PKCS#11 URI or a TPM handle (a key on a token or in a TPM:
 * ima/keyref.h) is not a file: it is kept as written; reading it as a path
 * would fail naming the file. */
static int parse_path(struct parse_ctx *c, const char *value, void *field)
{
        char **f = field;
        free(*f);
        *f = !*value ? NULL : keyref_is_token(value) || keyref_is_tpm_handle(value) ? strdup(value) : resolve_path(c->l, value);
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
        int r = *value ? rootspec_check(value) : 0;

        if (r < 0) {
                _cleanup_free_ char *why = strdup(imgerr_what(r));
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

static int parse_seconds(struct parse_ctx *c, const struct layout_setting *s, const char *value, void *field)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(value, &end, 10);
        if (errno || *end || end == value || value[0] == '-' || v == 0 || v > 86400)
                return bad_value(c, s->key, value, "expected seconds, 1 to 86400");
        *(unsigned *)field = (unsigned)v;
        return 0;
}

/* One parser for every enum key: the names are the key's choices. */
static int parse_enum(struct parse_ctx *c, const struct layout_setting *s, const char *value, void *field)
{
        char names[128], want[160];

        for (const struct layout_choice *ch = s->choices; ch->name; ch++)
                if (!strcmp(value, ch->name)) {
                        *(int *)field = ch->value;
                        return 0;
                }
        snprintf(want, sizeof(want), "expected %s", layout_type_doc(s, names, sizeof(names)));
        return bad_value(c, s->key, value, strip_backticks(want));
}

static int parse_salt(struct parse_ctx *c, const char *value, void *field)
{
        struct verity_params p;
        if (verity_params_parse_salt(&p, value) < 0)
                return bad_value(c, "Salt", value, "expected 1 to 32 bytes in hex, or nothing");
        return parse_string(c, value, field);
}

static int parse_value(struct parse_ctx *c, const struct layout_setting *s, const char *value)
{
        void *field = (char *)c->l + s->offset;

        switch (s->type) {
        case LAYOUT_TEXT: return parse_string(c, value, field);
        case LAYOUT_PATH: return parse_path(c, value, field);
        case LAYOUT_IMAGE_PATH: return parse_path_abs(c, value, field);
        case LAYOUT_LIST: return parse_list(c, value, field);
        case LAYOUT_PATH_LIST: return parse_path_list(c, value, field);
        case LAYOUT_BOOL: return parse_bool(c, value, field);
        case LAYOUT_ENUM: return parse_enum(c, s, value, field);
        case LAYOUT_SIZE: return parse_image_size(c, value, field);
        case LAYOUT_INODE_SIZE: return parse_inode_size(c, value, field);
        case LAYOUT_EPOCH: return parse_epoch(c, value, field);
        case LAYOUT_SECONDS: return parse_seconds(c, s, value, field);
        case LAYOUT_LABEL: return parse_label(c, value, field);
        case LAYOUT_ROOT: return parse_root(c, value, field);
        case LAYOUT_SALT: return parse_salt(c, value, field);
        }
        return -EINVAL;
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
        const struct layout_setting *k = layout_setting_find(section, key, &section_known);
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
        r = parse_value(c, k, value);
        if (r >= 0)
                c->l->origins[k - layout_settings] = (struct layout_origin){ c->line ? LAYOUT_FILE : LAYOUT_SET, c->line };
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
        if (l->packs && l->sigmode == SIGMODE_SIGN)
                return imgerr(-EINVAL, "%s: [Signatures] Packs= needs Mode=package or package-or-sign "
                              "(Mode=sign signs every file itself)", l->path);
        if (l->sigmode != SIGMODE_SIGN && !l->certificates)
                return imgerr(-EINVAL, "%s: [Signatures] Mode=%s needs Certificate= (the keys package signatures must verify with)",
                              l->path, l->sigmode == SIGMODE_PACKAGE ? "package" : "package-or-sign");
        if (l->verity && !l->key)
                return imgerr(-EINVAL, "%s: [Verity] Enable=yes needs [Signatures] Key= (the verity signatures are the owner's)",
                              l->path);
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
        r = ima_policy_validate(text);
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
        l->origins = calloc(layout_settings_count, sizeof(*l->origins)); /* all LAYOUT_DEFAULT */
        if (!l->origins || !l->dir)
                return -ENOMEM;
        /* the table's defaults, through the parsers (they are valid values) */
        for (size_t i = 0; i < layout_settings_count; i++) {
                struct parse_ctx c = { .l = l, .file = path };
                int r = layout_settings[i].value_default ? parse_value(&c, &layout_settings[i],
                                                                       layout_settings[i].value_default) : 0;
                if (r < 0)
                        return r;
        }
        return 0;
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
        strv_free(l->scriptlet_exclude);
        free(l->lock);
        free(l->users_previous);
        strv_free(l->users_privileged);
        strv_free(l->users_allow);
        strv_free(l->users_password_hash);
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
        return layout_settings_count;
}

const struct layout_setting *layout_key(size_t i)
{
        return &layout_settings[i];
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

static const char *choice_name(const struct layout_setting *s, int value)
{
        for (const struct layout_choice *ch = s->choices; ch->name; ch++)
                if (ch->value == value)
                        return ch->name;
        return ""; /* a value without a name: the default that defers to the image ([SELinux] Mode=) */
}

int layout_key_value(const struct layout *l, size_t i, char **text)
{
        const struct layout_setting *k = &layout_settings[i];
        const void *field = (const char *)l + k->offset;
        const char *str = NULL;
        int r;

        switch (k->type) {
        case LAYOUT_LIST:
        case LAYOUT_PATH_LIST:
                return join_list(*(char *const *const *)field, text);
        case LAYOUT_TEXT:
        case LAYOUT_PATH:
        case LAYOUT_IMAGE_PATH:
        case LAYOUT_LABEL:
        case LAYOUT_ROOT:
        case LAYOUT_SALT:
                str = *(char *const *)field ? *(char *const *)field : "";
                break;
        case LAYOUT_BOOL:
                str = *(const bool *)field ? "yes" : "no";
                break;
        case LAYOUT_ENUM:
                str = choice_name(k, *(const int *)field);
                break;
        case LAYOUT_SIZE:
                r = l->size_auto ? asprintf(text, "auto") : asprintf(text, "%llu", (unsigned long long)l->size);
                return r < 0 ? -ENOMEM : 0;
        case LAYOUT_INODE_SIZE:
                r = l->inode_size ? asprintf(text, "%u", l->inode_size) : asprintf(text, "auto");
                return r < 0 ? -ENOMEM : 0;
        case LAYOUT_EPOCH:
                r = l->source_date_epoch < 0 ? asprintf(text, "%s", "") :
                                               asprintf(text, "%lld", (long long)l->source_date_epoch);
                return r < 0 ? -ENOMEM : 0;
        case LAYOUT_SECONDS:
                r = asprintf(text, "%u", *(const unsigned *)field);
                return r < 0 ? -ENOMEM : 0;
        }
        *text = strdup(str ? str : "?");
        return *text ? 0 : -ENOMEM;
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
        /* and its @privileged lines what the layout allowed */
        l->users_allow_from_lock = true;
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
