# The real-world Scriptlets=run oracle (docs/scriptlets.md): the bench
# corpus's 373 Debian 12 packages plus dpkg and dash as Fedora-style RPMs with the
# scriptlets their Debian metadata implies (bench/corpus --scriptlets:
# systemctl preset, update-alternatives, glibc's ldconfig file trigger, Lua
# %pretrans and %posttrans), composed with Scriptlets=run and Mode=sign, and
# the same RPMs installed by `rpm -i --root DIR` as root.  Equal: every
# path's type, mode, owner, link target and content (scriptlet_tree.py;
# the paths that differ by nature are listed there), and the scriptlets
# that ran, in the same order (rpm -vv's "scriptlet start" lines against
# the report's scriptlet_runs).  The corpus is built once per cache
# (IMGTOOL_CORPUS_CACHE, default BUILD/bench-corpus, shared with bench/run;
# apt-get download on a fresh machine).
source "$SRCDIR/tests/integration/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: rpm -i --root as the oracle needs root (owners)" >&2; exit 1; }
guest_setup
cache=${IMGTOOL_CORPUS_CACHE:-$BUILDDIR/bench-corpus}

rc=0
corpus=$("$SRCDIR/bench/corpus" --scriptlets --cache "$cache" --kernel "$KERNEL" 2> corpus.err) || rc=$?
if [ "$rc" -eq 3 ]; then  # bench/corpus's UNAVAILABLE: the archive lacks a pinned .deb
  tail -3 corpus.err; echo "SKIP: the pinned corpus packages cannot be downloaded" >&2; exit 77
fi
[ "$rc" -eq 0 ] || { cat corpus.err; fail "bench/corpus --scriptlets"; finish; }
rpms=$corpus/rpms
q() { rpm -qp --nosignature "$@" 2>/dev/null; }
check "vim's %post registers its alternatives" sh -c \
  "rpm -qp --nosignature --scripts '$rpms'/vim-9*.rpm 2>/dev/null | grep -q '^/usr/bin/update-alternatives --quiet --log /dev/null --install /usr/bin/vi vi /usr/bin/vim.basic 30 --slave'"
expect_eq "... with Requires(post): dpkg" "$(q --requires "$rpms"/vim-9*.rpm | grep -c '^dpkg$')" 2
check "dpkg ships the alternatives admin folder" sh -c \
  "rpm -qlp --nosignature '$rpms'/dpkg-*.rpm 2>/dev/null | grep -qx /var/lib/dpkg/alternatives"
check "filesystem has Fedora's Lua %pretrans" sh -c \
  "rpm -qp --nosignature --scripts '$rpms'/filesystem-*.rpm 2>/dev/null | grep -q '^pretrans scriptlet (using <lua>)'"
check "bash registers its shells in a Lua %posttrans" sh -c \
  "rpm -qp --nosignature --scripts '$rpms'/bash-5*.rpm 2>/dev/null | grep -q '^posttrans scriptlet (using <lua>)'"
check "the plain corpus' layout has no scriptlets run" grep -q '^Scriptlets=skip$' "$corpus/layout-sign.conf"

# imgtool: the scriptlets in the image, under QEMU.
check "compose with Scriptlets=run" sh -c \
  '"$0" compose "$1" -o os.img --json-report os.json > compose.out 2>&1 || { cat compose.out; exit 1; }' \
  "$IMGTOOL" "$corpus/layout-run.conf"
grep -v '^scriptlet change:' compose.out
check "no warning but the excluded aux cache" sh -c \
  "! grep 'warning:' compose.out | grep -v 'created /var/cache/ldconfig/aux-cache (libc-bin-.* %transfiletriggerin): left out of the image (\[Packages\] ScriptletExclude=)'"
check "the report: /etc/alternatives/vi made by vim's %post" \
  grep -q '^  scriptlet change: created /etc/alternatives/vi (vim-2:.* %post)$' compose.out

# The oracle: rpm itself, as root, into an empty folder; -vv for the
# scriptlets' order only (Debian's rpm loads no plugin: no __plugindir).
# The packages in the layout's Install= order, the order compose hands them
# to rpm's transaction: rpm's order in a dependency loop depends on it.  The
# root gets /dev/null, as mock and anaconda give theirs /dev (without it a
# scriptlet's "> /dev/null" makes a regular file); removed before comparing.
rpm -qp --nosignature --qf '%{NAME}\n' "$rpms"/*.rpm 2>/dev/null | paste -d' ' - <(ls "$rpms"/*.rpm) > names.txt
expect_eq "every RPM named" "$(wc -l < names.txt)" "$(ls "$rpms" | wc -l)"
awk 'NR == FNR { f[$1] = $2; next } { print f[$1] }' names.txt "$corpus/packages.txt" > order.txt
mkdir -p rpmroot/dev
mknod -m 666 rpmroot/dev/null c 1 3
rc=0
rpm -i -vv --root "$T/rpmroot" --define '_dbpath /var/lib/rpm' $(cat order.txt) > rpm.out 2>&1 || rc=$?
rm rpmroot/dev/null
expect_eq "rpm -i --root succeeds" "$rc" 0
[ "$rc" -eq 0 ] || grep -v '^D: ' rpm.out | tail -20
check "rpm warned about no scriptlet" sh -c "! grep -E '^(warning|error): ' rpm.out"
"$IMGTOOL" extract os.img / -o imgroot > /dev/null
# aux-cache: left out of the image by the layout (ScriptletExclude=)
check "the image's tree equals rpm -i --root's" \
  python3 "$SRCDIR/tests/integration/scriptlet_tree.py" rpmroot imgroot /var/cache/ldconfig/aux-cache

sed -nE 's/^D: (%[a-z]+)\(([^)]*)\): (scriptlet start|running <lua> scriptlet\.)$/\1(\2)/p' rpm.out > rpm-runs.txt
python3 -c '
import json, re
for l in json.load(open("os.json"))["scriptlet_runs"]:
    nevra, kind = re.match(r"(\S+) (%\w+)", l).groups()
    print(f"{kind}({nevra})")' > img-runs.txt
if diff -u rpm-runs.txt img-runs.txt > runs.diff; then
  pass "the same $(wc -l < rpm-runs.txt) scriptlets ran as with rpm, in the same order"
else
  head -40 runs.diff; fail "the scriptlets that ran differ from rpm's (diff above)"
fi
check "alternatives, ldconfig, presets, Lua among them" sh -c \
  "grep -q '^%post(vim-2' img-runs.txt && grep -q '^%transfiletriggerin(libc-bin-' img-runs.txt && \
   grep -q '^%post(systemd-2' img-runs.txt && grep -q '^%pretrans(filesystem-' img-runs.txt"
expect_eq "the pager is less (77 beats more's 50)" "$(readlink imgroot/etc/alternatives/pager)" /usr/bin/less
expect_eq "/etc/shells: bash's and dash's shells" "$(sort imgroot/etc/shells | tr '\n' ' ')" "/bin/bash /bin/dash /bin/rbash "
check "verify --against knows the scriptlets' files" "$IMGTOOL" verify os.img --against "$corpus/layout-run.conf"
expect_eq "nothing left in TMPDIR" "$(ls -A "$TMPDIR" | grep -v '^rpmbuild' | tr '\n' ' ')" ""
finish
