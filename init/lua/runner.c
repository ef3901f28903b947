/* imgtool-lua: runs one `-p <lua>` scriptlet inside the guest of
 * Scriptlets=run (docs/scriptlets.md, "Lua scriptlets"), the way rpm 4.18's
 * embedded Lua runs it (lib/rpmscript.c runLuaScript, rpmio/rpmlua.c,
 * rpmio/lposix.c): the chunk is "local opt, arg = ..." plus the body, arg
 * is { "<lua>", arg1, arg2 } with the numbers as numbers, the working
 * folder /.  The `posix` and `rpm` tables hold the functions listed in
 * the docs; any other name in them fails the scriptlet naming it.
 *
 *   imgtool-lua SCRIPT [ARG1 [ARG2]]   exit 0 when the chunk ran, 1 if not
 *
 * Static, no package code on the host: the initramfs carries it and init
 * copies it into the guest's root for the run. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

extern char **environ;

/* lposix.c's conventions: the result as a Lua number (a float, as rpm
 * pushes it: tostring gives "0.0"); nil, "what: message", errno on failure */
static int pusherror(lua_State *L, const char *info)
{
        int e = errno;

        lua_pushnil(L);
        if (info)
                lua_pushfstring(L, "%s: %s", info, strerror(e));
        else
                lua_pushstring(L, strerror(e));
        lua_pushnumber(L, e);
        return 3;
}

static int pushresult(lua_State *L, int r, const char *info)
{
        if (r == -1)
                return pusherror(L, info);
        lua_pushnumber(L, r);
        return 1;
}

/* ---- posix ------------------------------------------------------------------ */

static int P_access(lua_State *L)
{
        const char *path = luaL_checkstring(L, 1), *s = luaL_optstring(L, 2, "f");
        int mode = 0;

        for (; *s; s++)
                switch (*s) {
                case 'r': mode |= R_OK; break;
                case 'w': mode |= W_OK; break;
                case 'x': mode |= X_OK; break;
                case 'f': mode |= F_OK; break;
                case ' ': break;
                default: return luaL_argerror(L, 2, "unknown mode");
                }
        return pushresult(L, access(path, mode), path);
}

static int P_chdir(lua_State *L) { const char *p = luaL_checkstring(L, 1); return pushresult(L, chdir(p), p); }
static int P_rmdir(lua_State *L) { const char *p = luaL_checkstring(L, 1); return pushresult(L, rmdir(p), p); }
static int P_unlink(lua_State *L) { const char *p = luaL_checkstring(L, 1); return pushresult(L, unlink(p), p); }

static int P_link(lua_State *L)
{
        return pushresult(L, link(luaL_checkstring(L, 1), luaL_checkstring(L, 2)), NULL);
}

static int P_symlink(lua_State *L)
{
        return pushresult(L, symlink(luaL_checkstring(L, 1), luaL_checkstring(L, 2)), NULL);
}

/* "0755", "755", or "rwxr-xr-x" (lposix's modemuncher, absolute forms) */
static int parse_mode(const char *s, mode_t *out)
{
        char *end;

        if (strlen(s) == 9 && strspn(s, "rwx-sStT") == 9) {
                static const char bits[] = "rwxrwxrwx";
                mode_t m = 0;
                for (int i = 0; i < 9; i++)
                        if (s[i] == bits[i] || (i % 3 == 2 && strchr("sStT", s[i])))
                                m |= 1u << (8 - i);
                if (s[2] == 's' || s[2] == 'S') m |= S_ISUID;
                if (s[5] == 's' || s[5] == 'S') m |= S_ISGID;
                if (s[8] == 't' || s[8] == 'T') m |= S_ISVTX;
                for (int i = 2; i <= 8; i += 3)
                        if (s[i] == 'S' || s[i] == 'T')
                                m &= ~(1u << (8 - i));
                *out = m;
                return 0;
        }
        *out = (mode_t)strtoul(s, &end, 8);
        return *s && !*end ? 0 : -1;
}

static int P_chmod(lua_State *L)
{
        const char *path = luaL_checkstring(L, 1);
        mode_t m;

        if (parse_mode(luaL_checkstring(L, 2), &m) < 0)
                return luaL_argerror(L, 2, "bad mode");
        return pushresult(L, chmod(path, m), path);
}

static int P_mkdir(lua_State *L)
{
        const char *path = luaL_checkstring(L, 1);
        return pushresult(L, mkdir(path, 0777), path);
}

