/* imgtool-guest attest: the guest side of remote attestation, with raw TPM
 * 2.0 commands on /dev/tpmrm0 (or /dev/tpm0): static, no libraries.
 *
 *   imgtool-guest attest enroll
 *       print EKCERT (the RSA EK certificate swtpm_setup --create-ek-cert
 *       stores at NV 0x01c00002) and AKPUB (the attestation key's
 *       TPM2B_PUBLIC).  The AK is a primary key of the endorsement hierarchy
 *       from a fixed template: the same TPM recreates the same key (and
 *       name) on every boot, another TPM cannot.
 *   imgtool-guest attest quote NONCE BLOB SECRET   (hex)
 *       recreate the AK, ActivateCredential(AK, EK 0x81010001, BLOB, SECRET)
 *       (the host's MakeCredential for that AK name and the EK cert's key),
 *       quote PCRs 0-10 (sha256) with NONCE, read the PCRs and the binary
 *       IMA log; print AKPUB, ACTIVATED (or ACTIVATE-FAILED rc), QUOTE,
 *       QUOTESIG, PCRS and IMALOG.
 * Output: one "NAME base64" line per item, for qemu-test/run --attest.
 * Structures and command codes: TPM 2.0 Library, Part 2 and Part 3. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attest.h"
#include "base/bytes.h"

#define TPM_ST_NO_SESSIONS 0x8001
#define TPM_ST_SESSIONS 0x8002
#define TPM_RH_OWNER 0x40000001
#define TPM_RH_NULL 0x40000007
#define TPM_RS_PW 0x40000009
#define TPM_RH_ENDORSEMENT 0x4000000B
#define TPM_ALG_SHA256 0x000B
#define TPM_ALG_NULL 0x0010
#define TPM_ALG_ECDSA 0x0018
#define TPM_ALG_ECC 0x0023
#define TPM_ECC_NIST_P256 0x0003
#define EK_HANDLE 0x81010001
#define EK_CERT_NV 0x01c00002

#define CC_NV_READ 0x14E
#define CC_ACTIVATE_CREDENTIAL 0x147
#define CC_POLICY_SECRET 0x151
#define CC_QUOTE 0x158
#define CC_FLUSH_CONTEXT 0x165
#define CC_NV_READ_PUBLIC 0x169
#define CC_START_AUTH_SESSION 0x176
#define CC_PCR_READ 0x17E
#define CC_CREATE_PRIMARY 0x131

/* fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | restricted | sign */
#define AK_ATTRIBUTES 0x00050072u

struct buf {
        uint8_t b[8192];
        size_t len;
};

static void put8(struct buf *c, uint8_t v) { if (c->len < sizeof(c->b)) c->b[c->len++] = v; }
static void put16(struct buf *c, uint16_t v) { put8(c, v >> 8); put8(c, v & 0xff); }
static void put32(struct buf *c, uint32_t v) { put16(c, v >> 16); put16(c, v & 0xffff); }
static void putn(struct buf *c, const void *p, size_t n)
{
        if (c->len + n <= sizeof(c->b)) {
                memcpy(c->b + c->len, p, n);
                c->len += n;
        }
}
static void put2b(struct buf *c, const void *p, size_t n) { put16(c, (uint16_t)n); putn(c, p, n); }

static int tpm_fd = -1;
static int tpm_rm;            /* resource manager: it flushes our handles */

/* IMGTOOL_TPM_SOCKET=PATH: a swtpm --server type=unixio socket instead of
 * the device, so the host-side tests can drive a swtpm without a guest. */
static int tpm_open_socket(const char *path)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof(a.sun_path))
                return -1;
        strcpy(a.sun_path, path);
        tpm_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (tpm_fd < 0 || connect(tpm_fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                fprintf(stderr, "attest: %s: %s\n", path, strerror(errno));
                return -1;
        }
        return 0;
}

static int tpm_open(void)
{
        const char *sock = getenv("IMGTOOL_TPM_SOCKET");

        if (sock)
                return tpm_open_socket(sock);
        tpm_fd = open("/dev/tpmrm0", O_RDWR | O_CLOEXEC);
        tpm_rm = tpm_fd >= 0;
        if (tpm_fd < 0)
                tpm_fd = open("/dev/tpm0", O_RDWR | O_CLOEXEC);
        if (tpm_fd < 0) {
                fprintf(stderr, "attest: no TPM: /dev/tpm0: %s\n", strerror(errno));
                return -1;
        }
        return 0;
}

