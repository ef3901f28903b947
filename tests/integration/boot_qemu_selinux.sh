# The image boots with its SELinux policy loaded by the initramfs and IMA
# still enforcing: compose (labels, signatures, rpmdb), QEMU (TCG), the
# runner's --exec inside the guest.
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/selinux-pkgs.sh"
[ -f "$SELINUX_POLICY_DIR/contexts/files/file_contexts" ] || { echo "SKIP: no Debian selinux-policy-default"; exit 77; }
KERNEL=$BUILDDIR/kernel/vmlinuz
[ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
cd "$T"

make_policy_rpm rpms permissive
# getcon: the kernel's view of a file's label (busybox has no ls -Z).
cat > getcon.c <<'C'
#include <stdio.h>
#include <sys/xattr.h>
int main(int argc, char **argv)
{
        char v[256];
        for (int i = 1; i < argc; i++) {
                ssize_t n = lgetxattr(argv[i], "security.selinux", v, sizeof(v) - 1);
                v[n > 0 ? n : 0] = 0;
                printf("%s %s\n", n > 0 ? v : "?", argv[i]);
        }
        return 0;
}
C
gcc -static -O2 -o getcon getcon.c
# busybox as the shell and tools, getcon, a data file to tamper with.
build_rpm rpms <<'SPEC'
Name: sebox
Version: 1
Release: 1
Summary: busybox and a data file
License: GPL-2.0-only
AutoReqProv: no
%description
x
%install
install -D -m 0755 /bin/busybox %{buildroot}/usr/bin/busybox
install -D -m 0755 %{_sourcedir}/../../getcon %{buildroot}/usr/bin/getcon
mkdir -p %{buildroot}/bin %{buildroot}/sbin %{buildroot}/proc %{buildroot}/sys %{buildroot}/dev %{buildroot}/tmp %{buildroot}/usr/share/t
for a in sh cat ls id grep echo mount head; do ln -s ../usr/bin/busybox %{buildroot}/bin/$a; done
ln -s ../usr/bin/busybox %{buildroot}/sbin/init
head -c 8192 /dev/zero | tr '\0' 'd' > %{buildroot}/usr/share/t/data
%files
/usr/bin/busybox
/usr/bin/getcon
/bin
/sbin
%dir /proc
%dir /sys
%dir /dev
%dir /tmp
/usr/share/t
SPEC
"$IMGTOOL" keygen --out key >/dev/null
# IMA rules may use SELinux types once the policy is loaded: usr_t reads are
# not measured, everything else root reads is.
{ echo "dont_measure obj_type=usr_t"; "$IMGTOOL" policy; } > ima-policy
cat > se.conf <<L
[Image]
Label=seroot
Seed=selinux-boot
[Packages]
Directory=rpms
Install=sebox selinux-policy-default
[Signatures]
Mode=sign
Key=key/signing.key
Certificate=key/signing.crt
[Policy]
File=ima-policy
[SELinux]
Mode=enforcing
[Boot]
Kernel=$KERNEL
TestHooks=yes
L
check "compose a bootable labelled image" "$IMGTOOL" compose se.conf -o se.img --quiet
check "the initramfs loads the policy, enforcing ([SELinux] Mode= over the image's SELINUX=permissive)" \
  bash -c "zcat se.img.initramfs | cpio -i --to-stdout etc/imgtool/init.conf 2>/dev/null | grep -qx 'selinux=enforcing'"
rc=0
out=$("$SRCDIR/qemu-test/run" se.img --append "security=selinux printk_ratelimit=0" --timeout 240 \
  --exec 'cat /sys/fs/selinux/enforce; echo; cat /proc/self/attr/current; echo; getcon /usr/bin/busybox /etc/selinux/config /; cat /usr/share/t/data | head -c 4; echo
  cat /etc/selinux/config >/dev/null; M=/sys/kernel/security/ima/ascii_runtime_measurements
  echo "measured-usr_t=$(grep -c /usr/share/t/data $M) measured-config=$(grep -c /etc/selinux/config $M)"' 2>&1) || rc=$?
echo "$out" | grep -v '^\s*$' | tail -8
expect_eq "guest script ran" "$rc" 0
check "the policy is loaded: the guest runs in a labelled context" grep -q 'system_u:system_r:' <<<"$out"
check "SELinux is enforcing" grep -qx '1' <<<"$out"
check "IMA's obj_type= rule applies: usr_t not measured, selinux_config_t measured" grep -q 'measured-usr_t=0 measured-config=1' <<<"$out"
check "the kernel sees the image's labels" grep -q '^system_u:object_r:bin_t:s0 /usr/bin/busybox' <<<"$out"
check "... on /etc and / too" grep -q '^system_u:object_r:selinux_config_t:s0 /etc/selinux/config' <<<"$out"
check "the signed data file reads" grep -qx 'dddd' <<<"$out"

# IMA still enforces with SELinux loaded: a tampered byte in a signed file
# is refused when root reads it.
cp se.img tampered.img
blk=$(debugfs -R 'blocks /usr/share/t/data' tampered.img 2>/dev/null | awk '{print $1}')
printf 'X' | dd of=tampered.img bs=1 seek=$((blk * 4096 + 100)) conv=notrunc status=none
cp se.img.vmlinuz tampered.img.vmlinuz; cp se.img.initramfs tampered.img.initramfs
out=$("$SRCDIR/qemu-test/run" tampered.img --append "security=selinux printk_ratelimit=0" --timeout 240 \
  --exec 'cat /proc/self/attr/current; echo; cat /usr/share/t/data >/dev/null 2>&1 && echo READ || echo REFUSED' 2>&1) || true
check "tampered file refused by IMA under SELinux" grep -qx 'REFUSED' <<<"$out"
finish
