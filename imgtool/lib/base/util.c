#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int imgtool_verbose;

static _Thread_local char err_buf[1024];
static _Thread_local int err_code;

void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}

int imgerr(int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err_buf, sizeof(err_buf), fmt, ap);
        va_end(ap);
        err_code = code;
        return code;
}

/* Does the recorded message belong to code? */
static bool err_is(int code)
{
        return err_buf[0] && err_code == code;
}

static const char *code_text(int code)
{
        return code < 0 ? strerror(-code) : "unknown error";
}

int imgerr_prefix(int code, const char *fmt, ...)
{
        char prefix[512], old[sizeof(err_buf)];
        va_list ap;

        if (!err_is(code))
                snprintf(err_buf, sizeof(err_buf), "%s", code_text(code));
        memcpy(old, err_buf, sizeof(old));
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        snprintf(err_buf, sizeof(err_buf), "%s%s", prefix, old);
        err_code = code;
        return code;
}

const char *imgerr_what(int code)
{
        return err_is(code) ? err_buf : code_text(code);
}

void imgerr_clear(void)
{
        err_buf[0] = 0;
        err_code = 0;
}

int grow_array(void **v, size_t elem_size, size_t n, size_t *cap, size_t first)
{
        size_t c = *cap ? *cap * 2 : first;
        void *nv;

        if (n < *cap)
                return 0;
        if (c <= n || c > SIZE_MAX / elem_size)
                return -ENOMEM;
        nv = realloc(*v, c * elem_size);
        if (!nv)
                return -ENOMEM;
        *v = nv;
        *cap = c;
        return 0;
}

int imgerr_openssl(int code, const char *what)
{
        unsigned long e = ERR_get_error();
        char buf[256];
        ERR_error_string_n(e, buf, sizeof(buf));
        ERR_clear_error();
        return imgerr(code, "%s: %s", what, e ? buf : "OpenSSL error");
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 if it is not one; *cp
 * gets the code point. */
static size_t utf8_seq(const unsigned char *s, size_t avail, uint32_t *cp)
{
        size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
        static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
        uint32_t v;

        if (n == 0 || s[0] > 0xf4 || n > avail)
                return 0;
        v = s[0] & (0x7f >> n);
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                v = v << 6 | (s[i] & 0x3f);
        }
        if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
                return 0;
        *cp = v;
        return n;
}

bool utf8_valid(const void *p, size_t len)
{
        const unsigned char *s = p;
        uint32_t cp;

        for (size_t i = 0; i < len;) {
                size_t n = s[i] < 0x80 ? 1 : utf8_seq(s + i, len - i, &cp);
                if (n == 0)
                        return false;
                i += n;
        }
        return true;
}

/* Code points a terminal acts on rather than shows: C1 controls (U+009B is
 * CSI) and the bidirectional overrides and isolates that reorder a line. */
static bool invisible_control(uint32_t cp)
{
        return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
               cp == 0x2028 || cp == 0x2029 || cp == 0x200e || cp == 0x200f || cp == 0x061c;
}

char *escape_text(const char *s, int how)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t n = strlen(s);
        char *out = malloc(4 * n + 1), *p = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n;) {
                unsigned char ch = u[i];
                uint32_t cp;
                size_t len = ch < 0x80 ? 1 : utf8_seq(u + i, n - i, &cp);
                bool esc = len == 0 || ch < 0x20 || ch == 0x7f ||
                           (how == ESCAPE_FIELD && (ch == ' ' || ch == '\\')) || (len > 1 && invisible_control(cp));

                if (len == 0)
                        len = 1;     /* not UTF-8: this byte alone, as \ooo */
                for (size_t k = 0; k < len; k++) {
                        if (esc)
                                p += sprintf(p, "\\%03o", u[i + k]);
                        else
                                *p++ = (char)u[i + k];
                }
                i += len;
        }
        *p = 0;
        return out;
}

static void vlog(const char *level, const char *fmt, va_list ap)
{
        char buf[2048];
        _cleanup_free_ char *line = NULL;

        vsnprintf(buf, sizeof(buf), fmt, ap);
        line = escape_text(buf, ESCAPE_LINE);
        fprintf(stderr, "imgtool: %s%s\n", level, line ? line : buf);
}

void log_warn(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vlog("warning: ", fmt, ap);
        va_end(ap);
}

void log_verbose(const char *fmt, ...)
{
        va_list ap;
        if (!imgtool_verbose)
                return;
        va_start(ap, fmt);
        vlog("", fmt, ap);
        va_end(ap);
}

void hex_encode(const uint8_t *in, size_t len, char *out)
{
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < len; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * len] = 0;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
}

int hex_decode(const char *hex, uint8_t **out, size_t *out_len)
{
        size_t n = strlen(hex);
        uint8_t *buf;

        if (n % 2)
                return -EINVAL;
        buf = malloc(n / 2 + 1);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < n / 2; i++) {
                int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
                if (hi < 0 || lo < 0) {
                        free(buf);
                        return -EINVAL;
                }
                buf[i] = (uint8_t)(hi << 4 | lo);
        }
        *out = buf;
        *out_len = n / 2;
        return (int)(n / 2);
}

