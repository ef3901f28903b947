#include <stdio.h>

#include "cmd.h"

int cmd_verify(int argc, char **argv)
{
        fprintf(stderr, "imgtool: verify: not implemented yet\n");
        return EXIT_ERROR;
}
