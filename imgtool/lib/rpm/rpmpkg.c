/* An RPM opened with librpm.  The header is read (and its digests checked)
 * by rpmReadPackageFile; the file list is copied into plain structs once, with
 * every path normalised and checked; the payload is streamed through librpm's
 * archive reader, and each regular file's content is hashed on the way and
 * compared with its header digest, so a caller that reads a file to its end
 * has content the header vouches for. */
#include "rpm/rpmpkg.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <rpm/header.h>
#include <rpm/rpmarchive.h>
#include <rpm/rpmfi.h>
#include <rpm/rpmfiles.h>
#include <rpm/rpmio.h>
#include <rpm/rpmkeyring.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmpgp.h>
#include <rpm/rpmts.h>

#include "ima/imasig.h"
#include "base/strv.h"
#include "base/util.h"

/* ---- rpm's configuration ------------------------------------------------- */

static pthread_once_t rpm_once = PTHREAD_ONCE_INIT;
static int rpm_init_result;

/* librpm prints its problems to stderr, several lines at times; imgtool
 * reports each problem once, in its own one-line error, so librpm's own
 * lines are shown only with -v (escaped, one line each). */
static int rpmlog_verbose(rpmlogRec rec, rpmlogCallbackData data)
{
        char buf[1024];

        snprintf(buf, sizeof(buf), "%s", rpmlogRecMessage(rec));
        buf[strcspn(buf, "\n")] = 0;
        log_verbose("rpm: %s", buf);
        return 0;   /* not RPMLOG_DEFAULT: librpm prints nothing itself */
}

static void rpm_init_once(void)
{
        rpmlogSetMask(RPMLOG_UPTO(RPMLOG_WARNING));
        rpmlogSetCallback(rpmlog_verbose, NULL);
        if (rpmReadConfigFiles(NULL, NULL) != 0)
                rpm_init_result = imgerr(-EIO, "cannot read rpm's configuration (rpmrc, macros)");
}

int rpmpkg_init(void)
{
        pthread_once(&rpm_once, rpm_init_once);
        return rpm_init_result;
}

#define RPM_LEAD_SIZE 96
/* rpm's payload holds "./path" and a NUL in at most 4,096 bytes (cpio.c). */
#define PATH_MAX_BYTES 4094
/* A symlink target longer than this cannot be read back (PATH_MAX). */
#define LINK_MAX_BYTES 4095
/* Files per package: far above any real package (the largest have some
 * 100,000), low enough that librpm's per-file arrays stay small. */
#define MAX_FILES (1u << 20)

struct rpmpkg {
        char *path;
        int pin;              /* rpmpkg_open_fd: the file it was opened on; else -1 */
        char *open_path;      /* what every read opens: path, or /proc/self/fd/PIN */
        char *db_source;      /* what rpm reads for the image's database; NULL: path */
        Header h;
        rpmfiles files;
        char *nevra;
        const char *scriptlets[16];
        struct rpmpkg_file *f;
        size_t nfiles;
        int rpm_digest_algo;  /* PGPHASHALGO_* of the file digests */
        off_t payload_offset;
        char *payload_mode;   /* "r.zstd", for Fdopen */
};

struct rpmpkg_payload {
        struct rpmpkg *pkg;
        FD_t fd;
        rpmfi fi;
        int fx;               /* current entry, -1 before the first */
        bool content;         /* the current entry carries content */
        uint64_t left;        /* content bytes not read yet */
        EVP_MD_CTX *md;
        const EVP_MD *md_type;
        bool done;
        uint8_t digest[EVP_MAX_MD_SIZE];   /* of the current entry, once checked */
        unsigned digest_len;
};

/* ---- rpmlog capture ----------------------------------------------------
 * librpm reports problems through rpmlog, which prints to stderr.  While we
 * call it, keep the first error-level message to put into our own message
 * and print nothing, so the user sees one line. */
static _Thread_local char rpmlog_first[512];

static int rpmlog_capture(rpmlogRec rec, rpmlogCallbackData data)
{
        if (rpmlogRecPriority(rec) <= RPMLOG_WARNING && !rpmlog_first[0]) {
                snprintf(rpmlog_first, sizeof(rpmlog_first), "%s", rpmlogRecMessage(rec));
                rpmlog_first[strcspn(rpmlog_first, "\n")] = 0;
        }
        return 0;
}

static rpmlogCallback rpmlog_capture_start(void)
{
        rpmlog_first[0] = 0;
        return rpmlogSetCallback(rpmlog_capture, NULL);
}

static void rpmlog_capture_end(rpmlogCallback old)
{
        rpmlogSetCallback(old, NULL);
}

/* The part of an rpm message worth showing: it often starts with the file
 * name we already print. */
static const char *rpmlog_reason(const char *path)
{
        const char *m = rpmlog_first;
        size_t n = strlen(path);

        if (!strncmp(m, path, n) && m[n] == ':')
                m += n + 1;
        while (*m == ' ')
                m++;
        return *m ? m : "unreadable package";
}

/* A package path inside a one-line message: control characters as \n or
 * \xNN, long paths cut.  (A minimal local helper; the shared escaping of
 * printed paths belongs to the output module.) */
