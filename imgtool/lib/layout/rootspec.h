/* The root= spec a layout names ([Boot] Root=) and the initramfs finds the
 * root filesystem by: checked where the layout is read, so a bad one fails
 * before anything is built, and again by the initramfs builder. */
#pragma once

/* LABEL=<1..16 chars>, UUID= or PARTUUID=<8-4-4-4-12 hex>, or /dev/NAME;
 * -EINVAL with a message naming the spec otherwise. */
int rootspec_check(const char *spec);
