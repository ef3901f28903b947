/* Copying a file or a tree out of an image (imgtool extract). */
#pragma once
#include <stdbool.h>

/* PATH of IMAGE to OUT: a file to the file OUT, a folder to the tree OUT,
 * with modes, mtimes, symlinks and hard links (as root owners and device
 * nodes too; xattrs: security.ima and security.capability).  Written into
 * a temporary folder beside OUT and renamed at the end; OUT must not exist
 * unless force (then only a regular file is replaced).  OUT "-": a regular
 * file's content to standard output. */
int extract_path(const char *image, const char *path, const char *out, bool force, bool xattrs);
