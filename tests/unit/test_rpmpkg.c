/* rpmpkg against rpm's own test packages (shared/fixtures/rpm-upstream):
 * header facts as `rpm -qp` shows them, payload content hashed here with
 * OpenSSL (independently of rpmpkg's own check) against the header digests,
 * hard-link sets, capabilities, and damaged packages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <rpm/header.h>
#include <rpm/rpmtag.h>
#include <rpm/rpmtd.h>

#include "ima/imasig.h"
#include "rpm/rpmpkg.h"
#include "base/util.h"

static const char *fixtures(void)
{
        static char beside_source[4096];
        const char *f = getenv("FIXTURES");

        if (f && *f)
                return f;
        /* <src>/tests/unit/test_rpmpkg.c -> <src>/../shared/fixtures/rpm-upstream */
        snprintf(beside_source, sizeof(beside_source), "%s", __FILE__);
        *strrchr(beside_source, '/') = 0;
        strncat(beside_source, "/../../../shared/fixtures/rpm-upstream",
                sizeof(beside_source) - strlen(beside_source) - 1);
        return beside_source;
}

static struct rpmpkg *open_fixture(const char *name)
{
        char path[4096];
        struct rpmpkg *p = NULL;

        snprintf(path, sizeof(path), "%s/%s", fixtures(), name);
        int r = rpmpkg_open(path, &p);
        if (r < 0)
                fail_msg("rpmpkg_open %s: %s", path, imgerr_what(r));
        return p;
}

static const struct rpmpkg_file *find(struct rpmpkg *p, const char *path, struct rpmpkg_file *f)
{
        for (size_t i = 0; i < rpmpkg_file_count(p); i++) {
                assert_int_equal(rpmpkg_file(p, i, f), 0);
                if (!strcmp(f->path, path))
                        return f;
        }
        fail_msg("%s not in %s", path, rpmpkg_nevra(p));
        return NULL;
}

static void test_hello_facts(void **state)
{
        struct rpmpkg *p = open_fixture("hello-2.0-1.x86_64.rpm");
        struct rpmpkg_file f;

        assert_string_equal(rpmpkg_name(p), "hello");
        assert_string_equal(rpmpkg_nevra(p), "hello-2.0-1.x86_64");
        assert_string_equal(rpmpkg_arch(p), "x86_64");
        assert_int_equal(rpmpkg_file_count(p), 5);
        assert_null(rpmpkg_scriptlets(p)[0]);
        assert_non_null(rpmpkg_header(p));

        find(p, "/usr/bin/hello", &f);
        assert_int_equal(f.mode, S_IFREG | 0751);
        assert_string_equal(f.user, "root");
        assert_string_equal(f.group, "root");
        assert_int_equal(f.size, 7120);
        assert_int_equal(f.digest_algo, IMA_HASH_SHA256);
        assert_int_equal(f.digest_len, 32);
        assert_int_equal(f.digest[0], 0xc8);
        assert_int_equal(f.digest[31], 0xf0);
        assert_null(f.ima);
        assert_int_equal(f.nlink, 1);
        assert_int_equal(f.flags, 0);

        find(p, "/usr/share/doc/hello-2.0", &f);
        assert_true(S_ISDIR(f.mode));
        assert_null(f.digest);

        find(p, "/usr/share/doc/hello-2.0/FAQ", &f);
        assert_int_equal(f.flags, RPMPKG_FILE_DOC);
        assert_int_equal(f.size, 36);
        rpmpkg_free(p);
}

static void test_badima_signatures(void **state)
{
        struct rpmpkg *p = open_fixture("hello-2.0-1.x86_64-badima.rpm");
        struct rpmpkg_file f;
        size_t signed_files = 0;

        for (size_t i = 0; i < rpmpkg_file_count(p); i++) {
                assert_int_equal(rpmpkg_file(p, i, &f), 0);
                if (S_ISDIR(f.mode)) {
                        assert_null(f.ima);
                        continue;
                }
                assert_non_null(f.ima);
                /* 03 02 <algo> <keyid b8f2bd97> */
                assert_true(f.ima_len > 9);
                assert_int_equal(f.ima[0], EVM_IMA_XATTR_DIGSIG);
                assert_int_equal(f.ima[1], 2);
                assert_int_equal(f.ima[2], IMA_HASH_SHA256);
                assert_memory_equal(f.ima + 3, "\xb8\xf2\xbd\x97", 4);
                signed_files++;
        }
        assert_int_equal(signed_files, 4);
        rpmpkg_free(p);
}

