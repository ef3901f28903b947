/* imgtool-guest attest (attest.c): argv after "attest". */
#pragma once
int attest_main(int argc, char **argv);
