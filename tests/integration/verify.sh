#!/usr/bin/env bash
# imgtool verify: a clean image passes; one tampered copy per kind of
# violation (made with debugfs) reports exactly that path and reason; the
# verdicts agree with evmctl's on the same files; the image is never
# written; broken images are refused with exit 2.
source "$SRCDIR/tests/integration/lib.sh"

# ---- keys: the trusted one and another ----
for k in trusted other; do
  openssl ecparam -name prime256v1 -genkey -noout -out "$T/$k.key"
  openssl req -x509 -new -key "$T/$k.key" -subj "/CN=imgtool test $k" -days 30 \
    -addext subjectKeyIdentifier=hash -out "$T/$k.pem" 2>/dev/null
  openssl x509 -in "$T/$k.pem" -outform DER -out "$T/$k.der"
done
TRUSTED_KEYID=$(openssl x509 -in "$T/trusted.pem" -noout -ext subjectKeyIdentifier |
  tail -n1 | tr -d ' :\n' | tail -c 8 | tr A-F a-f)
OTHER_KEYID=$(openssl x509 -in "$T/other.pem" -noout -ext subjectKeyIdentifier |
  tail -n1 | tr -d ' :\n' | tail -c 8 | tr A-F a-f)

# ---- a tree, every regular file signed by evmctl, made into an image ----
D=$T/root
mkdir -p "$D/usr/bin" "$D/etc" "$D/usr/share/doc" "$D/opt/with space"
printf '#!/bin/sh\necho hi\n' > "$D/usr/bin/hi"; chmod 755 "$D/usr/bin/hi"
ln "$D/usr/bin/hi" "$D/usr/bin/hi-again"
echo "setting=1" > "$D/etc/app.conf"
echo "readme" > "$D/usr/share/doc/README"
echo "spaced" > "$D/opt/with space/file"
head -c 5000000 /dev/urandom > "$D/usr/bin/big"
ln -s hi "$D/usr/bin/hi-link"
: > "$D/etc/empty"
find "$D" -type f -links 1 -o -type f -name hi | while read -r f; do
  evmctl ima_sign --key "$T/trusted.key" -a sha256 "$f" >/dev/null
done
IMG=$T/clean.ext4
mke2fs -q -t ext4 -b 4096 -I 512 -E root_owner=0:0 -d "$D" "$IMG" 64M
BS=4096

vfy() { "$IMGTOOL" verify "$@"; }

# ---- clean image ----
sum_before=$(sha256sum < "$IMG")
rc=0; out=$(vfy "$IMG" --cert "$T/trusted.pem") || rc=$?
expect_eq "clean image: exit 0" "$rc" 0
expect_eq "clean image: only the summary line" "$(wc -l <<<"$out")" 1
check "clean image: summary counts 7 files, all valid" grep -q ": OK: 7 files, 7 signed and valid, 0 violations" <<<"$out"
expect_eq "verify does not change the image" "$(sha256sum < "$IMG")" "$sum_before"
rc=0; vfy "$IMG" --cert "$T/other.pem" >/dev/null || rc=$?
expect_eq "clean image, wrong cert: exit 1" "$rc" 1
rc=0; json=$(vfy "$IMG" --cert "$T/trusted.pem" --json) || rc=$?
expect_eq "json: exit 0" "$rc" 0
check "json: ok is true" grep -q '"ok":true' <<<"$json"
check "json: 7 files" grep -q '"files":7,' <<<"$json"
check "json: schema 1" grep -q '"schema":1,' <<<"$json"
expect_eq "json: the trusted keyids" "$(python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["trusted_keyids"]))' <<<"$json")" "$TRUSTED_KEYID"
expect_eq "json: the trusted key, a certificate" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["trusted_keys"])' <<<"$json")" \
  "[{'keyid': '$TRUSTED_KEYID', 'kind': 'certificate', 'file': '$T/trusted.pem'}]"
# A bare public key (as EPEL publishes its IMA key) is trusted as well as a
# certificate: the report names both, in the order given.
openssl pkey -in "$T/trusted.key" -pubout -out "$T/trusted.pub" 2>/dev/null
rc=0; json=$(vfy "$IMG" --cert "$T/trusted.pub" --cert "$T/other.pem" --json) || rc=$?
expect_eq "json, bare public key: exit 0" "$rc" 0
check "json, bare public key: 7 signed and valid" grep -q '"signed_ok":7,' <<<"$json"
expect_eq "json, bare public key: the trusted keys" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["trusted_keys"])' <<<"$json")" \
  "[{'keyid': '$TRUSTED_KEYID', 'kind': 'public key', 'file': '$T/trusted.pub'}, {'keyid': '$OTHER_KEYID', 'kind': 'certificate', 'file': '$T/other.pem'}]"