/* Start a command: header with a size patched by tpm_call(). */
static void cmd_start(struct buf *c, uint16_t tag, uint32_t cc)
{
        c->len = 0;
        put16(c, tag);
        put32(c, 0);
        put32(c, cc);
}

/* The authorization area: n password sessions with an empty password,
 * plus optionally a policy session (handle != 0) last. */
static void auth_area(struct buf *c, int n_pw, uint32_t policy_session)
{
        uint32_t size = (uint32_t)n_pw * 9 + (policy_session ? 9 : 0);
        put32(c, size);
        for (int i = 0; i < n_pw; i++) {
                put32(c, TPM_RS_PW);
                put16(c, 0);
                put8(c, 0);
                put16(c, 0);
        }
        if (policy_session) {
                put32(c, policy_session);
                put16(c, 0);
                put8(c, 0);
                put16(c, 0);
        }
}

/* Send c, read the response into rsp; returns the TPM response code (0 ok)
 * or -1 on I/O errors.  *r is positioned after the header (and, for
 * TPM_ST_SESSIONS responses, the caller reads handles then parameterSize). */
static long tpm_call_once(struct buf *c, struct buf *rsp, struct be_reader *r)
{
        ssize_t n;

        c->b[2] = c->len >> 24;
        c->b[3] = c->len >> 16;
        c->b[4] = c->len >> 8;
        c->b[5] = c->len;
        if (write(tpm_fd, c->b, c->len) != (ssize_t)c->len) {
                fprintf(stderr, "attest: TPM write: %s\n", strerror(errno));
                return -1;
        }
        n = read(tpm_fd, rsp->b, sizeof(rsp->b));
        /* A socket may deliver the response in pieces: read up to its size. */
        while (n >= 6) {
                size_t want = (size_t)rsp->b[2] << 24 | rsp->b[3] << 16 | rsp->b[4] << 8 | rsp->b[5];
                ssize_t more;
                if ((size_t)n >= want || want > sizeof(rsp->b))
                        break;
                more = read(tpm_fd, rsp->b + n, sizeof(rsp->b) - (size_t)n);
                if (more <= 0)
                        break;
                n += more;
        }
        if (n < 10) {
                fprintf(stderr, "attest: TPM read: %s\n", n < 0 ? strerror(errno) : "short response");
                return -1;
        }
        rsp->len = (size_t)n;
        r->p = rsp->b;
        r->left = rsp->len;
        r->bad = 0;
        be_read(r, 2);
        be_read(r, 4);
        return (long)be_read(r, 4);
}

#define TPM_RC_RETRY 0x922
#define TPM_RC_YIELDED 0x908
#define TPM_RC_TESTING 0x90A

/* Warnings that mean "send it again" (Part 2, TPM_RC). */
static long tpm_call(struct buf *c, struct buf *rsp, struct be_reader *r)
{
        long rc = -1;

        for (int i = 0; i < 50; i++) {
                rc = tpm_call_once(c, rsp, r);
                if (rc != TPM_RC_RETRY && rc != TPM_RC_YIELDED && rc != TPM_RC_TESTING)
                        break;
                usleep(20000);
        }
        return rc;
}

static void flush(uint32_t handle)
{
        struct buf c, rsp;
        struct be_reader r;

        if (tpm_rm || !handle)
                return;
        cmd_start(&c, TPM_ST_NO_SESSIONS, CC_FLUSH_CONTEXT);
        put32(&c, handle);
        tpm_call(&c, &rsp, &r);
}

/* ---- output ----------------------------------------------------------- */

static void print_b64(const char *name, const uint8_t *p, size_t n)
{
        static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        printf("%s ", name);
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
                putchar(t[v >> 18 & 63]);
                putchar(t[v >> 12 & 63]);
                putchar(i + 1 < n ? t[v >> 6 & 63] : '=');
                putchar(i + 2 < n ? t[v & 63] : '=');
        }
        putchar('\n');
}

static int hex_decode(const char *s, uint8_t *out, size_t max, size_t *n)
{
        size_t len = strlen(s);
        if (len % 2 || len / 2 > max)
                return -1;
        for (size_t i = 0; i < len / 2; i++) {
                unsigned v;
                if (sscanf(s + 2 * i, "%2x", &v) != 1)
                        return -1;
                out[i] = (uint8_t)v;
        }
        *n = len / 2;
        return 0;
}

/* ---- commands ---------------------------------------------------------- */

/* The AK: CreatePrimary under the endorsement hierarchy.  *pub gets the
 * TPM2B_PUBLIC (size included). */
