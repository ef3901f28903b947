/* imgtool inspect: an RPM's files with their header facts and the status of
 * their IMA signatures.  A signature is checked against the file's header
 * digest (not its content): the header digest is covered by the package's
 * own header digests, and the content by the header digest, so this is the
 * same statement at a fraction of the cost. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "cmd.h"
#include "ima/imasig.h"
#include "rpm/rpmpkg.h"
#include "rpm/sigpack.h"
#include "base/strv.h"
#include "base/util.h"

struct file_status {
        const char *name;   /* "valid", "none", "n/a", ... */
        bool has_keyid;
        uint32_t keyid;
        const char *reason; /* "unusable key": why the kernel cannot verify with it */
};

static const char *file_type(mode_t m)
{
        if (S_ISREG(m)) return "file";
        if (S_ISDIR(m)) return "dir";
        if (S_ISLNK(m)) return "symlink";
        if (S_ISCHR(m)) return "char";
        if (S_ISBLK(m)) return "block";
        if (S_ISFIFO(m)) return "fifo";
        if (S_ISSOCK(m)) return "socket";
        return "unknown";
}

static struct file_status signature_status(const struct ima_trust *trust,
                                           const struct rpmpkg_file *f)
{
        struct file_status st = { 0 };
        struct imasig parsed = { 0 };
        enum imasig_status s;

        /* Only regular files that rpm writes carry a security.ima */
        if (!S_ISREG(f->mode) || (f->flags & RPMPKG_FILE_GHOST) || !f->digest) {
                st.name = "n/a";
                return st;
        }
        if (!f->ima) {
                st.name = "none";
                return st;
        }
        s = ima_trust_verify_digest(trust, f->ima, f->ima_len, f->digest, f->digest_len, &parsed);
        /* The kernel hashes the file with the signature's algorithm: a
         * signature naming another algorithm than the header's can never
         * match what is installed. */
        if (s == IMASIG_VALID && parsed.hash_algo != f->digest_algo)
                s = IMASIG_INVALID;
        switch (s) {
        case IMASIG_VALID: st.name = "valid"; break;
        case IMASIG_INVALID: st.name = "invalid"; break;
        case IMASIG_UNKNOWN_KEY: st.name = "unknown key"; break;
        case IMASIG_NONE: st.name = "none"; break;
        case IMASIG_HASH_ONLY: st.name = "hash-only"; break;
        case IMASIG_MALFORMED: st.name = "malformed"; break;
        case IMASIG_UNUSABLE_KEY:
                st.name = "unusable key";
                st.reason = ima_trust_key_problem(trust, parsed.keyid);
                break;
        default: st.name = "unsupported"; break;
        }
        if (parsed.type == EVM_IMA_XATTR_DIGSIG &&
            (s == IMASIG_VALID || s == IMASIG_INVALID || s == IMASIG_UNKNOWN_KEY ||
             s == IMASIG_UNUSABLE_KEY)) {
                st.has_keyid = true;
                st.keyid = parsed.keyid;
        }
        return st;
}

/* Text from a package header is the packager's: escaped (util.h). */
static void print_field(const char *prefix, const char *s)
{
        _cleanup_free_ char *e = escape_text(s ? s : "", ESCAPE_FIELD);
        printf("%s%s", prefix, e ? e : "?");
}

static void print_text(const struct rpmpkg *p, const struct ima_trust *trust)
{
        _cleanup_free_ char *nevra = escape_text(rpmpkg_nevra(p), ESCAPE_LINE);
        _cleanup_free_ char *path = escape_text(rpmpkg_path(p), ESCAPE_LINE);

        printf("# %s (%s)\n", nevra ? nevra : "?", path ? path : "?");
        for (size_t i = 0; i < rpmpkg_file_count(p); i++) {
                struct rpmpkg_file f;
                char digest[2 * IMA_MAX_DIGEST + 1] = "-";
                char status[320];

                rpmpkg_file(p, i, &f);
                if (f.digest && f.digest_len <= IMA_MAX_DIGEST)
                        hex_encode(f.digest, f.digest_len, digest);
                struct file_status st = signature_status(trust, &f);
                if (st.has_keyid)
                        snprintf(status, sizeof(status), "%s %08x%s%s", st.name, st.keyid,
                                 st.reason ? ": " : "", st.reason ? st.reason : "");
                else
                        snprintf(status, sizeof(status), "%s", st.name);
                print_field("", f.path);
                printf("\t%s\t%04o", f.flags & RPMPKG_FILE_GHOST ? "ghost" : file_type(f.mode),
                       (unsigned)(f.mode & 07777));
                print_field("\t", f.user);
                print_field(":", f.group);
                printf("\t%llu\t%s\t%s", (unsigned long long)f.size, digest, status);
                if (f.link_target)
                        print_field("\t-> ", f.link_target);
                putchar('\n');
        }
}

