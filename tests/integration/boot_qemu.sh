# Boot tests under QEMU (TCG) with a software TPM: the runner's --exec, the
# whole guest check suite on a tampered copy, and a refused handover when the
# image is signed with a key the initramfs does not trust.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: boot tests need root (security.ima on the staging tree)" >&2; exit 1; }
KERNEL=$BUILDDIR/kernel/vmlinuz
[ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
RUN=$SRCDIR/qemu-test/run

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ima.key \
  -out ima.pem -days 30 -subj "/CN=boot test IMA key" -addext keyUsage=digitalSignature 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key \
  -out other.pem -days 30 -subj "/CN=some other key" 2>/dev/null
"$SRCDIR/qemu-test/make-test-image" test.img ima.key ima.pem "$BUILDDIR/init"
"$IMGTOOL" initramfs --cert ima.pem --root LABEL=imgroot --cmdline-test -o test.initramfs
cp "$KERNEL" test.vmlinuz   # beside the image: the harness's default
before=$(sha256sum < test.img)

# --exec: output and exit status come back; the kernel/initramfs beside the image.
rc=0
out=$("$RUN" test.img --exec 'echo "uid=$(id -u)"; echo to-stderr >&2; grep -c . /proc/keys >/dev/null; exit 7' 2>run.err) || rc=$?
expect_eq "--exec exit status" "$rc" 7
check "--exec stdout" grep -qx 'uid=0' <<<"$out"
check "--exec stderr" grep -qx 'to-stderr' <<<"$out"
out=$("$RUN" test.img --exec 'mount | grep " / "; touch /x 2>&1; true')
check "root mounted read-only" grep -q '(ro' <<<"$out"
check "root cannot be written" grep -q 'Read-only file system' <<<"$out"

# The suite: signed code runs, every tampered file is refused with its cause,
# keyring and policy are locked, the log replays to PCR 10 and matches the image.
rc=0
IMGTOOL=$IMGTOOL "$SRCDIR/qemu-test/check" test.img --kernel "$KERNEL" --initramfs test.initramfs > check.out 2>&1 || rc=$?
cat check.out
expect_eq "check suite exit" "$rc" 0
for case in static-elf dynamic-elf signed-script signed-read signed-mmap-exec content-changed no-signature \
            foreign-key hash-only read-tampered unsigned-user-file-read mmap-exec-unsigned keyring-locked \
            policy-locked pcr10-replay measured-files measured-files-manifest; do
  check "check case $case passed" grep -q "^ok: $case:" check.out
done
expect_eq "the user's image was never written" "$(sha256sum < test.img)" "$before"

# Enforcement at the handover: an initramfs trusting another key must refuse
# the image's /sbin/init and power off (no --cmdline-test: a production init).
"$IMGTOOL" initramfs --cert other.pem --root LABEL=imgroot -o other.initramfs
rc=0
"$RUN" test.img --initramfs other.initramfs --timeout 120 > other.console 2>&1 || rc=$?
check "foreign-key boot: /sbin/init refused" grep -q 'cannot run /sbin/init: Permission denied' other.console
check "foreign-key boot: powered off by init" grep -q 'IMGTOOL-INIT-FAILED' other.console
check "foreign-key boot: no shell started" sh -c "! grep -q 'busybox init' other.console"
# A production initramfs refuses a command line that would turn enforcement off.
rc=0
"$RUN" test.img --initramfs other.initramfs --append ima_appraise=log --timeout 120 > log.console 2>&1 || rc=$?
check "ima_appraise=log refused" grep -q "refusing 'ima_appraise=log' on the kernel command line" log.console
check "ima_appraise=log: powered off" grep -q 'IMGTOOL-INIT-FAILED' log.console

# A root that never appears: a clear message, then power off (not a hang).
"$IMGTOOL" initramfs --cert ima.pem --root LABEL=nosuchroot -o noroot.initramfs
rc=0
"$RUN" test.img --initramfs noroot.initramfs --timeout 120 > noroot.console 2>&1 || rc=$?
check "missing root: named with the wait" grep -q 'FATAL: root LABEL=nosuchroot did not appear within 30 s' noroot.console
check "missing root: powered off by init" grep -q 'IMGTOOL-INIT-FAILED' noroot.console
expect_eq "missing root: no timeout; the harness exits 1 (init failed)" "$rc" 1
check "missing root: the harness repeats the FATAL line" grep -q "^run: the guest's init failed: FATAL: root LABEL=nosuchroot did not appear" noroot.console
finish
