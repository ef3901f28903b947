/* A progress line on stderr (compose --progress): one line, cut to the
 * terminal's width, redrawn in place. */
#pragma once

/* Draw line (its text, without "\r" or "\n") over the previous one. */
void progress_show(const char *line);
/* Erase the line, leaving the cursor at its start. */
void progress_end(void);
