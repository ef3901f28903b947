# Runs inside the guest (busybox sh, as root) through the runner disk; sent
# by qemu-test/check.  One line per case: "CHECK ok NAME: detail" or
# "CHECK FAIL NAME: detail"; then the IMA log (base64) and PCR 10 between
# markers for the host to replay.  Test files: /usr/lib/imgtool-test/
# (qemu-test/README.md).
T=/usr/lib/imgtool-test
ok() { echo "CHECK ok $1: $2"; }
bad() { echo "CHECK FAIL $1: $2"; }

# expect_run NAME WANT CMD...: CMD succeeds and its output contains WANT
expect_run() {
  name=$1 want=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  case $out in
    *"$want"*) [ $rc -eq 0 ] && { ok "$name" "$want"; return; } ;;
  esac
  bad "$name" "exit $rc, output: $out"
}

# expect_denied NAME CAUSE CMD...: CMD fails with Permission denied and dmesg
# has the IMA audit line with cause=CAUSE for the file (last argument).
expect_denied() {
  name=$1 cause=$2; shift 2
  eval "file=\${$#}"
  out=$("$@" 2>&1); rc=$?
  if [ $rc -eq 0 ]; then bad "$name" "ran: $out"; return; fi
  case $out in
    *"Permission denied"*) ;;
    *) bad "$name" "exit $rc but not 'Permission denied': $out"; return ;;
  esac
  line=$(dmesg | grep 'type=1800' | grep "name=\"$file\"" | grep "cause=$cause" | tail -n1)
  if [ -z "$line" ]; then
    bad "$name" "denied, but no IMA audit line with cause=$cause for $file: $(dmesg | grep "name=\"$file\"" | tail -n2)"
    return
  fi
  ok "$name" "Permission denied, audit cause=$cause"
}

expect_run static-elf "imgtool-guest: ok (static)" $T/imgtool-guest
expect_run dynamic-elf "imgtool-guest: ok (dynamic)" $T/imgtool-guest-dyn
expect_run signed-script "good: ORIGINAL-CONTENT-RAN" $T/good.sh
expect_run signed-read "signed data" cat $T/data.txt
expect_run signed-mmap-exec "mapped" $T/imgtool-guest mmap-exec $T/good.sh
expect_denied content-changed invalid-signature $T/tamper-content.sh
expect_denied no-signature IMA-signature-required $T/tamper-noxattr.sh
expect_denied foreign-key invalid-signature $T/tamper-foreign.sh
expect_denied hash-only IMA-signature-required $T/tamper-hashonly.sh
expect_denied read-tampered invalid-signature cat $T/tamper-content.sh
# foreign.der: unsigned, owned by uid 1000 (put there by check): reading it is
# allowed, mapping it executable is not.
expect_run unsigned-user-file-read "30" sh -c "head -c 1 $T/foreign.der | od -An -tx1"
expect_denied mmap-exec-unsigned IMA-signature-required $T/imgtool-guest mmap-exec $T/foreign.der
out=$($T/imgtool-guest add-key $T/foreign.der 2>&1)
if [ $? -eq 0 ]; then ok keyring-locked "$(echo $out)"; else bad keyring-locked "$(echo $out)"; fi
out=$( (echo "measure func=BPRM_CHECK" > /sys/kernel/security/ima/policy) 2>&1)
if [ $? -ne 0 ]; then ok policy-locked "$out"; else bad policy-locked "the policy file took a new rule"; fi

echo IMGTOOL-IMALOG-BEGIN
base64 < /sys/kernel/security/ima/binary_runtime_measurements
echo IMGTOOL-IMALOG-END
echo "IMGTOOL-PCR10-SHA256=$(cat /sys/class/tpm/tpm0/pcr-sha256/10 2>&1)"
echo "IMGTOOL-PCR10-SHA1=$(cat /sys/class/tpm/tpm0/pcr-sha1/10 2>&1)"
# The boot chain's PCRs, for imgtool pcrs to be checked against (info only).
for i in 4 5 7 11; do echo "IMGTOOL-PCR$i-SHA256=$(cat /sys/class/tpm/tpm0/pcr-sha256/$i 2>&1)"; done
