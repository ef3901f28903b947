# [Packages] Scriptlets=run: %pre, %post, %posttrans (shell bodies, "-p
# /path" with a body and without) run inside the image under QEMU, never on
# the host; what they change is written and signed by compose.  The oracle:
# `rpm -i --root DIR` as root, the same packages: every path of the image
# equals rpm's tree (type, mode, owner, link target, content) except the
# documented list (docs/scriptlets.md).  Then: two composes give the same
# bytes, `imgtool verify` accepts the signatures, a failing %pre stops
# compose naming package, scriptlet, status and output, a failing %post is
# a warning, a hanging scriptlet is killed at ScriptletTimeout= and named,
# and nothing is left behind.
source "$SRCDIR/tests/integration/lib.sh"
guest_scriptlet_setup

# The base: a static busybox as the image's shell (the scriptlets' /bin/sh).
build_rpm rpms <<EOF2
Name: mini-os
Version: 1.0
Release: 1
Summary: busybox shell
License: GPL-2.0
BuildArch: x86_64
AutoReqProv: no
%description
test
%install
mkdir -p %{buildroot}/bin %{buildroot}/proc %{buildroot}/sys %{buildroot}/dev %{buildroot}/etc %{buildroot}/var/lib
cp $busybox %{buildroot}/bin/busybox
ln -s busybox %{buildroot}/bin/sh
for a in cat mkdir ln chmod chown rm echo sync touch sleep; do ln -s busybox %{buildroot}/bin/\$a; done
printf '/bin/sh\n' > %{buildroot}/etc/shells
printf 'old\n' > %{buildroot}/etc/obsolete
printf 'x\n' > %{buildroot}/etc/mode-me
%files
/bin/*
/etc/shells
/etc/obsolete
/etc/mode-me
%dir /etc
%dir /var
%dir /var/lib
%dir /proc
%dir /sys
%dir /dev
%post -p /bin/sync
EOF2
# Every change a scriptlet can make: create (file, folder, symlink), append,
# remove, chmod, chown; $1 logged as rpm passes it.
build_rpm rpms <<'EOF2'
Name: app
Version: 2.0
Release: 1
Summary: install scriptlets of every kind
License: GPL-2.0
BuildArch: noarch
AutoReqProv: no
Requires: mini-os
%description
test
%install
mkdir -p %{buildroot}/usr/share/app
echo data > %{buildroot}/usr/share/app/data
%files
/usr/share/app
%pre
echo "pre args=$# $1" >> /var/lib/app-log
mkdir -p /var/lib/app
%post
echo "post args=$# $1" >> /var/lib/app-log
echo /bin/app-sh >> /etc/shells
rm -f /etc/obsolete
chmod 600 /etc/mode-me
chown 12:34 /var/lib/app
ln -s ../usr/share/app/data /etc/app-data
echo "post output line"
%posttrans -p /bin/sh
echo "posttrans args=$# $1" >> /var/lib/app-log
EOF2

compose_scriptlets_run 240
expect_eq "the report: scriptlets run" "$(python3 -c 'import json; print(json.load(open("os.json"))["scriptlets_run"])')" 4
expect_eq "the report: each change with its scriptlet" \
  "$(python3 -c 'import json; print("; ".join(json.load(open("os.json"))["scriptlet_changes"]))')" \
  "created /etc/app-data (app-2.0-1.noarch %post); modified /etc/mode-me (app-2.0-1.noarch %post); removed /etc/obsolete (app-2.0-1.noarch %post); modified /etc/shells (app-2.0-1.noarch %post); created /var/lib/app (app-2.0-1.noarch %post); created /var/lib/app-log (app-2.0-1.noarch %posttrans)"

# The oracle: rpm itself, as root, into an empty folder.
rpm_root_oracle
# Paths that differ by nature: tests/integration/scriptlet_tree.py.
check "the image's tree equals rpm -i --root's" python3 "$SRCDIR/tests/integration/scriptlet_tree.py" rpmroot imgroot
expect_eq "scriptlet arguments as rpm passes them" "$(cat imgroot/var/lib/app-log | tr '\n' ';')" \
  "pre args=1 1;post args=1 1;posttrans args=1 1;"
check "a file a scriptlet changed is signed" sh -c 'debugfs -R "ea_list /etc/shells" os.img 2>/dev/null | grep -q security.ima'
check "a file a scriptlet created is signed" sh -c 'debugfs -R "ea_list /var/lib/app-log" os.img 2>/dev/null | grep -q security.ima'
check "imgtool verify: every signature valid" "$IMGTOOL" verify os.img --cert os/keys/signing.der
check "verify --against knows the scriptlets' files" "$IMGTOOL" verify os.img --against os/image.conf
# A file nobody made is still found.
cp os.img planted.img
printf 'planted\n' > planted.txt
debugfs -w -R "write planted.txt /etc/planted" planted.img >/dev/null 2>&1
rc=0; "$IMGTOOL" verify planted.img --against os/image.conf > planted.out 2>&1 || rc=$?
check "verify --against flags a file nobody made" grep -q '/etc/planted' planted.out
check "... and fails" test "$rc" -ne 0

"$IMGTOOL" compose os/image.conf -o again.img -q > /dev/null 2>&1
check "two composes give the same bytes" cmp os.img again.img

# Failures.  A %pre that fails stops compose (rpm would not install it).
build_rpm bad-pre <<'EOF2'
Name: bad-pre
Version: 1
Release: 1
Summary: a failing pre
License: GPL-2.0
BuildArch: noarch
AutoReqProv: no
Requires: mini-os
%description
test
%files
%pre
echo "checking the disk"
echo "no room for bad-pre" >&2
exit 3
EOF2
build_rpm bad-post <<'EOF2'
Name: bad-post
Version: 1
Release: 1
Summary: a failing post
License: GPL-2.0
BuildArch: noarch
AutoReqProv: no
Requires: mini-os
%description
test
%files
%post
echo "post half done" > /var/lib/bad-post
exit 7
EOF2
build_rpm hang <<'EOF2'
Name: hang
Version: 1
Release: 1
Summary: a post that never ends
License: GPL-2.0
BuildArch: noarch
AutoReqProv: no
Requires: mini-os
%description
test
%files
%post
echo "waiting forever"
while :; do sleep 1; done
EOF2
variant() { # variant NAME: the layout with NAME's package added
  layout_with_set "$1" "mini-os app $1" rpms/*.rpm "$1"/*.rpm
}
variant bad-pre
expect_fail "a failing %pre stops compose, named with its status and output" \
  'bad-pre-1-1.noarch %pre: scriptlet failed, exit status 3 \(rpm would not install the package\); its last output: checking the disk\|no room for bad-pre' \
  "$IMGTOOL" compose os/bad-pre.conf -o badpre.img
check "no image left" test ! -e badpre.img
variant bad-post
check "a failing %post: compose goes on" sh -c '"$0" compose os/bad-post.conf -o badpost.img > badpost.out 2>&1' "$IMGTOOL"
check "a failing %post: the warning names it" grep -q 'warning: bad-post-1-1.noarch %post: scriptlet failed, exit status 7 (the package stays installed, as with rpm)' badpost.out
check "a failing %post: what it wrote is kept, as rpm keeps it" sh -c '"$0" extract badpost.img /var/lib/bad-post -o - | grep -q "post half done"' "$IMGTOOL"
variant hang
sed -i 's/^ScriptletTimeout=.*/ScriptletTimeout=90/' os/hang.conf
expect_fail "a hanging scriptlet is killed at the time limit and named" \
  'hang-1-1.noarch %post: still running after \[Packages\] ScriptletTimeout=90 .*waiting forever' \
  "$IMGTOOL" compose os/hang.conf -o hang.img
check "no image left" test ! -e hang.img
expect_guest_left_nothing
finish
