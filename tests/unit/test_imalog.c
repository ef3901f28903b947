/* imalog: the replay must equal what a real TPM computes.  The oracle is
 * libtpms in-process: each entry is extended into PCR 10 with
 * TPM2_PCR_Extend (sha1 and sha256 banks), then read with TPM2_PCR_Read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <libtpms/tpm_error.h>
#include <libtpms/tpm_library.h>
#include <openssl/evp.h>
#include <string.h>

#include "attest/imalog.h"
#include "base/util.h"

/* ---- an in-memory NVRAM for libtpms ---------------------------------- */
static struct { char name[64]; unsigned char *data; uint32_t len; } nv[8];

static TPM_RESULT nv_init(void) { return TPM_SUCCESS; }

static TPM_RESULT nv_load(unsigned char **data, uint32_t *len, uint32_t tpm, const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(nv); i++)
                if (nv[i].data && !strcmp(nv[i].name, name)) {
                        *data = malloc(nv[i].len);
                        memcpy(*data, nv[i].data, nv[i].len);
                        *len = nv[i].len;
                        return TPM_SUCCESS;
                }
        return TPM_RETRY; /* "no such state yet" */
}

static TPM_RESULT nv_store(const unsigned char *data, uint32_t len, uint32_t tpm, const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(nv); i++)
                if (!nv[i].data || !strcmp(nv[i].name, name)) {
                        free(nv[i].data);
                        snprintf(nv[i].name, sizeof(nv[i].name), "%s", name);
                        nv[i].data = malloc(len);
                        memcpy(nv[i].data, data, len);
                        nv[i].len = len;
                        return TPM_SUCCESS;
                }
        return TPM_FAIL;
}

static TPM_RESULT nv_delete(uint32_t tpm, const char *name, TPM_BOOL must_exist)
{
        for (size_t i = 0; i < ARRAY_SIZE(nv); i++)
                if (nv[i].data && !strcmp(nv[i].name, name)) {
                        free(nv[i].data);
                        nv[i].data = NULL;
                        return TPM_SUCCESS;
                }
        return must_exist ? TPM_FAIL : TPM_SUCCESS;
}

static TPM_RESULT io_init(void) { return TPM_SUCCESS; }

static void put16(uint8_t **p, uint16_t v) { (*p)[0] = v >> 8; (*p)[1] = v & 255; *p += 2; }
static void put32(uint8_t **p, uint32_t v) { put16(p, v >> 16); put16(p, v & 0xffff); }

/* Send a command, check TPM_RC_SUCCESS, return the response. */
static unsigned char *tpm_cmd(uint8_t *cmd, uint8_t *end, uint32_t *rlen)
{
        unsigned char *resp = NULL;
        uint32_t size = 0;
        uint32_t len = (uint32_t)(end - cmd);
        cmd[2] = len >> 24; cmd[3] = len >> 16; cmd[4] = len >> 8; cmd[5] = len & 255;
        assert_int_equal(TPMLIB_Process(&resp, rlen, &size, cmd, len), TPM_SUCCESS);
        assert_true(*rlen >= 10);
        uint32_t rc = (uint32_t)resp[6] << 24 | resp[7] << 16 | resp[8] << 8 | resp[9];
        assert_int_equal(rc, 0);
        return resp;
}

static void tpm_start(void)
{
        struct libtpms_callbacks cb = {
                .sizeOfStruct = sizeof(cb),
                .tpm_nvram_init = nv_init,
                .tpm_nvram_loaddata = nv_load,
                .tpm_nvram_storedata = nv_store,
                .tpm_nvram_deletename = nv_delete,
                .tpm_io_init = io_init,
        };
        uint8_t cmd[64], *p = cmd;
        uint32_t rlen;

        assert_int_equal(TPMLIB_ChooseTPMVersion(TPMLIB_TPM_VERSION_2), TPM_SUCCESS);
        assert_int_equal(TPMLIB_RegisterCallbacks(&cb), TPM_SUCCESS);
        assert_int_equal(TPMLIB_MainInit(), TPM_SUCCESS);
        put16(&p, 0x8001); put32(&p, 0); put32(&p, 0x144); put16(&p, 0); /* Startup(CLEAR) */
        free(tpm_cmd(cmd, p, &rlen));
}

