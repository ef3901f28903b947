#include <stdio.h>

#include "cmd.h"

int cmd_sign_rpm(int argc, char **argv)
{
        fprintf(stderr, "imgtool: sign-rpm: not implemented yet\n");
        return EXIT_ERROR;
}
