# Hostile packages (issue 15): each case is its own crafted package set
# (rpmbuild, or tests/craft-rpm.py rewriting an rpmbuild-made header with
# valid digests).  A refused set must give exit 2, one line naming the
# package and the path, and leave nothing in its output folder; an accepted
# one must match what rpm itself does (rpm -i --root is the oracle).
source "$SRCDIR/tests/integration/lib.sh"

CRAFT=(python3 "$SRCDIR/tests/craft-rpm.py")
RPM_ROOT_OPTS=(--dbpath /var/lib/rpm --define '__plugindir /usr/lib/x86_64-linux-gnu/rpm-plugins'
               --define '_pkgverify_level none' --nodeps)
"$IMGTOOL" keygen --out "$T/key" >/dev/null

# case NAME INSTALL: a folder $T/NAME with pkgs/, out/ and layout.conf.
new_case() {
  mkdir -p "$T/$1/pkgs" "$T/$1/out"
  cat > "$T/$1/layout.conf" <<L
[Image]
Seed=hostile-$1
[Packages]
Directory=pkgs
Install=$2
[Signatures]
Mode=sign
Key=$T/key/signing.key
Certificate=$T/key/signing.crt
L
}

# spec_head NAME [REQUIRES]: the start of a spec; the caller appends the rest.
spec_head() {
  printf 'Name: %s\nVersion: 1\nRelease: 1\nSummary: hostile test\nLicense: MIT\nBuildArch: noarch\nAutoReqProv: no\n' "$1"
  [ -z "${2:-}" ] || printf 'Requires: %s\n' "$2"
  printf '%%description\nx\n'
}

# refused DESC CASE MESSAGE: compose exits 2, prints exactly "imgtool: MESSAGE"
# (one line), and leaves no image, temporary or not.
refused() {
  local err rc=0
  err=$(cd "$T/$2" && "$IMGTOOL" compose layout.conf -o out/image.img 2>&1 >/dev/null) || rc=$?
  expect_eq "$1: exit code" "$rc" 2
  expect_eq "$1: message" "$err" "imgtool: $3"
  expect_eq "$1: nothing left in the output folder" "$(ls -A "$T/$2/out")" ""
}

# composes DESC CASE: compose succeeds, the image passes e2fsck and
# verify --against its own layout.
composes() {
  local rc=0
  (cd "$T/$2" && "$IMGTOOL" compose layout.conf -o out/image.img --quiet \
     --json-report out/report.json >out/compose.log 2>&1) || rc=$?
  expect_eq "$1: compose exit code" "$rc" 0
  [ "$rc" -eq 0 ] || { cat "$T/$2/out/compose.log" >&2; return; }
  check "$1: e2fsck finds the image clean" e2fsck -fn "$T/$2/out/image.img" >/dev/null 2>&1
  rc=0
  "$IMGTOOL" verify --cert "$T/key/signing.crt" --against "$T/$2/layout.conf" \
    "$T/$2/out/image.img" >"$T/$2/out/verify.log" 2>&1 || rc=$?
  expect_eq "$1: verify --against exit code" "$rc" 0
  [ "$rc" -eq 0 ] || cat "$T/$2/out/verify.log" >&2
}

# rpm_root CASE PKG...: install with rpm into $T/CASE/rpmroot (the oracle).
rpm_root() {
  local c=$1; shift
  rm -rf "$T/$c/rpmroot"; mkdir -p "$T/$c/rpmroot"
  rpm -i --root "$T/$c/rpmroot" "${RPM_ROOT_OPTS[@]}" "$@" >"$T/$c/rpm.log" 2>&1
}