static void tpm_extend(uint32_t pcr, const uint8_t *sha1, const uint8_t *sha256)
{
        uint8_t cmd[128], *p = cmd;
        uint32_t rlen;

        put16(&p, 0x8002); put32(&p, 0); put32(&p, 0x182); put32(&p, pcr);
        put32(&p, 9); put32(&p, 0x40000009); put16(&p, 0); *p++ = 0; put16(&p, 0); /* password session */
        put32(&p, 2);
        put16(&p, 0x0004); memcpy(p, sha1, 20); p += 20;
        put16(&p, 0x000b); memcpy(p, sha256, 32); p += 32;
        free(tpm_cmd(cmd, p, &rlen));
}

static void tpm_read(uint32_t pcr, uint16_t alg, uint8_t *out, size_t size)
{
        uint8_t cmd[64], *p = cmd;
        uint32_t rlen;
        unsigned char *r;

        put16(&p, 0x8001); put32(&p, 0); put32(&p, 0x17e);
        put32(&p, 1); put16(&p, alg); *p++ = 3;
        p[0] = p[1] = p[2] = 0; p[pcr / 8] = (uint8_t)(1 << (pcr % 8)); p += 3;
        r = tpm_cmd(cmd, p, &rlen);
        /* header 10, update counter 4, selection 4+2+1+3, digest count 4, size 2 */
        assert_int_equal(rlen, 10 + 4 + 10 + 4 + 2 + size);
        memcpy(out, r + 10 + 4 + 10 + 4 + 2, size);
        free(r);
}

/* ---- a synthetic log ------------------------------------------------- */
struct buf { uint8_t d[16384]; size_t n; };

static void b_add(struct buf *b, const void *p, size_t n) { if (n) memcpy(b->d + b->n, p, n); b->n += n; }
static void b_le32(struct buf *b, uint32_t v) { uint8_t x[4] = { v, v >> 8, v >> 16, v >> 24 }; b_add(b, x, 4); }
static void b_field(struct buf *b, const void *p, size_t n) { b_le32(b, (uint32_t)n); b_add(b, p, n); }

static void digest(const char *algo, const void *p, size_t n, uint8_t *out)
{
        unsigned int len;
        assert_true(EVP_Digest(p, n, out, &len, EVP_get_digestbyname(algo), NULL));
}

/* Append an entry; also extend it into the TPM (the oracle) when asked. */
static void add_entry(struct buf *log, const char *tmpl, const char *path, const char *content,
                      const uint8_t *sig, size_t sig_len, bool violation, bool to_tpm)
{
        struct buf data = { .n = 0 };
        uint8_t d[32], sha1[20], sha256[32];
        uint8_t dng[7 + 1 + 32];

        digest("sha256", content, strlen(content), d);
        memcpy(dng, "sha256:", 7);
        dng[7] = 0;
        if (violation)
                memset(d, 0, sizeof(d));
        memcpy(dng + 8, d, 32);
        b_field(&data, dng, sizeof(dng));
        b_field(&data, path, strlen(path) + 1);
        if (!strcmp(tmpl, "ima-sig"))
                b_field(&data, sig, sig_len);

        digest("sha1", data.d, data.n, sha1);
        digest("sha256", data.d, data.n, sha256);
        if (violation) {
                memset(sha1, 0xff, 20);
                memset(sha256, 0xff, 32);
        }
        b_le32(log, 10);
        if (violation) {
                uint8_t zero[20] = { 0 };
                b_add(log, zero, 20);
        } else {
                b_add(log, sha1, 20);
        }
        b_field(log, tmpl, strlen(tmpl));
        b_field(log, data.d, data.n);
        if (to_tpm)
                tpm_extend(10, sha1, sha256);
}

static const uint8_t fake_sig[] = { 0x03, 0x02, 0x04, 0x12, 0x34, 0xab, 0xcd, 0x00, 0x02, 0x30, 0x00 };

