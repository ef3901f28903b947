# The demo end to end (layouts/demo/run-demo, what `./build.sh demo` runs):
# RPMs made with rpmbuild from Debian packages, a demo key, sign-rpm, compose
# of layouts/demo.conf, verify, then the check-suite boot and the handover
# boot; checked here with rpm, e2fsck, evmctl and a third boot through
# qemu-test/run --exec; and the demo disk booted through OVMF with Secure Boot.
# Four boots (about 25 s under TCG, plus about 25 s for the OVMF one).
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: boot tests need root (extract --xattrs for evmctl)" >&2; exit 1; }
[ -f "$BUILDDIR/kernel/vmlinuz" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
DEMO=$SRCDIR/layouts/demo/run-demo
RUN=$SRCDIR/qemu-test/run
names="demo-base demo-busybox demo-glibc demo-imgtool-test"

# ---- without boots: packages, key, image --------------------------------------
rc=0
"$DEMO" "$BUILDDIR" --out a --no-boot > a.out 2> a.err || rc=$?
expect_eq "run-demo --no-boot exit" "$rc" 0
[ "$rc" -eq 0 ] || { cat a.err >&2; finish; exit 1; }
for f in demo.img demo.img.vmlinuz demo.img.initramfs key/signing.key key/signing.der demo.disk \
         sbkeys/db.key sbkeys/db.crt sbkeys/PK.auth demo.disk.pcrs.json; do
  check "run-demo wrote $f" test -s "a/$f"
done
check "the kernel beside the image is the build's" cmp a/demo.img.vmlinuz "$BUILDDIR/kernel/vmlinuz"
for n in $names; do
  check "signed RPM $n" test -f "$(ls a/signed/$n-[0-9]*.rpm 2>/dev/null | head -n1)"
done

# rpm is the oracle for the packages.
for p in a/signed/*.rpm; do
  check "rpm -K: digests of $(basename "$p")" sh -c "rpm -K --nosignature '$p' | grep -q 'digests OK'"
  expect_eq "no scriptlets in $(basename "$p")" "$(rpm -qp --scripts "$p" 2>/dev/null)" ""
  expect_eq "every regular file of $(basename "$p") has a file signature" \
    "$(rpm -qp --qf '[%{FILEMODES:perms} %{FILESIGNATURES}\n]' "$p" 2>/dev/null | awk '$1 ~ /^-/ && NF < 2' | wc -l)" 0
done
check "the dynamic probe needs libc.so.6 (rpm's ELF auto-deps)" \
  sh -c "rpm -qpR a/signed/demo-imgtool-test-*.rpm 2>/dev/null | grep -qx 'libc.so.6()(64bit)'"
check "demo-glibc provides libc.so.6()(64bit)" \
  sh -c "rpm -qp --provides a/signed/demo-glibc-*.rpm 2>/dev/null | grep -q '^libc.so.6()(64bit)'"
check "demo-glibc provides rtld(GNU_HASH)" \
  sh -c "rpm -qp --provides a/signed/demo-glibc-*.rpm 2>/dev/null | grep -qx 'rtld(GNU_HASH)'"
expect_eq "RPMs built for a fixed host" "$(rpm -qp --qf '%{BUILDHOST}\n' a/rpms/*.rpm 2>/dev/null | sort -u)" imgtool-demo
expect_eq "RPM payloads zstd" "$(rpm -qp --qf '%{PAYLOADCOMPRESSOR}\n' a/rpms/*.rpm 2>/dev/null | sort -u)" zstd
mkdir deb rpmroot
dpkg-deb -x "$(ls "$BUILDDIR"/demo/debs/busybox-static_*.deb | head -n1)" deb
dpkg-deb -x "$(ls "$BUILDDIR"/demo/debs/libc6_*.deb | head -n1)" deb
for p in a/rpms/demo-busybox-*.rpm a/rpms/demo-glibc-*.rpm; do
  (cd rpmroot && rpm2cpio "../$p" | cpio -idm --quiet)
done
check "busybox is Debian's, byte for byte" cmp deb/bin/busybox rpmroot/usr/bin/busybox
check "libc.so.6 is Debian's, byte for byte" cmp deb/lib/x86_64-linux-gnu/libc.so.6 rpmroot/lib/x86_64-linux-gnu/libc.so.6
expect_eq "/bin/sh -> busybox" "$(readlink rpmroot/bin/sh)" ../usr/bin/busybox
check "busybox's init applet is left to demo-base" test ! -e rpmroot/sbin/init

# The image: e2fsck, then evmctl on files taken out with their xattrs.
check "e2fsck accepts the image" e2fsck -fn a/demo.img
expect_eq "image label" "$(dumpe2fs -h a/demo.img 2>/dev/null | sed -n 's/^Filesystem volume name: *//p')" imgtool-demo
for f in /usr/bin/busybox /lib/x86_64-linux-gnu/libc.so.6 /sbin/init /var/lib/rpm/rpmdb.sqlite; do
  out=x$(tr / _ <<<"$f")
  "$IMGTOOL" extract a/demo.img "$f" -o "$out" --xattrs 2>/dev/null || true
  check "evmctl verifies $f with the demo cert" sh -c "evmctl ima_verify --key a/key/signing.der '$out' >/dev/null 2>&1"
done
keyid=$(openssl x509 -inform DER -in a/key/signing.der -noout -ext subjectKeyIdentifier | tail -n1 | tr -d ' :' | tail -c 9 | tr A-F a-f)
expect_eq "every regular file in the image is signed by the demo key" \
  "$("$IMGTOOL" manifest a/demo.img | awk -v want="sig:$keyid" '$1 == "f" && $8 != want' | wc -l)" 0
check "verify report: ok" sh -c "grep -q '\"ok\":true' a/verify.json"
check "summary names verify exit 0" grep -q 'exit 0' a.out

# ---- the whole demo with both boots, into b, with a's key -----------------------
check "demo.disk: the UKI verifies with the demo db cert" sh -c \
  "MTOOLS_SKIP_CHECK=1 mcopy -n -i a/demo.disk@@1048576 ::/EFI/BOOT/BOOTX64.EFI uki.efi && sbverify --cert a/sbkeys/db.crt uki.efi"
check "demo.disk: imgtool verify" "$IMGTOOL" verify a/demo.disk --cert a/key/signing.der
mkdir b && cp -r a/key b/key && cp -r a/sbkeys b/sbkeys
rc=0
"$DEMO" "$BUILDDIR" --out b > b.out 2> b.err || rc=$?
cat b.out
expect_eq "run-demo exit" "$rc" 0
[ "$rc" -eq 0 ] || cat b.err >&2
for case in static-elf dynamic-elf signed-script signed-read signed-mmap-exec content-changed no-signature \
            foreign-key hash-only read-tampered unsigned-user-file-read mmap-exec-unsigned keyring-locked \
            policy-locked pcr10-replay measured-files measured-files-manifest; do
  check "check suite case $case passed on the demo image" grep -q "^ok: $case:" b/check.out
done
n_ok=$(grep -c '^ok: ' b/check.out || true)
expect_eq "check suite: every case passed" "$(tail -n1 b/check.out)" "$n_ok passed, 0 failed"
check "handover boot: the image's /sbin/init came up" sh -c "tr -d '\r' < b/boot.console | grep -q '^DEMO-SYSTEM-UP: .*root ro, keys in _ima: 1'"
check "handover boot: it powered off by itself" sh -c "tr -d '\r' < b/boot.console | grep -q '^DEMO-POWEROFF'"
check "summary: boot 1 counts" grep -q "boot 1 .* $n_ok passed, 0 failed" b.out
check "summary: boot 2" grep -q 'boot 2 .*/sbin/init' b.out
check "summary: boot 3, the disk under Secure Boot, PCRs as predicted" grep -q 'boot 3 .*demo.disk: OVMF .* Secure Boot enforcing' b.out
check "progress went to stderr" grep -q '==> demo: imgtool compose' b.err

# Same specs, same Debian packages, same key: the same bytes.
for n in $names; do
  check "$n RPM reproducible" cmp "$(ls a/rpms/$n-[0-9]*.rpm)" "$(ls b/rpms/$n-[0-9]*.rpm)"
done
check "image reproducible" cmp a/demo.img b/demo.img
check "disk reproducible (signature included)" cmp a/demo.disk b/demo.disk
check "initramfs reproducible" cmp a/demo.img.initramfs b/demo.img.initramfs

# ---- a third boot: --exec on the demo image returns the command's status ---------
before=$(sha256sum < b/demo.img)
rc=0
out=$("$RUN" b/demo.img --exec 'id -u; head -n1 /etc/os-release; mount | grep " / "; exit 42' 2>run.err) || rc=$?
expect_eq "--exec returns the command's status" "$rc" 42
check "--exec ran as root" grep -qx 0 <<<"$out"
check "--exec read a signed root-owned file" grep -q 'NAME="imgtool demo"' <<<"$out"
check "root mounted read-only" grep -q ' / .*(ro' <<<"$out"
expect_eq "the demo image was never written" "$(sha256sum < b/demo.img)" "$before"

# ---- refusals ----------------------------------------------------------------------
expect_fail "run-demo without a build folder" 'run-demo: nope: no such build folder' "$DEMO" nope
mkdir fake
expect_fail "run-demo names what is missing" 'fake/imgtool missing' "$DEMO" fake
check "nothing written into a build folder it refused" test -z "$(ls fake)"
if git -C "$SRCDIR" rev-parse --git-dir >/dev/null 2>&1; then
  expect_eq "no key material is tracked by git" \
    "$(git -C "$SRCDIR" ls-files | grep -E '(\.key|signing\.(der|crt))$' || true)" ""
fi
finish
