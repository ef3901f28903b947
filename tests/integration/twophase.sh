# Two-phase signing: compose --defer-signatures writes the image with
# placeholders and a signing request, without the private key (its folder
# is moved away); sign-request signs on a "machine" that has only the
# request and the key (a folder holding nothing else, the command run there
# with nothing but relative names); apply-signatures stamps the response in,
# and the image is the one-phase image byte for byte (RFC 6979).  e2fsck and
# evmctl accept it.  Refusals: a response to another image or request, a
# signature that does not verify, truncated and altered responses, a
# request given as the response, a key that is not the certificate's; each
# one line, the image untouched.  A SoftHSM2 token signs a request too.
# No PIN or key goes on a command line (checked at the end).
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$SRCDIR/tests/integration/data/lsan-libp11.supp:print_suppressions=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"

for tool in evmctl e2fsck softhsm2-util pkcs11-tool sbverify mcopy sfdisk; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (./build.sh deps)" >&2; exit 1; }
done

"$IMGTOOL" keygen --out "$T/vault" >/dev/null
openssl x509 -in "$T/vault/signing.crt" -outform DER -out "$T/cert.der"
cp "$T/vault/signing.crt" "$T/signing.crt"   # the build host has the certificate only
make_test_packages "$T/rpms"
layout() {  # layout NAME INSTALL
  cat > "$T/$1.conf" <<L
[Image]
Size=auto
Label=twophase
Seed=twophase-test

[Packages]
Directory=rpms
Install=$2

[Signatures]
Mode=sign
Key=vault/signing.key
Certificate=signing.crt
L
}
layout app "tbase tapp"
layout base "tbase"

# ---- one phase: the reference --------------------------------------------
check "one-phase compose (Key= a PEM file)" "$IMGTOOL" compose "$T/app.conf" -o "$T/one.img" -q

# ---- phase 1: the build host, without the private key ---------------------
mv "$T/vault" "$T/vault.offline"
check "compose --defer-signatures, the key's folder absent" \
  "$IMGTOOL" compose "$T/app.conf" -o "$T/two.img" --defer-signatures "$T/request" -q
"$IMGTOOL" compose "$T/base.conf" -o "$T/other.img" --defer-signatures "$T/other.request" -q
mv "$T/vault.offline" "$T/vault"
check "the request names the image by its SHA-256" \
  grep -qx "image-sha256 $(sha256sum < "$T/two.img" | cut -d' ' -f1)" "$T/request"
n=$(grep -c '^digest sha256 ' "$T/request")
check "the request lists the digests to sign ($n)" test "$n" -ge 9
check "the deferred image differs from the signed one (placeholders)" sh -c "! cmp -s '$T/one.img' '$T/two.img'"
check "e2fsck accepts the deferred image" e2fsck -fn "$T/two.img"
"$IMGTOOL" verify "$T/two.img" --cert "$T/signing.crt" > "$T/verify.out" 2>&1 && fail "verify passes a deferred image" || true
check "verify names the placeholders, not a tampered file" \
  grep -q "^/usr/bin/hello: a deferred signature's placeholder (compose --defer-signatures: run imgtool apply-signatures)$" "$T/verify.out"

# ---- phase 2: the offline signer: the request and the key, nothing else ----
mkdir "$T/offline"
cp "$T/request" "$T/offline/request"
cp "$T/vault/signing.key" "$T/offline/signing.key"
check "sign-request in a folder with only the request and the key" \
  sh -c "cd '$T/offline' && '$IMGTOOL' sign-request request --key signing.key -o response"
expect_eq "the signer's folder holds the request, the key and the response" \
  "$(ls "$T/offline" | paste -sd' ')" "request response signing.key"
check "the response is signed again the same (RFC 6979)" \
  sh -c "cd '$T/offline' && '$IMGTOOL' sign-request request --key signing.key -o response2 && cmp response response2"
