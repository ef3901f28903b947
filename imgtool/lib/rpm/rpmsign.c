/* Rewriting an RPM with IMA file signatures.
 *
 * Layout of a package: lead (96 bytes) | signature header, padded to 8 |
 * main header | payload.  rpm >= 4.16 keeps file signatures in the
 * signature header (RPMSIGTAG_FILESIGNATURES, merged into the header as
 * RPMTAG_FILESIGNATURES when read), which no digest or OpenPGP signature
 * covers.  So only the signature header is rebuilt, the way rpmsign does
 * it (sign/rpmgensig.c: unload the immutable region, replace the tags,
 * reload into one region); everything else is copied byte for byte, and the
 * payload is checked against its digest on the way so a damaged package is
 * never passed on with fresh signatures. */
#include "rpm/rpmsign.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <rpm/header.h>
#include <rpm/rpmtag.h>
#include <rpm/rpmtd.h>

#include "ima/imasig.h"
#include "rpm/rpmpkg.h"
#include "base/output.h"
#include "base/bytes.h"
#include "base/util.h"

#define LEAD_SIZE 96
#define COPY_CHUNK (256 * 1024)

static const uint8_t lead_magic[4] = { 0xed, 0xab, 0xee, 0xdb };
static const uint8_t header_magic[8] = { 0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0 };

struct raw_header {
        off_t offset;      /* of the magic */
        size_t blob_len;   /* il, dl, index and data: what headerImport takes */
        Header h;
};

struct layout {
        uint8_t lead[LEAD_SIZE];
        struct raw_header sig, main;
        off_t payload;     /* offset of the payload */
        off_t end;         /* end of header + payload */
};

static void layout_free(struct layout *l)
{
        headerFree(l->sig.h);
        headerFree(l->main.h);
}

static int read_raw_header(int fd, off_t off, const char *path, struct raw_header *rh)
{
        uint8_t intro[16];
        _cleanup_free_ uint8_t *blob = NULL;
        int r = rpmpkg_pread_exact(fd, intro, sizeof(intro), off, path);

        if (r < 0)
                return r;
        if (memcmp(intro, header_magic, 4))
                return imgerr(-EBADMSG, "%s: bad header magic at offset %lld", path, (long long)off);
        uint32_t il = be32_at(intro + 8), dl = be32_at(intro + 12);
        /* rpm's own limits (hdrchkTags, hdrchkData) */
        if (il < 1 || il > 0xffff || dl > 256u * 1024 * 1024)
                return imgerr(-EBADMSG, "%s: implausible header size at offset %lld", path,
                              (long long)off);
        rh->offset = off;
        rh->blob_len = 8 + 16 * (size_t)il + dl;
        blob = malloc(rh->blob_len);
        if (!blob)
                return -ENOMEM;
        r = rpmpkg_pread_exact(fd, blob, rh->blob_len, off + 8, path);
        if (r < 0)
                return r;
        rh->h = headerImport(blob, (unsigned)rh->blob_len, HEADERIMPORT_COPY);
        if (!rh->h)
                return imgerr(-EBADMSG, "%s: corrupt header at offset %lld", path, (long long)off);
        return 0;
}

static int read_layout(int fd, const char *path, struct layout *l)
{
        struct stat st;
        int r = rpmpkg_pread_exact(fd, l->lead, LEAD_SIZE, 0, path);

        if (r < 0)
                return r;
        if (memcmp(l->lead, lead_magic, 4))
                return imgerr(-EBADMSG, "%s: not an RPM package", path);
        r = read_raw_header(fd, LEAD_SIZE, path, &l->sig);
        if (r < 0)
                return r;
        off_t main_off = LEAD_SIZE + (off_t)((8 + l->sig.blob_len + 7) & ~(size_t)7);
        r = read_raw_header(fd, main_off, path, &l->main);
        if (r < 0)
                return r;
        l->payload = main_off + 8 + (off_t)l->main.blob_len;
        if (fstat(fd, &st) < 0)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        /* header + payload size from the signature header; without it, the file */
        uint64_t size = headerGetNumber(l->sig.h, RPMSIGTAG_LONGSIZE);
        if (!size)
                size = headerGetNumber(l->sig.h, RPMSIGTAG_SIZE);
        l->end = size ? main_off + (off_t)size : st.st_size;
        if (l->end > st.st_size || l->end < l->payload)
                return imgerr(-EBADMSG, "%s: truncated package", path);
        /* Before rpm 4.16 rpmsign put the signatures into the main header;
         * rpm refuses a package with them in both, and replacing them
         * there would invalidate the header digests. */
        if (headerIsEntry(l->main.h, RPMTAG_FILESIGNATURES))
                return imgerr(-EOPNOTSUPP, "%s: has file signatures inside the main header "
                              "(rpm < 4.16 layout); re-sign it from the unsigned package",
                              path);
        return 0;
}

