/* imgtool verify: check every file signature of an image offline. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "ext4walk.h"
#include "imasig.h"
#include "imgverify.h"
#include "layout.h"
#include "lockfile.h"
#include "util.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: imgtool verify IMAGE --cert CERT... [options]\n\n"
                   "Check that every regular file of IMAGE carries a security.ima digital\n"
                   "signature by a trusted key over its actual content.  Prints one line\n"
                   "'PATH: reason' per violation, then a summary.  The image is only read.\n\n"
                   "  --cert CERT            trusted certificate(s), PEM or DER (repeatable)\n"
                   "  --allow-unsigned GLOB  paths matching GLOB may lack a signature\n"
                   "                         (fnmatch; '*' also matches '/'; repeatable)\n"
                   "  --against LAYOUT       also compare the files with the layout's packages\n"
                   "                         (or a lockfile's: compose --lock-out)\n"
                   "  --json                 the report as JSON on stdout\n"
                   "  -h, --help             this text\n\n"
                   "exit: 0 all good, 1 violations found, 2 could not check\n");
}

struct args {
        const char **certs, **allow;
        size_t n_certs, n_allow;
        const char *image, *against;
        bool json;
};

static int push(const char ***list, size_t *n, const char *s)
{
        const char **l = realloc(*list, (*n + 1) * sizeof(*l));
        if (!l)
                return -1;
        l[(*n)++] = s;
        *list = l;
        return 0;
}

/* 0 ok, 1 --help printed, -1 usage error (printed). */
static int parse_args(int argc, char **argv, struct args *a)
{
        static const struct option opts[] = {
                { "cert", required_argument, NULL, 'c' },
                { "allow-unsigned", required_argument, NULL, 'u' },
                { "against", required_argument, NULL, 'a' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        if (push(&a->certs, &a->n_certs, optarg) < 0)
                                return -1;
                        break;
                case 'u':
                        if (push(&a->allow, &a->n_allow, optarg) < 0)
                                return -1;
                        break;
                case 'a': a->against = optarg; break;
                case 'j': a->json = true; break;
                case 'h': usage(stdout); return 1;
                default: usage(stderr); return -1;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, "imgtool: verify: give exactly one IMAGE\n");
                return -1;
        }
        if (a->n_certs == 0 && !a->against) {
                fprintf(stderr, "imgtool: verify: give at least one --cert (or --against LAYOUT)\n");
                return -1;
        }
        a->image = argv[optind];
        return 0;
}

/* --cert files, else the layout's Certificate= list. */
static int load_trust(const struct args *a, const struct layout *l, struct ima_trust **out)
{
        int r = ima_trust_new(out);
        /* ima_trust_add_file returns the number of certs it added. */
        for (size_t i = 0; r >= 0 && i < a->n_certs; i++)
                r = ima_trust_add_file(*out, a->certs[i]);
        for (size_t i = 0; r >= 0 && a->n_certs == 0 && l && l->certificates && l->certificates[i]; i++)
                r = ima_trust_add_file(*out, l->certificates[i]);
        if (r >= 0 && ima_trust_count(*out) == 0)
                r = imgerr(-EINVAL, "verify: no trusted certificate: give --cert (the layout has no Certificate=)");
        return r < 0 ? r : 0;
}

/* --against: the layout's packages become the expected files; its
 * AllowUnsigned= globs join --allow-unsigned. */
static int load_layout(struct args *a, struct layout **l, struct imgverify_expectation **x)
{
        int r = lockfile_is(a->against) ? layout_from_lock(a->against, l) : layout_load(a->against, NULL, l);
        if (r < 0)
                return r;
        for (size_t i = 0; (*l)->allow_unsigned && (*l)->allow_unsigned[i]; i++)
                if (push(&a->allow, &a->n_allow, (*l)->allow_unsigned[i]) < 0)
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
        if (r != 0) {
                rc = r > 0 ? EXIT_OK : EXIT_ERROR;
                goto out;
        }
        if (a.against && load_layout(&a, &layout, &expect) < 0) {
                rc = cmd_fail();
                goto out;
        }
        if (load_trust(&a, layout, &trust) < 0) {
                rc = cmd_fail();
                goto out;
        }
        o.trust = trust;
        if (expect) {
                o.expected = expect->v;
                o.n_expected = expect->n;
                o.labels = expect->labels;
                o.extra_ok = imgverify_compose_paths;
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
        if (imgverify_run(a.image, &o, &rep) < 0) {
                rc = cmd_fail();
                goto out;
        }
        if (a.json) {
                char *text = imgverify_report_json(rep);
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