expect_eq "json, bare public key: the trusted keyids" "$(python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["trusted_keyids"]))' <<<"$json")" "$TRUSTED_KEYID $OTHER_KEYID"

# ---- tampered copies: one per violation ----
# tamper NAME DEBUGFS-COMMANDS...: a copy of the clean image changed with debugfs -w
tamper() {
  local name=$1; shift
  cp "$IMG" "$T/$name.ext4"
  for c in "$@"; do debugfs -w -R "$c" "$T/$name.ext4" >/dev/null 2>&1; done
}

# A value for /etc/app.conf's content signed by the other key, and hash-only.
cp "$D/etc/app.conf" "$T/app.conf.other"
evmctl ima_sign --key "$T/other.key" -a sha256 "$T/app.conf.other" >/dev/null
getfattr --only-values -n security.ima "$T/app.conf.other" > "$T/val.other"
cp "$D/etc/app.conf" "$T/app.conf.hash"
evmctl ima_hash -a sha256 "$T/app.conf.hash" >/dev/null
getfattr --only-values -n security.ima "$T/app.conf.hash" > "$T/val.hash"
printf '\003\002\004' > "$T/val.short"

# content changed, xattr kept: overwrite the file's data block in place
tamper content
blk=$(debugfs -R "blocks /etc/app.conf" "$T/content.ext4" 2>/dev/null | tr -d ' ')
printf 'setting=2' | dd of="$T/content.ext4" bs=1 seek=$((blk * BS)) conv=notrunc status=none
tamper noxattr "ea_rm /etc/app.conf security.ima"
tamper otherkey "ea_set -f $T/val.other /etc/app.conf security.ima"
tamper hashonly "ea_set -f $T/val.hash /etc/app.conf security.ima"
tamper malformed "ea_set -f $T/val.short /etc/app.conf security.ima"
echo "planted" > "$T/planted"
tamper added "write $T/planted /usr/bin/planted"

declare -A want=(
  [content]="/etc/app.conf: invalid signature (content changed or signed by another key)"
  [noxattr]="/etc/app.conf: no signature"
  [otherkey]="/etc/app.conf: unknown key $OTHER_KEYID"
  [hashonly]="/etc/app.conf: hash-only value, not a signature"
  [added]="/usr/bin/planted: no signature"
)
for name in content noxattr otherkey hashonly added; do
  rc=0; out=$(vfy "$T/$name.ext4" --cert "$T/trusted.pem") || rc=$?
  expect_eq "$name: exit 1" "$rc" 1
  expect_eq "$name: exactly one violation, the right one" "$(grep -v ': FAILED: ' <<<"$out")" "${want[$name]}"
done
rc=0; out=$(vfy "$T/malformed.ext4" --cert "$T/trusted.pem") || rc=$?
expect_eq "malformed: exit 1" "$rc" 1
check "malformed: reported as malformed" grep -q '^/etc/app.conf: malformed security.ima: ' <<<"$out"
expect_eq "malformed: one violation" "$(grep -vc ': FAILED: ' <<<"$out")" 1

# hard links: both paths of a tampered inode are reported, hashed once
tamper linkcontent
blk=$(debugfs -R "blocks /usr/bin/hi" "$T/linkcontent.ext4" 2>/dev/null | tr -d ' ')
printf '#!/bin/sh\necho HO' | dd of="$T/linkcontent.ext4" bs=1 seek=$((blk * BS)) conv=notrunc status=none
out=$(vfy "$T/linkcontent.ext4" --cert "$T/trusted.pem") || true
expect_eq "hard link: both names reported" "$(grep -c 'invalid signature' <<<"$out")" 2

# --allow-unsigned
rc=0; vfy "$T/added.ext4" --cert "$T/trusted.pem" --allow-unsigned '/usr/bin/plant*' >/dev/null || rc=$?
expect_eq "--allow-unsigned: an allowed unsigned file passes" "$rc" 0
rc=0; vfy "$T/otherkey.ext4" --cert "$T/trusted.pem" --allow-unsigned '/etc/*' >/dev/null || rc=$?
expect_eq "--allow-unsigned does not excuse a foreign signature" "$rc" 1
rc=0; vfy "$T/otherkey.ext4" --cert "$T/trusted.pem" --cert "$T/other.pem" >/dev/null || rc=$?
expect_eq "two --cert: both keys trusted" "$rc" 0

# json for machines
json=$(vfy "$T/otherkey.ext4" --cert "$T/trusted.pem" --json || true)
check "json: ok is false" grep -q '"ok":false' <<<"$json"
check "json: the violation's path" grep -q '"path":"/etc/app.conf"' <<<"$json"
check "json: the violation's reason" grep -q '"reason":"unknown-key"' <<<"$json"
check "json: the violation's message" grep -q "\"message\":\"unknown key $OTHER_KEYID\"" <<<"$json"

