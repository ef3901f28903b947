#include <stdio.h>

#include "cmd.h"

int cmd_inspect(int argc, char **argv)
{
        fprintf(stderr, "imgtool: inspect: not implemented yet\n");
        return EXIT_ERROR;
}
