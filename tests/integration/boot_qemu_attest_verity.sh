# Remote attestation of a [Verity] image (issue 18 item 1): its kernel
# measures every file with template ima-ngv2 and a "verity:" digest.  The
# demo composed with [Verity] Signatures=ima-v3 boots once through an
# attestation round trip (qemu-test/run --attest, swtpm, two boots): against
# its own reference it attests, every measured file's fs-verity digest
# checked against the reference's; against the reference of the same image
# less one program (which the guest runs), it is NOT ATTESTED naming that
# program.  Before, every ima-ngv2 entry was skipped and both attested.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: boot tests need root" >&2; exit 1; }
[ -f "$BUILDDIR/kernel/vmlinuz" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
export IMGTOOL
T_DIR=/usr/lib/imgtool-test

rc=0
"$SRCDIR/layouts/demo/run-demo" "$BUILDDIR" --out demo --no-boot > demo.out 2> demo.err || rc=$?
expect_eq "run-demo --no-boot (packages, key)" "$rc" 0
[ "$rc" -eq 0 ] || { tail -20 demo.err >&2; finish; exit 1; }
CERT=demo/key/signing.der
check "compose the demo with [Verity] Signatures=ima-v3" "$IMGTOOL" compose demo/demo.conf -o v.img \
  --set Verity.Enable=yes --set Verity.Signatures=ima-v3 --quiet
check "reference of the verity image" "$IMGTOOL" reference v.img -o v.ref --key demo/key/signing.key --cert "$CERT"
check "the reference carries fs-verity digests" python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["files"]
assert f and all(len(x.get("verity_digest", "")) == 64 for x in f), [x["path"] for x in f if "verity_digest" not in x][:5]' v.ref
# Image A: the same image less good.sh (a reference that lacks one program)
cp --sparse=always v.img a.img
for ext in initramfs vmlinuz; do [ -e "v.$ext" ] && cp "v.$ext" "a.$ext"; done
debugfs -w -R "rm $T_DIR/good.sh" a.img >/dev/null 2>&1
check "reference of the image less good.sh" "$IMGTOOL" reference a.img -o a.ref --key demo/key/signing.key --cert "$CERT"

rc=0
"$SRCDIR/qemu-test/run" v.img --attest --reference v.ref --cert "$CERT" --evidence ev \
  --exec "$T_DIR/good.sh; cat $T_DIR/data.txt >/dev/null" > clean.out 2>&1 || rc=$?
cat clean.out
expect_eq "verity image attests against its own reference (exit 0)" "$rc" 0
check "the exercised program ran" grep -q 'good: ORIGINAL-CONTENT-RAN' clean.out
check "files: measured files checked, none skipped" grep -qE '^ok   files: ([3-9]|[1-9][0-9]+) measured files: ([3-9]|[1-9][0-9]+) in the reference' clean.out
n=$("$IMGTOOL" ima-log ev/ima.log | grep -c ' verity:sha256:' || true)
check "the log records fs-verity digests (ima-ngv2): $n entries" test "${n:-0}" -ge 3
check "good.sh measured with its fs-verity digest" bash -c "'$IMGTOOL' ima-log ev/ima.log | grep -q 'verity:sha256:.* $T_DIR/good.sh\$'"

rc=0
"$IMGTOOL" attest --reference a.ref --cert "$CERT" --ek-ca ev/ek-ca.pem --evidence ev --state ev.state > extra.out || rc=$?
cat extra.out
expect_eq "the image with one extra program: exit 1" "$rc" 1
check "the extra program named" grep -qx "FAIL file $T_DIR/good.sh: unknown-file" extra.out
check "NOT ATTESTED" grep -q '^ev: NOT ATTESTED' extra.out
finish
