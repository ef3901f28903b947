#include <stdio.h>

#include "cmd.h"

int cmd_extract(int argc, char **argv)
{
        fprintf(stderr, "imgtool: extract: not implemented yet\n");
        return EXIT_ERROR;
}
