/* Reference values of an image (see reference.h). */
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>

#include "ima/certs.h"
#include "boot/diskimg.h"
#include "attest/imgfiles.h"
#include "ima/imasig.h"
#include "base/output.h"
#include "boot/pe.h"
#include "attest/reference.h"
#include "base/util.h"

static char *beside(const char *image, const char *ext)
{
        char *p = NULL;
        size_t n = strlen(image);
        struct stat st;

        if (asprintf(&p, "%s.%s", image, ext) >= 0 && stat(p, &st) == 0)
                return p;
        free(p);
        p = NULL;
        if (n > 4 && !strcmp(image + n - 4, ".img") &&
            asprintf(&p, "%.*s.%s", (int)(n - 4), image, ext) >= 0 && stat(p, &st) == 0)
                return p;
        free(p);
        return NULL;
}

void reference_boot_free(struct reference_boot *b)
{
        free(b->initramfs);
        free(b->kernel);
        initramfs_contents_free(&b->ird);
        free(b->cmdline);
        pcrs_prediction_free(&b->pcrs);
        memset(b, 0, sizeof(*b));
}

/* Without an initramfs, the certs compose put into the image. */
static int certs_from_image(const char *image, struct reference_boot *b)
{
        static const char *const paths[] = { "/etc/keys/x509_ima.der", "/etc/keys/ima/imgtool-ima.der" };

        for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
                uint8_t *der = NULL;
                size_t len = 0;
                int r = imgfiles_read_one(image, paths[i], &der, &len);
                bool dup = false;

                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                for (size_t j = 0; j < b->ird.n_certs; j++)
                        dup |= b->ird.cert_len[j] == len && !memcmp(b->ird.certs[j], der, len);
                if (dup) {
                        free(der);
                        continue;
                }
                uint8_t **v = realloc(b->ird.certs, (b->ird.n_certs + 1) * sizeof(*v));
                size_t *l = v ? realloc(b->ird.cert_len, (b->ird.n_certs + 1) * sizeof(*l)) : NULL;
                if (v)
                        b->ird.certs = v;
                if (!l) {
                        free(der);
                        return imgerr(-ENOMEM, "out of memory");
                }
                b->ird.cert_len = l;
                b->ird.certs[b->ird.n_certs] = der;
                b->ird.cert_len[b->ird.n_certs++] = len;
        }
        b->certs_from_image = true;
        return 0;
}

static int section_sha256(const struct pe_image *pe, const char *name, uint8_t d[32], const uint8_t **data,
                          size_t *len)
{
        struct pe_section s;
        unsigned int dl = 32;

        if (pe_find_section(pe, name, &s) < 0)
                return imgerr(-ENOENT, "the disk's UKI has no %s section", name);
        *data = pe->data + s.raw_offset;
        *len = s.virtual_size < s.raw_size ? s.virtual_size : s.raw_size;
        if (!EVP_Digest(*data, *len, d, &dl, EVP_sha256(), NULL))
                return imgerr(-EIO, "cannot hash %s", name);
        return 0;
}

/* A disk: the UKI's .initrd, .linux and .cmdline, and the predicted PCRs. */
static int uki_load(const char *disk, const char *sb_keys, struct reference_boot *b)
{
        _cleanup_free_ uint8_t *uki = NULL;
        const uint8_t *initrd, *kern, *cmdline;
        size_t uki_len, initrd_len, kern_len, cmdline_len;
        struct pe_image pe;
        int r;

        b->disk = true;
        r = disk_read_esp_file(disk, "::/EFI/BOOT/BOOTX64.EFI", &uki, &uki_len);
        if (r >= 0)
                r = pe_parse(&pe, uki, uki_len, "\\EFI\\BOOT\\BOOTX64.EFI");
        if (r >= 0)
                r = section_sha256(&pe, ".initrd", b->initrd_sha256, &initrd, &initrd_len);
        if (r >= 0)
                r = section_sha256(&pe, ".linux", b->linux_sha256, &kern, &kern_len);
        if (r >= 0) {
                uint8_t d[32];
                r = section_sha256(&pe, ".cmdline", d, &cmdline, &cmdline_len);
        }
        if (r >= 0) {
                b->cmdline = strndup((const char *)cmdline, cmdline_len);
                if (!b->cmdline)
                        r = imgerr(-ENOMEM, "out of memory");
        }
        if (r >= 0)
                r = initramfs_read_mem(initrd, initrd_len, "the UKI's .initrd", &b->ird);
        if (r >= 0)
                r = pcrs_predict(disk, sb_keys, &b->pcrs);
        return r < 0 ? imgerr_prefix(r, "%s: ", disk) : 0;
}

