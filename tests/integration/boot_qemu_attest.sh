# Remote attestation round trips under QEMU with swtpm (qemu-test/run
# --attest, two boots each): a clean boot attests; a replayed quote, a quote
# from a second TPM, a log with an entry changed or dropped and an image with
# one file the reference lacks are each refused with the failed check named;
# so is that image's real log with the extra file's entry under a renamed
# template (issue 18 item 1: the template name is not in the template digest,
# PCR 10 still replays).
# The real boot's IMA log is also checked the Keylime way against
# keylime-policy's output.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: boot tests need root (security.ima on the staging tree)" >&2; exit 1; }
KERNEL=$BUILDDIR/kernel/vmlinuz
[ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
RUN=$SRCDIR/qemu-test/run
export IMGTOOL
T_DIR=/usr/lib/imgtool-test
EXERCISE="cat $T_DIR/data.txt >/dev/null; $T_DIR/good.sh; $T_DIR/imgtool-guest-dyn"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ima.key \
  -out ima.pem -days 30 -subj "/CN=attest test IMA key" -addext keyUsage=digitalSignature 2>/dev/null
"$SRCDIR/qemu-test/make-test-image" a.img ima.key ima.pem "$BUILDDIR/init" >/dev/null
"$IMGTOOL" initramfs --cert ima.pem --root LABEL=imgroot --cmdline-test -o a.initramfs
cp "$KERNEL" a.vmlinuz
"$IMGTOOL" reference a.img -o a.ref --key ima.key --cert ima.pem >/dev/null

# Image B: A plus one file signed by the same (trusted) key.
cp a.img b.img; cp a.initramfs b.initramfs; cp a.vmlinuz b.vmlinuz
printf '#!/bin/sh\necho extra: ran\n' > extra.sh
evmctl ima_sign --sigfile --key ima.key --keyid-from-cert ima.pem -a sha256 extra.sh >/dev/null 2>&1
printf 'cd %s\nwrite extra.sh extra.sh\nsif extra.sh mode 0100755\nea_set -f extra.sh.sig extra.sh security.ima\n' "$T_DIR" \
  | debugfs -w -f - b.img >/dev/null 2>&1
check "image B holds the signed extra file" bash -c "'$IMGTOOL' verify b.img --cert ima.pem | grep -q 'b.img: OK'"

# verify EVIDENCE [STATE]: the verifier's state is EVIDENCE.state (attest-lib.sh) unless named
verify() { local d=$1 st=${2:-$1.state}; shift; [ $# -gt 0 ] && shift
  "$IMGTOOL" attest --reference a.ref --cert ima.pem --ek-ca "$d/ek-ca.pem" --evidence "$d" --state "$st" "$@"; }

# ---- a clean boot attests
rc=0
"$RUN" a.img --attest --reference a.ref --cert ima.pem --evidence ev --exec "$EXERCISE" > clean.out 2>&1 || rc=$?
cat clean.out
expect_eq "clean boot attests (exit 0)" "$rc" 0
for c in ek-cert ak ak-enrolled credential quote-signature quote-signer quote-nonce pcr-digest ima-log boot-aggregate files; do
  check "clean: $c" grep -q "^ok   $c:" clean.out
done
check "clean: the exercised files are measured and accounted for" grep -qE '^ok   files: [5-9] measured files: [5-9] in the reference' clean.out
verify ev ev.state --json > clean.json || true
check "clean: --json ok" python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["ok"] and not r["file_problems"] and r["measured_files"] >= 5 else 1)' clean.json

# Keylime's way, on the same real log: accepted by digest and by signature alone.
"$IMGTOOL" keylime-policy a.img -o a.policy.json
check "Keylime check: real boot log accepted" python3 "$SRCDIR/tests/integration/keylime_check.py" a.policy.json --log ev/ima.log
check "Keylime check: by verification-keys alone" python3 "$SRCDIR/tests/integration/keylime_check.py" a.policy.json --log ev/ima.log --without digests
check "Keylime check: by digests alone" python3 "$SRCDIR/tests/integration/keylime_check.py" a.policy.json --log ev/ima.log --without keys

# ---- a replayed quote: the old answer to a new challenge
cp -a ev replay
"$IMGTOOL" attest challenge --evidence replay --state replay.state --ek-ca replay/ek-ca.pem
rc=0; verify replay > replay.out || rc=$?
expect_eq "replayed quote refused (exit 1)" "$rc" 1
check "replayed quote: nonce named" grep -q '^FAIL quote-nonce: .*replayed' replay.out
check "replayed quote: credential named" grep -q '^FAIL credential:' replay.out

# ---- the log, changed (template digest fixed up, as a forger would) or dropped
python3 - ev/ima.log changed.log dropped.log "$T_DIR/good.sh" <<'PY'
import hashlib, struct, sys
buf = open(sys.argv[1], "rb").read()
entries, off = [], 0
while off < len(buf):
    start = off
    off += 4 + 20
    n, = struct.unpack_from("<I", buf, off); off += 4 + n
    d, = struct.unpack_from("<I", buf, off); off += 4 + d
    entries.append(bytearray(buf[start:off]))
def path_of(e):
    n, = struct.unpack_from("<I", e, 24)
    data = e[28 + n + 4:]
    p = 0
    fields = []
    while p < len(data):
        l, = struct.unpack_from("<I", data, p); fields.append(bytes(data[p + 4:p + 4 + l])); p += 4 + l
    return fields[1].rstrip(b"\0").decode(), 28 + n + 4
target = sys.argv[4]
changed = [bytearray(e) for e in entries]
for e in changed:
    path, doff = path_of(e)
    if path == target:
        l, = struct.unpack_from("<I", e, doff)
        e[doff + 4 + l - 1] ^= 1            # last byte of the file digest
        e[4:24] = hashlib.sha1(bytes(e[doff:])).digest()
        break
else:
    sys.exit("no entry for " + target)
open(sys.argv[2], "wb").write(b"".join(changed))
dropped = [e for e in entries if path_of(e)[0] != target]
assert len(dropped) == len(entries) - 1
open(sys.argv[3], "wb").write(b"".join(dropped))
PY
cp -a ev changed; cp changed.log changed/ima.log
rc=0; verify changed ev.state > changed.out || rc=$?
expect_eq "changed log entry refused (exit 1)" "$rc" 1
check "changed entry: replay named" grep -q '^FAIL ima-log: .*does not replay' changed.out
check "changed entry: file named" grep -q "^FAIL file $T_DIR/good.sh: digest-differs" changed.out
cp -a ev dropped; cp dropped.log dropped/ima.log
rc=0; verify dropped ev.state > dropped.out || rc=$?
expect_eq "dropped log entry refused (exit 1)" "$rc" 1
check "dropped entry: replay named" grep -q '^FAIL ima-log: .*does not replay' dropped.out

# ---- a quote from a second TPM (same maker's CA, not the enrolled one)
rc=0
"$RUN" a.img --attest --reference a.ref --cert ima.pem --evidence other --quote-tpm other > other.out 2>&1 || rc=$?
cat other.out
expect_eq "quote from a second swtpm refused (exit 1)" "$rc" 1
check "second TPM: AK not enrolled named" grep -q '^FAIL ak-enrolled: .*another TPM' other.out
check "second TPM: credential named" grep -q '^FAIL credential: .*not bound' other.out

# ---- image B booted, attested against A's reference
rc=0
"$RUN" b.img --attest --reference a.ref --cert ima.pem --evidence evb --exec "$T_DIR/extra.sh" > b.out 2>&1 || rc=$?
cat b.out
expect_eq "image with a file not in the reference refused (exit 1)" "$rc" 1
check "image B: the unknown file named" grep -q "^FAIL file $T_DIR/extra.sh: unknown-file" b.out
check "image B: the extra file did run (IMA let the signed file through)" grep -q 'extra: ran' b.out
check "image B: TPM checks still hold" grep -q '^ok   quote-nonce' b.out

# ---- image B's real log, the extra file's entry under another template name
# (PCR 10 still replays: the template digest does not cover the name)
for t in ima-sigv2 ima-sigx ima-buf; do
  python3 - evb/ima.log "renamed-$t.log" "$T_DIR/extra.sh" "$t" <<'PY'
import struct, sys
buf, out, off, n = open(sys.argv[1], "rb").read(), b"", 0, 0
while off < len(buf):
    start = off
    off += 24
    nl, = struct.unpack_from("<I", buf, off); name_at = off; off += 4 + nl
    dl, = struct.unpack_from("<I", buf, off); data = buf[off + 4:off + 4 + dl]; off += 4 + dl
    e = buf[start:off]
    if sys.argv[3].encode() + b"\0" in data:
        new = sys.argv[4].encode()
        e = buf[start:name_at] + struct.pack("<I", len(new)) + new + buf[name_at + 4 + nl:off]
        n += 1
    out += e
assert n == 1, n
open(sys.argv[2], "wb").write(out)
PY
  cp -a evb "renamed-$t"; cp "renamed-$t.log" "renamed-$t/ima.log"
  rc=0; verify "renamed-$t" evb.state > "renamed-$t.out" || rc=$?
  cat "renamed-$t.out"
  expect_eq "template renamed to $t: exit 1" "$rc" 1
  check "template renamed to $t: NOT ATTESTED (refused, never skipped)" \
    grep -q "^renamed-$t: NOT ATTESTED" "renamed-$t.out"
done
check "renamed to ima-sigv2: the entry and file named" \
  grep -qE "^FAIL ima-log: could not run: ima.log: entry [0-9]+ \($T_DIR/extra.sh\): d-ngv2 digest field without 'type:algo:'" renamed-ima-sigv2.out
check "renamed to ima-sigx: the entry and file named" \
  grep -qE "^FAIL ima-log: could not run: ima.log: entry [0-9]+ \($T_DIR/extra.sh\): unknown template 'ima-sigx'" renamed-ima-sigx.out
check "renamed to ima-buf: replays, and the file is named" grep -q '^ok   ima-log: the IMA log replays' renamed-ima-buf.out
check "renamed to ima-buf: the file named" grep -qx "FAIL file $T_DIR/extra.sh: buffer-digest-differs" renamed-ima-buf.out
rc=0; out=$("$IMGTOOL" ima-log --manifest <("$IMGTOOL" manifest b.img) renamed-ima-sigx.log 2>&1) || rc=$?
expect_eq "ima-log --manifest: renamed template refused (exit 2)" "$rc" 2
check "ima-log --manifest: the entry named" grep -qF "($T_DIR/extra.sh): unknown template 'ima-sigx'" <<<"$out"
finish
