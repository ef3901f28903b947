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

/* d-ng, n-ng and (ima-sig) sig. */
static int parse_ng_fields(struct imalog_entry *e, size_t idx)
{
        struct cursor c = { e->data, e->data + e->data_len };
        const uint8_t *f, *colon;
        uint32_t len;

        if (!take_field(&c, &f, &len))
                return imgerr(-EBADMSG, "entry %zu: truncated digest field", idx);
        colon = memchr(f, ':', len);
        if (!colon || (size_t)(colon - f) >= sizeof(e->digest_algo) ||
            (size_t)(colon - f) + 2 > len || colon[1] != 0)
                return imgerr(-EBADMSG, "entry %zu: digest field without 'algo:'", idx);
        memcpy(e->digest_algo, f, (size_t)(colon - f));
        e->digest_algo[colon - f] = 0;
        e->digest = colon + 2;
        e->digest_len = len - (size_t)(colon + 2 - f);

        if (!take_field(&c, &f, &len) || len == 0 || f[len - 1] != 0 || memchr(f, 0, len) != f + len - 1)
                return imgerr(-EBADMSG, "entry %zu: bad path field", idx);
        e->path = (const char *)f;

        if (!strcmp(e->template_name, "ima-sig")) {
                if (!take_field(&c, &f, &len))
                        return imgerr(-EBADMSG, "entry %zu: truncated signature field", idx);
                e->sig = len ? f : NULL;
                e->sig_len = len;
        }
        if (c.p != c.end)
                return imgerr(-EBADMSG, "entry %zu: %zu stray bytes in template data", idx, (size_t)(c.end - c.p));
        return 0;
}

static int parse_entry(struct cursor *c, struct imalog_entry *e, size_t idx)
{
        const uint8_t *p;
        uint32_t len;
        uint8_t sha1[IMALOG_SHA1];
        int r;

        memset(e, 0, sizeof(*e));
        if (!take_u32(c, &e->pcr) || !take(c, IMALOG_SHA1, &p))
                return imgerr(-EBADMSG, "entry %zu: truncated header", idx);
        memcpy(e->template_digest, p, IMALOG_SHA1);
        if (!take_field(c, &p, &len) || len == 0 || len >= sizeof(e->template_name))
                return imgerr(-EBADMSG, "entry %zu: bad template name", idx);
        memcpy(e->template_name, p, len);
        if (memchr(e->template_name, 0, len))
                return imgerr(-EBADMSG, "entry %zu: bad template name", idx);
        if (!take_field(c, &e->data, &e->data_len))
                return imgerr(-EBADMSG, "entry %zu: truncated template data", idx);
        e->violation = all_zero(e->template_digest, IMALOG_SHA1);

        if (!strcmp(e->template_name, "ima"))
                return imgerr(-EOPNOTSUPP, "entry %zu: the legacy 'ima' template is not supported (use ima-ng or ima-sig)", idx);
        if (!strcmp(e->template_name, "ima-ng") || !strcmp(e->template_name, "ima-sig")) {
                r = parse_ng_fields(e, idx);
                if (r < 0)
                        return r;
        }
        /* The log's own sha1 digest must match the data, or the log was
         * altered (a violation's digest is zero by definition). */
        if (!e->violation) {
                r = hash("sha1", e->data, e->data_len, sha1);
                if (r < 0)
                        return r;
                if (memcmp(sha1, e->template_digest, IMALOG_SHA1))
                        return imgerr(-EBADMSG, "entry %zu (%s): template digest does not match its data",
                                      idx, e->path ? e->path : e->template_name);
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
                if (l->n == cap) {
                        struct imalog_entry *g = realloc(l->entries, (cap = cap ? cap * 2 : 64) * sizeof(*g));
                        if (!g) {
                                r = imgerr(-ENOMEM, "out of memory");
                                break;
                        }
                        l->entries = g;
                }
                r = parse_entry(&c, &l->entries[l->n], l->n + 1);
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
        int r = read_file_max(path, 256u << 20, "IMA measurement logs", &buf, &len);

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
        /* 03 02 <hash algo> <keyid be32> <sig len be16> <sig> */
        if (!e->sig || e->sig_len < 9 || e->sig[0] != 0x03 || e->sig[1] != 0x02)
                return false;
        *keyid = (uint32_t)e->sig[3] << 24 | (uint32_t)e->sig[4] << 16 |
                 (uint32_t)e->sig[5] << 8 | e->sig[6];
        return true;
}
