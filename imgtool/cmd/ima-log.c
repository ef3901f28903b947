#include <stdio.h>

#include "cmd.h"

int cmd_ima_log(int argc, char **argv)
{
        fprintf(stderr, "imgtool: ima-log: not implemented yet\n");
        return EXIT_ERROR;
}