static void build_log(struct buf *log, bool to_tpm)
{
        log->n = 0;
        add_entry(log, "ima-ng", "boot_aggregate", "aggregate", NULL, 0, false, to_tpm);
        add_entry(log, "ima-sig", "/bin/sh", "#!shell", fake_sig, sizeof(fake_sig), false, to_tpm);
        add_entry(log, "ima-sig", "/usr/lib/x.so", "library", NULL, 0, false, to_tpm);
        add_entry(log, "ima-sig", "/etc/written-while-open", "v", NULL, 0, true, to_tpm);
        add_entry(log, "ima-ng", "/etc/passwd", "root:x:0:0", NULL, 0, false, to_tpm);
}

static void test_replay_matches_tpm(void **state)
{
        struct buf log;
        struct imalog *l = NULL;
        uint8_t tpm1[20], tpm256[32], rep1[20], rep256[32];
        uint32_t keyid;

        tpm_start();
        build_log(&log, true);
        tpm_read(10, 0x0004, tpm1, 20);
        tpm_read(10, 0x000b, tpm256, 32);
        TPMLIB_Terminate();

        assert_int_equal(imalog_parse(log.d, log.n, &l), 0);
        assert_int_equal(l->n, 5);
        assert_int_equal(imalog_replay(l, 10, "sha256", rep256), 5);
        assert_int_equal(imalog_replay(l, 10, "sha1", rep1), 5);
        assert_memory_equal(rep256, tpm256, 32);
        assert_memory_equal(rep1, tpm1, 20);

        assert_string_equal(l->entries[1].path, "/bin/sh");
        assert_string_equal(l->entries[1].digest_algo, "sha256");
        assert_true(imalog_entry_keyid(&l->entries[1], &keyid));
        assert_int_equal(keyid, 0x1234abcd);
        assert_false(imalog_entry_keyid(&l->entries[2], &keyid));
        assert_true(l->entries[3].violation);
        assert_false(l->entries[2].violation);
        /* another PCR has no entries: stays zero */
        assert_int_equal(imalog_replay(l, 11, "sha256", rep256), 0);
        imalog_free(l);
}

static void test_violation_changes_pcr(void **state)
{
        /* Without the all-0xff rule the violation entry would extend
         * hash(data): make sure the replay does not do that. */
        struct buf log;
        struct imalog *l = NULL;
        uint8_t rep[32], naive[32], buf2[64];

        build_log(&log, false);
        assert_int_equal(imalog_parse(log.d, log.n, &l), 0);
        assert_int_equal(imalog_replay(l, 10, "sha256", rep), 5);
        memset(naive, 0, 32);
        for (size_t i = 0; i < l->n; i++) {
                memcpy(buf2, naive, 32);
                digest("sha256", l->entries[i].data, l->entries[i].data_len, buf2 + 32);
                digest("sha256", buf2, 64, naive);
        }
        assert_memory_not_equal(rep, naive, 32);
        imalog_free(l);
}

static void test_malformed(void **state)
{
        struct buf log;
        struct imalog *l = NULL;

        build_log(&log, false);
        assert_int_equal(imalog_parse(log.d, log.n - 3, &l), -EBADMSG);
        assert_non_null(strstr(imgerr_what(-EBADMSG), "entry 5"));
        /* flip a byte of the second entry's path: its sha1 no longer matches */
        uint8_t *p = memmem(log.d, log.n, "/bin/sh", 7);
        assert_non_null(p);
        p[1] = 'X';
        assert_int_equal(imalog_parse(log.d, log.n, &l), -EBADMSG);
        assert_non_null(strstr(imgerr_what(-EBADMSG), "does not match"));
        assert_int_equal(imalog_parse((const uint8_t *)"", 0, &l), 0);
        assert_int_equal(l->n, 0);
        imalog_free(l);
        uint8_t zero[32];
        assert_int_equal(imalog_parse(log.d, 0, &l), 0);
        assert_int_equal(imalog_replay(l, 10, "md5", zero), -EINVAL);
        imalog_free(l);
}


