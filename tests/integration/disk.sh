# Format=disk without booting: the GPT (sfdisk), the ESP (fsck.fat, mtools),
# the root partition (e2fsck, and the very bytes of a Format=ext4 compose),
# the UKI (objdump, sbverify), keygen --secure-boot against efitools,
# reproducibility, imgtool verify/pcrs on a disk, and bad input.
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"
cd "$T"
KERNEL=$BUILDDIR/kernel/vmlinuz
[ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
export SOURCE_DATE_EPOCH=1704067200

make_test_packages rpms
"$IMGTOOL" keygen --out ima >/dev/null

# ---- keygen --secure-boot: what efitools would write -----------------------------
check "keygen --secure-boot" "$IMGTOOL" keygen --secure-boot sb --subject "disk test"
for f in PK KEK db; do
  for e in key crt der esl auth; do check "sb/$f.$e written" test -s "sb/$f.$e"; done
  expect_eq "sb/$f.key mode" "$(stat -c %a sb/$f.key)" 600
  check "sb/$f: RSA-2048 (what firmware verifies)" sh -c "openssl x509 -in sb/$f.crt -noout -text | grep -q 'Public-Key: (2048 bit)'"
  cert-to-efi-sig-list -g "$(cat sb/owner.guid)" sb/$f.crt $f.esl.efitools >/dev/null
  check "sb/$f.esl is cert-to-efi-sig-list's bytes" cmp sb/$f.esl $f.esl.efitools
done
sign-efi-sig-list -t "2024-01-01 00:00:00" -k sb/PK.key -c sb/PK.crt PK sb/PK.esl PK.auth.efitools >/dev/null
sign-efi-sig-list -t "2024-01-01 00:00:00" -k sb/PK.key -c sb/PK.crt KEK sb/KEK.esl KEK.auth.efitools >/dev/null
sign-efi-sig-list -t "2024-01-01 00:00:00" -k sb/KEK.key -c sb/KEK.crt db sb/db.esl db.auth.efitools >/dev/null
for f in PK KEK db; do check "sb/$f.auth is sign-efi-sig-list's bytes" cmp sb/$f.auth $f.auth.efitools; done
check "db cert: code signing" sh -c "openssl x509 -in sb/db.crt -noout -ext extendedKeyUsage | grep -q 'Code Signing'"
before=$(ls -l sb | sha256sum)
expect_fail "keygen --secure-boot never overwrites" 'exists' "$IMGTOOL" keygen --secure-boot sb
expect_eq "the refused keygen left the folder as it was" "$(ls -l sb | sha256sum)" "$before"
expect_fail "keygen --secure-boot takes no --type" 'only --subject, --days, --pk-key and --kek-key' "$IMGTOOL" keygen --secure-boot sb2 --type ec-p256
check "nothing made for the refused keygen" test ! -e sb2
"$IMGTOOL" keygen --secure-boot other >/dev/null

# ---- compose: the layout -----------------------------------------------------------
layout() {  # layout NAME [extra lines]
  cat > "$1.conf" <<L
[Image]
Format=disk
Seed=disk-test
[Packages]
Directory=rpms
Install=tbase tapp
[Signatures]
Mode=sign
Key=ima/signing.key
Certificate=ima/signing.crt
[Boot]
Kernel=$KERNEL
TestHooks=yes
CommandLine=console=ttyS0
[SecureBoot]
Key=sb/db.key
Certificate=sb/db.crt
${2:-}
L
}
layout disk
check "compose Format=disk" "$IMGTOOL" compose disk.conf -o a.disk -q
sleep 2   # FAT time stamps have 2 s steps
check "compose it again" "$IMGTOOL" compose disk.conf -o b.disk -q
check "two composes: the same disk, byte for byte" cmp a.disk b.disk
check "no temporary files left" test "$(ls -a | grep -c '^\.\|tmp')" -le 2
expect_eq "disk mode" "$(stat -c %a a.disk)" 644

# The GPT, as sfdisk reads it.
sfdisk -d a.disk > gpt.txt
check "GPT label" grep -qx 'label: gpt' gpt.txt
expect_eq "two partitions" "$(grep -c '^a.disk[0-9] :' gpt.txt)" 2
check "ESP at 1 MiB, 64 MiB, EFI system type" grep -q '^a.disk1 : start= *2048, size= *131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=.*name="esp"' gpt.txt
check "root after it, x86-64 root type (Discoverable Partitions)" grep -q '^a.disk2 : start= *133120, .*type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=.*name="root-x86-64"' gpt.txt
root_uuid=$(sed -n 's/^a.disk2 .*uuid=\([0-9A-F-]*\).*/\1/p' gpt.txt | tr A-F a-f)
layout seed2 "[Image]
Seed=another-seed"
"$IMGTOOL" compose seed2.conf -o seed2.disk -q
ids() { grep -o 'uuid=[^,]*\|label-id.*' "$1"; }
sfdisk -d seed2.disk > gpt2.txt
expect_eq "another Seed=: other disk and partition GUIDs" "$(comm -12 <(ids gpt.txt | sort) <(ids gpt2.txt | sort))" ""

part() {  # part DISK N OUT: copy partition N out by its offset
  local start size
  read -r start size < <(sfdisk -d "$1" | sed -n "s/^$1$2 : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p")
  dd if="$1" of="$3" bs=512 skip="$start" count="$size" conv=sparse status=none
}
part a.disk 2 root.img
part a.disk 1 esp.img
check "e2fsck -fn on the root partition" e2fsck -fn root.img
check "fsck.fat -n on the ESP" fsck.fat -n esp.img
sed 's/^Format=disk/Format=ext4/; /^\[SecureBoot\]/,$d' disk.conf > ext4.conf
"$IMGTOOL" compose ext4.conf -o plain.img -q
check "the root partition holds exactly the Format=ext4 image" cmp -n "$(stat -c %s plain.img)" root.img plain.img
export MTOOLS_SKIP_CHECK=1
check "the ESP has \\EFI\\BOOT\\BOOTX64.EFI" mcopy -n -i esp.img ::/EFI/BOOT/BOOTX64.EFI uki.efi
check "FAT time stamps are SourceDateEpoch" sh -c "mdir -i esp.img ::/EFI/BOOT | grep -q 'BOOTX64  EFI .* 2024-01-01   0:00'"
vol=$(mdir -i esp.img :: | sed -n 's/.*Serial Number is //p')
vol2=$(mdir -i "seed2.disk@@1048576" :: | sed -n 's/.*Serial Number is //p')
check "the FAT volume id follows Seed= ($vol, $vol2)" test -n "$vol" -a "$vol" != "$vol2"

# The UKI.
check "sbverify: signed by the db key" sbverify --cert sb/db.crt uki.efi
check "sbverify: not by another key" sh -c "! sbverify --cert other/db.crt uki.efi >/dev/null 2>&1"
objdump -h uki.efi > sections.txt
for s in .osrel .cmdline .linux .initrd; do
  vma=$(awk -v s="$s" '$2 == s { print $4 }' sections.txt)
  check "UKI section $s at a page-aligned VMA ($vma)" test -n "$vma" -a "$((16#$vma % 4096))" -eq 0
done
sect() {  # sect NAME OUT: a section's bytes (its size, not the padding)
  local size off
  read -r size off < <(awk -v s="$1" '$2 == s { print $3, $6 }' sections.txt)
  dd if=uki.efi of="$2" bs=1 skip=$((16#$off)) count=$((16#$size)) status=none
}
sect .linux linux.bin; sect .cmdline cmdline.txt; sect .osrel osrel.txt; sect .initrd initrd.bin
check ".linux is the kernel" cmp linux.bin "$KERNEL"
expect_eq ".cmdline" "$(cat cmdline.txt)" \
  "root=PARTUUID=$root_uuid ro lockdown=integrity imgtool.test=1 imgtool.run=auto-if-present imgtool.out=/dev/ttyS1 console=ttyS0"
"$IMGTOOL" extract plain.img /etc/os-release -o osrel.img 2>/dev/null || printf 'NAME="imgtool image"\nID=imgtool\n' > osrel.img
check ".osrel is the image's os-release" cmp osrel.txt osrel.img
# Issue 18 item 11: an /etc/os-release over the 64 KiB limit fails to read;
# /usr/lib/os-release is read next from an empty buffer (a stale length
# put it behind uninitialised bytes, or past the limit).
build_rpm rpms-osrel <<'SPEC'
Name: tosrel
Version: 1
Release: 1
Summary: an oversized /etc/os-release and a good /usr/lib/os-release
License: MIT
BuildArch: noarch
AutoReqProv: no
%description
x
%install
mkdir -p %{buildroot}/etc %{buildroot}/usr/lib
yes '# padding' | head -c 70000 > %{buildroot}/etc/os-release
printf 'NAME="lib osrel"\nID=libosrel\n' > %{buildroot}/usr/lib/os-release
%files
/etc/os-release
/usr/lib/os-release
SPEC
layout osrel "[Packages]
Directory=rpms-osrel
Install=tosrel"
check "compose with a 70 KB /etc/os-release" "$IMGTOOL" compose osrel.conf -o osrel.disk -q
part osrel.disk 1 osrel-esp.img
mcopy -n -i osrel-esp.img ::/EFI/BOOT/BOOTX64.EFI osrel-uki.efi
read -r osz ooff < <(objdump -h osrel-uki.efi | awk '$2 == ".osrel" { print $3, $6 }')
expect_eq ".osrel falls back to /usr/lib/os-release, whole" \
  "$(dd if=osrel-uki.efi bs=1 skip=$((16#$ooff)) count=$((16#$osz)) status=none | od -c | head -3)" \
  "$(printf 'NAME="lib osrel"\nID=libosrel\n' | od -c | head -3)"
rm -f osrel.disk osrel-esp.img osrel-uki.efi
zcat initrd.bin | cpio -i --quiet --to-stdout etc/imgtool/init.conf > init.conf 2>/dev/null || true
check ".initrd: init finds the root by PARTUUID" grep -qx "root=PARTUUID=$root_uuid" init.conf
check ".initrd holds the IMA cert" sh -c "zcat initrd.bin | cpio -t --quiet | grep -qx etc/keys/x509_ima.der"

# A fixed Size= is the whole disk; the root partition gets the rest.
layout sized "[Image]
Size=200M"
"$IMGTOOL" compose sized.conf -o sized.disk -q
expect_eq "Size=200M: the disk is 200 MiB" "$(stat -c %s sized.disk)" $((200 << 20))
part sized.disk 2 sized-root.img
check "Size=200M: e2fsck on its root partition" e2fsck -fn sized-root.img
check "Size=200M: the root partition fills the disk" test "$(stat -c %s sized-root.img)" -ge $((130 << 20))

# Production disks: no test hooks on the command line.
layout prod "[Boot]
TestHooks=no"
"$IMGTOOL" compose prod.conf -o prod.disk -q
mcopy -n -i prod.disk@@1048576 ::/EFI/BOOT/BOOTX64.EFI prod.efi
check "TestHooks=no: no imgtool.* on the command line" sh -c "! strings prod.efi | grep -q 'imgtool.run='"

# ---- reading a disk back ---------------------------------------------------------
check "imgtool verify accepts the disk" "$IMGTOOL" verify a.disk --cert ima/signing.crt
check "imgtool verify accepts the bare ext4 image" "$IMGTOOL" verify plain.img --cert ima/signing.crt
check "manifest of the disk is the image's" cmp <("$IMGTOOL" manifest a.disk) <("$IMGTOOL" manifest plain.img)
check "ls reads the disk's root" sh -c "'$IMGTOOL' ls a.disk /etc | grep -q passwd"

# ---- pcrs ------------------------------------------------------------------------------
"$IMGTOOL" pcrs a.disk --keys sb --json > a.json
python3 - a.json <<'PY' && pass "pcrs --json: PCRs 4 5 7 11, sha256 hex" || fail "pcrs --json"
import json, re, sys
j = json.load(open(sys.argv[1]))
assert sorted(j["pcrs"]) == ["11", "4", "5", "7"], j
assert all(re.fullmatch("[0-9a-f]{64}", v) for v in j["pcrs"].values())
assert j["firmware_pcrs"] == [0, 1, 2, 3, 6]
PY
pcr() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pcrs"][sys.argv[2]])' "$1" "$2"; }
layout cmdline2 "[Boot]
CommandLine=console=ttyS0 quiet"
"$IMGTOOL" compose cmdline2.conf -o c2.disk -q
"$IMGTOOL" pcrs c2.disk --keys sb --json > c2.json
check "another .cmdline: PCR 4 changes" test "$(pcr a.json 4)" != "$(pcr c2.json 4)"
check "another .cmdline: PCR 11 changes" test "$(pcr a.json 11)" != "$(pcr c2.json 11)"
expect_eq "another .cmdline: PCR 7 stays (same db entry)" "$(pcr c2.json 7)" "$(pcr a.json 7)"
expect_eq "another .cmdline: PCR 5 stays (same GPT)" "$(pcr c2.json 5)" "$(pcr a.json 5)"
check "pcrs without --keys: no PCR 7" sh -c "'$IMGTOOL' pcrs a.disk | awk '{print \$1}' | grep -qvx 7"
expect_fail "pcrs with keys that do not verify the UKI" 'no db entry verifies' "$IMGTOOL" pcrs a.disk --keys other
expect_fail "pcrs of a bare image" 'not a GPT disk' "$IMGTOOL" pcrs plain.img --keys sb

# ---- reference and keylime-policy of a disk (the boots are in boot_uefi_attest) --------
check "reference of a disk" "$IMGTOOL" reference a.disk -o a.ref --key ima/signing.key --cert ima/signing.crt --sb-keys sb
"$IMGTOOL" reference c2.disk -o c2.ref --key ima/signing.key --cert ima/signing.crt --sb-keys sb >/dev/null
sect .cmdline a.cmdline
python3 - a.ref a.json a.cmdline c2.ref <<'PY' && pass "disk reference: imgtool pcrs's values, the UKI's .cmdline, the .initrd's cert" || fail "disk reference"
import json, sys
ref, pcrs, c2 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), json.load(open(sys.argv[4]))
assert ref["pcrs"]["values"] == pcrs["pcrs"], (ref["pcrs"], pcrs)
assert ref["pcrs"]["values"]["4"] != c2["pcrs"]["values"]["4"]
assert ref["boot"]["cmdline"] == open(sys.argv[3]).read(), ref["boot"]["cmdline"]
assert ref["boot"]["certs_source"] == "uki .initrd" and len(ref["certs"]) == 1
assert ref["boot"]["ima_policy"] and ref["files"]
PY
check "disk reference: signature valid" "$IMGTOOL" reference --check a.ref --cert ima/signing.crt
"$IMGTOOL" reference a.disk -o nok.ref --key ima/signing.key --cert ima/signing.crt >/dev/null
check "disk reference without --sb-keys: no PCR 7" python3 -c '
import json, sys; sys.exit(0 if sorted(json.load(open(sys.argv[1]))["pcrs"]["values"]) == ["11", "4", "5"] else 1)' nok.ref
expect_fail "reference: keys that do not verify the UKI" 'no db entry verifies' \
  "$IMGTOOL" reference a.disk -o x.ref --key ima/signing.key --cert ima/signing.crt --sb-keys other
expect_fail "reference: --initramfs with a disk" 'a disk boots its UKI' \
  "$IMGTOOL" reference a.disk -o x.ref --key ima/signing.key --cert ima/signing.crt --initramfs a.cmdline
expect_fail "reference: --sb-keys with an ext4 image" 'not a disk' \
  "$IMGTOOL" reference plain.img -o x.ref --key ima/signing.key --cert ima/signing.crt --sb-keys sb
check "nothing written by the refused references" test ! -e x.ref -a ! -e x.ref.sig
"$IMGTOOL" keylime-policy a.disk -o a.policy.json
check "keylime-policy of a disk: the reference's files, the .initrd's cert" python3 -c '
import json, sys
p, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
want = {f["path"]: f["sha256"] for f in r["files"]}
ok = len(p["digests"]) == len(want) and all(d in p["digests"][k] for k, d in want.items())
sys.exit(0 if ok and p["verification-keys"] else 1)' a.policy.json a.ref

# ---- bad input: one line, nothing left -------------------------------------------------
mkdir bad && cd bad
bad() {  # DESC PATTERN LAYOUT-EXTRA
  ( cd .. && layout "bad-$1" "$3" )
  expect_fail "$1" "$2" "$IMGTOOL" compose "../bad-$1.conf" -o out.disk
  check "$1: nothing left behind" test -z "$(ls -A)"
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout ../stray.key -out ../stray.crt -days 3 -subj /CN=stray 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ../ec.key -out ../ec.crt -days 3 -subj /CN=ec 2>/dev/null
head -c 8M /dev/zero > ../nostub
bad missing-key 'nope.key' "[SecureBoot]
Key=nope.key"
bad mismatched-key 'does not belong to the key' "[SecureBoot]
Key=stray.key"
bad ec-key 'needs an RSA key' "[SecureBoot]
Key=ec.key
Certificate=ec.crt"
bad key-without-cert 'needs both Key= and Certificate=' "[SecureBoot]
Certificate="
bad kernel-without-efi-stub 'has no EFI stub' "[Boot]
Kernel=nostub"
bad disk-too-small 'Size=16 MiB is too small for a disk' "[Image]
Size=16M"
bad no-kernel 'Format=disk needs \[Boot\] Kernel=' "[Boot]
Kernel="
bad not-a-stub 'not systemd-stub' "[Boot]
Stub=$KERNEL"
cd ..
sed 's/^Format=disk/Format=ext4/' disk.conf > sb-on-ext4.conf
expect_fail "[SecureBoot] on an ext4 image" 'needs \[Image\] Format=disk' "$IMGTOOL" compose sb-on-ext4.conf -o x.img
check "no image for it" test ! -e x.img
finish
