#include <stdio.h>

#include "cmd.h"

int cmd_compose(int argc, char **argv)
{
        fprintf(stderr, "imgtool: compose: not implemented yet\n");
        return EXIT_ERROR;
}
