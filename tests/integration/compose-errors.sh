# imgtool compose on bad input: each case is one clear line naming the file
# and the problem, a non-zero exit, and no image (not even a temporary one).
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"

make_test_packages "$T/rpms"
"$IMGTOOL" keygen --out "$T/key" >/dev/null
"$IMGTOOL" keygen --out "$T/other" >/dev/null

layout() {  # layout NAME MODE DIR INSTALL [extra lines]
  cat > "$T/$1.conf" <<L
[Image]
Size=${SIZE:-auto}
Seed=errors
[Packages]
Directory=$3
Install=$4
[Signatures]
Mode=$2
Key=key/signing.key
Certificate=key/signing.crt
${5:-}
L
}

no_image() { [ -z "$(ls "$T"/out* 2>/dev/null)" ]; }
compose_fails() {  # DESC PATTERN LAYOUT
  expect_fail "$1" "$2" "$IMGTOOL" compose "$T/$3.conf" -o "$T/out.img"
  check "$1: no image or temporary file left" no_image
}

# A missing dependency.
mkdir -p "$T/appalone" && cp "$T"/rpms/tapp-*.rpm "$T/appalone/"
layout missing sign appalone tapp
compose_fails "missing dependency is named" "tbase is needed by tapp" missing

# Conflicting files: another package ships /usr/bin/hello with other content.
mkdir -p "$T/conflict" && cp "$T"/rpms/*.rpm "$T/conflict/"
build_rpm "$T/conflict" <<'SPEC'
Name: tclash
Version: 1
Release: 1
Summary: clash
License: MIT
BuildArch: noarch
%description
x
%install
mkdir -p %{buildroot}/usr/bin
printf 'not the same\n' > %{buildroot}/usr/bin/hello
%files
/usr/bin/hello
SPEC
layout conflict sign conflict "tbase tapp tclash"
compose_fails "conflicting files" "/usr/bin/hello conflicts with the file from" conflict

# Payload that does not match the header digest: flip one byte near the end
# of an uncompressed payload (rpm's payload digest or ours must catch it).
mkdir -p "$T/corrupt" && cp "$T"/rpms/tbase-*.rpm "$T/corrupt/"
build_rpm "$T/plain" <<'SPEC'
Name: tplain
Version: 1
Release: 1
Summary: plain payload
License: MIT
BuildArch: noarch
%define _binary_payload w0.ufdio
%description
x
%install
mkdir -p %{buildroot}/usr/share/tplain
printf 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n' > %{buildroot}/usr/share/tplain/data
%files
/usr/share/tplain/data
SPEC
p=$(ls "$T"/plain/tplain-*.rpm)
off=$(grep -abo 'AAAAAAAAAAAAAAAA' "$p" | tail -n1 | cut -d: -f1)
cp "$p" "$T/corrupt/tplain.rpm"
printf 'B' | dd of="$T/corrupt/tplain.rpm" bs=1 seek="$off" conv=notrunc status=none
layout corrupt sign corrupt "tbase tplain"
compose_fails "payload not matching its digest" "tplain.rpm.*(digest|corrupt)" corrupt

# Truncated package.
mkdir -p "$T/trunc" && cp "$T"/rpms/tbase-*.rpm "$T/trunc/"
head -c 2000 "$(ls "$T"/rpms/tapp-*.rpm)" > "$T/trunc/tapp.rpm"
layout trunc sign trunc "tbase tapp"
compose_fails "truncated package" "tapp.rpm" trunc

# Image too small: 6 MB of content into a 4 MiB image.
mkdir -p "$T/big" && cp "$T"/rpms/tbase-*.rpm "$T/big/"
build_rpm "$T/big" <<'SPEC'
Name: tbig
Version: 1
Release: 1
Summary: big
License: MIT
BuildArch: noarch
%description
x
%install
mkdir -p %{buildroot}/usr/share/tbig
head -c 6000000 /dev/zero | tr '\0' 'y' > %{buildroot}/usr/share/tbig/data
%files
/usr/share/tbig/data
SPEC
SIZE=4M layout small sign big "tbase tbig"
compose_fails "image too small" "(full|space|too small)" small

# Package signatures by a key that is not trusted.
mkdir -p "$T/signed"
"$IMGTOOL" sign-rpm --key "$T/other/signing.key" --cert "$T/other/signing.crt" --output-dir "$T/signed" "$T"/rpms/*.rpm >/dev/null
layout untrusted package signed "tbase tapp"
compose_fails "signature from an untrusted key" "untrusted key [0-9a-f]{8}" untrusted

# ...and the same packages compose when that key is trusted, or when the
# path is allowed to stay unsigned.
cat > "$T/trusted.conf" <<L
[Packages]
Directory=signed
Install=tbase tapp
[Signatures]
Mode=package
Certificate=other/signing.crt
L
check "package signatures from a trusted key compose" "$IMGTOOL" compose "$T/trusted.conf" -o "$T/ok.img" --quiet
rm -f "$T/ok.img"
layout allowed package signed "tbase tapp" "AllowUnsigned=/etc/* /usr/* /var/*"
check "AllowUnsigned lets untrusted paths through unsigned" "$IMGTOOL" compose "$T/allowed.conf" -o "$T/ok.img" --quiet
rm -f "$T/ok.img"

# Layout errors.
printf '[Image]\nSize=12Q\n' > "$T/badsize.conf"
compose_fails "malformed Size" "badsize.conf:2: Size=12Q" badsize
printf '[Image]\nFoo=1\n' > "$T/badkey.conf"
compose_fails "unknown key" "badkey.conf:2: unknown key \[Image\] Foo" badkey
printf '[Packages]\nDirectory=rpms\n' > "$T/noinstall.conf"
compose_fails "missing Install=" "Install= is required" noinstall
layout nomatch sign rpms "tbase nosuchpkg"
compose_fails "unknown package name" "Install=nosuchpkg" nomatch
expect_fail "layout file missing" "nothere.conf" "$IMGTOOL" compose "$T/nothere.conf" -o "$T/out.img"

# Scriptlets: an error by default, listed with Scriptlets=skip.
mkdir -p "$T/scr" && cp "$T"/rpms/*.rpm "$T/scr/"
# The scriptlet's interpreter must be in the set even when scriptlets are skipped.
build_sh_stub "$T/scr" tsh
build_rpm "$T/scr" <<'SPEC'
Name: tscript
Version: 1
Release: 1
Summary: has a post scriptlet
License: MIT
AutoReqProv: no
BuildArch: noarch
%description
x
%post
echo hi
%files
SPEC
layout scr sign scr "tbase tapp tsh tscript"
compose_fails "scriptlets are an error by default" "tscript.*%post" scr
layout scrskip sign scr "tbase tapp tsh tscript" "" 
sed -i 's/^\[Packages\]/[Packages]\nScriptlets=skip/' "$T/scrskip.conf"
check "Scriptlets=skip composes" "$IMGTOOL" compose "$T/scrskip.conf" -o "$T/ok.img" --json-report "$T/scr.json"
check "skipped scriptlet listed in the report" grep -q 'tscript.*%post' "$T/scr.json"

# Mode=sign with keys the kernel cannot verify with, or a cert without
# subjectKeyIdentifier: refused before anything is written.
rm -f "$T"/ok.img
for spec in "ec -pkeyopt ec_paramgen_curve:secp256k1:curve secp256k1" \
            "ec -pkeyopt ec_paramgen_curve:secp521r1:curve secp521r1" \
            "rsa:1024:RSA key of 1024 bits" \
            "ec -pkeyopt ec_paramgen_curve:prime256v1 -addext subjectKeyIdentifier=none:certificate without a subjectKeyIdentifier"; do
  rm -rf "$T/weak" && mkdir "$T/weak"
  skid="-addext subjectKeyIdentifier=hash"
  case "$spec" in *subjectKeyIdentifier=none*) skid="" ;; esac
  openssl req -x509 -newkey ${spec%:*} $skid -nodes -keyout "$T/weak/signing.key" \
    -out "$T/weak/signing.crt" -subj /CN=weak -days 30 2>/dev/null
  layout weak sign rpms "tbase tapp"
  sed -i 's|^Key=.*|Key=weak/signing.key|; s|^Certificate=.*|Certificate=weak/signing.crt|' "$T/weak.conf"
  compose_fails "Mode=sign refuses: ${spec##*:}" "weak/signing\.(key|crt): .*${spec##*:}" weak
done

finish
