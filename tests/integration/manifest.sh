#!/usr/bin/env bash
# The readers: manifest (against the host tree the image was made from),
# ls, and extract (round trip, refusal to overwrite, never outside OUT).
source "$SRCDIR/tests/integration/lib.sh"

openssl ecparam -name prime256v1 -genkey -noout -out "$T/k.key"
openssl req -x509 -new -key "$T/k.key" -subj "/CN=manifest test" -days 30 \
  -addext subjectKeyIdentifier=hash -out "$T/k.pem" 2>/dev/null
KEYID=$(openssl x509 -in "$T/k.pem" -noout -ext subjectKeyIdentifier | tail -n1 | tr -d ' :\n' |
  tail -c 8 | tr A-F a-f)

D=$T/tree
mkdir -p "$D/usr/bin" "$D/etc/a b" "$D/var/empty" "$D/dev" "$D/odd"
printf 'binary\n' > "$D/usr/bin/tool"; chmod 4755 "$D/usr/bin/tool"
ln "$D/usr/bin/tool" "$D/usr/bin/tool-alias"
echo conf > "$D/etc/a b/c.conf"; chmod 600 "$D/etc/a b/c.conf"; chown 5:6 "$D/etc/a b/c.conf"
echo hash > "$D/etc/hashed"
printf 'x' > "$D/odd/new
line"
printf 'y' > "$D/odd/back\\slash"
ln -s "../etc/a b/c.conf" "$D/usr/bin/link"
ln -s - "$D/odd/dash"
mknod "$D/dev/null" c 1 3
head -c 2000000 /dev/urandom > "$D/usr/bin/big"
evmctl ima_sign --key "$T/k.key" -a sha256 "$D/usr/bin/tool" >/dev/null
evmctl ima_sign --key "$T/k.key" -a sha256 "$D/usr/bin/big" >/dev/null
evmctl ima_hash -a sha256 "$D/etc/hashed" >/dev/null
CAPS=0100000200200000000000000000000000000000  # cap_net_raw=ep, v2
setfattr -n security.capability -v "0x$CAPS" "$D/usr/bin/big"
IMG=$T/img.ext4
mke2fs -q -t ext4 -b 4096 -I 512 -d "$D" "$IMG" 32M

SUM_BEFORE=$(sha256sum < "$IMG")
man() { "$IMGTOOL" manifest "$@"; }
man "$IMG" > "$T/m1"
check "manifest: header line" grep -qx '# type mode uid gid size mtime sha256 ima caps target path' "$T/m1"

# Every path of the tree (and lost+found), sorted bytewise by raw path,
# escaped as documented: \ooo for bytes <= 0x20, 0x7f and backslash.
escape() { perl -pe 's/([\x00-\x20\x7f\\])/sprintf("\\%03o",ord($1))/ge'; }
want_paths=$( (cd "$D" && find . -mindepth 1 -printf '/%P\0'; printf '/\0/lost+found\0') |
  LC_ALL=C sort -z | perl -0 -ne 'chomp; s/([\x00-\x20\x7f\\])/sprintf("\\%03o",ord($1))/ge; print "$_\n"')
expect_eq "manifest: one line per path, sorted by raw path, escaped" \
  "$(grep -v '^#' "$T/m1" | awk '{print $NF}')" "$want_paths"
check "manifest: 11 fields on every line" awk 'NR > 1 && NF != 11 { exit 1 }' "$T/m1"

line() { grep -v '^#' "$T/m1" | P=$1 awk '$NF == ENVIRON["P"]'; }
field() { line "$1" | awk -v n="$2" '{print $n}'; }
for f in /usr/bin/tool /usr/bin/big '/etc/a b/c.conf' /etc/hashed; do
  ef=$(printf '%s' "$f" | escape)
  expect_eq "manifest: sha256 of $f" "$(field "$ef" 7)" "$(sha256sum < "$D$f" | cut -d' ' -f1)"
  expect_eq "manifest: mode uid gid size of $f" "$(field "$ef" 2) $(field "$ef" 3) $(field "$ef" 4) $(field "$ef" 5)" \
    "$(stat -c '%04a %u %g %s' "$D$f")"
  expect_eq "manifest: mtime of $f" "$(field "$ef" 6)" "$(stat -c %Y "$D$f")"
