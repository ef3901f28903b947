# Test packages for compose tests, built with rpmbuild.  Source after lib.sh;
# make_test_packages DIR builds them into DIR.

spec_base() {
cat <<'SPEC'
Name: tbase
Version: 1.0
Release: 1
Summary: users, groups and the top of the tree
License: MIT
BuildArch: noarch
%description
test base
%install
mkdir -p %{buildroot}/etc %{buildroot}/usr/bin %{buildroot}/usr/lib %{buildroot}/var/lib
printf 'root:x:0:0:root:/root:/bin/sh\nappuser:x:1000:1001::/var/lib/app:/bin/false\n' > %{buildroot}/etc/passwd
printf 'root:x:0:\nappgroup:x:1001:\n' > %{buildroot}/etc/group
%files
%dir /usr
%dir /usr/bin
%dir /usr/lib
%dir /var
%dir /var/lib
%dir /etc
/etc/passwd
/etc/group
SPEC
}

spec_app() {
cat <<'SPEC'
Name: tapp
Version: 2.1
Release: 3
Summary: every file type rpm knows
License: MIT
Requires: tbase
AutoReqProv: no
%description
test app
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/lib/tapp %{buildroot}/var/lib/app %{buildroot}/dev
printf '#!/bin/sh\necho hello from tapp\n' > %{buildroot}/usr/bin/hello
chmod 0755 %{buildroot}/usr/bin/hello
cp /bin/true %{buildroot}/usr/bin/suidprog
cp /bin/true %{buildroot}/usr/bin/capprog
ln -s hello %{buildroot}/usr/bin/hello-link
ln -s ../../usr/lib/tapp/some/very/long/target/name/that/does/not/fit/in/the/inode/at/all/really %{buildroot}/usr/bin/long-link
printf 'one inode, three names\n' > %{buildroot}/usr/lib/tapp/linked
ln %{buildroot}/usr/lib/tapp/linked %{buildroot}/usr/lib/tapp/linked2
ln %{buildroot}/usr/lib/tapp/linked %{buildroot}/usr/lib/tapp/linked3
head -c 3000000 /dev/zero | tr '\0' 'x' > %{buildroot}/usr/lib/tapp/big
printf 'owned by appuser\n' > %{buildroot}/var/lib/app/state
: > %{buildroot}/usr/lib/tapp/empty
mkfifo %{buildroot}/usr/lib/tapp/fifo
%files
%attr(4755,root,root) /usr/bin/suidprog
%caps(cap_net_raw=ep) %attr(0755,root,root) /usr/bin/capprog
/usr/bin/hello
/usr/bin/hello-link
/usr/bin/long-link
%dir /usr/lib/tapp
/usr/lib/tapp/linked
/usr/lib/tapp/linked2
/usr/lib/tapp/linked3
/usr/lib/tapp/big
/usr/lib/tapp/empty
/usr/lib/tapp/fifo
%attr(0750,appuser,appgroup) %dir /var/lib/app
%attr(0640,appuser,appgroup) /var/lib/app/state
%dev(c,1,3) %attr(0666,root,root) /dev/tnull
%dev(b,7,0) %attr(0660,root,root) /dev/tloop
%attr(1777,root,root) %dir /usr/lib/tapp/tmp
%ghost /var/lib/app/ghost.log
SPEC
}

make_test_packages() {
  spec_base | build_rpm "$1"
  spec_app | sed 's|^%install|%install\nmkdir -p %{buildroot}/usr/lib/tapp/tmp|' | build_rpm "$1"
}

# build_sh_stub DIR NAME [PROVIDES...]: a package shipping a dummy /bin/sh
# (and providing PROVIDES), for packages that require a shell or libc.
build_sh_stub() {
  local dir=$1 name=$2; shift 2
  build_rpm "$dir" <<SPEC
Name: $name
Version: 1
Release: 1
Summary: a dummy /bin/sh${1:+ and what real systems provide}
License: MIT
BuildArch: noarch
${1:+Provides: $*}
%description
x
%install
mkdir -p %{buildroot}/bin
printf '#!/bin/false\\n' > %{buildroot}/bin/sh
%files
%attr(0755,root,root) /bin/sh
SPEC
}
