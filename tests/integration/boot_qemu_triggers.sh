# [Packages] Scriptlets=run, triggers and file triggers: %triggerprein and
# %triggerin on packages of the same set, %filetriggerin and
# %transfiletriggerin with priorities on both sides of %post, "-p /path"
# interpreters, an ldconfig-style %transfiletriggerin in a C-library-like
# package.  Every script logs "package kind $#:$*" (file triggers their
# stdin after it) to /var/log/order.log.  The oracle: `rpm -i --root DIR`
# as root on the same packages; the log (count, order, arguments, stdin)
# and the whole tree must be equal (tests/integration/scriptlet_tree.py
# lists what differs by nature).  A failing trigger is a warning as with
# rpm, a hanging one is killed and named, nothing is left behind.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
KERNEL=$BUILDDIR/kernel/vmlinuz
[ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
command -v busybox >/dev/null || { echo "FAIL: busybox-static missing" >&2; exit 1; }
busybox=$(command -v busybox)
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"

# The trigger oracle's packages: every scriptlet logs "name kind args" to
# /var/log/order.log, file triggers their stdin after it.
L='log() { echo "$*" >> /var/log/order.log; }; files() { while read -r f; do echo "  $f" >> /var/log/order.log; done; }'
build_rpm rpms <<EOF2
Name: mini-os
Version: 1.0
Release: 1
Summary: busybox shell, a C library with an ldconfig-style file trigger
License: GPL-2.0
BuildArch: x86_64
AutoReqProv: no
Provides: libmini.so.1()(64bit)
%description
test
%install
mkdir -p %{buildroot}/bin %{buildroot}/proc %{buildroot}/sys %{buildroot}/dev %{buildroot}/etc %{buildroot}/var/log %{buildroot}/usr/lib %{buildroot}/usr/bin
cp $busybox %{buildroot}/bin/busybox
ln -s busybox %{buildroot}/bin/sh
for a in cat mkdir ln chmod chown rm echo sync touch sleep; do ln -s busybox %{buildroot}/bin/\$a; done
printf 'lib\n' > %{buildroot}/usr/lib/libmini.so.1
printf '#!/bin/sh\nn=\$#; f=\$1; shift\necho "logint \$n:\$*" >> /var/log/order.log\nexec /bin/sh "\$f" "\$@"\n' > %{buildroot}/usr/bin/logint
chmod 755 %{buildroot}/usr/bin/logint
%files
/bin/*
/usr/lib/libmini.so.1
/usr/bin/logint
%dir /etc
%dir /var
%dir /var/log
%dir /usr/lib
%dir /usr/bin
%dir /proc
%dir /sys
%dir /dev
%transfiletriggerin -- /usr/lib /lib
$L
log "mini-os transfiletriggerin(/usr/lib /lib) \$#:\$*"; files
echo "ldconfig ran" > /etc/ld.so.cache
%transfiletriggerin -P 2000 -- /usr/share/app
$L
log "mini-os transfiletriggerin(/usr/share/app) \$#:\$*"; files
EOF2
build_rpm rpms <<EOF2
Name: trig
Version: 1.0
Release: 1
Summary: triggers on other packages
License: GPL-2.0
BuildArch: noarch
AutoReqProv: no
Requires: mini-os
%description
test
%files
%pre
$L
log "trig pre \$#:\$*"
%post
$L
log "trig post \$#:\$*"
%triggerprein -- app
$L
log "trig triggerprein(app) \$#:\$*"
%triggerin -- app
$L
log "trig triggerin(app) \$#:\$*"
%triggerin -- mini-os
$L
log "trig triggerin(mini-os) \$#:\$*"
%triggerin -- app < 1.0
$L
log "trig triggerin(app<1.0) \$#:\$*"
%triggerin -p /usr/bin/logint -- late
$L
log "trig triggerin(late) \$#:\$*"
exit 5
%filetriggerin -- /usr/share/app
$L
log "trig filetriggerin(/usr/share/app) \$#:\$*"; files
%filetriggerin -P 100 -- /usr/share /usr/lib
$L
log "trig filetriggerin-P100(/usr/share /usr/lib) \$#:\$*"; files
%transfiletriggerin -P 500 -- /usr/share
$L
log "trig transfiletriggerin-P500(/usr/share) \$#:\$*"; files
%transfiletriggerin -P 5000 -- /etc
$L
log "trig transfiletriggerin-P5000(/etc) \$#:\$*"; files
EOF2
build_rpm rpms <<EOF2
Name: app
Version: 2.0
Release: 1
Summary: sets off triggers
License: GPL-2.0
BuildArch: noarch
AutoReqProv: no
Requires: trig
%description
test
%install
mkdir -p %{buildroot}/usr/share/app %{buildroot}/usr/lib %{buildroot}/etc
echo data > %{buildroot}/usr/share/app/data
echo lib > %{buildroot}/usr/lib/libapp.so.1
echo conf > %{buildroot}/etc/app.conf
%files
/usr/share/app
/usr/lib/libapp.so.1
/etc/app.conf
%pre
$L
log "app pre \$#:\$*"
%post
$L
log "app post \$#:\$*"
%triggerin -- trig
$L
log "app triggerin(trig) \$#:\$*"
%filetriggerin -P 20000 -- /usr/share/app
$L
log "app filetriggerin-P20000(/usr/share/app) \$#:\$*"; files
%posttrans
$L
log "app posttrans \$#:\$*"
EOF2
build_rpm rpms <<EOF2
Name: late
Version: 3.0
Release: 1
Summary: a -p interpreter, a file trigger with one
License: GPL-2.0
BuildArch: noarch
AutoReqProv: no
Requires: app
%description
test
%install
mkdir -p %{buildroot}/usr/share/late
echo x > %{buildroot}/usr/share/late/x
%files
/usr/share/late
%post -p /usr/bin/logint
$L
log "late post \$#:\$*"
%triggerprein -- app
$L
log "late triggerprein(app) \$#:\$*"
%filetriggerin -p /usr/bin/logint -- /usr/share/late
$L
log "late filetriggerin(/usr/share/late) \$#:\$*"; files
EOF2

check "init-layout" "$IMGTOOL" init-layout os --from-rpms rpms --kernel "$KERNEL"
sed -i 's/^Scriptlets=error/Scriptlets=run\nScriptletTimeout=300/' os/image.conf
check "compose with Scriptlets=run" sh -c '"$0" compose os/image.conf -o os.img --json-report os.json > os.out 2>&1' "$IMGTOOL"
cat os.out
check "a failing %triggerin is a warning, as with rpm" \
  grep -q 'warning: trig-1.0-1.noarch %triggerin (set off by late-3.0-1.noarch): scriptlet failed, exit status 5 (the package stays installed, as with rpm)' os.out

# The oracle: rpm itself, as root, into an empty folder.
mkdir rpmroot
rpm -i --root "$T/rpmroot" rpms/*.rpm > rpm.out 2>&1 || { cat rpm.out; fail "rpm -i --root"; }
check "rpm warns about the same trigger" grep -q 'warning: %triggerin(trig-1.0-1.noarch) scriptlet failed, exit status 5' rpm.out
"$IMGTOOL" extract os.img / -o imgroot > /dev/null
if diff -u rpmroot/var/log/order.log imgroot/var/log/order.log; then
  pass "every scriptlet and trigger ran as rpm ran it: $(grep -vc '^ ' rpmroot/var/log/order.log) runs, same order, arguments and stdin"
else
  fail "the scriptlets' log differs from rpm's (diff above)"
fi
expect_eq "the report counts every run" \
  "$(python3 -c 'import json; print(json.load(open("os.json"))["scriptlets_run"])')" \
  "$(grep -vc '^ \|^logint' rpmroot/var/log/order.log)"
check "the image's tree equals rpm -i --root's" python3 "$SRCDIR/tests/integration/scriptlet_tree.py" rpmroot imgroot
check "the ldconfig-style trigger's file is signed" sh -c 'debugfs -R "ea_list /etc/ld.so.cache" os.img 2>/dev/null | grep -q security.ima'
check "the report names the trigger behind it" \
  grep -q 'created /etc/ld.so.cache (mini-os-1.0-1.x86_64 %transfiletriggerin)' os.out
check "verify --against knows the triggers' files" "$IMGTOOL" verify os.img --against os/image.conf

# A trigger that hangs is killed at the time limit and named.
build_rpm hang <<'EOF2'
Name: hang
Version: 1
Release: 1
Summary: a file trigger that never ends
License: GPL-2.0
BuildArch: noarch
AutoReqProv: no
Requires: mini-os
%description
test
%files
%filetriggerin -- /usr/lib
echo "waiting forever"
while :; do sleep 1; done
EOF2
mkdir -p hang-set && cp rpms/mini-os*.rpm hang/*.rpm hang-set/
sed "s|^Directory=.*|Directory=$T/hang-set|; s|^Install=.*|Install=mini-os hang|; s|^ScriptletTimeout=.*|ScriptletTimeout=90|" \
  os/image.conf > os/hang.conf
expect_fail "a hanging trigger is killed at the time limit and named" \
  'hang-1-1.noarch %filetriggerin: still running after \[Packages\] ScriptletTimeout=90 .*waiting forever' \
  "$IMGTOOL" compose os/hang.conf -o hang.img
check "no image left" test ! -e hang.img
expect_eq "nothing left in TMPDIR" "$(ls -A "$TMPDIR" | grep -v '^rpmbuild' | tr '\n' ' ')" ""
if pgrep -f "[q]emu-system-x86_64.*$TMPDIR" >/dev/null; then fail "a QEMU is left running"; else pass "no QEMU left running"; fi
finish
