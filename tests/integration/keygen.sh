# imgtool keygen: every key type, checked with openssl, evmctl and (where
# the running kernel supports the algorithm) the kernel's own x509 parser.
source "$SRCDIR/tests/integration/lib.sh"

skid_tail() { # CERT -> last 4 bytes of the SKID, lower-case hex
  openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :\n' \
    | tr 'A-F' 'a-f' | tail -c 8
}

# A directory with xattr support for evmctl (/tmp may be tmpfs without
# security.* xattrs).
XD=$T/xattr
mkdir -p "$XD"
if ! setfattr -n security.ima -v 0x0404 "$XD" 2>/dev/null; then
  XD=$(mktemp -d "$BUILDDIR/keygen-xattr.XXXXXX")
  trap 'rm -rf "$T" "$XD"' EXIT
fi

for type in ec-p256 ec-p384 rsa-2048 rsa-3072 rsa-4096; do
  d=$T/$type
  keyid=$("$IMGTOOL" keygen --type "$type" --out "$d" 2>"$T/err") || { fail "$type: keygen failed: $(cat "$T/err")"; continue; }
  check "$type: keyid is 8 hex digits" grep -Eqx '[0-9a-f]{8}' <<<"$keyid"
  expect_eq "$type: keyid is the SKID tail" "$keyid" "$(skid_tail "$d/signing.crt")"
  expect_eq "$type: signing.key mode" "$(stat -c %a "$d/signing.key")" 600
  text=$(openssl x509 -in "$d/signing.crt" -noout -text)
  check "$type: v3 cert" grep -q 'Version: 3 (0x2)' <<<"$text"
  check "$type: keyUsage critical" grep -q 'X509v3 Key Usage: critical' <<<"$text"
  check "$type: digitalSignature only" grep -qx ' *Digital Signature' <<<"$text"
  check "$type: CA:FALSE" grep -q 'CA:FALSE' <<<"$text"
  check "$type: codeSigning" grep -q 'Code Signing' <<<"$text"
  check "$type: has AKID" grep -q 'Authority Key Identifier' <<<"$text"
  serial=$(openssl x509 -in "$d/signing.crt" -noout -serial | cut -d= -f2)
  check "$type: serial is random, not 0 ($serial)" test "${#serial}" -ge 16
  expect_eq "$type: .der is the .crt in DER" \
    "$(openssl x509 -in "$d/signing.crt" -outform der | sha256sum)" "$(sha256sum <"$d/signing.der")"
  expect_eq "$type: key matches cert" "$(openssl pkey -in "$d/signing.key" -pubout)" \
    "$(openssl x509 -in "$d/signing.crt" -noout -pubkey)"
  check "$type: self-signature verifies" openssl verify -CAfile "$d/signing.crt" -partial_chain "$d/signing.crt"

  # evmctl signs with the key and verifies with the DER cert, finding it by
  # the same keyid.
  f=$XD/file-$type
  echo "content $type" >"$f"
  check "$type: evmctl ima_sign" evmctl ima_sign --key "$d/signing.key" -a sha256 "$f"
  val=$(getfattr -e hex -n security.ima "$f" | sed -n 's/^security.ima=0x//p')
  expect_eq "$type: evmctl's keyid in the xattr" "${val:6:8}" "$keyid"
  check "$type: evmctl ima_verify" evmctl ima_verify --key "$d/signing.der" "$f"

  # The kernel's x509 parser: the key id it derives must end in our keyid.
  if kr=$(keyctl newring "imgtool-keygen-$$" @u 2>/dev/null); then
    if kid=$(keyctl padd asymmetric "" "$kr" <"$d/signing.der" 2>"$T/kerr"); then
      desc=$(keyctl rdescribe "$kid")
      expect_eq "$type: kernel key id ends in the keyid" "${desc: -8}" "$keyid"
    else
      echo "skip: $type: this kernel cannot load the cert ($(cat "$T/kerr"))"
    fi
    keyctl unlink "$kr" @u >/dev/null 2>&1 || true
  fi
done

