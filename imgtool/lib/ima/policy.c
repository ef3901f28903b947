#include "ima/policy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* Pseudo filesystems whose files are not on the signed image: measuring or
 * appraising them would deny /proc reads and fill the log with noise. */
static const struct {
        const char *magic, *name;
} pseudo_fs[] = {
        { "0x9fa0", "proc" },          { "0x62656572", "sysfs" },
        { "0x64626720", "debugfs" },   { "0x01021994", "tmpfs, devtmpfs" },
        { "0x858458f6", "ramfs" },     { "0x1cd1", "devpts" },
        { "0x42494e4d", "binfmt_misc" }, { "0x73636673", "securityfs" },
        { "0xf97cff8c", "selinuxfs" }, { "0x43415d53", "smackfs" },
        { "0x27e0eb", "cgroup" },      { "0x63677270", "cgroup2" },
        { "0x6e736673", "nsfs" },      { "0xde5e81e4", "efivarfs" },
        { "0x74726163", "tracefs" },   { "0xcafe4a11", "bpf" },
};

struct strbuf {
        char *s;
        size_t len;
        int err;
};

static void sb_addf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_addf(struct strbuf *b, const char *fmt, ...)
{
        va_list ap;
        char *piece, *grown;
        int n;

        if (b->err)
                return;
        va_start(ap, fmt);
        n = vasprintf(&piece, fmt, ap);
        va_end(ap);
        if (n < 0) {
                b->err = -ENOMEM;
                return;
        }
        grown = realloc(b->s, b->len + (size_t)n + 1);
        if (!grown) {
                free(piece);
                b->err = -ENOMEM;
                return;
        }
        memcpy(grown + b->len, piece, (size_t)n + 1);
        b->s = grown;
        b->len += (size_t)n;
        free(piece);
}

int ima_policy_default(const struct ima_policy_opts *o, char **text)
{
        struct strbuf b = { 0 };
        int r;

        if (o->extra_rules) {
                r = ima_policy_validate(o->extra_rules);
                if (r < 0)
                        return imgerr_prefix(r, "extra rules: ");
        }
        sb_addf(&b, "# IMA policy written by imgtool.  Loaded once at boot by the initramfs;\n"
                    "# every executable, executable mapping%s must carry a valid\n"
                    "# signature (security.ima) from a key in the _ima keyring.\n",
                o->appraise_fowner0_reads ? " and root-owned file read" : "");
        sb_addf(&b, "# Pseudo filesystems: not part of the signed image.\n");
        for (size_t i = 0; i < ARRAY_SIZE(pseudo_fs); i++) {
                sb_addf(&b, "# %s\n", pseudo_fs[i].name);
                if (o->measure)
                        sb_addf(&b, "dont_measure fsmagic=%s\n", pseudo_fs[i].magic);
                sb_addf(&b, "dont_appraise fsmagic=%s\n", pseudo_fs[i].magic);
        }
        if (o->extra_rules && o->extra_rules[0]) {
                size_t n = strlen(o->extra_rules);
                sb_addf(&b, "# Extra rules from the layout.\n%s%s", o->extra_rules,
                        o->extra_rules[n - 1] == '\n' ? "" : "\n");
        }
        const char *vm = o->verity_digests ? " digest_type=verity template=ima-ngv2" : "";
        const char *how = o->verity_digests ? "digest_type=verity appraise_type=sigv3" : "appraise_type=imasig";
        if (o->measure)
                sb_addf(&b, "# Measure into PCR 10 what runs, is mapped executable, or root reads%s.\n"
                            "measure func=BPRM_CHECK mask=MAY_EXEC%s\n"
                            "measure func=MMAP_CHECK mask=MAY_EXEC%s\n"
                            "measure func=FILE_CHECK mask=^MAY_READ uid=0%s\n"
                            "measure func=MODULE_CHECK\n"
                            "measure func=FIRMWARE_CHECK\n",
                        o->verity_digests ? " (their fs-verity digests)" : "", vm, vm, vm);
        if (!o->no_appraise) {
                sb_addf(&b, "# Enforce signatures%s.\n"
                            "appraise func=BPRM_CHECK %s\n"
                            "appraise func=MMAP_CHECK %s\n",
                        o->verity_digests ? " (IMA v3, over the fs-verity digest)" : "", how, how);
                if (o->appraise_fowner0_reads)
                        sb_addf(&b, "appraise func=FILE_CHECK fowner=0 %s\n", how);
        }
        if (b.err) {
                free(b.s);
                return imgerr(b.err, "out of memory");
        }
        *text = b.s;
        return 0;
}

/* ---- validation ------------------------------------------------------ */

