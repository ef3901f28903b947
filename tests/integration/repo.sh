# [Packages] Repository=: an rpm-md repository made by createrepo_c from
# rpmbuild packages, depsolved with libsolv; lockfiles (compose --lock-out,
# Lock=, verify --against LOCK); rpm on the image agrees with the solver.
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/repo-pkgs.sh"

make_repo_packages "$T/repo"
createrepo_c --quiet "$T/repo"
"$IMGTOOL" keygen --out "$T/key" >/dev/null

layout() {  # layout NAME [Packages lines...]
  local name=$1; shift
  { printf '[Image]\nSeed=repo-test\n[Packages]\n'; printf '%s\n' "$@"
    printf '[Signatures]\nMode=sign\nKey=key/signing.key\nCertificate=key/signing.crt\n'; } > "$T/$name.conf"
}
names() { rpm -qp --qf '%{NAME}-%{VERSION}\n' "$@" 2>/dev/null | sort | tr '\n' ' '; }

layout app "Repository=repo" "Install=rapp"
check "Install=rapp composes from the repository" \
  "$IMGTOOL" compose "$T/app.conf" -o "$T/app.img" --quiet --lock-out "$T/app.lock"
expect_eq "the lock holds rapp's chain, newest rlib, weak dep rextra" \
  "$(grep -v '^#' "$T/app.lock" | cut -f1,3 | tr '\t\n' '- ')" "rapp-3.1 rbase-1 rextra-1 rlib-2.0 "
# rpm itself, on the image's own database, agrees with the solver.
debugfs -R "dump /var/lib/rpm/rpmdb.sqlite $T/rpmdb.sqlite" "$T/app.img" >/dev/null 2>&1
mkdir -p "$T/root/var/lib/rpm" && cp "$T/rpmdb.sqlite" "$T/root/var/lib/rpm/"
expect_eq "rpm --root -qa equals the solver's set" \
  "$(rpm --root "$T/root" --dbpath /var/lib/rpm -qa --qf '%{NAME}-%{VERSION}\n' | sort | tr '\n' ' ')" \
  "rapp-3.1 rbase-1 rextra-1 rlib-2.0 "
# A loop mount, where the kernel is available (root): rpm --root MNT -qa.
if [ "$(id -u)" = 0 ] && mkdir -p "$T/mnt" && mount -o loop,ro "$T/app.img" "$T/mnt" 2>/dev/null; then
  got=$(rpm --root "$T/mnt" --dbpath /var/lib/rpm -qa --qf '%{NAME}-%{VERSION}\n' 2>/dev/null | sort | tr '\n' ' ')
  umount "$T/mnt"
  expect_eq "rpm --root MNT -qa on a loop mount equals the solver's set" "$got" "rapp-3.1 rbase-1 rextra-1 rlib-2.0 "
fi

layout noweak "Repository=file://$T/repo" "Install=rapp" "WeakDeps=no"
"$IMGTOOL" compose "$T/noweak.conf" -o "$T/noweak.img" --quiet --lock-out "$T/noweak.lock"
expect_eq "WeakDeps=no leaves rextra out (file:// URL)" \
  "$(grep -v '^#' "$T/noweak.lock" | cut -f1 | tr '\n' ' ')" "rapp rbase rlib "
layout excl "Repository=repo" "Install=rapp" "Exclude=rext*"
"$IMGTOOL" compose "$T/excl.conf" -o "$T/excl.img" --quiet --lock-out "$T/excl.lock"
expect_eq "Exclude= keeps a weak dependency out" "$(grep -v '^#' "$T/excl.lock" | cut -f1 | tr '\n' ' ')" "rapp rbase rlib "

# libsolv's own words for what cannot be solved, naming the packages.
layout missing "Repository=repo" "Install=rbroken"
expect_fail "a missing dependency: libsolv explains" \
  "problem 1: nothing provides libnothere.so.9 needed by rbroken-1-1.noarch" \
  "$IMGTOOL" compose "$T/missing.conf" -o "$T/bad.img"
