# A systemd system from a distribution's packages (docs/systemd.md): Debian
# 12's systemd, udev, dbus, util-linux, bash and their closure as Fedora-style
# RPMs with the scriptlets their content implies (layouts/systemd/make-packages,
# bench/corpus --seeds --scriptlets; apt-get download, cached in the build
# folder), composed with layouts/systemd.conf (Scriptlets=run, Mode=sign,
# Init=/usr/lib/systemd/systemd) plus a probe package.  Boots under IMA
# enforcing with a read-only root: `systemctl is-system-running --wait` says
# running (no failed unit, no job timed out), a unit enabled only by a preset
# is active and one the preset disables is not, serial-getty, logind and dbus
# run.  Offline: /etc/ld.so.cache was made by ldconfig's scriptlet and evmctl
# verifies its signature; the machine-id is empty in the image and was the
# fixed one while scriptlets ran; two composes give the same bytes.  A copy
# with /etc/ld.so.cache changed is refused by the kernel.  The same layout as
# a Secure Boot disk boots the same way through OVMF.
source "$SRCDIR/tests/integration/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: boot tests need root (extract --xattrs for evmctl)" >&2; exit 1; }
guest_setup

# The packages, the image's config package and key: made once per build folder.
check "make-packages: Debian's packages as RPMs with scriptlets" \
  sh -c '"$0"/layouts/systemd/make-packages "$1" > make.out 2>&1 || { cat make.out; exit 1; }' "$SRCDIR" "$BUILDDIR"
corpus=$BUILDDIR/systemd-corpus/seeds-scriptlets
check "systemd's %post presets its units" sh -c "rpm -qp --scripts --nosignature '$corpus'/rpms/systemd-2*.rpm 2>/dev/null | grep -q 'systemctl --no-reload preset'"
check "libc-bin has glibc's ldconfig file trigger" sh -c "rpm -qp --filetriggers --nosignature '$corpus'/rpms/libc-bin-*.rpm 2>/dev/null | grep -q '^transfiletriggerin scriptlet (using /bin/sh) -- /lib, /lib64, /usr/lib, /usr/lib64'"

# The probe: waits for the end of the boot, prints what the test checks, powers
# off.  Two units that only a preset enables or not (%post as Fedora's
# %systemd_post), and a copy of the machine-id the scriptlets saw.
build_rpm probe <<'EOF2'
Name: imgtool-systemd-probe
Version: 1
Release: 1
Summary: the boot test's probe
License: MIT
BuildArch: noarch
AutoReqProv: no
Requires: systemd bash
%description
test
%install
d=%{buildroot}/usr/lib/systemd/system
mkdir -p $d/multi-user.target.wants %{buildroot}/usr/libexec %{buildroot}/usr/lib/systemd/system-preset
cat > $d/imgtool-probe.service <<'U'
[Unit]
Description=imgtool boot test probe
[Service]
Type=simple
ExecStart=/usr/libexec/imgtool-probe
StandardOutput=journal+console
StandardError=journal+console
U
ln -s ../imgtool-probe.service $d/multi-user.target.wants/imgtool-probe.service
for u in on off; do
cat > $d/imgtool-preset-$u.service <<U
[Unit]
Description=enabled only if the preset says so ($u)
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/true
[Install]
WantedBy=multi-user.target
U
done
printf 'enable imgtool-preset-on.service\ndisable imgtool-preset-off.service\n' \
  > %{buildroot}/usr/lib/systemd/system-preset/50-imgtool-probe.preset
cat > %{buildroot}/usr/libexec/imgtool-probe <<'P'
#!/bin/bash
state=$(systemctl is-system-running --wait)
echo "PROBE state=$state"
systemctl list-units --failed --no-legend --plain | sed 's/^/PROBE failed: /'
systemctl list-jobs --no-legend | sed 's/^/PROBE job: /'
for u in imgtool-preset-on imgtool-preset-off serial-getty@ttyS0 systemd-logind dbus systemd-udevd systemd-journald; do
  echo "PROBE $u=$(systemctl is-active $u.service)"