/* Stream the whole payload; hash each content-bearing entry here and
 * compare with the header digest of every member of its link set. */
static void stream_and_check(const char *name, size_t expect_entries)
{
        struct rpmpkg *p = open_fixture(name);
        struct rpmpkg_payload *pl = NULL;
        size_t n = rpmpkg_file_count(p), idx, entries = 0, contents = 0;
        bool *seen = calloc(n, sizeof(bool));
        static uint8_t buf[256 * 1024];
        int r;

        assert_int_equal(rpmpkg_payload_open(p, &pl), 0);
        while ((r = rpmpkg_payload_next(pl, &idx)) > 0) {
                struct rpmpkg_file f;
                assert_true(idx < n);
                assert_false(seen[idx]);
                seen[idx] = true;
                entries++;
                assert_int_equal(rpmpkg_file(p, idx, &f), 0);
                if (!rpmpkg_payload_has_content(pl))
                        continue;
                assert_true(S_ISREG(f.mode));
                contents++;
                EVP_MD_CTX *md = EVP_MD_CTX_new();
                uint8_t dig[EVP_MAX_MD_SIZE];
                unsigned dlen;
                uint64_t total = 0;
                ssize_t got;
                EVP_DigestInit_ex(md, EVP_sha256(), NULL);
                while ((got = rpmpkg_payload_read(pl, buf, sizeof(buf))) > 0) {
                        EVP_DigestUpdate(md, buf, (size_t)got);
                        total += (uint64_t)got;
                }
                assert_int_equal(got, 0);
                EVP_DigestFinal_ex(md, dig, &dlen);
                EVP_MD_CTX_free(md);
                assert_int_equal(total, f.size);
                assert_int_equal(dlen, f.digest_len);
                assert_memory_equal(dig, f.digest, dlen);
        }
        assert_int_equal(r, 0);
        assert_int_equal(entries, expect_entries);
        for (size_t i = 0; i < n; i++) {
                struct rpmpkg_file f;
                rpmpkg_file(p, i, &f);
                if (!(f.flags & RPMPKG_FILE_GHOST))
                        assert_true(seen[i]);
        }
        assert_true(contents > 0);
        free(seen);
        rpmpkg_payload_free(pl);
        rpmpkg_free(p);
}

static void test_stream_gzip(void **state) { stream_and_check("hello-2.0-1.x86_64.rpm", 5); }
static void test_stream_zstd(void **state) { stream_and_check("imatest-1.0-1.fc34.noarch.rpm", 2); }
static void test_stream_xz(void **state) { stream_and_check("capstest-1.0-1.noarch.rpm", 3); }
static void test_stream_hardlinks(void **state) { stream_and_check("hlinktest-1.0-1.noarch.rpm", 8); }

static void test_hardlink_sets(void **state)
{
        struct rpmpkg *p = open_fixture("hlinktest-1.0-1.noarch.rpm");
        struct rpmpkg_payload *pl = NULL;
        struct rpmpkg_file f;
        size_t idx, with_content_4 = 0, with_content_2 = 0, with_content_1 = 0;
        int r;

        assert_int_equal(find(p, "/foo/hello", &f)->nlink, 4);
        assert_int_equal(find(p, "/foo/hello-world", &f)->nlink, 4);
        assert_int_equal(find(p, "/foo/aaaa", &f)->nlink, 2);
        assert_int_equal(find(p, "/foo/zzzz", &f)->nlink, 2);
        assert_int_equal(find(p, "/foo/copyllo", &f)->nlink, 1);
        assert_true(S_ISDIR(find(p, "/foo", &f)->mode));
        uint32_t hello_ino = find(p, "/foo/hello", &f)->inode;
        assert_int_equal(find(p, "/foo/hello-bar", &f)->inode, hello_ino);
        assert_int_not_equal(find(p, "/foo/copyllo", &f)->inode, hello_ino);
        uint32_t aaaa_ino = find(p, "/foo/aaaa", &f)->inode;
        assert_int_equal(find(p, "/foo/zzzz", &f)->inode, aaaa_ino);
        assert_int_not_equal(aaaa_ino, hello_ino);

        /* One entry per member; only one member of each set carries content. */
        assert_int_equal(rpmpkg_payload_open(p, &pl), 0);
        while ((r = rpmpkg_payload_next(pl, &idx)) > 0) {
                rpmpkg_file(p, idx, &f);
                if (!rpmpkg_payload_has_content(pl))
                        continue;
                if (f.nlink == 4) with_content_4++;
                if (f.nlink == 2) with_content_2++;
                if (f.nlink == 1 && S_ISREG(f.mode)) with_content_1++;
        }
        assert_int_equal(r, 0);
        assert_int_equal(with_content_4, 1);
        assert_int_equal(with_content_2, 1);
        assert_int_equal(with_content_1, 1);
        rpmpkg_payload_free(pl);
        rpmpkg_free(p);
}

