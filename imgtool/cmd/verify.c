/* imgtool verify: check every file signature of an image offline. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cmd.h"
#include "ext4/ext4walk.h"
#include "ima/imasig.h"
#include "image/imgverify.h"
#include "image/plan.h"
#include "layout/layout.h"
#include "rpm/lockfile.h"
#include "base/util.h"

static const struct cmd_option options[] = {
        { "cert", 'c', "CERT", "A trusted certificate, PEM (one or more) or DER; repeatable. The keyid is the last 4 bytes of its subjectKeyIdentifier, as the kernel computes it." },
        { "allow-unsigned", 'u', "GLOB", "Paths matching GLOB (fnmatch on the whole path, '*' also matches '/') may have no signature or only a hash; repeatable." },
        { "against", 'a', "LAYOUT", "Also compare the image with the files of the layout's packages (or a lockfile's, from compose --lock-out); without --cert, the layout's Certificate= files are trusted." },
        { "json", 'j', NULL, "Print the report as one JSON object on stdout." },
        {}
};

const struct cmd_spec cmd_verify_spec = {
        .name = "verify",
        .synopsis = "IMAGE (--cert CERT... | --against LAYOUT) [--allow-unsigned GLOB]... [--json]",
        .summary = "check every file signature of an image offline, optionally against its layout",
        .description = "Every regular file must carry a security.ima digital signature by a trusted key over "
                       "its content as it is in the image. Prints one line 'PATH: reason' per violation, then "
                       "a summary line. The image is only read.",
        .options = options,
        .exits = (const struct cmd_exit[]){ { 0, "every file passed" },
                                            { 1, "violations were found" },
                                            { 2, "the image could not be checked: bad image, unreadable certificate, bad layout, usage error" }, {} },
        .run = cmd_verify,
};

struct args {
        const char **certs, **allow;
        size_t n_certs, n_allow, cap_certs, cap_allow;
        const char *image, *against;
        bool json;
};

static int push(const char ***list, size_t *n, size_t *cap, const char *s)
{
        if (GROW(*list, *n, *cap, 8) < 0)
                return -1;
        (*list)[(*n)++] = s;
        return 0;
}

/* EXIT_OK to go on; otherwise the exit code (help printed, or a usage error). */
static int parse_args(int argc, char **argv, struct args *a)
{
        struct cmd_parser p;
        int c;

        cmd_parser_init(&p, &cmd_verify_spec, argc, argv);
        while ((c = cmd_getopt(&p)) > 0) {
                switch (c) {
                case 'c':
                        if (push(&a->certs, &a->n_certs, &a->cap_certs, p.arg) < 0)
                                return EXIT_ERROR;
                        break;
                case 'u':
                        if (push(&a->allow, &a->n_allow, &a->cap_allow, p.arg) < 0)
                                return EXIT_ERROR;
                        break;
                case 'a': a->against = p.arg; break;
                case 'j': a->json = true; break;
                }
        }
        if (c < 0)
                return p.exit == EXIT_OK ? -1 : p.exit;
        if (argc - p.next != 1)
                return cmd_usage_error(&p, "give exactly one IMAGE");
        if (a->n_certs == 0 && !a->against)
                return cmd_usage_error(&p, "give at least one --cert (or --against LAYOUT)");
        a->image = argv[p.next];
        return EXIT_OK;
}

/* One trusted key as the report names it: keyid, the file, and whether
 * the file held a certificate or a bare public key. */
static json_object *trusted_key_json(const struct ima_trust_entry *e)
{
        json_object *k = json_object_new_object();
        char hex[9];

        snprintf(hex, sizeof(hex), "%08x", e->keyid);
        json_object_object_add(k, "keyid", json_object_new_string(hex));
        json_object_object_add(k, "kind", json_object_new_string(e->bare_key ? "public key" : "certificate"));
        json_object_object_add(k, "file", json_object_new_string(e->source));
        return k;
}

/* The JSON report, with the keys the image was checked against: the trust
 * plan_trust resolved (certificates and bare public keys), in its order. */
static char *report_json(const struct imgverify_report *rep, const struct ima_trust *trust)
{
        _cleanup_free_ char *text = imgverify_report_json(rep);
        json_object *o = text ? json_tokener_parse(text) : NULL;
        json_object *keyids = json_object_new_array(), *keys = json_object_new_array();
        char *out = NULL;

        for (size_t i = 0; i < ima_trust_count(trust); i++) {
                struct ima_trust_entry e = ima_trust_entry(trust, i);
                char hex[9];

                snprintf(hex, sizeof(hex), "%08x", e.keyid);
                json_object_array_add(keyids, json_object_new_string(hex));
                json_object_array_add(keys, trusted_key_json(&e));
        }
        if (o) {
                json_object_object_add(o, "trusted_keyids", keyids);
                json_object_object_add(o, "trusted_keys", keys);
                out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        } else {
                json_object_put(keyids);
                json_object_put(keys);
        }
        return out;
}

