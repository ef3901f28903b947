# Logging in to the systemd image (docs/systemd.md, "Logging in"): the
# layout as shipped plus [Users] PasswordHash=root:HASH, HASH made by
# `openssl passwd -6`.  /etc/shadow's root line carries the hash, the rest
# stays locked; booted under QEMU, the serial getty refuses a wrong
# password and lets root in with the right one (login and PAM from the
# image's own Debian packages, the PAM stack from imgtool-systemd-image).
source "$SRCDIR/tests/integration/lib.sh"
guest_setup

check "make-packages (cached by boot_qemu_systemd)" \
  sh -c '"$0"/layouts/systemd/make-packages "$1" > make.out 2>&1 || { cat make.out; exit 1; }' "$SRCDIR" "$BUILDDIR"
hash=$(openssl passwd -6 -salt imgtoollogin 'not in any dictionary 42')
{ sed -e "s|\.\./build/|$BUILDDIR/|" "$SRCDIR/layouts/systemd.conf"; printf '\n[Users]\nPasswordHash=root:%s\n' "$hash"; } > systemd.conf
check "compose with PasswordHash=root:..." sh -c '"$0" compose systemd.conf -o sd.img > compose.out 2>&1 || { cat compose.out; exit 1; }' "$IMGTOOL"
shadow=$(debugfs -R "cat /etc/shadow" sd.img 2>/dev/null)
expect_eq "root's shadow line has the hash" "$(grep '^root:' <<<"$shadow")" "root:$hash:::::::"
expect_eq "every other account stays locked" "$(grep -v '^root:' <<<"$shadow" | cut -d: -f2 | sort -u)" '!*'
check "the PAM stack is there (pam-auth-update's files)" sh -c 'debugfs -R "cat /etc/pam.d/common-auth" sd.img 2>/dev/null | grep -q "pam_unix.so nullok"'
check "verify --against the layout" "$IMGTOOL" verify sd.img --against systemd.conf
python3 "$SRCDIR/tests/integration/serial_login.py" "$IMGTOOL" sd.img root 'wrong password' 'not in any dictionary 42' > login.out 2>&1
rc=$?
cat login.out
check "login at the serial getty: wrong password refused, right one lets root in" test "$rc" -eq 0
expect_guest_left_nothing
finish
