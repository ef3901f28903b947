# compose on rpm's own test packages (shared/fixtures/rpm-upstream): hard
# links stay hard links, %caps become security.capability; the badima
# package's signatures (secp256k1, which no kernel verifies) are refused
# with the reason; a real RHEL package's signatures (P-384, fixtures/distro)
# are stamped as they are and verify.
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"
need_fixtures

# What the fixtures require from a real system, as a stub.
mkdir -p "$T/pkgs" "$T/badima"
cp "$FIXTURES"/capstest-1.0-1.noarch.rpm "$FIXTURES"/hlinktest-1.0-1.noarch.rpm "$T/pkgs/"
cp "$FIXTURES"/hello-2.0-1.x86_64-badima.rpm "$T/badima/"
build_sh_stub "$T/pkgs" fixture-deps 'libc.so.6()(64bit)' 'libc.so.6(GLIBC_2.2.5)(64bit)' 'rtld(GNU_HASH)'

cat > "$T/layout.conf" <<L
[Image]
Seed=fixtures
[Packages]
Directory=pkgs
Install=capstest hlinktest fixture-deps
Scriptlets=skip
[Signatures]
Mode=package
Certificate=$FIXTURES/privkey-cert.der
AllowUnsigned=/a/* /foo/* /bin/*
L
check "compose the fixtures" "$IMGTOOL" compose "$T/layout.conf" -o "$T/f.img" --quiet
check "e2fsck -fn is clean" e2fsck -fn "$T/f.img"

ino() { debugfs -R "stat $1" "$T/f.img" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p'; }
links() { debugfs -R "stat $1" "$T/f.img" 2>/dev/null | sed -n 's/^Links: \([0-9]*\).*/\1/p'; }
xattr_hex() { debugfs -R "ea_get -x $1 $2" "$T/f.img" 2>/dev/null | sed -n "s/^$2 ([0-9]*) = //p" | tr -d ' \n'; }

# hlinktest: /foo/hello, hello-bar, hello-foo, hello-world are one inode;
# /foo/aaaa and /foo/zzzz another; /foo/copyllo is separate.
expect_eq "hello* hard links: one inode" "$(for f in hello hello-bar hello-foo hello-world; do ino /foo/$f; done | sort -u | wc -l)" 1
expect_eq "hello* hard links: link count 4" "$(links /foo/hello)" 4
expect_eq "aaaa/zzzz: one inode, 2 links" "$( [ "$(ino /foo/aaaa)" = "$(ino /foo/zzzz)" ] && links /foo/aaaa)" 2
check "copyllo is its own inode" test "$(ino /foo/copyllo)" != "$(ino /foo/hello)"

# capstest: "=" (empty set) is written as rpm's cap_set_file() writes it;
# no caps, no xattr.
expect_eq "emptyCaps1 has an empty capability set" "$(xattr_hex /a/emptyCaps1 security.capability)" "0000000200000000000000000000000000000000"
expect_eq "noCaps has no security.capability" "$(xattr_hex /a/noCaps security.capability)" ""

# badima: verifies against its content, but with a secp256k1 key: the
# image would refuse to run its own files, so compose refuses, saying why.
sed -e 's/^Directory=pkgs$/Directory=pkgs badima/' -e 's/^Install=.*/& hello/' \
  "$T/layout.conf" > "$T/badima.conf"
expect_fail "badima: a secp256k1 signature is refused with the reason" \
  "hello-2.0-1.x86_64-badima.rpm: /usr/[^:]*: package signature by key b8f2bd97, which the kernel cannot verify: EC key on curve secp256k1" \
  "$IMGTOOL" compose "$T/badima.conf" -o "$T/badima.img"
expect_eq "badima: no image left" "$(ls "$T" | grep -c badima.img)" 0

# A RHEL 9 package signed by Red Hat's IMA key (P-384): the stamped value is
# exactly the header's signature, for every regular file, and evmctl
# verifies it against the content with Red Hat's certificate.
DISTRO=$FIXTURES/../distro
if [ -f "$DISTRO/readline-8.1-4.el9.i686.rpm" ]; then
  mkdir -p "$T/rhel" "$T/x"
  cp "$DISTRO/readline-8.1-4.el9.i686.rpm" "$T/rhel/"
  build_sh_stub "$T/rhel" rhel-deps 'libc.so.6' 'libtinfo.so.6' 'rtld(GNU_HASH)' \
    $(for v in 2.0 2.1 2.1.3 2.11 2.15 2.2 2.2.3 2.28 2.3 2.3.4 2.33 2.4; do printf 'libc.so.6(GLIBC_%s) ' $v; done)
  printf '[Packages]\nDirectory=rhel\nInstall=readline rhel-deps\nScriptlets=skip\n[Signatures]\nMode=package\nCertificate=%s\nAllowUnsigned=/bin/*\n' \
    "$DISTRO/rhelima.x509" > "$T/rhel.conf"
  check "compose the RHEL package" "$IMGTOOL" compose "$T/rhel.conf" -o "$T/r.img" --quiet
  bad=0 n=0
  while read -r path sig mode; do
    case "$mode" in 100*) ;; *) continue ;; esac
    n=$((n + 1))
    got=$(debugfs -R "ea_get -x $path security.ima" "$T/r.img" 2>/dev/null | sed -n "s/^security.ima ([0-9]*) = //p" | tr -d ' \n')
    [ "$got" = "$sig" ] || { echo "$path: stamped '$got', header '$sig'"; bad=1; }
    debugfs -R "dump $path $T/x/f" "$T/r.img" 2>/dev/null
    setfattr -n security.ima -v "0x$got" "$T/x/f"
    evmctl ima_verify --key "$DISTRO/rhelima.x509" "$T/x/f" >/dev/null 2>&1 || { echo "evmctl rejects $path"; bad=1; }
    rm -f "$T/x/f"
  done < <(rpm -qp --qf '[%{FILENAMES} %{FILESIGNATURES} %{FILEMODES:octal}\n]' "$T"/rhel/readline-*.rpm 2>/dev/null)
  expect_eq "RHEL: $n signatures stamped verbatim and verified by evmctl" "$bad" 0
  expect_eq "RHEL: 6 regular files" "$n" 6
else
  skipped_part "the RHEL package (no $DISTRO)"
fi

# imatest is signed by Fedora's key, which nobody trusts here.
mkdir -p "$T/ima"
cp "$FIXTURES"/imatest-1.0-1.fc34.noarch.rpm "$T/ima/"
printf '[Packages]\nDirectory=ima\nInstall=test\n[Signatures]\nMode=package\nCertificate=%s\n' \
  "$FIXTURES/privkey-cert.der" > "$T/ima.conf"
expect_fail "imatest: Fedora's signature is from an untrusted key" "untrusted key a5982554" \
  "$IMGTOOL" compose "$T/ima.conf" -o "$T/ima.img"
finish
