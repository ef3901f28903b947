#include "boot/pcrs.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <unistd.h>

#include "boot/authenticode.h"
#include "boot/diskimg.h"
#include "boot/pe.h"
#include "boot/sbkeys.h"
#include "base/util.h"

#define SECTOR 512

static void sha256(const void *d, size_t n, uint8_t out[32])
{
        EVP_Digest(d, n, out, NULL, EVP_sha256(), NULL);
}

/* PCR := SHA256(PCR || digest) */
static void extend(uint8_t pcr[32], const uint8_t digest[32])
{
        uint8_t buf[64];
        memcpy(buf, pcr, 32);
        memcpy(buf + 32, digest, 32);
        sha256(buf, 64, pcr);
}

static void extend_data(uint8_t pcr[32], const void *d, size_t n)
{
        uint8_t md[32];
        sha256(d, n, md);
        extend(pcr, md);
}

static void extend_separator(uint8_t pcr[32])
{
        static const uint8_t zero[4];
        extend_data(pcr, zero, 4);
}

static void extend_action(uint8_t pcr[32], const char *s)
{
        extend_data(pcr, s, strlen(s));
}

/* UEFI_VARIABLE_DATA: VariableName GUID, UnicodeNameLength (u64, in
 * characters), VariableDataLength (u64), the name in UTF-16 without NUL,
 * the data. */
static int extend_variable(uint8_t pcr[32], const char *vendor, const char *name, const uint8_t *data, size_t len)
{
        size_t nlen = strlen(name), total = 32 + 2 * nlen + len;
        _cleanup_free_ uint8_t *v = malloc(total);
        uint64_t n64 = nlen, l64 = len;

        if (!v)
                return -ENOMEM;
        efi_guid_parse(vendor, v);
        memcpy(v + 16, &n64, 8);  /* little-endian host (x86-64) */
        memcpy(v + 24, &l64, 8);
        for (size_t i = 0; i < nlen; i++) {
                v[32 + 2 * i] = (uint8_t)name[i];
                v[33 + 2 * i] = 0;
        }
        if (len)
                memcpy(v + 32 + 2 * nlen, data, len);
        extend_data(pcr, v, total);
        return 0;
}

/* ---- PCR 5: the GPT ---------------------------------------------------------- */

static int predict_pcr5(const char *disk, uint8_t pcr[32])
{
        _cleanup_close_ int fd = open(disk, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ uint8_t *entries = NULL, *ev = NULL;
        uint8_t hdr[SECTOR];
        uint32_t hsize, n, esize;
        uint64_t lba, used = 0;
        size_t at;

        if (fd < 0)
                return imgerr(-errno, "%s: %s", disk, strerror(errno));
        if (pread(fd, hdr, SECTOR, SECTOR) != SECTOR || memcmp(hdr, "EFI PART", 8))
                return imgerr(-EINVAL, "%s: not a GPT disk image", disk);
        memcpy(&hsize, hdr + 12, 4);
        memcpy(&lba, hdr + 72, 8);
        memcpy(&n, hdr + 80, 4);
        memcpy(&esize, hdr + 84, 4);
        if (hsize < 92 || hsize > SECTOR || esize < 128 || esize > 4096 || n > 1024)
                return imgerr(-EINVAL, "%s: implausible GPT header", disk);
        entries = malloc((size_t)n * esize);
        ev = malloc(hsize + 8 + (size_t)n * esize);
        if (!entries || !ev)
                return -ENOMEM;
        if (pread(fd, entries, (size_t)n * esize, (off_t)(lba * SECTOR)) != (ssize_t)((size_t)n * esize))
                return imgerr(-EIO, "%s: cannot read the GPT entries", disk);
        /* UEFI_GPT_DATA: the header, the number of used entries, the entries. */
        memcpy(ev, hdr, hsize);
        at = hsize + 8;
        for (uint32_t i = 0; i < n; i++) {
                static const uint8_t zero[16];
                if (!memcmp(entries + (size_t)i * esize, zero, 16))
                        continue;
                memcpy(ev + at, entries + (size_t)i * esize, esize);
                at += esize;
                used++;
        }
        memcpy(ev + hsize, &used, 8);
        memset(pcr, 0, 32);
        extend_separator(pcr);
        extend_data(pcr, ev, at);
        extend_action(pcr, "Exit Boot Services Invocation");
        extend_action(pcr, "Exit Boot Services Returned with Success");
        return 0;
}

/* ---- PCR 11: systemd-stub's sections --------------------------------------- */

static void predict_pcr11(const struct pe_image *pe, uint8_t pcr[32])
{
        /* systemd 252's unified_sections[] order. */
        static const char *const names[] = { ".linux", ".osrel", ".cmdline", ".initrd", ".splash", ".dtb",
                                             ".pcrsig", ".pcrpkey" };
        memset(pcr, 0, 32);
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                struct pe_section s;
                if (pe_find_section(pe, names[i], &s) < 0)
                        continue;
                uint32_t len = s.virtual_size < s.raw_size ? s.virtual_size : s.raw_size;
                extend_data(pcr, names[i], strlen(names[i]) + 1);
                extend_data(pcr, pe->data + s.raw_offset, len);
        }
}

