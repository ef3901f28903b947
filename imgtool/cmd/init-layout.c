#include "cmd.h"
const struct cmd_spec cmd_init_layout_spec = { .name = "init-layout", .synopsis = "DIR", .summary = "x", .exits = CMD_EXITS_DEFAULT, .run = cmd_init_layout };
int cmd_init_layout(int argc, char **argv) { return 2; }