int reference_boot_load(const char *image, const char *initramfs, const char *kernel, const char *sb_keys,
                 struct reference_boot *out)
{
        struct reference_boot b = {};
        uint64_t off, size;
        int r = gpt_find_partition(image, GPT_TYPE_ROOT_X86_64, &off, &size);

        if (r < 0)
                return r;
        if (r > 0 && (initramfs || kernel))
                return imgerr(-EINVAL, "%s: a disk boots its UKI's .initrd and .linux: no --initramfs or --kernel",
                              image);
        if (r == 0 && sb_keys)
                return imgerr(-EINVAL, "%s: not a disk (Format=disk): Secure Boot keys do not apply", image);
        if (r > 0) {
                r = uki_load(image, sb_keys, &b);
                goto certs;
        }
        r = 0;
        b.initramfs = initramfs ? strdup(initramfs) : beside(image, "initramfs");
        b.kernel = kernel ? strdup(kernel) : beside(image, "vmlinuz");
        if (b.initramfs)
                r = initramfs_read(b.initramfs, &b.ird);
        else
                r = certs_from_image(image, &b);
certs:
        for (size_t i = 0; r == 0 && i < b.ird.n_certs; i++) {
                uint32_t keyid;
                r = ima_cert_keyid(b.ird.certs[i], b.ird.cert_len[i], &keyid);
                if (r < 0)
                        r = imgerr_prefix(r, "%s: cert %zu: ", b.initramfs ? b.initramfs : image, i);
        }
        if (r == 0 && b.ird.n_certs == 0)
                r = imgerr(-ENOKEY, b.disk ? "%s: no IMA certificate in its UKI's .initrd"
                                           : "%s: no IMA certificate (neither an initramfs beside it nor /etc/keys in it)",
                           image);
        if (r < 0) {
                reference_boot_free(&b);
                return r;
        }
        *out = b;
        return 0;
}

static json_object *hexstr(const uint8_t *d, size_t n)
{
        char buf[2 * IMA_MAX_DIGEST + 1];
        hex_encode(d, n, buf);
        return json_object_new_string(buf);
}

static json_object *keyid_str(uint32_t keyid)
{
        char buf[9];
        snprintf(buf, sizeof(buf), "%08x", keyid);
        return json_object_new_string(buf);
}

static int sha256_file(const char *path, uint8_t d[32])
{
        _cleanup_free_ uint8_t *data = NULL;
        size_t len;
        int r = read_file(path, &data, &len);
        unsigned int dl = 32;

        if (r < 0)
                return r;
        if (!EVP_Digest(data, len, d, &dl, EVP_sha256(), NULL))
                return imgerr(-EIO, "%s: cannot hash", path);
        return 0;
}

static json_object *certs_json(const struct reference_boot *b)
{
        json_object *arr = json_object_new_array();

        for (size_t i = 0; i < b->ird.n_certs; i++) {
                json_object *o = json_object_new_object();
                uint8_t d[32];
                unsigned int dl = 32;
                uint32_t keyid = 0;
                char *b64 = malloc(4 * ((b->ird.cert_len[i] + 2) / 3) + 1);

                ima_cert_keyid(b->ird.certs[i], b->ird.cert_len[i], &keyid);
                EVP_Digest(b->ird.certs[i], b->ird.cert_len[i], d, &dl, EVP_sha256(), NULL);
                json_object_object_add(o, "keyid", keyid_str(keyid));
                json_object_object_add(o, "sha256", hexstr(d, 32));
                if (b64) {
                        EVP_EncodeBlock((unsigned char *)b64, b->ird.certs[i], (int)b->ird.cert_len[i]);
                        json_object_object_add(o, "der", json_object_new_string(b64));
                        free(b64);
                }
                json_object_array_add(arr, o);
        }
        return arr;
}

