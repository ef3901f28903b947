/* Where imgtool finds the files it ships beside itself: the boot harness
 * (qemu-test/run, check, guest-checks.sh) and the guest probes.
 *
 * Installed (cmake --install, ./build.sh install PREFIX), they live in
 * PREFIX/libexec/imgtool/, found relative to the running executable
 * (PREFIX/bin/imgtool), so a prefix can be moved as a whole.  Run from a
 * build tree, they are found in the source and build folders.
 * $IMGTOOL_LIBEXEC overrides both. */
#pragma once

/* The path of REL ("qemu-test/run", "guest/imgtool-guest") in the first
 * place that has it; *path is malloc'ed.  -ENOENT with a message naming
 * the places looked at. */
int datadir_find(const char *rel, char **path);