static const char *msg_path(const char *in, char out[static 200])
{
        size_t o = 0;

        for (const unsigned char *s = (const unsigned char *)in; *s; s++) {
                if (o > 190) {
                        memcpy(out + o, "...", 4);
                        return out;
                }
                if (*s == '\n')
                        o += (size_t)sprintf(out + o, "\\n");
                else if (*s < 0x20 || *s == 0x7f)
                        o += (size_t)sprintf(out + o, "\\x%02x", *s);
                else
                        out[o++] = (char)*s;
        }
        out[o] = 0;
        return out;
}

/* ---- opening ----------------------------------------------------------- */

/* The lead, then two headers, each "8 bytes magic, il, dl" followed by
 * il * 16 + dl bytes.  Checked against the file size before librpm
 * allocates for them (it would take up to 256 MiB on the word of 8
 * bytes).  Anything that does not look like an RPM is left to librpm to
 * name. */
static int check_header_sizes(struct rpmpkg *p)
{
        static const uint8_t lead_magic[4] = { 0xed, 0xab, 0xee, 0xdb };
        static const uint8_t hdr_magic[3] = { 0x8e, 0xad, 0xe8 };
        _cleanup_close_ int fd = open(p->open_path, O_RDONLY | O_CLOEXEC);
        uint64_t off = RPM_LEAD_SIZE;
        uint8_t b[16];
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0)
                return imgerr(-errno, "%s: cannot open: %s", p->path, strerror(errno));
        if (pread(fd, b, 4, 0) != 4 || memcmp(b, lead_magic, 4))
                return 0;
        for (int h = 0; h < 2; h++) {
                if (pread(fd, b, 16, (off_t)off) != 16)
                        return imgerr(-EBADMSG, "%s: truncated package (no %s header)", p->path,
                                      h ? "main" : "signature");
                if (memcmp(b, hdr_magic, 3))
                        return 0;
                uint64_t il = (uint64_t)b[8] << 24 | b[9] << 16 | b[10] << 8 | b[11];
                uint64_t dl = (uint64_t)b[12] << 24 | b[13] << 16 | b[14] << 8 | b[15];
                uint64_t len = 16 + il * 16 + dl;
                if (off + len > (uint64_t)st.st_size)
                        return imgerr(-EBADMSG, "%s: truncated package: the %s header says %llu bytes, "
                                      "the file has %llu after its start", p->path, h ? "main" : "signature",
                                      (unsigned long long)len, (unsigned long long)((uint64_t)st.st_size - off));
                off += h ? len : (len + 7) & ~7ULL;
        }
        return 0;
}

static int read_package_header(struct rpmpkg *p)
{
        rpmts ts = rpmtsCreate();
        rpmKeyring kr = rpmKeyringNew();
        FD_t fd;
        rpmRC rc;
        int r = 0;

        /* Digests are checked, OpenPGP signatures are not: the trust in these
         * packages comes from the IMA file signatures, and an empty keyring
         * keeps librpm away from the host's rpm database. */
        rpmtsSetVSFlags(ts, RPMVSF_MASK_NOSIGNATURES);
        rpmtsSetKeyring(ts, kr);
        rpmKeyringFree(kr);

        fd = Fopen(p->open_path, "r.ufdio");
        if (!fd || Ferror(fd)) {
                r = imgerr(-errno ? -errno : -EIO, "%s: cannot open: %s", p->path,
                           fd ? Fstrerror(fd) : strerror(errno));
                goto out;
        }
        rpmlogCallback old = rpmlog_capture_start();
        rc = rpmReadPackageFile(ts, fd, p->path, &p->h);
        rpmlog_capture_end(old);
        switch (rc) {
        case RPMRC_OK:
        case RPMRC_NOKEY:
        case RPMRC_NOTTRUSTED:
                break;
        case RPMRC_NOTFOUND:
                r = imgerr(-EBADMSG, "%s: not an RPM package", p->path);
                goto out;
        default:
                r = imgerr(-EBADMSG, "%s: corrupt package: %s", p->path, rpmlog_reason(p->path));
                goto out;
        }
        p->payload_offset = Ftell(fd);
out:
        if (fd)
                Fclose(fd);
        rpmtsFree(ts);
        return r;
}

/* The header's own size field says how big header + payload are; a file
 * shorter than that was cut off (a truncated payload is otherwise only
 * noticed when streaming). */