static void test_caps(void **state)
{
        struct rpmpkg *p = open_fixture("capstest-1.0-1.noarch.rpm");
        struct rpmpkg_file f;

        assert_string_equal(find(p, "/a/emptyCaps1", &f)->caps, "=");
        assert_string_equal(find(p, "/a/emptyCaps2", &f)->caps, "=");
        find(p, "/a/noCaps", &f);
        assert_true(f.caps == NULL || f.caps[0] == 0);
        assert_int_equal(f.mode, S_IFREG | 0777);
        rpmpkg_free(p);
}

/* ---- damaged packages ---------------------------------------------------- */

static char *scratch(const char *name)
{
        const char *d = getenv("TEST_TMPDIR");
        char *path;
        if (!d)
                d = "/tmp";
        mkdir(d, 0755);
        assert_true(asprintf(&path, "%s/rpmpkg-%d-%s", d, (int)getpid(), name) > 0);
        return path;
}

/* Copy a fixture, keeping the first `keep` bytes (0: all) and xor-ing
 * byte `flip_at` (-1: none). */
static char *damaged_copy(const char *fixture, const char *name, size_t keep, long flip_at)
{
        char src[4096];
        static uint8_t data[1 << 20];
        char *dst = scratch(name);
        snprintf(src, sizeof(src), "%s/%s", fixtures(), fixture);
        FILE *in = fopen(src, "rb");
        assert_non_null(in);
        size_t n = fread(data, 1, sizeof(data), in);
        fclose(in);
        if (keep && keep < n)
                n = keep;
        if (flip_at >= 0)
                data[flip_at] ^= 0x55;
        FILE *out = fopen(dst, "wb");
        assert_non_null(out);
        assert_int_equal(fwrite(data, 1, n, out), n);
        fclose(out);
        return dst;
}

static void expect_open_error(const char *path, const char *what)
{
        struct rpmpkg *p = NULL;
        imgerr_clear();
        int r = rpmpkg_open(path, &p);
        assert_true(r < 0);
        assert_null(p);
        if (!strstr(imgerr_what(r), path) || !strstr(imgerr_what(r), what))
                fail_msg("message '%s' should name %s and say '%s'", imgerr_what(r), path, what);
        unlink(path);
}

static void test_not_an_rpm(void **state)
{
        char *path = scratch("junk.rpm");
        FILE *f = fopen(path, "w");
        fputs("this is not a package\n", f);
        fclose(f);
        expect_open_error(path, "not an RPM");
        free(path);
}

static void test_truncated(void **state)
{
        /* in the payload: caught by the header's size field */
        char *path = damaged_copy("hello-2.0-1.x86_64.rpm", "trunc-payload.rpm", 8000, -1);
        expect_open_error(path, "truncated");
        free(path);
        /* in the header */
        path = damaged_copy("hello-2.0-1.x86_64.rpm", "trunc-header.rpm", 5000, -1);
        struct rpmpkg *p = NULL;
        int r = rpmpkg_open(path, &p);
        assert_true(r < 0);
        assert_non_null(strstr(imgerr_what(r), path));
        unlink(path);
        free(path);
}

static void test_corrupt_header(void **state)
{
        /* a byte inside the main header's data (header at 4504, il 57) */
        char *path = damaged_copy("hello-2.0-1.x86_64.rpm", "badhdr.rpm", 0, 4504 + 16 + 57 * 16 + 40);
        expect_open_error(path, "corrupt");
        free(path);
}

