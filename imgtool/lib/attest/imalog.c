#include "attest/imalog.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

#include "base/util.h"

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A bounds-checked reader over the log buffer. */
struct cursor {
        const uint8_t *p, *end;
};

static bool take(struct cursor *c, size_t n, const uint8_t **out)
{
        if ((size_t)(c->end - c->p) < n)
                return false;
        *out = c->p;
        c->p += n;
        return true;
}

static bool take_u32(struct cursor *c, uint32_t *v)
{
        const uint8_t *p;
        if (!take(c, 4, &p))
                return false;
        *v = le32(p);
        return true;
}

static bool take_field(struct cursor *c, const uint8_t **field, uint32_t *len)
{
        return take_u32(c, len) && take(c, *len, field);
}

static bool all_zero(const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

static int hash(const char *algo, const void *data, size_t len, uint8_t *out)
{
        unsigned int n;
        const EVP_MD *md = EVP_get_digestbyname(algo);
        if (!md || !EVP_Digest(data, len, out, &n, md, NULL))
                return imgerr(-EIO, "%s: cannot hash", algo);
        return 0;
}

/* The templates the kernel defines (ima_template.c builtin_templates). */
static const struct {
        const char *name, *fmt;
} templates[] = {
        { "ima-ng", "d-ng|n-ng" },
        { "ima-sig", "d-ng|n-ng|sig" },
        { "ima-ngv2", "d-ngv2|n-ng" },
        { "ima-sigv2", "d-ngv2|n-ng|sig" },
        { "ima-buf", "d-ng|n-ng|buf" },
        { "ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig" },
        { "evm-sig", "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode" },
};

/* Fields whose content the checks do not need: length-checked and skipped. */
static const char *const opaque_fields[] = { "d-modsig", "modsig", "evmsig", "xattrnames", "xattrlengths",
                                             "xattrvalues", "iuid", "igid", "imode" };

/* "ALGO:" NUL digest (d-ng), or "TYPE:ALGO:" NUL digest (d-ngv2). */
static int parse_digest(struct imalog_entry *e, const uint8_t *f, uint32_t len, bool v2)
{
        const uint8_t *nul = memchr(f, 0, len), *colon;
        const uint8_t *algo = f;

        if (!nul || nul == f || nul[-1] != ':')
                return imgerr(-EBADMSG, "digest field without 'algo:'");
        if (v2) {
                colon = memchr(f, ':', (size_t)(nul - f) - 1);
                if (!colon || (size_t)(colon - f) >= sizeof(e->digest_type))
                        return imgerr(-EBADMSG, "d-ngv2 digest field without 'type:algo:'");
                memcpy(e->digest_type, f, (size_t)(colon - f));
                e->digest_type[colon - f] = 0;
                if (strcmp(e->digest_type, "ima") && strcmp(e->digest_type, "verity"))
                        return imgerr(-EBADMSG, "unknown digest type '%s' (want ima or verity)", e->digest_type);
                algo = colon + 1;
        }
        if ((size_t)(nul - 1 - algo) == 0 || (size_t)(nul - 1 - algo) >= sizeof(e->digest_algo) ||
            memchr(algo, ':', (size_t)(nul - 1 - algo)))
                return imgerr(-EBADMSG, "bad digest algorithm");
        memcpy(e->digest_algo, algo, (size_t)(nul - 1 - algo));
        e->digest_algo[nul - 1 - algo] = 0;
        e->digest = nul + 1;
        e->digest_len = len - (size_t)(nul + 1 - f);
        if (e->digest_len == 0 || e->digest_len > 64)
                return imgerr(-EBADMSG, "digest of %zu bytes", e->digest_len);
        return 0;
}

static int parse_field(struct imalog_entry *e, const char *id, const uint8_t *f, uint32_t len)
{
        if (!strcmp(id, "d-ng") || !strcmp(id, "d-ngv2"))
                return parse_digest(e, f, len, !strcmp(id, "d-ngv2"));
        if (!strcmp(id, "n-ng")) {
                if (len == 0 || f[len - 1] != 0 || memchr(f, 0, len) != f + len - 1)
                        return imgerr(-EBADMSG, "bad path field");
                e->path = (const char *)f;
                return 0;
        }
        if (!strcmp(id, "sig")) {
                e->sig = len ? f : NULL;
                e->sig_len = len;
                return 0;
        }
        if (!strcmp(id, "buf")) {
                e->kind = IMALOG_BUFFER;
                e->buf = f;
                e->buf_len = len;
                return 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(opaque_fields); i++)
                if (!strcmp(id, opaque_fields[i]))
                        return 0;
        /* 'd' and 'n' exist only in the 'ima' template's own framing */
        return imgerr(-EBADMSG, "template '%s': unknown field '%s'", e->template_name, id);
}

/* Split the data into the fields of fmt ("d-ng|n-ng|sig"), exactly. */
static int parse_fields(struct imalog_entry *e, const char *fmt)
{
        struct cursor c = { e->data, e->data + e->data_len };
        bool have_digest = false, have_path = false;
        char id[32];
        int r;

        for (const char *p = fmt; *p;) {
                size_t n = strcspn(p, "|");
                const uint8_t *f;
                uint32_t len;

                if (n == 0 || n >= sizeof(id))
                        return imgerr(-EBADMSG, "unknown template '%s'", e->template_name);
                memcpy(id, p, n);
                id[n] = 0;
                p += n + (p[n] == '|');
                if (!take_field(&c, &f, &len))
                        return imgerr(-EBADMSG, "template data ends before field '%s'", id);
                r = parse_field(e, id, f, len);
                if (r < 0)
                        return r;
                have_digest |= !strcmp(id, "d-ng") || !strcmp(id, "d-ngv2");
                have_path |= !strcmp(id, "n-ng");
        }
        if (c.p != c.end)
                return imgerr(-EBADMSG, "%zu stray bytes in template data", (size_t)(c.end - c.p));
        /* Every template the kernel has records a digest and a name: one
         * without them measures nothing a verifier can check. */
        if (!have_digest || !have_path)
                return imgerr(-EBADMSG, "template '%s' has no digest or no name field", e->template_name);
        return 0;
}

/* The template's field list: a builtin's, or a custom template's own name
 * when it is made of known fields.  NULL: unknown. */
static const char *template_fmt(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(templates); i++)
                if (!strcmp(name, templates[i].name))
                        return templates[i].fmt;
        return strchr(name, '|') || !strcmp(name, "d-ng") || !strcmp(name, "d-ngv2") ? name : NULL;
}

