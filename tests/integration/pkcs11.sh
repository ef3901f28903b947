# Keys that never leave a token: a SoftHSM2 token (a private SOFTHSM2_CONF
# and token folder under $T) holds the signing key; compose Mode=sign and
# sign-rpm sign through it (Key=pkcs11:...), evmctl and imgtool inspect
# verify; two token composes differ only in the security.ima values
# (randomized ECDSA); the refusals name the URI.  PINs go only through
# files and the environment, never a command line (checked at the end).
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"
# Under ASan: libp11's engine keeps RSA/EC method copies it made for a key
# load that failed (a wrong PIN, a missing object) when the engine is
# finished; they are the engine's own allocations, not imgtool's.
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$SRCDIR/tests/integration/data/lsan-libp11.supp:print_suppressions=0"
# (full stacks, so the suppressions can see libp11 behind libcrypto's frames)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"

M=/usr/lib/softhsm/libsofthsm2.so
for tool in softhsm2-util pkcs11-tool evmctl debugfs; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (./build.sh deps)" >&2; exit 1; }
done
[ -f "$M" ] || { echo "FAIL: $M missing (softhsm2)" >&2; exit 1; }

export SOFTHSM2_CONF=$T/softhsm2.conf
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$T/tokens" > "$SOFTHSM2_CONF"
# The PINs: in files (pin-source=) and in the environment (pkcs11-tool's env:NAME).
umask 077
printf '%s\n' 4711-pin > "$T/pin"
printf '%s\n' 0000-bad > "$T/badpin"
umask 022
export P11_SO_PIN=so-4711 P11_PIN=4711-pin
p11() { pkcs11-tool --module "$M" "$@" >/dev/null 2>&1; }
check "token initialized" p11 --init-token --label imgtool-test --so-pin env:P11_SO_PIN
check "user PIN set" p11 --token-label imgtool-test --login --login-type so --so-pin env:P11_SO_PIN \
  --init-pin --pin env:P11_PIN

# The test key (EC P-256, cert by imgtool keygen) imported into the token,
# private and public halves under one id, as a key ceremony would.
"$IMGTOOL" keygen --out "$T/key" >/dev/null
openssl pkey -in "$T/key/signing.key" -outform DER -out "$T/key.der"
openssl pkey -in "$T/key/signing.key" -pubout -outform DER -out "$T/pub.der"
openssl x509 -in "$T/key/signing.crt" -outform DER -out "$T/cert.der"
check "private key imported" p11 --token-label imgtool-test --login --pin env:P11_PIN \
  --write-object "$T/key.der" --type privkey --id 01 --label ima
check "public key imported" p11 --token-label imgtool-test --login --pin env:P11_PIN \
  --write-object "$T/pub.der" --type pubkey --id 01 --label ima
rm -f "$T/key.der"
KEYID=$(openssl x509 -in "$T/key/signing.crt" -noout -ext subjectKeyIdentifier | tail -1 |
  tr -d ' :\n' | tr 'A-F' 'a-f' | tail -c 8)

URI="pkcs11:token=imgtool-test;object=ima;type=private?pin-source=file:$T/pin&module-path=$M"
URI_ENV="pkcs11:token=imgtool-test;object=ima;type=private?module-path=$M"

# ---- compose Mode=sign through the token --------------------------------
make_test_packages "$T/rpms"
cat > "$T/layout.conf" <<L
[Image]
Size=auto
Label=tokenroot
Seed=pkcs11-test

[Packages]
Directory=rpms
Install=tbase tapp

[Signatures]
Mode=sign
Key=$URI
Certificate=key/signing.crt
L
check "compose Mode=sign, Key=pkcs11:... (PIN from pin-source=file:)" \
  "$IMGTOOL" compose "$T/layout.conf" -o "$T/a.img"
check "the same compose again (a second, randomized set of ECDSA signatures)" \
  "$IMGTOOL" compose "$T/layout.conf" -o "$T/b.img"
check "e2fsck accepts the image" e2fsck -fn "$T/a.img"

