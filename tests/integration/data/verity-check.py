#!/usr/bin/env python3
"""verity-check.py IMAGE [SALT_HEX [SIGDIR]]: for every regular file of IMAGE, the
fs-verity metadata imgtool wrote past its end must be byte for byte what
`fsverity digest --out-merkle-tree --out-descriptor` (fsverity-utils, an
independent implementation) gives for the file's content, at the places
fs/ext4/verity.c reads them from; the inode must carry EXT4_VERITY_FL.
Reads the image with debugfs only.  Prints "DIGEST PATH" per good file and
one line per problem, then 'checked N files'; exit 1 on any problem.  With
SIGDIR, each descriptor's PKCS#7 is saved as SIGDIR/<path, / as @>.p7s."""
import os, re, struct, subprocess, sys, tempfile

img = sys.argv[1]
salt = sys.argv[2] if len(sys.argv) > 2 else ""
sigdir = sys.argv[3] if len(sys.argv) > 3 else ""
BS = 4096

def debugfs(cmd):
    return subprocess.run(["debugfs", "-R", cmd, img], capture_output=True, text=True).stdout

def regular_files():
    os.mkdir(tmp + "/root")
    subprocess.run(["debugfs", "-R", "rdump / " + tmp + "/root", img], capture_output=True, text=True)
    for d, _, files in os.walk(tmp + "/root"):
        for f in files:
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p):
                yield p[len(tmp + "/root"):], p

def extents(path):
    m = {}
    for line in debugfs('dump_extents "%s"' % path).splitlines():
        f = line.split()
        # " 0/ 0   1/  2     0 -   483  1217 -  1700    484 "
        mm = re.match(r"\s*\d+/\s*\d+\s+\d+/\s*\d+\s+(\d+)\s+-\s+(\d+)\s+(\d+)\s+-\s+(\d+)\s+(\d+)", line)
        if mm:
            lo, hi, p, _, n = map(int, mm.groups())
            for i in range(n):
                m[lo + i] = p + i
    return m

def read_blocks(fd, ext, lblk, count):
    out = b""
    for i in range(count):
        p = ext.get(lblk + i)
        if p is None:
            out += b"\0" * BS
        else:
            os.lseek(fd, p * BS, 0)
            out += os.read(fd, BS)
    return out

problems = 0
checked = 0
with tempfile.TemporaryDirectory() as tmp:
    fd = os.open(img, os.O_RDONLY)
    for path, host in sorted(regular_files()):
        st = debugfs('stat "%s"' % path)
        flags = int(re.search(r"Flags: (0x[0-9a-f]+)", st).group(1), 16)
        if not flags & 0x100000:
            print("%s: no EXT4_VERITY_FL (flags %#x)" % (path, flags)); problems += 1; continue
        args = ["fsverity", "digest", host, "--compact", "--out-merkle-tree=" + tmp + "/tree",
                "--out-descriptor=" + tmp + "/desc"]
        if salt:
            args.append("--salt=" + salt)
        want_digest = subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
        tree = open(tmp + "/tree", "rb").read()
        desc = open(tmp + "/desc", "rb").read()
        size = os.path.getsize(host)
        ext = extents(path)
        end = max(ext) + 1
        meta = (size + 65535) // 65536 * 65536
        got_tree = read_blocks(fd, ext, meta // BS, len(tree) // BS)
        last = read_blocks(fd, ext, end - 1, 1)
        dsize = struct.unpack("<I", last[-4:])[0]
        size_pos = end * BS - 4
        desc_pos = (size_pos - dsize) // BS * BS
        area = read_blocks(fd, ext, desc_pos // BS, end - desc_pos // BS)
        got_desc = area[:dsize]
        sig_size = struct.unpack("<I", got_desc[4:8])[0]
        unsigned = got_desc[:4] + b"\0\0\0\0" + got_desc[8:256]
        if got_tree != tree:
            print("%s: Merkle tree differs from fsverity's" % path); problems += 1
        elif unsigned != desc:
            print("%s: descriptor differs from fsverity's" % path); problems += 1
        elif dsize != 256 + sig_size:
            print("%s: descriptor size %d, sig_size %d" % (path, dsize, sig_size)); problems += 1
        elif desc_pos != meta + len(tree):
            print("%s: descriptor at %d, want %d" % (path, desc_pos, meta + len(tree))); problems += 1
        elif max(k for k in ext if k < meta // BS) * BS >= size if size and any(k < meta // BS for k in ext) else False:
            print("%s: data blocks beyond the size" % path); problems += 1
        else:
            print("%s %s" % (want_digest.split(":")[-1], path))
        if sig_size and sigdir:
            open(sigdir + "/" + path.replace("/", "@") + ".p7s", "wb").write(got_desc[256:dsize])
        checked += 1
print("checked %d files, %d problems" % (checked, problems), file=sys.stderr)
sys.exit(1 if problems else 0)
