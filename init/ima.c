/* imgtool-init (init.c): IMA: the keyrings (_ima, .fs-verity), the IPE
 * policy, the IMA policy.
 *
 * Not a translation unit of its own: init.c includes it, in the order
 * the functions always had, so init stays one file for the compiler
 * (the same /init, bytes and all, as before the split). */

/* ---- IMA: keyring and policy ----------------------------------------- */

static int load_certs(long ring, const char *ring_name)
{
        DIR *d = opendir(KEY_DIR);
        struct dirent **names;
        int n, loaded = 0;

        if (!d)
                die("%s: %s", KEY_DIR, strerror(errno));
        closedir(d);
        n = scandir(KEY_DIR, &names, NULL, alphasort);
        if (n < 0)
                die("%s: %s", KEY_DIR, strerror(errno));
        for (int i = 0; i < n; i++) {
                char path[512];
                size_t len;
                char *der;

                if (names[i]->d_name[0] == '.')
                        goto next;
                snprintf(path, sizeof(path), "%s/%s", KEY_DIR, names[i]->d_name);
                der = read_file(path, &len);
                if (!der)
                        die("%s: %s", path, strerror(errno));
                long key = add_key("asymmetric", NULL, der, len, ring);
                if (key < 0)
                        die("cannot add %s to the %s keyring: %s (kernel lacks the key's algorithm?)",
                            path, ring_name, strerror(errno));
                free(der);
                loaded++;
        next:
                free(names[i]);
        }
        free(names);
        return loaded;
}

/* Keyrings the kernel made and linked nowhere (.fs-verity) are found the
 * way keyctl's "%:NAME" finds them: their line in /proc/keys. */
static long find_kernel_keyring(const char *name)
{
        char *text = read_file("/proc/keys", NULL), *line, *next;
        size_t n = strlen(name);
        long id = -1;

        if (!text)
                return -1;
        for (line = text; line && *line && id < 0; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                /* "3a1b2c4d I--Q---     1 perm 1f0b0000     0     0 keyring   .fs-verity: empty" */
                char *type = strstr(line, " keyring ");
                if (!type)
                        continue;
                char *desc = type + 9;
                desc += strspn(desc, " ");
                if (!strncmp(desc, name, n) && desc[n] == ':')
                        id = strtol(line, NULL, 16);
        }
        free(text);
        return id;
}

/* fs-verity builtin signatures: the certs go into .fs-verity, nothing can
 * be added afterwards, and files without a valid signature cannot be
 * opened. */
static void setup_verity_keyring(void)
{
        long ring = find_kernel_keyring(".fs-verity");
        if (ring < 0)
                die("no .fs-verity keyring in /proc/keys (kernel without CONFIG_FS_VERITY_BUILTIN_SIGNATURES?)");
        int n = load_certs(ring, ".fs-verity");
        if (n == 0)
                die("no certificate in %s", KEY_DIR);
        if (keyctl(KEYCTL_RESTRICT_KEYRING, (unsigned long)ring, 0, 0) < 0)
                die("cannot restrict the .fs-verity keyring: %s", strerror(errno));
        if (keyctl(KEYCTL_SETPERM, (unsigned long)ring, 0x0b0b0000UL, 0) < 0)
                die("cannot lock the .fs-verity keyring: %s", strerror(errno));
        int fd = open(VERITY_REQUIRE_SIGS, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "1", 1) != 1)
                die("cannot set %s: %s", VERITY_REQUIRE_SIGS, strerror(errno));
        close(fd);
        say("%d key(s) in the .fs-verity keyring, keyring locked, signatures required", n);
}

/* IPE: the signed policy (checked by the kernel against the secondary and
 * platform keyrings), then activated.  Without it nothing would be
 * enforced, so any failure stops the machine. */
static void load_ipe_policy(const char *name)
{
        size_t len;
        char *der = read_file(IPE_POLICY_PATH, &len), path[256];
        int fd;

        if (!der)
                die("%s: %s", IPE_POLICY_PATH, strerror(errno));
        fd = open(IPE_DIR "/new_policy", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                die(IPE_DIR "/new_policy: %s (kernel without IPE, or ipe not in lsm=?)", strerror(errno));
        if (write(fd, der, len) != (ssize_t)len)
                die("the kernel refused the IPE policy: %s (signed by a key outside the secondary/platform keyrings?)",
                    strerror(errno));
        close(fd);
        free(der);
        snprintf(path, sizeof(path), IPE_DIR "/policies/%s/active", name);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "1", 1) != 1)
                die("cannot activate IPE policy %s: %s", name, strerror(errno));
        close(fd);
        say("IPE policy %s loaded and active", name);
}

/* The kernel looks the keyring up by name ("_ima") in the user keyring of
 * the first appraised process (root), so it lives in root's user keyring. */
static void setup_ima_keyring(void)
{
        long user = keyctl(KEYCTL_GET_KEYRING_ID, (unsigned long)KEY_SPEC_USER_KEYRING, 1, 0);
        if (user < 0)
                die("cannot get root's user keyring: %s", strerror(errno));
        long ring = add_key("keyring", "_ima", NULL, 0, user);
        if (ring < 0)
                die("cannot create the _ima keyring: %s", strerror(errno));
        int n = load_certs(ring, "_ima");
        if (n == 0)
                die("no certificate in %s", KEY_DIR);
        /* No restriction type: nothing can be linked in any more. */
        if (keyctl(KEYCTL_RESTRICT_KEYRING, (unsigned long)ring, 0, 0) < 0)
                die("cannot restrict the _ima keyring: %s", strerror(errno));
        /* possessor and user: view, read, search; no write, no setattr */
        if (keyctl(KEYCTL_SETPERM, (unsigned long)ring, 0x0b0b0000UL, 0) < 0)
                die("cannot lock the _ima keyring: %s", strerror(errno));
        say("%d key(s) in the _ima keyring, keyring locked", n);
}

static bool has_appraise_rule(const char *text)
{
        for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                line += strspn(line, " \t");
                if (!strncmp(line, "appraise", 8) && (line[8] == ' ' || line[8] == '\t'))
                        return true;
        }
        return false;
}

/* The kernels this targets accept one policy write per boot, so the whole
 * text goes in with one open; a rule the kernel rejects fails the write. */
static void load_policy(bool other_enforcement)
{
        size_t len, done = 0;
        char *text = read_file(POLICY_PATH, &len);
        int fd;

        if (!text)
                die("%s: %s", POLICY_PATH, strerror(errno));
        if (!has_appraise_rule(text) && !other_enforcement)
                die("%s has no appraise rule: nothing would be enforced", POLICY_PATH);
        if (access("/sys/kernel/security/ima", F_OK) < 0)
                die("the kernel has no IMA (/sys/kernel/security/ima missing)");
        fd = open(IMA_POLICY, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                die("%s: %s (policy already loaded?)", IMA_POLICY, strerror(errno));
        while (done < len) {
                ssize_t n = write(fd, text + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        die("the kernel rejected the IMA policy: %s (see dmesg for the rule)",
                            n < 0 ? strerror(errno) : "short write");
                done += (size_t)n;
        }
        if (close(fd) < 0)
                die("the kernel rejected the IMA policy on close: %s", strerror(errno));
        free(text);
        say("IMA policy loaded (%zu bytes)", len);
}