mkdir -p "$T/mnt" "$T/vals"
if mount -o loop,ro "$T/a.img" "$T/mnt" 2>/dev/null; then
  bad=0; n=0
  : > "$T/restamp"
  while IFS= read -r -d '' f; do
    n=$((n + 1))
    evmctl ima_verify --key "$T/cert.der" "$f" >/dev/null 2>&1 || { echo "evmctl rejects ${f#$T/mnt}"; bad=1; }
    # a.img's value, to stamp over b.img's below
    getfattr --absolute-names --only-values -n security.ima "$f" > "$T/vals/$n"
    printf 'ea_set -f %s "%s" security.ima\n' "$T/vals/$n" "${f#$T/mnt}" >> "$T/restamp"
  done < <(find "$T/mnt" -type f -print0)
  umount "$T/mnt"
  expect_eq "evmctl ima_verify accepts all $n regular files (signed on the token)" "$bad" 0
  check "at least 10 files were checked" test "$n" -ge 10
  # ECDSA through the token is randomized: the two images differ...
  check "two token composes differ (randomized ECDSA)" sh -c "! cmp -s '$T/a.img' '$T/b.img'"
  # ...and only in the security.ima values: b.img with a.img's values
  # stamped in (debugfs, libext2fs's own xattr writer, as imgtool's) is
  # a.img byte for byte.
  debugfs -w -f "$T/restamp" "$T/b.img" >/dev/null 2>&1
  check "with a.img's security.ima values, b.img is a.img byte for byte" cmp "$T/a.img" "$T/b.img"
else
  fail "loop mount of the image (needs root)"
fi

# ---- sign-rpm through the token (PIN from IMGTOOL_PKCS11_PIN) -----------
PKG=$(ls "$T"/rpms/tapp-*.rpm | head -1)
# a bash prefix assignment: the PIN is in imgtool's environment, on no argv
with_pin_env() { IMGTOOL_PKCS11_PIN=$(<"$T/pin") "$@"; }
check "sign-rpm --key pkcs11:... (PIN from IMGTOOL_PKCS11_PIN)" \
  with_pin_env "$IMGTOOL" sign-rpm --key "$URI_ENV" --cert "$T/cert.der" -o "$T/signed.rpm" "$PKG"
expect_eq "inspect: every signed file valid with the cert" \
  "$("$IMGTOOL" inspect --cert "$T/cert.der" "$T/signed.rpm" | awk -F'\t' '$2 == "file" {print $7}' | sort -u)" \
  "valid $KEYID"
# evmctl on each signature rpm carries, against the file's own digest
bad=0; n=0
while read -r digest sig; do
  [ "$sig" = "(none)" ] || [ -z "$sig" ] && continue
  n=$((n + 1))
  printf '%s' "$sig" | xxd -r -p > "$T/sig.bin"
  printf '%s' "$digest" | xxd -r -p > "$T/digest.bin"
  openssl pkeyutl -verify -pubin -inkey "$T/pub.der" -keyform DER -in "$T/digest.bin" \
    -sigfile <(tail -c +10 "$T/sig.bin") >/dev/null 2>&1 || bad=1
done < <(rpm -qp --qf '[%{FILEDIGESTS} %{FILESIGNATURES}\n]' "$T/signed.rpm" 2>/dev/null)
expect_eq "openssl verifies all $n package file signatures over rpm's own digests" "$bad" 0
check "the package carried signatures" test "$n" -ge 1

# ---- a signature pack through the token ---------------------------------
check "sigpack --key pkcs11:... --sign-files" "$IMGTOOL" sigpack --key "$URI" --cert "$T/key/signing.crt" \
  --sign-files -o "$T/token.pack" "$PKG"
"$IMGTOOL" inspect --cert "$T/key/signing.crt" "$T/token.pack" > "$T/pack.txt" 2>&1 || true
check "inspect: the token-signed pack's signature is valid" grep -q '^# pack .*token.pack: 1 packages, .* (pack signature: valid)' "$T/pack.txt"
expect_eq "inspect: every file signature in the pack valid" \
  "$(awk -F'\t' '$1 ~ /^\// {print $4}' "$T/pack.txt" | sort -u)" "valid $KEYID"
check "the pack lists 9 files" test "$(grep -c '^/' "$T/pack.txt")" -eq 9

