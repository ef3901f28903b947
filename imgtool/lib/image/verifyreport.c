/* verify's report (see imgverify.h): freed, as JSON, and the one-word
 * summary of a security.ima value that ls, manifest and attest print.
 * Moved from imgverify.c, which keeps the checking. */
#include "image/imgverify.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "ima/imasig.h"

void imgverify_report_free(struct imgverify_report *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_v; i++) {
                free(r->v[i].path);
                free(r->v[i].text);
        }
        free(r->v);
        free(r->image);
        free(r);
}

double imgverify_mbps(const struct imgverify_report *r)
{
        return r->seconds > 0 ? (double)r->bytes / r->seconds / 1e6 : 0;
}

static const char *reason_key(enum imgverify_reason reason)
{
        static const char *const keys[] = {
                [IMGV_NO_SIGNATURE] = "no-signature",
                [IMGV_HASH_ONLY] = "hash-only",
                [IMGV_UNKNOWN_KEY] = "unknown-key",
                [IMGV_INVALID] = "invalid-signature",
                [IMGV_MALFORMED] = "malformed",
                [IMGV_UNSUPPORTED] = "unsupported",
                [IMGV_UNEXPECTED] = "unexpected",
                [IMGV_MISSING] = "missing",
                [IMGV_CONTENT_DIFFERS] = "content-differs",
                [IMGV_TYPE_DIFFERS] = "type-differs",
                [IMGV_MODE_DIFFERS] = "mode-differs",
                [IMGV_OWNER_DIFFERS] = "owner-differs",
                [IMGV_TARGET_DIFFERS] = "target-differs",
                [IMGV_VERITY_BLOCK] = "verity-block",
                [IMGV_VERITY_DAMAGED] = "verity-damaged",
                [IMGV_NO_VERITY] = "no-verity",
                [IMGV_VERITY_SIGNATURE] = "verity-signature",
                [IMGV_TOO_LARGE] = "larger-than-image",
                [IMGV_LABEL_DIFFERS] = "label-differs",
        };
        return (size_t)reason < ARRAY_SIZE(keys) && keys[reason] ? keys[reason] : "unknown";
}

char *imgverify_report_json(const struct imgverify_report *r)
{
        json_object *root = json_object_new_object(), *arr = json_object_new_array();
        char *text;

        if (!root || !arr) {
                json_object_put(root);
                json_object_put(arr);
                return NULL;
        }
        json_object_object_add(root, "schema", json_object_new_int(1));
        json_object_object_add(root, "image", json_object_new_string(r->image));
        json_object_object_add(root, "ok", json_object_new_boolean(r->n_v == 0));
        json_object_object_add(root, "files", json_object_new_int64((int64_t)r->files));
        json_object_object_add(root, "signed_ok", json_object_new_int64((int64_t)r->signed_ok));
        json_object_object_add(root, "verity_ok", json_object_new_int64((int64_t)r->verity_ok));
        json_object_object_add(root, "violation_count", json_object_new_int64((int64_t)r->n_v));
        json_object_object_add(root, "bytes", json_object_new_int64((int64_t)r->bytes));
        json_object_object_add(root, "seconds", json_object_new_double(r->seconds));
        json_object_object_add(root, "mb_per_s", json_object_new_double(imgverify_mbps(r)));
        for (size_t i = 0; i < r->n_v; i++) {
                json_object *v = json_object_new_object();
                json_object_object_add(v, "path", json_object_new_string(r->v[i].path));
                json_object_object_add(v, "reason", json_object_new_string(reason_key(r->v[i].reason)));
                json_object_object_add(v, "message", json_object_new_string(r->v[i].text));
                json_object_array_add(arr, v);
        }
        json_object_object_add(root, "violations", arr);
        text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(root);
        return text;
}

void imgverify_ima_summary(const uint8_t *val, size_t len, char *buf, size_t buflen)
{
        struct imasig sig;
        int r;

        if (!val) {
                snprintf(buf, buflen, "-");
                return;
        }
        r = imasig_parse(val, len, &sig);
        imgerr_clear();
        if (r == -EOPNOTSUPP) {
                const char *name = imasig_type_name(sig.type);
                size_t i;
                snprintf(buf, buflen, "%s", name);
                for (i = 0; buf[i]; i++)
                        if (buf[i] == ' ')
                                buf[i] = '-';
        } else if (r < 0)
                snprintf(buf, buflen, "bad");
        else if (sig.type == EVM_IMA_XATTR_DIGSIG)
                snprintf(buf, buflen, "sig:%08x", sig.keyid);
        else
                snprintf(buf, buflen, "hash:%s",
                         ima_hash_name(sig.hash_algo) ? ima_hash_name(sig.hash_algo) : "?");
}