# ---- cross-check with evmctl on the extracted files carrying the xattr ----
# evmctl_bad IMAGE: the paths evmctl ima_verify rejects
evmctl_bad() {
  local x=$T/x.$RANDOM
  "$IMGTOOL" extract "$1" / -o "$x" --xattrs
  (cd "$x" && find . -type f | sort | while read -r f; do
     evmctl ima_verify -a sha256 --key "$T/trusted.der" "$f" >/dev/null 2>&1 || echo "${f#.}"
   done)
  rm -rf "$x"
}
# The oracle must really have run: on the clean image evmctl accepts all 7.
x=$T/x.clean; "$IMGTOOL" extract "$IMG" / -o "$x" --xattrs
n_ok=$(cd "$x" && find . -type f -exec evmctl ima_verify -a sha256 --key "$T/trusted.der" {} \; 2>&1 | grep -c 'verification is OK')
expect_eq "evmctl verifies all 7 files of the clean image" "$n_ok" 7
rm -rf "$x"
imgtool_bad() { "$IMGTOOL" verify "$1" --cert "$T/trusted.pem" | grep -v ': FAILED: \|: OK: ' | sed 's/: .*//' | sort -u; }
for name in clean content noxattr otherkey hashonly added linkcontent; do
  f=$T/$name.ext4
  expect_eq "evmctl agrees on $name" "$(imgtool_bad "$f" | tr '\n' ' ')" "$(evmctl_bad "$f" | tr '\n' ' ')"
done

# ---- --against LAYOUT: the image must hold exactly the packages' files ----
build_rpm "$T/rpms" <<'SPEC'
Name: hello
Version: 1.0
Release: 1
Summary: a test package
License: MIT
BuildArch: noarch
AutoReqProv: no
%description
A test package for imgtool verify --against.
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/etc %{buildroot}/usr/share/hello
printf '#!/bin/sh\necho hello\n' > %{buildroot}/usr/bin/hello
chmod 755 %{buildroot}/usr/bin/hello
echo "greeting=hi" > %{buildroot}/etc/hello.conf
echo "doc" > %{buildroot}/usr/share/hello/README
ln -s hello %{buildroot}/usr/bin/hi
%files
/usr/bin/hello
/usr/bin/hi
%config /etc/hello.conf
%dir /usr/share/hello
/usr/share/hello/README
SPEC
P=$T/pkgroot
mkdir -p "$P"
(cd "$P" && rpm2cpio "$T"/rpms/hello-1.0-1.noarch.rpm | cpio -idm --quiet)
find "$P" -type f -exec evmctl ima_sign --key "$T/trusted.key" -a sha256 {} \; >/dev/null
PIMG=$T/pkg.ext4
mke2fs -q -t ext4 -b 4096 -I 512 -E root_owner=0:0 -d "$P" "$PIMG" 32M
printf '[Packages]\nDirectory=rpms\nInstall=hello\n[Signatures]\nMode=sign\nKey=trusted.key\nCertificate=trusted.pem\n' \
  > "$T/layout.conf"
NEVRA=hello-1.0-1.noarch
rc=0; out=$(vfy "$PIMG" --against "$T/layout.conf") || rc=$?
expect_eq "--against: the image as packaged passes (certs from the layout)" "$rc" 0
check "--against: 3 files checked" grep -q ": OK: 3 files, 3 signed and valid" <<<"$out"

against_case() { # NAME WANT-LINES DEBUGFS-COMMANDS...
  local name=$1 want=$2; shift 2
  cp "$PIMG" "$T/a-$name.ext4"
  for c in "$@"; do debugfs -w -R "$c" "$T/a-$name.ext4" >/dev/null 2>&1; done
  rc=0; out=$(vfy "$T/a-$name.ext4" --against "$T/layout.conf") || rc=$?
  expect_eq "--against $name: exit 1" "$rc" 1
  expect_eq "--against $name: the violations" "$(grep -v ': FAILED: ' <<<"$out")" "$want"
}
against_case removed "/usr/share/hello/README: missing (from package $NEVRA)" "rm /usr/share/hello/README"
against_case added "/usr/bin/planted: not in the layout's packages
/usr/bin/planted: no signature" "write $T/planted /usr/bin/planted"
against_case mode "/usr/bin/hello: mode 0700, package $NEVRA says 0755" "sif /usr/bin/hello mode 0100700"
against_case owner "/etc/hello.conf: owner 7:0, package $NEVRA says 0:0" "sif /etc/hello.conf uid 7"
printf '#!/bin/sh\necho HELLO\n' > "$T/hello2"
against_case replaced "/usr/bin/hello: no signature
/usr/bin/hello: content differs from package $NEVRA" "rm /usr/bin/hello" "write $T/hello2 /usr/bin/hello" "sif /usr/bin/hello mode 0100755"
against_case symlink "/usr/bin/hi: symlink target differs from package $NEVRA" "rm /usr/bin/hi" "symlink /usr/bin/hi /bin/sh"
cp "$PIMG" "$T/a-content.ext4"
blk=$(debugfs -R "blocks /etc/hello.conf" "$T/a-content.ext4" 2>/dev/null | tr -d ' ')
printf 'greeting=HI' | dd of="$T/a-content.ext4" bs=1 seek=$((blk * BS)) conv=notrunc status=none
rc=0; out=$(vfy "$T/a-content.ext4" --against "$T/layout.conf") || rc=$?
expect_eq "--against content: exit 1" "$rc" 1
expect_eq "--against content: both the signature and the package digest disagree" "$(grep -v ': FAILED: ' <<<"$out")" \
"/etc/hello.conf: invalid signature (content changed or signed by another key)
/etc/hello.conf: content differs from package $NEVRA"
expect_fail "--against a missing layout" "nope.conf" vfy "$PIMG" --against "$T/nope.conf"

