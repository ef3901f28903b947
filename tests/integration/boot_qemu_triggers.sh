# [Packages] Scriptlets=run, triggers and file triggers: %triggerprein and
# %triggerin on packages of the same set, %filetriggerin and
# %transfiletriggerin with priorities on both sides of %post, "-p /path"
# interpreters, an ldconfig-style %transfiletriggerin in a C-library-like
# package.  Every script logs "package kind $#:$*" (file triggers their
# stdin after it) to /var/log/order.log.  The oracle: `rpm -i --root DIR`
# as root on the same packages; the log (count, order, arguments, stdin)
# and the whole tree must be equal (tests/integration/scriptlet_tree.py
# lists what differs by nature); 1,500 library paths make the file
# triggers' stdin pass the 128 KiB a command-line argument may hold.  A
# failing trigger is a warning as with rpm, a hanging one is killed and
# named, nothing is left behind.  Lua scriptlets (`-p <lua>`) run in
# imgtool-lua in the guest, with the same oracle; a function the runner
# lacks fails the scriptlet naming it.
source "$SRCDIR/tests/integration/lib.sh"
guest_scriptlet_setup

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
mkdir -p %{buildroot}/usr/lib/many
for i in \$(seq 1 1500); do echo \$i > %{buildroot}/usr/lib/many/lib-with-a-rather-long-name-to-fill-the-path-lists-\$i.so; done
%files
/usr/share/app
/usr/lib/libapp.so.1
/usr/lib/many
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