done
echo "PROBE root=$(findmnt -no OPTIONS / | cut -d, -f1) var=$(findmnt -no FSTYPE /var) machine-id=$(findmnt -no FSTYPE /etc/machine-id)"
echo "PROBE pid1=$(readlink /proc/1/exe)"
echo "PROBE cmdline=$(cat /proc/cmdline)"
# (no grep in the image: bash alone)
n=0
# (the path is the one of the first access: the initramfs reads the init
# before it hands over, under its mount point)
while read -r pcr hash template digest path sig; do
  [[ $path == */usr/lib/systemd/systemd && -n $sig ]] && n=$((n + 1)) && echo "PROBE ima: $template $path ${sig:0:16}"
done < /sys/kernel/security/ima/ascii_runtime_measurements
echo "PROBE measured=$n"
echo "PROBE $(systemd-analyze time | head -n1)"
echo PROBE-END
systemctl poweroff --no-block
P
chmod 755 %{buildroot}/usr/libexec/imgtool-probe
%files
/usr/lib/systemd/system/imgtool-probe.service
/usr/lib/systemd/system/imgtool-preset-on.service
/usr/lib/systemd/system/imgtool-preset-off.service
/usr/lib/systemd/system/multi-user.target.wants/imgtool-probe.service
/usr/lib/systemd/system-preset/50-imgtool-probe.preset
/usr/libexec/imgtool-probe
%post
cp /etc/machine-id /usr/lib/imgtool-probe-machine-id
if [ $1 -eq 1 ] && [ -x /usr/bin/systemctl ]; then
    /usr/bin/systemctl --no-reload preset imgtool-preset-on.service imgtool-preset-off.service >/dev/null 2>&1 || :
fi
EOF2

# The layout as shipped, its paths into this build folder, the probe added,
# test hooks on (the tampered copy's boot runs a command before init).
sed -e "s|\.\./build/|$BUILDDIR/|" -e "s|^Directory=$BUILDDIR/systemd-image/rpms|&\nDirectory=$T/probe|" \
  -e 's|^Init=.*|&\nTestHooks=yes|' "$SRCDIR/layouts/systemd.conf" > systemd.conf
check "compose the systemd image" sh -c '"$0" compose systemd.conf -o sd.img --json-report sd.json > compose.out 2>&1 || { cat compose.out; exit 1; }' "$IMGTOOL"
cat compose.out
check "no warning but the excluded aux cache" sh -c \
  "! grep 'warning:' compose.out | grep -v 'created /var/cache/ldconfig/aux-cache (libc-bin-.* %transfiletriggerin): left out of the image (\[Packages\] ScriptletExclude=)'"
python3 -c 'import json; print("\n".join(json.load(open("sd.json"))["scriptlet_changes"]))' > changes.txt
check "the report: ld.so.cache made by libc-bin's %transfiletriggerin" grep -q '^created /etc/ld.so.cache (libc-bin-.* %transfiletriggerin)$' changes.txt
check "the report: the preset enabled imgtool-preset-on" sh -c \
  "grep -q 'created /etc/systemd/system/multi-user.target.wants/imgtool-preset-on.service (imgtool-systemd-probe-1-1.noarch %post)' compose.out"
check "... and not imgtool-preset-off" sh -c "! grep -q 'imgtool-preset-off.service (' compose.out"

# What a systemd image usually needs, warned about when the set lacks it: no
# udev, no kmod, no image package (fstab's /var, machine-id), and a
# filesystem package without the merged-/usr links.  No boot: Scriptlets=skip.
mkdir lack
for f in "$corpus"/rpms/*.rpm; do
  case ${f##*/} in udev-*|kmod-*|filesystem-*) ;; *) ln -s "$f" lack/ ;; esac