/* ---- PCR 7: Secure Boot policy and the authority ----------------------------- */

static int read_esl(const char *keydir, const char *name, bool optional, uint8_t **data, size_t *len)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s.esl", keydir, name) < 0)
                return -ENOMEM;
        if (optional && access(path, F_OK) < 0) {
                *data = NULL;
                *len = 0;
                return 0;
        }
        return read_file(path, data, len);
}

/* The EFI_SIGNATURE_DATA (owner GUID + cert) of the db entry whose cert is
 * the signer's or its issuer. */
static int find_authority(const uint8_t *db, size_t len, X509 *signer, const char *what,
                          const uint8_t **entry, size_t *entry_len, char **subject)
{
        uint8_t x509_guid[16];

        efi_guid_parse(EFI_CERT_X509_GUID, x509_guid);
        for (size_t at = 0; at + 28 <= len;) {
                uint32_t list_size, hdr_size, sig_size;
                memcpy(&list_size, db + at + 16, 4);
                memcpy(&hdr_size, db + at + 20, 4);
                memcpy(&sig_size, db + at + 24, 4);
                if (list_size < 28 || list_size > len - at || sig_size < 16)
                        break;
                if (!memcmp(db + at, x509_guid, 16)) {
                        for (size_t s = at + 28 + hdr_size; s + sig_size <= at + list_size; s += sig_size) {
                                const uint8_t *p = db + s + 16;
                                X509 *c = d2i_X509(NULL, &p, (long)(sig_size - 16));
                                EVP_PKEY *k = c ? X509_get0_pubkey(c) : NULL;
                                bool match = c && (!X509_cmp(c, signer) ||
                                                   (X509_check_issued(c, signer) == X509_V_OK && k &&
                                                    X509_verify(signer, k) == 1));
                                if (match) {
                                        *entry = db + s;
                                        *entry_len = sig_size;
                                        *subject = X509_NAME_oneline(X509_get_subject_name(c), NULL, 0);
                                }
                                X509_free(c);
                                if (match)
                                        return 0;
                        }
                }
                at += list_size;
        }
        return imgerr(-ENOKEY, "%s: no db entry verifies the UKI's signer: Secure Boot would refuse it", what);
}

