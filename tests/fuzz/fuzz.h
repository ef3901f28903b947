/* Shared by the fuzz harnesses: the libFuzzer entry points and a way to
 * hand the input to code that opens files by path. */
#pragma once
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input as a file: a memfd, its path "/proc/self/fd/N" in path (64
 * bytes).  Returns the fd (close it when done) or -1. */
int fuzz_memfd(const uint8_t *data, size_t size, char *path);
