#include <stdio.h>

#include "cmd.h"

int cmd_ls(int argc, char **argv)
{
        fprintf(stderr, "imgtool: ls: not implemented yet\n");
        return EXIT_ERROR;
}
