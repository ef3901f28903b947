# When the init is there but cannot run, compose warns before the boot and
# the initramfs names the real cause, not "no such program": a dynamic
# program whose ELF interpreter (PT_INTERP) is not in the image, a script
# whose #! interpreter is not, a program IMA appraisal refuses (its
# security.ima removed offline).  The merged-/usr link that leads to an
# interpreter counts as having it.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
KERNEL=$BUILDDIR/kernel/vmlinuz
[ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
command -v busybox >/dev/null || { echo "FAIL: busybox-static missing" >&2; exit 1; }
busybox=$(command -v busybox)
# a dynamic program of the host and its interpreter, as readelf names it
dyn=/usr/bin/true
interp=$(readelf -lW "$dyn" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
case "$interp" in /lib64/*) ;; *) echo "FAIL: $dyn's interpreter is '$interp', want /lib64/..." >&2; exit 1 ;; esac

build_rpm rpms <<EOF2
Name: init-causes
Version: 1.0
Release: 1
Summary: inits that exist but cannot run
License: GPL-2.0
BuildArch: x86_64
AutoReqProv: no
%description
test
%install
mkdir -p %{buildroot}/bin %{buildroot}/sbin %{buildroot}/proc %{buildroot}/sys %{buildroot}/dev
cp $busybox %{buildroot}/bin/busybox
ln -s busybox %{buildroot}/bin/sh
cp $dyn %{buildroot}/sbin/dyn-init
printf '#!/usr/bin/nothere\n' > %{buildroot}/sbin/script-init
cp $busybox %{buildroot}/sbin/static-init
chmod 755 %{buildroot}/sbin/*
%files
/bin/*
/sbin/*
%dir /proc
%dir /sys
%dir /dev
EOF2
# The interpreter reached through /lib64 -> usr/lib64, as merged /usr has it.
build_rpm rpms-linked <<EOF2
Name: merged-usr
Version: 1.0
Release: 1
Summary: the dynamic loader behind a merged-/usr link
License: GPL-2.0
BuildArch: x86_64
AutoReqProv: no
%description
test
%install
mkdir -p %{buildroot}/usr/lib64
cp $(readlink -f "$interp") %{buildroot}/usr/lib64/$(basename "$interp")
ln -s usr/lib64 %{buildroot}/lib64
%files
/lib64
/usr/lib64/*
EOF2

check "init-layout" "$IMGTOOL" init-layout os --from-rpms rpms --kernel "$KERNEL"
compose() { local img=$1; shift; "$IMGTOOL" compose os/image.conf -o "$img" "$@" > "$img.out" 2>&1; }

check "compose with the dynamic init" compose dyn.img --set Boot.Init=/sbin/dyn-init
check "compose warns: the ELF interpreter is not in the image" \
  grep -q "warning: \[Boot\] Init=/sbin/dyn-init: the image has no $interp (its ELF interpreter)" dyn.img.out
check "compose with the script init" compose script.img --set Boot.Init=/sbin/script-init
check "compose warns: the #! interpreter is not in the image" \
  grep -q "warning: \[Boot\] Init=/sbin/script-init: the image has no /usr/bin/nothere (its #! interpreter)" script.img.out
check "compose with the static init" compose static.img --set Boot.Init=/sbin/static-init
check "a static init: no interpreter warning" sh -c '! grep -q "interpreter" static.img.out'
# the second package's folder joins the first
cp rpms-linked/*.rpm rpms/
sed -i 's/^Install=.*/&\nInstall=merged-usr/' os/image.conf
check "compose with the interpreter behind /lib64 -> usr/lib64" compose linked.img --set Boot.Init=/sbin/dyn-init
check "no warning when the link leads to the interpreter" sh -c '! grep -q "interpreter" linked.img.out'

boot() { local rc=0; "$SRCDIR/qemu-test/run" "$1" --timeout 120 </dev/null >"$1.console" 2>"$1.err" || rc=$?; echo "$rc"; }
expect_eq "dynamic init: the harness exits 1" "$(boot dyn.img)" 1
check "dynamic init: FATAL names the missing ELF interpreter" \
  grep -q "FATAL: cannot run /sbin/dyn-init: No such file or directory (the program is there, but its ELF interpreter $interp is not in the image" dyn.img.err
expect_eq "script init: the harness exits 1" "$(boot script.img)" 1
check "script init: FATAL names the missing #! interpreter" \
  grep -q "FATAL: cannot run /sbin/script-init: No such file or directory (the program is there, but its #! interpreter /usr/bin/nothere is not in the image" script.img.err
# IMA appraisal: the static init's signature removed offline.
debugfs -w -R "ea_rm /sbin/static-init security.ima" static.img >/dev/null 2>&1
check "the signature is gone" sh -c '! debugfs -R "ea_list /sbin/static-init" static.img 2>/dev/null | grep -q security.ima'
expect_eq "unsigned init: the harness exits 1" "$(boot static.img)" 1
check "unsigned init: FATAL says IMA appraisal refused it" \
  grep -q "FATAL: cannot run /sbin/static-init: Permission denied (IMA appraisal refused it: it has no security.ima signature)" static.img.err
finish
