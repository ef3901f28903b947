# imgtool sign-rpm with rpm itself as the consumer: a package built with
# rpmbuild is signed, rpm -K accepts it, rpm -i with its ima plugin writes
# security.ima, and evmctl verifies every installed regular file.  Also the
# rpm-upstream fixtures re-signed, and bad input.
source "$SRCDIR/tests/integration/lib.sh"
F=$FIXTURES

# A signing key made by openssl alone (EC P-256, cert with a subjectKeyIdentifier)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$T/signing.key" -out "$T/signing.crt" -subj /CN=imgtool-sign-rpm-test -days 30 2>/dev/null
openssl x509 -in "$T/signing.crt" -outform DER -out "$T/signing.der"
KEYID=$(openssl x509 -in "$T/signing.crt" -noout -ext subjectKeyIdentifier | tail -1 |
  tr -d ' :\n' | tr 'A-F' 'a-f' | tail -c 8)

# ---- a package with a script, an ELF, a config file, a symlink, a dir ----
cp /bin/true "$T/true.bin"
build_rpm "$T/rpms" <<EOF
Name: signme
Version: 1.0
Release: 1
Summary: sign-rpm test package
License: MIT
BuildArch: x86_64
%description
test
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/etc/signme %{buildroot}/usr/share/signme
printf '#!/bin/sh\necho hello\n' > %{buildroot}/usr/bin/signme-script
chmod 755 %{buildroot}/usr/bin/signme-script
cp $T/true.bin %{buildroot}/usr/bin/signme-true
echo 'setting=1' > %{buildroot}/etc/signme/signme.conf
ln -s signme-true %{buildroot}/usr/bin/signme-link
echo data > %{buildroot}/usr/share/signme/data
%files
/usr/bin/signme-script
/usr/bin/signme-true
/usr/bin/signme-link
%config(noreplace) /etc/signme/signme.conf
%dir /usr/share/signme
/usr/share/signme/data
EOF
PKG=$(ls "$T"/rpms/signme-*.rpm)
mkdir -p "$T/out"
check "sign-rpm exits 0" "$IMGTOOL" sign-rpm --key "$T/signing.key" --cert "$T/signing.der" \
  --output-dir "$T/out" "$PKG"
SIGNED=$T/out/$(basename "$PKG")
check "rpm -K --nosignature accepts the signed package" rpm -K --nosignature "$SIGNED"
expect_eq "header and payload are copied byte for byte" \
  "$(rpm -qp --qf '%{SHA256HEADER} %{PAYLOADDIGEST}' "$SIGNED" 2>/dev/null)" \
  "$(rpm -qp --qf '%{SHA256HEADER} %{PAYLOADDIGEST}' "$PKG" 2>/dev/null)"
# rpm's own view of the signatures: one per regular file, none for the rest
sigs=$(rpm -qp --qf '[%{FILENAMES} %{FILESIGNATURES}\n]' "$SIGNED" 2>/dev/null)
expect_eq "rpm sees signatures on the 4 regular files" \
  "$(awk 'NF == 2 && $2 ~ /^030204/' <<<"$sigs" | awk '{print $1}' | sort | paste -sd' ')" \
  "/etc/signme/signme.conf /usr/bin/signme-script /usr/bin/signme-true /usr/share/signme/data"
expect_eq "symlink and dir unsigned" "$(awk 'NF == 1 {print $1}' <<<"$sigs" | sort | paste -sd' ')" \
  "/usr/bin/signme-link /usr/share/signme"
expect_eq "inspect: valid with the cert" \
  "$("$IMGTOOL" inspect --cert "$T/signing.der" "$SIGNED" | awk -F'\t' '$2 == "file" {print $7}' | sort -u)" \
  "valid $KEYID"
if have_fixtures; then
expect_eq "inspect: the fixture cert does not vouch for it" \
  "$("$IMGTOOL" inspect --cert "$F/privkey-cert.der" "$SIGNED" | awk -F'\t' '$2 == "file" {print $7}' | sort -u)" \
  "unknown key $KEYID"
fi
# "invalid": a trusted cert with the same keyid (forced SKID) but another key
SKID=$(openssl x509 -in "$T/signing.crt" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' ')
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$T/imposter.key" -out "$T/imposter.crt" -subj /CN=imposter -days 30 \
  -addext "subjectKeyIdentifier=$SKID" 2>/dev/null
expect_eq "inspect: invalid with a cert of the same keyid but another key" \
  "$("$IMGTOOL" inspect --cert "$T/imposter.crt" "$SIGNED" | awk -F'\t' '$2 == "file" {print $7}' | sort -u)" \
  "invalid $KEYID"

