/* imgtool-init: PID 1 of imgtool's initramfs.
 *
 * Loads the IMA certs into a locked _ima keyring and the IMA policy, then
 * mounts the image and hands over to its /sbin/init.  Every failure stops
 * the machine with a line on the console saying why: the system never runs
 * without enforcement.  Static, no shell, no libraries beyond libc.
 *
 * Files it reads come from `imgtool initramfs` (imgtool/lib/boot/initramfs.h).
 * Kernel parameters (honoured only if the initramfs was made with
 * --cmdline-test, because the runner executes a script as root):
 *   imgtool.test=1         printk_ratelimit=0 so every IMA audit line is kept
 *   imgtool.run=auto|DEV   after switching root, run the script stored on a
 *                          runner disk (found by its header, or DEV) with
 *                          /bin/sh -c, print IMGTOOL-EXIT=<status>, power off
 *   imgtool.run=auto-if-present  the same when a runner disk shows up within
 *                          RUN_PROBE_SECONDS of the root, else boot on: what a
 *                          test UKI carries in its fixed .cmdline
 *   imgtool.out=DEV        the script's stdout/stderr go to DEV (raw), e.g.
 *                          /dev/ttyS1; default: the console, with a
 *                          controlling terminal (interactive use)
 *
 * The parts, one concern each, are included below in the order their
 * functions have always had: log.c (messages, stopping), sys.c (syscalls,
 * files, mounts), config.c, modules.c, ima.c, rootdev.c, rundisk.c,
 * selinux.c, switchroot.c, runscript.c, explain.c; main() stays here.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/elf.h"

#define CONF_PATH "/etc/imgtool/init.conf"
#define POLICY_PATH "/etc/imgtool/ima-policy"
#define KEY_DIR "/etc/imgtool/keys"
#define MODULE_LIST "/etc/imgtool/modules"
#define LUA_RUNNER "/etc/imgtool/lua"                     /* INITRAMFS_LUA_RUNNER */
#define LUA_RUNNER_COPY "/.imgtool-scriptlet-mark.lua"     /* INITRAMFS_LUA_RUNNER_COPY */
#define MODULE_DIR "/lib/modules"
#define IMA_POLICY "/sys/kernel/security/ima/policy"
#define IPE_POLICY_PATH "/etc/imgtool/ipe-policy.p7s"
#define IPE_DIR "/sys/kernel/security/ipe"
#define VERITY_REQUIRE_SIGS "/proc/sys/fs/verity/require_signatures"
#define NEWROOT "/newroot"
#define SELINUX_POLICY_PATH "/etc/imgtool/selinux-policy"
#define RUN_MAGIC "IMGTOOL-RUN-V1\n"   /* 16 bytes with the NUL */
#define RUN_HEADER 512
#define RUN_MAX (16u << 20)
#define RUN_ARG_MAX (120u << 10)        /* below MAX_ARG_STRLEN, with the environment */
#define RUN_SCRIPT_FILE "/dev/.imgtool-run-script"
#define ROOT_WAIT_SECONDS 30
#define RUN_PROBE_SECONDS 2

struct config {
        char root[256];
        char init[256];
        bool rw;
        bool cmdline_test;
        char selinux[16];        /* "enforcing", "permissive", or "" (none) */
        bool verity_keyring;     /* certs into .fs-verity, require_signatures=1 */
        char ipe_policy[64];     /* name of the signed IPE policy to load and activate */
        /* from the kernel command line, test images only */
        bool test;
        char run[256];
        char out[256];
};

/* The parts, in this order (each uses what the ones before it define). */
#include "log.c"
#include "sys.c"
#include "config.c"
#include "modules.c"
#include "ima.c"
#include "rootdev.c"
#include "rundisk.c"
#include "selinux.c"
#include "switchroot.c"
#include "runscript.c"
#include "explain.c"

int main(void)
{
        struct config c = { 0 };
        char *script = NULL;

        if (getpid() != 1)
                die("must run as PID 1 from the initramfs");
        mount_pseudo_filesystems();
        ensure_console();
        read_config(&c);
        read_cmdline(&c);
        if (c.test)
                write_file("/proc/sys/kernel/printk_ratelimit", "0");
        load_modules();
        setup_ima_keyring();
        load_selinux(&c);
        if (c.verity_keyring)
                setup_verity_keyring();
        if (c.ipe_policy[0])
                load_ipe_policy(c.ipe_policy);
        /* without appraise rules only where fs-verity's signatures enforce */
        load_policy(c.verity_keyring);
        mkdir(NEWROOT, 0755);
        mount_root(&c);
        if (c.run[0]) {
                script = read_run_script(c.run);
                copy_lua_runner();
        }
        switch_root();
        if (script)
                finish_runner(&c, run_script(&c, script));
        const char *init = c.init[0] ? c.init : "/sbin/init";
        char *argv[] = { (char *)init, NULL };
        execve(init, argv, shell_env);
        int err = errno;
        char why[512];
        explain_exec_failure(init, err, why, sizeof(why));
        die("cannot run %s: %s (%s)", init, strerror(err), why);
}