/* ---- every template the kernel emits (issue 18 item 1) ------------------ */

/* An entry with any template name and fields (each u32-length-prefixed). */
static void add_raw(struct buf *log, const char *tmpl, const struct buf *data)
{
        uint8_t sha1[20];

        digest("sha1", data->d, data->n, sha1);
        b_le32(log, 10);
        b_add(log, sha1, 20);
        b_field(log, tmpl, strlen(tmpl));
        b_field(log, data->d, data->n);
}

static void field_digest(struct buf *data, const char *prefix, const char *content)
{
        uint8_t f[32 + 32];
        size_t n = strlen(prefix);

        memcpy(f, prefix, n);
        f[n] = 0;
        digest("sha256", content, strlen(content), f + n + 1);
        b_field(data, f, n + 1 + 32);
}

static void field_str(struct buf *data, const char *s) { b_field(data, s, strlen(s) + 1); }

static int parse_one(const char *tmpl, const struct buf *data, struct imalog **l)
{
        struct buf log = { .n = 0 };
        add_raw(&log, tmpl, data);
        return imalog_parse(log.d, log.n, l);
}

static void test_all_templates(void **state)
{
        struct imalog *l = NULL;
        struct buf d = { .n = 0 };
        uint32_t keyid;

        /* ima-ngv2: a verity digest */
        field_digest(&d, "verity:sha256:", "tree");
        field_str(&d, "/usr/bin/v");
        assert_int_equal(parse_one("ima-ngv2", &d, &l), 0);
        assert_string_equal(l->entries[0].digest_type, "verity");
        assert_string_equal(l->entries[0].digest_algo, "sha256");
        assert_string_equal(l->entries[0].path, "/usr/bin/v");
        assert_int_equal(l->entries[0].digest_len, 32);
        assert_int_equal(l->entries[0].kind, IMALOG_FILE);
        imalog_free(l);

        /* ima-sigv2: ima digest and a v3 signature */
        static const uint8_t v3[] = { 0x06, 0x03, 0x04, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x30 };
        d.n = 0;
        field_digest(&d, "ima:sha256:", "content");
        field_str(&d, "/usr/bin/s");
        b_field(&d, v3, sizeof(v3));
        assert_int_equal(parse_one("ima-sigv2", &d, &l), 0);
        assert_string_equal(l->entries[0].digest_type, "ima");
        assert_int_equal(l->entries[0].sig_len, sizeof(v3));
        assert_true(imalog_entry_keyid(&l->entries[0], &keyid));
        assert_int_equal(keyid, 0xdeadbeef);
        imalog_free(l);

        /* ima-buf */
        d.n = 0;
        field_digest(&d, "sha256:", "buffer");
        field_str(&d, "kexec-cmdline");
        b_field(&d, "buffer", 6);
        assert_int_equal(parse_one("ima-buf", &d, &l), 0);
        assert_int_equal(l->entries[0].kind, IMALOG_BUFFER);
        assert_int_equal(l->entries[0].buf_len, 6);
        imalog_free(l);

        /* ima-modsig: sig empty, d-modsig and modsig present */
        d.n = 0;
        field_digest(&d, "sha256:", "module");
        field_str(&d, "/lib/modules/m.ko");
        b_field(&d, "", 0);
        field_digest(&d, "sha256:", "module-without-sig");
        b_field(&d, "PKCS7", 5);
        assert_int_equal(parse_one("ima-modsig", &d, &l), 0);
        assert_string_equal(l->entries[0].path, "/lib/modules/m.ko");
        assert_null(l->entries[0].sig);
        imalog_free(l);

        /* evm-sig: seven more fields */
        d.n = 0;
        field_digest(&d, "sha256:", "evm");
        field_str(&d, "/etc/e");
        for (int i = 0; i < 7; i++)
                b_field(&d, "x", 1);
        assert_int_equal(parse_one("evm-sig", &d, &l), 0);
        assert_string_equal(l->entries[0].path, "/etc/e");
        imalog_free(l);

        /* a custom template (ima_template_fmt=): its name is its fields */
        d.n = 0;
        field_digest(&d, "sha256:", "custom");
        field_str(&d, "/etc/c");
        b_field(&d, fake_sig, sizeof(fake_sig));
        assert_int_equal(parse_one("d-ng|n-ng|sig", &d, &l), 0);
        assert_int_equal(l->entries[0].sig_len, sizeof(fake_sig));
        imalog_free(l);
}

