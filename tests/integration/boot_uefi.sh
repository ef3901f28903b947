# A Format=disk image booted by real firmware (OVMF, q35 with SMM, TCG) with
# Secure Boot enforcing and the owner's keys, three boots of a 2 GiB disk
# (sparse; disks of 400 MiB and more once had an ESP mtools could not read,
# disk_sizes.sh checks the sizes offline):
#  1. the check suite through the signed UKI (IMA enforcing as with a direct
#     boot), and the TPM's PCRs 4, 5, 7, 11 against `imgtool pcrs`;
#  2. --append from outside: ignored (/proc/cmdline is the UKI's .cmdline);
#     SecureBoot efivar on, lockdown, the owner's db cert in .platform;
#  3. one boot with five disks the firmware must refuse: unsigned, signed by
#     another db key, one byte changed in .initrd, .cmdline, .linux.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
KERNEL=$BUILDDIR/kernel/vmlinuz
[ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
RUN=$SRCDIR/qemu-test/run
export SOURCE_DATE_EPOCH=1704067200 MTOOLS_SKIP_CHECK=1
export IMGTOOL_CACHE=$T/cache   # the enrolled variable store is made here, once

# The demo's packages (busybox, glibc, the check suite's probes), signed.
"$SRCDIR/layouts/demo/run-demo" "$BUILDDIR" --out demo --no-boot > demo.out 2>&1 \
  || { cat demo.out >&2; fail "run-demo --no-boot"; finish; exit 1; }
"$IMGTOOL" keygen --secure-boot sb --subject "boot test" >/dev/null
"$IMGTOOL" keygen --secure-boot other --subject "not enrolled" >/dev/null

compose() {  # compose DISK KEYDIR|"" [--set ...]
  local out=$1 keys=$2; shift 2
  "$IMGTOOL" compose "$SRCDIR/layouts/demo.conf" -o "$out" -q \
    --set Packages.Directory= --set "Packages.Directory=$T/demo/signed" \
    --set Signatures.Certificate= --set "Signatures.Certificate=$T/demo/key/signing.der" \
    --set "Signatures.Key=$T/demo/key/signing.key" --set "Boot.Kernel=$KERNEL" \
    --set Image.Format=disk --set "Boot.CommandLine=console=ttyS0 panic=-1" \
    ${keys:+--set "SecureBoot.Key=$T/$keys/db.key" --set "SecureBoot.Certificate=$T/$keys/db.crt"} "$@"
}
compose sb.disk sb --set Image.Size=2G
expect_eq "the booted disk is 2 GiB" "$(stat -c %s sb.disk)" $((2 << 30))
read -r rstart rsize < <(sfdisk -d sb.disk | sed -n 's/^sb.disk2 : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p')
before=$(sha256sum < sb.disk)
mcopy -n -i sb.disk@@1048576 ::/EFI/BOOT/BOOTX64.EFI uki.efi
section() {  # section NAME: "file-offset size" of a UKI section (decimal)
  local size off
  read -r size off < <(objdump -h uki.efi | awk -v s="$1" '$2 == s { print $3, $6 }')
  echo "$((16#$off)) $((16#$size))"
}
read -r off size < <(section .cmdline)
ukicmdline=$(dd if=uki.efi bs=1 skip="$off" count="$size" status=none)

# ---- 1: the check suite through the UKI, and the PCRs -------------------------------
rc=0
IMGTOOL=$IMGTOOL "$SRCDIR/qemu-test/check" sb.disk --uefi --secure-boot="$T/sb" --keep "$T/keep" > check.out 2>&1 || rc=$?
cat check.out
expect_eq "check suite through the signed UKI: exit" "$rc" 0
for case in static-elf dynamic-elf signed-script signed-read signed-mmap-exec content-changed no-signature \
            foreign-key hash-only read-tampered unsigned-user-file-read mmap-exec-unsigned keyring-locked \
            policy-locked pcr10-replay measured-files measured-files-manifest; do
  check "check case $case passed under Secure Boot" grep -q "^ok: $case:" check.out
done
"$IMGTOOL" pcrs sb.disk --keys sb --json > pcrs.json
for i in 4 5 7 11; do
  want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pcrs"][sys.argv[2]])' pcrs.json $i)
  got=$(tr -d '\r' < keep/guest.txt | sed -n "s/^IMGTOOL-PCR$i-SHA256=//p" | tr A-F a-f)
  expect_eq "imgtool pcrs: PCR $i equals the TPM's after the boot" "$got" "$want"
done

# ---- 2: the command line is the UKI's; Secure Boot state --------------------------
ko=$(find "$BUILDDIR/kernel/root/lib/modules" -name 'efivarfs.ko*' | head -n1)
case $ko in *.xz) xz -dc "$ko" > efivarfs.ko ;; *) cp "$ko" efivarfs.ko ;; esac
script="mount -t tmpfs none /tmp && base64 -d > /tmp/efivarfs.ko <<'EOF'
$(base64 efivarfs.ko)
EOF
insmod /tmp/efivarfs.ko && mount -t efivarfs efivarfs /sys/firmware/efi/efivars
echo \"SB=\$(od -An -tx1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c | tr -s ' ')\"
echo \"LOCKDOWN=\$(cat /sys/kernel/security/lockdown)\"
echo \"CMDLINE=\$(cat /proc/cmdline)\"
root=\$(awk '\$2 == \"/\" { print \$1 }' /proc/mounts)
echo \"ROOT=\$root \$(cat /sys/class/block/\${root#/dev/}/size)\"
grep -E 'keyring +\\.platform:|asymmetri' /proc/keys | sed 's/^/KEY /'
dmesg | grep 'Loaded X.509 cert' | sed 's/^.*integrity: /DMESG /'"
rc=0
"$RUN" sb.disk --uefi --secure-boot="$T/sb" --timeout 200 --append 'ima_appraise=fix imgtool.run=none lockdown=none' \
  --exec "$script" > guest2.txt 2> run2.err || rc=$?
