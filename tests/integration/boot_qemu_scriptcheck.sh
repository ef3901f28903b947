# [Packages] ScriptletCheck=: a second boot runs the scriptlets again and
# every path they write differently is named (path, package, scriptlet) in
# a warning and in the JSON report; paths ScriptletExclude= leaves out are
# not; =fail stops compose with one line and leaves no image; =no (the
# default) boots once and adds nothing to the report.
source "$SRCDIR/tests/integration/lib.sh"
guest_scriptlet_setup

build_rpm rpms <<EOF2
Name: mini-os
Version: 1.0
Release: 1
Summary: busybox shell
License: GPL-2.0
BuildArch: x86_64
AutoReqProv: no
%description
test
%install
mkdir -p %{buildroot}/bin %{buildroot}/proc %{buildroot}/sys %{buildroot}/dev %{buildroot}/etc %{buildroot}/var/lib
cp $busybox %{buildroot}/bin/busybox
ln -s busybox %{buildroot}/bin/sh
for a in cat head echo sync sleep; do ln -s busybox %{buildroot}/bin/\$a; done
%files
/bin/*
%dir /etc
%dir /var
%dir /var/lib
%dir /proc
%dir /sys
%dir /dev
EOF2
# Random bytes in /etc/seed and /var/lib/random-seed (the layout leaves the
# second out), and a file that is the same on every run.
build_rpm rpms <<'EOF2'
Name: seed
Version: 1
Release: 1
Summary: writes random bytes
License: GPL-2.0
BuildArch: noarch
AutoReqProv: no
Requires: mini-os
%description
test
%files
%post
head -c 16 /dev/urandom > /etc/seed
head -c 16 /dev/urandom > /var/lib/random-seed
EOF2
build_rpm rpms <<'EOF2'
Name: calm
Version: 1
Release: 1
Summary: writes the same bytes every time
License: GPL-2.0
BuildArch: noarch
AutoReqProv: no
Requires: mini-os
%description
test
%files
%post
echo "calm=1" > /etc/calm.conf
EOF2

check "init-layout" "$IMGTOOL" init-layout os --from-rpms rpms --kernel "$KERNEL"
sed -i 's/^Scriptlets=error/Scriptlets=run\nScriptletTimeout=240\nScriptletExclude=\/var\/lib\/random-seed/' os/image.conf
report() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2], "absent"); print(v if isinstance(v, str) else "; ".join(v) if isinstance(v, list) else v)' "$@"; }

# The default: one boot, nothing named.
start=$(date +%s)
check "compose, ScriptletCheck=no" sh -c '"$0" compose os/image.conf -o once.img --json-report once.json > once.out 2>&1' "$IMGTOOL"
once=$(( $(date +%s) - start ))
expect_eq "no check, no report key" "$(report once.json scriptlet_nondeterministic)" "absent"
expect_eq "the calm file is written" "$("$IMGTOOL" extract once.img /etc/calm.conf -o - 2>/dev/null)" "calm=1"

start=$(date +%s)
check "compose, ScriptletCheck=warn" sh -c '"$0" compose os/image.conf -o twice.img --set Packages.ScriptletCheck=warn --json-report twice.json > twice.out 2>&1' "$IMGTOOL"
twice=$(( $(date +%s) - start ))
cat twice.out
expect_eq "the report names the random file alone, with its scriptlet" "$(report twice.json scriptlet_nondeterministic)" \
  "/etc/seed (seed-1-1.noarch %post): its content differs"
check "the warning names it with the hint" grep -qxF '  warning: /etc/seed (seed-1-1.noarch %post): its content differs; not reproducible: a second run of the scriptlets wrote it differently (add it to [Packages] ScriptletExclude= if it belongs to the first boot)' twice.out
check "the excluded path is left out, not named" sh -c '! grep -q "random-seed (.*differs" twice.out && grep -q "random-seed (seed-1-1.noarch %post): left out of the image" twice.out'
check "the first run's changes are written" sh -c '"$0" extract twice.img /etc/seed -o - | [ "$(wc -c)" -eq 16 ]' "$IMGTOOL"
echo "cost: compose with one scriptlet run ${once}s, with ScriptletCheck=warn ${twice}s (load: $(cut -d' ' -f1-3 /proc/loadavg))"

expect_fail "ScriptletCheck=fail: one line naming the path, package and scriptlet" \
  'os/image.conf: \[Packages\] ScriptletCheck=fail: 1 path changed differently by a second run of the scriptlets: /etc/seed \(seed-1-1.noarch %post\): its content differs \(leave it out with \[Packages\] ScriptletExclude= if it belongs to the first boot\)$' \
  "$IMGTOOL" compose os/image.conf -o fail.img --set Packages.ScriptletCheck=fail
check "no image left" test ! -e fail.img
check "excluding it passes =fail" "$IMGTOOL" compose os/image.conf -o pass.img -q --set Packages.ScriptletCheck=fail \
  --set 'Packages.ScriptletExclude=/var/lib/random-seed /etc/seed'
check "... and then two composes give the same bytes" sh -c '"$0" compose os/image.conf -o pass2.img -q --set Packages.ScriptletCheck=no --set "Packages.ScriptletExclude=/var/lib/random-seed /etc/seed" && cmp pass.img pass2.img' "$IMGTOOL"
expect_guest_left_nothing
finish