static json_object *file_json(const struct rpmpkg_file *f, const struct ima_trust *trust)
{
        json_object *o = json_object_new_object();
        char mode[8], hex[2 * IMA_MAX_DIGEST + 1], keyid[9];
        struct file_status st = signature_status(trust, f);

        snprintf(mode, sizeof(mode), "%04o", (unsigned)(f->mode & 07777));
        json_object_object_add(o, "path", json_object_new_string(f->path));
        json_object_object_add(o, "type", json_object_new_string(file_type(f->mode)));
        json_object_object_add(o, "mode", json_object_new_string(mode));
        json_object_object_add(o, "user", json_object_new_string(f->user));
        json_object_object_add(o, "group", json_object_new_string(f->group));
        json_object_object_add(o, "size", json_object_new_int64((int64_t)f->size));
        json_object_object_add(o, "ghost", json_object_new_boolean(f->flags & RPMPKG_FILE_GHOST));
        json_object_object_add(o, "config", json_object_new_boolean(f->flags & RPMPKG_FILE_CONFIG));
        json_object_object_add(o, "nlink", json_object_new_int((int)f->nlink));
        if (f->link_target)
                json_object_object_add(o, "link_target", json_object_new_string(f->link_target));
        if (f->caps && *f->caps)
                json_object_object_add(o, "caps", json_object_new_string(f->caps));
        if (f->digest && f->digest_len <= IMA_MAX_DIGEST) {
                hex_encode(f->digest, f->digest_len, hex);
                json_object_object_add(o, "digest_algo",
                                       json_object_new_string(ima_hash_name(f->digest_algo)));
                json_object_object_add(o, "digest", json_object_new_string(hex));
        }
        json_object_object_add(o, "signature", json_object_new_string(st.name));
        if (st.reason)
                json_object_object_add(o, "reason", json_object_new_string(st.reason));
        if (st.has_keyid) {
                snprintf(keyid, sizeof(keyid), "%08x", st.keyid);
                json_object_object_add(o, "keyid", json_object_new_string(keyid));
        }
        return o;
}

static json_object *package_json(const struct rpmpkg *p, const struct ima_trust *trust)
{
        json_object *o = json_object_new_object(), *files = json_object_new_array();

        json_object_object_add(o, "file", json_object_new_string(rpmpkg_path(p)));
        json_object_object_add(o, "nevra", json_object_new_string(rpmpkg_nevra(p)));
        for (size_t i = 0; i < rpmpkg_file_count(p); i++) {
                struct rpmpkg_file f;
                rpmpkg_file(p, i, &f);
                json_object_array_add(files, file_json(&f, trust));
        }
        json_object_object_add(o, "files", files);
        return o;
}

/* ---- signature packs (rpm/sigpack.h) ------------------------------------------- */

static bool is_pack(const char *path)
{
        char head[16] = "";
        FILE *f = fopen(path, "rb");
        bool yes = f && fread(head, 1, sizeof(head), f) == sizeof(head) &&
                   !memcmp(head, "IMGTOOL-SIGPACK", 15);
        if (f)
                fclose(f);
        return yes;
}

/* An entry as the file it signs, so packages and packs read alike. */
static struct file_status entry_status(const struct ima_trust *trust, const struct sigpack_entry *e)
{
        struct rpmpkg_file f = { .path = e->path, .mode = S_IFREG, .digest_algo = e->algo,
                                 .digest = e->digest, .digest_len = e->digest_len,
                                 .ima = e->ima, .ima_len = e->ima_len };
        return signature_status(trust, &f);
}