# --skip-config leaves %config unsigned
check "sign-rpm --skip-config" "$IMGTOOL" sign-rpm --key "$T/signing.key" --cert "$T/signing.der" \
  --skip-config -o "$T/skipconf.rpm" "$PKG"
expect_eq "--skip-config: config file has no signature" \
  "$("$IMGTOOL" inspect "$T/skipconf.rpm" | awk -F'\t' '$1 == "/etc/signme/signme.conf" {print $7}')" "none"
expect_eq "--skip-config: others signed" \
  "$("$IMGTOOL" inspect "$T/skipconf.rpm" | awk -F'\t' '$1 == "/usr/bin/signme-true" {print $7}')" \
  "unknown key $KEYID"

# ---- install with rpm; its ima plugin writes security.ima ----
# (for %config files only with _ima_sign_config_files, plugins/ima.c)
ROOT=$T/root
mkdir -p "$ROOT"
touch "$T/xattr-probe"
if ! setfattr -n security.ima -v 0x0401 "$T/xattr-probe" 2>/dev/null; then
  # no xattrs here: an ext4 of our own
  truncate -s 64M "$T/fs.img"
  mkfs.ext4 -q "$T/fs.img"
  mount -o loop "$T/fs.img" "$ROOT"
  trap 'umount "$ROOT" 2>/dev/null; rm -rf "$T"' EXIT
fi
check "rpm -i with the ima plugin" rpm -i --nodeps --noscripts --root "$ROOT" \
  --define '__plugindir /usr/lib/x86_64-linux-gnu/rpm-plugins' \
  --define '_ima_sign_config_files 1' "$SIGNED"
n=0
for f in /usr/bin/signme-script /usr/bin/signme-true /etc/signme/signme.conf /usr/share/signme/data; do
  check "evmctl ima_verify $f" evmctl ima_verify --key "$T/signing.der" "$ROOT$f"
  n=$((n + 1))
done
expect_eq "every installed regular file was checked" \
  "$(find "$ROOT/usr/bin" "$ROOT/etc/signme" "$ROOT/usr/share/signme" -type f | wc -l)" "$n"
# and evmctl is not fooled: change a byte of an installed file
printf x >> "$ROOT/usr/share/signme/data"
if evmctl ima_verify --key "$T/signing.der" "$ROOT/usr/share/signme/data" >/dev/null 2>&1; then
  fail "evmctl accepts a modified file"
else
  pass "evmctl rejects a modified file"
fi

if have_fixtures; then
# ---- the fixtures, re-signed: rpm -K and rpm's view ----
mkdir -p "$T/fx"
check "re-sign the fixtures" "$IMGTOOL" sign-rpm --key "$T/signing.key" --cert "$T/signing.der" \
  --output-dir "$T/fx" "$F/hello-2.0-1.x86_64.rpm" "$F/hlinktest-1.0-1.noarch.rpm" \
  "$F/capstest-1.0-1.noarch.rpm" "$F/imatest-1.0-1.fc34.noarch.rpm" "$F/hello-2.0-1.x86_64-badima.rpm"