static int boot_json(const struct reference_boot *b, json_object **out)
{
        json_object *o = json_object_new_object();
        uint8_t d[32];
        int r;

        json_object_object_add(o, "certs_source",
                               json_object_new_string(b->disk ? "uki .initrd" :
                                                      b->certs_from_image ? "image /etc/keys" : "initramfs"));
        json_object_object_add(o, "ima_policy", b->ird.policy ? json_object_new_string(b->ird.policy) : NULL);
        json_object_object_add(o, "ima_policy_sha256", NULL);
        if (b->ird.policy) {
                unsigned int dl = 32;
                EVP_Digest(b->ird.policy, strlen(b->ird.policy), d, &dl, EVP_sha256(), NULL);
                json_object_object_add(o, "ima_policy_sha256", hexstr(d, 32));
        }
        json_object_object_add(o, "initramfs_sha256", NULL);
        json_object_object_add(o, "kernel_sha256", NULL);
        if (b->initramfs) {
                if ((r = sha256_file(b->initramfs, d)) < 0)
                        goto fail;
                json_object_object_add(o, "initramfs_sha256", hexstr(d, 32));
        }
        if (b->kernel) {
                if ((r = sha256_file(b->kernel, d)) < 0)
                        goto fail;
                json_object_object_add(o, "kernel_sha256", hexstr(d, 32));
        }
        if (b->disk) {
                json_object_object_add(o, "initramfs_sha256", hexstr(b->initrd_sha256, 32));
                json_object_object_add(o, "kernel_sha256", hexstr(b->linux_sha256, 32));
                json_object_object_add(o, "cmdline", json_object_new_string(b->cmdline));
                json_object_object_add(o, "uki_authenticode_sha256", hexstr(b->pcrs.uki_authenticode, 32));
        }
        /* boot_aggregate = hash of PCRs 0-9: firmware measurements a direct
         * kernel boot does not make from these files; only a disk's PCR
         * prediction (imgtool pcrs) can give it. */
        json_object_object_add(o, "boot_aggregate", NULL);
        *out = o;
        return 0;
fail:
        json_object_put(o);
        return r;
}

/* {"bank":"sha256","values":{"4":HEX,...},"db_authority":...}: what
 * `imgtool pcrs` prints, for `attest` to compare with the quoted PCRs. */
static json_object *pcrs_json(const struct pcrs_prediction *p)
{
        json_object *o = json_object_new_object(), *v = json_object_new_object();

        json_object_object_add(o, "bank", json_object_new_string("sha256"));
        for (unsigned i = 0; i < p->n; i++) {
                char key[8];
                snprintf(key, sizeof(key), "%u", p->pcr[i].index);
                json_object_object_add(v, key, hexstr(p->pcr[i].sha256, 32));
        }
        json_object_object_add(o, "values", v);
        json_object_object_add(o, "db_authority", p->db_subject ? json_object_new_string(p->db_subject) : NULL);
        return o;
}

/* "path": the name; one that is not UTF-8 (JSON cannot carry it) gets
 * "path_hex", its bytes in hex, which attest matches, and "path" escaped
 * as the listings print it (\\ooo), for people. */
static int path_json(json_object *o, const char *path)
{
        _cleanup_free_ char *esc = NULL, *hex = NULL;
        size_t n = strlen(path);

        if (utf8_valid(path, n)) {
                json_object_object_add(o, "path", json_object_new_string(path));
                return 0;
        }
        esc = escape_text(path, ESCAPE_FIELD);
        hex = malloc(2 * n + 1);
        if (!esc || !hex)
                return imgerr(-ENOMEM, "out of memory");
        hex_encode((const uint8_t *)path, n, hex);
        json_object_object_add(o, "path", json_object_new_string(esc));
        json_object_object_add(o, "path_hex", json_object_new_string(hex));
        return 0;
}