done
build_rpm lack <<'EOF2'
Name: filesystem
Version: 3.18
Release: 1
Summary: the top folders, without the merged-/usr links
License: MIT
BuildArch: noarch
AutoReqProv: no
%description
test
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/sbin %{buildroot}/usr/lib %{buildroot}/usr/lib64 %{buildroot}/etc
%files
%dir /usr
%dir /usr/bin
%dir /usr/sbin
%dir /usr/lib
%dir /usr/lib64
%dir /etc
EOF2
sed -e "/^Directory=/d" -e "s|^\[Packages\]|&\nDirectory=$T/lack|" -e 's/^Scriptlets=run/Scriptlets=skip/' systemd.conf > lack.conf
check "compose a set that lacks them" sh -c '"$0" compose lack.conf -o lack.img > lack.out 2>&1 || { cat lack.out; exit 1; }' "$IMGTOOL"
init=/usr/lib/systemd/systemd
for w in "is systemd but the image has no systemd-udevd (udev): device units such as dev-ttyS0.device never appear, so the serial getty and mounts of disks wait 90 s and fail" \
         "is systemd but the image has no modprobe (kmod): systemd and udev cannot load kernel modules" \
         "is systemd on a read-only root but /etc/fstab mounts nothing on /var: systemd-logind and other services fail setting up /var/lib (Read-only file system); mount a tmpfs or a state partition there" \
         "is systemd on a read-only root but the image has no /etc/machine-id: every boot is a first boot that cannot write /etc; ship an empty one (systemd then puts a new id over it at each boot)" \
         "is systemd but the image has no /lib64 (the merged-/usr link to usr/lib64, made by a scriptlet on Debian and shipped by Fedora's filesystem package): programs that name a path under it cannot start"; do
  check "warning: ${w:0:60}..." grep -qF "warning: [Boot] Init=$init $w" lack.out
done
check "... and the interpreter the kernel would not find" grep -qF "warning: [Boot] Init=$init: the image has no /lib64/ld-linux-x86-64.so.2 (its ELF interpreter)" lack.out
rm -rf lack lack.img lack.img.*

# Offline: the signature of what ldconfig wrote, by evmctl.
"$IMGTOOL" extract sd.img /etc/ld.so.cache -o ld.so.cache --xattrs 2>/dev/null || true
check "/etc/ld.so.cache exists, ldconfig's format" sh -c "head -c 17 ld.so.cache | grep -q '^glibc-ld.so.cache'"
check "evmctl verifies /etc/ld.so.cache's security.ima" \
  sh -c "evmctl ima_verify --key '$BUILDDIR/systemd-key/signing.der' ld.so.cache >/dev/null 2>&1"
check "imgtool verify --against: every file a package or a scriptlet made, all signed" \
  sh -c '"$0" verify sd.img --against systemd.conf > verify.out 2>&1 || { cat verify.out; exit 1; }' "$IMGTOOL"
expect_eq "the image's /etc/machine-id is empty" "$("$IMGTOOL" extract sd.img /etc/machine-id -o - | wc -c)" 0
expect_eq "scriptlets saw the fixed machine-id" "$("$IMGTOOL" extract sd.img /usr/lib/imgtool-probe-machine-id -o -)" \
  b6ef2fe7c9a84d3b8e0c6f1a2d5e9a70
check "the aux cache is left out" sh -c "! '$IMGTOOL' ls sd.img /var/cache/ldconfig | grep -q aux-cache"

"$IMGTOOL" compose systemd.conf -o again.img -q > /dev/null 2>&1
check "two composes give the same bytes" cmp sd.img again.img
rm -f again.img again.img.*

# The boot: systemd as PID 1 under IMA enforcing, to multi-user.target.
rc=0
"$SRCDIR/qemu-test/run" sd.img --timeout 600 --no-network --console console.log > boot.out 2>&1 || rc=$?
probe() { tr -d '\r' < console.log | sed -n "s/^.*imgtool-probe\[[0-9]*\]: PROBE $1//p" | head -n1; }
expect_eq "the boot ends with a power-off" "$rc" 0
check "the probe ran to its end" grep -q 'PROBE-END' console.log
expect_eq "systemctl is-system-running --wait" "$(probe 'state=')" running
expect_eq "no failed unit" "$(probe 'failed: ')" ""
expect_eq "no job left" "$(probe 'job: ')" ""
expect_eq "a unit enabled only by its preset is active" "$(probe 'imgtool-preset-on=')" active
expect_eq "a unit the preset disables is not" "$(probe 'imgtool-preset-off=')" inactive
for u in serial-getty@ttyS0 systemd-logind dbus systemd-udevd systemd-journald; do
  expect_eq "$u is active" "$(probe "$u=")" active
