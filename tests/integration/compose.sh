# imgtool compose: real RPMs (rpmbuild) into an image; every file checked
# against what rpm itself would install, with debugfs, e2fsck, the kernel's
# ext4 (loop mount, as root), getfattr and evmctl as oracles.
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"

make_test_packages "$T/rpms"
"$IMGTOOL" keygen --out "$T/key" >/dev/null
openssl x509 -in "$T/key/signing.crt" -outform DER -out "$T/cert.der"

cat > "$T/layout.conf" <<'L'
[Image]
Size=auto
Label=testroot
Seed=compose-test

[Packages]
Directory=rpms
Install=tbase tapp

[Signatures]
Mode=sign
Key=key/signing.key
Certificate=key/signing.crt
L

check "compose Mode=sign" "$IMGTOOL" compose "$T/layout.conf" -o "$T/a.img" --json-report "$T/a.json"
check "e2fsck -fn is clean" e2fsck -fn "$T/a.img"
check "compose again" "$IMGTOOL" compose "$T/layout.conf" -o "$T/b.img"
check "two builds are bit-identical" cmp "$T/a.img" "$T/b.img"
expect_eq "no temporary files left" "$(ls "$T" | grep -c '\.tmp\.' || true)" 0

# What rpm would install: the payloads unpacked by rpm2cpio/cpio.
mkdir -p "$T/ref"
for p in "$T"/rpms/*.rpm; do (cd "$T/ref" && rpm2cpio "$p" | cpio -idm --quiet --no-absolute-filenames); done

# Content of every regular file, through debugfs (no kernel involved).
rpm -qp --qf '[%{FILENAMES} %{FILEMODES:octal} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEMTIMES} %{FILEFLAGS}\n]' \
  "$T"/rpms/*.rpm > "$T/files.txt" 2>/dev/null
bad=0
while read -r path mode user group mtime flags; do
  [ $((flags & 64)) -ne 0 ] && continue   # %ghost
  case "$mode" in 100*) ;; *) continue ;; esac
  debugfs -R "dump $path $T/dumped" "$T/a.img" 2>/dev/null
  cmp -s "$T/dumped" "$T/ref$path" || { echo "content differs: $path"; bad=1; }
done < "$T/files.txt"
expect_eq "every regular file's content equals the payload (debugfs dump)" "$bad" 0

expect_eq "ghost file not created" "$(debugfs -R 'stat /var/lib/app/ghost.log' "$T/a.img" 2>&1 | grep -c 'File not found')" 1

# debugfs prints "security.ima (80) = 03 02 ..."
sig_hex() { debugfs -R "ea_get -x $2 security.ima" "$1" 2>/dev/null | sed -n 's/^security.ima ([0-9]*) = //p' | tr -d ' \n'; }

if [ "$(id -u)" -eq 0 ] && mkdir -p "$T/mnt" && mount -o loop,ro "$T/a.img" "$T/mnt" 2>/dev/null; then
  trap 'umount "$T/mnt" 2>/dev/null || true; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
  # The ids the image's own /etc/passwd and /etc/group give (tbase ships them).
  id_of() { case $1 in root) echo 0 ;; appuser) echo 1000 ;; appgroup) echo 1001 ;; *) echo "?$1" ;; esac; }
  sde=$(python3 -c "import json;print(json.load(open('$T/a.json'))['source_date_epoch'])")
  bad=0
  while read -r path mode user group mtime flags; do
    [ $((flags & 64)) -ne 0 ] && continue
    got=$(stat -c '%f %u %g %Y' "$T/mnt$path" 2>&1 || true)
    [ "$mtime" -gt "$sde" ] && mtime=$sde   # clamped to SourceDateEpoch
    want=$(printf '%x %s %s %s' "$((8#$mode))" "$(id_of "$user")" "$(id_of "$group")" "$mtime")
    [ "$got" = "$want" ] || { echo "metadata $path: got '$got' want '$want'"; bad=1; }
  done < "$T/files.txt"
  expect_eq "mode, owner (resolved via the image's /etc/passwd), mtime (clamped) of every file" "$bad" 0
  expect_eq "appuser resolves to uid 1000" "$(stat -c '%u:%g' "$T/mnt/var/lib/app/state")" "1000:1001"
  expect_eq "hard links share one inode" \
    "$(stat -c %i "$T/mnt/usr/lib/tapp/linked" "$T/mnt/usr/lib/tapp/linked2" "$T/mnt/usr/lib/tapp/linked3" | sort -u | wc -l) $(stat -c %h "$T/mnt/usr/lib/tapp/linked")" "1 3"
  expect_eq "symlink target" "$(readlink "$T/mnt/usr/bin/hello-link")" "hello"
  expect_eq "long symlink target" "$(readlink "$T/mnt/usr/bin/long-link")" "$(readlink "$T/ref/usr/bin/long-link")"
  expect_eq "char device" "$(stat -c '%F %t,%T' "$T/mnt/dev/tnull")" "character special file 1,3"
  expect_eq "block device" "$(stat -c '%F %t,%T' "$T/mnt/dev/tloop")" "block special file 7,0"
  expect_eq "fifo" "$(stat -c '%F' "$T/mnt/usr/lib/tapp/fifo")" "fifo"
  expect_eq "setuid bit" "$(stat -c '%a' "$T/mnt/usr/bin/suidprog")" "4755"
  expect_eq "sticky dir" "$(stat -c '%a' "$T/mnt/usr/lib/tapp/tmp")" "1777"
  expect_eq "implied dir /dev is 0755 root" "$(stat -c '%a %U' "$T/mnt/dev")" "755 root"
  expect_eq "file capabilities" "$(getcap "$T/mnt/usr/bin/capprog" | awk '{print $2}')" "cap_net_raw=ep"
  # Every regular file has a signature that evmctl, independently, accepts.
  bad=0; n=0
  while IFS= read -r -d '' f; do
    n=$((n + 1))
    evmctl ima_verify --key "$T/cert.der" "$f" >/dev/null 2>&1 || { echo "evmctl rejects ${f#$T/mnt}"; bad=1; }
  done < <(find "$T/mnt" -type f -print0)
  expect_eq "evmctl ima_verify accepts all $n regular files" "$bad" 0
  check "rpm --root lists the packages" bash -c "rpm --root '$T/mnt' --dbpath /var/lib/rpm -qa | sort | tr '\n' ' ' | grep -q 'tapp-2.1-3.*tbase-1.0-1'"
  # --nomtime: mtimes newer than SourceDateEpoch were clamped on purpose.
  check "rpm --root -Va finds nothing changed" bash -c "out=\$(rpm --root '$T/mnt' --dbpath /var/lib/rpm -Va --nodeps --nomtime 2>&1); [ -z \"\$out\" ] || { echo \"\$out\"; false; }"
  umount "$T/mnt" || true
else
  echo "skip: loop mount needs root; metadata checked with debugfs only"
fi

# An ordinary user composes the same image, byte for byte.
if [ "$(id -u)" -eq 0 ]; then
  mkdir -p "$T/user"
  cp -r "$T/key" "$T/user/key"
  sed 's|^Directory=rpms|Directory=../rpms|' "$T/layout.conf" > "$T/user/layout.conf"
  chown -R 65534:65534 "$T/user"
  chmod -R a+rX "$T/rpms"
  check "compose runs as an ordinary user (uid 65534)" \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$IMGTOOL" compose "$T/user/layout.conf" -o "$T/user/u.img" --quiet
  check "the ordinary user's image equals root's" cmp "$T/a.img" "$T/user/u.img"
fi

# Same signature stamped as debugfs sees it, and the report says what happened.
check "security.ima present on /usr/bin/hello" test -n "$(sig_hex "$T/a.img" /usr/bin/hello)"
sig=$(sig_hex "$T/a.img" /usr/bin/hello)
check "security.ima is a v2 digital signature (03 02 04 = sha256)" test "${sig:0:6}" = 030204
check "inodes keep the signature inside (no xattr block)" bash -c "debugfs -R 'stat /usr/bin/hello' '$T/a.img' 2>/dev/null | grep -q 'File ACL: 0'"
expect_eq "report: regular files signed here" "$(python3 -c "import json;d=json.load(open('$T/a.json'));print(d['signatures']['signed_here'] >= 9, len(d['packages']))")" "True 2"

finish
