/* progress: the terminal progress line (compose --progress), drawn in place on stderr. */
#include "base/progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* One line, cut to the terminal's width, redrawn in place. */
void progress_show(const char *text)
{
        struct winsize ws;
        char line[512];
        int cols = 80;

        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
                cols = ws.ws_col;
        snprintf(line, sizeof(line), "%s", text);
        if (cols - 1 < (int)sizeof(line))
                line[cols - 1] = 0; /* never wrap: a wrapped line is not redrawn by \r */
        fprintf(stderr, "\r\033[K%s", line);
        fflush(stderr);
}

void progress_end(void)
{
        fprintf(stderr, "\r\033[K");
}
