/* The layout keys, in one table: see settings.h.  The help texts are the key
 * reference of layouts/README.md and imgtool-layout(5). */
#include "layout/settings.h"

#include <stdio.h>
#include <string.h>


/* Enum fields are stored as int (parse_enum in layout.c). */
_Static_assert(sizeof(enum layout_format) == sizeof(int), "enum layout_format is an int");
_Static_assert(sizeof(enum layout_scriptlets) == sizeof(int), "enum layout_scriptlets is an int");
_Static_assert(sizeof(enum layout_selinux_mode) == sizeof(int), "enum layout_selinux_mode is an int");
_Static_assert(sizeof(enum layout_sigmode) == sizeof(int), "enum layout_sigmode is an int");
_Static_assert(sizeof(enum layout_verity_sigs) == sizeof(int), "enum layout_verity_sigs is an int");

static const struct layout_choice formats[] = {
        { "ext4", FORMAT_EXT4 }, { "disk", FORMAT_DISK }, {}
};
static const struct layout_choice scriptlets[] = {
        { "error", SCRIPTLETS_ERROR }, { "skip", SCRIPTLETS_SKIP }, { "run", SCRIPTLETS_RUN }, {}
};
static const struct layout_choice scriptlet_checks[] = {
        { "no", SCRIPTLET_CHECK_NO }, { "warn", SCRIPTLET_CHECK_WARN }, { "fail", SCRIPTLET_CHECK_FAIL }, {}
};
/* SELINUX_DEFAULT has no name: the image's own SELINUX= decides. */
static const struct layout_choice selinux_modes[] = {
        { "enforcing", SELINUX_ENFORCING }, { "permissive", SELINUX_PERMISSIVE }, { "off", SELINUX_OFF }, {}
};
static const struct layout_choice sigmodes[] = {
        { "package", SIGMODE_PACKAGE }, { "sign", SIGMODE_SIGN }, { "package-or-sign", SIGMODE_PACKAGE_OR_SIGN }, {}
};
static const struct layout_choice verity_sigs[] = {
        { "ima-v3", VERITY_SIGS_IMA_V3 }, { "builtin", VERITY_SIGS_BUILTIN }, { "ipe", VERITY_SIGS_IPE }, {}
};

const char *const layout_syntax_rules[] = {
        "`[Section]` headers and `Key=Value` lines; `#` or `;` start a comment line.",
        "List values are separated by spaces. Repeating a list key appends to it; an empty value (`Key=`) clears it.",
        "Booleans: `yes`/`no` (also `true`/`false`, `1`/`0`, `on`/`off`).",
        "An unknown section or key is an error naming the file and line, so typos never pass silently.",
        "Every value is checked when the layout is read, before anything is written, and a bad one is an error "
        "naming the file and line (or the `--set`): a value may not contain control characters (a newline in "
        "`--set Boot.Root=...` is refused), the file may not contain NUL bytes, and the `[Policy] File=` is read "
        "and validated even without `Kernel=`.",
        "Lines may be of any length (an `Install=` list of thousands of names on one line); the whole file may be "
        "at most 16 MiB.",
        "Relative paths are relative to the layout file's folder. Any key can be overridden on the command line "
        "with `--set Section.Key=Value`, applied after the file, as if it were its last line.",
        NULL
};

const struct layout_section layout_sections[] = {
        { "Image", "The filesystem: its format (a bare ext4 image or a GPT disk), size, label, inode size, and "
                   "what makes it reproducible (seed, time stamps)." },
        { "Packages", "Where the packages come from (a folder, rpm-md repositories or a lockfile), which are "
                      "installed, and how their OpenPGP signatures and scriptlets are treated." },
        { "Users", "The ids of the users and groups compose creates (sysusers.d, user() provides)." },
        { "SELinux", "The policy that labels every inode (security.selinux), and the mode the initramfs sets." },
        { "Signatures", "Where each file's security.ima comes from: the packages' own IMA signatures, checked "
                        "against trusted certificates, or signatures made with the owner's key." },
        { "Policy", "The IMA policy the initramfs loads (imgtool policy LAYOUT prints it)." },
        { "Verity", "fs-verity: a Merkle tree for every regular file, written by compose, and what the kernel "
                    "checks the verity digests against." },
        { "Boot", "The kernel, the initramfs (imgtool's own init: keys, policy, root) and the command line." },
        { "SecureBoot", "Only with Format=disk: the db key and certificate that sign the UKI. Without it the UKI "
                        "is unsigned." },
        {}
};