# mode_owner IMAGE PATH: "mode uid gid" of a path in an image, read through
# a loop mount when this machine allows one, else through debugfs.
mode_owner() {
  local img=$1 p=$2 mnt
  mnt=$(dirname "$img")/mnt
  mkdir -p "$mnt"
  if [ "$(id -u)" -eq 0 ] && mount -o loop,ro "$img" "$mnt" 2>/dev/null; then
    stat -c '%a %u %g' "$mnt$p"
    umount "$mnt"
  else
    debugfs -R "stat $p" "$img" 2>/dev/null |
      sed -n 's/^Mode: *0*\([0-7]*\).*/\1/p; s/^User: *\([0-9]*\) *Group: *\([0-9]*\).*/\1 \2/p' |
      paste -sd' '
  fi
}
can_loop_mount() {
  local d=$T/loopprobe
  mkdir -p "$d/mnt" && truncate -s 4M "$d/x.img" && mkfs.ext4 -q "$d/x.img" 2>/dev/null &&
    mount -o loop,ro "$d/x.img" "$d/mnt" 2>/dev/null && umount "$d/mnt"
}
if can_loop_mount; then echo "modes read through a loop mount"; else echo "no loop mount here: modes read with debugfs"; fi

# ---- 1. paths imgtool writes itself meet a package's -----------------------------

new_case keysfile tkeys
build_rpm "$T/keysfile/pkgs" <<SPEC
$(spec_head tkeys)
%install
mkdir -p %{buildroot}/etc
printf 'not a directory\n' > %{buildroot}/etc/keys
%files
/etc/keys
SPEC
refused "/etc/keys shipped as a file" keysfile \
  "./pkgs/tkeys-1-1.noarch.rpm: /etc/keys is a file, but imgtool writes /etc/keys/x509_ima.der below it"

new_case keyslink tkeyl
build_rpm "$T/keyslink/pkgs" <<SPEC
$(spec_head tkeyl)
%install
mkdir -p %{buildroot}/etc
ln -s /tmp %{buildroot}/etc/keys
%files
/etc/keys
SPEC
refused "/etc/keys shipped as a symlink" keyslink \
  "./pkgs/tkeyl-1-1.noarch.rpm: /etc/keys is a symlink, but imgtool writes /etc/keys/x509_ima.der below it"

new_case rpmdblink trpml
build_rpm "$T/rpmdblink/pkgs" <<SPEC
$(spec_head trpml)
%install
mkdir -p %{buildroot}/var/lib
ln -s ../../usr/lib/sysimage/rpm %{buildroot}/var/lib/rpm
%files
/var/lib/rpm
SPEC
refused "/var/lib/rpm shipped as a symlink" rpmdblink \
  "./pkgs/trpml-1-1.noarch.rpm: /var/lib/rpm is a symlink, but imgtool writes /var/lib/rpm/rpmdb.sqlite below it"

new_case dbpath tmacros
build_rpm "$T/dbpath/pkgs" <<SPEC
$(spec_head tmacros)
%install
mkdir -p %{buildroot}/usr/lib/rpm %{buildroot}/etc
printf '%%%%_dbpath /etc//passwd/\n' > %{buildroot}/usr/lib/rpm/macros
printf 'root:x:0:0:root:/root:/bin/sh\n' > %{buildroot}/etc/passwd
%files
/usr/lib/rpm/macros
/etc/passwd
SPEC
refused "%_dbpath pointing at /etc/passwd" dbpath \
  "./pkgs/tmacros-1-1.noarch.rpm: /etc/passwd is a file, but imgtool writes /etc/passwd/rpmdb.sqlite below it"

new_case keysexact tkeyx
build_rpm "$T/keysexact/pkgs" <<SPEC
$(spec_head tkeyx)
%install
mkdir -p %{buildroot}/etc/keys
printf 'mine\n' > %{buildroot}/etc/keys/x509_ima.der
%files
/etc/keys/x509_ima.der
SPEC
refused "a package shipping imgtool's own cert path" keysexact \
  "./pkgs/tkeyx-1-1.noarch.rpm: /etc/keys/x509_ima.der: imgtool writes this path itself, the package must not ship it"

# ---- 2. set-id bits when the owner is unknown: as rpm does ---------------------------

