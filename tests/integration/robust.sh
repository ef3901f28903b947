# Nothing half-written, ever (issues 9 and 15): every bad input or setting
# fails with one line before the first byte is written; outputs follow one
# set of rules (docs/robustness.md, "Output files"); signals, a full disk and an image
# that shrinks under a reader leave nothing behind and kill nothing.
#
# imgtool's scratch goes to $TMPDIR: each command here runs with TMPDIR set
# to a private empty folder ($TD), and "nothing left" means $TD and the
# output folder ($O) are empty, which no other process on the machine can
# disturb.
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"

TD=$T/tmpdir O=$T/out
mkdir -p "$TD" "$O"
im() { TMPDIR=$TD "$IMGTOOL" "$@"; }
empty() { [ -z "$(ls -A "$1")" ]; }
nothing_left() {  # DESC: the output folder and TMPDIR are empty
  if empty "$O" && empty "$TD"; then pass "$1: nothing left in the output folder or TMPDIR"
  else fail "$1: left behind: $(ls -A "$O" "$TD" | tr '\n' ' ')"; rm -rf "${O:?}"/* "${O:?}"/.[!.]* "${TD:?}"/* 2>/dev/null || true; fi
}
fails_clean() {  # DESC PATTERN ARGS...: one-line failure, nothing left
  local d=$1 p=$2; shift 2
  expect_fail "$d" "$p" im "$@"
  nothing_left "$d"
}

make_test_packages "$T/rpms"
im keygen --out "$T/key" >/dev/null
printf 'not a kernel, but compose only copies it\n' > "$T/vmlinuz"
cat > "$T/l.conf" <<L
[Image]
Seed=robust
[Packages]
Directory=rpms
Install=tbase tapp
[Signatures]
Mode=sign
Key=key/signing.key
Certificate=key/signing.crt
[Boot]
Kernel=vmlinuz
L
L=$T/l.conf

# ---- issue 9: bad settings fail before the first byte ---------------------------
fails_clean "no certificate with Kernel=" "l.conf: \[Boot\]: no certificate" \
  compose "$L" -o "$O/x.img" --set Signatures.Certificate=
fails_clean "Boot.Root=bogus" "l.conf: --set Root=bogus: .*want LABEL=NAME" \
  compose "$L" -o "$O/x.img" --set Boot.Root=bogus
fails_clean "a label over 16 characters" "Label=abcdefghijklmnopq: an ext4 label has at most 16 characters" \
  compose "$L" -o "$O/x.img" --set Image.Label=abcdefghijklmnopq
sed 's/^Seed=robust/Label=abcdefghijklmnopq/' "$L" > "$T/label.conf"
fails_clean "a long label in the file, with file:line" "label.conf:2: Label=abcdefghijklmnopq: an ext4 label" \
  compose "$T/label.conf" -o "$O/x.img" --set Boot.Kernel=

# ---- issue 15 item 11: every layout value checked at parse time -----------------
fails_clean "Size=nan" "l.conf: --set Size=nan: expected a size" compose "$L" -o "$O/x.img" --set Image.Size=nan
fails_clean "Size=1e9" "l.conf: --set Size=1e9: expected a size" compose "$L" -o "$O/x.img" --set Image.Size=1e9
fails_clean "Size not a multiple of 4K" "Size=1000000000: not a multiple of 4K" \
  compose "$L" -o "$O/x.img" --set Image.Size=1000000000
fails_clean "Boot.Root with a newline (init.conf injection)" "--set Boot.Root: the value contains a control character \(byte 0x0a\)" \
  compose "$L" -o "$O/x.img" --set $'Boot.Root=LABEL=a\nroot=evil'
printf 'enforce everything\n' > "$T/bad.policy"
fails_clean "[Policy] File= checked without Kernel=" "\[Policy\] File=.*bad.policy: line 1: unknown action 'enforce'" \
  compose "$L" -o "$O/x.img" --set Boot.Kernel= --set "Policy.File=$T/bad.policy"
{ head -n 2 "$L"; printf 'Label=a\0b\n'; tail -n +3 "$L"; } > "$T/nul.conf"
fails_clean "a layout with a NUL byte" "nul.conf:3: contains a NUL byte" compose "$T/nul.conf" -o "$O/x.img"

# A path that earlier packages implied as a directory, shipped as a file:
# the message says so (not "conflicts with the file from imgtool itself").
for n in tdeep:'mkdir -p %{buildroot}/opt/x; echo a > %{buildroot}/opt/x/f|/opt/x/f' \
         tflat:'mkdir -p %{buildroot}/opt; echo b > %{buildroot}/opt/x|/opt/x'; do
  name=${n%%:*} body=${n#*:} req=""
  [ "$name" = tflat ] && req="Requires: tdeep"   # installed after tdeep
  build_rpm "$T/implied" <<SPEC
Name: $name
$req
Version: 1
Release: 1
Summary: x
License: MIT
BuildArch: noarch
%description
x
%install
${body%|*}
%files
${body#*|}
SPEC
done
cp "$T"/rpms/*.rpm "$T/implied/"
sed "s|^Directory=.*|Directory=implied|; s/^Install=.*/Install=tbase tapp tdeep tflat/" "$L" > "$T/implied.conf"
fails_clean "a file where packages implied a directory" "tflat-1-1.noarch.rpm: /opt/x is not a directory, but files of earlier packages are inside it" \
  compose "$T/implied.conf" -o "$O/x.img"

# ---- issue 15 item 8: files read whole have a size limit -------------------------
for c in "inspect --cert /dev/zero $T/rpms/tbase-1.0-1.noarch.rpm" \
         "initramfs --cert /dev/zero --root LABEL=x -o $O/i" \
         "sign-rpm --key /dev/zero --cert $T/key/signing.crt -o $O/s.rpm $T/rpms/tbase-1.0-1.noarch.rpm" \
         "compose /dev/zero -o $O/x.img" \
         "compose $L -o $O/x.img --set Signatures.Certificate=/dev/zero" \
         "compose $L -o $O/x.img --set Packages.GpgKey=/dev/zero"; do
  # shellcheck disable=SC2086
  expect_fail "${c%% *} reading /dev/zero stops at the limit" "/dev/zero: larger than 16 MiB" timeout 20 env TMPDIR="$TD" "$IMGTOOL" $c
  nothing_left "${c%% *} reading /dev/zero"
done

# ---- issue 15 item 6: one output rule for every command -------------------------
fails_clean "compose -o /dev/null" "/dev/null: exists and is a character device: refusing to replace it" \
  compose "$L" -o /dev/null
expect_eq "/dev/null is still the device" "$(stat -c '%F %t,%T' /dev/null)" "character special file 1,3"
# (a private symlink and fifo: /dev/stdout itself is shared with every
# other process on the machine)
ln -s /proc/self/fd/1 "$T/stdout-link" && mkfifo "$T/fifo"
fails_clean "--json-report onto a symlink (as /dev/stdout is)" "stdout-link: exists and is a symlink" \
  compose "$L" -o "$O/x.img" --json-report "$T/stdout-link" --force
fails_clean "-o onto a fifo" "fifo: exists and is a fifo" compose "$L" -o "$T/fifo" --force
expect_eq "the symlink and the fifo are untouched" "$(stat -c %F "$T/stdout-link" "$T/fifo" | tr '\n' ' ')" "symbolic link fifo "
fails_clean "--json-report in a missing folder" "/nonexistent/r.json: cannot write there" \
  compose "$L" -o "$O/x.img" --json-report /nonexistent/r.json
fails_clean "sign-rpm -o /dev/null" "/dev/null: exists and is a character device" \
  sign-rpm --key "$T/key/signing.key" --cert "$T/key/signing.crt" -o /dev/null "$T/rpms/tbase-1.0-1.noarch.rpm"
fails_clean "initramfs -o /dev/null" "/dev/null: exists and is a character device" \
  initramfs --cert "$T/key/signing.der" --root LABEL=x -o /dev/null
mkdir -p "$T/symkeys" && ln -s /etc/hostname "$T/symkeys/signing.key"
fails_clean "keygen --force does not replace a symlink" "signing.key: exists and is a symlink" keygen --out "$T/symkeys" --force
before=$(sha256sum < "$L")
fails_clean "compose L -o L (--force)" "l.conf: is one of this command's inputs" compose "$L" -o "$L" --force
expect_eq "the layout is untouched" "$(sha256sum < "$L")" "$before"
rpm=$T/rpms/tapp-2.1-3.x86_64.rpm
before=$(sha256sum < "$rpm")
ln "$rpm" "$T/hardlink.rpm"
fails_clean "compose -o one of its RPMs, through a hard link" "hardlink.rpm: is one of this command's inputs" \
  compose "$L" -o "$T/hardlink.rpm" --force
fails_clean "--json-report onto the image's own kernel file" "x.img.vmlinuz: --json-report names one of the image's own outputs" \
  compose "$L" -o "$O/x.img" --json-report "$O/x.img.vmlinuz"
fails_clean "compose --json-report onto its key" "signing.key: is one of this command's inputs" \
  compose "$L" -o "$O/x.img" --json-report "$T/key/signing.key" --force
expect_eq "the RPM is untouched" "$(sha256sum < "$rpm")" "$before"
fails_clean "sign-rpm -o its input" "is one of this command's inputs" \
  sign-rpm --key "$T/key/signing.key" --cert "$T/key/signing.crt" --force -o "$rpm" "$rpm"
expect_eq "the RPM is still untouched" "$(sha256sum < "$rpm")" "$before"

# sign-rpm: all packages or none (a bad one among good ones writes nothing)
head -c 3000 "$T/rpms/tapp-2.1-3.x86_64.rpm" > "$T/trunc.rpm"
mkdir -p "$T/signed"
expect_fail "sign-rpm with one bad package of two" "trunc.rpm" \
  im sign-rpm --key "$T/key/signing.key" --cert "$T/key/signing.crt" --output-dir "$T/signed" \
  "$T/rpms/tbase-1.0-1.noarch.rpm" "$T/trunc.rpm"
check "  nothing in its output folder (not even the good one)" empty "$T/signed"
check "sign-rpm of good packages works" im sign-rpm --key "$T/key/signing.key" --cert "$T/key/signing.crt" \
  -o "$T/signed.rpm" "$T/rpms/tbase-1.0-1.noarch.rpm"
check "  and its temporary is gone" test -z "$(ls "$T" | grep 'signed.rpm.tmp')"

# A compose that works: every output in place, nothing else, TMPDIR empty
# (the rpm scratch root and its database are removed whole: issue 15 item 5).
check "compose succeeds" im compose "$L" -o "$O/x.img" --json-report "$O/x.json" --quiet
expect_eq "outputs, and only them" "$(ls -A "$O" | tr '\n' ' ')" "x.img x.img.cmdline x.img.initramfs x.img.vmlinuz x.json "
check "TMPDIR is empty after a compose" empty "$TD"
expect_fail "an existing image is refused without --force" "x.img: already exists \(use --force to replace it\)" \
  im compose "$L" -o "$O/x.img"
check "--force replaces it" im compose "$L" -o "$O/x.img" --json-report "$O/x.json" --force --quiet
json=$(im compose "$L" -o "$O/y.img" --json-report - --quiet)
expect_eq "--json-report - writes the JSON to stdout" "$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["packages"]))' "$json")" "2"
expect_eq "extract FILE -o - writes its content to stdout" "$(im extract "$O/x.img" /etc/group -o -)" "$(printf 'root:x:0:\nappgroup:x:1001:')"
rm -f "$O"/*

# ---- issue 9 item 4: a 2,000-name Install= line --------------------------------
names=$(for i in $(seq 1000); do printf 'tbase tapp '; done)
sed "s/^Install=.*/Install=$names/" "$L" > "$T/long.conf"
expect_eq "the Install= line is long" "$(awk 'length > 10000' "$T/long.conf" | wc -l)" "1"
check "a 2,000-name Install= line composes" im compose "$T/long.conf" -o "$O/long.img" --quiet
check "  and the image verifies" im verify --cert "$T/key/signing.crt" "$O/long.img"
rm -f "$O"/*

# ---- signals during a large compose ----------------------------------------------
top=$(mktemp -d "$T/rpmbuild.XXXXXX")
mkdir -p "$top"/{SPECS,SOURCES,BUILD,RPMS,SRPMS,BUILDROOT}
cat > "$top/SPECS/big.spec" <<'SPEC'
Name: tbig
Version: 1
Release: 1
Summary: big
License: MIT
BuildArch: noarch
%description
x
%install
mkdir -p %{buildroot}/usr/share/big
head -c 256M /dev/zero > %{buildroot}/usr/share/big/zeros
%files
/usr/share/big
SPEC
rpmbuild --quiet --define "_topdir $top" --define '_binary_payload w1.zstdio' \
  --define '__os_install_post %{nil}' --define 'debug_package %{nil}' \
  --define '_build_id_links none' -bb "$top/SPECS/big.spec" >"$top/log" 2>&1 || cat "$top/log" >&2
mkdir -p "$T/big" && cp "$T"/rpms/*.rpm "$T/big/" && find "$top/RPMS" -name '*.rpm' -exec mv {} "$T/big/" \;
rm -rf "$top"
sed "s|^Directory=.*|Directory=big|; s/^Install=.*/Install=tbase tapp tbig/" "$L" > "$T/big.conf"

# interrupt SIGNAL: start a compose, wait until it is writing the big file
# (the image's temporary has data and the rpm database scratch exists), send
# the signal, and check that the process died of it and left nothing.
interrupt() {
  local sig=$1 pid tmp="" blocks=0 rc=0 i
  set -m   # job control: a background job keeps SIGINT (not ignored)
  TMPDIR=$TD "$IMGTOOL" compose "$T/big.conf" -o "$O/big.img" --quiet 2>"$T/sig.err" &
  pid=$!
  set +m
  for i in $(seq 600); do
    tmp=$(ls "$O"/big.img.tmp.* 2>/dev/null | head -n1 || true)
    [ -n "$tmp" ] && blocks=$(stat -c %b "$tmp" 2>/dev/null || echo 0)
    [ "${blocks:-0}" -gt 40000 ] && break   # 20 MB written
    sleep 0.02
  done
  if [ "${blocks:-0}" -gt 40000 ] && ls "$TD" | grep -q imgtool-rpmdb; then
    pass "SIG$sig: sent mid-write ($((blocks / 2048)) MB written, rpmdb scratch present)"
  else
    fail "SIG$sig: compose was not caught mid-write (blocks=$blocks, TMPDIR: $(ls "$TD"))"
  fi
  kill -s "$sig" "$pid"
  wait "$pid" || rc=$?
  expect_eq "SIG$sig: compose died of the signal" "$rc" "$((128 + $(kill -l "$sig")))"
  nothing_left "SIG$sig"
}
interrupt INT
interrupt TERM
interrupt HUP

# ---- a compose onto a nearly full filesystem -------------------------------------
if [ "$(id -u)" -eq 0 ]; then
  mkdir -p "$T/full"
  mount -t tmpfs -o size=24m tmpfs "$T/full"
  trap 'umount "$T/full" 2>/dev/null || true; rm -rf "$T"' EXIT
  head -c 23M /dev/zero > "$T/full/filler"   # 1 MiB left: less than the image needs
  expect_fail "compose onto a nearly full filesystem" "x.img: .*(No space left on device|image full)" \
    im compose "$L" -o "$T/full/x.img" --set Boot.Kernel=
  expect_eq "  nothing left on it" "$(ls -A "$T/full")" "filler"
  check "  nothing left in TMPDIR" empty "$TD"
  umount "$T/full"
  trap '[ -n "${KEEP_T:-}" ] && echo "kept $T" || rm -rf "$T"' EXIT
else
  echo "skip: the full-filesystem case needs root (mount)"
fi

# ---- issue 9 item 7: an image that shrinks under a reader ------------------------
check "compose the big image" im compose "$T/big.conf" -o "$O/big.img" --quiet --set Boot.Kernel=
# Truncate it while verify reads it, at a known point rather than after a
# guessed delay: strace stops the whole process (SIGSTOP) at a thread's 20th
# pread64 of the image, after the open and before the last file is read;
# then the image shrinks, then SIGCONT.  (With the old mmap reader this was
# SIGBUS, exit 135.)  LeakSanitizer cannot run under ptrace, so the
# sanitizer build checks leaks everywhere but in this one run.
cp --sparse=always "$O/big.img" "$O/shrink.img"
TMPDIR=$TD ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -o "$T/shrink.strace" -e trace=pread64 -e inject=pread64:signal=SIGSTOP:when=20 \
  "$IMGTOOL" verify --cert "$T/key/signing.crt" "$O/shrink.img" >/dev/null 2>"$T/shrink.err" &
tracer=$!
stopped=no
for _ in $(seq 600); do   # a bound, not a time being tested: the stop comes at the 20th read
  grep -q -- '--- stopped by SIGSTOP ---' "$T/shrink.strace" 2>/dev/null && { stopped=yes; break; }
  sleep 0.1
done
expect_eq "verify stopped at its 20th read of the image" "$stopped" "yes"
truncate -s 8M "$O/shrink.img"
kill -CONT "$(pgrep -P "$tracer")" 2>/dev/null || true
rc=0; wait "$tracer" || rc=$?
expect_eq "verify of an image that shrinks mid-read: exit 2 (no SIGBUS)" "$rc" "2"
expect_eq "  with one clear line" "$(cat "$T/shrink.err")" \
  "imgtool: $O/shrink.img: image changed while reading: results discarded"
for cmd in "manifest" "ls" "extract"; do
  truncate -s 8M "$O/shrink.img"
  args=("$O/shrink.img"); [ "$cmd" = ls ] && args+=(/usr/share/big); [ "$cmd" = extract ] && args+=(/usr/share/big -o "$O/ex")
  rc=0; err=$(im "$cmd" "${args[@]}" 2>&1 >/dev/null) || rc=$?
  expect_eq "$cmd of a truncated image: exit 2" "$rc" "2"
done
check "extract left nothing" test ! -e "$O/ex"
rm -f "$O"/*

# ---- issue 15 item 7: a sparse terabyte in a small image -------------------------
check "a 32 MiB image" im compose "$L" -o "$O/s.img" --set Image.Size=32M --set Boot.Kernel= --quiet
printf 'tail\n' > "$T/tail"
debugfs -w -R "write $T/tail /huge" "$O/s.img" >/dev/null 2>&1
debugfs -w -R "sif /huge size 1099511627776" "$O/s.img" >/dev/null 2>&1
expect_eq "debugfs made a 1 TiB file" "$(debugfs -R 'stat /huge' "$O/s.img" 2>/dev/null | sed -n 's/.*Size: \([0-9]*\).*/\1/p' | head -n1)" "1099511627776"
debugfs -w -R "mkdir /esc$(printf '\033')[31mred" "$O/s.img" >/dev/null 2>&1
out=$("$IMGTOOL" ls "$O/s.img" /)
check "ls escapes an ESC in a name" grep -q 'esc\\033\[31mred$' <<<"$out"
if grep -q $'\033' <<<"$out"; then fail "ls printed a raw ESC"; else pass "ls printed no raw ESC"; fi
expect_fail "an error naming a path with a newline and an ESC is one line" 'no\\012such\\033\[2J' \
  "$IMGTOOL" extract "$O/s.img" $'/no\nsuch\033[2J' -o "$O/nothing"
rc=0; out=$(timeout 60 "$IMGTOOL" verify --cert "$T/key/signing.crt" "$O/s.img" 2>&1) || rc=$?
expect_eq "verify: a violation (exit 1), quickly" "$rc" "1"
check "  naming the file and the reason" grep -q '/huge.*larger than the whole image' <<<"$out"
rc=0; timeout 60 "$IMGTOOL" manifest "$O/s.img" >/dev/null 2>"$T/m.err" || rc=$?
expect_eq "manifest: refuses to hash it (exit 2)" "$rc" "2"
check "  saying why" grep -q 'huge: 1099511627776 bytes, larger than the whole image' "$T/m.err"
check "extract writes it as a hole" timeout 60 "$IMGTOOL" extract "$O/s.img" /huge -o "$O/huge"
expect_eq "  its size" "$(stat -c %s "$O/huge")" "1099511627776"
check "  taking almost no space" test "$(stat -c %b "$O/huge")" -lt 100
rm -f "$O"/*

finish