/* Digits, an optional fraction, an optional K/M/G/T with optional "i" and
 * "B": no sign, exponent, hex, nan or inf (strtod would take them all). */
int parse_size(const char *s, uint64_t *out)
{
        const char *p = s;
        char *end;
        double v;
        uint64_t mult = 1;

        if (!isdigit((unsigned char)*p))
                return -EINVAL;
        while (isdigit((unsigned char)*p))
                p++;
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                while (isdigit((unsigned char)*p))
                        p++;
        }
        errno = 0;
        v = strtod(s, &end);
        if (errno || end != p)
                return -EINVAL;
        switch (*p) {
        case 'k': case 'K': mult = 1ULL << 10; p++; break;
        case 'm': case 'M': mult = 1ULL << 20; p++; break;
        case 'g': case 'G': mult = 1ULL << 30; p++; break;
        case 't': case 'T': mult = 1ULL << 40; p++; break;
        }
        if (*p == 'i' && mult > 1)
                p++;
        if ((*p == 'B' || *p == 'b') && mult > 1)
                p++;
        if (*p)
                return -EINVAL;
        if (v * (double)mult > (double)(1ULL << 62))
                return -ERANGE;
        *out = (uint64_t)(v * (double)mult);
        return 0;
}

int tmpfile_beside(const char *path, char **tmp_path, int *fd)
{
        char *p;
        if (asprintf(&p, "%s.tmp.XXXXXX", path) < 0)
                return -ENOMEM;
        *fd = mkostemp(p, O_CLOEXEC);
        if (*fd < 0) {
                int r = -errno;
                imgerr(r, "%s: cannot create temporary file: %s", p, strerror(errno));
                free(p);
                return r;
        }
        *tmp_path = p;
        return 0;
}

double now_seconds(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int too_big(const char *path, size_t max, const char *what)
{
        if (max >= (1u << 20))
                return imgerr(-EFBIG, "%s: larger than %zu MiB (the limit for %s)", path, max >> 20, what);
        return imgerr(-EFBIG, "%s: larger than %zu KiB (the limit for %s)", path, max >> 10, what);
}

int read_file_max(const char *path, size_t max, const char *what, uint8_t **data, size_t *len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ uint8_t *buf = NULL;
        size_t n = 0, cap = 0;
        struct stat st;

        if (fd < 0)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                st.st_mode = 0;
        if (S_ISDIR(st.st_mode))
                return imgerr(-EISDIR, "%s: is a folder, not a file", path);
        if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)   /* before reading any of it */
                return too_big(path, max, what);
        for (;;) {
                ssize_t got;
                if (n == cap) {
                        uint8_t *nb;
                        if (cap > max)
                                return too_big(path, max, what);
                        cap = cap ? cap * 2 : 8192;
                        if (cap > max + 1)
                                cap = max + 1;
                        nb = realloc(buf, cap + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                got = read(fd, buf + n, cap - n);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        return imgerr(-errno, "%s: read error: %s", path, strerror(errno));
                if (got == 0)
                        break;
                n += (size_t)got;
                if (n > max)
                        return too_big(path, max, what);
        }
        buf[n] = 0;   /* room was kept: text callers get a terminated string */
        *data = buf;
        buf = NULL;
        *len = n;
        return 0;
}

int read_file(const char *path, uint8_t **data, size_t *len)
{
        return read_file_max(path, READ_FILE_MAX, "keys, certificates and policies", data, len);
}

int read_text_file(const char *path, char **out)
{
        uint8_t *data;
        size_t len;
        int r = read_file(path, &data, &len);

        if (r < 0)
                return r;
        if (memchr(data, 0, len)) {
                free(data);
                return imgerr(-EINVAL, "%s: contains a NUL byte: not a text file", path);
        }
        *out = (char *)data;
        return 0;
}

void derive_uuid(const char *seed, const char *what, uint8_t out[16])
{
        uint8_t md[32];
        unsigned int len;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
        EVP_DigestUpdate(ctx, "imgtool:", 8);
        EVP_DigestUpdate(ctx, what, strlen(what));
        EVP_DigestUpdate(ctx, ":", 1);
        EVP_DigestUpdate(ctx, seed, strlen(seed));
        EVP_DigestFinal_ex(ctx, md, &len);
        EVP_MD_CTX_free(ctx);
        memcpy(out, md, 16);
        out[6] = (out[6] & 0x0f) | 0x40;   /* a version 4 (random-looking) UUID */
        out[8] = (out[8] & 0x3f) | 0x80;
}

void uuid_format(const uint8_t u[16], char out[37])
{
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

int mkdir_p(const char *dir)
{
        _cleanup_free_ char *p = strdup(dir);
        struct stat st;

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return imgerr(-errno, "%s: cannot create directory: %s", p, strerror(errno));
                *s = '/';
        }
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return imgerr(-errno, "%s: cannot create directory: %s", p, strerror(errno));
        if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
                return imgerr(-ENOTDIR, "%s: not a directory", p);
        return 0;
}
