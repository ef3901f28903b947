/* PE sections, the Authenticode digest and deterministic signatures, on
 * Debian's systemd-stub (the UKI's base).  sbverify and the firmware are the
 * oracles in tests/integration; here: the invariants the format requires. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/authenticode.h"
#include "boot/pe.h"
#include "boot/uki.h"
#include "base/util.h"

static struct pe_image load_stub(void)
{
        struct pe_image pe;
        uint8_t *d;
        size_t n;
        assert_int_equal(read_file(UKI_DEFAULT_STUB, &d, &n), 0);
        assert_int_equal(pe_parse(&pe, d, n, "stub"), 0);
        return pe;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static void test_refusals(void **state)
{
        uint8_t junk[512] = { 'M', 'Z' };
        struct pe_image pe;

        assert_int_equal(pe_parse(&pe, junk, 10, "x"), -ENOEXEC);
        junk[0x3c] = 0xf0;  /* e_lfanew past the end */
        junk[0x3d] = 0x01;
        assert_int_equal(pe_parse(&pe, junk, sizeof(junk), "x"), -ENOEXEC);
        junk[0x3c] = 0x40;
        junk[0x3d] = 0;
        memcpy(junk + 0x40, "PE\0\0", 4);
        junk[0x46] = 0xff;  /* 255 sections in a 512-byte file */
        assert_int_equal(pe_parse(&pe, junk, sizeof(junk), "x"), -ENOEXEC);
        assert_true(strstr(imgerr_what(-ENOEXEC), "x: ") != NULL);
}

/* Issue 18 item 8: a PE32+ optional header of 96 bytes, the file ending
 * where its (zero) section table starts: NumberOfRvaAndSizes (offset 108)
 * lies past the end and must not be read (ASan reports a read past the
 * exact-size allocation). */
static void test_short_pe32plus_header(void **state)
{
        const size_t len = 0x58 + 96;
        uint8_t *d = calloc(1, len);
        struct pe_image pe;

        assert_non_null(d);
        d[0] = 'M';
        d[1] = 'Z';
        d[0x3c] = 0x40;
        memcpy(d + 0x40, "PE\0\0", 4);
        d[0x44 + 16] = 96;      /* SizeOfOptionalHeader */
        d[0x58] = 0x0b;         /* PE32+ magic 0x20b */
        d[0x59] = 0x02;
        assert_int_equal(pe_parse(&pe, d, len, "short.efi"), -ENOEXEC);
        assert_string_equal(imgerr_what(-ENOEXEC), "short.efi: PE optional header of 96 bytes is too short for a PE32+ header");
        free(d);
}

static void test_add_sections(void **state)
{
        struct pe_image pe = load_stub();
        struct pe_section s;
        unsigned n0 = pe.n_sections;
        uint8_t a[32], b[32];
        const char data[] = "hello, section";

        assert_int_equal(pe_add_section(&pe, ".osrel", data, sizeof(data), 4096), 0);
        assert_int_equal(pe_add_section(&pe, ".cmdline", "x", 1, 4096), 0);
        assert_int_equal(pe.n_sections, n0 + 2);
        assert_int_equal(pe_find_section(&pe, ".osrel", &s), 0);
        assert_int_equal(s.virtual_address % 4096, 0);
        assert_int_equal(s.virtual_size, sizeof(data));
        assert_int_equal(s.raw_offset % pe.file_align, 0);
        assert_memory_equal(pe.data + s.raw_offset, data, sizeof(data));
        assert_int_equal(pe_find_section(&pe, ".cmdline", &s), 0);
        /* SizeOfImage covers the last section. */
        assert_true(rd32(pe.data + pe.opt + 56) >= s.virtual_address + s.virtual_size);

        /* Re-parsing the result works; names longer than 8 bytes are refused. */
        struct pe_image again;
        assert_int_equal(pe_parse(&again, pe.data, pe.len, "uki"), 0);
        assert_int_equal(again.n_sections, n0 + 2);
        assert_int_equal(pe_add_section(&pe, ".toolongname", "x", 1, 4096), -EINVAL);

        /* The digest skips the checksum, covers section data. */
        assert_int_equal(pe_authenticode_sha256(&pe, a), 0);
        pe.data[pe.opt + 64] ^= 0xff;
        assert_int_equal(pe_authenticode_sha256(&pe, b), 0);
        assert_memory_equal(a, b, 32);
        pe.data[s.raw_offset] ^= 1;
        assert_int_equal(pe_authenticode_sha256(&pe, b), 0);
        assert_memory_not_equal(a, b, 32);
        free(pe.data);
}

static int make_signer(struct sb_signer *s)
{
        X509_NAME *n;
        s->key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        s->cert = X509_new();
        n = X509_get_subject_name(s->cert);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"unit db", -1, -1, 0);
        X509_set_issuer_name(s->cert, n);
        ASN1_INTEGER_set(X509_get_serialNumber(s->cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(s->cert), 0);
        X509_gmtime_adj(X509_getm_notAfter(s->cert), 86400);
        X509_set_pubkey(s->cert, s->key);
        return X509_sign(s->cert, s->key, EVP_sha256()) ? 0 : -1;
}

static void test_signature_deterministic(void **state)
{
        struct pe_image p1 = load_stub(), p2 = load_stub();
        struct sb_signer s = { 0 };
        uint8_t before[32], after[32];
        const uint8_t *sig;
        size_t sig_len;
        X509 *signer = NULL;

        assert_int_equal(make_signer(&s), 0);
        assert_int_equal(pe_add_section(&p1, ".linux", "kernel", 6, 4096), 0);
        assert_int_equal(pe_add_section(&p2, ".linux", "kernel", 6, 4096), 0);
        assert_int_equal(pe_authenticode_sha256(&p1, before), 0);
        assert_int_equal(pe_signature(&p1, &sig, &sig_len), -ENOENT);
        assert_int_equal(authenticode_signer_cert(&p1, &signer), -ENOENT);

        assert_int_equal(authenticode_sign(&p1, &s), 0);
        sleep(1);  /* a signing time would differ now */
        assert_int_equal(authenticode_sign(&p2, &s), 0);
        assert_int_equal(p1.len, p2.len);
        assert_memory_equal(p1.data, p2.data, p1.len);

        /* The signature is outside the digest; it names the signer. */
        assert_int_equal(pe_authenticode_sha256(&p1, after), 0);
        assert_memory_equal(before, after, 32);
        assert_int_equal(pe_signature(&p1, &sig, &sig_len), 0);
        assert_true(sig_len > 500);
        assert_int_equal(authenticode_signer_cert(&p1, &signer), 0);
        assert_int_equal(X509_cmp(signer, s.cert), 0);
        X509_free(signer);
        /* Signing twice, or adding a section to a signed image, is refused. */
        assert_int_equal(authenticode_sign(&p1, &s), -EEXIST);
        assert_int_equal(pe_add_section(&p1, ".initrd", "x", 1, 4096), -EINVAL);
        free(p1.data);
        free(p2.data);
        sb_signer_free(&s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_short_pe32plus_header),
                cmocka_unit_test(test_add_sections),
                cmocka_unit_test(test_signature_deterministic),
        };
        if (access(UKI_DEFAULT_STUB, R_OK) < 0) {
                /* a dependency (build.sh DEB_PACKAGES), not an optional fixture */
                printf("%s missing (./build.sh deps installs systemd-boot-efi)\n", UKI_DEFAULT_STUB);
                return 1;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