suid_files() {  # the files of a set-id test package, under $1
cat <<SPEC
%install
mkdir -p %{buildroot}$1 %{buildroot}/var/lib/$2
for f in both uid-unknown gid-unknown rootsuid known; do echo '#!/bin/sh' > %{buildroot}$1/\$f; done
%files
%attr(6755,svcuser,svcgroup) $1/both
%attr(6755,svcuser,root) $1/uid-unknown
%attr(6755,root,svcgroup) $1/gid-unknown
%attr(4755,root,root) $1/rootsuid
%attr(6750,svcuser,svcgroup) $1/known
%dir %attr(2775,root,svcgroup) /var/lib/$2
SPEC
}
users_files() {
cat <<'SPEC'
%install
mkdir -p %{buildroot}/etc
printf 'root:x:0:0:root:/root:/bin/sh\nsvcuser:x:1234:1235::/:/sbin/nologin\n' > %{buildroot}/etc/passwd
printf 'root:x:0:\nsvcgroup:x:1235:\n' > %{buildroot}/etc/group
%files
/etc/passwd
/etc/group
SPEC
}

# compare_with_rpm DESC CASE PATH...: mode and owner in the image equal rpm's.
compare_with_rpm() {
  local d=$1 c=$2 p got want; shift 2
  for p in "$@"; do
    got=$(mode_owner "$T/$c/out/image.img" "$p")
    want=$(stat -c '%a %u %g' "$T/$c/rpmroot$p")
    expect_eq "$d: $p as rpm -i --root gives it" "$got" "$want"
  done
}