/* With --cert the pack's own signature is checked too; its verdict leads. */
static int load_pack(const char *path, char **certs, struct sigpack **p, const char **verdict)
{
        *verdict = certs ? "valid" : "not checked (no --cert)";
        int r = certs ? sigpack_load(path, certs, p) : 0;
        if (certs && r == 0)
                return 0;
        if (!certs)
                return sigpack_load(path, NULL, p);
        /* said once: why it is not valid, whether or not its entries can be shown */
        _cleanup_free_ char *why = strdup(imgerr_what(r));
        *verdict = "NOT VALID";
        if (sigpack_load(path, NULL, p) == 0)
                log_warn("%s", why ? why : "?");
        else
                imgerr(-EKEYREJECTED, "%s", why ? why : "?");
        return *p ? 0 : -1;
}

static void print_pack(const struct sigpack *p, const char *verdict, const struct ima_trust *trust)
{
        size_t entries = 0;
        for (size_t i = 0; i < p->n; i++)
                entries += p->pkgs[i].n;
        printf("# pack %s: %zu packages, %zu entries, signed by %s (pack signature: %s)\n", p->path,
               p->n, entries, p->signer ? p->signer : "an unknown key", verdict);
        for (size_t i = 0; i < p->n; i++) {
                char hdr[2 * SIGPACK_HDR_DIGEST + 1];
                hex_encode(p->pkgs[i].hdr_digest, SIGPACK_HDR_DIGEST, hdr);
                print_field("## ", p->pkgs[i].nevra);
                printf(" %s\n", hdr);
                for (size_t k = 0; k < p->pkgs[i].n; k++) {
                        const struct sigpack_entry *e = &p->pkgs[i].e[k];
                        char digest[2 * IMA_MAX_DIGEST + 1];
                        struct file_status st = entry_status(trust, e);
                        hex_encode(e->digest, e->digest_len, digest);
                        print_field("", e->path);
                        printf("\t%s\t%zu\t%s", digest, e->ima_len, st.name);
                        if (st.has_keyid)
                                printf(" %08x", st.keyid);
                        putchar('\n');
                }
        }
}

static json_object *pack_json(const struct sigpack *p, const char *verdict, const struct ima_trust *trust)
{
        json_object *o = json_object_new_object(), *pkgs = json_object_new_array();

        json_object_object_add(o, "pack", json_object_new_string(p->path));
        json_object_object_add(o, "signer", p->signer ? json_object_new_string(p->signer) : NULL);
        json_object_object_add(o, "pack_signature", json_object_new_string(verdict));
        for (size_t i = 0; i < p->n; i++) {
                json_object *k = json_object_new_object(), *files = json_object_new_array();
                char hdr[2 * SIGPACK_HDR_DIGEST + 1];
                hex_encode(p->pkgs[i].hdr_digest, SIGPACK_HDR_DIGEST, hdr);
                json_object_object_add(k, "nevra", json_object_new_string(p->pkgs[i].nevra));
                json_object_object_add(k, "header_sha256", json_object_new_string(hdr));
                for (size_t n = 0; n < p->pkgs[i].n; n++) {
                        const struct sigpack_entry *e = &p->pkgs[i].e[n];
                        json_object *f = json_object_new_object();
                        char digest[2 * IMA_MAX_DIGEST + 1], keyid[9];
                        struct file_status st = entry_status(trust, e);
                        hex_encode(e->digest, e->digest_len, digest);
                        json_object_object_add(f, "path", json_object_new_string(e->path));
                        json_object_object_add(f, "digest_algo", json_object_new_string(ima_hash_name(e->algo)));
                        json_object_object_add(f, "digest", json_object_new_string(digest));
                        json_object_object_add(f, "signature_bytes", json_object_new_int((int)e->ima_len));
                        json_object_object_add(f, "signature", json_object_new_string(st.name));
                        if (st.has_keyid) {
                                snprintf(keyid, sizeof(keyid), "%08x", st.keyid);
                                json_object_object_add(f, "keyid", json_object_new_string(keyid));
                        }
                        json_object_array_add(files, f);
                }
                json_object_object_add(k, "files", files);
                json_object_array_add(pkgs, k);
        }
        json_object_object_add(o, "packages", pkgs);
        return o;
}

