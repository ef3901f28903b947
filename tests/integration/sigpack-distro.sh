# Signature packs from a real distribution package: Red Hat's IMA
# signatures of readline (RHEL 9, P-384, tag 274 without 275) taken out of
# the package into a pack, the package stripped of them (sign-rpm --strip),
# and compose stamping the same bytes from the pack as from the header.
# Needs ../shared/fixtures/distro (skipped, exit 77, without it).
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"
D=$(dirname "$FIXTURES")/distro
RL=readline-8.1-4.el9.i686.rpm
if [ ! -f "$D/$RL" ]; then echo "SKIP: no $D"; exit 77; fi

"$IMGTOOL" keygen --type ec-p384 --out "$T/k" >/dev/null
mkdir -p "$T/signed" "$T/stub"
cp "$D/$RL" "$T/signed/"
# What readline needs and no test has: libc and libtinfo, as a stub.
build_sh_stub "$T/stub" libstub 'libc.so.6 libc.so.6(GLIBC_2.0) libc.so.6(GLIBC_2.1) libc.so.6(GLIBC_2.1.3) libc.so.6(GLIBC_2.11) libc.so.6(GLIBC_2.15) libc.so.6(GLIBC_2.2) libc.so.6(GLIBC_2.2.3) libc.so.6(GLIBC_2.28) libc.so.6(GLIBC_2.3) libc.so.6(GLIBC_2.3.4) libc.so.6(GLIBC_2.33) libc.so.6(GLIBC_2.4) libtinfo.so.6 rtld(GNU_HASH)'
cp "$T"/stub/*.rpm "$T/signed/"

check "sigpack takes Red Hat's signatures out of the package" \
  "$IMGTOOL" sigpack --key "$T/k/signing.key" --cert "$T/k/signing.crt" -o "$T/rl.pack" "$D/$RL"
mkdir -p "$T/unsigned"
check "sign-rpm --strip writes the package without them" \
  "$IMGTOOL" sign-rpm --strip --output-dir "$T/unsigned" "$D/$RL"
cp "$T"/stub/*.rpm "$T/unsigned/"
expect_eq "rpm: the stripped package has no file signatures" \
  "$(rpm -qp --qf '[%{FILESIGNATURES}\n]' "$T/unsigned/$RL" 2>/dev/null | grep -c . || true)" 0
expect_eq "rpm: the stripped package keeps its header digest (what the pack names)" \
  "$(rpm -qp --qf '%{SHA256HEADER}' "$T/unsigned/$RL" 2>/dev/null)" \
  "$(rpm -qp --qf '%{SHA256HEADER}' "$D/$RL" 2>/dev/null)"
check "rpm -K: the stripped package's digests and Red Hat's OpenPGP header signature still hold" \
  rpm -K --nosignature "$T/unsigned/$RL"
"$IMGTOOL" inspect "$T/rl.pack" > "$T/inspect.txt"
check "inspect names the package the pack covers and its header digest" \
  grep -q "^## readline-8.1-4.el9.i686 $(rpm -qp --qf '%{SHA256HEADER}' "$D/$RL" 2>/dev/null)" "$T/inspect.txt"
expect_eq "inspect lists the 6 regular files, valid with Red Hat's key" \
  "$("$IMGTOOL" inspect --cert "$D/rhelima.x509" --cert "$T/k/signing.crt" "$T/rl.pack" | grep -c 'valid d3320449$')" 6

layout() {  # layout NAME DIR [extra lines]
  local name=$1 dir=$2; shift 2
  { printf '[Image]\nSeed=distro\n[Packages]\nDirectory=%s\nInstall=readline libstub\n' "$dir"
    printf '[Signatures]\nMode=package\nCertificate=%s\nCertificate=%s\nAllowUnsigned=/bin/sh\n' \
      "$D/rhelima.x509" "$T/k/signing.crt"; printf '%s\n' "$@"; } > "$T/$name.conf"
}
layout header "$T/signed"
layout pack "$T/unsigned" "Packs=$T/rl.pack"
check "compose from Red Hat's headers" "$IMGTOOL" compose "$T/header.conf" -o "$T/header.img" --quiet
check "compose from the stripped package and the pack" "$IMGTOOL" compose "$T/pack.conf" -o "$T/pack.img" --quiet
rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms} %{FILESIGNATURES}\n]' "$D/$RL" 2>/dev/null \
  | awk '$2 ~ /^-/ {print $1, $3}' | sort > "$T/want.txt"
sigs_match() {  # files whose security.ima is the header's value
  local n=0 path want got
  while read -r path want; do
    got=$(debugfs -R "ea_get -x $path security.ima" "$1" 2>/dev/null | sed -n 's/^security.ima ([0-9]*) = //p' | tr -d ' ')
    [ -n "$got" ] && [ "$got" = "${want,,}" ] && n=$((n + 1))
  done < "$T/want.txt"
  echo $n
}
expect_eq "the pack stamps Red Hat's header bytes on all 6 files" "$(sigs_match "$T/pack.img")" 6
expect_eq "... as the header does" "$(sigs_match "$T/header.img")" 6
# Red Hat also signs directories and symlinks (over an all-zero digest);
# a pack holds regular files only, so the rpm databases differ there, and
# nowhere else (sigpack.sh shows byte-identical images for packages
# signed by sign-rpm).
expect_eq "the two images hold the same files, modes and security.ima (rpm database aside)" \
  "$(diff <("$IMGTOOL" manifest "$T/header.img" | grep -v rpmdb.sqlite) <("$IMGTOOL" manifest "$T/pack.img" | grep -v rpmdb.sqlite) && echo same)" same
layout untrusted "$T/unsigned" "Packs=$T/rl.pack"
sed -i "/signing.crt/d" "$T/untrusted.conf"
expect_fail "a pack whose signer is not in Certificate= is refused" \
  "rl.pack: signed by a key that is not trusted" "$IMGTOOL" compose "$T/untrusted.conf" -o "$T/bad.img"
check "no image from the refused run" test ! -e "$T/bad.img"
finish
