# The CLI convention (imgtool/cmd/cmd.h), for every command `imgtool help`
# lists: --help exits 0 with a line per option, `help CMD` prints the same,
# every option the help lists is one the command accepts, global options
# work after the command, errors are one line with exit 2; the man page and
# the bash completion are generated from the same tables.
source "$SRCDIR/tests/integration/lib.sh"
cd "$T"

cmds=$("$IMGTOOL" help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
expect_eq "help lists the commands" "$(wc -w <<<"$cmds")" "$(grep -c '^        &cmd_' "$SRCDIR/imgtool/main.c")"
for c in $cmds; do
  rc=0; "$IMGTOOL" "$c" --help > "help.$c" 2>&1 || rc=$?
  expect_eq "$c --help exits 0" "$rc" 0
  check "$c --help starts with its usage" grep -q "^Usage: imgtool $c " "help.$c"
  check "help $c equals $c --help" cmp -s "help.$c" <("$IMGTOOL" help "$c")
  check "$c -h equals $c --help" cmp -s "help.$c" <("$IMGTOOL" "$c" -h)
  check "$c: global options after the command (-v --help)" cmp -s "help.$c" <("$IMGTOOL" "$c" -v --help)
  check "$c: exit codes documented" grep -q '^Exit codes:' "help.$c"
  check "$c: exit code 0 documented" grep -Eq '^  0 +[a-z]' "help.$c"
  # One line per option: "  -x, --name ARG  Sentence." (the sentence may wrap).
  opts=$(sed -n '/^Options:/,/^$/p' "help.$c" | grep -E '^  (-[a-zA-Z], |    )--' || true)
  bad=$(sed -n '/^Options:/,/^$/p' "help.$c" | sed 1d | grep -Ev '^  (-[a-zA-Z], |    )--[a-z0-9-]+( [A-Z.=_]+|\[=[A-Z]+\])? +[A-Z]|^  (-[a-zA-Z], |    )--[a-z0-9-]+( [A-Z.=_]+|\[=[A-Z]+\])?$|^ {26}[^ ]|^$' || true)
  expect_eq "$c: every option line has a long name and a sentence" "$bad" ""
  # Each listed option is one the command's parser accepts.
  while read -r line; do
    [ -n "$line" ] || continue
    name=$(grep -Eo -- '--[a-z0-9-]+' <<<"$line" | head -n1)
    arg=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^--/) { print $(i + 1); exit } }' <<<"$line")
    if [[ $arg =~ ^[A-Z] ]]; then set -- "$name" x; else set -- "$name"; fi
    err=$("$IMGTOOL" "$c" "$@" 2>&1 </dev/null >/dev/null || true)
    if grep -q 'unknown option' <<<"$err"; then fail "$c $name: listed but refused: $err"; fi
  done <<<"$opts"
  expect_fail "$c: an unknown option is one line, exit 2" "^imgtool: $c: unknown option --no-such-option \(see 'imgtool $c --help'\)$" \
    "$IMGTOOL" "$c" --no-such-option
done
expect_eq "--version" "$("$IMGTOOL" --version)" "$("$IMGTOOL" compose --version)"
check "--version names imgtool" grep -q '^imgtool [0-9]' <<<"$("$IMGTOOL" --version)"
expect_fail "not a command" "^imgtool: 'frobnicate' is not a command" "$IMGTOOL" frobnicate
expect_fail "help of not a command" "'frobnicate' is not a command" "$IMGTOOL" help frobnicate
check "-v before the command" cmp -s help.compose <("$IMGTOOL" -v help compose)
rc=0; "$IMGTOOL" compose >/dev/null 2>err || rc=$?
expect_eq "a missing argument: exit 2" "$rc" 2
check "a missing argument: one line pointing at --help" grep -q "see 'imgtool compose --help'" err

# The man pages: imgtool(1) lists every command's page, each command has its
# own (imgtool-CMD(1), its options and exit codes), the layout has
# imgtool-layout(5) with every key; groff finds nothing to warn about in any.
man_txt() { groff -man -Tascii -ww "$1" 2>> groff.err | col -bx; }
: > groff.err
"$IMGTOOL" help --man > imgtool.1
man_txt imgtool.1 > imgtool.txt
for c in $cmds; do
  check "imgtool(1) names imgtool-$c(1)" grep -q "^       imgtool-$c(1)\$" imgtool.txt
  "$IMGTOOL" help --man "$c" > "imgtool-$c.1"
  man_txt "imgtool-$c.1" > "imgtool-$c.txt"
  check "imgtool-$c(1): its NAME line" grep -Eq "^ +imgtool-$c +- " "imgtool-$c.txt"
  check "imgtool-$c(1): its synopsis" grep -Eq "^ +imgtool +$c( |\$)" "imgtool-$c.txt"
  check "imgtool-$c(1): its exit codes" grep -q '^EXIT STATUS' "imgtool-$c.txt"