/* 'ima': sha1 digest (20 bytes, no length) | u32 len | name (no NUL).  The
 * kernel hashes digest || name padded with NULs to 256 bytes: that is the
 * data kept for the replay. */
#define IMA_NAME_HASHED 256
static int parse_legacy(struct cursor *c, struct imalog *l, struct imalog_entry *e, size_t idx)
{
        const uint8_t *d, *name;
        uint32_t len;
        uint8_t *own;

        if (!take(c, IMALOG_SHA1, &d) || !take_field(c, &name, &len))
                return imgerr(-EBADMSG, "truncated 'ima' template data");
        if (len >= IMA_NAME_HASHED || memchr(name, 0, len))
                return imgerr(-EBADMSG, "bad 'ima' template name field");
        own = calloc(1, IMALOG_SHA1 + IMA_NAME_HASHED);
        if (!own || GROW(l->owned, l->n_owned, l->cap_owned, 64) < 0) {
                free(own);
                return imgerr(-ENOMEM, "out of memory");
        }
        l->owned[l->n_owned++] = own;
        memcpy(own, d, IMALOG_SHA1);
        memcpy(own + IMALOG_SHA1, name, len);
        e->data = own;
        e->data_len = IMALOG_SHA1 + IMA_NAME_HASHED;
        strcpy(e->digest_algo, "sha1");
        e->digest = own;
        e->digest_len = IMALOG_SHA1;
        e->path = (const char *)own + IMALOG_SHA1;
        return 0;
}

/* The path of a d-ng|n-ng... entry, as far as the data shows one, for
 * messages about an entry that does not parse: a file hidden under a
 * renamed template is named. */
static const char *guess_path(const uint8_t *data, uint32_t len)
{
        struct cursor c = { data, data + len };
        const uint8_t *f;
        uint32_t n;

        if (!take_field(&c, &f, &n) || !take_field(&c, &f, &n) || n < 2 || f[n - 1] != 0 ||
            memchr(f, 0, n) != f + n - 1)
                return NULL;
        return (const char *)f;
}

/* A template's fields could not be read: the entry, and the file it
 * measures when its name field can still be found, before the reason. */
static int name_entry(int r, const struct imalog_entry *e, size_t idx)
{
        const char *path = e->data ? guess_path(e->data, e->data_len) : NULL;
        _cleanup_free_ char *esc = path ? escape_text(path, ESCAPE_LINE) : NULL;

        if (!path)
                return imgerr_prefix(r, "entry %zu: ", idx);
        return imgerr_prefix(r, "entry %zu (%s): ", idx, esc ? esc : "?");
}

