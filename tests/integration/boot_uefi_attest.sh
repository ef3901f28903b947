# Remote attestation of a Format=disk image booted by OVMF with Secure Boot
# (qemu-test/run DISK --uefi --attest: two boots on one swtpm each), four
# OVMF boots in all:
#  - the disk attests against its own reference (imgtool reference DISK
#    --sb-keys): exit 0, the quoted PCRs 4, 5 and 7 equal the prediction, the
#    IMA log replays and every measured file is in the reference;
#  - a second disk, same layout but another .cmdline in its UKI, attested
#    against the first disk's reference: refused, pcr4 named.
# The real log passes the Keylime check of keylime-policy's output.  The
# offline checks of a disk's reference are in disk.sh.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: boot tests need root (security.ima on the staging tree)" >&2; exit 1; }
KERNEL=$BUILDDIR/kernel/vmlinuz
[ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
RUN=$SRCDIR/qemu-test/run
export IMGTOOL SOURCE_DATE_EPOCH=1704067200 MTOOLS_SKIP_CHECK=1
export IMGTOOL_CACHE=$T/cache

"$SRCDIR/layouts/demo/run-demo" "$BUILDDIR" --out demo --no-boot > demo.out 2>&1 \
  || { cat demo.out >&2; fail "run-demo --no-boot"; finish; exit 1; }
"$IMGTOOL" keygen --secure-boot sb --subject "attest test" >/dev/null
KEY=$T/demo/key/signing.key CERT=$T/demo/key/signing.crt

compose() {  # compose DISK COMMANDLINE
  "$IMGTOOL" compose "$SRCDIR/layouts/demo.conf" -o "$1" -q \
    --set Packages.Directory= --set "Packages.Directory=$T/demo/signed" \
    --set Signatures.Certificate= --set "Signatures.Certificate=$T/demo/key/signing.der" \
    --set "Signatures.Key=$KEY" --set "Boot.Kernel=$KERNEL" \
    --set Image.Format=disk --set "Boot.CommandLine=$2" \
    --set "SecureBoot.Key=$T/sb/db.key" --set "SecureBoot.Certificate=$T/sb/db.crt"
}
compose a.disk "console=ttyS0 panic=-1"
compose b.disk "console=ttyS0 panic=-1 quiet"

# ---- offline: what the reference of a disk holds
"$IMGTOOL" reference a.disk -o a.ref --key "$KEY" --cert "$CERT" --sb-keys sb >/dev/null
"$IMGTOOL" pcrs a.disk --keys sb --json > a.pcrs.json
mcopy -n -i a.disk@@1048576 ::/EFI/BOOT/BOOTX64.EFI uki.efi
read -r size off < <(objdump -h uki.efi | awk '$2 == ".cmdline" { print $3, $6 }')
dd if=uki.efi bs=1 skip=$((16#$off)) count=$((16#$size)) status=none > uki.cmdline
check "reference: pcrs are imgtool pcrs's, the UKI's .cmdline, certs from its .initrd" python3 - a.ref a.pcrs.json uki.cmdline <<'PY'
import json, sys
ref, pcrs = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert ref["pcrs"]["values"] == pcrs["pcrs"], (ref["pcrs"], pcrs)
assert set(ref["pcrs"]["values"]) == {"4", "5", "7", "11"}
assert ref["boot"]["cmdline"] == open(sys.argv[3]).read(), ref["boot"]["cmdline"]
assert ref["boot"]["certs_source"] == "uki .initrd" and len(ref["certs"]) == 1
assert ref["boot"]["ima_policy"] and len(ref["files"]) > 10
PY
"$IMGTOOL" keylime-policy a.disk -o a.policy.json

# ---- a Secure Boot disk attests (boots 1 and 2)
rc=0
"$RUN" a.disk --uefi --secure-boot="$T/sb" --attest --reference a.ref --cert "$CERT" --evidence ev \
  --exec "/usr/lib/imgtool-test/good.sh >/dev/null 2>&1; cat /etc/os-release >/dev/null" > a.out 2>&1 || rc=$?
cat a.out
expect_eq "Secure Boot disk attests (exit 0)" "$rc" 0
for c in ek-cert credential quote-signature quote-nonce pcr-digest pcr4 pcr5 pcr7 ima-log boot-aggregate files; do
  check "disk: $c" grep -q "^ok   $c:" a.out
done
check "disk: good.sh and the other exercised files measured and accounted for" \
  grep -qE '^ok   files: [4-9] measured files: [4-9] in the reference' a.out
check "Keylime check of the disk's real log: accepted" \
  python3 "$SRCDIR/tests/integration/keylime_check.py" a.policy.json --log ev/ima.log

# ---- another UKI (b.disk: one more .cmdline word) against a.disk's reference (boots 3 and 4)
rc=0
"$RUN" b.disk --uefi --secure-boot="$T/sb" --attest --reference a.ref --cert "$CERT" --evidence evb > b.out 2>&1 || rc=$?
cat b.out
expect_eq "a disk with another UKI refused (exit 1)" "$rc" 1
check "other UKI: pcr4 named" grep -q '^FAIL pcr4: .*another UKI' b.out
check "other UKI: same keys, pcr7 holds" grep -q '^ok   pcr7:' b.out
check "other UKI: the TPM checks still hold" grep -q '^ok   quote-nonce:' b.out
check "other UKI: NOT ATTESTED" grep -q 'NOT ATTESTED' b.out
expect_eq "other UKI: pcr4 is the only failed check" "$(grep '^FAIL' b.out | cut -d: -f1 | tr '\n' ' ')" "FAIL pcr4 "
finish
