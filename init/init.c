/* imgtool-init: placeholder until the boot work lands. */
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
        fprintf(stderr, "imgtool-init: not implemented yet\n");
        sync();
        reboot(RB_POWER_OFF);
        return 1;
}
