/* NULL-terminated vectors of malloc'ed strings (layout lists, report lines). */
#pragma once
#include <stddef.h>

size_t strv_length(char *const *v);
void strv_free(char **v);
/* Append s, taking ownership (freed on failure).  -ENOMEM on failure. */
int strv_push(char ***v, char *s);
/* Append a formatted string. */
int strv_pushf(char ***v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Is s in v? */
int strv_contains(char *const *v, const char *s);
