#!/usr/bin/env python3
"""The Scriptlets=run oracle's comparison: the tree rpm -i --root made
against the image's (imgtool extract), type, mode, owner, link target and
content of every path, except the paths that differ by nature
(docs/scriptlets.md, "What differs from rpm -i --root"): each side's
package database (rpm's under /root/.rpmdb, Debian's default), the folder
rpm makes for its temporary files, imgtool's IMA certificate, the kernel
compose copies in, ext4's lost+found, compose's record of the changes (and
/usr/lib, its folder, and /var/lib, the folder of compose's package
database, where no package made them), and the user and group files
compose writes for the packages' owners (/etc/passwd, /etc/group and their
shadows) where rpm's run has none.

Usage: scriptlet_tree.py RPMROOT IMGROOT [PATH...]   exit 0 equal, 1 with
one line per differing path.  PATHs (and what lies under them) are left out
too: what the layout's ScriptletExclude= keeps out of the image."""
import hashlib, os, stat, sys

SKIP = ("/root", "/var/tmp", "/var/lib/rpm", "/usr/lib/sysimage", "/etc/keys", "/boot", "/lost+found",
        "/usr/lib/imgtool")


def tree(top, skip=SKIP):
    out = {}
    for d, dirs, files in os.walk(top):
        for n in dirs + files:
            p = os.path.join(d, n)
            rel = "/" + os.path.relpath(p, top)
            if any(rel == s or rel.startswith(s + "/") for s in skip):
                continue
            st = os.lstat(p)
            what = [stat.S_IFMT(st.st_mode), oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid]
            if stat.S_ISLNK(st.st_mode):
                what.append(os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                what.append(hashlib.sha256(open(p, "rb").read()).hexdigest())
            out[rel] = what
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    skip = SKIP + tuple(sys.argv[3:])
    a, b = tree(sys.argv[1], skip), tree(sys.argv[2], skip)
    # the folders imgtool's own files need, where no package made them
    for p in ("/usr/lib", "/var/lib", "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"):
        if p not in a:
            b.pop(p, None)
    bad = [f"{p}: rpm {a.get(p)} image {b.get(p)}" for p in sorted(set(a) | set(b)) if a.get(p) != b.get(p)]
    print("\n".join(bad) if bad else f"{len(a)} paths equal")
    sys.exit(1 if bad else 0)


main()