done
expect_eq "manifest: setuid kept" "$(field /usr/bin/tool 2)" 4755
expect_eq "manifest: signature keyid" "$(field /usr/bin/tool 8)" "sig:$KEYID"
expect_eq "manifest: hash-only value" "$(field /etc/hashed 8)" "hash:sha256"
expect_eq "manifest: no security.ima" "$(field '/etc/a\040b/c.conf' 8)" "-"
expect_eq "manifest: capability" "$(field /usr/bin/big 9)" "$CAPS"
expect_eq "manifest: symlink" "$(field /usr/bin/link 1) $(field /usr/bin/link 10)" 'l ../etc/a\040b/c.conf'
expect_eq "manifest: a symlink to '-' is not n/a" "$(field /odd/dash 10)" '\055'
expect_eq "manifest: hard link names its first path" "$(field /usr/bin/tool-alias 10)" /usr/bin/tool
expect_eq "manifest: device numbers" "$(field /dev/null 1) $(field /dev/null 5)" "c 1,3"
expect_eq "manifest: folders have no size or digest" "$(field /var/empty 1)$(field /var/empty 5)$(field /var/empty 7)" "d--"

# Stable and diff-friendly: the same image twice is identical; a changed
# image differs in exactly the changed lines.
man "$IMG" > "$T/m2"
check "manifest: stable across runs" cmp -s "$T/m1" "$T/m2"
cp "$IMG" "$T/changed.ext4"
debugfs -w -R "sif /etc/hashed mode 0100640" "$T/changed.ext4" >/dev/null 2>&1
man "$T/changed.ext4" > "$T/m3"
expect_eq "manifest: diff shows exactly the changed path" \
  "$(diff "$T/m1" "$T/m3" | grep '^[<>]' | awk '{print $1, $3, $NF}' | tr '\n' ' ')" \
  "< 0644 /etc/hashed > 0640 /etc/hashed "
json=$(man "$IMG" --json)
check "manifest --json: has the hard link" grep -q '"hardlink_of":"/usr/bin/tool"' <<<"$json"
check "manifest --json: raw path with newline, JSON-escaped" grep -qF '"path":"/odd/new\nline"' <<<"$json"
expect_eq "manifest --json: one object per path" "$(grep -c '"path":' <<<"$json")" "$(grep -vc '^#' "$T/m1")"
expect_fail "manifest: not an image" "not an ext4 image" man "$T/m1"

# ---- ls ----
out=$("$IMGTOOL" ls "$IMG" /usr/bin)
expect_eq "ls: one line per entry" "$(wc -l <<<"$out")" 4
check "ls: setuid file like ls -l" grep -Eq '^-rwsr-xr-x +2 +0 +0 +7 [0-9-]+ [0-9:]+ tool$' <<<"$out"
check "ls: symlink target" grep -q ' link -> ../etc/a\\040b/c.conf$' <<<"$out"
check "ls --ima: keyid column" grep -q " sig:$KEYID tool$" <<<"$("$IMGTOOL" ls --ima "$IMG" /usr/bin)"
check "ls FILE: one line with the path" grep -Eq '^crw-r--r-- .* 1, 3 .* /dev/null$' <<<"$("$IMGTOOL" ls "$IMG" /dev/null)"
expect_fail "ls: missing path" "/nope: no such file" "$IMGTOOL" ls "$IMG" /nope

