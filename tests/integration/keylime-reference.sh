# reference and keylime-policy, offline: the Keylime policy validates with
# Keylime's own schema and keyring code and lists exactly the manifest's
# digests; the reference file is signed, reproducible, and refused when
# changed or checked with another key.  (The boot round trip: boot_attest.sh.)
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root (security.ima on the staging tree)" >&2; exit 1; }
KC="python3 $SRCDIR/tests/integration/keylime_check.py"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ima.key \
  -out ima.pem -days 30 -subj "/CN=attest test IMA key" -addext keyUsage=digitalSignature 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key \
  -out other.pem -days 30 -subj "/CN=some other key" 2>/dev/null
"$SRCDIR/qemu-test/make-test-image" test.img ima.key ima.pem "$BUILDDIR/init" >/dev/null
"$IMGTOOL" initramfs --cert ima.pem --root LABEL=imgroot --cmdline-test -o test.initramfs
keyid=$(openssl x509 -in ima.pem -noout -ext subjectKeyIdentifier | tail -n1 | tr -d ' :' | tail -c 9 | tr A-F a-f)

# ---- keylime-policy
check "keylime-policy writes a policy" "$IMGTOOL" keylime-policy test.img -o policy.json
"$IMGTOOL" manifest test.img --json > manifest.json
check "policy: Keylime's schema, keyring loads, digests == manifest" $KC policy.json --manifest manifest.json
nfiles=$(python3 -c 'import json,sys; print(sum(1 for e in json.load(open(sys.argv[1])) if e["type"]=="f"))' manifest.json)
expect_eq "one digest entry per regular file" \
  "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["digests"]))' policy.json)" "$nfiles"
expect_eq "verification key is the initramfs cert, keyid listed explicitly" \
  "$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print("%08x" % json.loads(p["verification-keys"])["keyids"][0])' policy.json)" "$keyid"
expect_eq "nothing excluded" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["excludes"])' policy.json)" "[]"
"$IMGTOOL" keylime-policy test.img -o policy2.json
check "policy is reproducible" cmp -s policy.json policy2.json
# The checker can fail: a wrong generator, a digest that is not the manifest's.
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); p["meta"]["generator"]=9; json.dump(p,open("bad-schema.json","w"))' policy.json
out=$($KC bad-schema.json 2>&1) && fail "schema accepts generator 9" || check "schema refuses generator 9" grep -q '^schema' <<<"$out"
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); p["digests"]["/bin/busybox"]=["00"*32]; json.dump(p,open("bad-digest.json","w"))' policy.json
out=$($KC bad-digest.json --manifest manifest.json 2>&1) && fail "changed digest accepted" \
  || check "changed digest named" grep -qx 'digest_differs /bin/busybox' <<<"$out"
cp ima.pem notimg; expect_fail "keylime-policy: not an image" "notimg: not an ext4 image" "$IMGTOOL" keylime-policy notimg -o x.json
check "no output left behind" test ! -e x.json

# ---- reference
check "reference written" "$IMGTOOL" reference test.img -o ref.json --key ima.key --cert ima.pem
openssl x509 -in ima.pem -pubkey -noout > ima.pub
check "reference verifies with openssl over the prefixed content" bash -c \
  "(printf '\\000imgtool reference signature v1\\n'; cat ref.json) | openssl dgst -sha256 -verify ima.pub -signature ref.json.sig"
# Domain separation (issue 18 item 12): an IMA v2 signature of a file whose
# content is ref.json would be a signature over sha256(ref.json): FILE.sig is not.
rc=0; openssl dgst -sha256 -verify ima.pub -signature ref.json.sig ref.json >/dev/null 2>&1 || rc=$?
expect_eq "reference.sig is not a signature over sha256(FILE) (so never a valid security.ima)" "$rc" 1
printf '#!/bin/sh\necho signed\n' > prog.sh
evmctl ima_sign --sigfile --key ima.key -a sha256 prog.sh >/dev/null 2>&1
tail -c +10 prog.sh.sig > prog.rawsig     # the signature part of 03 02 algo keyid len SIG
cp prog.sh forged.json; cp prog.rawsig forged.json.sig
rc=0; err=$("$IMGTOOL" reference --check forged.json --cert ima.pem 2>&1) || rc=$?
expect_eq "an IMA signature is not accepted as a FILE.sig (exit 1)" "$rc" 1
check "an IMA signature as FILE.sig: named" grep -q 'forged.json: signature does not verify' <<<"$err"
check "reference --check" "$IMGTOOL" reference --check ref.json --cert ima.pem
expect_eq "reference lists every regular file" \
  "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["files"]))' ref.json)" "$nfiles"