static void test_corrupt_payload(void **state)
{
        /* header digests are fine; the payload (at 7160, gzip) is not */
        char *path = damaged_copy("hello-2.0-1.x86_64.rpm", "badpayload.rpm", 0, 7160 + 600);
        struct rpmpkg *p = NULL;
        struct rpmpkg_payload *pl = NULL;
        static uint8_t buf[65536];
        size_t idx;
        int r;
        ssize_t n = 0;

        assert_int_equal(rpmpkg_open(path, &p), 0);
        assert_int_equal(rpmpkg_payload_open(p, &pl), 0);
        imgerr_clear();
        while ((r = rpmpkg_payload_next(pl, &idx)) > 0)
                while ((n = rpmpkg_payload_read(pl, buf, sizeof(buf))) > 0)
                        ;
        assert_true(r < 0 || n < 0);
        assert_non_null(strstr(imgerr_what(r < 0 ? r : (int)n), path));
        rpmpkg_payload_free(pl);
        rpmpkg_free(p);
        unlink(path);
        free(path);
}

/* ---- hostile headers ------------------------------------------------------
 * A package whose header says something rpmbuild would never write, with
 * valid header digests: hello's main header, changed by `mutate`, with a
 * fresh signature header holding only its SHA256. */
static uint32_t be32(const uint8_t *b) { return (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]; }

static char *craft(const char *name, void (*mutate)(Header h))
{
        static uint8_t data[1 << 20];
        static const uint8_t magic[8] = { 0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0 };
        static const uint8_t zeros[8];
        char src[4096];
        snprintf(src, sizeof(src), "%s/hello-2.0-1.x86_64.rpm", fixtures());
        FILE *in = fopen(src, "rb");
        assert_non_null(in);
        size_t n = fread(data, 1, sizeof(data), in);
        fclose(in);

        size_t sig_len = 16 + 16 * (size_t)be32(data + 104) + be32(data + 108);
        size_t hoff = 96 + ((sig_len + 7) & ~(size_t)7);
        size_t hlen = 8 + 16 * (size_t)be32(data + hoff + 8) + be32(data + hoff + 12);
        size_t payload = hoff + 8 + hlen;
        Header h = headerImport(data + hoff + 8, (unsigned)hlen, HEADERIMPORT_COPY);
        assert_non_null(h);
        struct rpmtd_s td;
        assert_true(headerGet(h, RPMTAG_HEADERIMMUTABLE, &td, HEADERGET_DEFAULT));
        Header region = headerImport(td.data, td.count, HEADERIMPORT_COPY);
        rpmtdFreeData(&td);
        headerFree(h);
        h = headerCopy(region);
        headerFree(region);
        mutate(h);
        h = headerReload(h, RPMTAG_HEADERIMMUTABLE);
        assert_non_null(h);
        unsigned blen;
        uint8_t *blob = headerExport(h, &blen);
        headerFree(h);

        /* SHA256 over magic + blob, as rpm computes RPMSIGTAG_SHA256 */
        uint8_t dig[32];
        char hex[65];
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        EVP_DigestUpdate(md, magic, 8);
        EVP_DigestUpdate(md, blob, blen);
        EVP_DigestFinal_ex(md, dig, NULL);
        EVP_MD_CTX_free(md);
        hex_encode(dig, 32, hex);
        Header sigh = headerNew();
        const char *hexp = hex;
        rpmtdReset(&td);
        td.tag = RPMSIGTAG_SHA256;
        td.type = RPM_STRING_TYPE;
        td.data = (void *)hexp;
        td.count = 1;
        assert_true(headerPut(sigh, &td, HEADERPUT_DEFAULT));
        sigh = headerReload(sigh, RPMTAG_HEADERSIGNATURES);
        unsigned slen;
        uint8_t *sblob = headerExport(sigh, &slen);
        headerFree(sigh);

        char *dst = scratch(name);
        FILE *out = fopen(dst, "wb");
        assert_non_null(out);
        fwrite(data, 1, 96, out);
        fwrite(magic, 1, 8, out);
        fwrite(sblob, 1, slen, out);
        fwrite(zeros, 1, (8 - (8 + slen) % 8) % 8, out);
        fwrite(magic, 1, 8, out);
        fwrite(blob, 1, blen, out);
        fwrite(data + payload, 1, n - payload, out);
        fclose(out);
        free(blob);
        free(sblob);
        return dst;
}