# a) No users in the image: every unknown owner is root, its bit cleared.
new_case suid tsuid
build_rpm "$T/suid/pkgs" <<SPEC
$(spec_head tsuid)
$(suid_files /usr/bin tsuid)
SPEC
composes "set-id files of unknown owners" suid
check "rpm installs the set-id package" rpm_root suid "$T"/suid/pkgs/*.rpm
compare_with_rpm "unknown owners" suid /usr/bin/both /usr/bin/uid-unknown /usr/bin/gid-unknown \
  /usr/bin/rootsuid /usr/bin/known /var/lib/tsuid
expect_eq "unknown user and group: no set-id root" "$(mode_owner "$T/suid/out/image.img" /usr/bin/both)" "755 0 0"
expect_eq "unknown user only: setgid root kept" "$(mode_owner "$T/suid/out/image.img" /usr/bin/uid-unknown)" "2755 0 0"
expect_eq "root's own setuid kept" "$(mode_owner "$T/suid/out/image.img" /usr/bin/rootsuid)" "4755 0 0"
check "the report lists the cleared bits" \
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); c=r["setid_cleared"]; \
    assert c==["/usr/bin/both","/usr/bin/gid-unknown","/usr/bin/known","/usr/bin/uid-unknown","/var/lib/tsuid"], c; \
    assert any("/usr/bin/both: setuid (user svcuser) and setgid (group svcgroup) cleared" in w for w in r["warnings"]), r["warnings"]' \
  "$T/suid/out/report.json"
# ...and verify --against holds an image to it: the bits put back (as the
# old compose wrote them) are a violation.
cp "$T/suid/out/image.img" "$T/suid/setuid-root.img"
debugfs -w -R "sif /usr/bin/both mode 0106755" "$T/suid/setuid-root.img" 2>/dev/null
rc=0
out=$("$IMGTOOL" verify --cert "$T/key/signing.crt" --against "$T/suid/layout.conf" "$T/suid/setuid-root.img" 2>&1) || rc=$?
expect_eq "verify --against refuses a setuid-root file of an unknown owner: exit code" "$rc" 1
expect_eq "verify --against names it" "$(grep '^/usr/bin/both' <<<"$out")" \
  "/usr/bin/both: mode 6755, package tsuid-1-1.noarch says 0755"

# b) The users come from an earlier package: ids resolved, bits kept.
new_case suidknown "tusers tsuidk"
build_rpm "$T/suidknown/pkgs" <<SPEC
$(spec_head tusers)
$(users_files)
SPEC
build_rpm "$T/suidknown/pkgs" <<SPEC
$(spec_head tsuidk tusers)
$(suid_files /usr/libexec/tsuidk tsuidk)
SPEC
composes "set-id files of known owners" suidknown
check "rpm installs them" rpm_root suidknown "$T"/suidknown/pkgs/*.rpm
compare_with_rpm "known owners" suidknown /usr/libexec/tsuidk/both /usr/libexec/tsuidk/known /var/lib/tsuidk
expect_eq "known owners keep their bits" "$(mode_owner "$T/suidknown/out/image.img" /usr/libexec/tsuidk/both)" "6755 1234 1235"

# c) A package shipping /etc/passwd and a set-id file of a user it adds:
#    rpm resolves a package's owners before writing any of its files.
new_case suidself tself
build_rpm "$T/suidself/pkgs" <<SPEC
$(spec_head tself)
%install
mkdir -p %{buildroot}/etc %{buildroot}/usr/sbin
printf 'root:x:0:0:root:/root:/bin/sh\nsvcuser:x:1234:1235::/:/sbin/nologin\n' > %{buildroot}/etc/passwd
printf 'root:x:0:\nsvcgroup:x:1235:\n' > %{buildroot}/etc/group
echo '#!/bin/sh' > %{buildroot}/usr/sbin/self
%files
/etc/passwd
/etc/group
%attr(6755,svcuser,svcgroup) /usr/sbin/self
SPEC
composes "set-id file next to the passwd that names its user" suidself
check "rpm installs it" rpm_root suidself "$T"/suidself/pkgs/*.rpm
compare_with_rpm "owner from the same package" suidself /usr/sbin/self

# ---- 3. a package owning / ----------------------------------------------------------

new_case root tfilesystem
build_rpm "$T/root/pkgs" <<SPEC
$(spec_head tfilesystem)
%install
mkdir -p %{buildroot}/usr
%files
%dir %attr(555,root,root) /
%dir /usr
SPEC
composes "a package owning /" root
check "rpm installs it" rpm_root root "$T"/root/pkgs/*.rpm
compare_with_rpm "the root directory" root /
expect_eq "/ takes the package's mode" "$(mode_owner "$T/root/out/image.img" /)" "555 0 0"

# ---- 4. sizes checked before librpm allocates ----------------------------------------

new_case hugelink thuge
build_rpm "$T/hugelink/tmp" <<SPEC
$(spec_head thuge)
%install
mkdir -p %{buildroot}/usr/share/thuge
ln -s target %{buildroot}/usr/share/thuge/link
%files
/usr/share/thuge/link
SPEC
src=$(ls "$T"/hugelink/tmp/*.rpm)
"${CRAFT[@]}" "$src" "$T/hugelink/same.rpm"
check "craft-rpm.py rewrites a header byte for byte" cmp "$src" "$T/hugelink/same.rpm"
"${CRAFT[@]}" "$src" "$T/hugelink/pkgs/thuge.rpm" del FILESIZES set LONGFILESIZES int64 '[1099511627776]'
check "the crafted package passes rpm's digest checks" bash -c 'rpm -K "$1" >/dev/null' _ "$T/hugelink/pkgs/thuge.rpm"
refused "a symlink whose header size is 2^40" hugelink \
  "./pkgs/thuge.rpm: /usr/share/thuge/link: symlink size 1099511627776 in the header, its target has 6 bytes"

new_case hugehdr thuge
cp "$src" "$T/hugehdr/pkgs/thuge.rpm"
# Claim librpm's largest data size in the main header; print what the
# message must then say (header bytes claimed, bytes left in the file).
sizes=$(python3 - "$T/hugehdr/pkgs/thuge.rpm" <<'PY'
import struct, sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
il, dl = struct.unpack('>II', b[96 + 8:96 + 16])
main = 96 + ((16 + il * 16 + dl + 7) & ~7)
mil = struct.unpack('>I', b[main + 8:main + 12])[0]
b[main + 12:main + 16] = struct.pack('>I', 0x0fffffff)
open(p, 'wb').write(b)
print(16 + mil * 16 + 0x0fffffff, len(b) - main)
PY
)
refused "a main header that claims 256 MiB" hugehdr \
  "./pkgs/thuge.rpm: truncated package: the main header says ${sizes% *} bytes, the file has ${sizes#* } after its start"

# ---- 9. conflicts decided by rpm's rule ---------------------------------------------

# conflict_case CASE DESC MESSAGE SPEC_A SPEC_B: two packages that rpm refuses
# to install together; compose must refuse them, and verify --against an
# image of the first alone must refuse the pair too.
conflict_pair() {
  local c=$1 d=$2 msg=$3
  new_case "$c" "${c}a ${c}b"
  build_rpm "$T/$c/pkgs" <<SPEC
$(spec_head "${c}a")
$4
SPEC
  build_rpm "$T/$c/pkgs" <<SPEC
$(spec_head "${c}b" "${c}a")
$5
SPEC
  rpm_root "$c" "$T"/$c/pkgs/*.rpm && fail "$d: rpm accepts the pair (the oracle disagrees)" ||
    check "$d: rpm reports a conflict" grep -q "conflicts between attempted installs" "$T/$c/rpm.log"
  refused "$d" "$c" "./pkgs/${c}b-1-1.noarch.rpm: $msg"
  # verify --against applies the same rule
  mkdir -p "$T/$c/alone/pkgs" && cp "$T"/$c/pkgs/${c}a-*.rpm "$T/$c/alone/pkgs/"
  sed "s/^Install=.*/Install=${c}a/" "$T/$c/layout.conf" > "$T/$c/alone/layout.conf"
  (cd "$T/$c/alone" && "$IMGTOOL" compose layout.conf -o image.img --quiet)
  local err rc=0
  err=$("$IMGTOOL" verify --cert "$T/key/signing.crt" --against "$T/$c/layout.conf" "$T/$c/alone/image.img" 2>&1) || rc=$?
  expect_eq "$d: verify --against exit code" "$rc" 2
  expect_eq "$d: verify --against message" "$err" "imgtool: $T/$c/pkgs/${c}b-1-1.noarch.rpm: $msg"
}