static int check_value(json_object *v, const char *what, const char *key)
{
        switch (json_object_get_type(v)) {
        case json_type_string:
                if (!utf8_valid(json_object_get_string(v), (size_t)json_object_get_string_len(v))) {
                        _cleanup_free_ char *k = escape_text(key, ESCAPE_LINE),
                                            *val = escape_text(json_object_get_string(v), ESCAPE_LINE);
                        return imgerr(-EILSEQ, "%s: \"%s\" is not UTF-8 (\"%s\"): JSON cannot carry it", what,
                                      k ? k : "?", val ? val : "?");
                }
                return 0;
        case json_type_object: {
                json_object_object_foreach(v, k, sub) {
                        int r = check_value(sub, what, k);
                        if (r == 0 && !utf8_valid(k, strlen(k))) {
                                _cleanup_free_ char *ke = escape_text(k, ESCAPE_LINE);
                                r = imgerr(-EILSEQ, "%s: \"%s\" is not UTF-8: JSON cannot carry it", what, ke ? ke : "?");
                        }
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        case json_type_array:
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        int r = check_value(json_object_array_get_idx(v, i), what, key);
                        if (r < 0)
                                return r;
                }
                return 0;
        default:
                return 0;
        }
}

int json_check_utf8(json_object *doc, const char *what)
{
        return check_value(doc, what, "");
}

/* One entry of "files". */
static int file_json(const struct imgfile *f, json_object **out)
{
        json_object *o = json_object_new_object();
        int r = path_json(o, f->path);

        if (r < 0) {
                json_object_put(o);
                return r;
        }
        json_object_object_add(o, "sha256", hexstr(f->sha256, 32));
        json_object_object_add(o, "ima_algo", json_object_new_string(ima_hash_name(f->ima_algo)));
        if (f->ima_algo != IMA_HASH_SHA256)
                json_object_object_add(o, "ima_digest", hexstr(f->ima_digest, ima_hash_size(f->ima_algo)));
        if (f->has_verity)
                json_object_object_add(o, "verity_digest", hexstr(f->verity_digest, 32));
        json_object_object_add(o, "keyid", f->has_sig ? keyid_str(f->keyid) : NULL);
        *out = o;
        return 0;
}

/* "files" is written by reference_write one entry at a time (FILES_PLACEHOLDER
 * stands in the tree): the whole document as one json-c tree and its text
 * cost about 1.3 KB per file. */
#define FILES_PLACEHOLDER "imgtool-reference-files-placeholder"
#define JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

int reference_build(const char *image, const struct imgfiles *files, const struct reference_boot *boot,
                    json_object **out)
{
        json_object *doc = json_object_new_object(), *ima, *bo;
        const char *base = strrchr(image, '/');
        int r;

        json_object_object_add(doc, "format", json_object_new_string(REFERENCE_FORMAT));
        json_object_object_add(doc, "version", json_object_new_int(REFERENCE_VERSION));
        json_object_object_add(doc, "image", json_object_new_string(base ? base + 1 : image));
        ima = json_object_new_object();
        json_object_object_add(ima, "pcr", json_object_new_int(10));
        json_object_object_add(ima, "template", json_object_new_string("ima-sig"));
        json_object_object_add(ima, "template_hash", json_object_new_string("sha1"));
        json_object_object_add(doc, "ima", ima);
        json_object_object_add(doc, "certs", certs_json(boot));
        r = boot_json(boot, &bo);
        if (r < 0) {
                json_object_put(doc);
                return r;
        }
        json_object_object_add(doc, "boot", bo);
        json_object_object_add(doc, "pcrs", boot->disk ? pcrs_json(&boot->pcrs) : NULL);
        /* no file: json-c's own text of an empty array */
        json_object_object_add(doc, "files", files->n ? json_object_new_string(FILES_PLACEHOLDER)
                                                      : json_object_new_array());
        r = json_check_utf8(doc, "reference");
        if (r < 0) {
                json_object_put(doc);
                return r;
        }
        *out = doc;
        return 0;
}

/* The signature in FILE.sig is the signature part of a v2 IMA value
 * (03 02 algo keyid len SIG): one signing and one verifying code path for
 * files and reference documents alike.  The digest it signs is NOT FILE's:
 * it is sha256(REFERENCE_SIG_PREFIX || FILE), so no FILE.sig is a valid
 * security.ima for a file whose content is FILE (an IMA signature signs
 * the content's own digest; the prefix starts with a NUL and names the
 * purpose, so the content it would vouch for is no program, script or
 * config). */
#define SIG_HDR 9

static int reference_digest(const void *body, size_t len, uint8_t d[32])
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned int dl = 32;
        int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
                 EVP_DigestUpdate(ctx, REFERENCE_SIG_PREFIX, REFERENCE_SIG_PREFIX_LEN) &&
                 EVP_DigestUpdate(ctx, body, len) && EVP_DigestFinal_ex(ctx, d, &dl);

        EVP_MD_CTX_free(ctx);
        return ok ? 0 : imgerr(-EIO, "cannot hash the reference");
}

