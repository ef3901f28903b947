/* sysusers.d lines (image/users.c): any bytes as a package's sysusers.d
 * file, over a base passwd and group; then the invariants issue 18 is
 * about, checked on what compose would write: every passwd line has seven
 * fields, every group line four, uid and gid 0 are root's alone, every
 * name follows systemd's strict rule.  A broken invariant aborts (a
 * finding), as a crash would. */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "fuzz.h"
#include "image/users.h"

#define MAX_INPUT (64u << 10)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        return 0;
}

static bool strict_name(const char *s, size_t n)
{
        if (!n || n > 31 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
                      s[i] == '_' || s[i] == '-'))
                        return false;
        return true;
}

/* Lines past the base (whose lines are the package's own) are compose's. */
static void check_file(const char *text, size_t len, size_t skip_lines, int fields)
{
        const char *p = text, *end = text + len;

        for (size_t line = 0; p < end; line++) {
                const char *eol = memchr(p, '\n', (size_t)(end - p)), *c1, *c3;
                size_t l = eol ? (size_t)(eol - p) : (size_t)(end - p);
                int colons = 0;

                for (size_t i = 0; i < l; i++)
                        colons += p[i] == ':';
                if (line >= skip_lines) {
                        c1 = memchr(p, ':', l);
                        if (colons != fields - 1 || !c1 || !strict_name(p, (size_t)(c1 - p)))
                                abort();
                        c3 = strchr(c1 + 1, ':');       /* the id field follows */
                        if (fields > 2 && c3 && !strncmp(c3 + 1, "0:", 2) && strncmp(p, "root:", 5))
                                abort();
                        if (fields == 7 && c3 && (c3 = strchr(c3 + 1, ':')) && !strncmp(c3 + 1, "0:", 2) &&
                            strncmp(p, "root:", 5))
                                abort();
                }
                p += l + 1;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\nadm:x:3:4:adm:/var/adm:/sbin/nologin\n";
        static const char group[] = "root:x:0:\nadm:x:4:\nwheel:x:10:\n";
        char *text;
        struct users *u = NULL;

        if (size > MAX_INPUT || !(text = malloc(size + 1)))
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        if (users_build_text(NULL, text, passwd, group, &u) >= 0) {
                size_t len;
                bool shipped;
                const char *t = users_content(u, USERS_PASSWD, &len, &shipped);
                if (t)
                        check_file(t, len, 2, 7);
                t = users_content(u, USERS_GROUP, &len, &shipped);
                if (t)
                        check_file(t, len, 3, 4);
                users_free(u);
        }
        imgerr_clear();
        free(text);
        return 0;
}
