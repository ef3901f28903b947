#!/usr/bin/env bash
# imgtool's one entry point for building, testing and the demo.
#   ./build.sh [build]   build into build/
#   ./build.sh deps      install the Debian packages imgtool needs (as root)
#   ./build.sh test      deps + build + the whole test suite (ctest), then the
#                        same suite without the boot tests under ASan+UBSan,
#                        then every fuzz harness for 20 s
#   ./build.sh release   Release builds with gcc and with clang, warnings as
#                        errors (what packagers build; CI runs it)
#   ./build.sh fuzz [S]  the libFuzzer harnesses of tests/fuzz, S seconds each
#                        (default 60)
#   ./build.sh demo      deps + build + compose, verify and boot the demo layout
#   ./build.sh bench     deps + build + the benchmark (bench/README.md)
#   ./build.sh kernel    fetch the test kernel into build/kernel/ (cached)
#   ./build.sh install [PREFIX]  build, then install into PREFIX (default
#                        /usr/local): bin/imgtool, libexec/imgtool (the boot
#                        harness, guest probes), the man page, bash completion
set -euo pipefail
cd "$(dirname "$0")"
SRC=$PWD
BUILD=${IMGTOOL_BUILD:-$SRC/build}
JOBS=$(nproc)

# Everything comes from Debian.  Why each is there: README.md "Dependencies".
DEB_PACKAGES=(
  build-essential cmake pkg-config
  librpm-dev rpm rpm2cpio              # read/write RPMs; rpm is a test oracle
  libext2fs-dev e2fsprogs              # write/read ext4; e2fsck/debugfs oracles
  libarchive-dev                       # initramfs cpio
  libssl-dev openssl                   # keys, signatures, hashes
  libinih-dev libjson-c-dev            # layouts (INI), reports (JSON)
  libcap-dev                           # file capabilities text -> security.capability
  libsqlite3-dev                       # the image's rpmdb: journal mode for read-only media
  libfsverity-dev fsverity             # fs-verity Merkle trees and digests; `fsverity digest/sign` oracles
  libcmocka-dev                        # unit tests
  libtpms-dev swtpm swtpm-tools        # TPM: in-process PCR test, QEMU's TPM
  qemu-system-x86 qemu-utils           # boot test (qemu-img: the overlay that keeps images unwritten)
  ima-evm-utils attr keyutils          # evmctl/getfattr oracles
  libcap2-bin gpg                      # getcap oracle; OpenPGP-signed test packages (GpgKey=)
  zstd cpio dpkg-dev util-linux        # payloads, initramfs checks, apt-get download
  python3 libzstd-dev                  # bench/: corpus and runner; the bound's zstd
  python3-matplotlib                   # bench/scale: the PNG plot of time and RSS against files
  python3-jsonschema python3-cryptography  # tests: Keylime's schema and keyring code (tests/data/keylime); attest_forge.py's software TPM
  groff-base bsdextrautils xz-utils    # tests: the man page rendered by groff, col; .ko.xz modules
  busybox-static                       # the shell of the boot test image
  liblua5.4-dev                        # Scriptlets=run: the static runner of -p <lua> scriptlets (init/lua)
  libsolv-dev libsolvext-dev           # Repository=: rpm-md metadata and the dependency solver
  createrepo-c                         # tests and bench: rpm-md repositories from rpmbuild packages
  libselinux1-dev                      # SELinux labels (selabel_lookup on the policy's file_contexts)
  libpcre2-dev                         # SELinux labels: file_contexts cut per folder (partial matching with libselinux's regex library)
  selinux-policy-default selinux-utils # tests: a real policy (rebuilt as an RPM), matchpathcon oracle
  systemd                              # tests: systemd-sysusers --root, the users oracle
  libfdisk-dev fdisk                   # Format=disk: GPT (libfdisk); sfdisk -d in tests
  dosfstools mtools                    # Format=disk: the ESP (mkfs.fat, mmd/mcopy); fsck.fat in tests
  systemd-boot-efi                     # Format=disk: systemd-stub, the UKI's PE
  ovmf                                 # qemu-test/run --uefi: OVMF_CODE_4M.secboot.fd, blank vars
  sbsigntool efitools tpm2-tools       # oracles: sbverify, sign-efi-sig-list, tpm2_eventlog
  clang libclang-rt-14-dev             # CI's second compiler; libFuzzer for tests/fuzz
  libengine-pkcs11-openssl libp11-kit-dev  # Key=pkcs11:...: libp11's OpenSSL engine; p11-kit's URI matching names a missing token
  softhsm2 opensc                      # tests: a software PKCS#11 token (SoftHSM2) and pkcs11-tool to fill it
  tpm2-openssl                         # Key=handle:0x81... / TSS2 key files: OpenSSL's tpm2 provider (swtpm in tests)
  strace                               # tests: robust.sh stops verify at a known read (inject=...:signal=SIGSTOP)
)
KERNEL_PKG=linux-image-6.12-cloud-amd64

log() { printf '==> %s\n' "$*" >&2; }