layout conflict "Repository=repo" "Install=rapp rfight"
expect_fail "a conflict: libsolv explains" "rfight-1-1.noarch conflicts with rlib" \
  "$IMGTOOL" compose "$T/conflict.conf" -o "$T/bad.img"
layout excluded "Repository=repo" "Install=rapp" "Exclude=rlib"
expect_fail "excluding a needed package: libsolv explains" "nothing provides libr.so.2 needed by rapp" \
  "$IMGTOOL" compose "$T/excluded.conf" -o "$T/bad.img"
layout nosuch "Repository=repo" "Install=nosuch"
expect_fail "an unknown name" "Install=nosuch: no package of that name" \
  "$IMGTOOL" compose "$T/nosuch.conf" -o "$T/bad.img"
layout norepo "Repository=nowhere" "Install=rapp"
expect_fail "a folder that is no repository" "nowhere/repodata/repomd.xml" \
  "$IMGTOOL" compose "$T/norepo.conf" -o "$T/bad.img"

# Lock round trip: compose from the lock gives the same bytes, no solver.
"$IMGTOOL" compose "$T/app.conf" -o "$T/app2.img" --quiet --lock-out "$T/app2.lock"
check "lockfile is deterministic" cmp "$T/app.lock" "$T/app2.lock"
layout locked "Lock=app.lock"
check "compose from the lock" "$IMGTOOL" compose "$T/locked.conf" -o "$T/locked.img" --quiet --lock-out "$T/locked.lock"
check "compose -> lock -> compose is bit-identical (image)" cmp "$T/app.img" "$T/locked.img"
check "... and so is the lock" cmp "$T/app.lock" "$T/locked.lock"
check "verify --against the lockfile" "$IMGTOOL" verify "$T/locked.img" --cert "$T/key/signing.crt" --against "$T/app.lock"

# A corrupt package (its bytes differ from primary.xml's checksum) is refused.
cp -a "$T/repo" "$T/repo2"
f=$(ls "$T"/repo2/rlib-2.0-*.rpm)
printf 'X' | dd of="$f" bs=1 seek=$(( $(stat -c %s "$f") - 10 )) conv=notrunc 2>/dev/null
layout corrupt "Repository=repo2" "Install=rapp"
expect_fail "a corrupt package is refused" "rlib-2.0-1.noarch.rpm: sha256 checksum differs from the repository's primary.xml" \
  "$IMGTOOL" compose "$T/corrupt.conf" -o "$T/bad.img"
# The lock names a package that has changed since: refused.
sed "s|\t$T/repo\t|\t$T/repo2\t|" "$T/app.lock" > "$T/changed.lock"
layout changed "Lock=changed.lock"
expect_fail "a lock naming a changed package is refused" "rlib-2.0-1.noarch.rpm changed since it was locked" \
  "$IMGTOOL" compose "$T/changed.conf" -o "$T/bad.img"
rm "$T/repo2/rlib-2.0-1.noarch.rpm"
expect_fail "a lock naming a missing package is refused" "locked package rlib-2.0-1.noarch is missing" \
  "$IMGTOOL" compose "$T/changed.conf" -o "$T/bad.img"
check "no image from refused runs" test ! -e "$T/bad.img"

# ---- Issue 18 item 4: the metadata is not trusted over the package -----------
# refused_compose DESC MESSAGE LAYOUT: exit 2, exactly "imgtool: MESSAGE", no image
refused_compose() {
  local d=$1 want=$2 rc=0 err
  rm -rf "$T/out"; mkdir "$T/out"
  err=$(timeout 120 "$IMGTOOL" compose "$T/$3.conf" -o "$T/out/x.img" --quiet 2>&1) || rc=$?
  expect_eq "$d" "$rc|$err" "2|imgtool: $want"
  expect_eq "$d: nothing left behind" "$(ls -A "$T/out")" ""
}
rewrite() { python3 "$SRCDIR/tests/integration/data/repo-rewrite.py" "$@"; }
# primary.xml says rlib-2.0, its location and checksum are rlib-1.0's file.
cp -a "$T/repo" "$T/down" && rm -rf "$T/down/repodata" && createrepo_c --quiet "$T/down"
rewrite "$T/down" point rlib-2.0 rlib-1.0-1.noarch.rpm
layout down "Repository=down" "Install=rapp"
refused_compose "a downgrade is refused, naming both versions" \
  "$T/down/rlib-1.0-1.noarch.rpm: the package is rlib-1.0-1.noarch, the repository's primary.xml says rlib-2.0-1.noarch (a downgrade or a substitution: refused)" down
