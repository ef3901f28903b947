#!/usr/bin/env python3
"""Rewrite an rpm-md repository's primary.xml for hostile-repository tests,
then repomd.xml's checksums for it, so only the crafted entry is wrong.

  repo-rewrite.py REPO point NAME-VERSION OTHER.rpm
      the primary.xml entry of NAME-VERSION gets OTHER.rpm's location and
      sha256 (metadata saying 2.0 for a file that is 1.0)
  repo-rewrite.py REPO bomb MIB
      primary.xml.gz becomes valid XML padded with MIB MiB of whitespace
"""
import gzip
import hashlib
import os
import re
import sys

repo, op = sys.argv[1], sys.argv[2]
repomd_path = os.path.join(repo, "repodata", "repomd.xml")
repomd = open(repomd_path).read()
m = re.search(r'<data type="primary">.*?</data>', repomd, re.S)
block = m.group(0)
href = re.search(r'<location href="([^"]+)"', block).group(1)
primary_path = os.path.join(repo, href)

if op == "point":
    nv, other = sys.argv[3], sys.argv[4]
    name, ver = nv.rsplit("-", 1)
    xml = gzip.open(primary_path).read().decode()
    data = open(os.path.join(repo, other), "rb").read()
    pkgs = re.split(r'(?=<package )', xml)
    for i, p in enumerate(pkgs):
        if "<name>%s</name>" % name in p and 'ver="%s"' % ver in p:
            p = re.sub(r'<checksum type="sha256" pkgid="YES">[0-9a-f]+</checksum>',
                       '<checksum type="sha256" pkgid="YES">%s</checksum>' % hashlib.sha256(data).hexdigest(), p)
            p = re.sub(r'<location href="[^"]+"/>', '<location href="%s"/>' % other, p)
            pkgs[i] = p
    raw = "".join(pkgs).encode()
    with open(primary_path, "wb") as f:
        f.write(gzip.compress(raw, mtime=0))
    open_size = len(raw)
    open_sum = hashlib.sha256(raw).hexdigest()
elif op == "bomb":
    mib = int(sys.argv[3])
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" packages="0">\n'
    pad = b" " * (1 << 20)
    with gzip.open(primary_path, "wb", compresslevel=9) as f:
        f.write(head)
        for _ in range(mib):
            f.write(pad)
        f.write(b"</metadata>\n")
    open_size, open_sum = len(head) + mib * len(pad) + 12, "0" * 64
else:
    sys.exit("repo-rewrite: unknown operation " + op)

gz = open(primary_path, "rb").read()
nb = re.sub(r'<checksum type="sha256">[0-9a-f]+</checksum>',
            '<checksum type="sha256">%s</checksum>' % hashlib.sha256(gz).hexdigest(), block)
nb = re.sub(r'<open-checksum type="sha256">[0-9a-f]+</open-checksum>',
            '<open-checksum type="sha256">%s</open-checksum>' % open_sum, nb)
nb = re.sub(r'<size>\d+</size>', '<size>%d</size>' % len(gz), nb)
nb = re.sub(r'<open-size>\d+</open-size>', '<open-size>%d</open-size>' % open_size, nb)
open(repomd_path, "w").write(repomd.replace(block, nb))
