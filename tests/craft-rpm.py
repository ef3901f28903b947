#!/usr/bin/env python3
"""Rewrite tags of an rpmbuild-made package's main header, for tests that
need a package rpmbuild would never make (hostile input).  The header is
serialised again (one immutable region, tags in order, data aligned as rpm
checks it) and the signature header's digests and sizes are recomputed, so
the result passes rpm's digest checks and only the crafted values are wrong.

  craft-rpm.py IN.rpm get TAG                  print a tag's values (JSON)
  craft-rpm.py IN.rpm OUT.rpm OP [OP...]       write a crafted copy
     OP: set TAG TYPE JSON   (TYPE: int16 int32 int64 string bin string_array)
         del TAG
TAG is a number or a name from the table below (e.g. FILESIZES).
"""
import hashlib
import json
import struct
import sys

TAGS = {
    "HEADERIMMUTABLE": 63, "NAME": 1000, "FILESIZES": 1028, "FILEMODES": 1030,
    "FILEDIGESTS": 1035, "FILERDEVS": 1033, "FILELINKTOS": 1036, "FILEUSERNAME": 1039, "FILEGROUPNAME": 1040,
    "FILEINODES": 1096, "DIRINDEXES": 1116, "BASENAMES": 1117, "DIRNAMES": 1118,
    "LONGFILESIZES": 5008, "LONGSIZE": 5009, "SIZE": 1009,
}
TYPES = {"int16": 3, "int32": 4, "int64": 5, "string": 6, "bin": 7, "string_array": 8, "i18nstring": 9}
FIXED = {3: ("H", 2), 4: ("I", 4), 5: ("Q", 8), 2: ("B", 1), 1: ("B", 1)}
LEAD = 96
HDR_MAGIC = b"\x8e\xad\xe8\x01\x00\x00\x00\x00"
REGION = 63


def parse_header(buf, off):
    if buf[off:off + 8] != HDR_MAGIC:
        sys.exit("craft-rpm: no header at %d" % off)
    il, dl = struct.unpack(">II", buf[off + 8:off + 16])
    index = buf[off + 16:off + 16 + il * 16]
    data = buf[off + 16 + il * 16:off + 16 + il * 16 + dl]
    entries = []
    for i in range(il):
        tag, typ, eoff, count = struct.unpack(">IIiI", index[i * 16:i * 16 + 16])
        entries.append([tag, typ, eoff, count])
    return entries, data, off + 16 + il * 16 + dl


def raw_value(data, typ, off, count):
    if typ in FIXED:
        return data[off:off + FIXED[typ][1] * count]
    if typ == 7:
        return data[off:off + count]
    end = off
    for _ in range(1 if typ == 6 else count):
        end = data.index(b"\0", end) + 1
    return data[off:end]


def decode(typ, raw, count):
    if typ in FIXED:
        fmt, size = FIXED[typ]
        return list(struct.unpack(">%d%s" % (count, fmt), raw))
    if typ == 7:
        return raw.hex()
    return [s.decode("utf-8", "surrogateescape") for s in raw.split(b"\0")[:-1]]


def encode(typ, values):
    if typ in FIXED:
        fmt, _ = FIXED[typ]
        return struct.pack(">%d%s" % (len(values), fmt), *values), len(values)
    if typ == 7:
        b = bytes.fromhex(values)
        return b, len(b)
    if typ == 6:
        values = [values] if isinstance(values, str) else values
    b = b"".join(v.encode("utf-8", "surrogateescape") + b"\0" for v in values)
    return b, len(values)


def serialise(tags):
    """tags: {tag: (type, raw, count)} without the region tag."""
    order = sorted(tags)
    il = len(order) + 1
    index = [struct.pack(">IIiI", REGION, 7, 0, 16)]   # offset fixed below
    data = b""
    for tag in order:
        typ, raw, count = tags[tag]
        align = FIXED[typ][1] if typ in (3, 4, 5) else 1
        data += b"\0" * (-len(data) % align)
        index.append(struct.pack(">IIiI", tag, typ, len(data), count))
        data += raw
    index[0] = struct.pack(">IIiI", REGION, 7, len(data), 16)
    data += struct.pack(">IIiI", REGION, 7, -il * 16, 16)
    return HDR_MAGIC + struct.pack(">II", il, len(data)) + b"".join(index) + data


def tag_number(name):
    return int(name) if name.isdigit() else TAGS[name]


def main(argv):
    buf = open(argv[1], "rb").read()
    sig_entries, sig_data, sig_end = parse_header(buf, LEAD)
    main_off = sig_end + (-(sig_end - LEAD) % 8)
    entries, data, main_end = parse_header(buf, main_off)
    tags = {}
    for tag, typ, off, count in entries:
        if tag != REGION:
            tags[tag] = (typ, raw_value(data, typ, off, count), count)
    if argv[2] == "get":
        typ, raw, count = tags[tag_number(argv[3])]
        print(json.dumps(decode(typ, raw, count)))
        return
    out, ops = argv[2], argv[3:]
    while ops:
        if ops[0] == "set":
            typ = TYPES[ops[2]]
            raw, count = encode(typ, json.loads(ops[3]))
            tags[tag_number(ops[1])] = (typ, raw, count)
            ops = ops[4:]
        elif ops[0] == "del":
            tags.pop(tag_number(ops[1]), None)
            ops = ops[2:]
        else:
            sys.exit("craft-rpm: unknown operation %s" % ops[0])
    header = serialise(tags)
    payload = buf[main_end:]
    # The signature header keeps its layout: digests and sizes have fixed
    # lengths, so they are patched in place.
    sig = bytearray(buf[LEAD:sig_end])
    sig_data_start = 16 + len(sig_entries) * 16
    for tag, typ, off, count in sig_entries:
        at = sig_data_start + off
        if tag == 269:     # SHA1 of the header, hex
            sig[at:at + 40] = hashlib.sha1(header).hexdigest().encode()
        elif tag == 273:   # SHA256 of the header, hex
            sig[at:at + 64] = hashlib.sha256(header).hexdigest().encode()
        elif tag == 1004:  # MD5 of header + payload
            sig[at:at + 16] = hashlib.md5(header + payload).digest()
        elif tag == 1000:  # size of header + payload
            sig[at:at + 4] = struct.pack(">I", len(header) + len(payload))
        elif tag == 270:   # the same, 64-bit
            sig[at:at + 8] = struct.pack(">Q", len(header) + len(payload))
        elif tag in (267, 268, 1002, 1005, 1006, 1012):  # OpenPGP signatures
            sys.exit("craft-rpm: signed packages are not supported (tag %d)" % tag)
    pad = b"\0" * (-(sig_end - LEAD) % 8)
    with open(out, "wb") as f:
        f.write(buf[:LEAD] + bytes(sig) + pad + header + payload)


if __name__ == "__main__":
    if len(sys.argv) < 3 or (sys.argv[2] == "get" and len(sys.argv) < 4):
        sys.exit(__doc__)
    main(sys.argv)