/* A name in /etc/passwd or /etc/group (no NSS in a static program: the
 * image's files are what rpm's chroot would read too). */
static long id_from_file(const char *file, const char *name)
{
        FILE *f = fopen(file, "re");
        char line[1024];
        long id = -1;
        size_t n = strlen(name);

        while (f && id < 0 && fgets(line, sizeof(line), f)) {
                char *p;
                if (strncmp(line, name, n) || line[n] != ':' || !(p = strchr(line + n + 1, ':')))
                        continue;
                id = strtol(p + 1, NULL, 10);
        }
        if (f)
                fclose(f);
        return id;
}

static long lua_id(lua_State *L, int i, const char *file)
{
        if (lua_isnoneornil(L, i))
                return -1;
        if (lua_type(L, i) == LUA_TNUMBER)
                return (long)lua_tointeger(L, i);
        return id_from_file(file, luaL_checkstring(L, i));
}

static int P_chown(lua_State *L)
{
        const char *path = luaL_checkstring(L, 1);
        long uid = lua_id(L, 2, "/etc/passwd"), gid = lua_id(L, 3, "/etc/group");

        return pushresult(L, chown(path, (uid_t)uid, (gid_t)gid), path);
}

static int P_readlink(lua_State *L)
{
        const char *path = luaL_checkstring(L, 1);
        char buf[4096];
        ssize_t n = readlink(path, buf, sizeof(buf));

        if (n < 0)
                return pusherror(L, path);
        lua_pushlstring(L, buf, (size_t)n);
        return 1;
}

static int P_getcwd(lua_State *L)
{
        char buf[4096];

        if (!getcwd(buf, sizeof(buf)))
                return pusherror(L, ".");
        lua_pushstring(L, buf);
        return 1;
}

static int P_getenv(lua_State *L)
{
        if (lua_isnone(L, 1)) {
                lua_newtable(L);
                for (char **e = environ; *e; e++) {
                        const char *eq = strchr(*e, '=');
                        if (!eq)
                                continue;
                        lua_pushlstring(L, *e, (size_t)(eq - *e));
                        lua_pushstring(L, eq + 1);
                        lua_settable(L, -3);
                }
                return 1;
        }
        const char *v = getenv(luaL_checkstring(L, 1));
        if (v)
                lua_pushstring(L, v);
        else
                lua_pushnil(L);
        return 1;
}

static int P_setenv(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1), *value = luaL_optstring(L, 2, NULL);

        if (!value)
                return pushresult(L, unsetenv(name), name);
        return pushresult(L, setenv(name, value, lua_isnoneornil(L, 3) ? 1 : lua_toboolean(L, 3)), name);
}

static int P_unsetenv(lua_State *L) { const char *n = luaL_checkstring(L, 1); return pushresult(L, unsetenv(n), n); }

static int P_umask(lua_State *L)
{
        char buf[8];
        mode_t old = umask(0);
        mode_t m = old;

        if (!lua_isnone(L, 1) && parse_mode(luaL_checkstring(L, 1), &m) < 0)
                return luaL_argerror(L, 1, "bad mode");
        umask(m);
        snprintf(buf, sizeof(buf), "%03o", (unsigned)(m & 0777));
        lua_pushstring(L, buf);
        return 1;
}

static const char *type_name(mode_t m)
{
        return S_ISREG(m) ? "regular" : S_ISLNK(m) ? "link" : S_ISDIR(m) ? "directory" :
               S_ISCHR(m) ? "character device" : S_ISBLK(m) ? "block device" : S_ISFIFO(m) ? "fifo" :
               S_ISSOCK(m) ? "socket" : "?";
}

static void mode_string(mode_t m, char s[10])
{
        static const char bits[] = "rwxrwxrwx";

        for (int i = 0; i < 9; i++)
                s[i] = m & (1u << (8 - i)) ? bits[i] : '-';
        if (m & S_ISUID) s[2] = s[2] == 'x' ? 's' : 'S';
        if (m & S_ISGID) s[5] = s[5] == 'x' ? 's' : 'S';
        if (m & S_ISVTX) s[8] = s[8] == 'x' ? 't' : 'T';
        s[9] = 0;
}