for f in "$T"/fx/*.rpm; do
  check "rpm -K --nosignature $(basename "$f")" rpm -K --nosignature "$f"
  expect_eq "$(basename "$f"): every regular file valid with the new key" \
    "$("$IMGTOOL" inspect --cert "$T/signing.der" "$f" | awk -F'\t' '$2 == "file" {print $7}' | sort -u)" \
    "valid $KEYID"
done
expect_eq "badima re-signed: the OpenPGP header signature is kept" \
  "$(rpm -Kv "$T/fx/hello-2.0-1.x86_64-badima.rpm" 2>&1 | grep -c 'Header V4 RSA/SHA512 Signature, key ID 1964c5fc')" 1
hex=$(rpm -qp --qf '[%{FILENAMES} %{FILESIGNATURES}\n]' "$T/fx/hlinktest-1.0-1.noarch.rpm" 2>/dev/null |
  awk '$1 == "/foo/hello" {print $2}')
expect_eq "hard links: one signature each, equal digests sign alike (RFC 6979)" \
  "$(rpm -qp --qf '[%{FILESIGNATURES}\n]' "$T/fx/hlinktest-1.0-1.noarch.rpm" 2>/dev/null | grep . | sort -u | wc -l)" 1
[ -n "$hex" ] && pass "hlinktest signature present" || fail "hlinktest: no signature for /foo/hello"

# --in-place
cp "$F/hello-2.0-1.x86_64.rpm" "$T/inplace.rpm"
check "--in-place" "$IMGTOOL" sign-rpm --key "$T/signing.key" --cert "$T/signing.der" --in-place "$T/inplace.rpm"
expect_eq "--in-place: signed" \
  "$("$IMGTOOL" inspect --cert "$T/signing.der" "$T/inplace.rpm" | awk -F'\t' '$1 == "/usr/bin/hello" {print $7}')" \
  "valid $KEYID"
expect_eq "--in-place: no temp file left" "$(ls "$T" | grep -c 'inplace.rpm.tmp')" 0

else
  skipped_part "the fixtures re-signed, --in-place"
fi

# ---- bad input: one line naming the file and the problem, no output ----
mkdir -p "$T/bad"
sign() { "$IMGTOOL" sign-rpm --key "$T/signing.key" --cert "$T/signing.der" "$@"; }
echo "not a package" > "$T/junk.rpm"
expect_fail "not an RPM" "junk.rpm: not an RPM package$" sign -o "$T/bad/junk.rpm" "$T/junk.rpm"
if have_fixtures; then
head -c 8000 "$F/hello-2.0-1.x86_64.rpm" > "$T/trunc.rpm"
expect_fail "truncated RPM" "trunc.rpm: truncated package" sign -o "$T/bad/trunc.rpm" "$T/trunc.rpm"
# a damaged payload byte: header digests fine, payload digest not
cp "$F/hello-2.0-1.x86_64.rpm" "$T/badpayload.rpm"
printf '\xff' | dd of="$T/badpayload.rpm" bs=1 seek=8000 conv=notrunc status=none
expect_fail "corrupt payload" "badpayload.rpm: corrupt package: payload does not match" \
  sign -o "$T/bad/badpayload.rpm" "$T/badpayload.rpm"
else
  skipped_part "truncated and corrupt fixtures"
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$T/other.key" -out "$T/other.crt" -subj /CN=other -days 30 2>/dev/null
expect_fail "key does not match the cert" "other.key" \
  "$IMGTOOL" sign-rpm --key "$T/other.key" --cert "$T/signing.der" -o "$T/bad/x.rpm" "$PKG"
expect_fail "unreadable key" "nokey.pem" \
  "$IMGTOOL" sign-rpm --key "$T/nokey.pem" --cert "$T/signing.der" -o "$T/bad/y.rpm" "$PKG"
expect_fail "-o with two packages" "one RPM" sign -o "$T/bad/z.rpm" "$PKG" "$PKG"
expect_eq "nothing written for bad input" "$(ls -A "$T/bad")" ""
# a failure must leave an existing output untouched
cp "$PKG" "$T/keep.rpm"
before=$(sha256sum < "$T/keep.rpm")
expect_fail "bad input over an existing output" "junk.rpm" sign --force -o "$T/keep.rpm" "$T/junk.rpm"
expect_eq "existing output untouched" "$(sha256sum < "$T/keep.rpm")" "$before"

# ---- keys the kernel cannot verify with: refused, nothing written ----
for spec in "ec -pkeyopt ec_paramgen_curve:secp256k1:curve secp256k1" \
            "ec -pkeyopt ec_paramgen_curve:secp521r1:curve secp521r1" \
            "rsa:1024:RSA key of 1024 bits"; do
  newkey=${spec%:*}; want=${spec##*:}
  openssl req -x509 -newkey $newkey -nodes -keyout "$T/weak.key" -out "$T/weak.crt" \
    -subj /CN=weak -days 30 -addext subjectKeyIdentifier=hash 2>/dev/null
  expect_fail "sign-rpm refuses a key the kernel cannot use ($want)" "weak.key: .*$want" \
    "$IMGTOOL" sign-rpm --key "$T/weak.key" --cert "$T/weak.crt" -o "$T/bad/weak.rpm" "$PKG"
  rm -f "$T/weak.key" "$T/weak.crt"
done
expect_eq "nothing written for refused keys" "$(ls -A "$T/bad")" ""
# a cert without subjectKeyIdentifier: the kernel has no key id to find
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/noskid.key" \
  -out "$T/noskid.crt" -subj /CN=noskid -days 30 -addext subjectKeyIdentifier=none 2>/dev/null
expect_fail "sign-rpm refuses a cert without subjectKeyIdentifier" \
  "noskid.crt: certificate without a subjectKeyIdentifier" \
  "$IMGTOOL" sign-rpm --key "$T/noskid.key" --cert "$T/noskid.crt" -o "$T/bad/noskid.rpm" "$PKG"
expect_eq "nothing written for a cert without SKID" "$(ls -A "$T/bad")" ""

finish
