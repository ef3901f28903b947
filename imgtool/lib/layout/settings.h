/* The layout keys, in one table (settings.c), as mkosi's ConfigSetting: each
 * key's section, name, value type, default, choices and help.  From it come
 * the parser (layout.c), `imgtool summary`, init-layout's comments, `imgtool
 * help layout`, the man page imgtool-layout(5) and the key tables of
 * layouts/README.md (tests/layout-doc.py keeps them equal).
 *
 * Adding a key: a field in struct layout (layout.h), a row below in
 * settings.c (the section's rows stay together; the order is the order of
 * summary and the docs), then `python3 tests/layout-doc.py build/imgtool
 * layouts/README.md --update`. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum layout_type {
        LAYOUT_TEXT,        /* one line of text */
        LAYOUT_PATH,        /* a file or folder on this machine, relative to the layout's folder */
        LAYOUT_IMAGE_PATH,  /* an absolute path inside the image */
        LAYOUT_LIST,        /* words separated by spaces */
        LAYOUT_PATH_LIST,   /* paths separated by spaces, each relative to the layout's folder */
        LAYOUT_BOOL,        /* yes or no */
        LAYOUT_ENUM,        /* one of .choices */
        LAYOUT_SIZE,        /* bytes with a suffix, or auto */
        LAYOUT_INODE_SIZE,  /* auto or a power of two */
        LAYOUT_EPOCH,       /* seconds since 1970 */
        LAYOUT_LABEL,       /* an ext4 label */
        LAYOUT_ROOT,        /* a root= spec */
        LAYOUT_SALT,        /* hex bytes */
};

/* A value of an enum key and the number stored for it (an enum field of
 * struct layout). */
struct layout_choice {
        const char *name;
        int value;
};

struct layout_setting {
        const char *section, *key;
        enum layout_type type;
        size_t offset;                       /* of the field in struct layout */
        const struct layout_choice *choices; /* LAYOUT_ENUM: {}-terminated */
        const char *value_default;           /* parsed before the file is read; NULL: unset */
        const char *default_doc;             /* the default in words, where value_default cannot say it */
        const char *comment;                 /* one line: the comment init-layout writes above the key */
        const char *help;                    /* the reference: Markdown inline text (`code`), no '|' */
};

struct layout_section {
        const char *name;
        const char *help;                    /* a paragraph, for the man page */
};

extern const struct layout_setting layout_settings[];
extern const size_t layout_settings_count;
extern const struct layout_section layout_sections[]; /* {}-terminated, in order */
/* The rules of the syntax, one sentence each (NULL-terminated). */
extern const char *const layout_syntax_rules[];

/* The key, or NULL; *section_known says whether the section exists. */
const struct layout_setting *layout_setting_find(const char *section, const char *key, bool *section_known);
/* What a value looks like, as Markdown inline text ("`ext4` or `disk`", "path"). */
const char *layout_type_doc(const struct layout_setting *s, char *buf, size_t size);
/* The default as Markdown inline text ("`auto`", "none"). */
const char *layout_default_doc(const struct layout_setting *s, char *buf, size_t size);
