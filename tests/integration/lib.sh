# Shared helpers for integration tests.  Source it; it sets -euo pipefail,
# makes $T (a scratch folder removed on exit) and defines assertions that
# print what differed.
set -euo pipefail
: "${IMGTOOL:?run through ctest (IMGTOOL unset)}"
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FIXTURES:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/imgtool-test.XXXXXX")
chmod 755 "$T"
# KEEP_T=1 keeps the scratch folder for debugging.
trap '[ -n "${KEEP_T:-}" ] && echo "kept $T" || rm -rf "$T"' EXIT
FAILS=0
PASSES=0

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; PASSES=$((PASSES + 1)); }

# check DESC CMD...: the command must succeed
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d (command: $*)"; fi; }

# expect_eq DESC GOT WANT
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi; }

# expect_fail DESC PATTERN CMD...: command exits non-zero, its stderr
# matches PATTERN (extended regex) and is one line.
expect_fail() {
  local d=$1 pat=$2; shift 2
  local err rc=0
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  if [ "$rc" -eq 0 ]; then fail "$d: exit 0, want failure"; return; fi
  if ! grep -Eq -- "$pat" <<<"$err"; then fail "$d: stderr '$err' does not match /$pat/"; return; fi
  if [ "$(printf "%s\n" "$err" | wc -l)" -ne 1 ]; then fail "$d: error is not one line: $err"; return; fi
  pass "$d (exit $rc): $err"
}

# Build a test RPM with rpmbuild from a spec given on stdin.
# build_rpm OUTDIR < spec
build_rpm() {
  local out=$1 top
  top=$(mktemp -d "$T/rpmbuild.XXXXXX")
  mkdir -p "$top"/{SPECS,SOURCES,BUILD,RPMS,SRPMS,BUILDROOT}
  cat > "$top/SPECS/pkg.spec"
  rpmbuild --quiet --define "_topdir $top" --define '_binary_payload w19.zstdio' \
    --define '__os_install_post %{nil}' --define 'debug_package %{nil}' \
    --define '_build_id_links none' -bb "$top/SPECS/pkg.spec" >"$top/log" 2>&1 \
    || { cat "$top/log" >&2; return 1; }
  mkdir -p "$out"
  find "$top/RPMS" -name '*.rpm' -exec mv {} "$out"/ \;
}

# rpm's own test packages (docs/HACKING.md, "Test fixtures"): a lone clone has none.
# need_fixtures ends the test as skipped (exit 77, ctest's SKIP_RETURN_CODE);
# a test whose other parts run without them guards those parts with
# have_fixtures and calls skipped_part, so finish reports it skipped too.
have_fixtures() { [ -f "$FIXTURES/hello-2.0-1.x86_64.rpm" ]; }
need_fixtures() {
  have_fixtures && return 0
  echo "skipped: rpm's test packages not found at $FIXTURES"
  exit 77
}
SKIPPED=""
skipped_part() { SKIPPED="$SKIPPED${SKIPPED:+, }$1"; }

finish() {
  echo "$PASSES passed, $FAILS failed${SKIPPED:+, skipped: $SKIPPED (no fixtures at $FIXTURES)}"
  [ "$FAILS" -eq 0 ] || return 1
  [ -z "$SKIPPED" ] || exit 77
}

# ---- setups several tests share ----------------------------------------------

