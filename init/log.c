/* imgtool-init (init.c): Messages on the console, and stopping the machine
 * when enforcement cannot be set up.
 *
 * Not a translation unit of its own: init.c includes it, in the order
 * the functions always had, so init stays one file for the compiler
 * (the same /init, bytes and all, as before the split). */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
        va_list ap;
        char line[1024];
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n > sizeof(line) - 2)
                n = sizeof(line) - 2;
        line[n++] = '\n';
        if (write(STDERR_FILENO, "imgtool-init: ", 14) < 0 || write(STDERR_FILENO, line, (size_t)n) < 0)
                return;
}

static void power_off(void)
{
        sync();
        reboot(RB_POWER_OFF);
        for (;;)
                pause();
}

/* Never continue without enforcement: explain, then stop the machine. */
static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
        va_list ap;
        char msg[1024];

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        say("FATAL: %s", msg);
        say("IMGTOOL-INIT-FAILED: powering off");
        power_off();
        __builtin_unreachable();
}