static int check_not_truncated(struct rpmpkg *p)
{
        uint64_t want = headerGetNumber(p->h, RPMTAG_LONGSIGSIZE);
        struct stat st;
        uint8_t hdr[16];
        _cleanup_close_ int fd = open(p->open_path, O_RDONLY | O_CLOEXEC);

        if (!want)
                want = headerGetNumber(p->h, RPMTAG_SIGSIZE);
        if (fd < 0 || fstat(fd, &st) < 0)
                return imgerr(-errno, "%s: %s", p->path, strerror(errno));
        if (!want)
                return 0;
        /* header + payload start after the lead and the 8-aligned signature header */
        if (pread(fd, hdr, sizeof(hdr), RPM_LEAD_SIZE) != sizeof(hdr))
                return imgerr(-EBADMSG, "%s: truncated package", p->path);
        uint64_t il = (uint64_t)hdr[8] << 24 | hdr[9] << 16 | hdr[10] << 8 | hdr[11];
        uint64_t dl = (uint64_t)hdr[12] << 24 | hdr[13] << 16 | hdr[14] << 8 | hdr[15];
        uint64_t sigsize = 16 + 16 * il + dl;
        uint64_t start = RPM_LEAD_SIZE + ((sigsize + 7) & ~7ULL);
        if ((uint64_t)st.st_size < start + want)
                return imgerr(-EBADMSG, "%s: truncated package: %llu bytes, the header says %llu",
                              p->path, (unsigned long long)st.st_size,
                              (unsigned long long)(start + want));
        return 0;
}

static void collect_scriptlets(struct rpmpkg *p)
{
        static const struct { rpmTagVal script, prog; const char *name; } s[] = {
                { RPMTAG_PRETRANS, RPMTAG_PRETRANSPROG, "%pretrans" },
                { RPMTAG_PREIN, RPMTAG_PREINPROG, "%pre" },
                { RPMTAG_POSTIN, RPMTAG_POSTINPROG, "%post" },
                { RPMTAG_PREUN, RPMTAG_PREUNPROG, "%preun" },
                { RPMTAG_POSTUN, RPMTAG_POSTUNPROG, "%postun" },
                { RPMTAG_POSTTRANS, RPMTAG_POSTTRANSPROG, "%posttrans" },
                { RPMTAG_VERIFYSCRIPT, RPMTAG_VERIFYSCRIPTPROG, "%verifyscript" },
                { RPMTAG_TRIGGERSCRIPTS, RPMTAG_TRIGGERSCRIPTPROG, "%trigger" },
                { RPMTAG_FILETRIGGERSCRIPTS, RPMTAG_FILETRIGGERSCRIPTPROG, "%filetrigger" },
                { RPMTAG_TRANSFILETRIGGERSCRIPTS, RPMTAG_TRANSFILETRIGGERSCRIPTPROG, "%transfiletrigger" },
        };
        size_t n = 0;

        for (size_t i = 0; i < ARRAY_SIZE(s); i++)
                if (headerIsEntry(p->h, s[i].script) || headerIsEntry(p->h, s[i].prog))
                        p->scriptlets[n++] = s[i].name;
        p->scriptlets[n] = NULL;
}

/* "/usr//bin/./x" -> "/usr/bin/x"; relative paths and ".." are refused:
 * a package must not reach outside the tree it is installed into. */
static int normalise_path(const char *pkg, const char *in, char **out)
{
        char esc[200];
        _cleanup_free_ char *buf = malloc(strlen(in) + 2);
        char *w;
        const char *s = in;

        if (!buf)
                return -ENOMEM;
        if (in[0] != '/')
                return imgerr(-EBADMSG, "%s: file path '%s' is not absolute", pkg, msg_path(in, esc));
        w = buf;
        while (*s) {
                while (*s == '/')
                        s++;
                size_t len = strcspn(s, "/");
                if (!len)
                        break;
                if (len == 1 && s[0] == '.') {
                        s += len;
                        continue;
                }
                if (len == 2 && s[0] == '.' && s[1] == '.')
                        return imgerr(-EBADMSG, "%s: file path '%s' contains '..'", pkg, msg_path(in, esc));
                *w++ = '/';
                memcpy(w, s, len);
                w += len;
                s += len;
        }
        if (w == buf)
                *w++ = '/';
        *w = 0;
        if (strchr(buf, '\n'))
                return imgerr(-EBADMSG, "%s: file path '%s' contains a newline", pkg, msg_path(in, esc));
        if (strlen(buf) > PATH_MAX_BYTES)
                return imgerr(-ENAMETOOLONG, "%s: file path '%s' is %zu bytes, longer than rpm's payload allows (%u)",
                              pkg, msg_path(buf, esc), strlen(buf), PATH_MAX_BYTES);
        *out = buf;
        buf = NULL;
        return 0;
}

static bool all_zero(const uint8_t *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (b[i])
                        return false;
        return true;
}

static bool known_file_type(mode_t m)
{
        return S_ISREG(m) || S_ISDIR(m) || S_ISLNK(m) || S_ISCHR(m) || S_ISBLK(m) ||
               S_ISFIFO(m) || S_ISSOCK(m);
}

/* RPMTAG_FILESIGNATURES: one hex string per file, "" for none. */
static int load_signatures(struct rpmpkg *p)
{
        struct rpmtd_s td;
        const char *s;
        size_t i = 0;
        int r = 0;

        if (!headerGet(p->h, RPMTAG_FILESIGNATURES, &td, HEADERGET_MINMEM))
                return 0;
        if (rpmtdCount(&td) != p->nfiles) {
                r = imgerr(-EBADMSG, "%s: %u file signatures for %zu files", p->path,
                           rpmtdCount(&td), p->nfiles);
                goto out;
        }
        while ((s = rpmtdNextString(&td)) && i < p->nfiles) {
                struct rpmpkg_file *f = &p->f[i++];
                uint8_t *bin;
                size_t len;

                if (!*s)
                        continue;
                if (hex_decode(s, &bin, &len) < 0) {
                        r = imgerr(-EBADMSG, "%s: %s: file signature is not hex", p->path, f->path);
                        goto out;
                }
                f->ima = bin;
                f->ima_len = len;
        }
out:
        rpmtdFreeData(&td);
        return r;
}