static int predict_pcr7(const struct pe_image *pe, const char *keydir, uint8_t pcr[32], char **subject)
{
        _cleanup_free_ uint8_t *pk = NULL, *kek = NULL, *db = NULL, *dbx = NULL;
        _cleanup_free_ char *db_path = NULL;
        size_t pk_len, kek_len, db_len, dbx_len, entry_len = 0;
        const uint8_t *entry = NULL;
        static const uint8_t on = 1;
        X509 *signer = NULL;
        int r;

        if ((r = read_esl(keydir, "PK", false, &pk, &pk_len)) < 0 ||
            (r = read_esl(keydir, "KEK", false, &kek, &kek_len)) < 0 ||
            (r = read_esl(keydir, "db", false, &db, &db_len)) < 0 ||
            (r = read_esl(keydir, "dbx", true, &dbx, &dbx_len)) < 0)
                return r;
        if (asprintf(&db_path, "%s/db.esl", keydir) < 0)
                return -ENOMEM;
        r = authenticode_signer_cert(pe, &signer);
        if (r == -ENOENT)
                return imgerr(r, "the disk's UKI is not signed: Secure Boot would refuse it");
        if (r < 0)
                return r;
        r = find_authority(db, db_len, signer, db_path, &entry, &entry_len, subject);
        X509_free(signer);
        if (r < 0)
                return r;
        memset(pcr, 0, 32);
        if ((r = extend_variable(pcr, EFI_GLOBAL_VARIABLE_GUID, "SecureBoot", &on, 1)) < 0 ||
            (r = extend_variable(pcr, EFI_GLOBAL_VARIABLE_GUID, "PK", pk, pk_len)) < 0 ||
            (r = extend_variable(pcr, EFI_GLOBAL_VARIABLE_GUID, "KEK", kek, kek_len)) < 0 ||
            (r = extend_variable(pcr, EFI_IMAGE_SECURITY_DATABASE_GUID, "db", db, db_len)) < 0 ||
            (r = extend_variable(pcr, EFI_IMAGE_SECURITY_DATABASE_GUID, "dbx", dbx, dbx_len)) < 0)
                return r;
        extend_separator(pcr);
        return extend_variable(pcr, EFI_IMAGE_SECURITY_DATABASE_GUID, "db", entry, entry_len);
}

/* ---- all of it ---------------------------------------------------------------- */

int pcrs_predict(const char *disk, const char *keydir, struct pcrs_prediction *out)
{
        struct pe_image pe;
        uint8_t *uki;
        size_t len;
        struct pcr_value *v;
        int r;

        memset(out, 0, sizeof(*out));
        r = disk_read_esp_file(disk, "::/EFI/BOOT/BOOTX64.EFI", &uki, &len);
        if (r < 0)
                return r;
        r = pe_parse(&pe, uki, len, "\\EFI\\BOOT\\BOOTX64.EFI");
        if (r >= 0)
                r = pe_authenticode_sha256(&pe, out->uki_authenticode);
        if (r < 0)
                goto out;

        v = &out->pcr[out->n++];
        v->index = 4;
        v->what = "boot application: the UKI's Authenticode digest after the firmware's call and separator events";
        extend_action(v->sha256, "Calling EFI Application from Boot Option");
        extend_separator(v->sha256);
        extend(v->sha256, out->uki_authenticode);

        v = &out->pcr[out->n++];
        v->index = 5;
        v->what = "the disk's GPT and the ExitBootServices events";
        r = predict_pcr5(disk, v->sha256);
        if (r < 0)
                goto out;

        if (keydir) {
                v = &out->pcr[out->n++];
                v->index = 7;
                v->what = "Secure Boot on, PK/KEK/db/dbx as enrolled, the db entry that verified the UKI";
                r = predict_pcr7(&pe, keydir, v->sha256, &out->db_subject);
                if (r < 0)
                        goto out;
        }

        v = &out->pcr[out->n++];
        v->index = 11;
        v->what = "systemd-stub: the UKI's .linux, .osrel, .cmdline, .initrd sections";
        predict_pcr11(&pe, v->sha256);
out:
        free(uki);
        if (r < 0)
                pcrs_prediction_free(out);
        return r;
}

void pcrs_prediction_free(struct pcrs_prediction *p)
{
        free(p->db_subject);
        memset(p, 0, sizeof(*p));
}
