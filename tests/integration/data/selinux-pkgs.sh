# Debian's selinux-policy-default (installed on this machine under
# /etc/selinux/default) rebuilt as an RPM.  Source after lib.sh.
SELINUX_POLICY_DIR=/etc/selinux/default

# make_policy_rpm DIR [SELINUX-MODE]: the policy tree and an
# /etc/selinux/config naming it (SELINUX=MODE, default enforcing).
make_policy_rpm() {
  build_rpm "$1" <<SPEC
%define _binary_payload w3.zstdio
Name: selinux-policy-default
Version: 2.20221101
Release: 1
Summary: Debian's reference policy, repackaged
License: GPL-2.0-or-later
BuildArch: noarch
AutoReqProv: no
%description
x
%install
mkdir -p %{buildroot}/etc/selinux
cp -a $SELINUX_POLICY_DIR %{buildroot}/etc/selinux/
printf 'SELINUX=${2:-enforcing}\nSELINUXTYPE=default\n' > %{buildroot}/etc/selinux/config
%files
%dir /etc/selinux
/etc/selinux/config
/etc/selinux/default
SPEC
}