conflict_pair tsym "symlinks with different targets" \
  "/usr/share/tsym/link conflicts with the file from tsyma-1-1.noarch (symlink target differs)" \
  "%install
mkdir -p %{buildroot}/usr/share/tsym; ln -s aaa %{buildroot}/usr/share/tsym/link
%files
/usr/share/tsym/link" \
  "%install
mkdir -p %{buildroot}/usr/share/tsym; ln -s bbb %{buildroot}/usr/share/tsym/link
%files
/usr/share/tsym/link"

conflict_pair tdev "devices with different numbers" \
  "/dev/tdev conflicts with the file from tdeva-1-1.noarch (device number differs)" \
  "%install
mkdir -p %{buildroot}/dev
%files
%dev(c,1,3) %attr(666,root,root) /dev/tdev" \
  "%install
mkdir -p %{buildroot}/dev
%files
%dev(c,1,5) %attr(666,root,root) /dev/tdev"

conflict_pair tdirm "directories with different modes" \
  "/opt/tdirm conflicts with the file from tdirma-1-1.noarch (mode differs)" \
  "%install
mkdir -p %{buildroot}/opt/tdirm
%files
%dir %attr(755,root,root) /opt/tdirm" \
  "%install
mkdir -p %{buildroot}/opt/tdirm
%files
%dir %attr(700,root,root) /opt/tdirm"

# Identical entries shared by two packages are fine, hard links included.
new_case hlshared "thla thlb"
for n in thla thlb; do
  build_rpm "$T/hlshared/pkgs" <<SPEC
