#!/usr/bin/env python3
"""Extract the command blocks of Markdown files, for tests/integration/readme.sh.

A command block is a fenced block whose info string is empty, sh, bash or
console.  In a console block only the lines starting with "$ " are commands
(a trailing backslash continues a line); a command whose next output line
starts with "imgtool: " is an example of an error and must fail.  A block
right after a line "<!-- not run: REASON -->" is skipped (REASON is printed).
Other blocks (text, ini, json, ...) show output or files and are not run.

Writes one file per block into OUTDIR: NNN.sh (the script), NNN.where
("FILE:LINE"), and NNN.skip (the reason) for skipped blocks."""
import os
import re
import sys

RUN_LANGS = {"", "sh", "bash", "console"}


def blocks(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        prev = lines[start - 1].strip() if start > 0 else ""
        skip = re.match(r"^<!--\s*not run:\s*(.*?)\s*-->$", prev)
        yield lang, start + 1, lines[start + 1:j], skip.group(1) if skip else None
        i = j + 1


def console_script(body):
    out, cmd, expect_fail = [], None, False
    k = 0
    while k < len(body):
        line = body[k]
        if line.startswith("$ "):
            cmd = line[2:]
            while cmd.endswith("\\") and k + 1 < len(body):
                k += 1
                cmd = cmd + "\n" + body[k]
            nxt = body[k + 1] if k + 1 < len(body) else ""
            if nxt.startswith("imgtool: "):
                out.append("if ( %s ) >/dev/null 2>&1; then echo 'README: this example should fail' >&2; exit 1; fi" % cmd)
            else:
                out.append(cmd)
        k += 1
    return "\n".join(out)


def main():
    outdir = sys.argv[1]
    n = 0
    for md in sys.argv[2:]:
        for lang, line, body, skip in blocks(md):
            if lang not in RUN_LANGS:
                continue
            n += 1
            base = os.path.join(outdir, "%03d" % n)
            script = console_script(body) if lang == "console" else "\n".join(body)
            open(base + ".sh", "w").write(script + "\n")
            open(base + ".where", "w").write("%s:%d\n" % (md, line))
            if skip is not None:
                open(base + ".skip", "w").write(skip + "\n")
    print(n)


main()
