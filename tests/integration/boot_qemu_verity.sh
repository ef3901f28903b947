# fs-verity enforced by the kernel: the demo's packages composed with
# [Verity] Enable=yes, once per signature scheme, each booted once through
# qemu-test/check-verity (signed programs run; one changed data block reads
# as EIO at that block, after a successful open; unsigned and foreign-signed
# verity files refused at open; keyrings locked; every file read whole; the
# kernel's FS_IOC_MEASURE_VERITY equals fsverity-utils' digest of every
# file).  Then IPE: a Format=disk image with its UKI and its IPE policy
# signed by the owner's db key, booted through OVMF with Secure Boot (the
# kernel takes IPE policies only from keys in .platform, i.e. UEFI db): the
# same cases, plus a program without fs-verity refused by IPE and the
# policy unchangeable.  Three boots, about 2 minutes under TCG.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: boot tests need root" >&2; exit 1; }
[ -f "$BUILDDIR/kernel/vmlinuz" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null

rc=0
"$SRCDIR/layouts/demo/run-demo" "$BUILDDIR" --out demo --no-boot > demo.out 2> demo.err || rc=$?
expect_eq "run-demo --no-boot (packages, key)" "$rc" 0
[ "$rc" -eq 0 ] || { tail -20 demo.err >&2; finish; exit 1; }

for scheme in ima-v3 builtin; do
  check "compose the demo with [Verity] Signatures=$scheme" "$IMGTOOL" compose demo/demo.conf -o "v-$scheme.img" \
    --set Verity.Enable=yes --set Verity.Signatures=$scheme --quiet
  check "verify --against (trees, $scheme signatures)" "$IMGTOOL" verify "v-$scheme.img" --against demo/demo.conf \
    --cert demo/key/signing.der
  rc=0
  IMGTOOL=$IMGTOOL "$SRCDIR/qemu-test/check-verity" "v-$scheme.img" --scheme $scheme > "check-$scheme.out" 2>&1 || rc=$?
  sed "s/^/  [$scheme] /" "check-$scheme.out"
  expect_eq "check-verity --scheme $scheme: every case passed" "$rc" 0
  for c in static-elf dynamic-elf tampered-block no-signature foreign-key read-every-file measured-digests; do
    expect_eq "[$scheme] case $c ran and passed" "$(grep -c "^ok: $c:" "check-$scheme.out")" 1
  done
done
# IPE on a Secure Boot disk
"$IMGTOOL" keygen --secure-boot sb --subject "verity boot test" >/dev/null
check "compose a Format=disk image with [Verity] Signatures=ipe (UKI and IPE policy signed by the db key)" \
  env MTOOLS_SKIP_CHECK=1 "$IMGTOOL" compose demo/demo.conf -o v-ipe.disk --quiet \
  --set Image.Format=disk --set "Boot.CommandLine=console=ttyS0 panic=-1" \
  --set "SecureBoot.Key=$T/sb/db.key" --set "SecureBoot.Certificate=$T/sb/db.crt" \
  --set Verity.Enable=yes --set Verity.Signatures=ipe
rc=0
IMGTOOL=$IMGTOOL IMGTOOL_CACHE=$T/cache "$SRCDIR/qemu-test/check-verity" v-ipe.disk --scheme ipe --uefi \
  --secure-boot="$T/sb" > check-ipe.out 2>&1 || rc=$?
sed "s/^/  [ipe] /" check-ipe.out
expect_eq "check-verity --scheme ipe (Secure Boot): every case passed" "$rc" 0
for c in static-elf dynamic-elf tampered-block no-signature foreign-key ipe-active ipe-unsigned-exec-refused \
         ipe-unsigned-policy-refused ipe-active-policy-undeletable measured-digests; do
  expect_eq "[ipe] case $c ran and passed" "$(grep -c "^ok: $c:" check-ipe.out)" 1
done
expect_eq "[builtin] without IPE a program with no fs-verity runs (the gap IPE closes)" \
  "$(grep -c '^note: unsigned-exec: without IPE a program with no fs-verity runs (exit 0)' check-builtin.out)" 1
expect_eq "[ima-v3] the _ima keyring is locked" "$(grep -c '^ok: ima-keyring-locked:' check-ima-v3.out)" 1
expect_eq "[builtin] the .fs-verity keyring is locked" "$(grep -c '^ok: fs-verity-keyring-locked:' check-builtin.out)" 1
finish
