/* The record of scriptlet changes compose leaves in the image
 * (scriptmanifest.h): written from the run's changes, parsed by verify. */
#include "image/scriptmanifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "base/util.h"
#include "image/scriptlets.h"

/* ---- the manifest ------------------------------------------------------------------- */

static const char *const kind_names[] = { "created", "modified", "removed" };

int scriptlets_manifest_text(const struct scriptlets *s, char **text, size_t *len)
{
        FILE *f = open_memstream(text, len);

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < scriptlets_count(s); i++) {
                const struct scriptlet_change *c = scriptlets_change(s, i);
                fprintf(f, "%s\t%o\t%u\t%u\t", kind_names[c->kind], (unsigned)c->mode, (unsigned)c->uid,
                        (unsigned)c->gid);
                if (c->kind != SCRIPTLET_REMOVED && S_ISREG(c->mode)) {
                        uint8_t d[32];
                        char hex[65];
                        EVP_Digest(c->data, c->size, d, NULL, EVP_sha256(), NULL);
                        hex_encode(d, sizeof(d), hex);
                        fputs(hex, f);
                } else {
                        fputs(c->target ? c->target : "-", f);
                }
                fprintf(f, "\t%s\t%s\n", c->path, c->by);
        }
        return fclose(f) == 0 ? 0 : -ENOMEM;
}

void scriptlets_records_free(struct scriptlets_record *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].target);
                free(v[i].path);
                free(v[i].by);
        }
        free(v);
}

static int parse_record(char *line, struct scriptlets_record *r)
{
        char *f[7], *save = NULL, *end;
        size_t n = 0;

        for (char *t = strtok_r(line, "\t", &save); t && n < 7; t = strtok_r(NULL, "\t", &save))
                f[n++] = t;
        if (n != 7 || f[5][0] != '/')
                return -EBADMSG;
        for (r->kind = 0; r->kind < 3 && strcmp(kind_names[r->kind], f[0]); r->kind++)
                ;
        r->mode = (mode_t)strtoul(f[1], &end, 8);
        if (r->kind == 3 || *end)
                return -EBADMSG;
        r->uid = (uid_t)strtoul(f[2], NULL, 10);
        r->gid = (gid_t)strtoul(f[3], NULL, 10);
        if (r->kind != SCRIPTLET_REMOVED && S_ISREG(r->mode)) {
                uint8_t *d;
                size_t dn;
                if (hex_decode(f[4], &d, &dn) < 0)
                        return -EBADMSG;
                if (dn != 32) {
                        free(d);
                        return -EBADMSG;
                }
                memcpy(r->sha256, d, 32);
                free(d);
                r->has_digest = true;
        } else if (S_ISLNK(r->mode) && r->kind != SCRIPTLET_REMOVED && !(r->target = strdup(f[4]))) {
                return -ENOMEM;
        }
        r->path = strdup(f[5]);
        r->by = strdup(f[6]);
        return r->path && r->by ? 0 : -ENOMEM;
}

int scriptlets_manifest_parse(const char *text, struct scriptlets_record **out, size_t *n)
{
        _cleanup_free_ char *copy = strdup(text);
        struct scriptlets_record *v = NULL;
        size_t count = 0, cap = 0, lineno = 0;
        char *line, *next;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        for (line = copy; r >= 0 && line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                lineno++;
                if (GROW(v, count, cap, 64) < 0) {
                        r = -ENOMEM;
                        break;
                }
                memset(&v[count], 0, sizeof(v[count]));
                r = parse_record(line, &v[count++]);
                if (r == -EBADMSG)
                        r = imgerr(r, "%s: line %zu: not a scriptlet change record", SCRIPTLETS_MANIFEST, lineno);
        }
        if (r < 0) {
                scriptlets_records_free(v, count);
                return r;
        }
        *out = v;
        *n = count;
        return 0;
}
