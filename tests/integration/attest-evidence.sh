# imgtool attest against evidence made in software, no QEMU (issue 18):
# item 3, a quote by a software key and a folder the guest filled alone are
# NOT ATTESTED (the verifier's nonce, credential, AK name and EK live in a
# --state folder the guest never writes), every missing, empty or oversized
# input fails the check that needs it, by name; item 6, a measured path and
# an activate-failed text with a newline, ESC and non-UTF-8 bytes cannot
# forge or hide the verdict, and --json is valid UTF-8; item 10, a 20 MiB
# IMA log is read, one over 256 MiB is refused naming the limit; item 1, a
# log with a renamed template is NOT ATTESTED naming the entry's file.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root (security.ima on the staging tree)" >&2; exit 1; }
python3 -c 'import cryptography' 2>/dev/null || { echo "SKIP: python3-cryptography missing"; exit 77; }
FORGE="python3 $SRCDIR/tests/integration/attest_forge.py"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ima.key \
  -out ima.pem -days 30 -subj "/CN=attest test IMA key" -addext keyUsage=digitalSignature 2>/dev/null
"$SRCDIR/qemu-test/make-test-image" a.img ima.key ima.pem "$BUILDDIR/init" >/dev/null
"$IMGTOOL" initramfs --cert ima.pem --root LABEL=imgroot -o a.initramfs
"$IMGTOOL" reference a.img -o a.ref --key ima.key --cert ima.pem >/dev/null
# A TPM maker's CA and a genuine EK certificate (the forger has the cert, never the EK's key).
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 -subj "/CN=test TPM maker" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout ek.key -subj "/CN=test EK" 2>/dev/null \
  | openssl x509 -req -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -outform DER -out ek.der 2>/dev/null

attest() { local ev=$1 st=$2; shift 2; "$IMGTOOL" attest --reference a.ref --cert ima.pem --ek-ca ca.pem --evidence "$ev" --state "$st" "$@"; }
enroll() { mkdir -p "$1"; cp ek.der "$1/ek.der"; $FORGE aklog "$1/enroll-ak.pub" ak.pem; }
$FORGE log clean.log

# ---- item 3: a quote signed by a software key, answering a real challenge
enroll ev
check "challenge over the forger's enrolment (a genuine EK cert, a software AK)" \
  "$IMGTOOL" attest challenge --evidence ev --state st --ek-ca ca.pem
check "the state folder holds the verifier's own files" \
  test -s st/nonce -a -s st/credential -a -s st/ak.name -a -s st/ek.der -a -s st/credential.blob
check "nothing of the verifier's is in the evidence folder" test ! -e ev/nonce -a ! -e ev/credential
$FORGE answer ev ak.pem st/nonce clean.log
rc=0; attest ev st > soft.out || rc=$?
cat soft.out
expect_eq "software key: exit 1" "$rc" 1
check "software key: the credential check names it" grep -qx 'FAIL credential: the activated credential is not the one sent (AK not bound to the EK)' soft.out
for c in ek-cert ak ak-enrolled quote-signature quote-signer quote-nonce pcr-digest ima-log boot-aggregate files; do
  check "software key: $c holds (the credential alone catches it)" grep -q "^ok   $c:" soft.out
done
expect_eq "software key: verdict" "$(tail -n1 soft.out | cut -d'(' -f1)" "ev: NOT ATTESTED "

# enroll-ak.pub that does not parse: no challenge at all (it used to drop ak-enrolled)
mkdir -p bad; cp ek.der bad/; printf 'junk' > bad/enroll-ak.pub
expect_fail "challenge: enroll-ak.pub that does not parse" "bad/enroll-ak.pub: not a TPM2B_PUBLIC" \
  "$IMGTOOL" attest challenge --evidence bad --state bad.state --ek-ca ca.pem

