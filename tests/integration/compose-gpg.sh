# [Packages] GpgKey=: every package must carry an OpenPGP signature (made by
# rpmsign --addsign) that verifies with one of the given keys.
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"

make_test_packages "$T/rpms"
"$IMGTOOL" keygen --out "$T/key" >/dev/null
export GNUPGHOME=$T/gnupg
mkdir -m 700 "$GNUPGHOME"
gen_key() {
  gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key "$1" rsa2048 sign never 2>/dev/null
  gpg --armor --export "$1" > "$T/$2.asc"
}
gen_key "imgtool test packager <pkg@test.invalid>" packager
gen_key "someone else <else@test.invalid>" other

mkdir -p "$T/signed"
cp "$T"/rpms/*.rpm "$T/signed/"
rpmsign --addsign --define '__gpg /usr/bin/gpg' --define '_gpg_name imgtool test packager' "$T"/signed/*.rpm </dev/null >/dev/null 2>&1

layout() {
  cat > "$T/$1.conf" <<L
[Packages]
Directory=$2
Install=tbase tapp
GpgKey=$3
[Signatures]
Mode=sign
Key=key/signing.key
Certificate=key/signing.crt
L
}
layout good signed packager.asc
check "packages signed by the GpgKey compose" "$IMGTOOL" compose "$T/good.conf" -o "$T/good.img" --quiet
layout unsigned rpms packager.asc
expect_fail "unsigned packages are refused" "has no OpenPGP signature" \
  "$IMGTOOL" compose "$T/unsigned.conf" -o "$T/bad.img"
layout otherkey signed other.asc
expect_fail "packages signed by another key are refused" "not signed by any GpgKey" \
  "$IMGTOOL" compose "$T/otherkey.conf" -o "$T/bad.img"
check "no image from a refused run" test ! -e "$T/bad.img"
finish
