#include <stdio.h>

#include "cmd.h"

int cmd_policy(int argc, char **argv)
{
        fprintf(stderr, "imgtool: policy: not implemented yet\n");
        return EXIT_ERROR;
}