/* "files", exactly as json-c's JSON_C_TO_STRING_PRETTY writes an array of
 * objects at that depth: each entry is json-c's own text of the object,
 * indented four more spaces (a JSON string holds no raw newline). */
static void put_files(struct output_stream *k, const struct imgfiles *files)
{
        output_stream_put(k, "[", 1);
        for (size_t i = 0; i < files->n && k->r >= 0; i++) {
                json_object *o = NULL;
                const char *text, *nl;
                int r = file_json(&files->v[i], &o);

                if (r >= 0)
                        r = json_check_utf8(o, "reference");
                text = r >= 0 ? json_object_to_json_string_ext(o, JSON_FLAGS) : NULL;
                if (r >= 0 && !text)
                        r = imgerr(-ENOMEM, "out of memory");
                if (r < 0) {
                        json_object_put(o);
                        k->r = r;
                        return;
                }
                output_stream_put(k, i ? ",\n    " : "\n    ", i ? 6 : 5);
                for (; (nl = strchr(text, '\n')); text = nl + 1) {
                        output_stream_put(k, text, (size_t)(nl - text));
                        output_stream_put(k, "\n    ", 5);
                }
                output_stream_put(k, text, strlen(text));
                json_object_put(o);
        }
        output_stream_put(k, "\n  ]", 4);
}

int reference_write(json_object *doc, const struct imgfiles *files, const char *key, const char *cert,
                    const char *path, unsigned flags)
{
        const char *text = json_object_to_json_string_ext(doc, JSON_FLAGS), *at;
        _cleanup_free_ char *sigpath = NULL;
        _cleanup_free_ uint8_t *val = NULL;
        struct output *os = NULL;
        struct ima_key *ik = NULL;
        struct output_stream *k = calloc(1, sizeof(*k));
        unsigned int dl = 32;
        uint8_t d[32];
        size_t val_len;
        int r;

        at = text ? strstr(text, "\"" FILES_PLACEHOLDER "\"") : NULL;
        if (!k || !text || asprintf(&sigpath, "%s.sig", path) < 0 || (files->n && !at) ||
            !(k->md = EVP_MD_CTX_new())) {
                if (k)
                        EVP_MD_CTX_free(k->md);
                free(k);
                return imgerr(-ENOMEM, "out of memory");
        }
        r = ima_key_load(key, cert, &ik);
        if (r >= 0 && (!EVP_DigestInit_ex(k->md, EVP_sha256(), NULL) ||
                       !EVP_DigestUpdate(k->md, REFERENCE_SIG_PREFIX, REFERENCE_SIG_PREFIX_LEN)))
                r = imgerr(-EIO, "cannot hash the reference");
        if (r >= 0)
                r = output_open(path, flags, 0644, NULL, &k->o);
        if (r >= 0 && (r = output_open(sigpath, flags, 0644, NULL, &os)) < 0) {
                output_abort(k->o);
                k->o = NULL;
        }
        if (r >= 0) {
                output_stream_put(k, text, at ? (size_t)(at - text) : strlen(text));
                if (at) {
                        put_files(k, files);
                        output_stream_put(k, at + strlen(FILES_PLACEHOLDER) + 2, strlen(at + strlen(FILES_PLACEHOLDER) + 2));
                }
                output_stream_put(k, "\n", 1);
                /* the reference text goes to FILE and into the digest FILE.sig signs */
                r = output_stream_flush(k);
                if (r >= 0 && !EVP_DigestFinal_ex(k->md, d, &dl))
                        r = imgerr(-EIO, "cannot hash the reference");
                if (r >= 0)
                        r = ima_key_sign_digest(ik, IMA_HASH_SHA256, d, 32, &val, &val_len);
                if (r >= 0)
                        r = output_write(os, val + SIG_HDR, val_len - SIG_HDR);
                /* both complete before either is renamed into place */
                if (r >= 0)
                        r = output_commit(os);
                else
                        output_abort(os);
                if (r >= 0)
                        r = output_commit(k->o);
                else
                        output_abort(k->o);
        }
        ima_key_free(ik);
        EVP_MD_CTX_free(k->md);
        free(k);
        return r;
}

