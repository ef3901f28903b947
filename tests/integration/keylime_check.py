#!/usr/bin/env python3
"""Check an `imgtool keylime-policy` output the way Keylime would.

  keylime_check.py POLICY [--manifest MANIFEST.json] [--log BINARY_IMA_LOG]
                   [--without digests|keys]

1. POLICY validates against Keylime's RUNTIME_POLICY_SCHEMA
   (tests/data/keylime/runtime-policy.schema.json) and its verification-keys
   string against IMA_KEYRING_JSON_SCHEMA, as keylime/ima/ima.py's
   validate_runtime_policy() does; ImaKeyring.from_string() must load it
   (Keylime's own file_signatures.py, copied with origin in tests/data/keylime).
2. --manifest (imgtool manifest --json): the digests are exactly the image's
   regular files with their sha256.
3. --log: each ima-ng/ima-sig entry of a real boot's binary log is accepted as
   keylime/ima/ima.py's _validate_ima_sig/_validate_ima_ng accept it: a
   signature verifying with a verification key (Keylime's code does the
   verification), else the digest listed under the path; excluded paths
   skipped.  boot_aggregate is left to Keylime's quote check (it adds the value
   computed from PCRs 0-9 itself).  --without digests|keys drops one of the two
   routes, to show each alone accepts the boot.
Prints one line per problem ('not_in_allowlist PATH', ...) and exits 1 if any.
"""
import argparse
import json
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "keylime")
sys.path.insert(0, DATA)

import logging  # noqa: E402

import jsonschema  # noqa: E402
from keylime.ima import file_signatures  # noqa: E402  (Keylime's own code)


def parse_log(buf):
    """Binary IMA log (x86, little endian): ima-ng / ima-sig entries."""
    off, out = 0, []
    while off < len(buf):
        pcr, = struct.unpack_from("<I", buf, off)
        off += 4 + 20
        nlen, = struct.unpack_from("<I", buf, off)
        name = buf[off + 4:off + 4 + nlen].decode()
        off += 4 + nlen
        dlen, = struct.unpack_from("<I", buf, off)
        data = buf[off + 4:off + 4 + dlen]
        off += 4 + dlen
        fields, p = [], 0
        while p < len(data):
            flen, = struct.unpack_from("<I", data, p)
            fields.append(data[p + 4:p + 4 + flen])
            p += 4 + flen
        algo, _, digest = fields[0].partition(b":\0")
        path = fields[1].rstrip(b"\0").decode("utf-8", "surrogateescape")
        sig = fields[2] if name == "ima-sig" and len(fields) > 2 and fields[2] else None
        out.append((pcr, name, algo.decode(), digest, path, sig))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("policy")
    ap.add_argument("--manifest")
    ap.add_argument("--log")
    ap.add_argument("--without", choices=["digests", "keys"])
    a = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)  # Keylime warns per unknown keyid
    problems = []
    policy = json.load(open(a.policy))
    schema = json.load(open(os.path.join(DATA, "runtime-policy.schema.json")))
    schema.pop("$comment", None)
    try:
        jsonschema.validate(instance=policy, schema=schema)
        jsonschema.validate(instance=json.loads(policy["verification-keys"]),
                            schema=file_signatures.IMA_KEYRING_JSON_SCHEMA)
    except jsonschema.ValidationError as e:
        print("schema", str(e).split("\n", 1)[0])
        return 1
    ring = file_signatures.ImaKeyring.from_string(policy["verification-keys"])
    if ring is None or not ring.ringv2:
        print("verification-keys: Keylime loads no key")
        return 1

    if a.manifest:
        files = {e["path"]: e["sha256"] for e in json.load(open(a.manifest)) if e["type"] == "f"}
        for path in sorted(set(files) | set(policy["digests"])):
            got = policy["digests"].get(path)
            if path not in files:
                problems.append(f"not_in_image {path}")
            elif got is None:
                problems.append(f"missing_from_policy {path}")
            elif files[path] not in got:
                problems.append(f"digest_differs {path}")

    if a.log:
        rings = file_signatures.ImaKeyrings()
        if a.without != "keys":
            rings.set_tenant_keyring(ring)
        digests = {} if a.without == "digests" else policy["digests"]
        excl = re.compile("(" + ")|(".join(policy["excludes"]) + ")") if policy["excludes"] else None
        entries = parse_log(open(a.log, "rb").read())
        for pcr, name, algo, digest, path, sig in entries:
            if name not in ("ima-ng", "ima-sig"):
                problems.append(f"unsupported_template {name} {path}")
                continue
            if path == "boot_aggregate" or (excl and excl.match(path)):
                continue
            # keylime/ima/ima.py _validate_ima_sig: a good signature is enough
            if sig and rings.integrity_digsig_verify(sig, digest, algo):
                continue
            # ... else _validate_ima_ng: the digest must be listed for the path
            accept = digests.get(path)
            if accept is None:
                problems.append(f"not_in_allowlist {path}")
            elif digest.hex() not in accept:
                problems.append(f"runtime_policy_hash {path}")
        print(f"{len(entries)} log entries checked")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
