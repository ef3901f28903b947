/* A Keylime runtime policy for an image (see keylime.h). */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#include "ima/imasig.h"
#include "attest/imgfiles.h"
#include "attest/keylime.h"
#include "attest/reference.h"
#include "base/output.h"
#include "base/util.h"

static json_object *hexstr(const uint8_t *d, size_t n)
{
        char buf[2 * IMA_MAX_DIGEST + 1];
        hex_encode(d, n, buf);
        return json_object_new_string(buf);
}

static char *base64(const uint8_t *d, size_t n)
{
        char *s = malloc(4 * ((n + 2) / 3) + 1);
        if (s)
                EVP_EncodeBlock((unsigned char *)s, d, (int)n);
        return s;
}

static json_object *digests(const struct imgfiles *files)
{
        json_object *o = json_object_new_object();

        for (size_t i = 0; i < files->n; i++) {
                const struct imgfile *f = &files->v[i];
                json_object *arr = json_object_new_array();

                json_object_array_add(arr, hexstr(f->ima_digest, ima_hash_size(f->ima_algo)));
                if (f->ima_algo != IMA_HASH_SHA256)
                        json_object_array_add(arr, hexstr(f->sha256, 32));
                json_object_object_add(o, f->path, arr);
        }
        return o;
}

/* ImaKeyring.to_string(): {"pubkeys": [b64 SPKI], "keyids": [int]}. */
static int verification_keys(const struct reference_boot *b, char **out)
{
        json_object *ring = json_object_new_object(), *keys = json_object_new_array(),
                    *ids = json_object_new_array();
        int r = 0;

        json_object_object_add(ring, "meta", json_object_new_object());
        json_object_object_add(json_object_object_get(ring, "meta"), "version", json_object_new_int(1));
        json_object_object_add(ring, "pubkeys", keys);
        json_object_object_add(ring, "keyids", ids);
        for (size_t i = 0; r == 0 && i < b->ird.n_certs; i++) {
                const unsigned char *p = b->ird.certs[i];
                X509 *x = d2i_X509(NULL, &p, (long)b->ird.cert_len[i]);
                unsigned char *spki = NULL;
                int spki_len = x ? i2d_PUBKEY(X509_get0_pubkey(x), &spki) : -1;
                uint32_t keyid = 0;
                char *b64 = spki_len > 0 ? base64(spki, (size_t)spki_len) : NULL;

                if (!b64 || ima_cert_keyid(b->ird.certs[i], b->ird.cert_len[i], &keyid) < 0)
                        r = imgerr(-EINVAL, "certificate %zu: cannot read its public key", i);
                else {
                        json_object_array_add(keys, json_object_new_string(b64));
                        json_object_array_add(ids, json_object_new_int64(keyid));
                }
                free(b64);
                OPENSSL_free(spki);
                X509_free(x);
        }
        if (r == 0 && !(*out = strdup(json_object_to_json_string_ext(ring, JSON_C_TO_STRING_PLAIN |
                                                                                JSON_C_TO_STRING_NOSLASHESCAPE))))
                r = imgerr(-ENOMEM, "out of memory");
        json_object_put(ring);
        return r;
}

/* The certs init adds to _ima, as a KEY_CHECK measurement records them
 * (ima-buf: the digest of the DER cert). */
static json_object *keyrings(const struct reference_boot *b)
{
        json_object *o = json_object_new_object(), *arr = json_object_new_array();

        for (size_t i = 0; i < b->ird.n_certs; i++) {
                uint8_t d[32];
                unsigned int dl = 32;
                EVP_Digest(b->ird.certs[i], b->ird.cert_len[i], d, &dl, EVP_sha256(), NULL);
                json_object_array_add(arr, hexstr(d, 32));
        }
        json_object_object_add(o, KEYLIME_IMA_KEYRING, arr);
        return o;
}

/* Keylime cannot carry a file name that is not UTF-8: the policy is JSON
 * text, and keylime/ima/ast.py rebuilds each log entry's template data with
 * name.encode("utf-8") to check its digest, so no such name in a log could
 * ever match.  Refuse, naming the file, rather than write invalid JSON. */
static int names_utf8(const struct imgfiles *files)
{
        for (size_t i = 0; i < files->n; i++)
                if (!utf8_valid(files->v[i].path, strlen(files->v[i].path))) {
                        _cleanup_free_ char *e = escape_text(files->v[i].path, ESCAPE_LINE);
                        return imgerr(-EILSEQ, "%s: the file name is not UTF-8: a Keylime policy cannot name it "
                                      "(rename it, or attest with imgtool reference)", e ? e : "?");
                }
        return 0;
}