# ---- an image made by imgtool compose (the real producer) ----
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"
mkdir -p "$T/c" && make_test_packages "$T/c/rpms"
"$IMGTOOL" keygen --out "$T/c/key" >/dev/null
printf '[Image]\nSize=auto\nSeed=verify-test\n[Packages]\nDirectory=rpms\nInstall=tbase tapp\n[Signatures]\nMode=sign\nKey=key/signing.key\nCertificate=key/signing.crt\n' \
  > "$T/c/layout.conf"
"$IMGTOOL" compose "$T/c/layout.conf" -o "$T/c/a.img" >/dev/null
rc=0; out=$(vfy "$T/c/a.img" --cert "$T/c/key/signing.crt") || rc=$?
expect_eq "composed image: verify passes" "$rc" 0
rc=0; out=$(vfy "$T/c/a.img" --against "$T/c/layout.conf") || rc=$?
expect_eq "composed image: --against its own layout passes" "$rc" 0
check "composed image: hard links counted per path, all valid" grep -q ": OK: 14 files, 14 signed and valid" <<<"$out"
TAPP=$(rpm -qp --qf '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}' "$T"/c/rpms/tapp-*.rpm 2>/dev/null)
cp "$T/c/a.img" "$T/c/removed.img"
debugfs -w -R "rm /usr/lib/tapp/big" "$T/c/removed.img" >/dev/null 2>&1
rc=0; out=$(vfy "$T/c/removed.img" --against "$T/c/layout.conf") || rc=$?
expect_eq "composed image, a file removed: exit 1" "$rc" 1
expect_eq "composed image, a file removed: reported" "$(grep -v ': FAILED: ' <<<"$out")" \
  "/usr/lib/tapp/big: missing (from package $TAPP)"
cp "$T/c/a.img" "$T/c/owner.img"
debugfs -w -R "sif /var/lib/app/state uid 0" "$T/c/owner.img" >/dev/null 2>&1
out=$(vfy "$T/c/owner.img" --against "$T/c/layout.conf") || true
expect_eq "composed image: owner resolved through the image's /etc/passwd" "$(grep -v ': FAILED: ' <<<"$out")" \
  "/var/lib/app/state: owner 0:1001, package $TAPP says 1000:1001"

# ---- images that cannot be checked: exit 2, one clear line ----
head -c 1048576 /dev/urandom > "$T/random.img"
expect_fail "not an image" "random.img: not an ext4 image" vfy "$T/random.img" --cert "$T/trusted.pem"
cp "$IMG" "$T/short.ext4"; truncate -s 20M "$T/short.ext4"
expect_fail "truncated image" "short.ext4: truncated image: 20971520 bytes, the superblock says 67108864" \
  vfy "$T/short.ext4" --cert "$T/trusted.pem"
cp "$IMG" "$T/badsb.ext4"
printf '\377\377\377\377' | dd of="$T/badsb.ext4" bs=1 seek=$((1024 + 4)) conv=notrunc status=none
expect_fail "corrupted superblock" "badsb.ext4: corrupted ext4 superblock" vfy "$T/badsb.ext4" --cert "$T/trusted.pem"
for f in random.img short.ext4 badsb.ext4; do
  rc=0; vfy "$T/$f" --cert "$T/trusted.pem" >/dev/null 2>&1 || rc=$?
  expect_eq "$f: exit 2" "$rc" 2
done
expect_fail "missing image" "nothere.ext4: No such file" vfy "$T/nothere.ext4" --cert "$T/trusted.pem"
expect_fail "no --cert" "at least one --cert" vfy "$IMG"
expect_fail "bad cert file" "" vfy "$IMG" --cert "$T/random.img"

finish
