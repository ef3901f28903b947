#include <stdio.h>

#include "cmd.h"

int cmd_manifest(int argc, char **argv)
{
        fprintf(stderr, "imgtool: manifest: not implemented yet\n");
        return EXIT_ERROR;
}
