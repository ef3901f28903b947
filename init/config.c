/* imgtool-init (init.c): What init is told: /etc/imgtool/init.conf (from
 * `imgtool initramfs`) and the kernel command line.
 *
 * Not a translation unit of its own: init.c includes it, in the order
 * the functions always had, so init stays one file for the compiler
 * (the same /init, bytes and all, as before the split). */

static void copy_value(char *dst, size_t size, const char *v, size_t n)
{
        if (n >= size)
                die("configuration value too long: %.40s...", v);
        memcpy(dst, v, n);
        dst[n] = 0;
}

static void read_config(struct config *c)
{
        char *text = read_file(CONF_PATH, NULL), *line, *next;

        if (!text)
                die("%s: %s (not an imgtool initramfs?)", CONF_PATH, strerror(errno));
        for (line = text; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (*line == '#' || *line == 0)
                        continue;
                char *eq = strchr(line, '=');
                if (!eq)
                        die("%s: bad line '%s'", CONF_PATH, line);
                *eq = 0;
                const char *v = eq + 1;
                if (!strcmp(line, "root"))
                        copy_value(c->root, sizeof(c->root), v, strlen(v));
                else if (!strcmp(line, "rw"))
                        c->rw = !strcmp(v, "1");
                else if (!strcmp(line, "init"))
                        copy_value(c->init, sizeof(c->init), v, strlen(v));
                else if (!strcmp(line, "cmdline_test"))
                        c->cmdline_test = !strcmp(v, "1");
                else if (!strcmp(line, "selinux"))
                        copy_value(c->selinux, sizeof(c->selinux), v, strlen(v));
                else if (!strcmp(line, "verity_keyring"))
                        c->verity_keyring = !strcmp(v, "1");
                else if (!strcmp(line, "ipe_policy"))
                        copy_value(c->ipe_policy, sizeof(c->ipe_policy), v, strlen(v));
                else
                        die("%s: unknown key '%s'", CONF_PATH, line);
        }
        free(text);
        if (!c->root[0])
                die("%s: no root=", CONF_PATH);
}

static void read_cmdline(struct config *c)
{
        char *cmdline = read_file("/proc/cmdline", NULL);
        if (!cmdline)
                die("/proc/cmdline: %s", strerror(errno));
        for (char *p = cmdline; *p;) {
                size_t n = strcspn(p, " \t\n");
                bool ours = !strncmp(p, "imgtool.", 8);
                /* ima_appraise=log/fix/off would turn enforcement into a log
                 * line; only a test initramfs may boot like that. */
                if (!strncmp(p, "ima_appraise=", 13) && strncmp(p, "ima_appraise=enforce", n) &&
                    !c->cmdline_test)
                        die("refusing '%.*s' on the kernel command line: IMA must enforce", (int)n, p);
                if (ours && !c->cmdline_test) {
                        say("ignoring '%.*s': this initramfs was made without --cmdline-test (layout: [Boot] TestHooks=yes)", (int)n, p);
                } else if (ours && !strncmp(p, "imgtool.test=", 13)) {
                        c->test = p[13] == '1';
                } else if (ours && !strncmp(p, "imgtool.run=", 12)) {
                        copy_value(c->run, sizeof(c->run), p + 12, n - 12);
                } else if (ours && !strncmp(p, "imgtool.out=", 12)) {
                        copy_value(c->out, sizeof(c->out), p + 12, n - 12);
                }
                p += n;
                p += strspn(p, " \t\n");
        }
        free(cmdline);
}
