/* What the kernel needs before it can run a program: its ELF interpreter
 * (PT_INTERP) or its "#!" interpreter.  Pure libc, no messages: imgtool-init
 * (static, PID 1) compiles this file too, to say why a program that exists
 * cannot run, and compose uses it to warn before the image is ever booted. */
#pragma once
#include <stddef.h>

/* The interpreter named by the first len bytes of a program: a dynamic
 * ELF's PT_INTERP (ELF32 or ELF64, either byte order) or a script's "#!"
 * line (its first word).  Copies it, NUL-terminated, into out.
 *   1: found;
 *   0: none (a static ELF, or not a program this recognises);
 *  -EINVAL: an ELF whose headers are malformed or lie past len;
 *  -ENAMETOOLONG: the interpreter does not fit in out. */
int elf_interpreter(const void *buf, size_t len, char *out, size_t out_size);

/* How much of a file elf_interpreter may need: the program headers and the
 * interpreter string of ordinary binaries lie in the first page or two. */
#define ELF_HEAD_BYTES 65536