/* ---- the new signature header --------------------------------------------- */

/* One hex string per file, "" for files that are not signed. */
static int make_signatures(struct rpmpkg *p, const struct ima_key *key,
                           const struct rpmsign_opts *o, char ***out, uint32_t *max_len,
                           struct rpmsign_result *res)
{
        size_t n = rpmpkg_file_count(p);
        char **sigs = calloc(n + 1, sizeof(char *));
        int r = 0;

        if (!sigs)
                return -ENOMEM;
        *max_len = 0;
        for (size_t i = 0; i < n; i++) {
                struct rpmpkg_file f;
                uint8_t *val = NULL;
                size_t len = 0;

                rpmpkg_file(p, i, &f);
                bool sign = S_ISREG(f.mode) && f.digest && !(f.flags & RPMPKG_FILE_GHOST) &&
                            !(o->skip_config && (f.flags & RPMPKG_FILE_CONFIG));
                if (!sign) {
                        sigs[i] = strdup("");
                        if (!sigs[i])
                                r = -ENOMEM;
                        if (r < 0)
                                goto fail;
                        continue;
                }
                r = ima_key_sign_digest(key, f.digest_algo, f.digest, f.digest_len, &val, &len);
                if (r < 0) {
                        imgerr_prefix(r, "%s: %s: ", rpmpkg_path(p), f.path);
                        goto fail;
                }
                sigs[i] = malloc(2 * len + 1);
                if (!sigs[i]) {
                        free(val);
                        r = -ENOMEM;
                        goto fail;
                }
                hex_encode(val, len, sigs[i]);
                free(val);
                if (len > *max_len)
                        *max_len = (uint32_t)len;
                res->signed_files++;
                if (f.ima)
                        res->replaced++;
        }
        *out = sigs;
        return 0;
fail:
        for (size_t i = 0; i < n; i++)
                free(sigs[i]);
        free(sigs);
        return r;
}

/* A copy of the signature header's immutable region, without entries a
 * signing tool may have appended behind it (as sign/rpmgensig.c does). */
static Header unload_region(Header sigh)
{
        struct rpmtd_s td;
        Header region, copy;

        if (headerGet(sigh, RPMTAG_HEADERSIGNATURES, &td, HEADERGET_DEFAULT)) {
                region = headerImport(td.data, td.count, HEADERIMPORT_COPY);
                rpmtdFreeData(&td);
        } else {
                region = headerLink(sigh);
        }
        if (!region)
                return NULL;
        copy = headerCopy(region);
        headerFree(region);
        return copy;
}

static int new_signature_header(const char *path, Header old, char **sigs, size_t n,
                                uint32_t max_len, void **blob, unsigned *blob_len)
{
        Header h = unload_region(old);
        struct rpmtd_s td;

        if (!h)
                return imgerr(-EBADMSG, "%s: corrupt signature header", path);
        headerDel(h, RPMSIGTAG_FILESIGNATURES);
        headerDel(h, RPMSIGTAG_FILESIGNATURELENGTH);
        if (n) {
                rpmtdReset(&td);
                td.tag = RPMSIGTAG_FILESIGNATURES;
                td.type = RPM_STRING_ARRAY_TYPE;
                td.data = sigs;
                td.count = (rpm_count_t)n;
                if (!headerPut(h, &td, HEADERPUT_DEFAULT))
                        goto fail;
        }
        if (max_len) {
                /* headerPutUint32 would look the type up in the main
                 * header's tag table, which does not know signature tags */
                rpmtdReset(&td);
                td.tag = RPMSIGTAG_FILESIGNATURELENGTH;
                td.type = RPM_INT32_TYPE;
                td.data = &max_len;
                td.count = 1;
                if (!headerPut(h, &td, HEADERPUT_DEFAULT))
                        goto fail;
        }
        /* one contiguous region again; headerReload frees h */
        h = headerReload(h, RPMTAG_HEADERSIGNATURES);
        if (!h)
                return imgerr(-EIO, "%s: cannot rebuild the signature header", path);
        *blob = headerExport(h, blob_len);
        headerFree(h);
        if (!*blob)
                return imgerr(-EIO, "%s: cannot export the signature header", path);
        return 0;
fail:
        headerFree(h);
        return imgerr(-EIO, "%s: cannot add file signatures to the signature header", path);
}

/* ---- writing ---------------------------------------------------------------- */

