#include <stdio.h>

#include "cmd.h"

int cmd_keygen(int argc, char **argv)
{
        fprintf(stderr, "imgtool: keygen: not implemented yet\n");
        return EXIT_ERROR;
}