static int load_file(struct rpmpkg *p, int ix, int ima_algo, size_t digest_len)
{
        struct rpmpkg_file *f = &p->f[ix];
        rpmfiles fs = p->files;
        _cleanup_free_ char *fn = rpmfilesFN(fs, ix);
        rpmfileAttrs fl = rpmfilesFFlags(fs, ix);
        int r;

        f->index = ix;
        f->link_first = ix;
        r = normalise_path(p->path, fn ? fn : "", (char **)&f->path);
        if (r < 0)
                return r;
        f->mode = rpmfilesFMode(fs, ix);
        if (!known_file_type(f->mode))
                return imgerr(-EBADMSG, "%s: %s: unknown file type (mode %o)", p->path, f->path,
                              (unsigned)f->mode);
        f->user = rpmfilesFUser(fs, ix);
        f->group = rpmfilesFGroup(fs, ix);
        if (!f->user || !f->group || !*f->user || !*f->group)
                return imgerr(-EBADMSG, "%s: %s: no owner", p->path, f->path);
        f->size = rpmfilesFSize(fs, ix);
        f->mtime = rpmfilesFMtime(fs, ix);
        f->rdev = rpmfilesFRdev(fs, ix);
        f->caps = rpmfilesFCaps(fs, ix);
        f->nlink = rpmfilesFNlink(fs, ix);
        f->inode = rpmfilesFInode(fs, ix);
        if (f->nlink < 1)
                f->nlink = 1;
        f->flags = (fl & RPMFILE_GHOST ? RPMPKG_FILE_GHOST : 0) |
                   (fl & RPMFILE_CONFIG ? RPMPKG_FILE_CONFIG : 0) |
                   (fl & RPMFILE_DOC ? RPMPKG_FILE_DOC : 0);
        f->digest_algo = ima_algo;
        if (S_ISLNK(f->mode)) {
                f->link_target = rpmfilesFLink(fs, ix);
                if (!f->link_target || !*f->link_target)
                        return imgerr(-EBADMSG, "%s: %s: symlink without a target", p->path, f->path);
                /* librpm allocates the header's size to skip the target in
                 * the payload: it must be the target's length (rpmbuild's
                 * lstat size), which PATH_MAX bounds. */
                if (f->size != strlen(f->link_target) || f->size > LINK_MAX_BYTES)
                        return imgerr(-EBADMSG, "%s: %s: symlink size %llu in the header, its target has %zu bytes",
                                      p->path, f->path, (unsigned long long)f->size, strlen(f->link_target));
        }
        if (S_ISREG(f->mode)) {
                size_t len = 0;
                const uint8_t *d = rpmfilesFDigest(fs, ix, NULL, &len);
                if (d && len == digest_len && !all_zero(d, len)) {
                        f->digest = d;
                        f->digest_len = len;
                } else if (!(fl & RPMFILE_GHOST)) {
                        return imgerr(-EBADMSG, "%s: %s: regular file without a %s digest",
                                      p->path, f->path, ima_hash_name(ima_algo) ?: "valid");
                }
        }
        return 0;
}

/* Members of a hard-link set are one inode: rpm writes its content once
 * (with the last member), so they must agree on what an inode has (mode,
 * owner, size, digest: pathmap's rule).  The set is rpm's own grouping
 * (not the header's inode numbers alone): f->link_first names it. */
static int check_link_sets(struct rpmpkg *p)
{
        for (size_t i = 0; i < p->nfiles; i++) {
                struct rpmpkg_file *f = &p->f[i];
                const int *links = NULL;
                uint32_t n = rpmfilesFLinks(p->files, (int)i, &links);
                const char *why;

                if (f->flags & RPMPKG_FILE_GHOST)
                        continue;
                if (n < 2 || !links) {
                        f->nlink = 1;
                        continue;
                }
                if (links[0] < 0 || (size_t)links[0] >= p->nfiles)
                        return imgerr(-EBADMSG, "%s: %s: malformed hard-link set", p->path, f->path);
                f->nlink = n;
                f->link_first = links[0];
                why = rpmpkg_file_difference(&p->f[links[0]], f);
                if (!S_ISREG(f->mode))
                        why = "type";
                if (why)
                        return imgerr(-EBADMSG, "%s: %s and %s are one hard-link set but differ in %s",
                                      p->path, p->f[links[0]].path, f->path, why);
        }
        return 0;
}

/* Every per-file tag has one entry per file, and each file's directory
 * index names a directory: checked here, before librpm reads the list (its
 * own check prints to stderr and leaks on the way out). */