deps() {
  local missing=()
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "build.sh: missing Debian packages: ${missing[*]} (run './build.sh deps' as root)" >&2
    exit 1
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # With recommends, as the environment the suite was proven in (qemu-img,
  # for one, is only a recommendation of qemu-system-x86).
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

build() {
  local dir=${1:-$BUILD}; shift || true
  mkdir -p "$dir"
  cmake -S "$SRC" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMGTOOL_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS" -- --no-print-directory >/dev/null 2>"$dir/build.err" \
    || { cat "$dir/build.err" >&2; exit 1; }
}

# The test kernel: Debian's 6.12 cloud kernel (ext4, NVMe, ECDSA built in).
kernel() {
  local kdir=$BUILD/kernel
  if ls "$kdir"/vmlinuz 2>/dev/null >/dev/null; then echo "$kdir/vmlinuz"; return; fi
  mkdir -p "$kdir"
  # Tests running side by side (ctest -j) may all ask for the kernel at once:
  # one fetches, the others wait for it and then find it.
  exec 9>"$kdir/.fetch.lock"
  flock 9
  if ls "$kdir"/vmlinuz 2>/dev/null >/dev/null; then echo "$kdir/vmlinuz"; return; fi
  log "fetching $KERNEL_PKG"
  ( cd "$kdir" && { apt-get download "$KERNEL_PKG" >/dev/null 2>&1 || { apt-get update -qq && apt-get download "$KERNEL_PKG" >/dev/null; }; } )
  local deb
  deb=$(ls "$kdir"/linux-image-6.12*-cloud-amd64*.deb | head -n1)
  # The meta package depends on the versioned one; fetch that too.
  if ! dpkg-deb -c "$deb" | grep -q 'boot/vmlinuz'; then
    local real
    real=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | grep -o 'linux-image-6[^ ]*' | head -n1)
    ( cd "$kdir" && apt-get download "$real" >/dev/null )
    deb=$(ls "$kdir"/"$real"_*.deb | head -n1)
  fi
  dpkg-deb -x "$deb" "$kdir/root"
  cp "$(ls "$kdir"/root/boot/vmlinuz-* | head -n1)" "$kdir/vmlinuz.tmp"
  mv "$kdir/vmlinuz.tmp" "$kdir/vmlinuz"
  echo "$kdir/vmlinuz"
}

# What distribution packagers build: Release, with gcc and with clang.  A
# warning either compiler gives fails the build here, not on their machines.
release() {
  local cc
  for cc in gcc clang; do
    log "Release build with $cc (warnings are errors)"
    CC=$cc build "$BUILD-release-$cc" -DCMAKE_BUILD_TYPE=Release
  done
}

# The libFuzzer harnesses (tests/fuzz/README.md), SECONDS each, from the
# committed seeds; new inputs go to build-fuzz/corpus, crashes to
# build-fuzz/crashes.  Fails if any harness finds a crash.
fuzz() {
  local secs=${1:-60} dir=$BUILD-fuzz rc=0 h log execs
  CC=clang build "$dir" -DIMGTOOL_FUZZ=ON
  for h in $(cd "$SRC/tests/fuzz/corpus" && ls); do
    mkdir -p "$dir/corpus/$h" "$dir/crashes"
    log "fuzz $h for ${secs} s"
    log=$dir/fuzz-$h.log
    if ! "$dir/tests/fuzz/fuzz-$h" -max_total_time="$secs" -print_final_stats=1 \
        -timeout=20 -rss_limit_mb=2048 -artifact_prefix="$dir/crashes/$h-" \
        "$dir/corpus/$h" "$SRC/tests/fuzz/corpus/$h" >"$log" 2>&1; then
      tail -n 40 "$log" >&2
      echo "build.sh: fuzz $h found a crash: $(ls -t "$dir"/crashes/"$h"-* 2>/dev/null | head -n1)" >&2
      rc=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz $h: ${execs:-?} executions in ${secs} s, corpus $(ls "$dir/corpus/$h" | wc -l) inputs"
  done
  return $rc
}

run_tests() {
  deps
  build "$BUILD"
  kernel >/dev/null
  log "test suite"
  local rc=0
  (cd "$BUILD" && ctest --output-on-failure -j "$JOBS") || rc=$?
  log "test suite under ASan+UBSan (QEMU boots excluded)"
  build "$BUILD-asan" -DIMGTOOL_SANITIZE=ON
  (cd "$BUILD-asan" && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$JOBS" -LE qemu) || rc=$?
  log "fuzz harnesses, 20 s each"
  fuzz 20 || rc=$?
  return $rc
}

case "${1:-build}" in
  build) deps; build "$BUILD"; echo "$BUILD/imgtool" ;;
  deps) deps ;;
  kernel) deps; kernel ;;
  test) run_tests ;;
  install) deps; build "$BUILD"; cmake --install "$BUILD" --prefix "${2:-/usr/local}" >/dev/null
           echo "${2:-/usr/local}/bin/imgtool" ;;
  demo) deps; build "$BUILD"; kernel >/dev/null; exec "$SRC/layouts/demo/run-demo" "$BUILD" ;;
  bench) deps; build "$BUILD"; exec "$SRC/bench/run" "$BUILD" "${@:2}" ;;
  release) deps; release ;;
  fuzz) deps; fuzz "${2:-60}" ;;
  *) echo "usage: ./build.sh [build|deps|test|release|fuzz [SECONDS]|demo|bench|kernel|install [PREFIX]]" >&2; exit 2 ;;
esac
