# Real distribution keys: a RHEL 9 package signed by Red Hat's IMA key,
# composed from a repository in Mode=package, trusting Red Hat's certificate
# or only its bare public key; keygen --issuer --for-key issues the
# certificate the kernel needs for such a key.  Needs ../shared/fixtures/distro
# (skipped without it).
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"
D=$(dirname "$FIXTURES")/distro
if [ ! -f "$D/readline-8.1-4.el9.i686.rpm" ]; then echo "SKIP: no $D"; exit 77; fi

mkdir -p "$T/repo"
cp "$D/readline-8.1-4.el9.i686.rpm" "$T/repo/"
# What readline needs and no test has: libc and libtinfo, as a stub.
build_sh_stub "$T/repo" libstub 'libc.so.6 libc.so.6(GLIBC_2.0) libc.so.6(GLIBC_2.1) libc.so.6(GLIBC_2.1.3) libc.so.6(GLIBC_2.11) libc.so.6(GLIBC_2.15) libc.so.6(GLIBC_2.2) libc.so.6(GLIBC_2.2.3) libc.so.6(GLIBC_2.28) libc.so.6(GLIBC_2.3) libc.so.6(GLIBC_2.3.4) libc.so.6(GLIBC_2.33) libc.so.6(GLIBC_2.4) libtinfo.so.6 rtld(GNU_HASH)'
createrepo_c --quiet "$T/repo"
openssl x509 -inform DER -in "$D/rhelima.x509" -pubkey -noout > "$T/rhelima.pub"

layout() {  # layout NAME CERT [extra lines]
  local name=$1 cert=$2; shift 2
  { printf '[Image]\nSeed=distro\n[Packages]\nRepository=repo\nInstall=readline\n'
    printf '[Signatures]\nMode=package\nCertificate=%s\nAllowUnsigned=/bin/sh\n' "$cert"; printf '%s\n' "$@"; } > "$T/$name.conf"
}
# The values rpm's header carries for readline's regular files.
rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms} %{FILESIGNATURES}\n]' "$D/readline-8.1-4.el9.i686.rpm" 2>/dev/null \
  | awk '$2 ~ /^-/ {print $1, $3}' | sort > "$T/want.txt"
expect_eq "the package has 6 regular files" "$(wc -l < "$T/want.txt")" 6
sigs_match() {  # the number of files whose security.ima equals the header's value
  local n=0 path want got
  while read -r path want; do
    got=$(debugfs -R "ea_get -x $path security.ima" "$1" 2>/dev/null | sed -n 's/^security.ima ([0-9]*) = //p' | tr -d ' ')
    [ -n "$got" ] && [ "$got" = "${want,,}" ] && n=$((n + 1))
  done < "$T/want.txt"
  echo $n
}

layout cert "$D/rhelima.x509"
check "Mode=package with Red Hat's certificate" "$IMGTOOL" compose "$T/cert.conf" -o "$T/cert.img" --quiet
expect_eq "security.ima is Red Hat's signature from the header on all 6 files" "$(sigs_match "$T/cert.img")" 6
check "verify trusts Red Hat's certificate" "$IMGTOOL" verify "$T/cert.img" --cert "$D/rhelima.x509" \
  --allow-unsigned /bin/sh --allow-unsigned '/etc/keys/*' --allow-unsigned '/var/lib/rpm/*'

layout bare "$T/rhelima.pub"
check "Mode=package with only the bare public key" "$IMGTOOL" compose "$T/bare.conf" -o "$T/bare.img" --quiet
expect_eq "the bare key verifies the same 6 signatures" "$(sigs_match "$T/bare.img")" 6
expect_eq "... and the image is the certificate's but for the cert files compose installs" \
  "$(diff <("$IMGTOOL" manifest "$T/bare.img") <("$IMGTOOL" manifest "$T/cert.img") | grep '^[<>]' | awk '{print $1, $NF}' | tr '\n' ' ')" \
  "> /etc > /etc/keys > /etc/keys/ima > /etc/keys/ima/imgtool-ima.der > /etc/keys/x509_ima.der "
layout wrong "$D/rhelima_centos.x509"
expect_fail "CentOS's key does not verify Red Hat's signatures" "untrusted key d3320449" \
  "$IMGTOOL" compose "$T/wrong.conf" -o "$T/bad.img"
touch "$T/vmlinuz"
layout boot "$T/rhelima.pub" "[Boot]" "Kernel=vmlinuz"
expect_fail "a bootable image cannot use a bare key: compose says how to get a cert" \
  "bare public key.*imgtool keygen --issuer CADIR --for-key" \
  "$IMGTOOL" compose "$T/boot.conf" -o "$T/bad.img"

# The owner's CA issues a certificate for Red Hat's key.
"$IMGTOOL" keygen --ca --out "$T/ca" >/dev/null
expect_eq "keygen --for-key prints Red Hat's keyid" \
  "$("$IMGTOOL" keygen --issuer "$T/ca" --for-key "$T/rhelima.pub" --out "$T/rh")" d3320449
check "no private key is made" test ! -e "$T/rh/signing.key"
check "openssl: the cert chains to the owner's CA" openssl verify -CAfile "$T/ca/ca.crt" "$T/rh/signing.crt"
expect_eq "the cert holds Red Hat's public key" "$(openssl x509 -in "$T/rh/signing.crt" -pubkey -noout)" "$(cat "$T/rhelima.pub")"
expect_eq "evmctl-style keyid: the subjectKeyIdentifier ends d3320449" \
  "$(openssl x509 -in "$T/rh/signing.der" -inform DER -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tail -c 9)" D3320449
layout issued "$T/rh/signing.crt" "[Boot]" "Kernel=vmlinuz"
check "the issued cert verifies Red Hat's signatures and can boot" "$IMGTOOL" compose "$T/issued.conf" -o "$T/issued.img" --quiet
expect_fail "keygen --for-key never overwrites" "already exists" \
  "$IMGTOOL" keygen --issuer "$T/ca" --for-key "$T/rhelima.pub" --out "$T/rh"
expect_fail "keygen --for-key needs --issuer" "needs --issuer" "$IMGTOOL" keygen --for-key "$T/rhelima.pub" --out "$T/x"
check "no image from refused runs" test ! -e "$T/bad.img"
finish
