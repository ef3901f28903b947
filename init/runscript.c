/* imgtool-init (init.c): After the switch: the runner's script run under
 * /bin/sh, its status printed, the machine off.
 *
 * Not a translation unit of its own: init.c includes it, in the order
 * the functions always had, so init stays one file for the compiler
 * (the same /init, bytes and all, as before the split). */

/* ---- after the switch ------------------------------------------------ */

static char *const shell_env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root", "TERM=linux", "LANG=C", NULL,
};

static void set_raw(int fd)
{
        struct termios t;
        if (tcgetattr(fd, &t) == 0) {
                cfmakeraw(&t);
                tcsetattr(fd, TCSANOW, &t);
        }
}

/* The script's output: a raw device (byte-exact for the harness), or the
 * console as controlling terminal so an interactive shell gets ^C. */
static void setup_child_stdio(const struct config *c)
{
        setsid();
        if (c->out[0]) {
                int fd = open(c->out, O_RDWR | O_NOCTTY);
                if (fd < 0) {
                        say("cannot open %s: %s", c->out, strerror(errno));
                        _exit(125);
                }
                set_raw(fd);
                int null = open("/dev/null", O_RDONLY);
                if (null >= 0)
                        dup2(null, 0);
                dup2(fd, 1);
                dup2(fd, 2);
                return;
        }
        char active[64] = "console", tty[80];
        char *name = read_file("/sys/class/tty/console/active", NULL);
        if (name) {
                /* "tty0 ttyS0": the last one is the one that takes input */
                char *last = strrchr(name, ' ');
                snprintf(active, sizeof(active), "%s", last ? last + 1 : name);
                active[strcspn(active, "\n")] = 0;
                free(name);
        }
        snprintf(tty, sizeof(tty), "/dev/%s", active);
        int fd = open(tty, O_RDWR);
        if (fd < 0)
                return;
        ioctl(fd, TIOCSCTTY, 1);
        for (int i = 0; i < 3; i++)
                dup2(fd, i);
        if (fd > 2)
                close(fd);
}

static int run_script(const struct config *c, const char *script)
{
        pid_t child = fork();
        int status;

        if (child < 0)
                die("fork: %s", strerror(errno));
        if (child == 0) {
                setup_child_stdio(c);
                char *argv[] = { "sh", "-c", (char *)script, NULL };
                /* One argument holds at most 128 KiB (MAX_ARG_STRLEN): a
                 * longer script goes to a file on /dev (memory, never the
                 * root disk) and sh reads it from there. */
                if (strlen(script) > RUN_ARG_MAX) {
                        int fd = open(RUN_SCRIPT_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                        if (fd < 0 || write(fd, script, strlen(script)) != (ssize_t)strlen(script)) {
                                fprintf(stderr, "imgtool-init: cannot write %s: %s\n", RUN_SCRIPT_FILE,
                                        strerror(errno));
                                _exit(126);
                        }
                        close(fd);
                        argv[1] = RUN_SCRIPT_FILE;
                        argv[2] = NULL;
                }
                execve("/bin/sh", argv, shell_env);
                fprintf(stderr, "imgtool-init: cannot run /bin/sh: %s\n", strerror(errno));
                _exit(126);
        }
        /* As PID 1 we also reap orphans until our child is done. */
        for (;;) {
                pid_t p = wait(&status);
                if (p == child)
                        break;
                if (p < 0 && errno != EINTR)
                        die("wait: %s", strerror(errno));
        }
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

static void finish_runner(const struct config *c, int status)
{
        char marker[64];
        int n = snprintf(marker, sizeof(marker), "\nIMGTOOL-EXIT=%d\n", status);

        kill(-1, SIGKILL);
        sync();
        if (c->rw)
                mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
        if (write(STDOUT_FILENO, marker, (size_t)n) < 0)
                say("IMGTOOL-EXIT=%d", status);
        power_off();
}
