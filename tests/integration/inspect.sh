# imgtool inspect on rpm's own test packages: what each fixture's README
# says it must show, the JSON form, and bad packages.
source "$SRCDIR/tests/integration/lib.sh"
need_fixtures
F=$FIXTURES
CERT=$F/privkey-cert.der

# status of PATH in the text output of inspect ARGS...
status_of() {
  local path=$1; shift
  "$IMGTOOL" inspect "$@" | awk -F'\t' -v p="$path" '$1 == p { print $7 }'
}
# every status (sorted, unique) over the files of type TYPE
statuses() {
  local type=$1; shift
  "$IMGTOOL" inspect "$@" | awk -F'\t' -v t="$type" '!/^#/ && $2 == t { print $7 }' | sort -u | paste -sd,
}

# imatest: Fedora's signing cert is not published: never "valid"
expect_eq "imatest: unknown key, without certs" \
  "$(statuses file "$F/imatest-1.0-1.fc34.noarch.rpm")" "unknown key a5982554"
expect_eq "imatest: unknown key, with an unrelated cert" \
  "$(statuses file --cert "$CERT" "$F/imatest-1.0-1.fc34.noarch.rpm")" "unknown key a5982554"

# badima: verifies with privkey-cert.der, but secp256k1: the kernel cannot;
# directory n/a
expect_eq "badima: every regular file verifies, with a key the kernel cannot use" \
  "$(statuses file --cert "$CERT" "$F/hello-2.0-1.x86_64-badima.rpm")" \
  "unusable key b8f2bd97: EC key on curve secp256k1: the kernel verifies ECDSA only on P-256 (prime256v1) and P-384 (secp384r1)"
expect_eq "badima: directory n/a" \
  "$(status_of /usr/share/doc/hello-2.0 --cert "$CERT" "$F/hello-2.0-1.x86_64-badima.rpm")" "n/a"
expect_eq "badima: 4 regular files" \
  "$("$IMGTOOL" inspect "$F/hello-2.0-1.x86_64-badima.rpm" | awk -F'\t' '$2 == "file"' | wc -l)" 4
expect_eq "badima without the cert: unknown key" \
  "$(statuses file "$F/hello-2.0-1.x86_64-badima.rpm")" "unknown key b8f2bd97"

# "invalid" (a trusted key, a signature that does not match) is in sign-rpm.sh.

# hello, hlinktest, capstest: no signatures
for pkg in hello-2.0-1.x86_64.rpm hlinktest-1.0-1.noarch.rpm capstest-1.0-1.noarch.rpm; do
  expect_eq "$pkg: none" "$(statuses file --cert "$CERT" "$F/$pkg")" "none"
done
expect_eq "hlinktest: /foo is a directory, n/a" \
  "$(status_of /foo "$F/hlinktest-1.0-1.noarch.rpm")" "n/a"

# facts in the text form agree with rpm -qp
got=$("$IMGTOOL" inspect "$F/hello-2.0-1.x86_64.rpm" | awk -F'\t' '!/^#/ { print $1, $3, $4, $5, $6 }')
want=$(rpm -qp --qf '[%{FILENAMES} %{FILEMODES:octal} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILESIZES} %{FILEDIGESTS}\n]' \
  "$F/hello-2.0-1.x86_64.rpm" 2>/dev/null | awk '{ m = substr($2, length($2) - 3); d = ($5 == "" ? "-" : $5); print $1, m, $3, $4, d }')
expect_eq "hello: path, mode, owner, size, digest as rpm -qp" "$got" "$want"

# JSON
json=$("$IMGTOOL" inspect --json --cert "$CERT" "$F/hello-2.0-1.x86_64-badima.rpm" "$F/capstest-1.0-1.noarch.rpm")
expect_eq "json: two packages" "$(jq '.packages | length' <<<"$json")" 2
expect_eq "json: nevra" "$(jq -r '.packages[0].nevra' <<<"$json")" "hello-2.0-1.x86_64"
expect_eq "json: hello verifies with keyid, a key the kernel cannot use" \
  "$(jq -r '.packages[0].files[] | select(.path == "/usr/bin/hello") | "\(.signature) \(.keyid) \(.mode) \(.digest_algo)"' <<<"$json")" \
  "unusable key b8f2bd97 0751 sha256"
expect_eq "json: the reason" \
  "$(jq -r '.packages[0].files[] | select(.path == "/usr/bin/hello") | .reason' <<<"$json")" \
  "EC key on curve secp256k1: the kernel verifies ECDSA only on P-256 (prime256v1) and P-384 (secp384r1)"
expect_eq "json: caps" \
  "$(jq -r '.packages[1].files[] | select(.path == "/a/emptyCaps1") | .caps' <<<"$json")" "="
expect_eq "json: hard links" \
  "$("$IMGTOOL" inspect --json "$F/hlinktest-1.0-1.noarch.rpm" | jq -r '.packages[0].files[] | select(.path == "/foo/hello") | .nlink')" 4

# bad input: one line naming the file and the problem, exit 2
echo "not a package" > "$T/junk.rpm"
expect_fail "not an RPM" "junk.rpm: not an RPM package$" "$IMGTOOL" inspect "$T/junk.rpm"
head -c 8000 "$F/hello-2.0-1.x86_64.rpm" > "$T/trunc.rpm"
expect_fail "truncated" "trunc.rpm: truncated package" "$IMGTOOL" inspect "$T/trunc.rpm"
expect_fail "missing file" "nosuch.rpm: cannot open" "$IMGTOOL" inspect "$T/nosuch.rpm"
rc=0; "$IMGTOOL" inspect "$T/junk.rpm" "$F/hello-2.0-1.x86_64.rpm" >"$T/out" 2>"$T/err" || rc=$?
expect_eq "a bad package among good ones: exit 2" "$rc" 2
expect_eq "... and the good one is still listed" "$(grep -c '^/usr' "$T/out")" 5
expect_eq "... one error line" "$(wc -l < "$T/err")" 1

# a source package: clear error
mkdir -p "$T/src"/{SPECS,SOURCES,BUILD,RPMS,SRPMS}
cat > "$T/src/SPECS/s.spec" <<'EOF'
Name: srctest
Version: 1
Release: 1
Summary: source package
License: MIT
%description
x
%files
EOF
rpmbuild --quiet --define "_topdir $T/src" -bs "$T/src/SPECS/s.spec" >/dev/null 2>&1
srpm=$(ls "$T"/src/SRPMS/*.src.rpm)
expect_fail "source package" "srctest-1-1.src.rpm: is a source package" "$IMGTOOL" inspect "$srpm"
expect_fail "unreadable cert" "nocert.der" "$IMGTOOL" inspect --cert "$T/nocert.der" "$F/hello-2.0-1.x86_64.rpm"

finish
