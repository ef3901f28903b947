# Shared helpers for integration tests.  Source it; it sets -euo pipefail,
# makes $T (a scratch folder removed on exit) and defines assertions that
# print what differed.
set -euo pipefail
: "${IMGTOOL:?run through ctest (IMGTOOL unset)}"
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FIXTURES:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/imgtool-test.XXXXXX")
chmod 755 "$T"
# KEEP_T=1 keeps the scratch folder for debugging.
trap '[ -n "${KEEP_T:-}" ] && echo "kept $T" || rm -rf "$T"' EXIT
FAILS=0
PASSES=0

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; PASSES=$((PASSES + 1)); }

# check DESC CMD...: the command must succeed
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d (command: $*)"; fi; }

# expect_eq DESC GOT WANT
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi; }

# expect_fail DESC PATTERN CMD...: command exits non-zero, its stderr
# matches PATTERN (extended regex) and is one line.
expect_fail() {
  local d=$1 pat=$2; shift 2
  local err rc=0
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  if [ "$rc" -eq 0 ]; then fail "$d: exit 0, want failure"; return; fi
  if ! grep -Eq -- "$pat" <<<"$err"; then fail "$d: stderr '$err' does not match /$pat/"; return; fi
  if [ "$(printf "%s\n" "$err" | wc -l)" -ne 1 ]; then fail "$d: error is not one line: $err"; return; fi
  pass "$d (exit $rc): $err"
}

# Build a test RPM with rpmbuild from a spec given on stdin.
# build_rpm OUTDIR < spec
build_rpm() {
  local out=$1 top
  top=$(mktemp -d "$T/rpmbuild.XXXXXX")
  mkdir -p "$top"/{SPECS,SOURCES,BUILD,RPMS,SRPMS,BUILDROOT}
  cat > "$top/SPECS/pkg.spec"
  rpmbuild --quiet --define "_topdir $top" --define '_binary_payload w19.zstdio' \
    --define '__os_install_post %{nil}' --define 'debug_package %{nil}' \
    --define '_build_id_links none' -bb "$top/SPECS/pkg.spec" >"$top/log" 2>&1 \
    || { cat "$top/log" >&2; return 1; }
  mkdir -p "$out"
  find "$top/RPMS" -name '*.rpm' -exec mv {} "$out"/ \;
}

# rpm's own test packages (docs/HACKING.md, "Test fixtures"): a lone clone has none.
# need_fixtures ends the test as skipped (exit 77, ctest's SKIP_RETURN_CODE);
# a test whose other parts run without them guards those parts with
# have_fixtures and calls skipped_part, so finish reports it skipped too.
have_fixtures() { [ -f "$FIXTURES/hello-2.0-1.x86_64.rpm" ]; }
need_fixtures() {
  have_fixtures && return 0
  echo "skipped: rpm's test packages not found at $FIXTURES"
  exit 77
}
SKIPPED=""
skipped_part() { SKIPPED="$SKIPPED${SKIPPED:+, }$1"; }

finish() {
  echo "$PASSES passed, $FAILS failed${SKIPPED:+, skipped: $SKIPPED (no fixtures at $FIXTURES)}"
  [ "$FAILS" -eq 0 ] || return 1
  [ -z "$SKIPPED" ] || exit 77
}
