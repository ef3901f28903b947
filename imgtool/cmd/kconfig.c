#include <stdio.h>

#include "cmd.h"

int cmd_kconfig(int argc, char **argv)
{
        fprintf(stderr, "imgtool: kconfig: not implemented yet\n");
        return EXIT_ERROR;
}