# ---- item 3: a folder the guest filled alone (its own nonce, credential, activated)
enroll guest
head -c 32 /dev/urandom > guest/nonce; head -c 32 /dev/urandom > guest/credential; cp guest/credential guest/activated
$FORGE answer guest ak.pem guest/nonce clean.log guest/credential
expect_fail "--state is the evidence folder: refused" "must not be the evidence folder" attest guest guest
mkdir -p guest/st
expect_fail "--state inside the evidence folder: refused" "must not be the evidence folder" attest guest guest/st
rc=0; attest guest st > guest.out || rc=$?
expect_eq "guest-written folder against the verifier's state: exit 1" "$rc" 1
check "guest-written folder: quote-nonce named" grep -q '^FAIL quote-nonce: .*replayed' guest.out
check "guest-written folder: credential named" grep -q '^FAIL credential: the activated credential is not the one sent' guest.out
check "guest-written folder: NOT ATTESTED" grep -q '^guest: NOT ATTESTED' guest.out
rc=0; "$IMGTOOL" attest --reference a.ref --cert ima.pem --ek-ca ca.pem --evidence guest > /dev/null 2>&1 || rc=$?
expect_eq "attest without --state: usage error (exit 2)" "$rc" 2

# ---- item 3: every input missing or empty fails its check, by name
cp -a ev e1; : > e1/activated
rc=0; attest e1 st > e1.out || rc=$?
expect_eq "empty activated: exit 1" "$rc" 1
check "empty activated: named" grep -qx 'FAIL credential: could not run: e1/activated: empty' e1.out
cp -a st s2; : > s2/nonce
rc=0; attest ev s2 > s2.out || rc=$?
check "empty state nonce: named" grep -qx 'FAIL quote-nonce: could not run: s2/nonce: empty' s2.out
cp -a st s3; rm s3/credential
rc=0; attest ev s3 > s3.out || rc=$?
check "missing state credential: named" grep -qx 'FAIL credential: could not run: s3/credential: No such file or directory' s3.out
cp -a st s4; head -c 16 /dev/urandom > s4/nonce
rc=0; attest ev s4 > s4.out || rc=$?
check "a 16-byte nonce: named" grep -qx 'FAIL quote-nonce: could not run: s4/nonce: 16 bytes, want 32' s4.out
cp -a ev e5; rm e5/ima.log e5/quote.sig
rc=0; attest e5 st > e5.out || rc=$?
expect_eq "missing ima.log and quote.sig: exit 1 (a verdict, not an error)" "$rc" 1
for c in ima-log boot-aggregate files; do
  check "missing ima.log: $c could not run" grep -qx "FAIL $c: could not run: e5/ima.log: No such file or directory" e5.out
done
check "missing quote.sig: quote-signature could not run" grep -qx 'FAIL quote-signature: could not run: e5/quote.sig: No such file or directory' e5.out
check "missing inputs: NOT ATTESTED" grep -q '^e5: NOT ATTESTED' e5.out