/* --cert files, else the layout's Certificate= list (plan_trust). */
static int load_trust(const struct args *a, const struct layout *l, struct ima_trust **out)
{
        int r = plan_trust(l, (const char *const *)a->certs, a->n_certs, out);

        if (r >= 0 && ima_trust_count(*out) == 0)
                r = imgerr(-EINVAL, "verify: no trusted certificate: give --cert (the layout has no Certificate=)");
        return r;
}

/* --against: the layout's packages become the expected files; its
 * AllowUnsigned= globs join --allow-unsigned. */
static int load_layout(struct args *a, struct layout **l, struct imgverify_expectation **x)
{
        int r = lockfile_is(a->against) ? layout_from_lock(a->against, l) : layout_load(a->against, NULL, l);
        if (r < 0)
                return r;
        for (size_t i = 0; (*l)->allow_unsigned && (*l)->allow_unsigned[i]; i++)
                if (push(&a->allow, &a->n_allow, &a->cap_allow, (*l)->allow_unsigned[i]) < 0)
                        return imgerr(-ENOMEM, "out of memory");
        return imgverify_expect_layout(*l, a->image, x);
}

static void print_text(const struct imgverify_report *rep)
{
        for (size_t i = 0; i < rep->n_v; i++) {
                /* Escaped like manifest paths so one violation is one line. */
                char *path = ext4walk_escape(rep->v[i].path);
                printf("%s: %s\n", path ? path : rep->v[i].path, rep->v[i].text);
                free(path);
        }
        char verity[64] = "";
        if (rep->verity_ok)
                snprintf(verity, sizeof(verity), ", %llu fs-verity trees valid", (unsigned long long)rep->verity_ok);
        printf("%s: %s: %llu files, %llu signed and valid%s, %zu violations, %llu bytes hashed "
               "in %.3f s (%.1f MB/s)\n",
               rep->image, rep->n_v ? "FAILED" : "OK", (unsigned long long)rep->files,
               (unsigned long long)rep->signed_ok, verity, rep->n_v, (unsigned long long)rep->bytes,
               rep->seconds, imgverify_mbps(rep));
}

int cmd_verify(int argc, char **argv)
{
        struct args a = {};
        struct ima_trust *trust = NULL;
        struct imgverify_report *rep = NULL;
        struct imgverify_opts o = {};
        struct layout *layout = NULL;
        struct imgverify_expectation *expect = NULL;
        char **cert_files = NULL;
        int rc = EXIT_ERROR, r;

        r = parse_args(argc, argv, &a);
        if (r != EXIT_OK) {
                rc = r < 0 ? EXIT_OK : r;
                goto out;
        }
        if (a.against && (r = load_layout(&a, &layout, &expect)) < 0) {
                rc = cmd_fail(r);
                goto out;
        }
        if ((r = load_trust(&a, layout, &trust)) < 0) {
                rc = cmd_fail(r);
                goto out;
        }
        o.trust = trust;
        if (expect) {
                o.expected = expect->v;
                o.n_expected = expect->n;
                o.labels = expect->plan.labels;
                o.extra_ok = (const char *const *)expect->created;
                while (o.extra_ok[o.n_extra_ok])
                        o.n_extra_ok++;
        }
        o.allow_unsigned = a.allow;
        o.n_allow_unsigned = a.n_allow;
        /* builtin fs-verity signatures are checked against the same certs */
        cert_files = calloc(a.n_certs + strv_length(layout ? layout->certificates : NULL) + 1, sizeof(*cert_files));
        if (!cert_files) {
                fprintf(stderr, "imgtool: verify: out of memory\n");
                goto out;
        }
        for (size_t i = 0; i < a.n_certs; i++)
                cert_files[i] = (char *)a.certs[i];
        for (size_t i = 0; !a.n_certs && layout && layout->certificates && layout->certificates[i]; i++)
                cert_files[i] = layout->certificates[i];
        o.cert_files = cert_files;
        if (layout && layout->verity)
                o.verity = layout->verity_sigs == VERITY_SIGS_IMA_V3 ? IMGV_VERITY_IMA_V3 : IMGV_VERITY_BUILTIN;
        if ((r = imgverify_run(a.image, &o, &rep)) < 0) {
                rc = cmd_fail(r);
                goto out;
        }
        if (a.json) {
                char *text = report_json(rep, trust);
                if (!text) {
                        fprintf(stderr, "imgtool: verify: out of memory\n");
                        goto out;
                }
                printf("%s\n", text);
                free(text);
        } else
                print_text(rep);
        rc = rep->n_v ? EXIT_VIOLATIONS : EXIT_OK;
out:
        imgverify_report_free(rep);
        imgverify_expectation_free(expect);
        if (layout)
                layout_free(layout);
        if (trust)
                ima_trust_free(trust);
        free(cert_files);
        free(a.certs);
        free(a.allow);
        return rc;
}
