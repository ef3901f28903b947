# imgtool initramfs and imgtool policy on the host: archive contents checked
# with cpio/gzip/openssl, determinism, and the refusals.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem \
  -out cert.pem -days 30 -subj "/CN=boot test" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.pem -out rsa-cert.pem -days 30 \
  -subj "/CN=boot test rsa" 2>/dev/null
openssl x509 -in cert.pem -outform DER -out cert.der
openssl x509 -in rsa-cert.pem -outform DER -out rsa-cert.der

# ---- policy ------------------------------------------------------------------
"$IMGTOOL" policy > default.policy
check "default policy validates (policy --file)" "$IMGTOOL" policy --file default.policy
expect_eq "policy --file prints the file" "$("$IMGTOOL" policy --file default.policy | sha256sum)" "$(sha256sum < default.policy)"
for rule in "appraise func=BPRM_CHECK appraise_type=imasig" "appraise func=MMAP_CHECK appraise_type=imasig" \
            "appraise func=FILE_CHECK fowner=0 appraise_type=imasig" "dont_appraise fsmagic=0x9fa0" \
            "measure func=BPRM_CHECK mask=MAY_EXEC"; do
  check "default policy has '$rule'" grep -qx "$rule" default.policy
done
expect_eq "no trailing comments in the default policy" "$(grep -v '^#' default.policy | grep -c '#' || true)" 0
expect_eq "--no-measure drops measure rules" "$("$IMGTOOL" policy --no-measure | grep -c measure || true)" 0
printf 'measure func=BPRM_CHECK\nappraise func=BPRM_CHECK # signed\n' > trailing.policy
expect_fail "trailing comment refused with file and line" 'trailing.policy: line 2: trailing comment' \
  "$IMGTOOL" policy --file trailing.policy
printf 'enforce everything\n' > unknown.policy
expect_fail "unknown action refused" "unknown.policy: line 1: unknown action 'enforce'" "$IMGTOOL" policy --file unknown.policy
echo 'dont_appraise fowner=1000' > extra.rules
"$IMGTOOL" policy --extra extra.rules > extra.policy
check "--extra rules come before the appraise rules" \
  test "$(grep -n 'dont_appraise fowner=1000' extra.policy | cut -d: -f1)" -lt "$(grep -n 'appraise func=BPRM_CHECK' extra.policy | cut -d: -f1)"
printf '[Image]\nLabel=x\n[Packages]\nDirectory=.\nInstall=*\n[Signatures]\nMode=sign\nKey=key.pem\n[Policy]\nMeasure=no\nAppraiseRootReads=no\n' > layout.conf
"$IMGTOOL" policy layout.conf > layout.policy
check "policy LAYOUT: Measure=no, AppraiseRootReads=no" cmp layout.policy <("$IMGTOOL" policy --no-measure --no-root-reads)
printf '[Image]\nLabel=x\n[Packages]\nDirectory=.\nInstall=*\n[Signatures]\nMode=sign\nKey=key.pem\n[Policy]\nFile=trailing.policy\n' > layout2.conf
expect_fail "policy LAYOUT: its File= is validated" 'trailing.policy: line 2: trailing comment' "$IMGTOOL" policy layout2.conf

# ---- initramfs -----------------------------------------------------------------
"$IMGTOOL" initramfs --cert cert.pem --cert rsa-cert.der --root LABEL=imgroot -o a.cpio.gz
check "initramfs is gzip" gzip -t a.cpio.gz
expect_eq "gzip header has no timestamp" "$(od -An -tx1 -j4 -N4 a.cpio.gz | tr -d ' ')" 00000000
zcat a.cpio.gz | cpio -it --quiet > list.txt
expect_eq "archive entries, sorted" "$(tr '\n' ' ' < list.txt)" \
  "dev dev/console etc etc/imgtool etc/imgtool/ima-policy etc/imgtool/init.conf etc/imgtool/keys etc/imgtool/keys/00.der etc/imgtool/keys/01.der etc/keys etc/keys/x509_ima.der init newroot proc sys "
mkdir x && (cd x && zcat ../a.cpio.gz | cpio -id --quiet 2>/dev/null) || true
check "/init is the static init" cmp x/init "$BUILDDIR/init/imgtool-init"
check "the first cert also at /etc/keys/x509_ima.der (CONFIG_IMA_LOAD_X509 kernels)" cmp x/etc/keys/x509_ima.der x/etc/imgtool/keys/00.der
check "/init is a static ELF" sh -c "file x/init | grep -q 'statically linked'"
# the same /init from every build folder: it names neither where the tree
# nor where the build folder was (debug info, __FILE__: init/CMakeLists.txt)
expect_eq "/init names neither the source tree nor the build folder" \
  "$(grep -c -a -F -e "$SRCDIR" -e "$BUILDDIR" x/init || true)" 0