$(spec_head $n)
%install
mkdir -p %{buildroot}/usr/share/thl
printf 'one inode, two names\n' > %{buildroot}/usr/share/thl/a
ln %{buildroot}/usr/share/thl/a %{buildroot}/usr/share/thl/b
ln -s a %{buildroot}/usr/share/thl/s
%files
/usr/share/thl/a
/usr/share/thl/b
/usr/share/thl/s
SPEC
done
check "rpm accepts a hard-link set two packages share identically" rpm_root hlshared "$T"/hlshared/pkgs/*.rpm
composes "a hard-link set two packages share identically" hlshared
check "both names hold the content" bash -c \
  'for p in a b; do debugfs -R "cat /usr/share/thl/$p" "$1" 2>/dev/null | grep -qx "one inode, two names" || exit 1; done' _ \
  "$T/hlshared/out/image.img"

# Members of one hard-link set that differ (crafted: rpmbuild never makes them).
new_case hldiff thld
build_rpm "$T/hldiff/tmp" <<SPEC
$(spec_head thld)
%install
mkdir -p %{buildroot}/usr/share/thld
printf 'linked\n' > %{buildroot}/usr/share/thld/a
ln %{buildroot}/usr/share/thld/a %{buildroot}/usr/share/thld/b
%files
/usr/share/thld/a
/usr/share/thld/b
SPEC
src=$(ls "$T"/hldiff/tmp/*.rpm)
modes=$("${CRAFT[@]}" "$src" get FILEMODES)
"${CRAFT[@]}" "$src" "$T/hldiff/pkgs/thld.rpm" set FILEMODES int16 \
  "$(python3 -c 'import json,sys; m=json.loads(sys.argv[1]); m[1]=m[1]&~0o7777|0o4755; print(json.dumps(m))' "$modes")"
refused "hard-link members with different modes" hldiff \
  "./pkgs/thld.rpm: /usr/share/thld/a and /usr/share/thld/b are one hard-link set but differ in mode"
digests=$("${CRAFT[@]}" "$src" get FILEDIGESTS)
"${CRAFT[@]}" "$src" "$T/hldiff/pkgs/thld.rpm" set FILEDIGESTS string_array \
  "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d[1]="f"*len(d[1]); print(json.dumps(d))' "$digests")"
refused "hard-link members with different digests" hldiff \
  "./pkgs/thld.rpm: /usr/share/thld/a and /usr/share/thld/b are one hard-link set but differ in content"

# ---- 11. one line, naming the package and the path, saying what is wrong ---------------

new_case implied "timpa timpb"
build_rpm "$T/implied/pkgs" <<SPEC
$(spec_head timpa)
%install
mkdir -p %{buildroot}/opt/timp
printf 'x\n' > %{buildroot}/opt/timp/file
%files
/opt/timp/file
SPEC
build_rpm "$T/implied/pkgs" <<SPEC
$(spec_head timpb timpa)
%install
mkdir -p %{buildroot}/opt
ln -s /etc %{buildroot}/opt/timp
%files
/opt/timp
SPEC
refused "a symlink where another package's files imply a directory" implied \
  "./pkgs/timpb-1-1.noarch.rpm: /opt/timp is not a directory, but files of earlier packages are inside it (from timpa-1-1.noarch)"

new_case badpath tbadp
build_rpm "$T/badpath/tmp" <<SPEC
$(spec_head tbadp)
%install
mkdir -p %{buildroot}/usr/share/tbadp
printf 'x\n' > %{buildroot}/usr/share/tbadp/f
%files
/usr/share/tbadp/f
SPEC
src=$(ls "$T"/badpath/tmp/*.rpm)
"${CRAFT[@]}" "$src" "$T/badpath/pkgs/tbadp.rpm" set BASENAMES string_array '["a\nb"]'
refused "a path containing a newline" badpath \
  "./pkgs/tbadp.rpm: file path '/usr/share/tbadp/a\\nb' contains a newline"
long=$(printf 'x%.0s' $(seq 5000))
"${CRAFT[@]}" "$src" "$T/badpath/pkgs/tbadp.rpm" set BASENAMES string_array "[\"$long\"]"
refused "a path over 4,094 bytes" badpath \
  "./pkgs/tbadp.rpm: file path '/usr/share/tbadp/$(printf 'x%.0s' $(seq 174))...' is 5017 bytes, longer than rpm's payload allows (4094)"
new_case wrongnum twrong
build_rpm "$T/wrongnum/tmp" <<SPEC
$(spec_head twrong)
%install
mkdir -p %{buildroot}/usr/share/twrong
printf 'x\n' > %{buildroot}/usr/share/twrong/one
printf 'y\n' > %{buildroot}/usr/share/twrong/two
%files
/usr/share/twrong/one
/usr/share/twrong/two
SPEC
src=$(ls "$T"/wrongnum/tmp/*.rpm)
"${CRAFT[@]}" "$src" "$T/wrongnum/pkgs/twrong.rpm" set FILEMODES int16 '[33188]'
refused "a per-file tag of the wrong length (librpm's 'Wrong number of entries')" wrongnum \
  "./pkgs/twrong.rpm: header tag Filemodes has 1 entries for 2 files"
"${CRAFT[@]}" "$src" "$T/wrongnum/pkgs/twrong.rpm" set DIRINDEXES int32 '[0, 7]'
refused "a directory index past the directory list" wrongnum \
  "./pkgs/twrong.rpm: header: file 1 has directory 7 of 1"

finish