# ---- extract ----
X=$T/out
"$IMGTOOL" extract "$IMG" / -o "$X"
check "extract: same content as the source tree" diff -r --no-dereference -x lost+found -x null "$D" "$X"
meta() { (cd "$1" && find . -mindepth 1 ! -name lost+found -printf '%p %y %m %U %G %l\n' | LC_ALL=C sort); }
expect_eq "extract: same types, modes, owners, link targets" "$(meta "$X")" "$(meta "$D")"
expect_eq "extract: hard links recreated" "$(stat -c %i "$X/usr/bin/tool")" "$(stat -c %i "$X/usr/bin/tool-alias")"
expect_eq "extract: mtime kept" "$(stat -c %Y "$X/usr/bin/big")" "$(stat -c %Y "$D/usr/bin/big")"
expect_fail "extract: refuses an existing folder, even with --force" "exists and is a folder: refusing to replace it" "$IMGTOOL" extract "$IMG" / -o "$X" --force
"$IMGTOOL" extract "$IMG" /usr/bin/big -o "$T/big.out"
check "extract: one file" cmp "$T/big.out" "$D/usr/bin/big"
expect_fail "extract: refuses an existing file without --force" "big.out: already exists \(use --force" "$IMGTOOL" extract "$IMG" /usr/bin/big -o "$T/big.out"
echo old > "$T/big.out2"
"$IMGTOOL" extract "$IMG" /usr/bin/big -o "$T/big.out2" --force
check "extract --force: replaces" cmp "$T/big.out2" "$D/usr/bin/big"
"$IMGTOOL" extract "$IMG" /usr/bin/big -o "$T/big.x" --xattrs
expect_eq "extract --xattrs: security.ima kept" \
  "$(getfattr --only-values -n security.ima "$T/big.x" | od -An -tx1 | tr -d ' \n')" \
  "$(getfattr --only-values -n security.ima "$D/usr/bin/big" | od -An -tx1 | tr -d ' \n')"
"$IMGTOOL" extract "$IMG" "/etc/a b" -o "$T/sub"
expect_eq "extract: a subtree" "$(ls "$T/sub")" c.conf
expect_eq "extract: nothing left behind" "$(ls -A "$T" | grep -c imgtool-extract || true)" 0

expect_eq "manifest, ls and extract leave the image unchanged" "$(sha256sum < "$IMG")" "$SUM_BEFORE"

# A hostile image: one folder holds the name "a" twice, a symlink out of
# OUT and a folder with a file in it (made by renaming "b" in the folder's
# block).  Nothing may appear outside OUT.
echo pwned > "$T/payload"
mke2fs -q -t ext4 -O ^metadata_csum -b 4096 -I 512 "$T/evil.ext4" 8M
for c in "symlink /a $T/outside" "mkdir /b" "write $T/payload /b/f"; do
  debugfs -w -R "$c" "$T/evil.ext4" >/dev/null 2>&1
done
blk=$(debugfs -R "blocks /" "$T/evil.ext4" 2>/dev/null | tr -d ' ')
perl -e 'open(F, "+<", $ARGV[0]) or die; seek(F, $ARGV[1] * 4096, 0); read(F, $b, 4096);
  $b =~ s/\x01\x02b/\x01\x02a/ or die "no entry b"; seek(F, $ARGV[1] * 4096, 0); print F $b' \
  "$T/evil.ext4" "$blk"
expect_eq "hostile image: the name appears twice (debugfs)" \
  "$(debugfs -R 'ls /' "$T/evil.ext4" 2>/dev/null | grep -o '([0-9]*) a ' | wc -l)" 2
mkdir "$T/outside"
expect_fail "hostile image: refused" "/a: corrupted directory: the name appears twice" \
  "$IMGTOOL" extract "$T/evil.ext4" / -o "$T/evil-out"
expect_eq "hostile image: nothing written outside OUT" "$(ls -A "$T/outside")" ""
check "hostile image: no half-written OUT" test ! -e "$T/evil-out"
expect_eq "extract: no temporary folder left behind" "$(ls -A "$T" | grep -c imgtool-extract || true)" 0

finish
