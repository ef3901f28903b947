#!/usr/bin/env python3
"""The library's floors, checked: a module may include headers from its own
floor and the floors below it, never from a floor above (an "arrow back up"),
and no two modules may include each other, directly or through others (a
"circle").  imgtool/lib/README.md draws the floors; FLOORS below is the rule.

Usage: check-layers.py [SRCDIR]   exit 0 when the tree keeps the rule, 1 with
one line per arrow up or circle that is not in KNOWN (debts being paid off:
each entry names the fix), 2 for a usage error.
"""
import os, re, sys

# bottom to top; a module's folder is its floor
FLOORS = ['base', 'ima', 'layout', 'rpm', 'ext4', 'boot', 'image', 'attest']

# Arrows up and circles that existed when the floors were drawn, all paid
# off since; the check keeps it so.  Never add one.
KNOWN_ARROWS = set()
KNOWN_CIRCLES = set()

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z0-9_]+)/([a-z0-9_]+)\.h"', re.M)


def modules(lib):
    mods = {}
    for floor in sorted(os.listdir(lib)):
        d = os.path.join(lib, floor)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith(('.c', '.h')):
                mods.setdefault(f'{floor}/{f[:-2]}', []).append(os.path.join(d, f))
    return mods


def edges(mods):
    out = {m: set() for m in mods}
    for m, files in mods.items():
        for path in files:
            for floor, name in INCLUDE.findall(open(path, encoding='utf-8').read()):
                dep = f'{floor}/{name}'
                if dep != m and dep in mods:
                    out[m].add(dep)
    return out


def circles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, comps, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1
        stack.append(v); on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop(); on.discard(w); comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(frozenset(comp))
    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


def main():
    if len(sys.argv) > 2:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    src = sys.argv[1] if len(sys.argv) == 2 else os.path.join(os.path.dirname(__file__), '..')
    lib = os.path.join(src, 'imgtool', 'lib')
    mods = modules(lib)
    bad = 0
    for m in mods:
        if m.split('/')[0] not in FLOORS:
            print(f'{m}: folder {m.split("/")[0]} is not a floor (tests/check-layers.py FLOORS)')
            bad += 1
    graph = edges(mods)
    rank = {f: i for i, f in enumerate(FLOORS)}
    arrows = sorted((m, d) for m, ds in graph.items() for d in ds
                    if rank.get(d.split('/')[0], 0) > rank.get(m.split('/')[0], 0))
    comps = circles(graph)
    for a in arrows:
        if a not in KNOWN_ARROWS:
            print(f'arrow up: {a[0]} includes {a[1]}.h (floor {a[1].split("/")[0]} is above {a[0].split("/")[0]})')
            bad += 1
    for c in comps:
        if c not in KNOWN_CIRCLES:
            print('circle: ' + ' <-> '.join(sorted(c)))
            bad += 1
    print(f'layers: {len(mods)} modules on {len(FLOORS)} floors, {len(arrows)} arrows up '
          f'({len(KNOWN_ARROWS & set(arrows))} known), {len(comps)} circles '
          f'({len(KNOWN_CIRCLES & set(comps))} known)')
    for a in sorted(KNOWN_ARROWS - set(arrows)):
        print(f'fixed (remove from KNOWN_ARROWS): {a[0]} -> {a[1]}')
    for c in KNOWN_CIRCLES - set(comps):
        print('fixed (remove from KNOWN_CIRCLES): ' + ' <-> '.join(sorted(c)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
