# SELinux labels: Debian's selinux-policy-default rebuilt as an RPM; every
# inode of the image gets security.selinux from libselinux's labelling API;
# the oracle is matchpathcon with the same file_contexts, on a loop mount.
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"
source "$SRCDIR/tests/integration/data/selinux-pkgs.sh"
trap 'if [ -n "${MNT:-}" ]; then umount "$MNT" 2>/dev/null; fi; rm -rf "$T"' EXIT
P=/etc/selinux/default
FC=$P/contexts/files/file_contexts
if [ ! -f "$FC" ]; then echo "SKIP: no $FC (Debian's selinux-policy-default)"; exit 77; fi

make_test_packages "$T/rpms"
make_policy_rpm "$T/rpms"
# Paths where the folder subsets (image/fcsubset.c) have most to get right:
# home folders (regexes with alternatives), the aliases of .subs_dist (/lib,
# /usr/lib64, /var/run, /etc/init.d), exact paths and their neighbours,
# regex characters in names, deep folders, files directly under /.
build_rpm "$T/rpms" <<'SPEC'
Name: tpaths
Version: 1
Release: 1
Summary: paths for the labels
License: MIT
BuildArch: noarch
%description
x
%install
cd %{buildroot}
for f in home/alice/.bashrc home/alice/public_html/index.html home/alice/public_html/cgi-bin/run \
    home/alice/www/logs/a.log home/alice/web/x/.htaccess root/.ssh/authorized_keys \
    lib/x86_64-linux-gnu/libt.so.1 lib/systemd/system/t.service usr/lib64/libt64.so usr/local/lib/t/x \
    var/run/t.pid etc/init.d/tsvc etc/systemd/system/t.service usr/lib/systemd/system/u.service \
    usr/sbin/sshd usr/sbin/sshdx usr/bin/ssh-agent usr/bin/sudo usr/libexec/t/helper \
    'usr/share/t+x/a(b)' 'usr/share/t.x/[c]' usr/share/doc/t/README etc/shadow etc/shadowx etc/a.quota.user \
    var/log/t/t.log var/lib/private/t/s var/spool/cron/crontabs/t opt/t/bin/t srv/www/index.html \
    a/b/c/d/e/f/g/h/deep tfile; do
  mkdir -p "$(dirname "$f")"; printf 'x\n' > "$f"
done
mkdir -p usr/share/emptydir
%files
/home
/root
/lib
/usr/lib64
/usr/local
/var/run
/etc/init.d
/etc/systemd
/usr/lib/systemd
/usr/sbin
/usr/bin/ssh-agent
/usr/bin/sudo
/usr/libexec
/usr/share/t+x
/usr/share/t.x
/usr/share/doc/t
/usr/share/emptydir
/etc/shadow
/etc/shadowx
/etc/a.quota.user
/var/log/t
/var/lib/private
/var/spool
/opt
/srv
/a
/tfile
SPEC
"$IMGTOOL" keygen --out "$T/key" >/dev/null
layout() {  # layout NAME INSTALL [extra lines]
  local name=$1 inst=$2; shift 2
  { printf '[Image]\nSeed=labels\n[Packages]\nDirectory=rpms\nInstall=%s\n' "$inst"
    printf '[Signatures]\nMode=sign\nKey=key/signing.key\nCertificate=key/signing.crt\n'; printf '%s\n' "$@"; } > "$T/$name.conf"
}

layout set "tbase tapp tpaths selinux-policy-default"
check "compose with the set's own policy" "$IMGTOOL" compose "$T/set.conf" -o "$T/set.img" --json-report "$T/set.json" --quiet
check "e2fsck is clean" e2fsck -fn "$T/set.img"
expect_eq "inode size stays 512 (ECDSA signature and label both in the inode)" \
  "$(dumpe2fs -h "$T/set.img" 2>/dev/null | awk -F: '/^Inode size/ {gsub(/[ \t]/, "", $2); print $2}')" 512
expect_eq "no file needs an xattr block" \
  "$(debugfs -R 'stat /usr/bin/hello' "$T/set.img" 2>/dev/null | sed -n 's/.*File ACL: \([0-9]*\).*/\1/p')" 0

