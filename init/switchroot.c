/* imgtool-init (init.c): Switching root: mounting the image, moving over to
 * it, leaving nothing of the initramfs.
 *
 * Not a translation unit of its own: init.c includes it, in the order
 * the functions always had, so init stays one file for the compiler
 * (the same /init, bytes and all, as before the split). */

/* ---- switching root -------------------------------------------------- */

static void mount_root(const struct config *c)
{
        char dev[256];
        unsigned long flags = c->rw ? 0 : MS_RDONLY;

        wait_for_device("root", spec_matches, c->root, dev, sizeof(dev));
        if (mount(dev, NEWROOT, "ext4", flags, NULL) < 0)
                die("cannot mount %s (%s) on %s as ext4: %s", c->root, dev, NEWROOT, strerror(errno));
        say("root %s (%s) mounted %s", c->root, dev, c->rw ? "read-write" : "read-only");
}

static void move_to_newroot(const char *from)
{
        char to[256];
        snprintf(to, sizeof(to), NEWROOT "%s", from);
        if (mount(from, to, NULL, MS_MOVE, NULL) < 0) {
                say("warning: cannot move %s to %s: %s", from, to, strerror(errno));
                umount2(from, MNT_DETACH);
        }
}

/* Scriptlets=run: the Lua runner the initramfs carries goes into the
 * (read-write, throw-away) root, where the runner disk's script calls it. */
static void copy_lua_runner(void)
{
        size_t len = 0;
        char *data = read_file(LUA_RUNNER, &len);
        int fd;

        if (!data)
                return;
        fd = open(NEWROOT LUA_RUNNER_COPY, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        if (fd < 0 || write(fd, data, len) != (ssize_t)len)
                say("warning: cannot copy the Lua runner to the root: %s", strerror(errno));
        if (fd >= 0)
                close(fd);
        free(data);
        unlink(LUA_RUNNER);
}

/* Free the initramfs memory we know about; the rest is tiny. */
static void remove_initramfs_files(void)
{
        DIR *d = opendir(KEY_DIR);
        struct dirent *e;
        if (d) {
                while ((e = readdir(d)))
                        if (e->d_name[0] != '.')
                                unlinkat(dirfd(d), e->d_name, 0);
                closedir(d);
        }
        rmdir(KEY_DIR);
        unlink(CONF_PATH);
        unlink(POLICY_PATH);
        unlink(MODULE_LIST);
        unlink(IPE_POLICY_PATH);
        rmdir("/etc/imgtool");
        unlink("/init");
}

static void switch_root(void)
{
        move_to_newroot("/dev");
        move_to_newroot("/proc");
        move_to_newroot("/sys");
        remove_initramfs_files();
        if (chdir(NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 ||
            chroot(".") < 0 || chdir("/") < 0)
                die("cannot switch to the new root: %s", strerror(errno));
}