static int create_ak(uint32_t *handle, uint8_t *pub, size_t *pub_len)
{
        struct buf c, rsp, tmpl;
        struct be_reader r;
        long rc;
        const uint8_t *p;
        size_t n;

        tmpl.len = 0;
        put16(&tmpl, TPM_ALG_ECC);
        put16(&tmpl, TPM_ALG_SHA256);
        put32(&tmpl, AK_ATTRIBUTES);
        put16(&tmpl, 0);                   /* authPolicy */
        put16(&tmpl, TPM_ALG_NULL);        /* symmetric */
        put16(&tmpl, TPM_ALG_ECDSA);       /* scheme */
        put16(&tmpl, TPM_ALG_SHA256);
        put16(&tmpl, TPM_ECC_NIST_P256);
        put16(&tmpl, TPM_ALG_NULL);        /* kdf */
        put16(&tmpl, 0);                   /* unique.x */
        put16(&tmpl, 0);                   /* unique.y */

        cmd_start(&c, TPM_ST_SESSIONS, CC_CREATE_PRIMARY);
        put32(&c, TPM_RH_ENDORSEMENT);
        auth_area(&c, 1, 0);
        put16(&c, 4);                      /* inSensitive: empty userAuth and data */
        put16(&c, 0);
        put16(&c, 0);
        put2b(&c, tmpl.b, tmpl.len);       /* inPublic */
        put16(&c, 0);                      /* outsideInfo */
        put32(&c, 0);                      /* creationPCR: none */
        rc = tpm_call(&c, &rsp, &r);
        if (rc) {
                fprintf(stderr, "attest: CreatePrimary(AK): TPM rc 0x%lx\n", rc);
                return -1;
        }
        *handle = be_read(&r, 4);
        be_read(&r, 4);                       /* parameterSize */
        p = be_read2b(&r, &n);
        if (r.bad || n + 2 > 1024) {
                fprintf(stderr, "attest: CreatePrimary(AK): malformed response\n");
                return -1;
        }
        memcpy(pub, p - 2, n + 2);
        *pub_len = n + 2;
        return 0;
}

static int read_ek_cert(uint8_t *cert, size_t max, size_t *len)
{
        struct buf c, rsp;
        struct be_reader r;
        size_t n, size, off = 0;
        long rc;

        cmd_start(&c, TPM_ST_NO_SESSIONS, CC_NV_READ_PUBLIC);
        put32(&c, EK_CERT_NV);
        rc = tpm_call(&c, &rsp, &r);
        if (rc) {
                fprintf(stderr, "attest: NV_ReadPublic(EK cert 0x%x): TPM rc 0x%lx (swtpm_setup --create-ek-cert?)\n",
                        EK_CERT_NV, rc);
                return -1;
        }
        be_read(&r, 2);                       /* TPM2B_NV_PUBLIC size */
        be_read(&r, 4);                       /* nvIndex */
        be_read(&r, 2);                       /* nameAlg */
        be_read(&r, 4);                       /* attributes */
        be_read2b(&r, &n);                     /* authPolicy */
        size = be_read(&r, 2);
        if (r.bad || size > max) {
                fprintf(stderr, "attest: EK cert NV index: malformed or too large\n");
                return -1;
        }
        while (off < size) {
                uint16_t chunk = size - off > 512 ? 512 : (uint16_t)(size - off);
                const uint8_t *p;

                cmd_start(&c, TPM_ST_SESSIONS, CC_NV_READ);
                put32(&c, EK_CERT_NV);      /* authHandle: the index itself */
                put32(&c, EK_CERT_NV);
                auth_area(&c, 1, 0);
                put16(&c, chunk);
                put16(&c, (uint16_t)off);
                rc = tpm_call(&c, &rsp, &r);
                if (rc) {
                        fprintf(stderr, "attest: NV_Read(EK cert): TPM rc 0x%lx\n", rc);
                        return -1;
                }
                be_read(&r, 4);
                p = be_read2b(&r, &n);
                if (r.bad || n != chunk) {
                        fprintf(stderr, "attest: NV_Read(EK cert): short read\n");
                        return -1;
                }
                memcpy(cert + off, p, n);
                off += n;
        }
        *len = size;
        return 0;
}