# Every inode's label against matchpathcon, with the kernel's view of the
# image (loop mount) where we may mount, else debugfs.
label_of() {
  if [ -n "${MNT:-}" ]; then getfattr -h --absolute-names -n security.selinux --only-values "$MNT$1" 2>/dev/null | tr -d '\0' || true
  else debugfs -R "ea_get $1 security.selinux" "$2" 2>/dev/null | sed -n 's/^security.selinux ([0-9]*) = "\(.*\)\\000"$/\1/p' || true; fi
}
compare_labels() {  # IMAGE: writes mismatches to $T/mismatch, sets NCHECKED
  local img=$1 path type
  MNT=
  if [ "$(id -u)" = 0 ] && mkdir -p "$T/mnt" && mount -o loop,ro "$img" "$T/mnt" 2>/dev/null; then MNT=$T/mnt; fi
  rm -f "$T"/paths.* "$T/want" "$T/got"
  while IFS= read -r path; do
    case $(stat -c %F "$MNT$path") in
      directory) type=dir ;; "symbolic link") type=lnk_file ;; "character special file") type=chr_file ;;
      "block special file") type=blk_file ;; fifo) type=pipe ;; socket) type=sock_file ;; *) type=file ;;
    esac
    printf '%s\n' "$path" >> "$T/paths.$type"
    printf '%s\t%s\n' "$path" "$(label_of "$path" "$img")" >> "$T/got"
  done < <(cd "$MNT/" && find . -xdev | sed 's|^\.||; s|^$|/|')
  if [ -n "$MNT" ]; then umount "$MNT"; MNT=; fi
  # matchpathcon, one run per file type
  for f in "$T"/paths.*; do
    xargs -d '\n' matchpathcon -N -f "$FC" -m "${f##*.}" < "$f" >> "$T/want"
  done
  sed -i 's/\t<<none>>$/\t/' "$T/want"
  NCHECKED=$(wc -l < "$T/got")
  NNONE=$(grep -c $'\t$' "$T/want" || true)  # <<none>>: no label
  diff <(sort "$T/want") <(sort "$T/got") > "$T/mismatch" || true
}
compare_labels "$T/set.img"
expect_eq "every inode's security.selinux equals matchpathcon's ($NCHECKED checked)" "$(head -5 "$T/mismatch")" ""
check "every inode was checked" test "$NCHECKED" -gt 60
used=$(e2fsck -fn "$T/set.img" 2>/dev/null | sed -n 's|.*: \([0-9]*\)/[0-9]* files.*|\1|p')
# every inode in use but the 9 reserved ones other than the root (1, 3-10)
# and those the policy gives <<none>> (/var/run/t.pid is /run/t.pid by
# file_contexts.subs_dist, and /run/.* is <<none>>)
expect_eq "the report counts every labelled inode" "$(python3 -c "import json; print(json.load(open('$T/set.json'))['labelled'])")" "$((used - 9 - NNONE))"
check "some paths have <<none>>" test "$NNONE" -gt 0
expect_eq "/usr/bin/hello is bin_t (debugfs)" "$(MNT= label_of /usr/bin/hello "$T/set.img")" \
  "system_u:object_r:bin_t:s0"
check "security.ima is still there beside it" bash -c "debugfs -R 'ea_list /usr/bin/hello' '$T/set.img' 2>/dev/null | grep -q security.ima"
check "a second build is bit-identical" bash -c "'$IMGTOOL' compose '$T/set.conf' -o '$T/set2.img' --quiet && cmp '$T/set.img' '$T/set2.img'"

check "verify --against the layout checks every label" "$IMGTOOL" verify "$T/set.img" --against "$T/set.conf"
cp "$T/set.img" "$T/relabelled.img"
debugfs -w -R "ea_set /usr/bin/hello security.selinux system_u:object_r:etc_t:s0" "$T/relabelled.img" >/dev/null 2>&1
rc=0; out=$("$IMGTOOL" verify "$T/relabelled.img" --against "$T/set.conf" 2>&1) || rc=$?
expect_eq "verify --against: a wrong label is a violation" "$rc $(grep -c "^/usr/bin/hello: security.selinux 'system_u:object_r:etc_t:s0', the policy says 'system_u:object_r:bin_t:s0'" <<<"$out")" "1 1"

# [SELinux] Policy=: a policy folder on this machine, no policy package.
layout named "tbase tapp tpaths" "[SELinux]" "Policy=$P"
check "compose with [SELinux] Policy=" "$IMGTOOL" compose "$T/named.conf" -o "$T/named.img" --quiet
compare_labels "$T/named.img"
expect_eq "Policy=: every inode equals matchpathcon's ($NCHECKED checked)" "$(head -5 "$T/mismatch")" ""
layout none "tbase tapp"
"$IMGTOOL" compose "$T/none.conf" -o "$T/none.img" --quiet
expect_eq "no policy, no labels" "$(debugfs -R 'ea_list /usr/bin/hello' "$T/none.img" 2>/dev/null | grep -c selinux)" 0

# A config naming a policy the set does not ship is an error.
build_rpm "$T/rpms2" <<'SPEC'
Name: badconfig
Version: 1
Release: 1
Summary: names a policy nobody ships
License: MIT
BuildArch: noarch
%description
x
%install
mkdir -p %{buildroot}/etc/selinux
printf 'SELINUXTYPE=targeted\n' > %{buildroot}/etc/selinux/config
%files
/etc/selinux/config
SPEC
cp "$T"/rpms/t*.rpm "$T/rpms2/"
sed 's/^Directory=.*/Directory=rpms2/; s/^Install=.*/Install=tbase tapp badconfig/' "$T/none.conf" > "$T/bad.conf"
expect_fail "a config naming a missing policy" "SELINUXTYPE=targeted, but no package ships /etc/selinux/targeted/contexts/files/file_contexts" \
  "$IMGTOOL" compose "$T/bad.conf" -o "$T/bad.img"
finish
