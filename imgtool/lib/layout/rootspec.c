#include "layout/rootspec.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "base/util.h"

int rootspec_check(const char *spec)
{
        /* one line of init.conf: no control character, no space */
        for (const char *p = spec; *p; p++)
                if ((unsigned char)*p < 0x21 || *p == 0x7f)
                        return imgerr(-EINVAL, "root spec contains a space or control character (byte 0x%02x)",
                                      (unsigned char)*p);
        if (!strncmp(spec, "LABEL=", 6)) {
                size_t n = strlen(spec + 6);
                if (n == 0 || n > 16)
                        return imgerr(-EINVAL, "root '%s': an ext4 label has 1 to 16 characters", spec);
                return 0;
        }
        if (!strncmp(spec, "UUID=", 5) || !strncmp(spec, "PARTUUID=", 9)) {
                const char *u = strchr(spec, '=') + 1;
                static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
                bool ok = strlen(u) == sizeof(pattern) - 1;
                for (size_t i = 0; ok && pattern[i]; i++)
                        ok = pattern[i] == '-' ? u[i] == '-' : isxdigit((unsigned char)u[i]);
                if (!ok)
                        return imgerr(-EINVAL, "root '%s': want %.*sxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", spec,
                                      (int)(u - spec), spec);
                return 0;
        }
        if (!strncmp(spec, "/dev/", 5) && spec[5] && !strchr(spec, '\n'))
                return 0;
        return imgerr(-EINVAL, "root '%s': want LABEL=NAME, UUID=UUID, PARTUUID=UUID or /dev/NAME", spec);
}
