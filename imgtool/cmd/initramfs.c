#include <stdio.h>

#include "cmd.h"

int cmd_initramfs(int argc, char **argv)
{
        fprintf(stderr, "imgtool: initramfs: not implemented yet\n");
        return EXIT_ERROR;
}
