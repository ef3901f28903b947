# Runs inside the guest (busybox sh, as root) through the runner disk; sent
# by qemu-test/check-verity with SCHEME=ima-v3|builtin|ipe and TAMPERED=
# (the file with one changed data block, BLOCK its block) set in front.
# One line per case: "CHECK ok NAME: detail" / "CHECK FAIL NAME: detail";
# then every regular file's fs-verity digest as the kernel measures it
# (MEASURED lines) for the host to compare with what compose computed.
T=/usr/lib/imgtool-test
ok() { echo "CHECK ok $1: $2"; }
bad() { echo "CHECK FAIL $1: $2"; }

expect_run() {
  name=$1 want=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  case $out in
    *"$want"*) [ $rc -eq 0 ] && { ok "$name" "$want"; return; } ;;
  esac
  bad "$name" "exit $rc, output: $out"
}

# expect_refused NAME DMESG-PATTERN CMD...: CMD fails at open and the kernel
# says why (an IMA audit cause, an fs-verity or IPE message).
expect_refused() {
  name=$1 pat=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  if [ $rc -eq 0 ]; then bad "$name" "ran: $out"; return; fi
  line=$(dmesg | grep -E "$pat" | tail -n1)
  eval "file=\${$#}"
  if [ -z "$line" ]; then
    bad "$name" "refused ($out) but no kernel line matching /$pat/: $(dmesg | grep -F "${file##*/}" | tail -n2)"
    return
  fi
  ok "$name" "refused: $(echo $out | head -c 120) | kernel: $(echo $line | sed 's/.*\] //' | head -c 160)"
}

expect_run static-elf "imgtool-guest: ok (static)" $T/imgtool-guest
expect_run dynamic-elf "imgtool-guest: ok (dynamic)" $T/imgtool-guest-dyn
expect_run signed-script "good: ORIGINAL-CONTENT-RAN" $T/good.sh
expect_run signed-read "signed data" cat $T/data.txt

# One changed data block: the open succeeds (the digest, over the tree, is
# intact) and only the read of that block fails, with EIO.
out=$($T/imgtool-guest read-blocks "$TAMPERED" 2>&1)
case $out in
  "open: ok"*"block $BLOCK: Input/output error"*) ok tampered-block "$TAMPERED: $(echo $out)" ;;
  *) bad tampered-block "$TAMPERED: want open ok, then EIO at block $BLOCK: $(echo $out)" ;;
esac
line=$(dmesg | grep -i 'fs-verity' | grep -i 'corrupt\|mismatch' | tail -n1)
[ -n "$line" ] && ok tampered-block-logged "$(echo $line | sed 's/.*\] //' | head -c 160)" \
  || bad tampered-block-logged "no fs-verity corruption line in dmesg"

case $SCHEME in
  ima-v3)
    expect_refused no-signature "cause=(IMA|verity)-signature-required.*tamper-noxattr" $T/tamper-noxattr.sh
    expect_refused foreign-key "cause=invalid-verity-signature.*tamper-foreign" $T/tamper-foreign.sh
    expect_refused hash-only "cause=.*-signature-required.*tamper-hashonly" $T/tamper-hashonly.sh
    out=$($T/imgtool-guest add-key $T/data.txt 2>&1)
    [ $? -eq 0 ] && ok ima-keyring-locked "$(echo $out)" || bad ima-keyring-locked "$(echo $out)"
    ;;
  builtin|ipe)
    expect_refused no-signature "fs-verity.*(unsigned|require_signatures)" cat $T/tamper-noxattr.sh
    expect_refused foreign-key "fs-verity.*(keyring|signature)" cat $T/tamper-foreign.sh
    out=$(cat /proc/sys/fs/verity/require_signatures 2>&1)
    [ "$out" = 1 ] && ok require-signatures "fs.verity.require_signatures=1" || bad require-signatures "$out"
    out=$( (echo 0 > /proc/sys/fs/verity/require_signatures) 2>&1; cat /proc/sys/fs/verity/require_signatures)
    echo "CHECK note require-signatures: root can still write the sysctl (the kernel has no lock for it): it read $(echo $out | tail -c 2) after writing 0"
    echo 1 > /proc/sys/fs/verity/require_signatures
    out=$($T/imgtool-guest add-key-kernel .fs-verity /etc/keys/x509_ima.der 2>&1)
    [ $? -eq 0 ] && ok fs-verity-keyring-locked "$(echo $out)" || bad fs-verity-keyring-locked "$(echo $out)"
    ;;
esac
# A program with no fs-verity at all (a copy on a tmpfs that allows exec):
# only IPE stops it; under builtin alone it runs (the known gap).
if mount -t tmpfs -o mode=0755 imgtool-t /tmp 2>/dev/null && cp $T/imgtool-guest /tmp/g 2>/dev/null; then
  out=$(/tmp/g 2>&1); rc=$?
  case $SCHEME in
    ipe)
      line=$(dmesg | grep -E 'IPE_ACCESS|ipe' | grep -E 'op=EXECUTE' | grep -E 'action=DENY' | tail -n1)
      if [ $rc -ne 0 ] && [ -n "$line" ]; then ok ipe-unsigned-exec-refused "$(echo $out | head -c 80) | kernel: $(echo $line | sed 's/.*\] //' | head -c 200)"
      else bad ipe-unsigned-exec-refused "exit $rc: $out; $(dmesg | grep -i ipe | tail -n2)"; fi ;;
    builtin)
      echo "CHECK note unsigned-exec: without IPE a program with no fs-verity runs (exit $rc): builtin signatures only cover files that have the verity flag" ;;
  esac
  umount /tmp
fi

if [ "$SCHEME" = ipe ]; then
  out=$(cat /sys/kernel/security/ipe/policies/imgtool/active 2>&1)
  [ "$out" = 1 ] && ok ipe-active "policy imgtool active" || bad ipe-active "$out"
  out=$( (printf 'policy_name=evil policy_version=9.0.0\nDEFAULT action=ALLOW\n' > /sys/kernel/security/ipe/new_policy) 2>&1)
  [ $? -ne 0 ] && ok ipe-unsigned-policy-refused "write refused: $out" || bad ipe-unsigned-policy-refused "an unsigned policy was accepted"
  [ -e /sys/kernel/security/ipe/policies/evil ] && bad ipe-no-evil-policy "policy evil exists"
  out=$( (echo 1 > /sys/kernel/security/ipe/policies/imgtool/delete) 2>&1)
  [ $? -ne 0 ] && ok ipe-active-policy-undeletable "$out" || bad ipe-active-policy-undeletable "deleted"
fi

# The kernel reads every file (each block checked against its tree) and
# measures each one's digest.
n=0 failed=""
for f in $(find / -xdev -type f 2>/dev/null); do
  [ "$f" = "$TAMPERED" ] && continue
  case $f in $T/tamper-*) continue ;; esac
  cat "$f" > /dev/null 2>&1 || failed="$failed $f"
  n=$((n + 1))
done
[ -z "$failed" ] && ok read-every-file "$n files read whole" || bad read-every-file "failed:$failed"
echo IMGTOOL-MEASURE-BEGIN
$T/imgtool-guest measure $(find / -xdev -type f 2>/dev/null)
echo IMGTOOL-MEASURE-END
echo IMGTOOL-IMALOG-BEGIN
base64 < /sys/kernel/security/ima/binary_runtime_measurements
echo IMGTOOL-IMALOG-END
echo "IMGTOOL-PCR10-SHA256=$(cat /sys/class/tpm/tpm0/pcr-sha256/10 2>&1)"