check "PEM cert stored as DER" cmp x/etc/imgtool/keys/00.der cert.der
check "DER cert stored as is" cmp x/etc/imgtool/keys/01.der rsa-cert.der
check "embedded policy = imgtool policy" cmp x/etc/imgtool/ima-policy default.policy
expect_eq "init.conf" "$(grep -v '^#' x/etc/imgtool/init.conf | tr '\n' ' ')" "root=LABEL=imgroot rw=0 cmdline_test=0 "
expect_eq "/dev/console is char 5,1" "$(zcat a.cpio.gz | cpio -itv --quiet 2>/dev/null | awk '$NF == "dev/console" {print $1, $5 $6}')" "crw------- 5,1"
expect_eq "owners are root" "$(zcat a.cpio.gz | cpio -itv --quiet 2>/dev/null | awk '{print $3 $4}' | sort -u)" "rootroot"

sleep 1
openssl x509 -in cert.pem -outform PEM -out cert-copy.pem
"$IMGTOOL" initramfs --cert cert-copy.pem --cert rsa-cert.der --root LABEL=imgroot -o b.cpio.gz
check "same inputs, same bytes" cmp a.cpio.gz b.cpio.gz
"$IMGTOOL" initramfs --cert cert.der --cert rsa-cert.pem --root LABEL=imgroot -o c.cpio.gz
check "PEM or DER input, same bytes" cmp a.cpio.gz c.cpio.gz

cat cert.pem rsa-cert.pem > bundle.pem
"$IMGTOOL" initramfs --cert bundle.pem --root UUID=0123abcd-0000-1111-2222-333344445555 --rw --cmdline-test \
  --policy extra.policy -o d.cpio.gz
expect_eq "PEM bundle gives two keys" "$(zcat d.cpio.gz | cpio -it --quiet | grep -c 'imgtool/keys/.*der')" 2
expect_eq "rw, cmdline_test, UUID in init.conf" \
  "$(zcat d.cpio.gz | cpio -i --quiet --to-stdout etc/imgtool/init.conf | grep -v '^#' | tr '\n' ' ')" \
  "root=UUID=0123abcd-0000-1111-2222-333344445555 rw=1 cmdline_test=1 "
check "--policy embedded verbatim" cmp <(zcat d.cpio.gz | cpio -i --quiet --to-stdout etc/imgtool/ima-policy) extra.policy

expect_fail "bad policy refused" 'trailing.policy: line 2: trailing comment' \
  "$IMGTOOL" initramfs --cert cert.pem --root LABEL=r --policy trailing.policy -o bad.cpio.gz
check "nothing written for a bad policy" test ! -e bad.cpio.gz
printf 'measure func=BPRM_CHECK\n' > measure-only.policy
expect_fail "policy without appraise rule refused" 'measure-only.policy: no appraise rule' \
  "$IMGTOOL" initramfs --cert cert.pem --root LABEL=r --policy measure-only.policy -o bad.cpio.gz
# certs _ima could not use: no subjectKeyIdentifier (no keyid finds the key),
# a curve the kernel cannot verify
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout noskid.key \
  -out noskid.pem -subj /CN=n -days 30 -addext subjectKeyIdentifier=none 2>/dev/null
expect_fail "cert without subjectKeyIdentifier refused" 'noskid.pem: certificate without a subjectKeyIdentifier' \
  "$IMGTOOL" initramfs --cert noskid.pem --root LABEL=r -o bad.cpio.gz
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp256k1 -nodes -keyout k1.key \
  -out k1.pem -subj /CN=k1 -days 30 2>/dev/null
expect_fail "secp256k1 cert refused" 'k1.pem: EC key on curve secp256k1' \
  "$IMGTOOL" initramfs --cert k1.pem --root LABEL=r -o bad.cpio.gz
check "nothing written for refused certs" test ! -e bad.cpio.gz
expect_fail "bad root spec" "root 'nvme0n1'" "$IMGTOOL" initramfs --cert cert.pem --root nvme0n1 -o bad.cpio.gz
expect_fail "label too long" "1 to 16 characters" "$IMGTOOL" initramfs --cert cert.pem --root LABEL=abcdefghijklmnopq -o bad.cpio.gz
echo "not a cert" > junk.pem
expect_fail "junk cert" 'junk.pem: not a DER or PEM' "$IMGTOOL" initramfs --cert junk.pem --root LABEL=r -o bad.cpio.gz
expect_fail "missing cert" 'nope.pem: No such file' "$IMGTOOL" initramfs --cert nope.pem --root LABEL=r -o bad.cpio.gz
expect_fail "no cert" 'at least one --cert' "$IMGTOOL" initramfs --root LABEL=r -o bad.cpio.gz
expect_fail "unwritable output" 'nodir' "$IMGTOOL" initramfs --cert cert.pem --root LABEL=r -o nodir/x.cpio.gz
check "no temp files left" test -z "$(ls | grep '\.tmp\.' || true)"
# ---- kconfig -------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
  -days 30 -subj "/CN=boot test CA" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout imarsa.key -subj "/CN=ima" -out ima.csr 2>/dev/null
