# fs-verity enforced by the kernel: the demo's packages composed with
# [Verity] Enable=yes, once per signature scheme, each booted once through
# qemu-test/check-verity (signed programs run; one changed data block reads
# as EIO at that block, after a successful open; unsigned and foreign-signed
# verity files refused at open; keyrings locked; every file read whole; the
# kernel's FS_IOC_MEASURE_VERITY equals fsverity-utils' digest of every
# file).  Two boots, about 20 s under TCG.  IPE needs the owner's cert in
# the platform keyring (UEFI db, Secure Boot): not booted here.
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
expect_eq "[builtin] without IPE a program with no fs-verity runs (the gap IPE closes)" \
  "$(grep -c '^note: unsigned-exec: without IPE a program with no fs-verity runs (exit 0)' check-builtin.out)" 1
expect_eq "[ima-v3] the _ima keyring is locked" "$(grep -c '^ok: ima-keyring-locked:' check-ima-v3.out)" 1
expect_eq "[builtin] the .fs-verity keyring is locked" "$(grep -c '^ok: fs-verity-keyring-locked:' check-builtin.out)" 1
finish
