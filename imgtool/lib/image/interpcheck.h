/* Can the kernel start a program of a finished image?  A program whose ELF
 * interpreter (PT_INTERP) or "#!" interpreter is not in the image fails
 * with ENOENT although the program is there; compose warns about [Boot]
 * Init= before anyone boots it.  Symlinks (the merged-/usr /lib64 ->
 * usr/lib64) are followed inside the image, as the kernel would. */
#pragma once

/* Read program (an absolute path) from the ext4 image file image and
 * check its interpreter.  *missing: NULL when the program runs as far as
 * this can tell (or is not there: that is another warning), else a
 * malloc'ed "/lib64/ld-linux-x86-64.so.2 (its ELF interpreter)".  A negative
 * errno only for the image itself (unreadable) or memory. */
int interpcheck_program(const char *image, const char *program, char **missing);

struct ext4walk;
struct ext4walk_entry;
/* Look path up in the image as the kernel would, following every symlink:
 * 0 with the final entry in *e, else -ENOENT/-ELOOP/-ENOTDIR (no message). */
int interpcheck_follow(struct ext4walk *w, const char *path, struct ext4walk_entry *e);