/* posix.stat(path [, field]): a table, or the one field */
static int P_stat(lua_State *L)
{
        const char *path = luaL_checkstring(L, 1), *field = luaL_optstring(L, 2, NULL);
        struct stat st;
        char mode[10];

        if (stat(path, &st) < 0)
                return pusherror(L, path);
        mode_string(st.st_mode, mode);
        lua_newtable(L);
        lua_pushstring(L, mode); lua_setfield(L, -2, "mode");
        lua_pushinteger(L, (lua_Integer)st.st_ino); lua_setfield(L, -2, "ino");
        lua_pushinteger(L, (lua_Integer)st.st_dev); lua_setfield(L, -2, "dev");
        lua_pushinteger(L, (lua_Integer)st.st_nlink); lua_setfield(L, -2, "nlink");
        lua_pushinteger(L, st.st_uid); lua_setfield(L, -2, "uid");
        lua_pushinteger(L, st.st_gid); lua_setfield(L, -2, "gid");
        lua_pushinteger(L, (lua_Integer)st.st_size); lua_setfield(L, -2, "size");
        lua_pushinteger(L, (lua_Integer)st.st_atime); lua_setfield(L, -2, "atime");
        lua_pushinteger(L, (lua_Integer)st.st_mtime); lua_setfield(L, -2, "mtime");
        lua_pushinteger(L, (lua_Integer)st.st_ctime); lua_setfield(L, -2, "ctime");
        lua_pushstring(L, type_name(st.st_mode)); lua_setfield(L, -2, "type");
        if (field) {
                lua_getfield(L, -1, field);
                if (lua_isnil(L, -1))
                        return luaL_argerror(L, 2, "unknown field");
        }
        return 1;
}

static int P_dir(lua_State *L)
{
        const char *path = luaL_optstring(L, 1, ".");
        DIR *d = opendir(path);
        struct dirent *e;
        int i = 1;

        if (!d)
                return pusherror(L, path);
        lua_newtable(L);
        while ((e = readdir(d))) {
                lua_pushstring(L, e->d_name);
                lua_rawseti(L, -2, i++);
        }
        closedir(d);
        return 1;
}

static int P_utime(lua_State *L)
{
        const char *path = luaL_checkstring(L, 1);
        struct utimbuf t;
        time_t now = time(NULL);

        t.modtime = (time_t)luaL_optinteger(L, 2, now);
        t.actime = (time_t)luaL_optinteger(L, 3, now);
        return pushresult(L, utime(path, &t), path);
}

static int P_sleep(lua_State *L)
{
        lua_pushinteger(L, sleep((unsigned)luaL_checkinteger(L, 1)));
        return 1;
}

static int P_getpid(lua_State *L)
{
        lua_pushinteger(L, getpid());
        return 1;
}

static int P_errno(lua_State *L)
{
        int e = (int)luaL_optinteger(L, 1, errno);

        lua_pushstring(L, strerror(e));
        lua_pushinteger(L, e);
        return 2;
}

static const luaL_Reg posix_fns[] = {
        { "access", P_access }, { "chdir", P_chdir }, { "chmod", P_chmod }, { "chown", P_chown },
        { "dir", P_dir }, { "errno", P_errno }, { "getcwd", P_getcwd }, { "getenv", P_getenv },
        { "getprocessid", P_getpid }, { "link", P_link }, { "mkdir", P_mkdir }, { "readlink", P_readlink },
        { "rmdir", P_rmdir }, { "setenv", P_setenv }, { "sleep", P_sleep }, { "stat", P_stat },
        { "symlink", P_symlink }, { "umask", P_umask }, { "unlink", P_unlink }, { "unsetenv", P_unsetenv },
        { "utime", P_utime }, { NULL, NULL },
};

/* ---- rpm -------------------------------------------------------------------- */

/* rpm.execute(path, args...): 0, or nil, strerror(wait status), the wait
 * status (rpmlua.c's pushresult of posix_spawnp and waitpid, quirks kept) */
static int R_execute(lua_State *L)
{
        int n = lua_gettop(L), status;
        const char **argv = calloc((size_t)n + 1, sizeof(*argv));
        pid_t pid;

        if (!argv)
                return luaL_error(L, "not enough memory");
        for (int i = 0; i < n; i++)
                argv[i] = luaL_checkstring(L, i + 1);
        fflush(NULL);
        status = posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ);
        free(argv);
        if (status == 0 && waitpid(pid, &status, 0) < 0)
                status = errno;
        if (status == 0) {
                lua_pushnumber(L, 0);
                return 1;
        }
        lua_pushnil(L);
        lua_pushstring(L, strerror(status));
        lua_pushnumber(L, status);
        return 3;
}

/* rpm's directory macros (macros.in for x86_64 Linux); anything else is
 * left as written, as rpm leaves an undefined macro */
