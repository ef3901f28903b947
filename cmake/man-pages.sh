#!/bin/sh
# Write every man page the imgtool just built generates into OUT (CMakeLists.txt):
# OUT/man1/imgtool.1, OUT/man1/imgtool-COMMAND.1 for each command `imgtool help`
# lists, OUT/man5/imgtool-layout.5.  Usage: man-pages.sh IMGTOOL OUT
set -eu
imgtool=$1 out=$2
rm -rf "$out"
mkdir -p "$out/man1" "$out/man5"
"$imgtool" help --man > "$out/man1/imgtool.1"
for c in $("$imgtool" help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }'); do
  "$imgtool" help --man "$c" > "$out/man1/imgtool-$c.1"
done
"$imgtool" help --man layout > "$out/man5/imgtool-layout.5"