/* A policy session satisfying the EK's policy, PolicySecret(endorsement). */
static int ek_policy_session(uint32_t *session)
{
        struct buf c, rsp;
        struct be_reader r;
        uint8_t nonce[32] = { 0 };
        long rc;
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

        if (fd >= 0) {
                if (read(fd, nonce, sizeof(nonce)) != sizeof(nonce))
                        nonce[0] = 1;
                close(fd);
        }
        cmd_start(&c, TPM_ST_NO_SESSIONS, CC_START_AUTH_SESSION);
        put32(&c, TPM_RH_NULL);            /* tpmKey: unsalted */
        put32(&c, TPM_RH_NULL);            /* bind: unbound */
        put2b(&c, nonce, sizeof(nonce));
        put16(&c, 0);                      /* encryptedSalt */
        put8(&c, 0x01);                    /* TPM_SE_POLICY */
        put16(&c, TPM_ALG_NULL);           /* symmetric */
        put16(&c, TPM_ALG_SHA256);
        rc = tpm_call(&c, &rsp, &r);
        if (rc) {
                fprintf(stderr, "attest: StartAuthSession: TPM rc 0x%lx\n", rc);
                return -1;
        }
        *session = be_read(&r, 4);
        cmd_start(&c, TPM_ST_SESSIONS, CC_POLICY_SECRET);
        put32(&c, TPM_RH_ENDORSEMENT);
        put32(&c, *session);
        auth_area(&c, 1, 0);
        put16(&c, 0);                      /* nonceTPM */
        put16(&c, 0);                      /* cpHashA */
        put16(&c, 0);                      /* policyRef */
        put32(&c, 0);                      /* expiration */
        rc = tpm_call(&c, &rsp, &r);
        if (rc) {
                fprintf(stderr, "attest: PolicySecret(endorsement): TPM rc 0x%lx\n", rc);
                flush(*session);
                return -1;
        }
        return 0;
}

static long activate(uint32_t ak, const uint8_t *blob, size_t blob_len, const uint8_t *secret,
                     size_t secret_len, uint8_t *out, size_t *out_len)
{
        struct buf c, rsp;
        struct be_reader r;
        uint32_t session;
        const uint8_t *p;
        size_t n;
        long rc;

        if (ek_policy_session(&session) < 0)
                return -1;
        cmd_start(&c, TPM_ST_SESSIONS, CC_ACTIVATE_CREDENTIAL);
        put32(&c, ak);
        put32(&c, EK_HANDLE);
        auth_area(&c, 1, session);
        putn(&c, blob, blob_len);          /* TPM2B_ID_OBJECT, as the host made it */
        putn(&c, secret, secret_len);      /* TPM2B_ENCRYPTED_SECRET */
        rc = tpm_call(&c, &rsp, &r);
        if (rc) {
                flush(session);
                return rc;
        }
        be_read(&r, 4);
        p = be_read2b(&r, &n);
        if (r.bad || n > 64)
                return -1;
        memcpy(out, p, n);
        *out_len = n;
        return 0;
}

static void pcr_select(struct buf *c, uint32_t mask)
{
        put32(c, 1);
        put16(c, TPM_ALG_SHA256);
        put8(c, 3);
        put8(c, mask & 0xff);
        put8(c, mask >> 8 & 0xff);
        put8(c, mask >> 16 & 0xff);
}

#define QUOTE_PCRS 0x7ffu   /* PCRs 0-10 */

static int quote(uint32_t ak, const uint8_t *nonce, size_t nonce_len)
{
        struct buf c, rsp;
        struct be_reader r;
        const uint8_t *p;
        size_t n;
        long rc;

        cmd_start(&c, TPM_ST_SESSIONS, CC_QUOTE);
        put32(&c, ak);
        auth_area(&c, 1, 0);
        put2b(&c, nonce, nonce_len);
        put16(&c, TPM_ALG_NULL);           /* the key's own scheme */
        pcr_select(&c, QUOTE_PCRS);
        rc = tpm_call(&c, &rsp, &r);
        if (rc) {
                fprintf(stderr, "attest: Quote: TPM rc 0x%lx\n", rc);
                return -1;
        }
        be_read(&r, 4);
        p = be_read2b(&r, &n);
        if (r.bad)
                return -1;
        print_b64("QUOTE", p, n);          /* TPMS_ATTEST */
        if (r.left == 0)
                return -1;
        /* TPMT_SIGNATURE: the rest of the parameters (before the sessions). */
        {
                const uint8_t *sig = r.p;
                be_read(&r, 2);
                be_read(&r, 2);
                be_read2b(&r, &n);
                be_read2b(&r, &n);
                if (r.bad)
                        return -1;
                print_b64("QUOTESIG", sig, (size_t)(r.p - sig));
        }
        return 0;
}

