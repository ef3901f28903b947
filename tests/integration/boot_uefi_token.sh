# A Secure Boot disk whose whole key hierarchy is on a SoftHSM2 token,
# booted once by OVMF (q35, SMM, TCG) with Secure Boot enforcing: PK and KEK
# made on the token (pkcs11-tool --keypairgen, never outside it), their
# certificates and .auth files made by keygen --secure-boot --pk-key/--kek-key
# through it; the db key moved onto the token and its file removed; the
# UKI signed with [SecureBoot] Key=pkcs11:...  The firmware must run the UKI
# (a refused one never reaches Linux: boot_uefi.sh), and the kernel must
# see Secure Boot on and the owner's db cert from UEFI db.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
KERNEL=$BUILDDIR/kernel/vmlinuz
[ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
M=/usr/lib/softhsm/libsofthsm2.so
for tool in pkcs11-tool; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (./build.sh deps)" >&2; exit 1; }
done
[ -f "$M" ] || { echo "FAIL: $M missing (softhsm2)" >&2; exit 1; }
export SOURCE_DATE_EPOCH=1704067200 MTOOLS_SKIP_CHECK=1 IMGTOOL_CACHE=$T/cache

export SOFTHSM2_CONF=$T/softhsm2.conf
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$T/tokens" > "$SOFTHSM2_CONF"
(umask 077; printf '%s\n' 4711-pin > "$T/pin")
export P11_SO_PIN=so-4711 P11_PIN=4711-pin
p11() { pkcs11-tool --module "$M" "$@" >/dev/null 2>&1; }
check "token initialized" p11 --init-token --label sb --so-pin env:P11_SO_PIN
check "user PIN set" p11 --token-label sb --login --login-type so --so-pin env:P11_SO_PIN --init-pin --pin env:P11_PIN
check "PK generated on the token" p11 --token-label sb --login --pin env:P11_PIN --keypairgen --key-type rsa:2048 --id 01 --label PK
check "KEK generated on the token" p11 --token-label sb --login --pin env:P11_PIN --keypairgen --key-type rsa:2048 --id 02 --label KEK
uri() { echo "pkcs11:token=sb;object=$1;type=private?pin-source=file:$T/pin&module-path=$M"; }
check "keygen --secure-boot with PK and KEK on the token" \
  "$IMGTOOL" keygen --secure-boot sb --subject "token boot" --pk-key "$(uri PK)" --kek-key "$(uri KEK)"
check "no PK.key nor KEK.key" test ! -e sb/PK.key -a ! -e sb/KEK.key
openssl pkey -in sb/db.key -outform DER -out db.der
openssl pkey -in sb/db.key -pubout -outform DER -out dbpub.der
check "db key moved onto the token" p11 --token-label sb --login --pin env:P11_PIN \
  --write-object db.der --type privkey --id 03 --label db
p11 --token-label sb --login --pin env:P11_PIN --write-object dbpub.der --type pubkey --id 03 --label db
rm -f db.der sb/db.key

"$SRCDIR/layouts/demo/run-demo" "$BUILDDIR" --out demo --no-boot > demo.out 2>&1 \
  || { cat demo.out >&2; fail "run-demo --no-boot"; finish; exit 1; }
check "compose Format=disk, [SecureBoot] Key=pkcs11:..." \
  "$IMGTOOL" compose "$SRCDIR/layouts/demo.conf" -o token.disk -q \
    --set Packages.Directory= --set "Packages.Directory=$T/demo/signed" \
    --set Signatures.Certificate= --set "Signatures.Certificate=$T/demo/key/signing.der" \
    --set "Signatures.Key=$T/demo/key/signing.key" --set "Boot.Kernel=$KERNEL" \
    --set Image.Format=disk --set "Boot.CommandLine=console=ttyS0 panic=-1" \
    --set "SecureBoot.Key=$(uri db)" --set "SecureBoot.Certificate=$T/sb/db.crt"

rc=0
"$SRCDIR/qemu-test/run" token.disk --uefi --secure-boot="$T/sb" --timeout 300 \
  --exec "echo BOOTED; dmesg | grep -e 'Secure boot enabled' -e 'Loaded X.509 cert' | sed 's/^.*\] /DMESG /'" \
  > guest.raw 2> run.err || rc=$?
tr -d '\r' < guest.raw > guest.txt
expect_eq "OVMF with Secure Boot ran the token-signed UKI and Linux ran the command: exit" "$rc" 0
[ "$rc" -eq 0 ] || tail -20 run.err >&2
check "the guest ran" grep -q '^BOOTED' guest.txt
check "the kernel saw Secure Boot enabled" grep -q '^DMESG .*Secure boot enabled' guest.txt
ski=$(openssl x509 -in sb/db.crt -noout -ext subjectKeyIdentifier | tail -n1 | tr -d ' :' | tr A-F a-f)
check "the owner's db cert came from UEFI db ($ski)" grep -q "^DMESG .*Loaded X.509 cert 'token boot db: $ski'" guest.txt
# no PIN on a command line: pkcs11-tool reads env:NAME, imgtool pin-source=
opts=$(grep -vE '^[[:space:]]*#' "${BASH_SOURCE[0]}" | grep -oE -- '--(so-)?pin[= ][^ "]*' | sort -u | paste -sd' ')
expect_eq "pkcs11-tool gets PINs only as env:NAME" "$opts" "--pin env:P11_PIN --so-pin env:P11_SO_PIN"
expect_eq "no URI carries a PIN" "$(pv='pin-'"value="; grep -c "$pv" "${BASH_SOURCE[0]}" || true)" 0
finish
