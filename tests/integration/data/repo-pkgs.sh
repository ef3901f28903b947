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