# md5: repomd.xml's and primary.xml's checksums.
cp -a "$T/repo" "$T/md5" && rm -rf "$T/md5/repodata" && createrepo_c --quiet -s md5 "$T/md5"
layout md5 "Repository=md5" "Install=rapp"
refused_compose "an md5 repository is refused" \
  "$T/md5/repodata/repomd.xml: md5 checksum for $(sed -n 's|.*<location href="\(repodata/[^"]*primary.xml[^"]*\)".*|\1|p' "$T/md5/repodata/repomd.xml") (imgtool accepts sha256, sha384, sha512)" md5
# A Packages/ folder that is a symlink out of the repository.
mkdir -p "$T/sym/Packages" && cp "$T"/repo/*.rpm "$T/sym/Packages/" && createrepo_c --quiet "$T/sym"
mv "$T/sym/Packages" "$T/elsewhere" && ln -s "$T/elsewhere" "$T/sym/Packages"
layout sym "Repository=sym" "Install=rbase"
refused_compose "a symlinked Packages/ is refused" \
  "$T/sym: package location 'Packages/rbase-1-1.noarch.rpm' leaves the repository (through '..' or a symlink)" sym
# A primary.xml.gz that decompresses past REPO_METADATA_MAX (512 MiB).
cp -a "$T/repo" "$T/bomb" && rm -rf "$T/bomb/repodata" && createrepo_c --quiet "$T/bomb"
rewrite "$T/bomb" bomb 520
layout bomb "Repository=bomb" "Install=rapp"
refused_compose "a primary.xml.gz bomb is refused at the limit" \
  "$T/bomb/$(sed -n 's|.*<location href="\(repodata/[^"]*primary.xml[^"]*\)".*|\1|p' "$T/bomb/repodata/repomd.xml"): larger than 512 MiB decompressed (REPO_METADATA_MAX, the limit for repository metadata)" bomb

# ---- Issue 18 item 5: Lock= locations stay in the repository, regular files ---
lock_at() {  # lock_at NAME LOCATION: app.lock with rlib's location replaced
  awk -F'\t' -v OFS='\t' -v loc="$2" '$1 == "rlib" {$8 = loc} {print}' "$T/app.lock" > "$T/$1.lock"
  layout "$1" "Lock=$1.lock"
}
lock_at shadow ../../../../../../etc/shadow
refused_compose "a lock pointing at ../../etc/shadow is refused, no hash printed" \
  "$T/shadow.lock: rlib-2.0-1.noarch: $T/repo: locked location '../../../../../../etc/shadow' leaves the repository (through '..' or a symlink)" shadow
lock_at zero ../../../../../../dev/zero
refused_compose "a lock pointing at ../../dev/zero is refused at once" \
  "$T/zero.lock: rlib-2.0-1.noarch: $T/repo: locked location '../../../../../../dev/zero' leaves the repository (through '..' or a symlink)" zero
ln -s /dev/zero "$T/repo/zero.rpm"
lock_at zlink zero.rpm
refused_compose "a lock pointing at a symlink to /dev/zero is refused" \
  "$T/zlink.lock: rlib-2.0-1.noarch: $T/repo: locked location 'zero.rpm' leaves the repository (through '..' or a symlink)" zlink
mkfifo "$T/repo/fifo.rpm"
lock_at fifo fifo.rpm
refused_compose "a lock pointing at a FIFO is refused, not read" \
  "$T/fifo.lock: rlib-2.0-1.noarch: $T/repo/fifo.rpm: locked location is not a regular file" fifo
rm "$T/repo/zero.rpm" "$T/repo/fifo.rpm"
finish