static const char *const actions[] = {
        "measure", "dont_measure", "appraise", "dont_appraise", "audit", "hash", "dont_hash",
};

static const char *const funcs[] = {
        "FILE_CHECK", "PATH_CHECK", "MODULE_CHECK", "FIRMWARE_CHECK", "FILE_MMAP",
        "MMAP_CHECK", "MMAP_CHECK_REQPROT", "BPRM_CHECK", "CREDS_CHECK", "POLICY_CHECK",
        "KEXEC_KERNEL_CHECK", "KEXEC_INITRAMFS_CHECK", "KEXEC_CMDLINE", "KEY_CHECK",
        "CRITICAL_DATA", "SETXATTR_CHECK",
};

static const char *const masks[] = { "MAY_EXEC", "MAY_WRITE", "MAY_READ", "MAY_APPEND" };

static const char *const templates[] = {
        "ima", "ima-ng", "ima-sig", "ima-buf", "ima-modsig", "evm-sig", "ima-ngv2", "ima-sigv2",
};

static const char *const appraise_types[] = { "imasig", "imasig|modsig", "sigv3" };

static const char *const hash_algos[] = {
        "md5", "sha1", "rmd160", "sha256", "sha384", "sha512", "sha224", "rmd128",
        "rmd256", "rmd320", "wp256", "wp384", "wp512", "tgr128", "tgr160", "tgr192",
        "sm3", "streebog256", "streebog512", "sha3-256", "sha3-384", "sha3-512",
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(s, list[i]))
                        return true;
        return false;
}
#define IN(s, list) in_list(s, list, ARRAY_SIZE(list))

static bool is_decimal(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char)*s))
                        return false;
        return true;
}

static bool is_hex_number(const char *s)
{
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                s += 2;
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isxdigit((unsigned char)*s))
                        return false;
        return true;
}

