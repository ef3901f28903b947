# Every command block of README.md, of every guide in docs/, of
# layouts/README.md and keys/README.md, extracted from the Markdown
# (tests/integration/readme-blocks.py), run in order in one folder against an
# imgtool installed into a temporary prefix (cmake --install): the docs'
# commands must work when pasted.  The guides run in the order they were
# written in (a later one uses what an earlier one made: myos.img, keys/mine,
# the demo build); a guide not in DOCS_ORDER runs after them.
#
# What the test fills in (the "placeholders"):
#   - the install prefix: "/usr/local" in the blocks becomes the temporary prefix;
#   - "rpms/": the user's own packages; the test puts a small package there
#     (busybox as /bin/sh and an /sbin/init that powers off), built with rpmbuild;
#   - the source checkout: the folder has ./build.sh (the real one, building into
#     this build folder), layouts/, qemu-test/ and build/ (this build folder).
# A block right after "<!-- not run: REASON -->" is skipped (interactive boots,
# the test suite itself, the benchmark).
source "$SRCDIR/tests/integration/lib.sh"
PREFIX=$T/prefix
W=$T/work
mkdir -p "$W"
cmake --install "$BUILDDIR" --prefix "$PREFIX" >/dev/null
export PATH=$PREFIX/bin:$PATH IMGTOOL_BUILD=$BUILDDIR
expect_eq "imgtool is the installed one" "$(command -v imgtool)" "$PREFIX/bin/imgtool"
check "the man page is installed" test -s "$PREFIX/share/man/man1/imgtool.1"
check "the man page of each command is installed" test -s "$PREFIX/share/man/man1/imgtool-compose.1"
check "the layout's man page is installed" test -s "$PREFIX/share/man/man5/imgtool-layout.5"
check "the guides are installed" test -s "$PREFIX/share/doc/imgtool/docs/HACKING.md"
check "the bash completion is installed" test -s "$PREFIX/share/bash-completion/completions/imgtool"
check "the harness is installed" test -x "$PREFIX/libexec/imgtool/qemu-test/run"

# A source checkout's shape, pointing at this tree and build.
cd "$W"
printf '#!/bin/sh\nexec "%s/build.sh" "$@"\n' "$SRCDIR" > build.sh
chmod +x build.sh
ln -s "$SRCDIR/layouts" layouts
ln -s "$SRCDIR/qemu-test" qemu-test
ln -s "$BUILDDIR" build
[ -f "$BUILDDIR/kernel/vmlinuz" ] || ./build.sh kernel >/dev/null

busybox=$(command -v busybox)
build_rpm rpms <<EOF2
Name: mini-os
Version: 1.0
Release: 1
Summary: busybox shell and an init that powers off
License: GPL-2.0
BuildArch: x86_64
%description
test
%install
mkdir -p %{buildroot}/bin %{buildroot}/sbin %{buildroot}/proc %{buildroot}/sys %{buildroot}/dev %{buildroot}/tmp
cp $busybox %{buildroot}/bin/busybox
for a in sh cat ls mount grep poweroff sync echo id uname; do ln -s busybox %{buildroot}/bin/\$a; done
printf '#!/bin/sh\necho "mini-os is up"\npoweroff -f\n' > %{buildroot}/sbin/init
chmod 755 %{buildroot}/sbin/init
%files
/bin/*
/sbin/init
%dir /proc
%dir /sys
%dir /dev
%dir /tmp
EOF2

DOCS_ORDER="demo signing compose repositories reports verify boot verity disk attestation robustness performance install HACKING"
docs=("$SRCDIR/README.md")
for d in $DOCS_ORDER; do docs+=("$SRCDIR/docs/$d.md"); done
for f in "$SRCDIR"/docs/*.md; do
  case " $DOCS_ORDER " in *" $(basename "$f" .md) "*) ;; *) docs+=("$f") ;; esac
done
docs+=("$SRCDIR/layouts/README.md" "$SRCDIR/keys/README.md")
for d in $DOCS_ORDER; do check "docs/$d.md is there" test -f "$SRCDIR/docs/$d.md"; done
mkdir "$T/blocks"
n=$(python3 "$SRCDIR/tests/integration/readme-blocks.py" "$T/blocks" "${docs[@]}")
check "the READMEs have command blocks" test "$n" -gt 10
skipped=0
for script in "$T"/blocks/*.sh; do
  b=${script%.sh}
  where=$(sed "s|^$SRCDIR/||" "$b.where")
  if [ -f "$b.skip" ]; then
    echo "skip: $where: $(cat "$b.skip")"
    skipped=$((skipped + 1))
    continue
  fi
  sed -i "s|/usr/local|$PREFIX|g" "$script"
  rc=0
  timeout 600 bash -e -o pipefail "$script" </dev/null >"$b.log" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    pass "$where"
  else
    fail "$where: exit $rc:"$'\n'"$(sed 's/^/    | /' "$script")"$'\n'"  output (tail):"$'\n'"$(tail -n 15 "$b.log" | sed 's/^/    > /')"
  fi
done
echo "$skipped block(s) marked not run"
finish
