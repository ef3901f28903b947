# Packages for the repository tests (Repository=, lockfiles, users), built
# with rpmbuild; a repository is made of them with createrepo_c.  Source
# after lib.sh.

# simple_spec NAME VERSION [EXTRA-HEADER-LINES] [FILES]: a noarch package
# with one file /usr/share/NAME/VERSION.
simple_spec() {
  local name=$1 ver=$2 extra=${3:-} files=${4:-}
  cat <<SPEC
Name: $name
Version: $ver
Release: 1
Summary: test package $name
License: MIT
BuildArch: noarch
AutoReqProv: no
$extra
%description
$name
%install
mkdir -p %{buildroot}/usr/share/$name
echo "$name $ver" > %{buildroot}/usr/share/$name/$ver
$files
%files
/usr/share/$name
SPEC
}

# make_repo_packages DIR: the chain rapp -> rlib -> rbase (rlib in two
# versions), a weak dependency, a conflict, a missing dependency.
make_repo_packages() {
  local d=$1
  build_rpm "$d" <<'SPEC'
Name: rbase
Version: 1
Release: 1
Summary: the top of the tree, users and groups
License: MIT
BuildArch: noarch
AutoReqProv: no
%description
x
%install
mkdir -p %{buildroot}/etc %{buildroot}/usr/share %{buildroot}/bin
printf 'root:x:0:0:root:/root:/bin/sh\n' > %{buildroot}/etc/passwd
printf 'root:x:0:\n' > %{buildroot}/etc/group
printf '#!/bin/false\n' > %{buildroot}/bin/sh
%files
%dir /etc
%dir /usr
%dir /usr/share
/etc/passwd
/etc/group
%attr(0755,root,root) /bin/sh
SPEC
  simple_spec rlib 1.0 "Requires: rbase" | build_rpm "$d"
  simple_spec rlib 2.0 "Requires: rbase
Provides: libr.so.2" | build_rpm "$d"
  simple_spec rapp 3.1 "Requires: libr.so.2
Recommends: rextra" | build_rpm "$d"
  simple_spec rextra 1 "Requires: rbase" | build_rpm "$d"
  simple_spec rfight 1 "Conflicts: rlib" | build_rpm "$d"
  simple_spec rbroken 1 "Requires: libnothere.so.9" | build_rpm "$d"
}

# b64_sysusers LINE: rpm 4.19's user()/group() provide value: the sysusers
# line NUL-padded to a multiple of 3 bytes, base64 (no '=').
b64_sysusers() {
  local line=$1 pad
  pad=$(( (3 - ${#line} % 3) % 3 ))
  { printf '%s' "$line"; head -c "$pad" /dev/zero; } | base64 -w0
}

# make_user_packages DIR: a base package with its own passwd/group, one with
# a sysusers.d file, one with rpm 4.19 user()/group() provides.
make_user_packages() {
  local d=$1
  build_rpm "$d" <<'SPEC'
Name: ubase
Version: 1
Release: 1
Summary: base users, as the setup package ships them
License: MIT
BuildArch: noarch
AutoReqProv: no
%description
x
%install
mkdir -p %{buildroot}/etc %{buildroot}/bin %{buildroot}/var/lib %{buildroot}/srv
printf 'root:x:0:0:root:/root:/bin/sh\nadm:x:3:4:adm:/var/adm:/sbin/nologin\n' > %{buildroot}/etc/passwd
printf 'root:x:0:\nadm:x:4:\nwheel:x:10:\n' > %{buildroot}/etc/group
printf '#!/bin/false\n' > %{buildroot}/bin/sh
%files
%dir /etc
%dir /var
%dir /var/lib
%dir /srv
/etc/passwd
/etc/group
%attr(0755,root,root) /bin/sh
SPEC
  build_rpm "$d" <<'SPEC'
Name: usvc
Version: 1
Release: 1
Summary: a service with a sysusers.d file
License: MIT
BuildArch: noarch
AutoReqProv: no
Requires: ubase
%description
x
%install
mkdir -p %{buildroot}/usr/lib/sysusers.d %{buildroot}/var/lib/svc %{buildroot}/var/lib/fixed
cat > %{buildroot}/usr/lib/sysusers.d/usvc.conf <<'X'
# a comment
g svcgrp -
u svc - "Service user" /var/lib/svc
m svc svcgrp
m svc wheel
u fixed 444 "Fixed id" /var/lib/fixed /bin/sh
u adm - "a base user, the package's entry wins"
X
echo data > %{buildroot}/var/lib/svc/data
echo f > %{buildroot}/var/lib/fixed/f
%files
/usr/lib/sysusers.d/usvc.conf
%attr(0750,svc,svc) %dir /var/lib/svc
%attr(0640,svc,svcgrp) /var/lib/svc/data
%attr(-,fixed,fixed) /var/lib/fixed
SPEC
  build_rpm "$d" <<SPEC
Name: uprov
Version: 1
Release: 1
Summary: users declared the rpm 4.19 way (Provides: user() = base64)
License: MIT
BuildArch: noarch
AutoReqProv: no
Requires: ubase
Provides: user(web) = $(b64_sysusers 'u web - "Web server" /srv/web')
Provides: group(web)
Provides: group(webadm) = $(b64_sysusers 'g webadm -')
%description
x
%install
mkdir -p %{buildroot}/srv/web
echo hi > %{buildroot}/srv/web/index.html
%files
%attr(0755,web,web) %dir /srv/web
%attr(0644,web,webadm) /srv/web/index.html
SPEC
}

# make_early_user_package DIR: a package adding a user whose name sorts first.
make_early_user_package() {
  build_rpm "$1" <<'SPEC'
Name: aaearly
Version: 1
Release: 1
Summary: a user added in front
License: MIT
BuildArch: noarch
AutoReqProv: no
%description
x
%install
mkdir -p %{buildroot}/usr/lib/sysusers.d %{buildroot}/var/lib/aaa
echo 'u aaa - "early"' > %{buildroot}/usr/lib/sysusers.d/00-aaa.conf
%files
/usr/lib/sysusers.d/00-aaa.conf
%attr(-,aaa,aaa) /var/lib/aaa
SPEC
}

# users_test_setup: the users tests' start: make_user_packages as the
# repository $T/repo, a key in $T/key, layout NAME [LINE...] writing
# $T/NAME.conf (those packages, Mode=sign, svc allowed in wheel, the lines
# added), and img_cat IMAGE PATH (a file of the image, by debugfs).
users_test_setup() {
  make_user_packages "$T/repo"
  createrepo_c --quiet "$T/repo"
  "$IMGTOOL" keygen --out "$T/key" >/dev/null
  layout() {  # layout NAME [extra lines]
    local name=$1; shift
    { printf '[Image]\nSeed=users\n[Packages]\nRepository=repo\nInstall=usvc uprov\n'
      printf '[Signatures]\nMode=sign\nKey=key/signing.key\nCertificate=key/signing.crt\n'
      printf '[Users]\nAllowPrivileged=svc:wheel\n'; printf '%s\n' "$@"; } > "$T/$name.conf"
  }
  img_cat() { debugfs -R "cat $2" "$1" 2>/dev/null; }
}