#define F(x) offsetof(struct layout, x)
const struct layout_setting layout_settings[] = {
        /* [Image] */
        {
                .section = "Image", .key = "Size", .type = LAYOUT_SIZE, .offset = F(size),
                .value_default = "auto",
                .comment = "Size=auto fits the packages; or a size such as 2G.",
                .help = "Image size (`512M`, `2G`, `1.5G`, bytes: digits, an optional fraction and "
                        "`K`/`M`/`G`/`T`; a multiple of 4 KiB, from 4M to 1P). `auto` = the packages' content "
                        "plus metadata (inodes, directories, rpm database, kernel), then 10% and 16 MiB of margin "
                        "and a journal, rounded up to 1 MiB. Running out of space is an error (`image full`). "
                        "With `Format=disk` it is the size of the whole disk: the GPT (1 MiB at each end) and the "
                        "ESP (64 MiB, more for a large UKI) come off it, the root partition gets the rest; too "
                        "small for them and a 4 MiB root is an error before anything is written.",
        },
        {
                .section = "Image", .key = "Label", .type = LAYOUT_LABEL, .offset = F(label),
                .comment = "The ext4 label; the initramfs can find the root by it (root=LABEL=...).",
                .help = "ext4 volume label, at most 16 characters, no spaces or `/` (the initramfs can find the "
                        "root by `LABEL=`).",
        },
        {
                .section = "Image", .key = "InodeSize", .type = LAYOUT_INODE_SIZE, .offset = F(inode_size),
                .value_default = "auto",
                .comment = "Bytes per inode; auto keeps every signature inside its inode.",
                .help = "Bytes per inode, a power of two from 256 to 4096. `auto` = the smallest that keeps the "
                        "largest signature (and file capabilities) inside the inode, so signatures cost no extra "
                        "block: 512 for ECDSA P-256/P-384 and RSA-2048, 1024 for RSA-4096.",
        },
        {
                .section = "Image", .key = "Seed", .type = LAYOUT_TEXT, .offset = F(seed),
                .default_doc = "sha256 of the layout file",
                .comment = "Fixes the UUID and hash seed (default: this file's sha256).",
                .help = "The filesystem UUID and directory hash seed are derived from it, so the same layout "
                        "gives the same image; with `Format=disk` also the disk and partition GUIDs and the FAT "
                        "volume id.",
        },
        {
                .section = "Image", .key = "SourceDateEpoch", .type = LAYOUT_EPOCH, .offset = F(source_date_epoch),
                .value_default = "",
                .default_doc = "`$SOURCE_DATE_EPOCH`, else the newest package build time",
                .comment = "Every time stamp compose makes, and the mtime clamp.",
                .help = "Every time stamp compose makes, and the upper bound (clamp) of every file's mtime.",
        },
        {
                .section = "Image", .key = "Format", .type = LAYOUT_ENUM, .offset = F(format),
                .choices = formats,
                .value_default = "ext4",
                .comment = "ext4: the bare image; disk: a GPT disk with a UKI.",
                .help = "`ext4`: the bare ext4 image (with `IMAGE.vmlinuz` and `IMAGE.initramfs` beside it when "
                        "`[Boot] Kernel=` is set). `disk`: one GPT disk image: an EFI system partition with a UKI "
                        "at `\\EFI\\BOOT\\BOOTX64.EFI` (systemd-stub with the kernel, the initramfs, the command "
                        "line and os-release; signed with `[SecureBoot]`) and the root partition holding the very "
                        "ext4 image `ext4` makes. Needs `[Boot] Kernel=`; see docs/disk.md.",
        },

        /* [Packages] */
        {
                .section = "Packages", .key = "Directory", .type = LAYOUT_PATH_LIST, .offset = F(directories),
                .default_doc = "one of `Directory=`, `Repository=`, `Lock=`",
                .comment = "Folders of .rpm files; Install= names the whole set.",
                .help = "One or more folders holding `.rpm` files (source packages are ignored). `Install=` names "
                        "the whole set.",
        },
        {
                .section = "Packages", .key = "Install", .type = LAYOUT_LIST, .offset = F(install),
                .default_doc = "required (but with `Lock=`)",
                .comment = "Package names or globs; * takes every package; each Requires must be met inside the set.",
                .help = "Package names or shell globs (`Install=*` takes every package). With `Directory=` for "
                        "each name the newest version whose architecture fits this machine wins; with "
                        "`Repository=` names, provides (`Install=libfoo.so.1`), `name.arch` and `name-version` "
                        "work too and the solver picks the best. Every `Requires` must be met inside the set "
                        "(rpm's own transaction check, after the solver); otherwise compose fails listing every "
                        "missing capability. Packages are written in rpm's install order.",
        },
        {
                .section = "Packages", .key = "GpgKey", .type = LAYOUT_PATH_LIST, .offset = F(gpg_keys),
                .comment = "OpenPGP keys every package's signature must verify with.",
                .help = "OpenPGP public keys (ASCII-armored, as `gpg --armor --export` writes them). When set, "
                        "every chosen package must carry an OpenPGP signature (`rpmsign --addsign`) that verifies "
                        "with one of them; rpm's own verification decides. Unset: OpenPGP signatures are not "
                        "checked (header and payload digests always are).",
        },
        {
                .section = "Packages", .key = "Scriptlets", .type = LAYOUT_ENUM, .offset = F(scriptlets),
                .choices = scriptlets,
                .value_default = "error",
                .comment = "error stops at a package with a scriptlet, skip lists them, run runs them in the image under QEMU.",
                .help = "`error`: a package with any scriptlet (%pre, %post, triggers...) stops compose, naming "
                        "it. `skip`: go on and list each skipped scriptlet in the report. `run`: %pretrans, %pre, "
                        "%post, %posttrans, triggers and file triggers run in rpm's order inside the image, "
                        "booted under QEMU with `[Boot] Kernel=` (never on the host); what they change is written "
                        "and signed like every file, and the report names the scriptlet behind each change "
                        "(docs/scriptlets.md), rpm's Lua ones in a runner imgtool puts into the guest.",
        },
        {
                .section = "Packages", .key = "ScriptletTimeout", .type = LAYOUT_SECONDS,
                .offset = F(scriptlet_timeout), .value_default = "600",
                .comment = "Scriptlets=run: seconds the whole run (boot included) may take.",
                .help = "With `Scriptlets=run`: the seconds the whole run may take, the boot included; past it "
                        "the machine is stopped and compose fails naming the scriptlet that was running.",
        },
        {
                .section = "Packages", .key = "ScriptletExclude", .type = LAYOUT_LIST,
                .offset = F(scriptlet_exclude),
                .comment = "Scriptlets=run: path globs whose scriptlet changes stay out of the image.",
                .help = "With `Scriptlets=run`: path globs (`/var/cache/ldconfig`, `/etc/ssh/ssh_host_*`); a "
                        "change a scriptlet made to a matching path, or to anything beneath one, is left out "
                        "of the image, and each one left out is a `warning:` line of the report. For what a "
                        "scriptlet writes that differs on every run (caches holding inode numbers and times, "
                        "random seeds, host keys) and belongs to the first boot.",
        },
        {
                .section = "Packages", .key = "ScriptletCheck", .type = LAYOUT_ENUM, .offset = F(scriptlet_check),
                .choices = scriptlet_checks,
                .value_default = "no",
                .comment = "Scriptlets=run: warn or fail names what a second run writes differently; no runs once.",
                .help = "With `Scriptlets=run`: `no` runs the scriptlets once. `warn` boots the scratch image a "
                        "second time, runs them again (the guest's randomness is new on every boot) and compares "
                        "the two sets of changes: each path whose content, type, mode, owner or link target "
                        "differs, or that only one run changed, is a `warning:` line naming the scriptlet behind "
                        "it and listed in the report (`scriptlet_nondeterministic`), with the hint to add it to "
                        "`ScriptletExclude=`. `fail`: the same check, and any such path fails compose (no image "
                        "is written). Paths `ScriptletExclude=` leaves out are not compared. Doubles the time of "
                        "the scriptlet phase.",
        },
        {
                .section = "Packages", .key = "Repository", .type = LAYOUT_LIST, .offset = F(repositories),
                .comment = "rpm-md repositories (createrepo_c); libsolv resolves Install=.",
                .help = "One or more rpm-md repositories: a folder or `file://` URL holding `repodata/repomd.xml` "
                        "(as `createrepo_c` makes). libsolv resolves `Install=` and adds every dependency; a "
                        "problem is reported in libsolv's words. repomd.xml's checksum of primary.xml and "
                        "primary.xml's checksum of every chosen package are checked before either is used, and "
                        "only sha256, sha384 or sha512 are accepted; the package is then read from the very file "
                        "that was checked, and its header's name, epoch, version, release and arch must be what "
                        "primary.xml says (otherwise compose stops naming both: no silent downgrade). Every "
                        "location is opened beneath the repository folder: no `..`, no symlink out of it, regular "
                        "files only. Decompressed repomd.xml or primary.xml larger than 512 MiB "
                        "(`REPO_METADATA_MAX`) is refused. Cannot be mixed with `Directory=`.",
        },
        {
                .section = "Packages", .key = "WeakDeps", .type = LAYOUT_BOOL, .offset = F(weak_deps),
                .value_default = "yes",
                .comment = "With Repository=: also install Recommends/Supplements.",
                .help = "With `Repository=`: also install what the set `Recommends`/`Supplements`.",
        },
        {
                .section = "Packages", .key = "Exclude", .type = LAYOUT_LIST, .offset = F(exclude),
                .comment = "With Repository=: name globs the solver never picks.",
                .help = "With `Repository=`: name globs the solver never picks (what needs them then fails, in "
                        "libsolv's words).",
        },
        {
                .section = "Packages", .key = "Lock", .type = LAYOUT_PATH, .offset = F(lock),
                .comment = "A lockfile (compose --lock-out): exactly this set.",
                .help = "A lockfile (`imgtool compose --lock-out`): compose exactly these packages, without "
                        "solving. Each is found at its recorded location (under this layout's "
                        "`Repository=`/`Directory=` folders first, else the recorded folder) and must have the "
                        "recorded sha256 and NEVRA; otherwise compose fails naming it. A location is opened "
                        "beneath its folder like a repository's (no `..`, no symlink out, a regular file only, "
                        "never a device or FIFO), and the error for a changed file never prints that file's own "
                        "hash.",
        },

        /* [Users] */
        {
                .section = "Users", .key = "Previous", .type = LAYOUT_PATH, .offset = F(users_previous),
                .comment = "The previous image's lockfile or passwd: its users keep their ids.",
                .help = "The previous image's lockfile (its `@user`/`@group` lines) or its `/etc/passwd` or "
                        "`/etc/group`: names found there keep their ids, so an update never re-owns files. "
                        "Without it ids still come from a hash of the name (docs/repositories.md, \"System users "
                        "and groups\").",
        },
        {
                .section = "Users", .key = "PrivilegedGroups", .type = LAYOUT_LIST, .offset = F(users_privileged),
                .comment = "Groups counted as privileged besides root, wheel, sudo, adm.",
                .help = "Groups counted as privileged besides `root`, `wheel`, `sudo`, `adm` (and any group the "
                        "packages' own `/etc/group` gives gid 0). A sysusers.d `m USER GROUP` line, or a `u USER "
                        "ID:GROUP` line, that puts a user into a privileged group stops compose with a one-line "
                        "error naming the package, the file and the line, unless `AllowPrivileged=` lists it.",
        },
        {
                .section = "Users", .key = "AllowPrivileged", .type = LAYOUT_LIST, .offset = F(users_allow),
                .comment = "USER:GROUP privileged memberships the packages may add (e.g. svc:wheel).",
                .help = "`USER:GROUP` pairs: the privileged memberships the packages may add (e.g. "
                        "`AllowPrivileged=svc:wheel`). Each one used is a `warning:` line of the compose report "
                        "(and its JSON `warnings`) and an `@privileged` line of the lockfile, which `verify "
                        "--against LOCK` allows. Names in sysusers.d lines and rpm `user()`/`group()` provides "
                        "follow systemd's strict rule (a letter or `_`, then letters, digits, `_` or `-`, at most "
                        "31 bytes); uid and gid 0 are root's alone: anything else is refused.",
        },
        {
                .section = "Users", .key = "PasswordHash", .type = LAYOUT_LIST, .offset = F(users_password_hash),
                .comment = "USER:HASH: the crypt hash (openssl passwd -6) a user logs in with.",
                .help = "`USER:HASH` pairs: the password hash `/etc/shadow` gives the user, so that someone can "
                        "log in (without one every account is locked, `!*`). Only a crypt(3) hash: "
                        "SHA-512-crypt (`$6$`, as `openssl passwd -6` makes it), SHA-256-crypt (`$5$`) or "
                        "yescrypt (`$y$`); a clear-text password, DES or MD5-crypt (`$1$`) is refused, as is a "
                        "user the image does not have. Written as given: the same layout gives the same bytes "
                        "(the salt is in the hash). The layout then holds a secret's hash: keep it as private "
                        "as the image's users need (docs/systemd.md, \"Logging in\").",
        },

        /* [SELinux] */
        {
                .section = "SELinux", .key = "Policy", .type = LAYOUT_PATH, .offset = F(selinux_policy),
                .default_doc = "the set's own",
                .comment = "A policy folder (/etc/selinux/NAME) that labels the image.",
                .help = "A policy folder on this machine (`/etc/selinux/NAME`); its "
                        "`contexts/files/file_contexts` labels the image. Default: the policy the set ships, when "
                        "a package ships `/etc/selinux/config` (its `SELINUXTYPE=NAME`) and "
                        "`/etc/selinux/NAME/contexts/files/file_contexts`. No policy: no labels.",
        },
        {
                .section = "SELinux", .key = "Mode", .type = LAYOUT_ENUM, .offset = F(selinux_mode),
                .choices = selinux_modes,
                .default_doc = "the image's `SELINUX=`",
                .comment = "The SELinux mode at boot: enforcing, permissive or off.",
                .help = "With `[Boot] Kernel=`: `enforcing` or `permissive`: compose puts the policy's binary "
                        "policy (the highest `policy/policy.N`, from the set or from `Policy=`) into the "
                        "initramfs, whose init loads it into the kernel and sets the mode before it loads the IMA "
                        "policy, so IMA rules may use `obj_type=`/`subj_type=` (the kernel refuses those while no "
                        "SELinux policy is loaded); `off`: no SELinux at boot. Default: the image's own "
                        "`SELINUX=` (`disabled`, or no config: off). Loading needs SELinux active in the kernel: "
                        "boot with `security=selinux` (Debian's kernels start AppArmor otherwise); under "
                        "`enforcing` init refuses to go on without it.",
        },

        /* [Signatures] */
        {
                .section = "Signatures", .key = "Mode", .type = LAYOUT_ENUM, .offset = F(sigmode),
                .choices = sigmodes,
                .value_default = "package",
                .comment = "package: the packages' own signatures, checked; sign: every file signed with Key=.",
                .help = "`package`: stamp each file's signature from the package header (RPMTAG_FILESIGNATURES), "
                        "after verifying it with `Certificate=`. `sign`: sign every regular file with `Key=`. "
                        "`package-or-sign`: the package's signature when it verifies with a trusted cert, else "
                        "sign with `Key=`.",
        },
        {
                .section = "Signatures", .key = "Certificate", .type = LAYOUT_PATH_LIST, .offset = F(certificates),
                .default_doc = "required unless `Mode=sign`",
                .comment = "The certs package signatures must verify with; the first is installed (and is Key='s own).",
                .help = "Trusted certs (PEM or DER; a PEM file may hold several), or bare public keys (PEM "
                        "`PUBLIC KEY`): these verify package signatures but are not installed, and with `[Boot] "
                        "Kernel=` they are refused with how to get a certificate (`imgtool keygen --issuer CADIR "
                        "--for-key KEY`). The first certificate is also installed as `/etc/keys/x509_ima.der` and "
                        "`/etc/keys/ima/imgtool-ima.der`. With `Key=`, the first cert must be the key's own.",
        },
        {
                .section = "Signatures", .key = "Key", .type = LAYOUT_PATH, .offset = F(key),
                .default_doc = "required for `sign`, `package-or-sign`; optional with `package`",
                .comment = "Your private key: signs files (Mode=sign) and the files compose writes itself.",
                .help = "The owner's private key (PEM), or a key on a PKCS#11 token named by its URI "
                        "(`pkcs11:token=...;object=...?pin-source=file:PATH&module-path=MODULE`), or a TPM key "
                        "(`handle:0x81000001`, or a TSS2 key file; docs/keys.md). It also signs the files compose writes itself (rpm "
                        "database, certs, kernel) in every mode, `Mode=package` included; without it those stay "
                        "unsigned, the report lists them, and under the default policy root cannot read them at "
                        "run time.",
        },
        {
                .section = "Signatures", .key = "AllowUnsigned", .type = LAYOUT_LIST, .offset = F(allow_unsigned),
                .default_doc = "empty",
                .comment = "Path globs whose files may lack a valid package signature.",
                .help = "Path globs (`/opt/*`) whose package signature may be missing, invalid or from an "
                        "untrusted key; such files get no `security.ima`. Everything else without a valid "
                        "signature is an error.",
        },
        {
                .section = "Signatures", .key = "Packs", .type = LAYOUT_PATH_LIST, .offset = F(packs),
                .default_doc = "empty",
                .comment = "Signature packs (imgtool sigpack) to take file signatures from.",
                .help = "Signature packs (`imgtool sigpack`; files or globs, e.g. `packs/*.pack`) holding IMA "
                        "signatures for packages that do not carry them. A file's `security.ima` comes from the "
                        "pack entry matching its package's header digest, path and file digest, and is checked "
                        "against `Certificate=` like a package's; where a package also carries one, the pack's "
                        "is used (compose says so). Each pack must be signed by a key in `Certificate=`; a pack "
                        "for another build of a package, or with an entry for a path or content the package "
                        "does not have, is refused. Needs `Mode=package` or `package-or-sign`. "
                        "docs/sigpack.md.",
        },

        /* [Policy] */
        {
                .section = "Policy", .key = "File", .type = LAYOUT_PATH, .offset = F(policy_file),
                .default_doc = "built-in",
                .comment = "Your own IMA policy instead of the built-in one.",
                .help = "Use this IMA policy file instead of the built-in one (validated before use).",
        },
        {
                .section = "Policy", .key = "AppraiseRootReads", .type = LAYOUT_BOOL, .offset = F(appraise_root_reads),
                .value_default = "yes",
                .comment = "The built-in IMA policy: also appraise root-owned files when read.",
                .help = "Require signatures on files owned by root when read (`func=FILE_CHECK fowner=0`), not "
                        "only when executed or mapped.",
        },
        {
                .section = "Policy", .key = "Measure", .type = LAYOUT_BOOL, .offset = F(measure),
                .value_default = "yes",
                .comment = "Measure what runs into the TPM's PCR 10.",
                .help = "Add measurement rules so the TPM log covers what ran.",
        },

        /* [Verity] */
        {
                .section = "Verity", .key = "Enable", .type = LAYOUT_BOOL, .offset = F(verity),
                .value_default = "no",
                .comment = "fs-verity: every regular file gets a Merkle tree.",
                .help = "Write the trees.",
        },
        {
                .section = "Verity", .key = "Signatures", .type = LAYOUT_ENUM, .offset = F(verity_sigs),
                .choices = verity_sigs,
                .value_default = "ima-v3",
                .comment = "What the kernel checks verity files against: ima-v3, builtin or ipe.",
                .help = "What the kernel checks the verity digests against. `ima-v3`: `security.ima` is an IMA "
                        "signature v3 over the fs-verity digest (`06 03 <algo> <keyid> <len> <sig>`, signed hash "
                        "over the `ima_file_id`), and the IMA policy appraises with `digest_type=verity "
                        "appraise_type=sigv3` (measurements record verity digests, template `ima-ngv2`). "
                        "`builtin`: each descriptor carries a PKCS#7 signature (what `fsverity sign` makes); the "
                        "initramfs loads the certs into the `.fs-verity` keyring, locks it and sets "
                        "`fs.verity.require_signatures=1`; the IMA policy only measures, and `security.ima` keeps "
                        "the v2 signatures. `ipe`: `builtin` plus an IPE policy (`imgtool ipe-policy`) that lets "
                        "only files with a verified fs-verity signature, and the initramfs, execute or load as "
                        "modules; signed with `[SecureBoot] Key=` (else `[Signatures] Key=`) and activated by the "
                        "initramfs. The kernel checks IPE policies against its secondary and platform keyrings, "
                        "so this needs a `Format=disk` image booted with Secure Boot, its db holding the cert of "
                        "`[SecureBoot] Key=`.",
        },
        {
                .section = "Verity", .key = "Salt", .type = LAYOUT_SALT, .offset = F(verity_salt),
                .comment = "A salt for the Merkle trees, in hex.",
                .help = "Hex, 1 to 32 bytes, prepended to every hashed block (`fsverity digest --salt`).",
        },

        /* [Boot] */
        {
                .section = "Boot", .key = "Kernel", .type = LAYOUT_PATH, .offset = F(kernel),
                .comment = "A kernel makes the image bootable (./build.sh kernel fetches Debian's 6.12 cloud kernel).",
                .help = "A kernel image (vmlinuz). With it, compose installs it as `/boot/vmlinuz` and writes "
                        "`IMAGE.vmlinuz`, `IMAGE.initramfs` and `IMAGE.cmdline` beside the image (`Format=ext4`) "
                        "or puts kernel, initramfs and command line into the UKI (`Format=disk`; the kernel must "
                        "have an EFI stub; the UKI's initramfs is the same one, with `Init=` and `[Verity]`'s "
                        "keyring and IPE policy, its root found by the root partition's PARTUUID unless `Root=`; "
                        "not yet the kernel modules, so the disk's root must be on a built-in driver such as "
                        "NVMe), and warns when the image lacks what a boot needs (`/sbin/init` or `Init=`; "
                        "`/bin/sh` with `TestHooks=yes`). `./build.sh kernel` fetches Debian's 6.12 cloud kernel "
                        "into `build/kernel/vmlinuz`.",
        },
        {
                .section = "Boot", .key = "CommandLine", .type = LAYOUT_TEXT, .offset = F(cmdline),
                .comment = "More kernel command line (IMAGE.cmdline, and a UKI's .cmdline).",
                .help = "More kernel command line. `Format=ext4`: written to `IMAGE.cmdline`, which `imgtool "
                        "boot` (`qemu-test/run`) passes to the kernel; `Format=disk`: appended to the UKI's fixed "
                        "`.cmdline` (e.g. `console=ttyS0`), which nothing can change at boot under Secure Boot.",
        },
        {
                .section = "Boot", .key = "Root", .type = LAYOUT_ROOT, .offset = F(root),
                .default_doc = "`LABEL=<Label>`, else `UUID=<uuid>`; `Format=disk`: `PARTUUID=<root partition GUID>`",
                .comment = "How the initramfs finds the root device (default LABEL=<Label>).",
                .help = "How the initramfs finds the root device: `LABEL=NAME` (1 to 16 characters), "
                        "`UUID=xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, `PARTUUID=` (the same form) or `/dev/NAME`, "
                        "without spaces.",
        },
        {
                .section = "Boot", .key = "RootReadWrite", .type = LAYOUT_BOOL, .offset = F(root_rw),
                .value_default = "no",
                .comment = "Mount the root read-write.",
                .help = "Mount the root read-write. Signed files still cannot be opened for writing under the "
                        "policy; put mutable state on another filesystem.",
        },
        {
                .section = "Boot", .key = "TestHooks", .type = LAYOUT_BOOL, .offset = F(test_hooks),
                .value_default = "no",
                .comment = "Test images only: lets `imgtool boot IMAGE --exec CMD` run CMD as root in the guest.",
                .help = "Build the initramfs with `--cmdline-test`: its init then honours `imgtool.test=`, "
                        "`imgtool.run=` and `imgtool.out=` on the kernel command line, which `qemu-test/run "
                        "--exec/--check` use to run a script as root in the guest. For test and demo images only: "
                        "whoever controls the kernel command line of such an image can run commands as root "
                        "before `/sbin/init`.",
        },
        {
                .section = "Boot", .key = "Init", .type = LAYOUT_IMAGE_PATH, .offset = F(init),
                .default_doc = "`/sbin/init`",
                .comment = "The program the initramfs hands over to.",
                .help = "The program on the root the initramfs hands over to (an absolute path inside the image). "
                        "It must be signed like every other program.",
        },
        {
                .section = "Boot", .key = "Modules", .type = LAYOUT_LIST, .offset = F(modules),
                .comment = "More kernel modules for the initramfs.",
                .help = "More kernel modules for `IMAGE.initramfs` (`Format=ext4`; a disk's UKI carries none "
                        "yet), by name (`nbd`, `dm_mod`), with their dependencies; each must be in the module "
                        "folder or built into the kernel. The initramfs always tries the ones that find a root on "
                        "common disks: `virtio_pci`, `virtio_blk`, `virtio_scsi`, `nvme`, `ahci`, `sd_mod`, "
                        "`xhci_pci`, `ehci_pci`, `usb_storage`, `uas`, `ext4` (each left out when the kernel has "
                        "it built in or lacks it).",
        },
        {
                .section = "Boot", .key = "ModulesDirectory", .type = LAYOUT_PATH, .offset = F(modules_dir),
                .default_doc = "found from `Kernel=`",
                .comment = "The kernel's lib/modules/VERSION (default: found from Kernel=).",
                .help = "The kernel's module folder, `lib/modules/VERSION` of its package. By default compose "
                        "reads the version from the bzImage header and looks for `lib/modules/VERSION` beside the "
                        "kernel, in its unpacked package (`root/lib/modules`, `../lib/modules`, "
                        "`../usr/lib/modules`), then in `/lib/modules`. The modules are the kernel's own signed "
                        "ones, decompressed (`.ko.xz`, `.zst`, `.gz`) and loaded by the initramfs's init in "
                        "dependency order (each module's `depends=`, what `modules.dep` is made from), before the "
                        "root is looked for.",
        },
        {
                .section = "Boot", .key = "Stub", .type = LAYOUT_PATH, .offset = F(stub),
                .default_doc = "`/usr/lib/systemd/boot/efi/linuxx64.efi.stub`",
                .comment = "Format=disk: the systemd-stub of the UKI.",
                .help = "`Format=disk`: the systemd-stub the UKI is built on (Debian's `systemd-boot-efi`).",
        },

        /* [SecureBoot] */
        {
                .section = "SecureBoot", .key = "Key", .type = LAYOUT_PATH, .offset = F(sb_key),
                .comment = "Format=disk: the db key that signs the UKI.",
                .help = "The db private key (PEM or a PKCS#11 URI, docs/keys.md; RSA 2048-4096: UEFI verifies only RSA) that Authenticode-signs "
                        "the UKI, e.g. `db.key` from `imgtool keygen --secure-boot DIR`.",
        },
        {
                .section = "SecureBoot", .key = "Certificate", .type = LAYOUT_PATH, .offset = F(sb_certificate),
                .comment = "Its certificate, the one enrolled in the firmware's db.",
                .help = "Its certificate (PEM or DER), the one enrolled in the firmware's db. Must belong to "
                        "`Key=`; both or neither.",
        },
};
#undef F
const size_t layout_settings_count = sizeof(layout_settings) / sizeof(layout_settings[0]);