# Refuses to overwrite: exit != 0, one line naming the file, nothing changed.
d=$T/ec-p256
before=$(sha256sum "$d"/*)
expect_fail "refuses to overwrite" 'signing\.key: already exists' "$IMGTOOL" keygen --out "$d"
expect_eq "files untouched" "$(sha256sum "$d"/*)" "$before"
mkdir "$T/partial"
echo keep >"$T/partial/signing.der"
expect_fail "refuses when only signing.der exists" 'signing\.der: already exists' \
  "$IMGTOOL" keygen --out "$T/partial"
expect_eq "nothing else written" "$(ls -A "$T/partial")" "signing.der"
expect_eq "existing file kept" "$(cat "$T/partial/signing.der")" keep

# Creates missing parents; default type is ec-p256.
keyid=$("$IMGTOOL" keygen --out "$T/a/b/c" 2>/dev/null)
check "creates missing directories" test -f "$T/a/b/c/signing.der"
check "default type is P-256" grep -q 'NIST CURVE: P-256' <(openssl x509 -in "$T/a/b/c/signing.crt" -noout -text)

# --subject and --days
"$IMGTOOL" keygen --subject "Example OS 2024" --days 30 --out "$T/subj" >/dev/null 2>&1
check "--subject in the cert" grep -q 'Subject: CN = Example OS 2024' \
  <(openssl x509 -in "$T/subj/signing.crt" -noout -text)
check "--days 30: valid in 29 days" openssl x509 -in "$T/subj/signing.crt" -noout -checkend $((29 * 86400))
check "--days 30: expired in 31 days" bash -c "! openssl x509 -in '$T/subj/signing.crt' -noout -checkend $((31 * 86400)) >/dev/null"

# A CA and a leaf it signs.
cakeyid=$("$IMGTOOL" keygen --ca --type ec-p384 --subject "Test CA" --out "$T/ca" 2>/dev/null)
check "CA files" test -f "$T/ca/ca.key" -a -f "$T/ca/ca.crt" -a -f "$T/ca/ca.der"
catext=$(openssl x509 -in "$T/ca/ca.crt" -noout -text)
check "CA:TRUE" grep -q 'CA:TRUE' <<<"$catext"
check "keyCertSign" grep -q 'Certificate Sign' <<<"$catext"
expect_eq "CA keyid is its SKID tail" "$cakeyid" "$(skid_tail "$T/ca/ca.crt")"
expect_eq "ca.key mode" "$(stat -c %a "$T/ca/ca.key")" 600
leafid=$("$IMGTOOL" keygen --issuer "$T/ca" --subject leaf --out "$T/leaf" 2>/dev/null)
check "leaf made" test -n "$leafid"
check "leaf verifies against the CA" openssl verify -CAfile "$T/ca/ca.crt" "$T/leaf/signing.crt"
akid=$(openssl x509 -in "$T/leaf/signing.crt" -noout -ext authorityKeyIdentifier | tail -1 | tr -d ' :' | sed 's/^keyid//')
skid=$(openssl x509 -in "$T/ca/ca.crt" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' ')
expect_eq "leaf AKID is the CA's SKID" "$akid" "${skid//:/}"
check "leaf issuer is the CA" grep -q 'Issuer: CN = Test CA' <(openssl x509 -in "$T/leaf/signing.crt" -noout -text)
expect_fail "--issuer of a leaf (not a CA) refused" 'ca\.(crt|key)' "$IMGTOOL" keygen --issuer "$T/rsa-2048" --out "$T/x"
check "nothing written after the refusal" test ! -e "$T/x/signing.key"
cp "$T/leaf/signing.crt" "$T/fakeca.crt"
mkdir "$T/fakeca" && cp "$T/leaf/signing.crt" "$T/fakeca/ca.crt" && cp "$T/leaf/signing.key" "$T/fakeca/ca.key"
expect_fail "a leaf cert as ca.crt refused" 'ca\.crt: not a CA' "$IMGTOOL" keygen --issuer "$T/fakeca" --out "$T/y"
# a CA whose key the kernel cannot verify with (secp256k1, RSA-1024): refused
for spec in "ec -pkeyopt ec_paramgen_curve:secp256k1:curve secp256k1" "rsa:1024:RSA key of 1024 bits"; do
  rm -rf "$T/weakca" && mkdir "$T/weakca"
  openssl req -x509 -newkey ${spec%:*} -nodes -keyout "$T/weakca/ca.key" -out "$T/weakca/ca.crt" \
    -subj /CN=weak -days 30 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign 2>/dev/null
  expect_fail "a CA with a key the kernel cannot use (${spec##*:})" "weakca/ca.key: .*${spec##*:}" \
    "$IMGTOOL" keygen --issuer "$T/weakca" --out "$T/w"
  check "nothing written" test ! -e "$T/w"
done
# an empty --out (read past its buffer once: issue 15)
expect_fail "--out ''" 'output directory name is empty' "$IMGTOOL" keygen --out ""

# Usage errors: one line.
expect_fail "unknown type" "unknown key type 'dsa-1024'" "$IMGTOOL" keygen --type dsa-1024 --out "$T/z"
expect_fail "--out required" 'out DIR is required' "$IMGTOOL" keygen
expect_fail "bad --days" "days: 'x'" "$IMGTOOL" keygen --days x --out "$T/z"
check "--help works" "$IMGTOOL" keygen --help
echo junk >"$T/file"
expect_fail "--out is a file" 'file' "$IMGTOOL" keygen --out "$T/file"
check "no temp files left" test -z "$(find "$T" -name '*.tmp.*')"

# Issue 18 item 9: a dangling symlink at db.auth passes the stat() check and
# link() refuses it (EEXIST): keygen removes only what it linked itself.
mkdir "$T/sbdangle"
ln -s "$T/nowhere" "$T/sbdangle/db.auth"
rc=0; err=$("$IMGTOOL" keygen --secure-boot "$T/sbdangle" 2>&1) || rc=$?
expect_eq "keygen --secure-boot over a dangling db.auth: exit, one line naming db.auth" \
  "$rc $err" "2 imgtool: $T/sbdangle/db.auth: exists (not overwritten)"
expect_eq "the dangling symlink survives" "$(readlink "$T/sbdangle/db.auth")" "$T/nowhere"
expect_eq "nothing else is left behind" "$(ls -A "$T/sbdangle")" "db.auth"

finish
