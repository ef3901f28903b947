/* SELinux labels: security.selinux on every inode, looked up with
 * libselinux's labelling API (selabel_open on the policy's file_contexts,
 * selabel_lookup_raw per path and file type), as setfiles would label the
 * tree, but with no root, no mount and no policy loaded on the build
 * machine.
 *
 * The policy is the package set's own when it ships /etc/selinux/config
 * (SELINUXTYPE=NAME) and /etc/selinux/NAME/contexts/files/file_contexts,
 * or the folder [SELinux] Policy= names (/etc/selinux/NAME on this
 * machine). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct layout;
struct pkgset;
struct ext4img;
struct pathmap;
struct labels;
struct rpmpkg;

/* *out is NULL when there is no policy to label with (not an error). */
int labels_open(const struct layout *l, const struct pkgset *s, struct labels **out);
void labels_free(struct labels *lb);
/* SELINUXTYPE: the policy's name ("targeted", "default"). */
const char *labels_policy_name(const struct labels *lb);
/* The longest security.selinux value (with its NUL), for inode sizing. */
size_t labels_max_len(const struct labels *lb);
/* Look up every label the packages' files will need (and "/",
 * "/lost+found") ahead, on one thread per core, in the packages' order;
 * labels_lookup then answers from that table.  The packages must outlive
 * lb (labels_free stops the threads).  Labels are the same either way. */
int labels_prefetch(struct labels *lb, struct rpmpkg *const *pkgs, size_t count);
/* The label for path of type mode; NULL when the policy has none ("<<none>>").
 * Safe on any thread. */
int labels_lookup(struct labels *lb, const char *path, mode_t mode, char **con);
/* Label "/", every path compose wrote (paths) but regular files, which
 * compose labels as it writes them (labels_lookup), and /lost+found. */
int labels_apply(struct labels *lb, struct ext4img *img, struct pathmap *paths, size_t *count);
/* What the initramfs does at boot: "enforcing", "permissive" or NULL (no
 * SELinux): [SELinux] Mode=, else the SELINUX= of the set's own config. */
const char *labels_boot_mode(const struct labels *lb, const struct layout *l);
/* The binary policy (the highest policy.N of the same policy) the
 * initramfs loads; false if the policy has none. */
bool labels_binary_policy(const struct labels *lb, const void **data, size_t *len);
