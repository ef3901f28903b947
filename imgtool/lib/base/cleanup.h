/* What an interrupted run must not leave behind.
 *
 * Every temporary file or folder imgtool makes is registered here while it
 * exists; SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGPIPE remove all of them
 * (and kill a registered helper process first), then end the process with
 * the signal as before.  The handler uses only async-signal-safe system
 * calls (unlink, rmdir, getdents64, kill, waitpid), so it may interrupt
 * anything.
 *
 * Scratch folders (the rpm database, the dependency check's empty root) are
 * made under $TMPDIR, or /dev/shm (then /tmp) when TMPDIR is unset: point
 * TMPDIR at a folder to keep all of imgtool's scratch there. */
#pragma once
#include <sys/types.h>

/* Install the handlers (main() does, once). */
void cleanup_install_handlers(void);
/* In a forked child: back to the default actions, so the child never
 * removes the parent's files. */
void cleanup_reset_in_child(void);

/* Register a file (removed with unlink) or a folder (removed with all it
 * holds) until it is unregistered; any number of them. */
int cleanup_add_file(const char *path);
int cleanup_add_tree(const char *path);
void cleanup_remove(const char *path);
/* A child process to kill (SIGKILL) and reap before the files are removed. */
void cleanup_add_child(pid_t pid);
void cleanup_remove_child(pid_t pid);

/* The folder scratch goes in: $TMPDIR, else /dev/shm, else /tmp. */
const char *scratch_base(void);
/* Make PREFIX.XXXXXX under scratch_base(), registered as a tree; *out is
 * malloc'ed.  scratch_dir_remove() removes it whole and unregisters it. */
int scratch_dir_make(const char *prefix, char **out);
void scratch_dir_remove(const char *dir);
/* Remove a folder and everything in it (no symlink is followed). */
int remove_tree(const char *path);