expect_eq "reference digests == manifest" \
  "$(python3 -c 'import json,sys; print(sorted((f["path"],f["sha256"]) for f in json.load(open(sys.argv[1]))["files"]))' ref.json)" \
  "$(python3 -c 'import json,sys; print(sorted((e["path"],e["sha256"]) for e in json.load(open(sys.argv[1])) if e["type"]=="f"))' manifest.json)"
expect_eq "reference holds the initramfs's policy" \
  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["boot"]["ima_policy"], end="")' ref.json | sha256sum)" \
  "$("$IMGTOOL" policy | sha256sum)"
expect_eq "reference keyids" \
  "$(python3 -c 'import json,sys; print(sorted({f["keyid"] for f in json.load(open(sys.argv[1]))["files"] if f["keyid"]}))' ref.json)" \
  "$(python3 -c 'import json,sys; print(sorted({e["ima"][4:] for e in json.load(open(sys.argv[1])) if e["type"]=="f" and (e["ima"] or "").startswith("sig:")}))' manifest.json)"
"$IMGTOOL" reference test.img -o ref2.json --key ima.key --cert ima.pem >/dev/null
check "reference and signature are reproducible" cmp -s ref.json ref2.json
check "reference signature is reproducible" cmp -s ref.json.sig ref2.json.sig
sed 's/"sha256":"\(.\)/"sha256":"0/' ref.json > changed.json; cp ref.json.sig changed.json.sig
rc=0; err=$("$IMGTOOL" reference --check changed.json --cert ima.pem 2>&1) || rc=$?
expect_eq "changed reference refused (exit 1)" "$rc" 1
check "changed reference: message" grep -q 'changed.json: signature does not verify' <<<"$err"
rc=0; "$IMGTOOL" reference --check ref.json --cert other.pem 2>/dev/null || rc=$?
expect_eq "reference checked with another key refused" "$rc" 1
expect_fail "reference without its signature" "nosig.json.sig" \
  bash -c "cp ref.json nosig.json; '$IMGTOOL' reference --check nosig.json --cert ima.pem"
expect_fail "reference: key does not match cert" "." "$IMGTOOL" reference test.img -o r3.json --key other.key --cert ima.pem
check "nothing written on failure" test ! -e r3.json -a ! -e r3.json.sig

# ---- issue 18 item 7: a file name that is not UTF-8
cp test.img nu.img; cp test.initramfs nu.initramfs
printf 'x\n' > x.txt
printf 'cd /usr/lib/imgtool-test\nwrite x.txt bad\377name\n' | debugfs -w -f - nu.img >/dev/null 2>&1
rc=0; err=$("$IMGTOOL" keylime-policy nu.img -o nu-policy.json 2>&1) || rc=$?
expect_eq "keylime-policy: a non-UTF-8 name refused (exit 2)" "$rc" 2
expect_eq "keylime-policy: the file named, escaped" "$err" \
  'imgtool: /usr/lib/imgtool-test/bad\377name: the file name is not UTF-8: a Keylime policy cannot name it (rename it, or attest with imgtool reference)'
check "keylime-policy: nothing written" test ! -e nu-policy.json
check "reference: a non-UTF-8 name" "$IMGTOOL" reference nu.img -o nu.ref --key ima.key --cert ima.pem
check "reference: valid UTF-8 JSON, the name as path_hex (and escaped path)" python3 -c '
import json, sys
r = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
f = [f for f in r["files"] if "path_hex" in f]
assert len(f) == 1, f
assert bytes.fromhex(f[0]["path_hex"]) == b"/usr/lib/imgtool-test/bad\xffname", f
assert f[0]["path"] == "/usr/lib/imgtool-test/bad\\377name", f' nu.ref
check "reference: --check reads it" "$IMGTOOL" reference --check nu.ref --cert ima.pem
finish