# ---- the reference values and the IPE policy through the token ----------
# Both load their key through keyref as compose does; ECDSA on the token is
# randomized, so the oracles are the verifiers, not a byte comparison.
check "reference --key pkcs11:... signs a.img's reference values" \
  "$IMGTOOL" reference "$T/a.img" -o "$T/ref.json" --key "$URI" --cert "$T/key/signing.crt"
check "reference --check accepts the token's signature" \
  "$IMGTOOL" reference --check "$T/ref.json" --cert "$T/key/signing.crt"
openssl x509 -in "$T/key/signing.crt" -pubkey -noout > "$T/pub.pem"
check "openssl verifies the reference signature (over the prefixed content)" bash -c \
  "(printf '\\000imgtool reference signature v1\\n'; cat '$T/ref.json') | openssl dgst -sha256 -verify '$T/pub.pem' -signature '$T/ref.json.sig' >/dev/null"
cat "$T/layout.conf" - > "$T/ipe.conf" <<L
[Verity]
Enable=yes
Signatures=ipe
L
check "ipe-policy -o, [Signatures] Key=pkcs11:..." "$IMGTOOL" ipe-policy "$T/ipe.conf" -o "$T/ipe.p7s"
"$IMGTOOL" ipe-policy "$T/ipe.conf" > "$T/ipe.txt"
check "openssl cms verifies the token-signed IPE policy with the cert alone, the policy text inside" bash -c \
  "openssl cms -verify -in '$T/ipe.p7s' -inform DER -binary -noverify -certfile '$T/key/signing.crt' -nointern -out '$T/ipe.out' 2>/dev/null && cmp '$T/ipe.out' '$T/ipe.txt'"
"$IMGTOOL" keygen --out "$T/other" >/dev/null
check "IPE policy: openssl cms refuses it with another cert (the oracle can fail)" bash -c \
  "! openssl cms -verify -in '$T/ipe.p7s' -inform DER -binary -noverify -certfile '$T/other/signing.crt' -nointern -out /dev/null 2>/dev/null"
badkey="pkcs11:token=imgtool-test;object=ima;type=private?pin-source=file:$T/badpin&module-path=$M"
nokey="pkcs11:token=imgtool-test;object=nope;type=private?pin-source=file:$T/pin&module-path=$M"
expect_fail "reference: wrong PIN" "^imgtool: pkcs11:token=imgtool-test;object=ima;type=private: the token refused the PIN$" \
  "$IMGTOOL" reference "$T/a.img" -o "$T/refused.json" --key "$badkey" --cert "$T/key/signing.crt"
expect_fail "reference: missing object" "^imgtool: pkcs11:token=imgtool-test;object=nope;type=private: no such private key on the token$" \
  "$IMGTOOL" reference "$T/a.img" -o "$T/refused.json" --key "$nokey" --cert "$T/key/signing.crt"
check "reference: nothing written" sh -c "! ls '$T'/refused.json* 2>/dev/null | grep -q ."
sed "s|^Key=.*|Key=${badkey//&/\\&}|" "$T/ipe.conf" > "$T/ipe-bad.conf"
sed "s|^Key=.*|Key=${nokey//&/\\&}|" "$T/ipe.conf" > "$T/ipe-nokey.conf"
expect_fail "ipe-policy: wrong PIN" "^imgtool: pkcs11:token=imgtool-test;object=ima;type=private: the token refused the PIN$" \
  "$IMGTOOL" ipe-policy "$T/ipe-bad.conf" -o "$T/refused.p7s"
expect_fail "ipe-policy: missing object" "^imgtool: pkcs11:token=imgtool-test;object=nope;type=private: no such private key on the token$" \
  "$IMGTOOL" ipe-policy "$T/ipe-nokey.conf" -o "$T/refused.p7s"
check "ipe-policy: nothing written" sh -c "! ls '$T'/refused.p7s* 2>/dev/null | grep -q ."

# ---- refusals: one line naming the URI, nothing written ------------------
base="pkcs11:token=imgtool-test;object=ima;type=private"
refuse() {
  local d=$1 pat=$2 uri=$3
  expect_fail "$d" "$pat" "$IMGTOOL" sign-rpm --key "$uri" --cert "$T/cert.der" -o "$T/refused.rpm" "$PKG"
  check "$d: nothing written" test ! -e "$T/refused.rpm"
}
refuse "wrong PIN" "^imgtool: $base: the token refused the PIN$" \
  "$base?pin-source=file:$T/badpin&module-path=$M"
