# [Users] PasswordHash=USER:HASH: the hash lands in the user's /etc/shadow
# line as given (the same bytes on every compose), verify --against expects
# it, and what is not a strong crypt hash (a clear-text password, DES,
# MD5-crypt, a broken one), a user the image lacks or a user named twice
# is refused with one line naming the layout file, no image written and
# the clear text never echoed.  Oracles: openssl passwd -6 makes the
# hash, debugfs reads the image, and openssl recomputes the hash from it.
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/repo-pkgs.sh"

users_test_setup
HASH=$(openssl passwd -6 -salt imgtooltestsalt 'correct horse')

layout plain
layout pw "PasswordHash=root:$HASH svc:$HASH"
check "compose without PasswordHash=" "$IMGTOOL" compose "$T/plain.conf" -o "$T/plain.img" --quiet
check "compose with PasswordHash=" "$IMGTOOL" compose "$T/pw.conf" -o "$T/pw.img" --quiet
img_cat "$T/plain.img" /etc/shadow > "$T/shadow.plain"
img_cat "$T/pw.img" /etc/shadow > "$T/shadow.pw"
expect_eq "root's and svc's shadow lines carry the hash, the rest of each line as before" \
  "$(diff "$T/shadow.plain" "$T/shadow.pw" | sed -n 's/^> //p' | sort)" \
  "$(grep -E '^(root|svc):' "$T/shadow.plain" | sed "s|^\([a-z]*\):!\*:|\1:$HASH:|" | sort)"
expect_eq "no other line changed" "$(diff "$T/shadow.plain" "$T/shadow.pw" | grep -c '^<')" "2"
expect_eq "the hash in the image checks against the password (openssl recomputes it)" \
  "$(openssl passwd -6 -salt "$(grep '^root:' "$T/shadow.pw" | cut -d: -f2 | cut -d'$' -f3)" 'correct horse')" \
  "$(grep '^root:' "$T/shadow.pw" | cut -d: -f2)"
expect_eq "shadow stays mode 0000" "$(debugfs -R 'stat /etc/shadow' "$T/pw.img" 2>/dev/null | sed -n 's/.*Mode: *\([0-7]*\).*/\1/p')" "0000"
check "verify --against the layout expects the hashes" "$IMGTOOL" verify "$T/pw.img" --against "$T/pw.conf"
rc=0; "$IMGTOOL" verify "$T/plain.img" --against "$T/pw.conf" > "$T/v.out" 2>&1 || rc=$?
check "verify --against flags an image without them" test "$rc" -ne 0
check "... naming /etc/shadow" grep -q '/etc/shadow' "$T/v.out"
check "compose again" "$IMGTOOL" compose "$T/pw.conf" -o "$T/pw2.img" --quiet
check "the same bytes on every compose" cmp "$T/pw.img" "$T/pw2.img"

refused() {  # refused DESC PATTERN ENTRY
  layout bad "PasswordHash=$3"
  expect_fail "$1" "$2" "$IMGTOOL" compose "$T/bad.conf" -o "$T/bad.img"
  check "... no image left" test ! -e "$T/bad.img"
}
refused "a clear-text password is refused, and not echoed" \
  '^imgtool: .*/bad.conf: \[Users\] PasswordHash= for root: not a hash this tool takes \(a clear-text password, DES or MD5-crypt\?\): give a SHA-512-crypt hash, `openssl passwd -6`$' \
  'root:hunter2'
check "... the clear text is nowhere in the message" sh -c '! "$0" compose "$1" -o "$2" 2>&1 | grep -q hunter2' "$IMGTOOL" "$T/bad.conf" "$T/bad.img"
refused "MD5-crypt is refused" 'PasswordHash= for root: not a hash this tool takes' "root:$(openssl passwd -1 -salt abc x)"
refused "a truncated SHA-512-crypt hash is refused" \
  '\[Users\] PasswordHash= for root: not a well-formed SHA-512-crypt hash \(\$6\$\[rounds=N\$\]SALT\$HASH\)$' "root:${HASH%?????}"
refused "a hash with a character crypt never writes is refused" 'not a well-formed SHA-512-crypt hash' "root:${HASH%?}*"
refused "an entry without a user" '\[Users\] PasswordHash=: expected USER:HASH \(entry 1\)$' "$HASH"
refused "a user the image does not have" '\[Users\] PasswordHash= names nobody-here, which is not a user of the image$' "nobody-here:$HASH"
refused "a user named twice" '\[Users\] PasswordHash= names root twice$' "root:$HASH root:$HASH"
check "SHA-256-crypt is taken" sh -c 'printf "PasswordHash=root:%s\n" "$(openssl passwd -5 -salt abcdefgh pw)" >> "$0" && "$1" compose "$0" -o "$2" --quiet' "$T/plain.conf" "$IMGTOOL" "$T/sha256.img"
finish