static int check_file_tag_counts(struct rpmpkg *p, rpm_count_t files)
{
        static const rpmTagVal per_file[] = {
                RPMTAG_DIRINDEXES, RPMTAG_FILEMODES, RPMTAG_FILESIZES, RPMTAG_LONGFILESIZES,
                RPMTAG_FILEUSERNAME, RPMTAG_FILEGROUPNAME, RPMTAG_FILEMTIMES, RPMTAG_FILERDEVS,
                RPMTAG_FILEDIGESTS, RPMTAG_FILELINKTOS, RPMTAG_FILEFLAGS, RPMTAG_FILEINODES,
                RPMTAG_FILEDEVICES, RPMTAG_FILEVERIFYFLAGS, RPMTAG_FILELANGS, RPMTAG_FILECOLORS,
                RPMTAG_FILECLASS, RPMTAG_FILECAPS, RPMTAG_FILESIGNATURES,
        };
        struct rpmtd_s td;
        rpm_count_t dirs = 0;
        uint32_t *ix;
        int r = 0;

        for (size_t i = 0; i < ARRAY_SIZE(per_file); i++) {
                rpm_count_t n;
                if (!headerGet(p->h, per_file[i], &td, HEADERGET_MINMEM))
                        continue;
                n = rpmtdCount(&td);
                rpmtdFreeData(&td);
                if (n != files)
                        return imgerr(-EBADMSG, "%s: header tag %s has %u entries for %u files", p->path,
                                      rpmTagGetName(per_file[i]), n, files);
        }
        if (headerGet(p->h, RPMTAG_DIRNAMES, &td, HEADERGET_MINMEM)) {
                dirs = rpmtdCount(&td);
                rpmtdFreeData(&td);
        }
        if (!headerGet(p->h, RPMTAG_DIRINDEXES, &td, HEADERGET_MINMEM))
                return 0;
        for (ix = td.data; td.type == RPM_INT32_TYPE && ix && ix < (uint32_t *)td.data + td.count; ix++)
                if (*ix >= dirs) {
                        r = imgerr(-EBADMSG, "%s: header: file %zu has directory %u of %u", p->path,
                                   (size_t)(ix - (uint32_t *)td.data), *ix, dirs);
                        break;
                }
        rpmtdFreeData(&td);
        return r;
}

static int load_files(struct rpmpkg *p)
{
        int ima_algo = 0;
        size_t digest_len = 0;
        int r;

        struct rpmtd_s td;
        rpm_count_t count = 0;
        rpmlogCallback old;

        if (headerGet(p->h, RPMTAG_BASENAMES, &td, HEADERGET_MINMEM)) {
                count = rpmtdCount(&td);
                rpmtdFreeData(&td);
        }
        if (count > MAX_FILES)
                return imgerr(-E2BIG, "%s: %u files in one package, more than imgtool takes (%u)",
                              p->path, count, MAX_FILES);
        r = check_file_tag_counts(p, count);
        if (r < 0)
                return r;
        old = rpmlog_capture_start();
        p->files = rpmfilesNew(NULL, p->h, RPMTAG_BASENAMES,
                               RPMFI_NOFILECLASS | RPMFI_NOFILEDEPS | RPMFI_NOFILELANGS |
                               RPMFI_NOFILECOLORS | RPMFI_NOFILEVERIFYFLAGS |
                               RPMFI_NOFILESIGNATURES | RPMFI_NOVERITYSIGNATURES);
        rpmlog_capture_end(old);
        if (!p->files)
                return imgerr(-EBADMSG, "%s: cannot read the file list: %s", p->path,
                              rpmlog_first[0] ? rpmlog_reason(p->path) : "malformed header");
        p->nfiles = rpmfilesFC(p->files);
        p->f = calloc(p->nfiles ? p->nfiles : 1, sizeof(*p->f));
        if (!p->f)
                return -ENOMEM;
        if (p->nfiles) {
                /* from the header itself: librpm quietly falls back to MD5
                 * for an algorithm it does not know */
                p->rpm_digest_algo = headerIsEntry(p->h, RPMTAG_FILEDIGESTALGO)
                                             ? (int)headerGetNumber(p->h, RPMTAG_FILEDIGESTALGO)
                                             : PGPHASHALGO_MD5;
                ima_algo = ima_hash_from_rpm(p->rpm_digest_algo);
                if (ima_algo < 0 || rpmfilesDigestAlgo(p->files) != p->rpm_digest_algo)
                        return imgerr(-EOPNOTSUPP, "%s: unsupported file digest algorithm %d",
                                      p->path, p->rpm_digest_algo);
                digest_len = ima_hash_size(ima_algo);
        }
        for (size_t i = 0; i < p->nfiles; i++) {
                r = load_file(p, (int)i, ima_algo, digest_len);
                if (r < 0)
                        return r;
        }
        r = check_link_sets(p);
        if (r < 0)
                return r;
        return load_signatures(p);
}

static int set_payload_mode(struct rpmpkg *p)
{
        static const char *const known[] = { "gzip", "bzip2", "xz", "lzma", "zstd" };
        const char *c = headerGetString(p->h, RPMTAG_PAYLOADCOMPRESSOR);
        const char *fmt = headerGetString(p->h, RPMTAG_PAYLOADFORMAT);

        if (fmt && strcmp(fmt, "cpio"))
                return imgerr(-EOPNOTSUPP, "%s: unsupported payload format '%s'", p->path, fmt);
        if (!c)
                c = "gzip";   /* rpm's default when the tag is missing */
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
                if (!strcmp(c, known[i]))
                        return asprintf(&p->payload_mode, "r.%s", c) < 0 ? -ENOMEM : 0;
        return imgerr(-EOPNOTSUPP, "%s: unsupported payload compressor '%s'", p->path, c);
}