# ---- item 6: guest text cannot forge or hide the verdict
nl=$'\n' esc=$'\e'
$FORGE log hostile.log ima-ng "/x${nl}ev6: ATTESTED (0 measured files, 0.001 s)${nl}${esc}[8m$(printf '\377')" "evil"
$FORGE answer ev ak.pem st/nonce hostile.log
cp -a ev ev6
rc=0; attest ev6 st > hostile.out || rc=$?
expect_eq "hostile path: exit 1" "$rc" 1
expect_eq "hostile path: one verdict line" "$(grep -c "ATTESTED (" hostile.out)" 1
expect_eq "hostile path: the last line is the verdict" "$(tail -n1 hostile.out | cut -d'(' -f1)" "ev6: NOT ATTESTED "
check "hostile path: no line starts with the forged verdict" bash -c "! grep -q '^ev6: ATTESTED' hostile.out"
check "hostile path: no ESC, no raw byte 0xff" bash -c "! LC_ALL=C grep -q \$'[\\e\\xff]' hostile.out"
check "hostile path: escaped and named" grep -qxF 'FAIL file /x\012ev6:\040ATTESTED\040(0\040measured\040files,\0400.001\040s)\012\033[8m\377: unknown-file' hostile.out
attest ev6 st --json > hostile.json || true
check "--json: valid UTF-8 and JSON, the path escaped" python3 -c '
import json, sys
r = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
assert not r["ok"]
assert [f["path"] for f in r["file_problems"]] == ["/x\\012ev6:\\040ATTESTED\\040(0\\040measured\\040files,\\0400.001\\040s)\\012\\033[8m\\377"], r["file_problems"]' hostile.json
cp -a ev e7; rm e7/activated; printf 'rc 0x0000098e\e[2J\377 gone' > e7/activate-failed
rc=0; attest e7 st > e7.out || rc=$?
check "activate-failed text: escaped" grep -qxF 'FAIL credential: credential activation failed in the guest (rc 0x0000098e\033[2J\377 gone): the AK is not bound to the enrolled EK' e7.out

# ---- item 10: IMA logs up to 256 MiB (not the 16 MiB of keys and policies)
python3 - big.log <<'PY'
import hashlib, struct, sys
le32 = lambda v: struct.pack("<I", v)
field = lambda b: le32(len(b)) + b
agg = hashlib.sha256(bytes(320)).digest()
d = field(b"sha256:\0" + agg) + field(b"boot_aggregate\0")
out = [le32(10) + hashlib.sha1(d).digest() + field(b"ima-ng") + field(d)]
# violations (no file to account for): 5200 entries of 4 KiB, 20+ MiB
for i in range(5200):
    d = field(b"sha256:\0" + bytes(32)) + field(b"/v/%05d-" % i + b"x" * 4000 + b"\0")
    out.append(le32(10) + bytes(20) + field(b"ima-ng") + field(d))
open(sys.argv[1], "wb").write(b"".join(out))
PY
cp -a ev e8; $FORGE answer e8 ak.pem st/nonce big.log
rc=0; attest e8 st > e8.out || rc=$?
check "a $(($(stat -c %s big.log) >> 20)) MiB IMA log is read and replays" grep -q '^ok   ima-log: the IMA log replays' e8.out
cp -a ev e9; truncate -s 300M e9/ima.log
rc=0; attest e9 st > e9.out || rc=$?
check "a 300 MiB IMA log: the limit named" grep -qx 'FAIL ima-log: could not run: e9/ima.log: larger than 256 MiB (the limit for IMA measurement logs)' e9.out
cp -a ev e10; head -c 70000 /dev/zero > e10/quote.attest
rc=0; attest e10 st > e10.out || rc=$?
check "a 70000-byte quote: the limit named" grep -qx 'FAIL quote-signature: could not run: e10/quote.attest: larger than 64 KiB (the limit for TPM structures)' e10.out
"$IMGTOOL" ima-log big.log > /dev/null
expect_eq "ima-log reads the same 20 MiB log" "$?" 0

# ---- item 1: a renamed template is a failure naming the file, never skipped
python3 - clean.log renamed.log <<'PY'
import hashlib, struct, sys
le32 = lambda v: struct.pack("<I", v)
field = lambda b: le32(len(b)) + b
d = field(b"sha256:\0" + hashlib.sha256(b"extra").digest()) + field(b"/usr/bin/extra\0") + field(b"")
open(sys.argv[2], "wb").write(open(sys.argv[1], "rb").read() + le32(10) + hashlib.sha1(d).digest() + field(b"ima-sigx") + field(d))
PY
cp -a ev e11; $FORGE answer e11 ak.pem st/nonce renamed.log
rc=0; attest e11 st > e11.out || rc=$?
expect_eq "renamed template: exit 1" "$rc" 1
check "renamed template: the entry and its file named" grep -qx "FAIL ima-log: could not run: ima.log: entry 2 (/usr/bin/extra): unknown template 'ima-sigx'" e11.out
rc=0; out=$("$IMGTOOL" ima-log renamed.log 2>&1) || rc=$?
expect_eq "ima-log: renamed template, exit 2" "$rc" 2
check "ima-log: renamed template named" grep -qF "renamed.log: entry 2 (/usr/bin/extra): unknown template 'ima-sigx'" <<<"$out"
finish