done
expect_eq "read-only root, /var and machine-id on tmpfs" "$(probe 'root=')" "ro var=tmpfs machine-id=tmpfs"
expect_eq "PID 1 is systemd" "$(probe 'pid1=')" /usr/lib/systemd/systemd
check "IMA measured it with its signature (ima-sig)" sh -c "[ '$(probe 'measured=')' -ge 1 ]"
check "appraisal not weakened on the command line" sh -c "! echo '$(probe 'cmdline=')' | grep -Eq 'ima_appraise=(log|fix|off)'"
check "no job timed out" sh -c "! grep -qi 'timed out' console.log"
echo "boot time: $(probe 'Startup finished in ')"

# The same layout as a GPT disk with a UKI signed by the owner's db key,
# booted through OVMF with Secure Boot enforcing: the same systemd boot.
"$IMGTOOL" keygen --secure-boot sb --subject "systemd image test" > /dev/null
check "compose the Secure Boot disk" sh -c '"$0" compose systemd.conf -o sd.disk -q --set Image.Format=disk \
  --set "Boot.CommandLine=console=ttyS0 panic=-1" --set "SecureBoot.Key=$1/sb/db.key" \
  --set "SecureBoot.Certificate=$1/sb/db.crt" > disk.out 2>&1 || { cat disk.out; exit 1; }' "$IMGTOOL" "$T"
rc=0
IMGTOOL_CACHE=$T/cache "$SRCDIR/qemu-test/run" sd.disk --uefi --secure-boot="$T/sb" --timeout 900 \
  --console console.log > disk-boot.out 2>&1 || rc=$?
expect_eq "the disk: the boot ends with a power-off" "$rc" 0
check "the disk: Secure Boot was on" grep -q 'secureboot: Secure boot enabled' console.log
expect_eq "the disk: systemctl is-system-running --wait" "$(probe 'state=')" running
expect_eq "the disk: no failed unit" "$(probe 'failed: ')" ""
expect_eq "the disk: a unit enabled only by its preset is active" "$(probe 'imgtool-preset-on=')" active
echo "boot time through OVMF: $(probe 'Startup finished in ')"
rm -f sd.disk

# A file a scriptlet made, changed offline: the kernel refuses it.
cp sd.img tampered.img
for e in vmlinuz initramfs cmdline; do cp "sd.img.$e" "tampered.img.$e"; done
blk=$(debugfs -R "bmap /etc/ld.so.cache 0" tampered.img 2>/dev/null)
bs=$(dumpe2fs -h tampered.img 2>/dev/null | sed -n 's/^Block size: *//p')
printf 'X' | dd of=tampered.img bs=1 seek=$((blk * bs + 100)) conv=notrunc status=none
check "the tampered copy differs in /etc/ld.so.cache only" sh -c \
  "'$IMGTOOL' extract tampered.img /etc/ld.so.cache -o - | cmp -s - ld.so.cache; [ \$? -eq 1 ]"
rc=0
"$SRCDIR/qemu-test/run" tampered.img --timeout 300 --no-network \
  --exec 'cat /etc/ld.so.cache > /dev/null; echo "status=$?"' > tampered.out 2>&1 || rc=$?
check "reading it as root: Permission denied (IMA appraisal)" grep -q 'Permission denied' tampered.out
check "... and cat failed" grep -q '^status=1' tampered.out
rc=0
"$SRCDIR/qemu-test/run" sd.img --timeout 300 --no-network \
  --exec 'cat /etc/ld.so.cache > /dev/null; echo "status=$?"' > intact.out 2>&1 || rc=$?
check "the intact image reads it" grep -q '^status=0' intact.out
expect_eq "nothing left in TMPDIR" "$(ls -A "$TMPDIR" | grep -v '^rpmbuild' | tr '\n' ' ')" ""
finish