refuse "missing object" "^imgtool: pkcs11:token=imgtool-test;object=nope;type=private: no such private key on the token$" \
  "pkcs11:token=imgtool-test;object=nope;type=private?pin-source=file:$T/pin&module-path=$M"
refuse "missing token" "^imgtool: pkcs11:token=nope;object=ima: no such token in $M$" \
  "pkcs11:token=nope;object=ima?pin-source=file:$T/pin&module-path=$M"
refuse "missing module" "^imgtool: $base: PKCS#11 module $T/nope.so: No such file or directory$" \
  "$base?pin-source=file:$T/pin&module-path=$T/nope.so"
refuse "not a module" "^imgtool: $base: cannot load the PKCS#11 module $T/pin: " \
  "$base?pin-source=file:$T/pin&module-path=$T/pin"
refuse "missing PIN file" "^imgtool: $base: pin-source: $T/nopin: No such file" \
  "$base?pin-source=file:$T/nopin&module-path=$M"
refuse "no PIN at all" "^imgtool: $base: no PIN: " "$base?module-path=$M"
refuse "a PIN in the URI is refused, and not repeated" \
  "^imgtool: $base: pin-value= puts the PIN in the URI: use pin-source=file:PATH or IMGTOOL_PKCS11_PIN$" \
  "$base?pin-value=4711-pin&module-path=$M"
# the same wrong PIN through compose: nothing left behind either
sed "s|^Key=.*|Key=$base?pin-source=file:$T/badpin\&module-path=$M|" "$T/layout.conf" > "$T/bad.conf"
expect_fail "compose with a wrong PIN" "^imgtool: $base: the token refused the PIN$" \
  "$IMGTOOL" compose "$T/bad.conf" -o "$T/refused.img"
check "compose: nothing written" sh -c "! ls '$T'/refused.img* 2>/dev/null | grep -q ."
# a curve the kernel cannot verify is refused as with a PEM key
openssl ecparam -name secp256k1 -genkey -noout 2>/dev/null | openssl pkey -outform DER -out "$T/k1.der"
openssl pkey -inform DER -in "$T/k1.der" -pubout -outform DER -out "$T/k1pub.der"
p11 --token-label imgtool-test --login --pin env:P11_PIN --write-object "$T/k1.der" --type privkey --id 02 --label k1
p11 --token-label imgtool-test --login --pin env:P11_PIN --write-object "$T/k1pub.der" --type pubkey --id 02 --label k1
rm -f "$T/k1.der"
refuse "a secp256k1 key on the token" "^imgtool: pkcs11:token=imgtool-test;object=k1;type=private: EC key on curve secp256k1: the kernel verifies ECDSA only on P-256" \
  "pkcs11:token=imgtool-test;object=k1;type=private?pin-source=file:$T/pin&module-path=$M"