static int read_pcrs(void)
{
        uint8_t values[11][32];
        uint32_t want = QUOTE_PCRS;

        while (want) {
                struct buf c, rsp;
                struct be_reader r;
                uint32_t count, got = 0;
                size_t n, size;
                long rc;

                cmd_start(&c, TPM_ST_NO_SESSIONS, CC_PCR_READ);
                pcr_select(&c, want);
                rc = tpm_call(&c, &rsp, &r);
                if (rc) {
                        fprintf(stderr, "attest: PCR_Read: TPM rc 0x%lx\n", rc);
                        return -1;
                }
                be_read(&r, 4);               /* pcrUpdateCounter */
                count = be_read(&r, 4);
                for (uint32_t i = 0; i < count; i++) {
                        be_read(&r, 2);
                        size = be_read(&r, 1);
                        for (size_t k = 0; k < size; k++)
                                got |= be_read(&r, 1) << (8 * k);
                }
                got &= want;
                count = be_read(&r, 4);       /* TPML_DIGEST */
                for (int pcr = 0; pcr < 11 && !r.bad; pcr++) {
                        const uint8_t *p;
                        if (!(got & (1u << pcr)))
                                continue;
                        p = be_read2b(&r, &n);
                        if (!p || n != 32) {
                                r.bad = 1;
                                break;
                        }
                        memcpy(values[pcr], p, 32);
                }
                if (r.bad || !got) {
                        fprintf(stderr, "attest: PCR_Read: malformed response\n");
                        return -1;
                }
                want &= ~got;
        }
        print_b64("PCRS", &values[0][0], sizeof(values));
        return 0;
}

static int print_ima_log(void)
{
        const char *path = "/sys/kernel/security/ima/binary_runtime_measurements";
        size_t cap = 1 << 16, len = 0;
        uint8_t *b = malloc(cap);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0 || !b) {
                fprintf(stderr, "attest: %s: %s\n", path, strerror(errno));
                free(b);
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        while ((n = read(fd, b + len, cap - len)) > 0) {
                len += (size_t)n;
                if (len == cap) {
                        uint8_t *nb = realloc(b, cap *= 2);
                        if (!nb) {
                                free(b);
                                close(fd);
                                return -1;
                        }
                        b = nb;
                }
        }
        close(fd);
        print_b64("IMALOG", b, len);
        free(b);
        return n < 0 ? -1 : 0;
}

static int enroll(void)
{
        static uint8_t cert[4096], pub[1024];
        size_t cert_len, pub_len;
        uint32_t ak;

        if (read_ek_cert(cert, sizeof(cert), &cert_len) < 0 || create_ak(&ak, pub, &pub_len) < 0)
                return 1;
        flush(ak);
        print_b64("EKCERT", cert, cert_len);
        print_b64("AKPUB", pub, pub_len);
        return 0;
}

static int answer(const char *nonce_hex, const char *blob_hex, const char *secret_hex)
{
        static uint8_t nonce[64], blob[512], secret[1024], pub[1024], cred[64];
        size_t nonce_len, blob_len, secret_len, pub_len, cred_len;
        uint32_t ak;
        long rc;
        int ret = 0;

        if (hex_decode(nonce_hex, nonce, sizeof(nonce), &nonce_len) < 0 ||
            hex_decode(blob_hex, blob, sizeof(blob), &blob_len) < 0 ||
            hex_decode(secret_hex, secret, sizeof(secret), &secret_len) < 0) {
                fprintf(stderr, "attest: quote: NONCE BLOB SECRET must be hex\n");
                return 2;
        }
        if (create_ak(&ak, pub, &pub_len) < 0)
                return 1;
        print_b64("AKPUB", pub, pub_len);
        rc = activate(ak, blob, blob_len, secret, secret_len, cred, &cred_len);
        if (rc == 0)
                print_b64("ACTIVATED", cred, cred_len);
        else
                printf("ACTIVATE-FAILED 0x%lx\n", rc);
        if (quote(ak, nonce, nonce_len) < 0 || read_pcrs() < 0 || print_ima_log() < 0)
                ret = 1;
        flush(ak);
        return ret;
}

int attest_main(int argc, char **argv)
{
        if (tpm_open() < 0)
                return 1;
        if (argc == 1 && !strcmp(argv[0], "enroll"))
                return enroll();
        if (argc == 4 && !strcmp(argv[0], "quote"))
                return answer(argv[1], argv[2], argv[3]);
        fprintf(stderr, "usage: imgtool-guest attest enroll | attest quote NONCE BLOB SECRET\n");
        return 2;
}
