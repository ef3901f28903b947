# A TPM-signed image boots under IMA enforcing: the demo's packages composed
# with Mode=sign and Key=handle:0x81000010, a P-256 key made inside a swtpm
# (tpm2-tools) that never leaves it; the initramfs trusts only that key's
# certificate; the whole boot check suite passes (qemu-test/run --check:
# signed code runs, tampered and foreign-signed files are refused).  One
# boot, about 15 s under TCG.  (QEMU's own TPM is another swtpm.)
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: boot tests need root" >&2; exit 1; }
for tool in swtpm tpm2_createprimary tpm2_evictcontrol; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (./build.sh deps)" >&2; exit 1; }
done
[ -f "$BUILDDIR/kernel/vmlinuz" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null

demo_without_boot a

# the signing key's swtpm (QEMU's own TPM is another)
start_key_swtpm
check "a P-256 key made inside the swtpm, persisted at 0x81000010" sh -c '
  tpm() { "$@" >/dev/null 2>&1 && tpm2_flushcontext -t >/dev/null 2>&1 && tpm2_flushcontext -s >/dev/null 2>&1; }
  tpm tpm2_createprimary -C o -g sha256 -G ecc -c primary.ctx &&
  tpm tpm2_create -C primary.ctx -G ecc256:ecdsa -u k.pub -r k.priv &&
  tpm tpm2_load -C primary.ctx -u k.pub -r k.priv -c k.ctx &&
  tpm tpm2_evictcontrol -C o -c k.ctx 0x81000010'
openssl pkey -provider tpm2 -provider default -in handle:0x81000010 -pubout -out tpm.pub 2>/dev/null
"$IMGTOOL" keygen --ca --out ca >/dev/null
"$IMGTOOL" keygen --issuer ca --for-key tpm.pub --out tpmcert >/dev/null

# every file signed in the TPM; the initramfs trusts that certificate alone
check "compose Mode=sign, Key=handle:0x81000010" "$IMGTOOL" compose a/demo.conf -o tpm.img --quiet \
  --set Signatures.Mode=sign --set Signatures.Key=handle:0x81000010 \
  --set Signatures.Certificate= --set "Signatures.Certificate=$T/tpmcert/signing.crt"
check "verify: every file signed by the TPM key" "$IMGTOOL" verify tpm.img --cert tpmcert/signing.crt
check "the demo key signs nothing in it" sh -c "! '$IMGTOOL' verify tpm.img --cert a/key/signing.der >/dev/null 2>&1"

expect_boot_check_suite tpm.img "the TPM-signed image"
finish
