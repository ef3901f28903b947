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

# ---- initramfs -----------------------------------------------------------------
"$IMGTOOL" initramfs --cert cert.pem --cert rsa-cert.der --root LABEL=imgroot -o a.cpio.gz
check "initramfs is gzip" gzip -t a.cpio.gz
expect_eq "gzip header has no timestamp" "$(od -An -tx1 -j4 -N4 a.cpio.gz | tr -d ' ')" 00000000
zcat a.cpio.gz | cpio -it --quiet > list.txt
expect_eq "archive entries, sorted" "$(tr '\n' ' ' < list.txt)" \
  "dev dev/console etc etc/imgtool etc/imgtool/ima-policy etc/imgtool/init.conf etc/imgtool/keys etc/imgtool/keys/00.der etc/imgtool/keys/01.der init newroot proc sys "
mkdir x && (cd x && zcat ../a.cpio.gz | cpio -id --quiet 2>/dev/null) || true
check "/init is the static init" cmp x/init "$BUILDDIR/init/imgtool-init"
check "/init is a static ELF" sh -c "file x/init | grep -q 'statically linked'"
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
expect_eq "PEM bundle gives two keys" "$(zcat d.cpio.gz | cpio -it --quiet | grep -c 'keys/.*der')" 2
expect_eq "rw, cmdline_test, UUID in init.conf" \
  "$(zcat d.cpio.gz | cpio -i --quiet --to-stdout etc/imgtool/init.conf | grep -v '^#' | tr '\n' ' ')" \
  "root=UUID=0123abcd-0000-1111-2222-333344445555 rw=1 cmdline_test=1 "
check "--policy embedded verbatim" cmp <(zcat d.cpio.gz | cpio -i --quiet --to-stdout etc/imgtool/ima-policy) extra.policy

expect_fail "bad policy refused" 'trailing.policy: line 2: trailing comment' \
  "$IMGTOOL" initramfs --cert cert.pem --root LABEL=r --policy trailing.policy -o bad.cpio.gz
check "nothing written for a bad policy" test ! -e bad.cpio.gz
expect_fail "bad root spec" "root 'nvme0n1'" "$IMGTOOL" initramfs --cert cert.pem --root nvme0n1 -o bad.cpio.gz
expect_fail "label too long" "1 to 16 characters" "$IMGTOOL" initramfs --cert cert.pem --root LABEL=abcdefghijklmnopq -o bad.cpio.gz
echo "not a cert" > junk.pem
expect_fail "junk cert" 'junk.pem: not a DER or PEM' "$IMGTOOL" initramfs --cert junk.pem --root LABEL=r -o bad.cpio.gz
expect_fail "missing cert" 'nope.pem: No such file' "$IMGTOOL" initramfs --cert nope.pem --root LABEL=r -o bad.cpio.gz
expect_fail "no cert" 'at least one --cert' "$IMGTOOL" initramfs --root LABEL=r -o bad.cpio.gz
expect_fail "unwritable output" 'nodir' "$IMGTOOL" initramfs --cert cert.pem --root LABEL=r -o nodir/x.cpio.gz
check "no temp files left" test -z "$(ls | grep '\.tmp\.' || true)"
finish
