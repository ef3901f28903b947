/* The sha256 of a whole file, read in 64 KiB pieces (packages, lockfile
 * digests, boot files): the one place imgtool hashes a file by path. */
#pragma once

/* Lower-case hex into hex[65]; a message naming path on errors. */
int filehash_sha256(const char *path, char hex[65]);
/* The same of an open file, from its start (path: for messages): a file
 * checked once and then read on the same descriptor. */
int filehash_sha256_fd(int fd, const char *path, char hex[65]);
/* The same with the digest OpenSSL knows as md_name ("SHA256", "SHA384",
 * "SHA512"): *hex malloc'ed lower-case hex; the file is left at its start.
 * OpenSSL's digests use the CPU's SHA extensions where it has them. */
int filehash_hex_fd(int fd, const char *path, const char *md_name, char **hex);
