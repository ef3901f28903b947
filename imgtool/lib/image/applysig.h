/* imgtool apply-signatures: the second half of two-phase signing
 * (ima/sigreq.h).  Stamps every signature of a response into the image a
 * deferred compose wrote, in place, after checking, before writing
 * anything, that the response answers this very image (its SHA-256 and
 * size), that each signature verifies with the request's certificate, that
 * every placeholder of the image has its signature and every signature its
 * placeholder, and that each file's xattrs sit inside its inode.  A refusal
 * is one message and leaves the image untouched. */
#pragma once
#include <stddef.h>

struct applysig_result {
        size_t files;        /* inodes stamped */
        size_t signatures;   /* distinct signatures in the response */
};

int applysig_run(const char *image, const char *response, struct applysig_result *res);