static int parse_entry(struct cursor *c, struct imalog *l, struct imalog_entry *e, size_t idx)
{
        const uint8_t *p;
        const char *fmt;
        uint32_t len;
        uint8_t sha1[IMALOG_SHA1];
        int r;

        memset(e, 0, sizeof(*e));
        if (!take_u32(c, &e->pcr) || !take(c, IMALOG_SHA1, &p))
                return imgerr(-EBADMSG, "entry %zu: truncated header", idx);
        memcpy(e->template_digest, p, IMALOG_SHA1);
        if (!take_field(c, &p, &len) || len == 0 || len >= sizeof(e->template_name) || memchr(p, 0, len))
                return imgerr(-EBADMSG, "entry %zu: bad template name", idx);
        memcpy(e->template_name, p, len);
        e->violation = all_zero(e->template_digest, IMALOG_SHA1);

        if (!strcmp(e->template_name, "ima")) {
                r = parse_legacy(c, l, e, idx);
        } else {
                if (!take_field(c, &e->data, &e->data_len))
                        return imgerr(-EBADMSG, "entry %zu: truncated template data", idx);
                fmt = template_fmt(e->template_name);
                if (!fmt) {
                        _cleanup_free_ char *name = escape_text(e->template_name, ESCAPE_LINE);
                        r = imgerr(-EBADMSG, "unknown template '%s'", name ? name : "?");
                } else {
                        r = parse_fields(e, fmt);
                }
                if (r < 0)
                        return name_entry(r, e, idx);
        }
        if (r < 0)
                return r;
        /* The log's own sha1 digest must match the data, or the log was
         * altered (a violation's digest is zero by definition). */
        if (!e->violation) {
                r = hash("sha1", e->data, e->data_len, sha1);
                if (r < 0)
                        return r;
                if (memcmp(sha1, e->template_digest, IMALOG_SHA1)) {
                        _cleanup_free_ char *what = escape_text(e->path ? e->path : e->template_name, ESCAPE_LINE);
                        return imgerr(-EBADMSG, "entry %zu (%s): template digest does not match its data", idx,
                                      what ? what : "?");
                }
        }
        return 0;
}

int imalog_parse(const uint8_t *buf, size_t len, struct imalog **out)
{
        struct imalog *l = calloc(1, sizeof(*l));
        struct cursor c;
        size_t cap = 0;
        int r = 0;

        if (!l || !(l->buf = malloc(len ? len : 1))) {
                free(l);
                return imgerr(-ENOMEM, "out of memory");
        }
        memcpy(l->buf, buf, len);
        l->len = len;
        c.p = l->buf;
        c.end = l->buf + len;
        while (c.p < c.end) {
                if (GROW(l->entries, l->n, cap, 64) < 0) {
                        r = imgerr(-ENOMEM, "out of memory");
                        break;
                }
                r = parse_entry(&c, l, &l->entries[l->n], l->n + 1);
                if (r < 0)
                        break;
                l->n++;
        }
        if (r < 0) {
                imalog_free(l);
                return r;
        }
        *out = l;
        return 0;
}

int imalog_read_file(const char *path, struct imalog **out)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        /* securityfs reports size 0: read to the end, up to a bound far
         * above a real log (about 100 bytes an entry) */
        int r = read_file_max(path, IMALOG_MAX, IMALOG_WHAT, &buf, &len);

        if (r < 0)
                return r;
        r = imalog_parse(buf, len, out);
        if (r < 0)
                imgerr_prefix(r, "%s: ", path);
        return r;
}

void imalog_free(struct imalog *l)
{
        if (!l)
                return;
        free(l->buf);
        free(l->entries);
        for (size_t i = 0; i < l->n_owned; i++)
                free(l->owned[i]);
        free(l->owned);
        free(l);
}

int imalog_replay(const struct imalog *l, uint32_t pcr, const char *bank, uint8_t *value)
{
        size_t size = !strcmp(bank, "sha1") ? IMALOG_SHA1 : !strcmp(bank, "sha256") ? IMALOG_SHA256 : 0;
        uint8_t buf[2 * IMALOG_SHA256];
        int used = 0, r;

        if (!size)
                return imgerr(-EINVAL, "unknown PCR bank '%s' (want sha1 or sha256)", bank);
        memset(value, 0, size);
        for (size_t i = 0; i < l->n; i++) {
                const struct imalog_entry *e = &l->entries[i];
                if (e->pcr != pcr)
                        continue;
                memcpy(buf, value, size);
                if (e->violation)
                        memset(buf + size, 0xff, size);
                else if ((r = hash(bank, e->data, e->data_len, buf + size)) < 0)
                        return r;
                r = hash(bank, buf, 2 * size, value);
                if (r < 0)
                        return r;
                used++;
        }
        return used;
}

bool imalog_entry_keyid(const struct imalog_entry *e, uint32_t *keyid)
{
        /* 03 02 (v2) or 06 03 (v3, verity) <hash algo> <keyid be32> <sig len be16> <sig> */
        if (!e->sig || e->sig_len < 9 || !((e->sig[0] == 0x03 && e->sig[1] == 0x02) || (e->sig[0] == 0x06 && e->sig[1] == 0x03)))
                return false;
        *keyid = (uint32_t)e->sig[3] << 24 | (uint32_t)e->sig[4] << 16 |
                 (uint32_t)e->sig[5] << 8 | e->sig[6];
        return true;
}