static int open_common(struct rpmpkg *p, const char *path, struct rpmpkg **out);

int rpmpkg_pread_exact(int fd, void *buf, size_t len, off_t off, const char *path)
{
        ssize_t n = pread(fd, buf, len, off);
        if (n < 0)
                return imgerr(-errno, "%s: read failed: %s", path, strerror(errno));
        if ((size_t)n != len)
                return imgerr(-EBADMSG, "%s: truncated package", path);
        return 0;
}

int rpmpkg_open(const char *path, struct rpmpkg **out)
{
        struct rpmpkg *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        p->pin = -1;
        p->open_path = strdup(path);
        return open_common(p, path, out);
}

/* Every later read opens /proc/self/fd/FD: a new open file description
 * (its own offset) of the same inode, whatever the name now points to. */
int rpmpkg_open_fd(int fd, const char *path, struct rpmpkg **out)
{
        struct rpmpkg *p = calloc(1, sizeof(*p));

        if (!p) {
                close(fd);
                return -ENOMEM;
        }
        p->pin = fd;
        if (asprintf(&p->open_path, "/proc/self/fd/%d", fd) < 0)
                p->open_path = NULL;
        return open_common(p, path, out);
}

static int open_common(struct rpmpkg *p, const char *path, struct rpmpkg **out)
{
        int r;

        p->path = strdup(path);
        if (!p->path || !p->open_path) {
                r = -ENOMEM;
                goto fail;
        }
        r = check_header_sizes(p);
        if (r < 0)
                goto fail;
        r = read_package_header(p);
        if (r < 0)
                goto fail;
        if (headerIsSource(p->h)) {
                r = imgerr(RPMPKG_ESOURCE, "%s: is a source package; only binary packages can be used",
                           path);
                goto fail;
        }
        r = check_not_truncated(p);
        if (r < 0)
                goto fail;
        p->nevra = headerGetAsString(p->h, RPMTAG_NEVRA);
        if (!p->nevra || !headerGetString(p->h, RPMTAG_NAME)) {
                r = imgerr(-EBADMSG, "%s: package has no name", path);
                goto fail;
        }
        collect_scriptlets(p);
        r = load_files(p);
        if (r < 0)
                goto fail;
        r = set_payload_mode(p);
        if (r < 0)
                goto fail;
        *out = p;
        return 0;
fail:
        rpmpkg_free(p);
        return r;
}

void rpmpkg_free(struct rpmpkg *p)
{
        if (!p)
                return;
        for (size_t i = 0; p->f && i < p->nfiles; i++) {
                free((char *)p->f[i].path);
                free((uint8_t *)p->f[i].ima);
        }
        free(p->f);
        rpmfilesFree(p->files);
        headerFree(p->h);
        free(p->nevra);
        free(p->db_source);
        free(p->payload_mode);
        free(p->path);
        free(p->open_path);
        if (p->pin >= 0)
                close(p->pin);
        free(p);
}

const char *rpmpkg_path(const struct rpmpkg *p) { return p->path; }
const char *rpmpkg_source(const struct rpmpkg *p) { return p->open_path; }
const char *rpmpkg_db_source(const struct rpmpkg *p) { return p->db_source ? p->db_source : p->open_path; }
int rpmpkg_set_db_source(struct rpmpkg *p, const char *path)
{
        char *c = strdup(path);
        if (!c)
                return -ENOMEM;
        free(p->db_source);
        p->db_source = c;
        return 0;
}
const char *rpmpkg_name(const struct rpmpkg *p) { return headerGetString(p->h, RPMTAG_NAME); }
const char *rpmpkg_nevra(const struct rpmpkg *p) { return p->nevra; }
const char *rpmpkg_arch(const struct rpmpkg *p)
{
        const char *a = headerGetString(p->h, RPMTAG_ARCH);
        return a ? a : "noarch";
}
int64_t rpmpkg_buildtime(const struct rpmpkg *p) { return (int64_t)headerGetNumber(p->h, RPMTAG_BUILDTIME); }
const char *const *rpmpkg_scriptlets(const struct rpmpkg *p) { return p->scriptlets; }

