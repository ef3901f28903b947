# [Verity]: compose writes fs-verity trees and descriptors where ext4 reads
# them.  Oracles: fsverity-utils (`fsverity digest --out-merkle-tree
# --out-descriptor` on the content debugfs reads back, `fsverity sign`),
# e2fsck, openssl, evmctl sign_hash; then verify must name a changed block.
# The kernel side (FS_IOC_MEASURE_VERITY, enforcement) is boot_verity.sh.
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"
check_py=$SRCDIR/tests/integration/data/verity-check.py
tamper=$SRCDIR/qemu-test/verity-tamper.py

make_test_packages "$T/rpms"
# one file big enough for a three-level tree (> 64 MiB), cheap to compress
build_rpm "$T/rpms" <<'SPEC'
Name: tbig
Version: 1
Release: 1
Summary: a file with a three-level Merkle tree
License: MIT
BuildArch: noarch
%description
big
%install
mkdir -p %{buildroot}/usr/share/tbig
yes 'imgtool verity test line' | head -c 70000000 > %{buildroot}/usr/share/tbig/huge
: > %{buildroot}/usr/share/tbig/empty
%files
/usr/share/tbig
SPEC
"$IMGTOOL" keygen --out "$T/key" >/dev/null
"$IMGTOOL" keygen --type rsa-2048 --out "$T/rsa" >/dev/null

layout() { # layout FILE KEYDIR SIGNATURES [SALT]
  cat > "$1" <<L
[Image]
Label=vroot
Seed=verity-test
[Packages]
Directory=rpms
Install=tbase tapp tbig
[Signatures]
Mode=sign
Key=$2/signing.key
Certificate=$2/signing.crt
[Verity]
Enable=yes
Signatures=$3
Salt=${4:-}
L
}
layout "$T/v3.conf" key ima-v3
layout "$T/builtin.conf" rsa builtin
layout "$T/salted.conf" key ima-v3 0011223344556677

check "compose [Verity] Signatures=ima-v3" "$IMGTOOL" compose "$T/v3.conf" -o "$T/v3.img" --quiet
check "e2fsck -fn is clean (ima-v3)" e2fsck -fn "$T/v3.img"
expect_eq "superblock has the verity feature" \
  "$(dumpe2fs -h "$T/v3.img" 2>/dev/null | grep -c 'features:.*verity')" 1
check "trees and descriptors are fsverity-utils' bytes, where ext4 reads them (ima-v3)" \
  python3 "$check_py" "$T/v3.img"
python3 "$check_py" "$T/v3.img" > "$T/v3.digests" 2>/dev/null
expect_eq "every regular file checked, the 70 MB one and the empty one too" \
  "$(grep -c -e ' /usr/share/tbig/huge$' -e ' /usr/share/tbig/empty$' -e ' /usr/bin/hello$' "$T/v3.digests")" 3
check "compose again" "$IMGTOOL" compose "$T/v3.conf" -o "$T/v3b.img" --quiet
check "two builds are bit-identical" cmp "$T/v3.img" "$T/v3b.img"

# IMA v3: security.ima = 06 03 04 keyid len sig, over sha256(06 04 digest).
# With RSA (deterministic) evmctl must make the same signature bytes.
check "compose [Verity] Signatures=builtin, RSA key" "$IMGTOOL" compose "$T/builtin.conf" -o "$T/b.img" --quiet
check "e2fsck -fn is clean (builtin)" e2fsck -fn "$T/b.img"
mkdir "$T/sigs"
check "trees and descriptors with PKCS#7 inside (builtin)" python3 "$check_py" "$T/b.img" "" "$T/sigs"
layout "$T/v3rsa.conf" rsa ima-v3
"$IMGTOOL" compose "$T/v3rsa.conf" -o "$T/v3rsa.img" --quiet
bad=0 n=0
while read -r digest path; do
  id=$( { printf '\006\004'; printf "$(sed 's/../\\x&/g' <<<"$digest")"; } | openssl dgst -sha256 -r | cut -d' ' -f1)
  want=$(echo "$id x" | evmctl sign_hash --key "$T/rsa/signing.key" --keyid-from-cert "$T/rsa/signing.crt" -a sha256 2>/dev/null \
    | awk '{print $3}' | sed 's/^0302/0603/')
  got=$(debugfs -R "ea_get -x \"$path\" security.ima" "$T/v3rsa.img" 2>/dev/null | sed -n 's/^security.ima ([0-9]*) = //p' | tr -d ' \n')
  [ -n "$want" ] && [ "$got" = "$want" ] || { echo "v3 differs: $path"; bad=1; }
  n=$((n + 1))
done < <(python3 "$check_py" "$T/v3rsa.img" 2>/dev/null)
expect_eq "IMA v3 values equal evmctl's signature of the file id hash ($n files, RSA)" "$bad" 0

