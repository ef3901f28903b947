# A layout made by `imgtool init-layout` from the user's own packages boots
# over -drive if=virtio: the initramfs carries the kernel's virtio_blk
# module and finds its root; [Boot] CommandLine= reaches the kernel; the
# image's own /sbin/init runs.  And when the init fails, the harness exits
# non-zero with the guest's FATAL line.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"
KERNEL=$BUILDDIR/kernel/vmlinuz
[ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
command -v busybox >/dev/null || { echo "FAIL: busybox-static missing" >&2; exit 1; }

# The user's own packages: a static busybox as /bin/sh and an /sbin/init script.
busybox=$(command -v busybox)
build_rpm rpms <<EOF2
Name: mini-os
Version: 1.0
Release: 1
Summary: busybox shell and an init that says it is up
License: GPL-2.0
BuildArch: x86_64
%description
test
%install
mkdir -p %{buildroot}/bin %{buildroot}/sbin %{buildroot}/proc %{buildroot}/sys %{buildroot}/dev
cp $busybox %{buildroot}/bin/busybox
for a in sh cat mount grep poweroff sync echo; do ln -s busybox %{buildroot}/bin/\$a; done
printf '#!/bin/sh\necho "MINI-OS-UP root=\$(grep " / " /proc/mounts | cut -d" " -f1)"\npoweroff -f\n' > %{buildroot}/sbin/init
chmod 755 %{buildroot}/sbin/init
%files
/bin/*
/sbin/init
%dir /proc
%dir /sys
%dir /dev
EOF2

check "init-layout" "$IMGTOOL" init-layout os --from-rpms rpms --kernel "$KERNEL" --test-hooks
check "the layout installs the package" grep -qx 'Install=mini-os' os/image.conf
check "compose" "$IMGTOOL" compose os/image.conf -o os.img --set 'Boot.CommandLine=imgtool.marker=42' --json-report os.json
# The JSON report: schema, packages, keyids, every written path.
keyid=$(openssl x509 -inform DER -in os/keys/signing.der -noout -ext subjectKeyIdentifier | tail -n1 | tr -d ' :' | tail -c 9 | tr A-F a-f)
expect_eq "report: schema, package, keyids, files" "$(python3 -c 'import json; r = json.load(open("os.json"))
p = r["packages"][0]
print(r["schema"], p["nevra"], p["files"], p["signatures"]["signed_here"], r["keyids"]["signing_key"], r["keyids"]["trusted"], r["files"])' | tr -d "[]',")" \
  "1 mini-os-1.0-1.x86_64 2 2 $keyid $keyid 2"
expect_eq "report: every written path" "$(python3 -c 'import json; print(" ".join(json.load(open("os.json"))["written"]))')" \
  "os.img os.img.vmlinuz os.img.initramfs os.img.cmdline"
check "report: the boot command" grep -q '"boot_command":"imgtool boot os.img' os.json
zcat os.img.initramfs | cpio -it --quiet > initramfs.list
check "the initramfs carries virtio_blk" grep -qx 'lib/modules/virtio_blk.ko' initramfs.list
# virtio_blk's own dependency (none on this kernel) and ahci's (libahci,
# libata) come first in the load order.
zcat os.img.initramfs | cpio -i --quiet --to-stdout etc/imgtool/modules > modules.order
expect_eq "ahci after its dependencies" "$(grep -nx -e libata.ko -e libahci.ko -e ahci.ko modules.order | cut -d: -f2 | tr '\n' ' ')" "libata.ko libahci.ko ahci.ko "
check "built-in drivers are left out (nvme, ext4 are built into this kernel)" \
  sh -c '! grep -qx -e lib/modules/nvme.ko -e lib/modules/ext4.ko initramfs.list'
check "modules are stored decompressed (the package has .ko.xz)" \
  sh -c 'zcat os.img.initramfs | cpio -i --quiet --to-stdout lib/modules/virtio_blk.ko | head -c 4 | grep -q ELF'
check "the modules are the kernel's signed ones" \
  sh -c 'zcat os.img.initramfs | cpio -i --quiet --to-stdout lib/modules/virtio_blk.ko | tail -c 28 | grep -q "Module signature appended"'
expect_eq "IMAGE.cmdline holds CommandLine=" "$(cat os.img.cmdline)" "imgtool.marker=42"
"$IMGTOOL" compose os/image.conf -o again.img -q --set 'Boot.CommandLine=imgtool.marker=42'
check "the initramfs with its modules is reproducible" cmp os.img.initramfs again.img.initramfs
# Modules= adds a module (and its dependencies); an unknown one is an error.
check "Modules=nbd composes" "$IMGTOOL" compose os/image.conf -o nbd.img -q --set Boot.Modules=nbd
check "Modules=nbd is in the initramfs" sh -c 'zcat nbd.img.initramfs | cpio -it --quiet | grep -qx lib/modules/nbd.ko'
expect_fail "an unknown module is refused" 'module no_such_mod: neither built into the kernel nor in its module folder' \
  "$IMGTOOL" compose os/image.conf -o nosuch.img -q --set Boot.Modules=no_such_mod

# Boot 1, through the test hooks: root on /dev/vda, the command line passed.
rc=0
out=$("$IMGTOOL" boot os.img --virtio --timeout 120 --exec 'grep " / " /proc/mounts; cat /proc/cmdline' 2>boot1.err) || rc=$?
expect_eq "boot over virtio: exit 0" "$rc" 0
check "the root is the virtio disk" grep -q '^/dev/vda / ext4 ro' <<<"$out"
check "CommandLine= reached the kernel" grep -qw 'imgtool.marker=42' <<<"$out"

# Boot 2, plain: the image's own signed /sbin/init runs on the virtio root.
rc=0
"$SRCDIR/qemu-test/run" os.img --virtio --timeout 120 </dev/null >boot2.out 2>&1 || rc=$?
expect_eq "plain boot: exit 0" "$rc" 0
check "the image's /sbin/init ran on /dev/vda" grep -q 'MINI-OS-UP root=/dev/vda' boot2.out

# Boot 3: an init that does not exist; compose warned, the harness fails.
"$IMGTOOL" compose os/image.conf -o bad.img --set Boot.Init=/sbin/missing > bad.out 2>&1
check "compose warns that the image lacks its init" grep -q 'warning: \[Boot\] Kernel= is set but the image has no /sbin/missing' bad.out
rc=0
"$SRCDIR/qemu-test/run" bad.img --virtio --timeout 120 </dev/null >boot3.out 2>boot3.err || rc=$?
expect_eq "init failed: the harness exits 1" "$rc" 1
check "init failed: the guest's FATAL line" grep -q "^run: the guest's init failed: FATAL: cannot run /sbin/missing" boot3.err

# Boot 4: --exec on an image without test hooks says which key to set.
"$IMGTOOL" compose os/image.conf -o nohooks.img -q --set Boot.TestHooks=no
rc=0
"$IMGTOOL" boot nohooks.img --virtio --timeout 120 --exec true >/dev/null 2>boot4.err || rc=$?
expect_eq "no test hooks: exit 125" "$rc" 125
check "no test hooks: names the layout key" grep -q 'set \[Boot\] TestHooks=yes in its layout' boot4.err
finish