openssl x509 -req -in ima.csr -CA ca.pem -CAkey ca.key -days 30 -out ima-by-ca.pem 2>/dev/null
"$IMGTOOL" kconfig --ca ca.pem --ima-cert ima-by-ca.pem > frag.config
for line in CONFIG_SYSTEM_TRUSTED_KEYS=\"certs/imgtool-ca.pem\" CONFIG_INTEGRITY_SIGNATURE=y \
            CONFIG_INTEGRITY_ASYMMETRIC_KEYS=y CONFIG_INTEGRITY_TRUSTED_KEYRING=y CONFIG_IMA=y \
            CONFIG_IMA_APPRAISE=y CONFIG_IMA_LOAD_X509=y CONFIG_IMA_X509_PATH=\"/etc/keys/x509_ima.der\" \
            CONFIG_CRYPTO_ECDSA=y CONFIG_CRYPTO_RSA=y; do
  check "kconfig has $line" grep -qx "$line" frag.config
done
expect_eq "kconfig: only comments and CONFIG_ lines" \
  "$(grep -v -e '^#' -e '^$' -e '^CONFIG_[A-Z0-9_]*=' frag.config | wc -l)" 0
expect_eq "kconfig: EC CA alone needs no RSA" "$("$IMGTOOL" kconfig --ca ca.pem | grep -c '^CONFIG_CRYPTO_RSA' || true)" 0
# Every option must be one Linux 6.12 knows: Debian's config lists it, or it
# is hidden there only because Debian leaves INTEGRITY_TRUSTED_KEYRING off.
cfg=$(ls "$BUILDDIR"/kernel/root/boot/config-* 2>/dev/null | head -n1 || true)
if [ -n "$cfg" ]; then
  unknown=$(grep -oE '^(# )?CONFIG_[A-Z0-9_]+' frag.config | sed 's/^# //' | sort -u | while read -r n; do
    grep -qE "^($n=|# $n is not set)" "$cfg" || case $n in
      CONFIG_IMA_LOAD_X509|CONFIG_IMA_X509_PATH|CONFIG_IMA_APPRAISE_SIGNED_INIT|CONFIG_SYSTEM_TRUSTED_KEYS) ;;
      *) echo "$n" ;; esac; done)
  expect_eq "kconfig options known to the 6.12 kernel config" "$unknown" ""
fi
expect_fail "IMA cert not signed by the CA" 'not signed by the CA' "$IMGTOOL" kconfig --ca cert.pem --ima-cert ima-by-ca.pem
expect_fail "kconfig needs --ca" '--ca CERT is required' "$IMGTOOL" kconfig
# ---- ima-log on a real log (captured from a QEMU boot, with the TPM's PCR 10) ------
LOG=$SRCDIR/tests/integration/boot-ima.log
PCR256=f4736a5d7c4d81463c982bdac1f145999d05b594cf25387f88519389dce550d4
PCR1=B88C2D9A548E2D3EA78A348FFA99863F0C1D931A
check "log replays to the TPM's sha256 PCR 10" "$IMGTOOL" ima-log --quiet --expect $PCR256 "$LOG"
check "log replays to the TPM's sha1 PCR 10" "$IMGTOOL" ima-log --quiet --expect $PCR1 "$LOG"
rc=0; out=$("$IMGTOOL" ima-log --quiet --expect "${PCR256/f4/f5}" "$LOG") || rc=$?
expect_eq "wrong PCR: exit 1" "$rc" 1
check "wrong PCR: says MISMATCH" grep -q MISMATCH <<<"$out"
"$IMGTOOL" ima-log "$LOG" > log.txt
expect_eq "11 entries, no violation" "$(grep '^entries' log.txt)" "entries: 11, violations: 0"
check "busybox entry with the signing keyid" grep -qE '^10 sha256:3d9f2889d6782537624a4e1a10e68a2ddd53e0ee8bac02676f27308f42ec6bf6 33de2bad /bin/busybox$' log.txt
awk '$1 == 10 && $4 ~ /^\// { sub(/^sha256:/, "", $2); print $2 "  " $4 }' log.txt > good.manifest
check "manifest of the measured files matches" "$IMGTOOL" ima-log --quiet --manifest good.manifest "$LOG"
sed '1s/^./0/; 1s/^00/11/' good.manifest | sed '2d' > bad.manifest
rc=0; out=$("$IMGTOOL" ima-log --quiet --manifest bad.manifest "$LOG") || rc=$?
expect_eq "manifest mismatch: exit 1" "$rc" 1
check "manifest mismatch names the file" grep -q "^manifest: $(head -n1 bad.manifest | awk '{print $2}'): measured" <<<"$out"
check "manifest missing path named" grep -q "^manifest: $(sed -n 2p good.manifest | awk '{print $2}'): measured but not in the manifest" <<<"$out"
head -c 1000 "$LOG" > cut.log
expect_fail "truncated log" 'cut.log: entry [0-9]+: truncated' "$IMGTOOL" ima-log cut.log
expect_fail "bad --expect" 'want 64 \(sha256\) or 40' "$IMGTOOL" ima-log --expect abc "$LOG"
finish
