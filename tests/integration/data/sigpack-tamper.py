#!/usr/bin/python3
"""Rewrite a signature pack (docs/sigpack.md) the way an attacker, or a buggy
tool holding a trusted key, could: change its entries, then sign the result
again with `openssl cms` (an independent signer: a pack imgtool did not make).

usage: sigpack-tamper.py IN OUT KEY CERT OP [ARGS...]
  swap-sigs PATH1 PATH2   exchange two entries' security.ima values
  reorder                 exchange the first two entries of the largest package
  rename PATH NEWPATH     give an entry another path (kept in sorted order)
  digest PATH             flip a bit of an entry's file digest
  drop PATH               leave an entry out
  none                    change nothing (re-sign only)
  -noattr as KEY: sign without signed attributes (what an IMA signature over
  the pack's bytes would be)
"""
import struct
import subprocess
import sys
import tempfile

HASH = {1: 16, 2: 20, 4: 32, 5: 48, 6: 64, 7: 28}


def parse(data):
    assert data[:16] == b"IMGTOOL-SIGPACK1"
    body_len = struct.unpack(">Q", data[24:32])[0]
    body = data[32:32 + body_len]
    at = 0

    def take(n):
        nonlocal at
        at += n
        return body[at - n:at]

    pkgs = []
    for _ in range(struct.unpack(">I", take(4))[0]):
        hdr = take(32)
        nevra = take(struct.unpack(">H", take(2))[0])
        entries = []
        for _ in range(struct.unpack(">I", take(4))[0]):
            path = take(struct.unpack(">H", take(2))[0])
            algo = take(1)[0]
            digest = take(HASH[algo])
            ima = take(struct.unpack(">H", take(2))[0])
            entries.append([path, algo, digest, ima])
        pkgs.append([hdr, nevra, entries])
    return pkgs


def encode(pkgs):
    b = struct.pack(">I", len(pkgs))
    for hdr, nevra, entries in pkgs:
        b += hdr + struct.pack(">H", len(nevra)) + nevra + struct.pack(">I", len(entries))
        for path, algo, digest, ima in entries:
            b += struct.pack(">H", len(path)) + path + bytes([algo]) + digest + struct.pack(">H", len(ima)) + ima
    return b"IMGTOOL-SIGPACK1" + struct.pack(">IIQ", 1, 0, len(b)) + b


def find(pkgs, path):
    for _, _, entries in pkgs:
        for e in entries:
            if e[0] == path.encode():
                return entries, e
    sys.exit(f"sigpack-tamper: no entry {path}")


def main():
    src, dst, key, cert, op, *args = sys.argv[1:]
    pkgs = parse(open(src, "rb").read())
    if op == "swap-sigs":
        _, a = find(pkgs, args[0])
        _, b = find(pkgs, args[1])
        a[3], b[3] = b[3], a[3]
    elif op == "reorder":
        e = max(pkgs, key=lambda p: len(p[2]))[2]
        e[0], e[1] = e[1], e[0]
    elif op == "rename":
        entries, e = find(pkgs, args[0])
        e[0] = args[1].encode()
        entries.sort(key=lambda x: x[0])
    elif op == "digest":
        _, e = find(pkgs, args[0])
        e[2] = bytes([e[2][0] ^ 1]) + e[2][1:]
    elif op == "drop":
        entries, e = find(pkgs, args[0])
        entries.remove(e)
    elif op != "none":
        sys.exit(f"sigpack-tamper: unknown op {op}")
    signed = encode(pkgs)
    noattr = key.startswith("-noattr:")
    key = key.removeprefix("-noattr:")
    with tempfile.NamedTemporaryFile() as f:
        f.write(signed)
        f.flush()
        cmd = ["openssl", "cms", "-sign", "-binary", "-nocerts", "-outform", "DER", "-md", "sha256",
               "-in", f.name, "-signer", cert, "-inkey", key]
        if noattr:
            cmd.append("-noattr")
        der = subprocess.run(cmd, check=True, capture_output=True).stdout
    open(dst, "wb").write(signed + struct.pack(">I", len(der)) + der)


main()
