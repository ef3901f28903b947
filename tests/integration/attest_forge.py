#!/usr/bin/env python3
"""attest_forge.py: TPM evidence made in software, for the tests that prove
`imgtool attest` refuses it (issue 18 item 3).  A forger controls everything
the guest sends; it holds no TPM, so it cannot activate a credential.

  log OUT [TEMPLATE PATH CONTENT]...     an IMA log: boot_aggregate (over
                                         PCRs 0-9 all zero) then the entries
                                         (CONTENT "@violation": a violation)
  aklog OUT.pub AK.pem                   enroll-ak.pub / ak.pub for a software
                                         P-256 key with a TPM AK's attributes
  answer DIR AK.pem NONCEFILE LOG [ACTIVATED]
                                         ak.pub, quote.attest, quote.sig, pcrs
                                         (0-9 zero, 10 the log's replay),
                                         ima.log and activated (bytes of the
                                         file ACTIVATED, or 32 random bytes)
Structures: TPM 2.0 Library Part 2 (TPMT_PUBLIC 12.2.4, TPMS_ATTEST 10.12.12,
TPMT_SIGNATURE 11.3.4); the IMA log as binary_runtime_measurements."""
import hashlib, os, struct, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

u16 = lambda v: struct.pack(">H", v)
u32 = lambda v: struct.pack(">I", v)
tpm2b = lambda b: u16(len(b)) + b
le32 = lambda v: struct.pack("<I", v)
field = lambda b: le32(len(b)) + b


def ak_public(key):
    nums = key.public_key().public_numbers()
    attrs = 0x2 | 0x10 | 0x20 | 0x40 | 0x10000 | 0x40000  # fixedTPM fixedParent sensitiveDataOrigin userWithAuth restricted sign
    area = (u16(0x0023) + u16(0x000B) + u32(attrs) + tpm2b(b"") + u16(0x0010) + u16(0x0018) + u16(0x000B)
            + u16(0x0003) + u16(0x0010) + tpm2b(nums.x.to_bytes(32, "big")) + tpm2b(nums.y.to_bytes(32, "big")))
    name = u16(0x000B) + hashlib.sha256(area).digest()
    qualified = u16(0x000B) + hashlib.sha256(u32(0x4000000B) + name).digest()
    return tpm2b(area), qualified


def load_key(path):
    if not os.path.exists(path):
        k = ec.generate_private_key(ec.SECP256R1())
        open(path, "wb").write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return serialization.load_pem_private_key(open(path, "rb").read(), None)


def entry(template, path, content):
    violation = content == "@violation"
    d = bytes(32) if violation else hashlib.sha256(content.encode()).digest()
    data = field(b"sha256:\0" + d) + field(path.encode("utf-8", "surrogateescape") + b"\0")
    if template in ("ima-sig", "ima-buf"):
        data += field(b"")
    tdig = bytes(20) if violation else hashlib.sha1(data).digest()
    return le32(10) + tdig + field(template.encode()) + field(data)


def replay(log):
    pcr, off = bytes(32), 0
    while off < len(log):
        off += 4
        tdig = log[off:off + 20]; off += 20
        n, = struct.unpack_from("<I", log, off); off += 4 + n
        n, = struct.unpack_from("<I", log, off); data = log[off + 4:off + 4 + n]; off += 4 + n
        ext = b"\xff" * 32 if tdig == bytes(20) else hashlib.sha256(data).digest()
        pcr = hashlib.sha256(pcr + ext).digest()
    return pcr


def main(argv):
    cmd = argv[1]
    if cmd == "log":
        agg = hashlib.sha256(bytes(32 * 10)).digest()
        data = field(b"sha256:\0" + agg) + field(b"boot_aggregate\0")
        out = le32(10) + hashlib.sha1(data).digest() + field(b"ima-ng") + field(data)
        rest = argv[3:]
        for i in range(0, len(rest), 3):
            out += entry(rest[i], rest[i + 1], rest[i + 2])
        open(argv[2], "wb").write(out)
    elif cmd == "aklog":
        open(argv[2], "wb").write(ak_public(load_key(argv[3]))[0])
    elif cmd == "answer":
        d, key = argv[2], load_key(argv[3])
        nonce, log = open(argv[4], "rb").read(), open(argv[5], "rb").read()
        pub, qualified = ak_public(key)
        pcrs = bytes(32 * 10) + replay(log)
        attest = (u32(0xFF544347) + u16(0x8018) + tpm2b(qualified) + tpm2b(nonce) + bytes(8) + u32(1) + u32(0)
                  + b"\x01" + bytes(8) + u32(1) + u16(0x000B) + b"\x03\xff\x07\x00"
                  + tpm2b(hashlib.sha256(pcrs).digest()))
        r, s = decode_dss_signature(key.sign(attest, ec.ECDSA(hashes.SHA256())))
        sig = u16(0x0018) + u16(0x000B) + tpm2b(r.to_bytes(32, "big")) + tpm2b(s.to_bytes(32, "big"))
        files = {"ak.pub": pub, "quote.attest": attest, "quote.sig": sig, "pcrs": pcrs, "ima.log": log,
                 "activated": open(argv[6], "rb").read() if len(argv) > 6 else os.urandom(32)}
        os.makedirs(d, exist_ok=True)
        for name, b in files.items():
            open(os.path.join(d, name), "wb").write(b)
    else:
        sys.exit("attest_forge.py: log | aklog | answer")


main(sys.argv)