const struct layout_setting *layout_setting_find(const char *section, const char *key, bool *section_known)
{
        *section_known = false;
        for (size_t i = 0; i < layout_settings_count; i++) {
                if (strcmp(layout_settings[i].section, section))
                        continue;
                *section_known = true;
                if (!strcmp(layout_settings[i].key, key))
                        return &layout_settings[i];
        }
        return NULL;
}

/* "`a`, `b` or `c`" */
static const char *choices_doc(const struct layout_choice *c, char *buf, size_t size)
{
        size_t n = 0;

        buf[0] = 0;
        for (size_t i = 0; c[i].name && n < size; i++)
                n += (size_t)snprintf(buf + n, size - n, "%s`%s`", i == 0 ? "" : c[i + 1].name ? ", " : " or ",
                                      c[i].name);
        return buf;
}

const char *layout_type_doc(const struct layout_setting *s, char *buf, size_t size)
{
        switch (s->type) {
        case LAYOUT_TEXT: return "text";
        case LAYOUT_PATH: return "path";
        case LAYOUT_IMAGE_PATH: return "absolute path in the image";
        case LAYOUT_LIST: return "list";
        case LAYOUT_PATH_LIST: return "list of paths";
        case LAYOUT_BOOL: return "`yes` or `no`";
        case LAYOUT_ENUM: return choices_doc(s->choices, buf, size);
        case LAYOUT_SIZE: return "size or `auto`";
        case LAYOUT_INODE_SIZE: return "`auto` or 256 to 4096";
        case LAYOUT_EPOCH: return "seconds since 1970";
        case LAYOUT_SECONDS: return "seconds";
        case LAYOUT_LABEL: return "label";
        case LAYOUT_ROOT: return "root spec";
        case LAYOUT_SALT: return "hex";
        }
        return "?";
}

const char *layout_default_doc(const struct layout_setting *s, char *buf, size_t size)
{
        if (s->default_doc)
                return s->default_doc;
        if (!s->value_default)
                return "none";
        snprintf(buf, size, "`%s`", s->value_default);
        return buf;
}