static void set_dirnames(Header h, const char *first)
{
        struct rpmtd_s td;
        assert_true(headerGet(h, RPMTAG_DIRNAMES, &td, HEADERGET_ALLOC));
        const char **dirs = calloc(td.count, sizeof(char *));
        memcpy(dirs, td.data, td.count * sizeof(char *));
        dirs[0] = first;
        struct rpmtd_s mod = td;
        mod.data = dirs;
        assert_true(headerMod(h, &mod));
        free(dirs);
        rpmtdFreeData(&td);
}
static void dotdot(Header h) { set_dirnames(h, "/usr/../../etc/"); }
static void relative(Header h) { set_dirnames(h, "usr/bin/"); }
static void messy(Header h) { set_dirnames(h, "/usr//bin/./"); }
static void bad_algo(Header h)
{
        uint32_t algo = 99;
        headerDel(h, RPMTAG_FILEDIGESTALGO);
        assert_true(headerPutUint32(h, RPMTAG_FILEDIGESTALGO, &algo, 1));
}
static void oversize(Header h)
{
        struct rpmtd_s td;
        assert_true(headerGet(h, RPMTAG_FILESIZES, &td, HEADERGET_ALLOC));
        ((uint32_t *)td.data)[0] = 1 << 20;   /* /usr/bin/hello: 7120 in the payload */
        assert_true(headerMod(h, &td));
        rpmtdFreeData(&td);
}

static void test_hostile_paths(void **state)
{
        char *p = craft("dotdot.rpm", dotdot);
        expect_open_error(p, "contains '..'");
        free(p);
        p = craft("relative.rpm", relative);
        expect_open_error(p, "is not absolute");
        free(p);

        /* harmless oddities are normalised */
        struct rpmpkg *pkg = NULL;
        struct rpmpkg_file f;
        p = craft("messy.rpm", messy);
        assert_int_equal(rpmpkg_open(p, &pkg), 0);
        assert_int_equal(rpmpkg_file(pkg, 0, &f), 0);
        assert_string_equal(f.path, "/usr/bin/hello");
        rpmpkg_free(pkg);
        unlink(p);
        free(p);
}

static void test_unsupported_digest_algo(void **state)
{
        char *p = craft("algo.rpm", bad_algo);
        expect_open_error(p, "unsupported file digest algorithm 99");
        free(p);
}

static void test_size_beyond_payload(void **state)
{
        char *p = craft("oversize.rpm", oversize);
        struct rpmpkg *pkg = NULL;
        struct rpmpkg_payload *pl = NULL;
        static uint8_t buf[65536];
        size_t idx;
        ssize_t n = 0;
        int r;

        assert_int_equal(rpmpkg_open(p, &pkg), 0);
        assert_int_equal(rpmpkg_payload_open(pkg, &pl), 0);
        imgerr_clear();
        while ((r = rpmpkg_payload_next(pl, &idx)) > 0 && n >= 0)
                while ((n = rpmpkg_payload_read(pl, buf, sizeof(buf))) > 0)
                        ;
        assert_true(r < 0 || n < 0);
        if (!strstr(imgerr_what(r < 0 ? r : (int)n), p))
                fail_msg("'%s' should name %s", imgerr_what(r < 0 ? r : (int)n), p);
        rpmpkg_payload_free(pl);
        rpmpkg_free(pkg);
        unlink(p);
        free(p);
}

int main(void)
{
        char probe[4200];
        snprintf(probe, sizeof(probe), "%s/hello-2.0-1.x86_64.rpm", fixtures());
        if (access(probe, R_OK) < 0) {
                /* every test here reads rpm's own packages: skipped (ctest) */
                printf("skipped: rpm's test packages not found at %s\n", fixtures());
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hello_facts),
                cmocka_unit_test(test_badima_signatures),
                cmocka_unit_test(test_stream_gzip),
                cmocka_unit_test(test_stream_zstd),
                cmocka_unit_test(test_stream_xz),
                cmocka_unit_test(test_stream_hardlinks),
                cmocka_unit_test(test_hardlink_sets),
                cmocka_unit_test(test_caps),
                cmocka_unit_test(test_not_an_rpm),
                cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_corrupt_header),
                cmocka_unit_test(test_corrupt_payload),
                cmocka_unit_test(test_hostile_paths),
                cmocka_unit_test(test_unsupported_digest_algo),
                cmocka_unit_test(test_size_beyond_payload),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