static int write_all(int fd, const void *buf, size_t len, const char *path)
{
        const uint8_t *b = buf;
        while (len) {
                ssize_t n = write(fd, b, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return imgerr(-errno, "%s: write failed: %s", path, strerror(errno));
                b += n;
                len -= (size_t)n;
        }
        return 0;
}

/* What the package says its payload hashes to: RPMTAG_PAYLOADDIGEST, or
 * for older packages the MD5 over header + payload. */
struct payload_check {
        EVP_MD_CTX *md;
        off_t from;        /* hash bytes from this offset on */
        uint8_t *want;
        size_t want_len;
        const char *what;
};

static int payload_check_init(const struct layout *l, const char *path, struct payload_check *c)
{
        const char *hex = NULL;
        const EVP_MD *type = NULL;
        struct rpmtd_s td;
        size_t len = 0;

        c->md = NULL;
        c->want = NULL;
        if (headerGet(l->main.h, RPMTAG_PAYLOADDIGEST, &td, HEADERGET_MINMEM)) {
                hex = rpmtdNextString(&td);
                int algo = ima_hash_from_rpm((int)headerGetNumber(l->main.h, RPMTAG_PAYLOADDIGESTALGO));
                type = algo > 0 && ima_hash_name(algo) ? EVP_get_digestbyname(ima_hash_name(algo)) : NULL;
                if (!hex || !type || hex_decode(hex, &c->want, &len) < 0) {
                        rpmtdFreeData(&td);
                        return imgerr(-EOPNOTSUPP, "%s: unsupported payload digest", path);
                }
                rpmtdFreeData(&td);
                c->from = l->payload;
                c->what = "payload digest";
        } else if (headerGet(l->sig.h, RPMSIGTAG_MD5, &td, HEADERGET_MINMEM)) {
                if (td.count == 16 && td.type == RPM_BIN_TYPE) {
                        c->want = malloc(16);
                        if (c->want)
                                memcpy(c->want, td.data, 16);
                        len = 16;
                }
                rpmtdFreeData(&td);
                if (!c->want)
                        return imgerr(-EBADMSG, "%s: bad MD5 tag", path);
                type = EVP_md5();
                c->from = l->main.offset;
                c->what = "MD5 digest";
        } else {
                return 0;   /* nothing to check against: header digests still were */
        }
        c->want_len = len;
        c->md = EVP_MD_CTX_new();
        if (!c->md || EVP_DigestInit_ex(c->md, type, NULL) != 1)
                return imgerr(-EIO, "%s: cannot start a digest", path);
        return 0;
}

static void payload_check_free(struct payload_check *c)
{
        EVP_MD_CTX_free(c->md);
        free(c->want);
}

/* Copy [from, to) of in to out, feeding the checked part to the digest. */
static int copy_and_check(int in, int out, off_t from, off_t to, struct payload_check *c,
                          const char *in_path, const char *out_path)
{
        _cleanup_free_ uint8_t *buf = malloc(COPY_CHUNK);
        uint8_t got[EVP_MAX_MD_SIZE];
        unsigned got_len = 0;
        int r;

        if (!buf)
                return -ENOMEM;
        for (off_t off = from; off < to;) {
                size_t want = (size_t)(to - off) < COPY_CHUNK ? (size_t)(to - off) : COPY_CHUNK;
                r = rpmpkg_pread_exact(in, buf, want, off, in_path);
                if (r < 0)
                        return r;
                if (c->md && off + (off_t)want > c->from) {
                        size_t skip = off >= c->from ? 0 : (size_t)(c->from - off);
                        EVP_DigestUpdate(c->md, buf + skip, want - skip);
                }
                r = write_all(out, buf, want, out_path);
                if (r < 0)
                        return r;
                off += (off_t)want;
        }
        if (!c->md)
                return 0;
        if (EVP_DigestFinal_ex(c->md, got, &got_len) != 1)
                return imgerr(-EIO, "%s: cannot finish a digest", in_path);
        if (got_len != c->want_len || memcmp(got, c->want, got_len))
                return imgerr(-EBADMSG, "%s: corrupt package: payload does not match its %s",
                              in_path, c->what);
        return 0;
}

static int write_package(int in, const char *in_path, const struct layout *l,
                         const void *sig_blob, unsigned sig_len, int out, const char *out_path)
{
        static const uint8_t zeros[8];
        struct payload_check c;
        int r;

        r = payload_check_init(l, in_path, &c);
        if (r < 0)
                goto out;
        if ((r = write_all(out, l->lead, LEAD_SIZE, out_path)) < 0 ||
            (r = write_all(out, header_magic, sizeof(header_magic), out_path)) < 0 ||
            (r = write_all(out, sig_blob, sig_len, out_path)) < 0 ||
            (r = write_all(out, zeros, (8 - (sizeof(header_magic) + sig_len) % 8) % 8, out_path)) < 0)
                goto out;
        r = copy_and_check(in, out, l->main.offset, l->end, &c, in_path, out_path);
out:
        payload_check_free(&c);
        return r;
}

/* librpm must read the result as a whole, with the new signatures merged. */
static int check_result(const char *tmp, const char *in, size_t signed_files)
{
        struct rpmpkg *p = NULL;
        size_t have = 0;
        int r = rpmpkg_open(tmp, &p);

        if (r < 0)
                return imgerr_prefix(r, "%s: the signed package does not read back: ", in);
        for (size_t i = 0; i < rpmpkg_file_count(p); i++) {
                struct rpmpkg_file f;
                rpmpkg_file(p, i, &f);
                have += f.ima != NULL;
        }
        rpmpkg_free(p);
        if (have != signed_files)
                return imgerr(-EIO, "%s: the signed package reads back with %zu signatures, not %zu",
                              in, have, signed_files);
        return 0;
}

int rpmsign_header_only(const char *in, char *const *sigs, size_t n, uint32_t max_len,
                        const char *out)
{
        struct layout l = { 0 };
        void *blob = NULL;
        unsigned blob_len = 0;
        _cleanup_close_ int in_fd = open(in, O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int out_fd = -1;
        struct payload_check none = { 0 };
        int r;

        if (in_fd < 0)
                return imgerr(-errno, "%s: cannot open: %s", in, strerror(errno));
        r = read_layout(in_fd, in, &l);
        if (r >= 0)
                r = new_signature_header(in, l.sig.h, (char **)sigs, n, max_len, &blob, &blob_len);
        if (r >= 0 && (out_fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
                r = imgerr(-errno, "%s: cannot create: %s", out, strerror(errno));
        if (r >= 0) {
                static const uint8_t zeros[8];
                if ((r = write_all(out_fd, l.lead, LEAD_SIZE, out)) >= 0 &&
                    (r = write_all(out_fd, header_magic, sizeof(header_magic), out)) >= 0 &&
                    (r = write_all(out_fd, blob, blob_len, out)) >= 0 &&
                    (r = write_all(out_fd, zeros, (8 - (sizeof(header_magic) + blob_len) % 8) % 8, out)) >= 0)
                        r = copy_and_check(in_fd, out_fd, l.main.offset, l.payload, &none, in, out);
        }
        free(blob);
        layout_free(&l);
        return r;
}

int rpmsign_file(const char *in, const char *out, const struct ima_key *key,
                 const struct rpmsign_opts *opts, struct rpmsign_result *res,
                 struct output **pending)
{
        struct rpmpkg *p = NULL;
        struct layout l = { 0 };
        char **sigs = NULL;
        uint32_t max_len = 0;
        void *blob = NULL;
        unsigned blob_len = 0;
        struct output *o = NULL;
        _cleanup_close_ int in_fd = -1;
        int r;
        size_t n = 0;

        *res = (struct rpmsign_result){ 0 };
        /* rpmpkg checks what rpm checks: lead, header digests, source
         * packages, paths, file digest algorithm */
        r = rpmpkg_open(in, &p);
        if (r < 0)
                return r;
        n = rpmpkg_file_count(p);
        in_fd = open(in, O_RDONLY | O_CLOEXEC);
        if (in_fd < 0) {
                r = imgerr(-errno, "%s: cannot open: %s", in, strerror(errno));
                goto out;
        }
        r = read_layout(in_fd, in, &l);
        if (r < 0)
                goto out;
        if (!opts->strip) {
                r = make_signatures(p, key, opts, &sigs, &max_len, res);
                if (r < 0)
                        goto out;
        } else {
                for (size_t i = 0; i < n; i++) {
                        struct rpmpkg_file f;
                        rpmpkg_file(p, i, &f);
                        res->replaced += f.ima != NULL;
                }
        }
        /* stripped: both tags deleted and the region rebuilt as rpmbuild
         * built it, so an unsigned original comes back byte for byte */
        r = new_signature_header(in, l.sig.h, sigs, opts->strip ? 0 : n, max_len, &blob, &blob_len);
        if (r < 0)
                goto out;
        r = output_open(out, opts->out_flags, 0644, opts->inputs, &o);
        if (r < 0)
                goto out;
        r = write_package(in_fd, in, &l, blob, blob_len, output_fd(o), output_tmp_path(o));
        if (r < 0)
                goto out;
        r = check_result(output_tmp_path(o), in, res->signed_files);
        if (r < 0)
                goto out;
        if (pending)
                *pending = o;   /* the caller renames it with the others */
        else
                r = output_commit(o);
        o = NULL;
out:
        output_abort(o);
        for (size_t i = 0; sigs && i < n; i++)
                free(sigs[i]);
        free(sigs);
        free(blob);
        layout_free(&l);
        rpmpkg_free(p);
        return r;
}
