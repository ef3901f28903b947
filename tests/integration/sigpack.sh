# Signature packs (docs/sigpack.md): sigpack from unsigned packages and from
# signed ones, sign-rpm --strip, compose with [Signatures] Packs= giving the
# same image as the signed packages in Mode=package, and each refusal named.
# Tampered packs are re-signed with `openssl cms` by a trusted key, so each
# refusal is the one check it names, not the pack's signature.
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"
TAMPER=$SRCDIR/tests/integration/data/sigpack-tamper.py
cd "$T"

"$IMGTOOL" keygen --out k >/dev/null
"$IMGTOOL" keygen --type ec-p384 --out k384 >/dev/null
"$IMGTOOL" keygen --out other >/dev/null
make_test_packages unsigned
build_sh_stub unsigned shstub
mkdir signed stripped
check "sign-rpm signs the test packages" "$IMGTOOL" sign-rpm --key k/signing.key --cert k/signing.crt \
  --output-dir signed unsigned/*.rpm

# ---- sign-rpm --strip ------------------------------------------------------------
check "sign-rpm --strip" "$IMGTOOL" sign-rpm --strip --output-dir stripped signed/*.rpm
for p in unsigned/*.rpm; do
  check "strip gives back the unsigned original byte for byte: $(basename "$p")" cmp "$p" "stripped/$(basename "$p")"
done
expect_fail "--strip takes no key" "--strip takes no --key" \
  "$IMGTOOL" sign-rpm --strip --key k/signing.key --output-dir x signed/*.rpm

# ---- sigpack ------------------------------------------------------------------------
check "sigpack --sign-files from the unsigned packages" \
  "$IMGTOOL" sigpack --key k/signing.key --cert k/signing.crt --sign-files -o made.pack unsigned
check "sigpack from the signed packages (extracting their signatures)" \
  "$IMGTOOL" sigpack --key k/signing.key --cert k/signing.crt -o taken.pack signed/*.rpm
check "both packs are the same bytes (deterministic signatures, canonical order)" cmp made.pack taken.pack
"$IMGTOOL" sigpack --key k/signing.key --cert k/signing.crt --sign-files -o again.pack unsigned/*.rpm
check "the same input gives the same pack" cmp made.pack again.pack
body=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); print(32+struct.unpack(">Q",d[24:32])[0])' made.pack)
head -c "$body" made.pack > made.body
tail -c +$((body + 5)) made.pack > made.p7s
check "openssl cms verifies the pack's signature (detached, over header and body)" \
  openssl cms -verify -binary -inform DER -in made.p7s -content made.body -certfile k/signing.crt \
  -CAfile k/signing.crt -purpose any -out /dev/null
check "the signature has signed attributes (content type, message digest)" \
  sh -c "openssl cms -cmsout -print -inform DER -in made.p7s | grep -q 'messageDigest'"
"$IMGTOOL" inspect --cert k/signing.crt made.pack > inspect.txt
check "inspect: the pack, its signer, its signature valid" grep -q '^# pack made.pack: 3 packages, .* (pack signature: valid)' inspect.txt
check "inspect: the packages it covers, with header digests" \
  grep -qx "## tapp-2.1-3.x86_64 $(rpm -qp --qf '%{SHA256HEADER}' unsigned/tapp-2.1-3.x86_64.rpm 2>/dev/null)" inspect.txt
keyid=$(grep -m1 -o 'valid [0-9a-f]\{8\}$' inspect.txt | cut -d' ' -f2)
check "inspect: /usr/bin/hello's entry verifies" grep -q "^/usr/bin/hello	.*	valid $keyid$" inspect.txt
check "inspect --json" sh -c "'$IMGTOOL' inspect --json made.pack | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d[\"packs\"][0][\"packages\"]) == 3'"
expect_fail "sigpack needs a key" "--key, --cert and -o are required" "$IMGTOOL" sigpack -o x.pack unsigned
expect_fail "sigpack never replaces a pack without --force" "exists" \
  "$IMGTOOL" sigpack --key k/signing.key --cert k/signing.crt -o made.pack unsigned

# ---- compose: packs give the signed packages' image ---------------------------------
layout() {  # layout NAME DIR [extra lines]
  local name=$1 dir=$2; shift 2
  { printf '[Image]\nSeed=sigpack\n[Packages]\nDirectory=%s\nInstall=tbase tapp shstub\n' "$dir"
    printf '[Signatures]\nMode=package\nCertificate=%s/k/signing.crt\n' "$T"; printf '%s\n' "$@"; } > "$name.conf"
}
layout header signed
layout pack unsigned "Packs=made.pack"
check "compose from the signed packages (Mode=package)" "$IMGTOOL" compose header.conf -o header.img --quiet
check "compose from the unsigned packages and the pack" "$IMGTOOL" compose pack.conf -o pack.img --quiet
check "the two images are byte-identical" cmp header.img pack.img
layout glob unsigned 'Packs=*.pack'
rm again.pack taken.pack
check "Packs= takes globs" "$IMGTOOL" compose glob.conf -o glob.img --quiet
check "... and the image is the same" cmp header.img glob.img
check "verify --against a layout with packs" "$IMGTOOL" verify pack.img --against pack.conf \
  --allow-unsigned '/etc/keys/*' --allow-unsigned '/var/lib/rpm/*'
mkdir x
n=0
for f in $("$IMGTOOL" manifest pack.img | awk '$1 == "f" && $NF !~ /^\/(var\/lib\/rpm|etc\/keys)\// {print $NF}'); do
  "$IMGTOOL" extract pack.img "$f" -o "x/$n" --xattrs
  check "evmctl verifies $f" sh -c "evmctl ima_verify --key k/signing.der x/$n >/dev/null 2>&1"
  n=$((n + 1))
done
check "evmctl checked the package files" test "$n" -ge 8
expect_eq "the image's rpm database lists the pack's signatures, as installed from a signed package" \
  "$(rpm -qp --qf '[%{FILESIGNATURES}\n]' signed/tapp-2.1-3.x86_64.rpm 2>/dev/null | md5sum)" \
  "$(mkdir -p db && "$IMGTOOL" extract pack.img /var/lib/rpm/rpmdb.sqlite -o db/rpmdb.sqlite && rpm --dbpath "$T/db" -q --qf '[%{FILESIGNATURES}\n]' tapp 2>/dev/null | md5sum)"

# Headers and packs mixed: the headers signed by another trusted key.
mkdir othersigned
"$IMGTOOL" sign-rpm --key other/signing.key --cert other/signing.crt --output-dir othersigned unsigned/*.rpm
layout mixed othersigned "Packs=made.pack" "Certificate=$T/other/signing.crt"
out=$("$IMGTOOL" compose mixed.conf -o mixed.img 2>&1) || true; echo "$out" | grep warning
check "mixed: compose says the pack's signatures win, and why" \
  grep -q "tapp-2.1-3.x86_64.rpm: .* file signatures in the package header .* differ from .*made.pack's: the pack's are used (Packs= is the layout's explicit statement" <<<"$out"
expect_eq "mixed: security.ima is the pack's" \
  "$("$IMGTOOL" manifest mixed.img | awk '$NF == "/usr/bin/hello" {print $8}')" \
  "$("$IMGTOOL" manifest pack.img | awk '$NF == "/usr/bin/hello" {print $8}')"

# ---- refusals, each named -------------------------------------------------------------
refuse() {  # refuse DESC PATTERN PACK [extra layout lines]
  local d=$1 pat=$2 pack=$3; shift 3
  layout bad unsigned "Packs=$pack" "$@"
  expect_fail "$d" "$pat" "$IMGTOOL" compose bad.conf -o bad.img
}
tamper() { python3 "$TAMPER" made.pack "$1" k/signing.key k/signing.crt "${@:2}"; }
tamper resigned.pack none
layout resigned unsigned "Packs=resigned.pack"
check "a pack re-signed by openssl cms (with a signing time) is accepted" "$IMGTOOL" compose resigned.conf -o resigned.img --quiet
check "... and gives the same image" cmp header.img resigned.img

# another build of the same NEVRA: the same spec built again later has
# another build time, so another header digest
sleep 1
mkdir rebuilt
spec_app | sed 's|^%install|%install\nmkdir -p %{buildroot}/usr/lib/tapp/tmp|' | build_rpm rebuilt
cp unsigned/tbase-*.rpm unsigned/shstub-*.rpm rebuilt/
layout rebuild rebuilt "Packs=made.pack"
expect_fail "a pack for another build of the same NEVRA" \
  "made.pack: covers tapp-2.1-3.x86_64 with header digest [0-9a-f]{16}\.\.\., but .*rebuilt/tapp-2.1-3.x86_64.rpm has [0-9a-f]{16}\.\.\.: a pack for another build" \
  "$IMGTOOL" compose rebuild.conf -o bad.img
tamper swapped.pack swap-sigs /usr/bin/hello /usr/lib/tapp/big
refuse "a swapped signature" "swapped.pack: tapp-2.1-3.x86_64: /usr/(bin/hello|lib/tapp/big): pack signature invalid \(not this file's" swapped.pack
head -c -20 made.pack > truncated.pack
refuse "a truncated pack" "truncated.pack: truncated pack" truncated.pack
head -c 100 made.pack > short.pack
refuse "a pack cut inside its body" "short.pack: truncated pack" short.pack
tamper reordered.pack reorder
refuse "a reordered pack (re-signed)" "reordered.pack: tapp-2.1-3.x86_64: .*: entries out of order or listed twice \(a reordered pack\)" reordered.pack
python3 - made.pack reorder-unsigned.pack <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
i = d.index(b"/usr/bin/capprog"); j = d.index(b"/usr/bin/hello")
d[i:i + 14], d[j:j + 14] = d[j:j + 14], d[i:i + 14]   # two paths' bytes exchanged
open(sys.argv[2], "wb").write(d)
PY
refuse "a pack changed after signing" "reorder-unsigned.pack: the pack's signature does not verify \(pack changed after signing\)" reorder-unsigned.pack
"$IMGTOOL" sigpack --key other/signing.key --cert other/signing.crt --sign-files -o untrusted.pack unsigned
refuse "an untrusted pack signer" "untrusted.pack: signed by a key that is not trusted \(issuer .*; not one of Certificate=\)" untrusted.pack
tamper lacking.pack rename /usr/bin/hello /usr/bin/nosuchfile
refuse "an entry for a path the package lacks" "lacking.pack: tapp-2.1-3.x86_64: /usr/bin/nosuchfile: an entry for a path the package lacks" lacking.pack
tamper digest.pack digest /usr/bin/hello
refuse "an entry whose digest is not the package's" "digest.pack: tapp-2.1-3.x86_64: /usr/bin/hello: the entry's file digest is not the package's" digest.pack
python3 "$TAMPER" made.pack noattr.pack -noattr:k/signing.key k/signing.crt none
refuse "a signature without signed attributes (as an IMA signature of the pack would be)" \
  "noattr.pack: the pack's signature has no signed attributes" noattr.pack
refuse "a Packs= path that matches nothing" "nosuch\*.pack: no signature pack there" 'nosuch*.pack'
cp made.pack copy.pack
refuse "two packs for one package" "both cover" made.pack "Packs=copy.pack"
tamper dropped.pack drop /usr/bin/hello
refuse "a file the pack leaves out is unsigned: refused without AllowUnsigned=" \
  "/usr/bin/hello: package signature missing" dropped.pack
layout allowed unsigned "Packs=dropped.pack" "AllowUnsigned=/usr/bin/hello"
check "... allowed with AllowUnsigned=" "$IMGTOOL" compose allowed.conf -o allowed.img --quiet
expect_eq "... and that file has no security.ima" \
  "$("$IMGTOOL" manifest allowed.img | awk '$NF == "/usr/bin/hello" {print $8}')" "-"
check "no image from any refused run" test ! -e bad.img

# every cut of a pack, and every flipped byte of what its signature covers, is
# refused with one line, never a crash (the PKCS#7's own envelope fields, such
# as its version or algorithm identifiers, are covered by no signature, as in
# any CMS: docs/sigpack.md)
len=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); print(32+struct.unpack(">Q",d[24:32])[0])' made.pack)
cuts=0 flips=0
for ((n = 0; n < len; n += 61)); do   # about 30 places, the framing among them
  head -c "$n" made.pack > cut.pack
  rc=0; err=$("$IMGTOOL" inspect cut.pack 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 2 ] && [ "$(wc -l <<<"$err")" -eq 1 ] || { echo "cut at $n: exit $rc: $err" >&2; cuts=$((cuts + 1)); }
  python3 -c 'import sys; d=bytearray(open(sys.argv[1],"rb").read()); d[int(sys.argv[2])]^=0x40; open(sys.argv[3],"wb").write(d)' made.pack "$n" flip.pack
  rc=0; err=$("$IMGTOOL" inspect --cert k/signing.crt flip.pack 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 2 ] || { echo "flip at $n: exit $rc: $err" >&2; flips=$((flips + 1)); }
done
expect_eq "every cut pack is refused (exit 2, one line)" "$cuts" 0
expect_eq "every pack with a flipped byte in its signed part is refused with --cert (exit 2)" "$flips" 0
layout signmode unsigned "Packs=made.pack" "Mode=sign" "Key=$T/k/signing.key"
expect_fail "Packs= with Mode=sign is refused by the layout" "Packs= needs Mode=package" \
  "$IMGTOOL" compose signmode.conf -o bad.img

# ---- [Verity] Signatures=ima-v3: v3 values over the fs-verity digests in the pack ----
check "sigpack --verity: v3 signatures over each file's fs-verity digest" \
  "$IMGTOOL" sigpack --key k/signing.key --cert k/signing.crt --sign-files --verity -o v3.pack unsigned
"$IMGTOOL" sigpack --key other/signing.key --cert other/signing.crt --sign-files --verity -o v3other.pack unsigned
vlayout() {  # vlayout NAME DIR [extra lines]: verity images need Key= (files compose makes)
  local name=$1; shift
  layout "$name" "$@" "Certificate=$T/other/signing.crt" "Key=$T/k/signing.key" "[Verity]" "Enable=yes" "Signatures=ima-v3"
}
vlayout vheader signed
vlayout vpack unsigned "Packs=v3.pack"
vlayout vother unsigned "Packs=v3other.pack"
check "verity: compose from the signed packages, v3 signed with Key=" "$IMGTOOL" compose vheader.conf -o vheader.img --quiet
check "verity: compose from the unsigned packages and the v3 pack" "$IMGTOOL" compose vpack.conf -o vpack.img --quiet
check "verity: the two images are byte-identical" cmp vheader.img vpack.img
check "verity: compose with a pack whose v3 values are another trusted key's" "$IMGTOOL" compose vother.conf -o vother.img --quiet
other_keyid=$(openssl x509 -in other/signing.crt -noout -ext subjectKeyIdentifier | tail -n1 | tr -d ' :' | tail -c 9 | tr A-F a-f)
expect_eq "verity: security.ima is the pack's v3 value (type 06, version 3, the other key's keyid)" \
  "$(debugfs -R "ea_get -x /usr/bin/hello security.ima" vother.img 2>/dev/null | sed -n 's/^security.ima ([0-9]*) = //p' | tr -d ' ' | cut -c1-14)" \
  "060304$other_keyid"
check "verify checks every fs-verity tree and v3 signature" "$IMGTOOL" verify vother.img --cert k/signing.crt \
  --cert other/signing.crt --allow-unsigned '/var/lib/rpm/*'
expect_fail "verity: a v3 value over another fs-verity digest (another salt) is refused, named" \
  "v3.pack: [a-z]+-[0-9.]+-[0-9]+\.[a-z0-9_]+: /[^:]+: pack v3 signature invalid \(over another fs-verity digest: another Salt=" \
  "$IMGTOOL" compose vpack.conf -o bad.img --set Verity.Salt=00112233

# P-384: the pack holds what the header would
check "sigpack with a P-384 key" "$IMGTOOL" sigpack --key k384/signing.key --cert k384/signing.crt --sign-files -o p384.pack unsigned
mkdir signed384
"$IMGTOOL" sign-rpm --key k384/signing.key --cert k384/signing.crt --output-dir signed384 unsigned/*.rpm
sed "s|$T/k/signing.crt|$T/k384/signing.crt|" header.conf | sed "s|^Directory=signed|Directory=signed384|" > h384.conf
sed "s|$T/k/signing.crt|$T/k384/signing.crt|; s|made.pack|p384.pack|" pack.conf > p384.conf
"$IMGTOOL" compose h384.conf -o h384.img --quiet
"$IMGTOOL" compose p384.conf -o p384.img --quiet
check "P-384: images from headers and from the pack are byte-identical" cmp h384.img p384.img
finish
