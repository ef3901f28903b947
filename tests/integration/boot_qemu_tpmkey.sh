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

rc=0
"$SRCDIR/layouts/demo/run-demo" "$BUILDDIR" --out a --no-boot > a.out 2> a.err || rc=$?
expect_eq "run-demo --no-boot (packages, key, signed packages)" "$rc" 0
[ "$rc" -eq 0 ] || { tail -20 a.err >&2; finish; exit 1; }

# the signing key's swtpm, on a free local port, stopped on exit
mkdir tpm
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 20000))
  swtpm socket --tpm2 --tpmstate dir="$T/tpm" --server type=tcp,port=$port,bindaddr=127.0.0.1 \
    --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear \
    --pid file="$T/swtpm.pid" --daemon 2>/dev/null && break
done
trap 'kill "$(cat "$T/swtpm.pid" 2>/dev/null)" 2>/dev/null || true; [ -n "${KEEP_T:-}" ] && echo "kept $T" || rm -rf "$T"' EXIT
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port" TPM2OPENSSL_TCTI="swtpm:host=127.0.0.1,port=$port"
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

rc=0
"$SRCDIR/qemu-test/run" tpm.img --check > check.out 2> check.err || rc=$?
cat check.out
expect_eq "boot check suite on the TPM-signed image: exit" "$rc" 0
n_ok=$(grep -c '^ok: ' check.out || true)
expect_eq "boot check suite: every case passed" "$(tail -n1 check.out)" "$n_ok passed, 0 failed"
for case in static-elf dynamic-elf signed-script signed-read content-changed no-signature foreign-key; do
  check "case $case passed" grep -q "^ok: $case:" check.out
done
finish
