/* One function per subcommand; each lives in cmd/<name>.c, parses its own
 * arguments, calls the library and prints.  Returns the process exit code. */
#pragma once

enum {
        EXIT_OK = 0,
        EXIT_VIOLATIONS = 1, /* a check ran and found problems */
        EXIT_ERROR = 2,      /* could not do the job: bad input, usage, I/O */
};

int cmd_keygen(int argc, char **argv);
int cmd_sign_rpm(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_compose(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_manifest(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_initramfs(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_ipe_policy(int argc, char **argv);
int cmd_kconfig(int argc, char **argv);
int cmd_ima_log(int argc, char **argv);
int cmd_reference(int argc, char **argv);
int cmd_keylime_policy(int argc, char **argv);
int cmd_attest(int argc, char **argv);
int cmd_pcrs(int argc, char **argv);

/* Print "imgtool: <msg>" for the current library error and return EXIT_ERROR. */
int cmd_fail(void);
