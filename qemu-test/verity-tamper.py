#!/usr/bin/env python3
"""verity-tamper.py IMAGE COMMAND PATH [ARG]: change one file of an ext4
image (or of the ext4 at a byte offset in a disk: IMAGE?offset=N, as debugfs
takes it) in place, below the filesystem (debugfs for the block map, then plain
writes to the image file), the way an attacker with the disk would:
  flip-block PATH LBLK   flip one byte in logical block LBLK of PATH's data
  set-sig PATH SIGFILE   replace the PKCS#7 after PATH's fs-verity
                         descriptor with SIGFILE's bytes ("" for none),
                         keeping the descriptor (fs/ext4/verity.c layout)
  show PATH              print the data size, the descriptor's sig_size and
                         where the metadata lies
Exit 0 when done, 2 on a problem."""
import os, re, struct, subprocess, sys

BS = 4096

def die(msg):
    print("verity-tamper: " + msg, file=sys.stderr)
    sys.exit(2)

def debugfs(img, cmd):
    return subprocess.run(["debugfs", "-R", cmd, img], capture_output=True, text=True).stdout

def block_map(img, path):
    m = {}
    for line in debugfs(img, 'dump_extents "%s"' % path).splitlines():
        mm = re.match(r"\s*\d+/\s*\d+\s+\d+/\s*\d+\s+(\d+)\s+-\s+(\d+)\s+(\d+)\s+-\s+(\d+)\s+(\d+)", line)
        if mm:
            lo, hi, p, _, n = map(int, mm.groups())
            for i in range(n):
                m[lo + i] = p + i
    if not m:
        die("%s: no extents (not in the image?)" % path)
    return m

def size_of(img, path):
    mm = re.search(r"Size: (\d+)", debugfs(img, 'stat "%s"' % path))
    if not mm:
        die("%s: not found" % path)
    return int(mm.group(1))

def main():
    if len(sys.argv) < 4:
        die("usage: verity-tamper.py IMAGE flip-block|set-sig|show PATH [ARG]")
    img, cmd, path = sys.argv[1:4]
    m = block_map(img, path)
    end = max(m) + 1
    base = 0
    if "?offset=" in img:
        base = int(img.split("?offset=")[1])
    fd = os.open(img.split("?offset=")[0], os.O_RDWR)
    pread = lambda n, off: os.pread(fd, n, base + off)
    pwrite = lambda b, off: os.pwrite(fd, b, base + off)
    if cmd == "flip-block":
        lblk = int(sys.argv[4])
        if lblk * BS >= size_of(img, path):
            die("%s: block %d is past the data" % (path, lblk))
        off = m[lblk] * BS + 100
        b = pread(1, off)
        pwrite(bytes([b[0] ^ 0xff]), off)
    elif cmd in ("set-sig", "show"):
        last = pread(BS, m[end - 1] * BS)
        dsize = struct.unpack("<I", last[-4:])[0]
        size_pos = end * BS - 4
        desc_pos = (size_pos - dsize) // BS * BS
        if desc_pos // BS != end - 1:
            die("%s: descriptor spans several blocks; not handled" % path)
        at = desc_pos - (end - 1) * BS
        desc = last[at:at + 256]
        if cmd == "show":
            print("size %d descriptor at %d sig_size %d" % (size_of(img, path), desc_pos,
                                                           struct.unpack("<I", desc[4:8])[0]))
            return
        sig = open(sys.argv[4], "rb").read() if len(sys.argv) > 4 and sys.argv[4] else b""
        if at + 256 + len(sig) + 4 > BS:
            die("%s: signature of %d bytes does not fit the descriptor block" % (path, len(sig)))
        blk = bytearray(BS)
        blk[:at] = last[:at]
        blk[at:at + 256] = desc
        blk[at + 4:at + 8] = struct.pack("<I", len(sig))
        blk[at + 256:at + 256 + len(sig)] = sig
        blk[BS - 4:] = struct.pack("<I", 256 + len(sig))
        pwrite(bytes(blk), m[end - 1] * BS)
    else:
        die("unknown command " + cmd)
    os.close(fd)

main()
