# A pack-made image boots: the demo's unsigned packages plus a signature
# pack (imgtool sigpack --sign-files) compose to the same bytes as the demo's
# signed packages in Mode=package; evmctl verifies every file; and the image
# passes the whole boot check suite (qemu-test/run --check, IMA enforcing).
# One boot, about 15 s under TCG.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: boot tests need root (extract --xattrs for evmctl)" >&2; exit 1; }
[ -f "$BUILDDIR/kernel/vmlinuz" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null

demo_without_boot a

check "sigpack: every file of the unsigned demo packages, signed with the demo key" \
  "$IMGTOOL" sigpack --key a/key/signing.key --cert a/key/signing.der --sign-files -o demo.pack a/rpms/*.rpm
check "compose from the signed packages (Mode=package)" "$IMGTOOL" compose a/demo.conf -o header.img --quiet
check "compose from the unsigned packages and the pack" "$IMGTOOL" compose a/demo.conf -o pack.img --quiet \
  --set Packages.Directory= --set "Packages.Directory=$T/a/rpms" --set "Signatures.Packs=$T/demo.pack"
check "the two images are byte-identical" cmp header.img pack.img
check "... and the same as run-demo's" cmp a/demo.img pack.img
mkdir x
n=0
bad=0
for f in $("$IMGTOOL" manifest pack.img | awk '$1 == "f" && $8 != "-" {print $NF}'); do
  "$IMGTOOL" extract pack.img "$f" -o "x/$n" --xattrs
  evmctl ima_verify --key a/key/signing.der "x/$n" >/dev/null 2>&1 || { bad=$((bad + 1)); echo "evmctl: $f" >&2; }
  n=$((n + 1))
done
expect_eq "evmctl verifies every signed file of the pack-made image ($n)" "$bad" 0
expect_eq "every regular file is signed" "$("$IMGTOOL" manifest pack.img | awk '$1 == "f" && $8 == "-"' | wc -l)" 0
check "verify --against the layout with the pack" "$IMGTOOL" verify pack.img --cert a/key/signing.der \
  --against a/demo.conf

# boot: the check suite on a tampered copy of the pack-made image
cp a/demo.img.vmlinuz pack.img.vmlinuz
cp a/demo.img.initramfs pack.img.initramfs
expect_boot_check_suite pack.img "the pack-made image"
finish