expect_eq "boot with --append: exit" "$rc" 0
[ "$rc" -eq 0 ] || cat run2.err >&2
expect_eq "the SecureBoot efivar: enabled" "$(sed -n 's/^SB= *//p' guest2.txt | awk '{print $NF}')" 01
check "the root is the 2 GiB disk's second partition, all of it ($(grep '^ROOT=' guest2.txt))" \
  grep -Eq "^ROOT=/dev/[a-z0-9]+p2 $rsize\$" guest2.txt
check "lockdown integrity or stricter" grep -Eq '^LOCKDOWN=.*\[(integrity|confidentiality)\]' guest2.txt
expect_eq "/proc/cmdline is the UKI's .cmdline (QEMU -append ignored)" "$(sed -n 's/^CMDLINE=//p' guest2.txt)" "$ukicmdline"
ski=$(openssl x509 -in sb/db.crt -noout -ext subjectKeyIdentifier | tail -n1 | tr -d ' :' | tr A-F a-f)
check "the .platform keyring holds one key" grep -q '^KEY .*keyring *\.platform: 1$' guest2.txt
check "the owner's db cert is loaded from UEFI db ($ski)" grep -q "^DMESG Loaded X.509 cert 'boot test db: $ski'" guest2.txt
check "and is a key in the kernel" grep -q "^KEY .*asymmetri boot test db: $ski: X509.rsa" guest2.txt

# ---- 3: what the firmware refuses, all in one boot ---------------------------------
compose unsigned.disk ""
compose otherkey.disk other
flip() {  # flip SECTION DISK: sb.disk with one byte of SECTION's content changed
  local off size
  read -r off size < <(section "$1")
  cp uki.efi "$2.efi"
  python3 -c 'import sys
f = open(sys.argv[1], "r+b"); at = int(sys.argv[2]) + int(sys.argv[3]) // 2
f.seek(at); b = f.read(1); f.seek(at); f.write(bytes([b[0] ^ 0x20]))' "$2.efi" "$off" "$size"
  cp --sparse=always sb.disk "$2"
  mcopy -o -m -i "$2@@1048576" "$2.efi" ::/EFI/BOOT/BOOTX64.EFI
  check "$2: one byte of $1 differs" test "$(cmp -l uki.efi "$2.efi" | wc -l)" -eq 1
}
flip .initrd initrd.disk
flip .cmdline cmdline.disk
flip .linux linux.disk
rc=0
"$RUN" unsigned.disk --uefi --secure-boot="$T/sb" --also otherkey.disk --also initrd.disk \
  --also cmdline.disk --also linux.disk --timeout 300 --console refused.console > refused.out 2>&1 || rc=$?
expect_eq "every disk refused: run exits 126" "$rc" 126
n=0
for d in imgroot:unsigned also1:otherkey also2:initrd also3:cmdline also4:linux; do
  line=$(tr -d '\r' < refused.console | grep -a "failed to load Boot.*NVMe Ctrl ${d%%:*} " || true)
  msg=${line##*: }
  if [ "$msg" = "Access Denied" ]; then pass "firmware refused the ${d#*:} UKI: $msg"; else fail "${d#*:} UKI: '$line'"; fi
done
check "the guest never reached Linux" sh -c "! grep -a -q -e 'EFI stub' -e 'Linux version' refused.console"
expect_eq "the disk was never written" "$(sha256sum < sb.disk)" "$before"
expect_eq "one cached variable store for the key set" "$(ls cache/ovmf-vars | wc -l)" 1
finish