static int inspect_pack(const char *path, char **certs, const struct ima_trust *trust, json_object *arr)
{
        struct sigpack *p = NULL;
        const char *verdict;

        if (load_pack(path, certs, &p, &verdict) < 0 || !p)
                return -1;
        if (arr)
                json_object_array_add(arr, pack_json(p, verdict, trust));
        else
                print_pack(p, verdict, trust);
        sigpack_free(p);
        return !strcmp(verdict, "NOT VALID") ? -2 : 0;   /* -2: already said why */
}

static const struct cmd_option options[] = {
        { "cert", 'c', "CERT", "Trust the certificate(s) in CERT, DER or PEM (several per PEM file); repeatable." },
        { "json", 'j', NULL, "Print one JSON document instead of the text lines." },
        {}
};

const struct cmd_spec cmd_inspect_spec = {
        .name = "inspect",
        .synopsis = "[--cert CERT]... [--json] (RPM|PACK)...",
        .summary = "list an RPM's files and their signature status",
        .description = "Prints '# NEVRA (FILE)' per package, then one tab-separated line per file: path, "
                       "type, mode, owner:group, size, digest, signature status (valid KEYID, invalid KEYID, "
                       "unknown key KEYID, none, hash-only, malformed, unsupported, n/a) and a symlink's "
                       "target. Signatures are checked against the file's header digest. A signature pack "
                       "(imgtool sigpack) prints '# pack FILE: ...' with its signer and, with --cert, whether "
                       "its own signature verifies, then '## NEVRA HEADER-SHA256' per package it covers and one "
                       "line per entry: path, digest, signature bytes, status.",
        .options = options,
        .exits = (const struct cmd_exit[]){ { 0, "every package was read" },
                                            { 2, "a package could not be read (one line each, after the good ones), or bad arguments" }, {} },
        .run = cmd_inspect,
};

int cmd_inspect(int argc, char **argv)
{
        int r;
        struct ima_trust *trust = NULL;
        json_object *doc = NULL, *pkgs = NULL, *packs = NULL;
        char **certs = NULL;
        bool json = false;
        int c, rc = EXIT_OK;
        struct cmd_parser cp;

        if ((r = ima_trust_new(&trust)) < 0)
                return cmd_fail(r);
        cmd_parser_init(&cp, &cmd_inspect_spec, argc, argv);
        while ((c = cmd_getopt(&cp)) > 0) {
                switch (c) {
                case 'c':
                        if ((r = ima_trust_add_file(trust, cp.arg)) < 0 || (r = strv_push(&certs, strdup(cp.arg))) < 0) {
                                rc = cmd_fail(r);
                                goto out;
                        }
                        break;
                case 'j':
                        json = true;
                        break;
                }
        }
        if (c < 0) {
                rc = cp.exit;
                goto out;
        }
        if (cp.next >= argc) {
                rc = cmd_usage_error(&cp, "no RPM given");
                goto out;
        }
        if (json) {
                doc = json_object_new_object();
                pkgs = json_object_new_array();
                json_object_object_add(doc, "schema", json_object_new_int(1));
                json_object_object_add(doc, "packages", pkgs);
                packs = json_object_new_array();
                json_object_object_add(doc, "packs", packs);
        }
        for (int i = cp.next; i < argc; i++) {
                struct rpmpkg *p = NULL;
                if (is_pack(argv[i])) {
                        r = inspect_pack(argv[i], certs, trust, packs);
                        if (r < 0)
                                rc = r == -2 ? EXIT_ERROR : cmd_fail(r);
                        continue;
                }
                if ((r = rpmpkg_open(argv[i], &p)) < 0) {
                        rc = cmd_fail(r);
                        continue;
                }
                if (json)
                        json_object_array_add(pkgs, package_json(p, trust));
                else
                        print_text(p, trust);
                rpmpkg_free(p);
        }
        if (json)
                printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE));
out:
        json_object_put(doc);
        ima_trust_free(trust);
        strv_free(certs);
        return rc;
}