done
check "imgtool-compose(1) has compose's options" grep -q -- '--json-report FILE' imgtool-compose.txt
"$IMGTOOL" help --man layout > imgtool-layout.5
man_txt imgtool-layout.5 > imgtool-layout.txt
expect_eq "imgtool-layout(5): every key of the layout" "$(grep -cE '^       [A-Za-z]+= ' imgtool-layout.txt)" \
  "$(grep -c '^| `[A-Za-z]*=`' "$SRCDIR/layouts/README.md")"
expect_eq "man pages render without warnings" "$(cat groff.err)" ""
if [ -d "$BUILDDIR/man" ]; then
  check "the build's imgtool(1) is the generated one" cmp -s imgtool.1 "$BUILDDIR/man/man1/imgtool.1"
  check "the build's imgtool-compose(1) is the generated one" cmp -s imgtool-compose.1 "$BUILDDIR/man/man1/imgtool-compose.1"
  check "the build's imgtool-layout(5) is the generated one" cmp -s imgtool-layout.5 "$BUILDDIR/man/man5/imgtool-layout.5"
  expect_eq "the build has a page per command" "$(ls "$BUILDDIR/man/man1" | wc -l)" "$(($(wc -w <<<"$cmds") + 1))"
fi
# `imgtool help layout`: every key as text; the Markdown of layouts/README.md's key tables.
"$IMGTOOL" help layout > layout.txt
expect_eq "help layout: every key" "$(grep -cE '^  [A-Za-z]+= ' layout.txt)" "$(grep -c '^| `[A-Za-z]*=`' "$SRCDIR/layouts/README.md")"
check "layouts/README.md's key tables are the generated ones" python3 "$SRCDIR/tests/layout-doc.py" "$IMGTOOL" "$SRCDIR/layouts/README.md"
expect_fail "help --markdown is for layout only" "^imgtool: help: --markdown is for 'layout' only" "$IMGTOOL" help --markdown compose

# The bash completion: commands, then a command's options.
"$IMGTOOL" help --bash-completion > completion.bash
complete_words() { bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _imgtool; echo "${COMPREPLY[*]}"' _ completion.bash "$@"; }
expect_eq "completion: commands" "$(complete_words imgtool comp)" "compose"
check "completion: compose's options" grep -qw -- '--json-report' <<<"$(complete_words imgtool compose --js)"
check "completion: help completes commands" grep -qw 'init-layout' <<<"$(complete_words imgtool help init)"

# --json-report -: the JSON on stdout, and nothing else there.
build_rpm rpms <<'EOF2'
Name: cli-one
Version: 1
Release: 1
Summary: one file
License: MIT
BuildArch: noarch
%description
test
%install
mkdir -p %{buildroot}/etc && echo hi > %{buildroot}/etc/one
%files
/etc/one
EOF2
"$IMGTOOL" keygen --out k >/dev/null
printf '[Packages]\nDirectory=rpms\nInstall=cli-one\n[Signatures]\nMode=sign\nKey=k/signing.key\nCertificate=k/signing.der\n' > one.conf
"$IMGTOOL" compose one.conf -o one.img --json-report - > stdout.json
expect_eq "--json-report -: stdout is the JSON report" \
  "$(python3 -c 'import json; r = json.load(open("stdout.json")); print(r["schema"], r["files"], r["written"])')" "1 1 ['one.img']"

# init-layout: makes its folder, keeps an existing layout unless --force.
check "init-layout makes DIR and a key" sh -c '"$0" init-layout new/os --from-rpms rpms >/dev/null && test -s new/os/keys/signing.key' "$IMGTOOL"
check "init-layout names the packages" grep -qx 'Install=cli-one' new/os/image.conf
expect_fail "init-layout keeps an existing layout" 'image.conf: already exists \(use --force' "$IMGTOOL" init-layout new/os --from-rpms rpms
check "init-layout --force replaces it" sh -c '"$0" init-layout new/os --from-rpms rpms --force >/dev/null' "$IMGTOOL"

# imgtool summary: every key, its value and its origin.
printf '[Packages]\nDirectory=/r\nInstall=a\nInstall=b\n[Signatures]\nCertificate=/c.der\n' > s.conf
"$IMGTOOL" summary s.conf --set Image.Label=root > summary.out
check "summary: a key from the file, with its last line" grep -Eq '^Install=a b +# s.conf:4$' summary.out
check "summary: a key from --set" grep -Eq '^Label=root +# --set$' summary.out
check "summary: a default" grep -Eq '^Mode=package +# default$' summary.out
expect_eq "summary: every key of layouts/README.md" "$(grep -c '^[A-Za-z]*=' summary.out)" \
  "$(grep -c '^| `[A-Za-z]*=`' "$SRCDIR/layouts/README.md")"
printf '[Packages]\nColour=red\n' > bad.conf
expect_fail "summary: a bad layout names file and line" '^imgtool: bad.conf:2: unknown key \[Packages\] Colour' \
  "$IMGTOOL" summary bad.conf
finish