int rpmpkg_scriptlet(const struct rpmpkg *p, const char *name, char ***prog, char **body)
{
        static const struct { rpmTagVal script, prog; const char *name; } s[] = {
                { RPMTAG_PRETRANS, RPMTAG_PRETRANSPROG, "%pretrans" },
                { RPMTAG_PREIN, RPMTAG_PREINPROG, "%pre" },
                { RPMTAG_POSTIN, RPMTAG_POSTINPROG, "%post" },
                { RPMTAG_POSTTRANS, RPMTAG_POSTTRANSPROG, "%posttrans" },
        };
        struct rpmtd_s td;
        const char *text;
        size_t i;

        *prog = NULL;
        *body = NULL;
        for (i = 0; i < ARRAY_SIZE(s) && strcmp(s[i].name, name); i++)
                ;
        if (i == ARRAY_SIZE(s) || (!headerIsEntry(p->h, s[i].script) && !headerIsEntry(p->h, s[i].prog)))
                return -ENOENT;
        /* the interpreter: a string in old packages, an array since rpm 4.4 */
        if (headerGet(p->h, s[i].prog, &td, HEADERGET_MINMEM)) {
                while ((text = rpmtdNextString(&td)))
                        if (strv_pushf(prog, "%s", text) < 0)
                                break;
                rpmtdFreeData(&td);
        } else if (strv_pushf(prog, "%s", "/bin/sh") < 0) {
                return -ENOMEM;
        }
        if (!*prog)
                return -ENOMEM;
        text = headerGetString(p->h, s[i].script);
        if (text && !(*body = strdup(text))) {
                strv_free(*prog);
                *prog = NULL;
                return -ENOMEM;
        }
        return 0;
}
void *rpmpkg_header(const struct rpmpkg *p) { return p->h; }
size_t rpmpkg_file_count(const struct rpmpkg *p) { return p->nfiles; }

int rpmpkg_file(const struct rpmpkg *p, size_t i, struct rpmpkg_file *f)
{
        if (i >= p->nfiles)
                return -ERANGE;
        *f = p->f[i];
        return 0;
}

/* ---- payload ----------------------------------------------------------- */

static const EVP_MD *evp_for(int ima_algo)
{
        const char *n = ima_hash_name(ima_algo);
        return n ? EVP_get_digestbyname(n) : NULL;
}

int rpmpkg_payload_open(struct rpmpkg *p, struct rpmpkg_payload **out)
{
        struct rpmpkg_payload *pl = calloc(1, sizeof(*pl));
        int r;

        if (!pl)
                return -ENOMEM;
        pl->pkg = p;
        pl->fx = -1;
        pl->fd = Fopen(p->open_path, "r.ufdio");
        if (!pl->fd || Ferror(pl->fd)) {
                r = imgerr(-EIO, "%s: cannot open: %s", p->path, strerror(errno));
                goto fail;
        }
        if (Fseek(pl->fd, p->payload_offset, SEEK_SET) < 0) {
                r = imgerr(-EIO, "%s: cannot seek to the payload", p->path);
                goto fail;
        }
        /* Fdopen pushes the decompressor onto the same FD_t. */
        if (!Fdopen(pl->fd, p->payload_mode) || Ferror(pl->fd)) {
                r = imgerr(-EBADMSG, "%s: cannot decompress the payload (%s)", p->path,
                           p->payload_mode + 2);
                goto fail;
        }
        pl->fi = rpmfiNewArchiveReader(pl->fd, p->files, RPMFI_ITER_READ_ARCHIVE);
        if (!pl->fi) {
                r = imgerr(-EBADMSG, "%s: cannot read the payload", p->path);
                goto fail;
        }
        pl->md = EVP_MD_CTX_new();
        if (!pl->md) {
                r = -ENOMEM;
                goto fail;
        }
        if (p->nfiles) {
                pl->md_type = evp_for(p->f[0].digest_algo);
                if (!pl->md_type) {
                        r = imgerr(-EOPNOTSUPP, "%s: no implementation of the file digest algorithm",
                                   p->path);
                        goto fail;
                }
        }
        *out = pl;
        return 0;
fail:
        rpmpkg_payload_free(pl);
        return r;
}

static int payload_error(struct rpmpkg_payload *pl, int rc)
{
        const char *path = pl->pkg->path;
        _cleanup_free_ char *s = NULL;

        switch (rc) {
        case RPMERR_BAD_MAGIC:
        case RPMERR_BAD_HEADER:
        case RPMERR_READ_FAILED:
                return imgerr(-EBADMSG, "%s: payload is truncated or corrupt", path);
        case RPMERR_MISSING_FILE:
                return imgerr(-EBADMSG, "%s: payload lacks files the header lists", path);
        case RPMERR_UNMAPPED_FILE:
                return imgerr(-EBADMSG, "%s: payload has a file the header does not list", path);
        default:
                s = rpmfileStrerror(rc);
                return imgerr(-EBADMSG, "%s: payload: %s", path, s ? s : "unreadable");
        }
}

/* Content not read by the caller still has to be checked, else a skipped
 * file would hide a corrupt payload from the next reader. */
static int drain_current(struct rpmpkg_payload *pl)
{
        uint8_t buf[64 * 1024];
        ssize_t n;

        while (pl->content && pl->left)
                if ((n = rpmpkg_payload_read(pl, buf, sizeof(buf))) < 0)
                        return (int)n;
        if (pl->content && pl->md_type && pl->fx >= 0 && !pl->done) {
                /* a zero-length file: the digest check happens on the read of 0 */
                n = rpmpkg_payload_read(pl, buf, 0);
                if (n < 0)
                        return (int)n;
        }
        return 0;
}