(cd "$T/offline" && "$IMGTOOL" sign-request ../other.request --key signing.key -o ../other.response)

# ---- refusals, before anything is stamped ----------------------------------
cp "$T/two.img" "$T/two.orig"
R=$T/offline/response
refuse() {  # refuse DESC PATTERN RESPONSE
  expect_fail "$1" "$2" "$IMGTOOL" apply-signatures "$T/two.img" "$3"
  check "$1: the image is untouched" cmp "$T/two.img" "$T/two.orig"
}
refuse "a response to another image" \
  "^imgtool: $T/two.img: not the image $T/other.response answers \(another image, or one already stamped\)$" \
  "$T/other.response"
refuse "the request instead of the response" \
  "^imgtool: $T/request: a signing request, not a response$" "$T/request"
head -c -150 "$R" > "$T/cut"
refuse "a response cut in a line" "^imgtool: $T/cut: truncated \(no end line\)$" "$T/cut"
head -n -3 "$R" > "$T/cut-lines"
refuse "a response cut at a line's end" "^imgtool: $T/cut-lines: truncated \(no end line\)$" "$T/cut-lines"
# one signature changed (its last byte), the end line left as it was
awk 'BEGIN{d=0} /^signature / && !d {c=substr($0,length($0),1); $0=substr($0,1,length($0)-1) (c=="0"?"1":"0"); d=1} {print}' \
  "$R" > "$T/altered"
refuse "an altered response" "^imgtool: $T/altered: altered or truncated: its end line does not match its contents$" \
  "$T/altered"
# the same change with the end line made to match: the signature itself is refused
head -n -1 "$T/altered" > "$T/forged"
printf 'end %s %s\n' "$n" "$(sha256sum < "$T/forged" | cut -d' ' -f1)" >> "$T/forged"
refuse "a signature that does not verify" \
  "^imgtool: $T/forged: the signature of sha256:[0-9a-f]{64} does not verify with the request's certificate \(invalid\)$" \
  "$T/forged"
# a request with one digest fewer, signed: its response lacks a file's signature
awk -v n="$n" '/^digest / && !d {d=1; next} /^end / {next} {print}' "$T/request" > "$T/short.request"
printf 'end %s %s\n' "$((n - 1))" "$(sha256sum < "$T/short.request" | cut -d' ' -f1)" >> "$T/short.request"
(cd "$T/offline" && "$IMGTOOL" sign-request ../short.request --key signing.key -o ../short.response)
refuse "a response to another request of the same image" \
  "^imgtool: $T/short.response: /.*: $T/two.img has no signature for this file \(a response to another request\)$" \
  "$T/short.response"
"$IMGTOOL" keygen --out "$T/stranger" >/dev/null
expect_fail "sign-request with a key that is not the request's certificate's" \
  "^imgtool: $T/stranger/signing.key: key does not match certificate $T/request$" \
  "$IMGTOOL" sign-request "$T/request" --key "$T/stranger/signing.key" -o "$T/refused.response"
check "sign-request refused: nothing written" test ! -e "$T/refused.response"

# ---- phase 3: apply ----------------------------------------------------------
check "apply-signatures" "$IMGTOOL" apply-signatures "$T/two.img" "$R"
check "the stamped image is the one-phase image, byte for byte" cmp "$T/one.img" "$T/two.img"
check "e2fsck accepts the stamped image" e2fsck -fn "$T/two.img"
cp "$T/two.img" "$T/two.orig"
refuse "applying twice" \
  "^imgtool: $T/two.img: not the image $R answers \(another image, or one already stamped\)$" "$R"

expect_evmctl_accepts_image "$T/two.img" "$T/cert.der"