/* The legacy 'ima' template: bare sha1 digest, name without NUL, hashed
 * as digest || name padded to 256 bytes. */
static void test_legacy_ima(void **state)
{
        struct buf log = { .n = 0 };
        struct imalog *l = NULL;
        uint8_t hashed[20 + 256] = { 0 }, sha1[20], rep[20], want[20], ext[40];
        const char *name = "/sbin/init";

        digest("sha1", "init", 4, hashed);
        memcpy(hashed + 20, name, strlen(name));
        digest("sha1", hashed, sizeof(hashed), sha1);
        b_le32(&log, 10);
        b_add(&log, sha1, 20);
        b_field(&log, "ima", 3);
        b_add(&log, hashed, 20);
        b_field(&log, name, strlen(name));
        assert_int_equal(imalog_parse(log.d, log.n, &l), 0);
        assert_int_equal(l->n, 1);
        assert_string_equal(l->entries[0].path, "/sbin/init");
        assert_string_equal(l->entries[0].digest_algo, "sha1");
        assert_int_equal(imalog_replay(l, 10, "sha1", rep), 1);
        memset(ext, 0, 20);
        memcpy(ext + 20, sha1, 20);
        digest("sha1", ext, 40, want);
        assert_memory_equal(rep, want, 20);
        imalog_free(l);
}

/* The template name is not covered by the template digest: a renamed
 * entry must fail, naming the entry and its path, never be skipped. */
static void test_renamed_template(void **state)
{
        struct imalog *l = NULL;
        struct buf d = { .n = 0 };

        field_digest(&d, "sha256:", "extra program");
        field_str(&d, "/usr/bin/extra");
        b_field(&d, fake_sig, sizeof(fake_sig));
        assert_int_equal(parse_one("ima-sig", &d, &l), 0);
        imalog_free(l);
        assert_int_equal(parse_one("ima-xyz", &d, &l), -EBADMSG);
        assert_string_equal(imgerr_what(-EBADMSG), "entry 1 (/usr/bin/extra): unknown template 'ima-xyz'");
        assert_int_equal(parse_one("ima-sigv2", &d, &l), -EBADMSG);
        assert_string_equal(imgerr_what(-EBADMSG), "entry 1 (/usr/bin/extra): d-ngv2 digest field without 'type:algo:'");
        assert_int_equal(parse_one("ima-ng", &d, &l), -EBADMSG);
        assert_string_equal(imgerr_what(-EBADMSG), "entry 1 (/usr/bin/extra): 15 stray bytes in template data");
        assert_int_equal(parse_one("ima-modsig", &d, &l), -EBADMSG);
        assert_non_null(strstr(imgerr_what(-EBADMSG), "entry 1 (/usr/bin/extra): template data ends before field 'd-modsig'"));
        assert_int_equal(parse_one("ima", &d, &l), -EBADMSG);
        assert_int_equal(parse_one("buf", &d, &l), -EBADMSG);       /* no digest, no name */
        /* renamed to ima-buf it parses, as a buffer (attest: its digest is not the buffer's) */
        assert_int_equal(parse_one("ima-buf", &d, &l), 0);
        assert_int_equal(l->entries[0].kind, IMALOG_BUFFER);
        imalog_free(l);
        /* a name with a control character is escaped in the message */
        assert_int_equal(parse_one("x\033[8m", &d, &l), -EBADMSG);
        assert_string_equal(imgerr_what(-EBADMSG), "entry 1 (/usr/bin/extra): unknown template 'x\\033[8m'");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_replay_matches_tpm),
                cmocka_unit_test(test_violation_changes_pcr),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_all_templates),
                cmocka_unit_test(test_legacy_ima),
                cmocka_unit_test(test_renamed_template),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
