#!/usr/bin/env python3
"""Every relative link of README.md, docs/*.md, layouts/README.md and
keys/README.md names a file that exists, and a #anchor one of its headings
(GitHub's anchors: lower case, punctuation dropped, spaces to '-').

Usage: check-doc-links.py [SRCDIR]   exit 0, or 1 with one line per bad link."""
import glob
import os
import re
import sys


def anchors(path):
    out, fence = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        m = None if fence else re.match(r"^#+ (.*)", line)
        if m:
            out.add(re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-"))
    return out


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "."
    files = [os.path.join(src, "README.md")] + sorted(glob.glob(os.path.join(src, "docs", "*.md")))
    files += [os.path.join(src, "layouts", "README.md"), os.path.join(src, "keys", "README.md")]
    bad = 0
    for f in files:
        for m in re.finditer(r"\]\(([^)\s]+)\)", open(f, encoding="utf-8").read()):
            link = m.group(1)
            if re.match(r"^[a-z]+:", link):
                continue
            target, _, anchor = link.partition("#")
            path = os.path.normpath(os.path.join(os.path.dirname(f), target)) if target else f
            where = os.path.relpath(f, src)
            if not os.path.exists(path):
                print("%s: link to a missing file: %s" % (where, link))
                bad += 1
            elif anchor and path.endswith(".md") and anchor not in anchors(path):
                print("%s: link to a missing heading: %s" % (where, link))
                bad += 1
    sys.exit(1 if bad else 0)


main()