# ---- Format=disk: the root partition is stamped where it sits in the GPT ------
KERNEL=$BUILDDIR/kernel/vmlinuz
[ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
{ cat "$T/app.conf"; printf '[Boot]\nKernel=%s\nCommandLine=console=ttyS0\n' "$KERNEL"; } |
  sed 's/^Size=auto$/Format=disk/' > "$T/disk.conf"
check "one-phase compose, Format=disk" "$IMGTOOL" compose "$T/disk.conf" -o "$T/one.disk" -q
mv "$T/vault" "$T/vault.offline"
check "compose --defer-signatures, Format=disk" \
  "$IMGTOOL" compose "$T/disk.conf" -o "$T/two.disk" --defer-signatures "$T/disk.request" -q
mv "$T/vault.offline" "$T/vault"
(cd "$T/offline" && cp ../disk.request . && "$IMGTOOL" sign-request disk.request --key signing.key -o disk.response)
check "apply-signatures to the disk" "$IMGTOOL" apply-signatures "$T/two.disk" "$T/offline/disk.response"
check "the stamped disk is the one-phase disk, byte for byte" cmp "$T/one.disk" "$T/two.disk"

# ---- Format=disk with [SecureBoot]: the UKI's Authenticode signature too -------
"$IMGTOOL" keygen --secure-boot "$T/sb" --subject "twophase test" >/dev/null
cp "$T/sb/db.crt" "$T/db.crt"
{ cat "$T/disk.conf"; printf '[SecureBoot]\nKey=sb/db.key\nCertificate=db.crt\n'; } > "$T/sb.conf"
check "one-phase compose, [SecureBoot]" "$IMGTOOL" compose "$T/sb.conf" -o "$T/one-sb.disk" -q
mv "$T/vault" "$T/vault.offline"; mv "$T/sb" "$T/sb.offline"
check "compose --defer-signatures, [SecureBoot], neither key there" \
  "$IMGTOOL" compose "$T/sb.conf" -o "$T/two-sb.disk" --defer-signatures "$T/sb.request" -q
mv "$T/vault.offline" "$T/vault"; mv "$T/sb.offline" "$T/sb"
expect_eq "the request has one Authenticode digest" "$(grep -c '^authenticode sha256 ' "$T/sb.request")" 1
cp "$T/sb.request" "$T/sb/db.key" "$T/offline/"
expect_fail "sign-request without the db key" \
  "^imgtool: the request has a UKI to sign: --secure-boot-key is needed$" \
  sh -c "cd '$T/offline' && '$IMGTOOL' sign-request sb.request --key signing.key -o sb.response"
expect_fail "sign-request with the IMA key as the db key" \
  "^imgtool: signing.key: not the key of the request's Secure Boot certificate$" \
  sh -c "cd '$T/offline' && '$IMGTOOL' sign-request sb.request --key signing.key --secure-boot-key signing.key -o sb.response"
check "sign-request --key --secure-boot-key, in the signer's folder" \
  sh -c "cd '$T/offline' && '$IMGTOOL' sign-request sb.request --key signing.key --secure-boot-key db.key -o sb.response"
cp "$T/two-sb.disk" "$T/two-sb.orig"
grep -v '^authenticode-signature ' "$T/offline/sb.response" | head -n -1 > "$T/nouki"
printf 'end %s %s\n' "$(grep -c '^signature ' "$T/nouki")" "$(sha256sum < "$T/nouki" | cut -d' ' -f1)" >> "$T/nouki"
expect_fail "a response without the UKI's signature" \
  "^imgtool: $T/nouki: $T/two-sb.disk has no signature for the UKI \(a response to another request\)$" \
  "$IMGTOOL" apply-signatures "$T/two-sb.disk" "$T/nouki"
check "refused: the disk is untouched" cmp "$T/two-sb.disk" "$T/two-sb.orig"
check "apply-signatures to the Secure Boot disk" "$IMGTOOL" apply-signatures "$T/two-sb.disk" "$T/offline/sb.response"
check "the stamped disk is the one-phase Secure Boot disk, byte for byte" cmp "$T/one-sb.disk" "$T/two-sb.disk"
start=$(sfdisk -d "$T/two-sb.disk" | sed -n 's/.*two-sb.disk1 : start= *\([0-9]*\),.*/\1/p')
MTOOLS_SKIP_CHECK=1 mcopy -n -i "$T/two-sb.disk@@$((start * 512))" ::/EFI/BOOT/BOOTX64.EFI "$T/uki.efi"
check "sbverify: the UKI signed in two phases verifies with the db cert" sbverify --cert "$T/db.crt" "$T/uki.efi"
{ cat "$T/app.conf"; printf '[Verity]\nEnable=yes\n'; } > "$T/verity.conf"
expect_fail "[Verity] cannot be deferred yet" \
  "^imgtool: $T/verity.conf: --defer-signatures: fs-verity and IPE signatures cannot be deferred yet \(\[Verity\]\)$" \
  "$IMGTOOL" compose "$T/verity.conf" -o "$T/verity.img" --defer-signatures "$T/verity.request" -q
check "refused: nothing written" sh -c "! ls '$T'/verity.img* '$T'/verity.request* 2>/dev/null | grep -q ."

# ---- a request signed on a PKCS#11 token (SoftHSM2) -------------------------
M=/usr/lib/softhsm/libsofthsm2.so
export SOFTHSM2_CONF=$T/softhsm2.conf
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$T/tokens" > "$SOFTHSM2_CONF"
umask 077; printf '%s\n' 4711-pin > "$T/pin"; umask 022
export P11_SO_PIN=so-4711 P11_PIN=4711-pin
p11() { pkcs11-tool --module "$M" "$@" >/dev/null 2>&1; }
p11 --init-token --label twophase --so-pin env:P11_SO_PIN
p11 --token-label twophase --login --login-type so --so-pin env:P11_SO_PIN --init-pin --pin env:P11_PIN
openssl pkey -in "$T/vault/signing.key" -outform DER -out "$T/key.der"
openssl pkey -in "$T/vault/signing.key" -pubout -outform DER -out "$T/pub.der"
p11 --token-label twophase --login --pin env:P11_PIN --write-object "$T/key.der" --type privkey --id 01 --label ima
p11 --token-label twophase --login --pin env:P11_PIN --write-object "$T/pub.der" --type pubkey --id 01 --label ima
rm -f "$T/key.der"
"$IMGTOOL" compose "$T/app.conf" -o "$T/tok.img" --defer-signatures "$T/tok.request" -q
check "sign-request --key pkcs11:... (PIN from pin-source=file:)" "$IMGTOOL" sign-request "$T/tok.request" \
  --key "pkcs11:token=twophase;object=ima;type=private?pin-source=file:$T/pin&module-path=$M" -o "$T/tok.response"
check "apply-signatures with the token's response" "$IMGTOOL" apply-signatures "$T/tok.img" "$T/tok.response"
check "e2fsck accepts the token-signed image" e2fsck -fn "$T/tok.img"
expect_eq "verify: the token-signed image checks out" \
  "$("$IMGTOOL" verify "$T/tok.img" --cert "$T/signing.crt" >/dev/null 2>&1; echo $?)" 0

# ---- no PIN or key on a command line ----------------------------------------
opts=$(grep -vE '^[[:space:]]*#' "${BASH_SOURCE[0]}" | grep -oE -- '--(so-)?pin[= ][^ "]*' | sort -u | paste -sd' ')
expect_eq "pkcs11-tool gets PINs only as env:NAME" "$opts" "--pin env:P11_PIN --so-pin env:P11_SO_PIN"
expect_eq "no PIN in a URI (pin-value)" "$(pv='pin-'"value="; grep -c "$pv" "${BASH_SOURCE[0]}" || true)" 0
expect_eq "no key material in this script" "$(b='BEGIN'; grep -c "$b [A-Z0-9 ]*PRIVATE" "${BASH_SOURCE[0]}" || true)" 0

finish