int keylime_policy_build(const struct imgfiles *files, const struct reference_boot *boot, json_object **out)
{
        if (names_utf8(files) < 0)
                return -EILSEQ;

        json_object *p = json_object_new_object(), *meta = json_object_new_object(),
                    *ima = json_object_new_object();
        _cleanup_free_ char *vk = NULL;
        int r = verification_keys(boot, &vk);

        if (r < 0) {
                json_object_put(p);
                json_object_put(meta);
                json_object_put(ima);
                return r;
        }
        json_object_object_add(meta, "version", json_object_new_int(KEYLIME_POLICY_VERSION));
        json_object_object_add(meta, "generator", json_object_new_int(KEYLIME_GENERATOR_LEGACY));
        json_object_object_add(p, "meta", meta);
        json_object_object_add(p, "release", json_object_new_int(0));
        json_object_object_add(p, "digests", digests(files));
        json_object_object_add(p, "excludes", json_object_new_array());
        json_object_object_add(p, "keyrings", keyrings(boot));
        json_object_object_add(ima, "ignored_keyrings", json_object_new_array());
        /* The binary log's template digests are sha1 (ima-ng/ima-sig). */
        json_object_object_add(ima, "log_hash_alg", json_object_new_string("sha1"));
        json_object_object_add(ima, "dm_policy", NULL);
        json_object_object_add(p, "ima", ima);
        json_object_object_add(p, "ima-buf", json_object_new_object());
        json_object_object_add(p, "verification-keys", json_object_new_string(vk));
        r = json_check_utf8(p, "keylime policy");
        if (r < 0) {
                json_object_put(p);
                return r;
        }
        *out = p;
        return 0;
}

/* ---- writing: the digests streamed --------------------------------------
 * The whole policy as one json-c tree cost 1.2 KB per file (an object entry,
 * an array with 32 slots and a string object per file, then the text twice);
 * the "digests" member is written here one file at a time instead, in
 * exactly the text json-c's JSON_C_TO_STRING_PRETTY gives (two-space
 * indents, no space after ':'; paths escaped by json-c itself), so the
 * policy's bytes do not change.  Everything else is still the tree. */

#define PLACEHOLDER "imgtool-keylime-digests-placeholder"
#define JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

static void put_json_string(struct output_stream *k, const char *str)
{
        json_object *j = json_object_new_string(str);

        if (!j) {
                k->r = -ENOMEM;
                return;
        }
        output_stream_puts(k, json_object_to_json_string_ext(j, JSON_FLAGS));
        json_object_put(j);
}

static void put_digests(struct output_stream *k, const struct imgfiles *files)
{
        char hex[2 * IMA_MAX_DIGEST + 1];

        output_stream_puts(k, "{\n");
        for (size_t i = 0; i < files->n && k->r >= 0; i++) {
                const struct imgfile *f = &files->v[i];
                output_stream_puts(k, i ? ",\n    " : "    ");
                put_json_string(k, f->path);
                hex_encode(f->ima_digest, ima_hash_size(f->ima_algo), hex);
                output_stream_puts(k, ":[\n      \"");
                output_stream_puts(k, hex);
                if (f->ima_algo != IMA_HASH_SHA256) {
                        hex_encode(f->sha256, 32, hex);
                        output_stream_puts(k, "\",\n      \"");
                        output_stream_puts(k, hex);
                }
                output_stream_puts(k, "\"\n    ]");
        }
        output_stream_puts(k, "\n  }");
}

int keylime_policy_write(const struct imgfiles *files, const struct reference_boot *boot, const char *path,
                         unsigned flags, const char *const *inputs)
{
        struct imgfiles none = { NULL, 0, 0 };
        json_object *doc = NULL;
        const char *text, *at;
        struct output_stream *k;
        int r;

        if (names_utf8(files) < 0)
                return -EILSEQ;
        /* no file: json-c's own text of an empty object ("{\n  }") */
        r = keylime_policy_build(files->n ? &none : files, boot, &doc);
        if (r < 0)
                return r;
        if (files->n)
                json_object_object_add(doc, "digests", json_object_new_string(PLACEHOLDER));
        text = json_object_to_json_string_ext(doc, JSON_FLAGS);
        at = files->n ? strstr(text, "\"" PLACEHOLDER "\"") : NULL;
        k = calloc(1, sizeof(*k));
        if (!text || (files->n && !at) || !k) {
                json_object_put(doc);
                free(k);
                return imgerr(-ENOMEM, "out of memory");
        }
        r = output_open(path, flags, 0644, inputs, &k->o);
        if (r >= 0) {
                output_stream_put(k, text, at ? (size_t)(at - text) : strlen(text));
                if (at) {
                        put_digests(k, files);
                        output_stream_puts(k, at + strlen(PLACEHOLDER) + 2);
                }
                output_stream_puts(k, "\n");
                r = output_stream_flush(k) < 0 ? k->r : output_commit(k->o);
                if (k->r < 0)
                        output_abort(k->o);
        }
        json_object_put(doc);
        free(k);
        return r;
}