int rpmpkg_payload_next(struct rpmpkg_payload *pl, size_t *file_index)
{
        int r, fx;

        if (pl->fx >= 0) {
                r = drain_current(pl);
                if (r < 0)
                        return r;
        }
        rpmlogCallback old = rpmlog_capture_start();
        fx = rpmfiNext(pl->fi);
        rpmlog_capture_end(old);
        if (fx == RPMERR_ITER_END)
                return 0;
        if (fx < 0)
                return payload_error(pl, fx);

        const struct rpmpkg_file *f = &pl->pkg->f[fx];
        pl->fx = fx;
        pl->done = false;
        pl->digest_len = 0;
        pl->content = S_ISREG(f->mode) && rpmfiArchiveHasContent(pl->fi);
        pl->left = pl->content ? f->size : 0;
        if (pl->content && pl->md_type &&
            EVP_DigestInit_ex(pl->md, pl->md_type, NULL) != 1)
                return imgerr(-EIO, "%s: cannot start a digest", pl->pkg->path);
        *file_index = (size_t)fx;
        return 1;
}

bool rpmpkg_payload_has_content(struct rpmpkg_payload *pl)
{
        return pl->content;
}

static int check_digest(struct rpmpkg_payload *pl)
{
        const struct rpmpkg_file *f = &pl->pkg->f[pl->fx];
        uint8_t got[EVP_MAX_MD_SIZE];
        unsigned len = 0;

        pl->done = true;
        if (!pl->md_type || !f->digest)
                return 0;
        if (EVP_DigestFinal_ex(pl->md, got, &len) != 1)
                return imgerr(-EIO, "%s: cannot finish a digest", pl->pkg->path);
        if (len != f->digest_len || memcmp(got, f->digest, len))
                return imgerr(-EBADMSG, "%s: %s: content does not match the header digest",
                              pl->pkg->path, f->path);
        memcpy(pl->digest, got, len);
        pl->digest_len = len;
        return 0;
}

ssize_t rpmpkg_payload_read(struct rpmpkg_payload *pl, void *buf, size_t len)
{
        ssize_t n;

        if (pl->fx < 0 || !pl->content)
                return 0;
        if (!pl->left) {
                if (!pl->done) {
                        int r = check_digest(pl);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (len > pl->left)
                len = pl->left;
        if (!len)
                return 0;
        n = rpmfiArchiveRead(pl->fi, buf, len);
        if (n <= 0 || (size_t)n > len)
                return imgerr(-EBADMSG, "%s: %s: payload is truncated or corrupt",
                              pl->pkg->path, pl->pkg->f[pl->fx].path);
        if (pl->md_type && EVP_DigestUpdate(pl->md, buf, (size_t)n) != 1)
                return imgerr(-EIO, "%s: digest update failed", pl->pkg->path);
        pl->left -= (uint64_t)n;
        if (!pl->left) {
                int r = check_digest(pl);
                if (r < 0)
                        return r;
        }
        return n;
}

int rpmpkg_payload_digest(struct rpmpkg_payload *pl, const uint8_t **digest, size_t *len)
{
        if (!pl->done || !pl->digest_len)
                return -EAGAIN;
        *digest = pl->digest;
        *len = pl->digest_len;
        return 0;
}

void rpmpkg_payload_free(struct rpmpkg_payload *pl)
{
        if (!pl)
                return;
        rpmfiFree(pl->fi);   /* also closes the archive */
        if (pl->fd)
                Fclose(pl->fd);
        EVP_MD_CTX_free(pl->md);
        free(pl);
}

/* ---- rpm's rule for shared paths ------------------------------------------- */

const char *rpmpkg_type_name(mode_t mode)
{
        switch (mode & S_IFMT) {
        case S_IFDIR: return "directory";
        case S_IFLNK: return "symlink";
        case S_IFREG: return "file";
        case S_IFCHR: return "character device";
        case S_IFBLK: return "block device";
        case S_IFIFO: return "fifo";
        case S_IFSOCK: return "socket";
        default: return "file of unknown type";
        }
}

/* The order of the checks is rpm's (lib/rpmfi.c, rpmfilesCompare); rpm
 * reports any difference as a file conflict between the two packages. */
const char *rpmpkg_file_difference(const struct rpmpkg_file *a, const struct rpmpkg_file *b)
{
        if ((a->mode & S_IFMT) != (b->mode & S_IFMT))
                return "type";
        if (!S_ISLNK(a->mode) && a->mode != b->mode)
                return "mode";
        if ((S_ISLNK(a->mode) || S_ISREG(a->mode)) && a->size != b->size)
                return "size";
        if (strcmp(a->user, b->user) || strcmp(a->group, b->group))
                return "owner";
        if (S_ISLNK(a->mode) && strcmp(a->link_target ? a->link_target : "", b->link_target ? b->link_target : ""))
                return "symlink target";
        if (S_ISREG(a->mode) && (a->digest_algo != b->digest_algo || a->digest_len != b->digest_len ||
                                 (a->digest_len && memcmp(a->digest, b->digest, a->digest_len))))
                return "content";
        if ((S_ISCHR(a->mode) || S_ISBLK(a->mode)) && a->rdev != b->rdev)
                return "device number";
        return NULL;
}
