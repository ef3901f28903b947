# Keys that never leave a TPM: a swtpm holds a P-256 key, made inside it
# (tpm2-tools, persisted at a handle) and a second one as a TSS2 key file
# (tpm2-openssl's genpkey: the key wrapped by the TPM's storage key).
# compose Mode=sign with Key=handle:0x81000010 makes an image whose every
# file evmctl accepts; sign-rpm and a two-phase sign-request take the TSS2
# file.  The refusals name the key.  No key material leaves the TPM: the
# TSS2 file is a wrapped blob and imgtool only reads it into OpenSSL's tpm2
# provider.
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"

for tool in swtpm tpm2_createprimary tpm2_evictcontrol evmctl e2fsck; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (./build.sh deps)" >&2; exit 1; }
done
openssl list -providers -provider tpm2 >/dev/null 2>&1 || [ -f "$(openssl version -m | sed 's/.*"\(.*\)"/\1/')/tpm2.so" ] ||
  { echo "FAIL: OpenSSL's tpm2 provider missing (tpm2-openssl; ./build.sh deps)" >&2; exit 1; }

# ---- a swtpm on a free local port, stopped on exit -----------------------
start_key_swtpm
# no resource manager between the tools and the swtpm: flush what each leaves
tpm() { "$@" >/dev/null 2>&1 && tpm2_flushcontext -t >/dev/null 2>&1 && tpm2_flushcontext -s >/dev/null 2>&1; }

check "a primary key in the swtpm" tpm tpm2_createprimary -C o -g sha256 -G ecc -c "$T/primary.ctx"
check "a P-256 signing key made inside the TPM" \
  tpm tpm2_create -C "$T/primary.ctx" -G ecc256:ecdsa -u "$T/k.pub" -r "$T/k.priv"
check "loaded" tpm tpm2_load -C "$T/primary.ctx" -u "$T/k.pub" -r "$T/k.priv" -c "$T/k.ctx"
check "persisted at handle 0x81000010" tpm tpm2_evictcontrol -C o -c "$T/k.ctx" 0x81000010
check "a second key as a TSS2 key file" \
  openssl genpkey -provider tpm2 -provider default -algorithm EC -pkeyopt group:P-256 -out "$T/key.tss"
check "the TSS2 file is a wrapped TPM key" grep -q "^-----BEGIN TSS2 PRIVATE KEY-----$" "$T/key.tss"

# certificates for both public keys, from a CA (keygen --for-key)
openssl pkey -provider tpm2 -provider default -in handle:0x81000010 -pubout -out "$T/h.pub" 2>/dev/null
openssl pkey -provider tpm2 -provider default -in "$T/key.tss" -pubout -out "$T/f.pub" 2>/dev/null
"$IMGTOOL" keygen --ca --out "$T/ca" >/dev/null
"$IMGTOOL" keygen --issuer "$T/ca" --for-key "$T/h.pub" --out "$T/hcert" >/dev/null
"$IMGTOOL" keygen --issuer "$T/ca" --for-key "$T/f.pub" --out "$T/fcert" >/dev/null

# ---- compose Mode=sign with the key at a handle -------------------------------
make_test_packages "$T/rpms"
cat > "$T/layout.conf" <<L
[Image]
Size=auto
Label=tpmroot
Seed=tpm-test

[Packages]
Directory=rpms
Install=tbase tapp

[Signatures]
Mode=sign
Key=handle:0x81000010
Certificate=hcert/signing.crt
L
check "compose Mode=sign, Key=handle:0x81000010 (swtpm)" "$IMGTOOL" compose "$T/layout.conf" -o "$T/a.img" -q
check "e2fsck accepts the image" e2fsck -fn "$T/a.img"
check "verify: every signature valid with the TPM key's certificate" \
  "$IMGTOOL" verify "$T/a.img" --cert "$T/hcert/signing.crt"
expect_evmctl_accepts_image "$T/a.img" "$T/hcert/signing.der"   # signed in the TPM

# ---- the TSS2 key file: sign-rpm, and the offline half of two-phase signing ----
PKG=$(ls "$T"/rpms/tapp-*.rpm | head -1)
check "sign-rpm --key KEY.tss (a TSS2 key file)" \
  "$IMGTOOL" sign-rpm --key "$T/key.tss" --cert "$T/fcert/signing.crt" -o "$T/signed.rpm" "$PKG"
expect_eq "inspect: every signed file valid with its certificate" \
  "$("$IMGTOOL" inspect --cert "$T/fcert/signing.crt" "$T/signed.rpm" | awk -F'\t' '$2 == "file" {print $7}' | sort -u | cut -d' ' -f1)" \
  "valid"
sed -e 's|^Key=.*|Key=key.tss|' -e 's|^Certificate=.*|Certificate=fcert/signing.crt|' "$T/layout.conf" > "$T/two.conf"
"$IMGTOOL" compose "$T/two.conf" -o "$T/two.img" --defer-signatures "$T/request" -q
check "sign-request --key KEY.tss" "$IMGTOOL" sign-request "$T/request" --key "$T/key.tss" -o "$T/response"
check "apply-signatures" "$IMGTOOL" apply-signatures "$T/two.img" "$T/response"
check "verify: the two-phase TPM-signed image" "$IMGTOOL" verify "$T/two.img" --cert "$T/fcert/signing.crt"

# ---- refusals --------------------------------------------------------------------
expect_fail "a handle with no key" "^imgtool: handle:0x81000099: no such private key in the TPM" \
  "$IMGTOOL" sign-rpm --key handle:0x81000099 --cert "$T/hcert/signing.crt" -o "$T/refused.rpm" "$PKG"
expect_fail "the TPM key with another key's certificate" "^imgtool: handle:0x81000010: key does not match certificate" \
  "$IMGTOOL" sign-rpm --key handle:0x81000010 --cert "$T/fcert/signing.crt" -o "$T/refused.rpm" "$PKG"
kill "$(cat "$T/swtpm.pid")"; sleep 0.3
expect_fail "no TPM" "^imgtool: handle:0x81000010: no TPM through OpenSSL's tpm2 provider" \
  "$IMGTOOL" sign-rpm --key handle:0x81000010 --cert "$T/hcert/signing.crt" -o "$T/refused.rpm" "$PKG"
check "refusals: nothing written" test ! -e "$T/refused.rpm"

finish
