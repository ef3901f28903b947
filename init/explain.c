/* imgtool-init (init.c): Why a program cannot run: the kernel's ENOENT and
 * EACCES put into words.
 *
 * Not a translation unit of its own: init.c includes it, in the order
 * the functions always had, so init stays one file for the compiler
 * (the same /init, bytes and all, as before the split). */

/* ---- why a program cannot run ---------------------------------------- */

/* ENOENT for a program that is there: the kernel could not open what the
 * program names, its ELF interpreter (PT_INTERP) or its "#!" interpreter. */
static void explain_enoent(const char *prog, char *why, size_t size)
{
        static char head[ELF_HEAD_BYTES];
        char interp[256];
        ssize_t n = -1;
        int fd = open(prog, O_RDONLY | O_CLOEXEC), r = 0;

        if (fd >= 0) {
                n = read(fd, head, sizeof(head));
                close(fd);
        }
        if (n > 0)
                r = elf_interpreter(head, (size_t)n, interp, sizeof(interp));
        if (r == 1 && access(interp, F_OK) < 0)
                snprintf(why, size, "the program is there, but its %s interpreter %s is not in the image: "
                         "install it, or the link that should lead to it (merged /usr: /lib64 -> usr/lib64)",
                         head[0] == '#' ? "#!" : "ELF", interp);
        else
                snprintf(why, size, "the program is there, but something the kernel needs to start it "
                         "is missing%s%s", r == 1 ? "; its interpreter is " : "", r == 1 ? interp : "");
}

/* EACCES: the mode, or IMA appraisal, which refuses a program without a
 * valid signature from a key in the _ima keyring (the kernel's audit line
 * "appraise_data" above names the file it refused). */
static void explain_eacces(const char *prog, char *why, size_t size)
{
        struct stat st;
        char sig[8];

        if (stat(prog, &st) == 0 && (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)))
                snprintf(why, size, "not an executable file (mode %04o)", (unsigned)(st.st_mode & 07777));
        else if (getxattr(prog, "security.ima", sig, sizeof(sig)) < 0 && errno == ENODATA)
                snprintf(why, size, "IMA appraisal refused it: it has no security.ima signature");
        else
                snprintf(why, size, "IMA appraisal refused it or its interpreter: a signature not made by a "
                         "key in the _ima keyring, or content changed since it was signed");
}

static void explain_exec_failure(const char *prog, int err, char *why, size_t size)
{
        struct stat st;

        if (err == ENOENT && lstat(prog, &st) < 0)
                snprintf(why, size, "the image has no such program: install one, or set [Boot] Init=");
        else if (err == ENOENT)
                explain_enoent(prog, why, size);
        else if (err == EACCES)
                explain_eacces(prog, why, size);
        else if (err == ENOEXEC)
                snprintf(why, size, "the kernel cannot run this format: another architecture, or a script without #!");
        else
                snprintf(why, size, "execve failed");
}