static const char *const macros[][2] = {
        { "_prefix", "/usr" }, { "_exec_prefix", "/usr" }, { "_bindir", "/usr/bin" },
        { "_sbindir", "/usr/sbin" }, { "_libexecdir", "/usr/libexec" }, { "_datadir", "/usr/share" },
        { "_sysconfdir", "/etc" }, { "_sharedstatedir", "/var/lib" }, { "_localstatedir", "/var" },
        { "_lib", "lib64" }, { "_libdir", "/usr/lib64" }, { "_includedir", "/usr/include" },
        { "_infodir", "/usr/share/info" }, { "_mandir", "/usr/share/man" }, { "_rundir", "/run" },
        { "_docdir", "/usr/share/doc" }, { "_var", "/var" }, { "_usr", "/usr" }, { "_tmppath", "/var/tmp" },
};

static const char *macro(const char *name, size_t len)
{
        for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
                if (strlen(macros[i][0]) == len && !strncmp(macros[i][0], name, len))
                        return macros[i][1];
        return NULL;
}

static int R_expand(lua_State *L)
{
        const char *s = luaL_checkstring(L, 1);
        luaL_Buffer b;

        luaL_buffinit(L, &b);
        while (*s) {
                const char *v = NULL, *end = s;
                if (s[0] == '%' && s[1] == '%') {
                        luaL_addchar(&b, '%');
                        s += 2;
                        continue;
                }
                if (s[0] == '%' && s[1] == '{' && (end = strchr(s, '}')))
                        v = macro(s + 2, (size_t)(end - s - 2)), end++;
                else if (s[0] == '%' && (s[1] == '_' || (s[1] >= 'a' && s[1] <= 'z'))) {
                        end = s + 1;
                        while (*end == '_' || (*end >= 'a' && *end <= 'z') || (*end >= '0' && *end <= '9'))
                                end++;
                        v = macro(s + 1, (size_t)(end - s - 1));
                }
                if (v) {
                        luaL_addstring(&b, v);
                        s = end;
                } else {
                        luaL_addchar(&b, *s++);
                }
        }
        luaL_pushresult(&b);
        return 1;
}

/* rpmvercmp (rpmio/rpmvercmp.c) */
static int vercmp(const char *a, const char *b)
{
        if (!strcmp(a, b))
                return 0;
        while (*a || *b) {
                while (*a && !isalnum((unsigned char)*a) && *a != '~' && *a != '^') a++;
                while (*b && !isalnum((unsigned char)*b) && *b != '~' && *b != '^') b++;
                if (*a == '~' || *b == '~') {
                        if (*a != '~') return 1;
                        if (*b != '~') return -1;
                        a++, b++;
                        continue;
                }
                if (*a == '^' || *b == '^') {
                        if (!*a) return -1;
                        if (!*b) return 1;
                        if (*a != '^') return 1;
                        if (*b != '^') return -1;
                        a++, b++;
                        continue;
                }
                if (!*a || !*b)
                        break;
                const char *p = a, *q = b;
                bool num = isdigit((unsigned char)*p);
                if (num) {
                        while (isdigit((unsigned char)*p)) p++;
                        while (isdigit((unsigned char)*q)) q++;
                } else {
                        while (isalpha((unsigned char)*p)) p++;
                        while (isalpha((unsigned char)*q)) q++;
                }
                if (q == b)
                        return num ? 1 : -1;
                if (num) {
                        while (*a == '0') a++;
                        while (*b == '0') b++;
                        if (p - a != q - b)
                                return p - a > q - b ? 1 : -1;
                }
                int c = strncmp(a, b, (size_t)(p - a) < (size_t)(q - b) ? (size_t)(p - a) : (size_t)(q - b));
                if (c)
                        return c < 0 ? -1 : 1;
                if (p - a != q - b)
                        return p - a > q - b ? 1 : -1;
                a = p;
                b = q;
        }
        if (!*a && !*b)
                return 0;
        return *a ? 1 : -1;
}

