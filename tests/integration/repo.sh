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
finish