# builtin: with RSA, `fsverity sign` of the same content gives the same PKCS#7.
mkdir "$T/root"
debugfs -R "rdump / $T/root" "$T/b.img" 2>/dev/null
bad=0 n=0
for sig in "$T"/sigs/*.p7s; do
  path=$(basename "$sig" .p7s | tr @ /)
  fsverity sign "$T/root$path" "$T/want.p7s" --key "$T/rsa/signing.key" --cert "$T/rsa/signing.crt" >/dev/null
  cmp -s "$T/want.p7s" "$sig" || { echo "PKCS#7 differs: $path"; bad=1; }
  n=$((n + 1))
done
expect_eq "every descriptor's PKCS#7 is byte for byte what fsverity sign makes ($n files, RSA)" "$bad" "0"
[ "$n" -gt 5 ] || fail "only $n signatures found"

check "salted trees (Salt=0011223344556677) match fsverity --salt" \
  bash -c "'$IMGTOOL' compose '$T/salted.conf' -o '$T/salted.img' --quiet && python3 '$check_py' '$T/salted.img' 0011223344556677 >/dev/null"

# verify: everything valid, then one changed block is named.
check "verify: all trees and signatures valid (ima-v3)" "$IMGTOOL" verify "$T/v3.img" --against "$T/v3.conf"
check "verify: all trees and PKCS#7 valid (builtin)" "$IMGTOOL" verify "$T/b.img" --against "$T/builtin.conf"
cp "$T/v3.img" "$T/t.img"
"$tamper" "$T/t.img" flip-block /usr/share/tbig/huge 5000
out=$("$IMGTOOL" verify "$T/t.img" --cert "$T/key/signing.crt") && rc=0 || rc=$?
expect_eq "verify exits 1 on a changed block" "$rc" 1
expect_eq "verify names the file and the block" \
  "$(grep -c '^/usr/share/tbig/huge: data block 5000 (offset 20480000) does not match its fs-verity hash$' <<<"$out")" 1
cp "$T/b.img" "$T/t.img"
: > "$T/none"
"$tamper" "$T/t.img" set-sig /usr/bin/hello "$T/none"
out=$("$IMGTOOL" verify "$T/t.img" --against "$T/builtin.conf") || true
expect_eq "verify --against a builtin layout: a descriptor without PKCS#7 is named" \
  "$(grep -c '^/usr/bin/hello: fs-verity signature: none in the descriptor$' <<<"$out")" 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/f.key" -out "$T/f.crt" -days 2 -subj /CN=foreign 2>/dev/null
fsverity sign "$T/root/usr/bin/hello" "$T/f.p7s" --key "$T/f.key" --cert "$T/f.crt" >/dev/null
"$tamper" "$T/t.img" set-sig /usr/bin/hello "$T/f.p7s"
out=$("$IMGTOOL" verify "$T/t.img" --against "$T/builtin.conf") || true
expect_eq "verify: a PKCS#7 by a foreign key is named" \
  "$(grep -c '^/usr/bin/hello: fs-verity signature: PKCS#7 signature does not verify' <<<"$out")" 1

# The IPE policy: signed with the owner's key, the text inside.
layout "$T/ipe.conf" key ipe
check "ipe-policy -o signs" "$IMGTOOL" ipe-policy "$T/ipe.conf" -o "$T/ipe.p7s"
"$IMGTOOL" ipe-policy "$T/ipe.conf" > "$T/ipe.txt"
check "the signed IPE policy verifies with openssl and holds the policy text" bash -c \
  "openssl smime -verify -in '$T/ipe.p7s' -inform DER -binary -noverify -certfile '$T/key/signing.crt' -nointern -out '$T/ipe.out' 2>/dev/null && cmp '$T/ipe.out' '$T/ipe.txt'"
expect_eq "IPE denies execution by default, allows fs-verity-signed files and the initramfs" \
  "$(grep -c -x -e 'DEFAULT op=EXECUTE action=DENY' -e 'op=EXECUTE fsverity_signature=TRUE action=ALLOW' -e 'op=EXECUTE boot_verified=TRUE action=ALLOW' "$T/ipe.txt")" 3

# Layout errors: one line, naming the file.
sed 's/^Mode=sign/Mode=package/; /^Key=/d' "$T/v3.conf" > "$T/nokey.conf"
expect_fail "Enable=yes without Key=" 'nokey.conf: \[Verity\] Enable=yes needs \[Signatures\] Key=' \
  "$IMGTOOL" compose "$T/nokey.conf" -o "$T/x.img"
expect_fail "unknown Signatures=" 'Signatures=pgp: expected ima-v3, builtin or ipe' \
  "$IMGTOOL" compose "$T/v3.conf" -o "$T/x.img" --set Verity.Signatures=pgp
expect_fail "bad Salt=" 'Salt=xyz: expected 1 to 32 bytes in hex' \
  "$IMGTOOL" compose "$T/v3.conf" -o "$T/x.img" --set Verity.Salt=xyz
expect_eq "no image left behind by the failures" "$(ls "$T" | grep -c '^x.img' || true)" 0

# The policy a verity layout enforces.
check "policy: appraise with digest_type=verity appraise_type=sigv3" \
  bash -c "'$IMGTOOL' policy '$T/v3.conf' | grep -qx 'appraise func=BPRM_CHECK digest_type=verity appraise_type=sigv3'"
expect_eq "policy for builtin: no IMA appraisal (fs-verity enforces), verity digests measured" \
  "$("$IMGTOOL" policy "$T/builtin.conf" | grep -c -e '^appraise' -e 'measure func=BPRM_CHECK mask=MAY_EXEC digest_type=verity template=ima-ngv2')" 1
finish