static bool is_uuid(const char *s)
{
        static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
        if (strlen(s) != sizeof(pattern) - 1)
                return false;
        for (size_t i = 0; pattern[i]; i++)
                if (pattern[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
                        return false;
        return true;
}

static bool valid_algos(const char *s)
{
        _cleanup_free_ char *copy = strdup(s);
        char *save = NULL;
        if (!copy || !*s)
                return false;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (!IN(t, hash_algos))
                        return false;
        return true;
}

enum value_kind { V_FUNC, V_MASK, V_HEX, V_DEC, V_UUID, V_WORD, V_TEMPLATE,
                  V_APPRAISE_TYPE, V_APPRAISE_FLAG, V_ALGOS, V_DIGEST_TYPE, V_NONE };

static const struct {
        const char *key;
        enum value_kind kind;
} conditions[] = {
        { "func", V_FUNC }, { "mask", V_MASK }, { "fsmagic", V_HEX }, { "fsname", V_WORD },
        { "fsuuid", V_UUID },
        { "uid", V_DEC }, { "euid", V_DEC }, { "gid", V_DEC }, { "egid", V_DEC },
        { "fowner", V_DEC }, { "fgroup", V_DEC },
        { "obj_user", V_WORD }, { "obj_role", V_WORD }, { "obj_type", V_WORD },
        { "subj_user", V_WORD }, { "subj_role", V_WORD }, { "subj_type", V_WORD },
        { "appraise_type", V_APPRAISE_TYPE }, { "appraise_flag", V_APPRAISE_FLAG },
        { "appraise_algos", V_ALGOS }, { "digest_type", V_DIGEST_TYPE },
        { "permit_directio", V_NONE }, { "pcr", V_DEC }, { "template", V_TEMPLATE },
        { "keyrings", V_WORD }, { "label", V_WORD },
};

static bool value_ok(enum value_kind k, const char *v)
{
        switch (k) {
        case V_FUNC: return IN(v, funcs);
        case V_MASK: return IN(v[0] == '^' ? v + 1 : v, masks);
        case V_HEX: return is_hex_number(v);
        case V_DEC: return is_decimal(v);
        case V_UUID: return is_uuid(v);
        case V_WORD: return *v != 0;
        case V_TEMPLATE: return IN(v, templates);
        case V_APPRAISE_TYPE: return IN(v, appraise_types);
        case V_APPRAISE_FLAG: return !strcmp(v, "check_blacklist");
        case V_ALGOS: return valid_algos(v);
        case V_DIGEST_TYPE: return !strcmp(v, "verity");
        case V_NONE: return false;
        }
        return false;
}

static size_t condition_index(const char *key)
{
        for (size_t i = 0; i < ARRAY_SIZE(conditions); i++)
                if (!strcmp(key, conditions[i].key))
                        return i;
        return 0;
}

/* uid<, fowner> and friends compare instead of matching. */
static const char *split_condition(char *tok, char **value)
{
        char *op = strpbrk(tok, "=<>");
        if (!op) {
                *value = NULL;
                return tok;
        }
        if (*op != '=' && !(strncmp(tok, "uid", 3) == 0 || strncmp(tok, "euid", 4) == 0 ||
                            strncmp(tok, "gid", 3) == 0 || strncmp(tok, "egid", 4) == 0 ||
                            strncmp(tok, "fowner", 6) == 0 || strncmp(tok, "fgroup", 6) == 0))
                return NULL;
        *op = 0;
        *value = op + 1;
        return tok;
}

static int validate_rule(char *line, unsigned lineno)
{
        char *save = NULL, *tok;
        const char *action = NULL;
        bool seen[ARRAY_SIZE(conditions)] = { false }, sigv3 = false;

        for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
                char *value;
                const char *key;
                size_t i;

                if (tok[0] == '#')
                        return imgerr(-EINVAL, "line %u: trailing comment (the kernel only accepts whole-line '#' comments)", lineno);
                if (!action) {
                        if (!IN(tok, actions))
                                return imgerr(-EINVAL, "line %u: unknown action '%s' (want measure, dont_measure, appraise, dont_appraise, audit, hash or dont_hash)", lineno, tok);
                        action = tok;
                        continue;
                }
                if (IN(tok, actions))
                        return imgerr(-EINVAL, "line %u: second action '%s' in one rule", lineno, tok);
                key = split_condition(tok, &value);
                if (!key)
                        return imgerr(-EINVAL, "line %u: '%s': only uid, euid, gid, egid, fowner, fgroup compare with < or >", lineno, tok);
                for (i = 0; i < ARRAY_SIZE(conditions); i++)
                        if (!strcmp(key, conditions[i].key))
                                break;
                if (i == ARRAY_SIZE(conditions))
                        return imgerr(-EINVAL, "line %u: unknown condition '%s'", lineno, key);
                if (seen[i])
                        return imgerr(-EINVAL, "line %u: '%s' given twice", lineno, key);
                seen[i] = true;
                if (conditions[i].kind == V_NONE) {
                        if (value)
                                return imgerr(-EINVAL, "line %u: '%s' takes no value", lineno, key);
                        continue;
                }
                if (!value || !value_ok(conditions[i].kind, value))
                        return imgerr(-EINVAL, "line %u: bad value for '%s': '%s'", lineno, key, value ? value : "");
                if (!strcmp(key, "appraise_type") && strcmp(action, "appraise"))
                        return imgerr(-EINVAL, "line %u: appraise_type only applies to 'appraise' rules", lineno);
                /* the kernel sets the verity flag sigv3 needs when it parses digest_type */
                if (!strcmp(key, "appraise_type") && !strcmp(value, "sigv3")) {
                        if (!seen[condition_index("digest_type")])
                                return imgerr(-EINVAL, "line %u: appraise_type=sigv3 needs digest_type=verity before it", lineno);
                        sigv3 = true;
                }
                if (!strcmp(key, "pcr") && strcmp(action, "measure"))
                        return imgerr(-EINVAL, "line %u: pcr only applies to 'measure' rules", lineno);
        }
        /* ima_validate_rule: a verity appraisal needs a signature over it */
        if (action && !strcmp(action, "appraise") && seen[condition_index("digest_type")] && !sigv3)
                return imgerr(-EINVAL, "line %u: appraise with digest_type=verity needs appraise_type=sigv3", lineno);
        return 0;
}

int ima_policy_validate(const char *text)
{
        _cleanup_free_ char *copy = strdup(text);
        char *line, *next;
        unsigned lineno = 0;

        if (!copy)
                return imgerr(-ENOMEM, "out of memory");
        if (text[0] == '/')
                return imgerr(-EINVAL, "line 1: a path makes the kernel load a signed policy file; give the rules themselves");
        for (line = copy; line; line = next) {
                int r;
                lineno++;
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                line += strspn(line, " \t");
                if (*line == '#' || *line == 0)
                        continue;
                if (strchr(line, '\r'))
                        return imgerr(-EINVAL, "line %u: carriage return (DOS line ending)", lineno);
                r = validate_rule(line, lineno);
                if (r < 0)
                        return r;
        }
        return 0;
}

bool ima_policy_has_appraise_rule(const char *text)
{
        for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                line += strspn(line, " \t");
                if (!strncmp(line, "appraise", 8) && (line[8] == ' ' || line[8] == '\t'))
                        return true;
        }
        return false;
}