int reference_load(const char *path, const char *cert_path, json_object **out, uint32_t *keyid)
{
        _cleanup_free_ char *sigpath = NULL;
        _cleanup_free_ uint8_t *body = NULL, *sig = NULL, *val = NULL;
        struct ima_trust *trust = NULL;
        size_t len, sig_len;
        json_object *doc, *fmt;
        struct json_tokener *tok;
        uint8_t d[32];
        enum imasig_status st = IMASIG_INVALID;
        struct imasig parsed;
        int r;

        if (asprintf(&sigpath, "%s.sig", path) < 0)
                return imgerr(-ENOMEM, "out of memory");
        if ((r = read_file(path, &body, &len)) < 0 || (r = read_file(sigpath, &sig, &sig_len)) < 0)
                return r;
        if (sig_len == 0 || sig_len > 1024)
                return imgerr(-EBADMSG, "%s: not a signature", sigpath);
        if ((r = ima_trust_new(&trust)) < 0)
                return r;
        r = ima_trust_add_file(trust, cert_path);
        if (r > 0)
                r = 0;
        if (r == 0)
                r = reference_digest(body, len, d);
        /* Try the signature as made by each trusted key: the keyid is not
         * stored in FILE.sig (it stays a plain OpenSSL signature). */
        val = malloc(SIG_HDR + sig_len);
        if (r == 0 && !val)
                r = imgerr(-ENOMEM, "out of memory");
        if (r == 0) {
                X509 **certs = NULL;
                int n = certs_read_file(cert_path, &certs);
                for (int i = 0; n > 0 && i < n && st != IMASIG_VALID; i++) {
                        uint32_t id = 0;
                        unsigned char *der = NULL;
                        int dlen = i2d_X509(certs[i], &der);
                        if (dlen > 0 && ima_cert_keyid(der, (size_t)dlen, &id) == 0) {
                                val[0] = EVM_IMA_XATTR_DIGSIG;
                                val[1] = 2;
                                val[2] = IMA_HASH_SHA256;
                                val[3] = id >> 24; val[4] = id >> 16; val[5] = id >> 8; val[6] = id;
                                val[7] = sig_len >> 8; val[8] = sig_len & 0xff;
                                memcpy(val + SIG_HDR, sig, sig_len);
                                st = ima_trust_verify_digest(trust, val, SIG_HDR + sig_len, d, 32, &parsed);
                                if (st == IMASIG_VALID && keyid)
                                        *keyid = id;
                        }
                        OPENSSL_free(der);
                }
                if (n > 0)
                        certs_free(certs);
                else
                        r = n;
        }
        ima_trust_free(trust);
        if (r < 0)
                return r;
        if (st != IMASIG_VALID)
                return imgerr(-EBADMSG, "%s: signature does not verify with %s (file changed or signed by another key)",
                              path, cert_path);
        tok = json_tokener_new();
        doc = tok ? json_tokener_parse_ex(tok, (const char *)body, (int)len) : NULL;
        if (tok)
                json_tokener_free(tok);
        if (!doc || !json_object_object_get_ex(doc, "format", &fmt) ||
            strcmp(json_object_get_string(fmt), REFERENCE_FORMAT) != 0) {
                json_object_put(doc);
                return imgerr(-EBADMSG, "%s: not an imgtool reference file", path);
        }
        *out = doc;
        return 0;
}