# guest_setup: for tests that boot an image they compose: cd to $T,
# $KERNEL (fetched when missing), and a private TMPDIR=$T/tmp that
# expect_guest_left_nothing checks at the end.
guest_setup() {
  cd "$T"
  KERNEL=$BUILDDIR/kernel/vmlinuz
  [ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
  export TMPDIR=$T/tmp
  mkdir -p "$TMPDIR"
}

# guest_scriptlet_setup: guest_setup, and $busybox, the shell of the small
# images the scriptlet tests build.
guest_scriptlet_setup() {
  guest_setup
  command -v busybox >/dev/null || { echo "FAIL: busybox-static missing" >&2; exit 1; }
  busybox=$(command -v busybox)
}

# compose_scriptlets_run TIMEOUT: layout os/ from the packages in rpms/ with
# Scriptlets=run and ScriptletTimeout=TIMEOUT, composed into os.img with the
# report os.json; compose's output in os.out (and printed).
compose_scriptlets_run() {
  check "init-layout" "$IMGTOOL" init-layout os --from-rpms rpms --kernel "$KERNEL"
  sed -i "s/^Scriptlets=error/Scriptlets=run\nScriptletTimeout=$1/" os/image.conf
  check "compose with Scriptlets=run" sh -c '"$0" compose os/image.conf -o os.img --json-report os.json > os.out 2>&1' "$IMGTOOL"
  cat os.out
}

# rpm_root_oracle: the oracle of the scriptlet tests: rpm itself, as root,
# installs rpms/*.rpm into the empty folder rpmroot (its output in
# rpm.out); os.img is extracted into imgroot to compare with it.
rpm_root_oracle() {
  mkdir rpmroot
  rpm -i --root "$T/rpmroot" rpms/*.rpm > rpm.out 2>&1 || { cat rpm.out; fail "rpm -i --root"; }
  "$IMGTOOL" extract os.img / -o imgroot > /dev/null
}

# layout_with_set NAME INSTALL RPM...: os/NAME.conf, os/image.conf with the
# package folder NAME-set (the RPMs given) and Install=INSTALL.
layout_with_set() {
  local name=$1 install=$2; shift 2
  mkdir -p "$name-set" && cp "$@" "$name-set/"
  sed "s|^Directory=.*|Directory=$T/$name-set|; s|^Install=.*|Install=$install|" os/image.conf > "os/$name.conf"
}

# expect_guest_left_nothing: after guest_scriptlet_setup's composes, no
# file in TMPDIR (rpmbuild's aside) and no QEMU still running.
expect_guest_left_nothing() {
  expect_eq "nothing left in TMPDIR" "$(ls -A "$TMPDIR" | grep -v '^rpmbuild' | tr '\n' ' ')" ""
  if pgrep -f "[q]emu-system-x86_64.*$TMPDIR" >/dev/null; then fail "a QEMU is left running"; else pass "no QEMU left running"; fi
}

# start_key_swtpm: a swtpm holding signing keys, on a free local port,
# stopped on exit (its state in $T/tpm); TPM2TOOLS_TCTI and
# TPM2OPENSSL_TCTI point tpm2-tools and OpenSSL's tpm2 provider at it.
start_key_swtpm() {
  local started=
  mkdir "$T/tpm"
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    if swtpm socket --tpm2 --tpmstate dir="$T/tpm" --server type=tcp,port=$port,bindaddr=127.0.0.1 \
         --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear \
         --pid file="$T/swtpm.pid" --log file="$T/swtpm.log" --daemon 2>/dev/null; then
      started=1; break
    fi
  done
  [ -n "$started" ] || { echo "FAIL: swtpm did not start" >&2; exit 1; }
  trap 'kill "$(cat "$T/swtpm.pid" 2>/dev/null)" 2>/dev/null || true; [ -n "${KEEP_T:-}" ] && echo "kept $T" || rm -rf "$T"' EXIT
  export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port" TPM2OPENSSL_TCTI="swtpm:host=127.0.0.1,port=$port"
}

# expect_evmctl_accepts_image IMAGE CERT_DER: evmctl ima_verify accepts
# every regular file of IMAGE (loop-mounted read-only: needs root), at
# least 10 of them.
expect_evmctl_accepts_image() {
  local img=$1 cert=$2 bad=0 n=0 f
  mkdir -p "$T/mnt"
  if ! mount -o loop,ro "$img" "$T/mnt" 2>/dev/null; then
    fail "loop mount of the image (needs root)"
    return
  fi
  while IFS= read -r -d '' f; do
    n=$((n + 1))
    evmctl ima_verify --key "$cert" "$f" >/dev/null 2>&1 || { echo "evmctl rejects ${f#$T/mnt}"; bad=1; }
  done < <(find "$T/mnt" -type f -print0)
  umount "$T/mnt"
  expect_eq "evmctl ima_verify accepts all $n regular files of $(basename "$img")" "$bad" 0
  check "at least 10 files were checked" test "$n" -ge 10
}

# demo_without_boot DIR: the demo's packages, key and signed packages
# (layouts/demo/run-demo --no-boot) in DIR; the test ends when it fails.
demo_without_boot() {
  local rc=0
  "$SRCDIR/layouts/demo/run-demo" "$BUILDDIR" --out "$1" --no-boot > "$1.out" 2> "$1.err" || rc=$?
  expect_eq "run-demo --no-boot (packages, key, signed packages)" "$rc" 0
  [ "$rc" -eq 0 ] || { tail -20 "$1.err" >&2; finish; exit 1; }
}

# expect_boot_check_suite IMAGE WHAT: IMAGE boots under QEMU (IMA
# enforcing) and passes the whole boot check suite (qemu-test/run --check),
# each named case included; WHAT names the image in the messages.
expect_boot_check_suite() {
  local img=$1 what=$2 rc=0 n_ok case
  "$SRCDIR/qemu-test/run" "$img" --check > check.out 2> check.err || rc=$?
  cat check.out
  expect_eq "boot check suite on $what: exit" "$rc" 0
  n_ok=$(grep -c '^ok: ' check.out || true)
  expect_eq "boot check suite: every case passed" "$(tail -n1 check.out)" "$n_ok passed, 0 failed"
  for case in static-elf dynamic-elf signed-script signed-read content-changed no-signature foreign-key; do
    check "case $case passed" grep -q "^ok: $case:" check.out
  done
}