# ---- the UKI's Authenticode signature through the token -------------------
# RSA PKCS#1 v1.5 is deterministic: a disk whose UKI the token signs is the
# PEM-signed disk byte for byte (the IMA key stays a PEM file here, RFC 6979).
KERNEL=$BUILDDIR/kernel/vmlinuz
[ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
{
  "$IMGTOOL" keygen --secure-boot "$T/sb" --subject "pkcs11 test" >/dev/null
  openssl pkey -in "$T/sb/db.key" -outform DER -out "$T/db.der"
  openssl pkey -in "$T/sb/db.key" -pubout -outform DER -out "$T/dbpub.der"
  check "db key imported" p11 --token-label imgtool-test --login --pin env:P11_PIN \
    --write-object "$T/db.der" --type privkey --id 03 --label db
  check "db public key imported" p11 --token-label imgtool-test --login --pin env:P11_PIN \
    --write-object "$T/dbpub.der" --type pubkey --id 03 --label db
  rm -f "$T/db.der"
  disk_layout() {  # disk_layout NAME SBKEY
    cat > "$T/$1.conf" <<L
[Image]
Format=disk
Seed=pkcs11-disk
[Packages]
Directory=rpms
Install=tbase tapp
[Signatures]
Mode=sign
Key=key/signing.key
Certificate=key/signing.crt
[Boot]
Kernel=$KERNEL
CommandLine=console=ttyS0
[SecureBoot]
Key=$2
Certificate=sb/db.crt
L
  }
  disk_layout pem "$T/sb/db.key"
  disk_layout token "pkcs11:token=imgtool-test;object=db;type=private?pin-source=file:$T/pin&module-path=$M"
  check "compose Format=disk, the UKI signed with the PEM db key" "$IMGTOOL" compose "$T/pem.conf" -o "$T/pem.disk" -q
  check "compose Format=disk, [SecureBoot] Key=pkcs11:..." "$IMGTOOL" compose "$T/token.conf" -o "$T/token.disk" -q
  check "the token-signed disk is the PEM-signed disk, byte for byte" cmp "$T/pem.disk" "$T/token.disk"
  start=$(sfdisk -d "$T/token.disk" | sed -n 's/.*token.disk1 : start= *\([0-9]*\),.*/\1/p')
  MTOOLS_SKIP_CHECK=1 mcopy -n -i "$T/token.disk@@$((start * 512))" ::/EFI/BOOT/BOOTX64.EFI "$T/uki.efi"
  check "sbverify: the token-signed UKI verifies with the db cert" sbverify --cert "$T/sb/db.crt" "$T/uki.efi"
  # the IPE policy is signed with the db key when there is one (the kernel
  # trusts UEFI db): RSA, so the token's policy is the PEM key's, byte for byte
  for n in pem token; do printf '[Verity]\nEnable=yes\nSignatures=ipe\n' | cat "$T/$n.conf" - > "$T/$n-ipe.conf"; done
  check "ipe-policy -o, [SecureBoot] Key=pkcs11:... (RSA db key)" "$IMGTOOL" ipe-policy "$T/token-ipe.conf" -o "$T/token-ipe.p7s"
  "$IMGTOOL" ipe-policy "$T/pem-ipe.conf" -o "$T/pem-ipe.p7s"
  check "the token-signed IPE policy is the PEM-signed one, byte for byte" cmp "$T/pem-ipe.p7s" "$T/token-ipe.p7s"
  check "openssl cms verifies it with the db cert alone" bash -c \
    "openssl cms -verify -in '$T/token-ipe.p7s' -inform DER -binary -noverify -certfile '$T/sb/db.crt' -nointern -out /dev/null 2>/dev/null"
}

# ---- the Secure Boot key hierarchy: PK and KEK on the token ---------------
# keygen --secure-boot --pk-key/--kek-key: the certificates self-signed and
# the signed variable updates made through the token, no PK.key nor KEK.key
# written.  RSA PKCS#1 v1.5 and no signed attributes: each .auth is the bytes
# efitools' sign-efi-sig-list makes with the same key as a file.
for n in PK KEK; do
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/$n.pem" 2>/dev/null
  openssl pkey -in "$T/$n.pem" -outform DER -out "$T/$n.der"
  openssl pkey -in "$T/$n.pem" -pubout -outform DER -out "$T/${n}pub.der"
  id=$([ $n = PK ] && echo 04 || echo 05)
  check "$n key imported" p11 --token-label imgtool-test --login --pin env:P11_PIN \
    --write-object "$T/$n.der" --type privkey --id $id --label $n
  check "$n public key imported" p11 --token-label imgtool-test --login --pin env:P11_PIN \
    --write-object "$T/${n}pub.der" --type pubkey --id $id --label $n
  rm -f "$T/$n.der"
done
sbref() { echo "pkcs11:token=imgtool-test;object=$1;type=private?pin-source=file:$2&module-path=$M"; }
check "keygen --secure-boot --pk-key pkcs11:... --kek-key pkcs11:..." env SOURCE_DATE_EPOCH=1704067200 \
  "$IMGTOOL" keygen --secure-boot "$T/sbtok" --subject "token sb" --pk-key "$(sbref PK "$T/pin")" --kek-key "$(sbref KEK "$T/pin")"
expect_eq "no PK.key nor KEK.key written; db.key is (db stays a file)" \
  "$(cd "$T/sbtok" && ls | paste -sd' ')" \
  "KEK.auth KEK.crt KEK.der KEK.esl PK.auth PK.crt PK.der PK.esl db.auth db.crt db.der db.esl db.key owner.guid"
for n in PK KEK; do
  expect_eq "$n.crt holds the token's public key" \
    "$(openssl x509 -in "$T/sbtok/$n.crt" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum)" \
    "$(sha256sum < "$T/${n}pub.der")"
  check "$n.crt's self-signature verifies (signed on the token)" bash -c \
    "openssl x509 -in '$T/sbtok/$n.crt' -noout -text >/dev/null && openssl verify -check_ss_sig -CAfile '$T/sbtok/$n.crt' '$T/sbtok/$n.crt' >/dev/null 2>&1"
  cert-to-efi-sig-list -g "$(cat "$T/sbtok/owner.guid")" "$T/sbtok/$n.crt" "$T/$n.esl.efitools" >/dev/null
  check "$n.esl is cert-to-efi-sig-list's bytes" cmp "$T/sbtok/$n.esl" "$T/$n.esl.efitools"
done
sign-efi-sig-list -t "2024-01-01 00:00:00" -k "$T/PK.pem" -c "$T/sbtok/PK.crt" PK "$T/sbtok/PK.esl" "$T/PK.auth.efitools" >/dev/null
sign-efi-sig-list -t "2024-01-01 00:00:00" -k "$T/PK.pem" -c "$T/sbtok/PK.crt" KEK "$T/sbtok/KEK.esl" "$T/KEK.auth.efitools" >/dev/null
sign-efi-sig-list -t "2024-01-01 00:00:00" -k "$T/KEK.pem" -c "$T/sbtok/KEK.crt" db "$T/sbtok/db.esl" "$T/db.auth.efitools" >/dev/null
for n in PK KEK db; do
  check "$n.auth (signed through the token) is sign-efi-sig-list's bytes" cmp "$T/sbtok/$n.auth" "$T/$n.auth.efitools"
done
rm -f "$T/PK.pem" "$T/KEK.pem"
expect_fail "keygen --secure-boot: wrong PIN" "^imgtool: pkcs11:token=imgtool-test;object=PK;type=private: the token refused the PIN$" \
  "$IMGTOOL" keygen --secure-boot "$T/sbrefused" --pk-key "$(sbref PK "$T/badpin")"
expect_fail "keygen --secure-boot: missing object" "^imgtool: pkcs11:token=imgtool-test;object=nope;type=private: no such private key on the token$" \
  "$IMGTOOL" keygen --secure-boot "$T/sbrefused" --kek-key "$(sbref nope "$T/pin")"
expect_fail "keygen --secure-boot: an EC key as PK" \
  "^imgtool: pkcs11:token=imgtool-test;object=ima;type=private: the PK key is EC-256: UEFI firmware verifies RSA of 2048 bits or more$" \
  "$IMGTOOL" keygen --secure-boot "$T/sbrefused" --pk-key "$(sbref ima "$T/pin")"
check "keygen --secure-boot refusals: nothing made" test ! -e "$T/sbrefused"
expect_fail "--pk-key without --secure-boot" "--pk-key and --kek-key go with --secure-boot DIR" \
  "$IMGTOOL" keygen --out "$T/sbrefused" --pk-key "$(sbref PK "$T/pin")"

# ---- no PIN on a command line --------------------------------------------
# Every PIN above is in $T/pin, $T/badpin or the environment: each of
# pkcs11-tool's PIN options reads env:NAME, and the one pin-value= is the
# refusal above (imgtool refuses it before using it).
opts=$(grep -vE '^[[:space:]]*#' "${BASH_SOURCE[0]}" | grep -oE -- '--(so-)?pin[= ][^ "]*' | sort -u | paste -sd' ')
expect_eq "pkcs11-tool gets PINs only as env:NAME" "$opts" "--pin env:P11_PIN --so-pin env:P11_SO_PIN"
expect_eq "the only pin-value= is the refused one" \
  "$(pv='pin-'"value="; grep -c "${pv}4711" "${BASH_SOURCE[0]}")" 1
expect_eq "no PIN goes through env(1)'s command line" \
  "$(grep -vE '^[[:space:]]*#' "${BASH_SOURCE[0]}" | grep -cE '\benv [A-Z_]*PIN=' || true)" 0

finish