# Scriptlets in rpm's Lua: the arg table, posix and rpm functions, a file
# trigger reading its paths with rpm.next_file().
build_rpm rpms <<'EOF2'
Name: luapkg
Version: 1.0
Release: 1
Summary: -p <lua> scriptlets and triggers
License: GPL-2.0
BuildArch: noarch
AutoReqProv: no
Requires: mini-os
%description
test
%install
mkdir -p %{buildroot}/usr/share/luapkg
echo lua > %{buildroot}/usr/share/luapkg/file
%files
/usr/share/luapkg
%pre -p <lua>
local f = io.open("/var/log/order.log", "a")
f:write("luapkg pre " .. #arg .. ":" .. table.concat(arg, " ") .. " " .. math.type(arg[2]) .. "\n")
f:close()
%post -p <lua>
local f = io.open("/var/log/order.log", "a")
f:write("luapkg post " .. #arg .. ":" .. table.concat(arg, " ") .. "\n")
f:write("  expand " .. rpm.expand("%{_sysconfdir}/x %%y") .. "\n")
f:write("  vercmp " .. rpm.vercmp("1.0-1", "1.0-2") .. " " .. rpm.vercmp("2:1.0", "1:9.9") .. " " .. rpm.vercmp("1.10", "1.9") .. "\n")
f:write("  access " .. tostring(posix.access("/bin/sh", "x")) .. " " .. tostring(posix.access("/nonexistent")) .. "\n")
f:write("  stat " .. posix.stat("/usr/share/luapkg/file", "type") .. " " .. posix.stat("/usr/share/luapkg/file").mode .. "\n")
f:write("  mkdir " .. tostring(posix.mkdir("/etc/luapkg.d")) .. " " .. tostring(posix.mkdir("/etc/luapkg.d")) .. "\n")
f:write("  chmod " .. tostring(posix.chmod("/etc/luapkg.d", "0700")) .. " " .. posix.stat("/etc/luapkg.d", "mode") .. "\n")
f:write("  chown " .. tostring(posix.chown("/etc/luapkg.d", 12, 34)) .. "\n")
f:write("  symlink " .. tostring(posix.symlink("../usr/share/luapkg/file", "/etc/luapkg.link")) .. " " .. posix.readlink("/etc/luapkg.link") .. "\n")
f:write("  execute " .. tostring(rpm.execute("/bin/touch", "/etc/luapkg.touched")) .. " " .. tostring(rpm.execute("/bin/sh", "-c", "exit 3")) .. "\n")
posix.setenv("LUAVAR", "v")
f:write("  getenv " .. tostring(posix.getenv("LUAVAR")) .. " " .. tostring(posix.getenv("IMGTOOL_UNSET")) .. "\n")
f:close()
posix.unlink("/etc/luapkg.touched")
local g = io.open("/etc/luapkg.touched2", "w"); g:write("made in lua\n"); g:close()
%filetriggerin -p <lua> -- /usr/share/late
local f = io.open("/var/log/order.log", "a")
f:write("luapkg filetriggerin(/usr/share/late) " .. #arg .. ":" .. table.concat(arg, " ") .. "\n")
for p in rpm.next_file do f:write("  " .. p .. "\n") end
f:close()
%transfiletriggerin -p <lua> -- /usr/share/luapkg
local f = io.open("/var/log/order.log", "a")
f:write("luapkg transfiletriggerin(/usr/share/luapkg) " .. #arg .. ":" .. table.concat(arg, " ") .. "\n")
local p = rpm.next_file()
while p do f:write("  " .. p .. "\n"); p = rpm.next_file() end
f:close()
EOF2

compose_scriptlets_run 300
check "a failing %triggerin is a warning, as with rpm" \
  grep -q 'warning: trig-1.0-1.noarch %triggerin (set off by late-3.0-1.noarch): scriptlet failed, exit status 5 (the package stays installed, as with rpm)' os.out

# The oracle: rpm itself, as root, into an empty folder.
rpm_root_oracle
check "rpm warns about the same trigger" grep -q 'warning: %triggerin(trig-1.0-1.noarch) scriptlet failed, exit status 5' rpm.out
if diff -u rpmroot/var/log/order.log imgroot/var/log/order.log; then
  pass "every scriptlet and trigger ran as rpm ran it: $(grep -vc '^ ' rpmroot/var/log/order.log) runs, same order, arguments and stdin"
else
  fail "the scriptlets' log differs from rpm's (diff above)"
fi
check "the file triggers' path lists passed 128 KiB" test "$(stat -c %s imgroot/var/log/order.log)" -gt 131072
expect_eq "the report counts every run" \
  "$(python3 -c 'import json; print(json.load(open("os.json"))["scriptlets_run"])')" \
  "$(grep -vc '^ \|^logint' rpmroot/var/log/order.log)"
check "the image's tree equals rpm -i --root's" python3 "$SRCDIR/tests/integration/scriptlet_tree.py" rpmroot imgroot
check "the ldconfig-style trigger's file is signed" sh -c 'debugfs -R "ea_list /etc/ld.so.cache" os.img 2>/dev/null | grep -q security.ima'
check "the report names the trigger behind it" \
  grep -q 'created /etc/ld.so.cache (mini-os-1.0-1.x86_64 %transfiletriggerin)' os.out
check "verify --against knows the triggers' files" "$IMGTOOL" verify os.img --against os/image.conf

# A Lua function imgtool's runner lacks fails the scriptlet naming it
# (rpm has posix.ttyname; the runner does not): a %pre, so compose stops.
build_rpm luabad <<'EOF2'
Name: luabad
Version: 1
Release: 1
Summary: a Lua function the runner lacks
License: GPL-2.0
BuildArch: noarch
AutoReqProv: no
Requires: mini-os
%description
test
%files
%pre -p <lua>
print("asking for a tty")
posix.ttyname()
EOF2
layout_with_set luabad "mini-os luabad" rpms/mini-os*.rpm luabad/*.rpm
expect_fail "a Lua function the runner lacks fails the scriptlet, named" \
  'luabad-1-1.noarch %pre: scriptlet failed, exit status 1 \(rpm would not install the package\); its last output: asking for a tty\|lua script failed: .*posix.ttyname is not provided by imgtool.s Lua runner' \
  "$IMGTOOL" compose os/luabad.conf -o luabad.img
check "no image left" test ! -e luabad.img

# A trigger that hangs is killed at the time limit and named; on its way
# it finds no network card but the loopback, as every scriptlet in the
# guest (no network, no way to the host).
build_rpm hang <<'EOF2'
Name: hang
Version: 1
Release: 1
Summary: a file trigger that looks for a network, then never ends
License: GPL-2.0
BuildArch: noarch
AutoReqProv: no
Requires: mini-os
%description
test
%files
%filetriggerin -- /usr/lib
echo "interfaces: $(/bin/busybox ls /sys/class/net | /bin/busybox tr '\n' ' ')"
echo "waiting forever"
while :; do sleep 1; done
EOF2
layout_with_set hang "mini-os hang" rpms/mini-os*.rpm hang/*.rpm
sed -i 's/^ScriptletTimeout=.*/ScriptletTimeout=90/' os/hang.conf
expect_fail "a hanging trigger, which found no network, is killed at the time limit and named" \
  'hang-1-1.noarch %filetriggerin: still running after \[Packages\] ScriptletTimeout=90 .*interfaces: lo \|waiting forever' \
  "$IMGTOOL" compose os/hang.conf -o hang.img
check "no image left" test ! -e hang.img
expect_guest_left_nothing
finish