/* rpm.vercmp compares [epoch:]version[-release] as rpmverCmp does */
static int evr_cmp(const char *x, const char *y)
{
        char ex[256], ey[256];
        const char *cx = strchr(x, ':'), *cy = strchr(y, ':');
        long epx = cx ? strtol(x, NULL, 10) : 0, epy = cy ? strtol(y, NULL, 10) : 0;
        char *rx, *ry;
        int c;

        if (epx != epy)
                return epx < epy ? -1 : 1;
        snprintf(ex, sizeof(ex), "%s", cx ? cx + 1 : x);
        snprintf(ey, sizeof(ey), "%s", cy ? cy + 1 : y);
        rx = strrchr(ex, '-');
        ry = strrchr(ey, '-');
        if (rx) *rx++ = 0;
        if (ry) *ry++ = 0;
        c = vercmp(ex, ey);
        if (c || !rx || !ry)
                return c;
        return vercmp(rx, ry);
}

static int R_vercmp(lua_State *L)
{
        lua_pushinteger(L, evr_cmp(luaL_checkstring(L, 1), luaL_checkstring(L, 2)));
        return 1;
}

/* rpm.next_file(): a file trigger's next path, nil at the end */
static int R_next_file(lua_State *L)
{
        char line[4096];

        if (!fgets(line, sizeof(line), stdin)) {
                lua_pushnil(L);
                return 1;
        }
        line[strcspn(line, "\n")] = 0;
        lua_pushstring(L, line);
        return 1;
}

static const luaL_Reg rpm_fns[] = {
        { "execute", R_execute }, { "expand", R_expand }, { "vercmp", R_vercmp }, { "next_file", R_next_file },
        { NULL, NULL },
};

/* ---- the run ----------------------------------------------------------------- */

static int unknown(lua_State *L)
{
        const char *table = lua_tostring(L, lua_upvalueindex(1));
        const char *name = luaL_checkstring(L, 2);

        return luaL_error(L, "%s.%s is not provided by imgtool's Lua runner (docs/scriptlets.md lists what is)",
                          table, name);
}

static void module(lua_State *L, const char *name, const luaL_Reg *fns)
{
        lua_newtable(L);
        luaL_setfuncs(L, fns, 0);
        lua_newtable(L);
        lua_pushstring(L, name);
        lua_pushcclosure(L, unknown, 1);
        lua_setfield(L, -2, "__index");
        lua_setmetatable(L, -2);
        lua_setglobal(L, name);
}

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        char chunk[8192];
        size_t n;

        if (!f || !m) {
                if (f) fclose(f);
                if (m) fclose(m);
                free(buf);
                return NULL;
        }
        fputs("local opt, arg = ...;", m);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fwrite(chunk, 1, n, m);
        fclose(f);
        return fclose(m) == 0 ? buf : NULL;
}

int main(int argc, char **argv)
{
        static const luaL_Reg libs[] = {
                { LUA_GNAME, luaopen_base }, { LUA_TABLIBNAME, luaopen_table }, { LUA_IOLIBNAME, luaopen_io },
                { LUA_OSLIBNAME, luaopen_os }, { LUA_STRLIBNAME, luaopen_string },
                { LUA_MATHLIBNAME, luaopen_math }, { LUA_UTF8LIBNAME, luaopen_utf8 }, { NULL, NULL },
        };
        lua_State *L;
        char *chunk;

        if (argc < 2 || argc > 4) {
                fprintf(stderr, "usage: imgtool-lua SCRIPT [ARG1 [ARG2]]\n");
                return 2;
        }
        chunk = slurp(argv[1]);
        if (!chunk) {
                fprintf(stderr, "imgtool-lua: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        L = luaL_newstate();
        if (!L)
                return 1;
        for (const luaL_Reg *l = libs; l->func; l++) {
                luaL_requiref(L, l->name, l->func, 1);
                lua_pop(L, 1);
        }
        module(L, "posix", posix_fns);
        module(L, "rpm", rpm_fns);
        if (chdir("/") < 0)
                return 1;
        if (luaL_loadbuffer(L, chunk, strlen(chunk), "<lua>") != 0) {
                fprintf(stderr, "invalid syntax in lua script: %s\n", lua_tostring(L, -1));
                return 1;
        }
        lua_newtable(L);        /* opt */
        lua_newtable(L);        /* arg: "<lua>", then rpm's numbers */
        lua_pushstring(L, "<lua>");
        lua_rawseti(L, -2, 1);
        for (int i = 2; i < argc; i++) {
                lua_pushinteger(L, strtol(argv[i], NULL, 10));
                lua_rawseti(L, -2, i);
        }
        if (lua_pcall(L, 2, 0, 0) != 0) {
                fflush(stdout);
                fprintf(stderr, "lua script failed: %s\n", lua_tostring(L, -1));
                return 1;
        }
        fflush(stdout);
        return 0;
}
