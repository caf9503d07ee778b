#!/usr/bin/env python3
"""src/ has no include cycles between modules: a module is a .c file and its
header (in src/ or a folder of it, named by its path: curl/easy); it
depends on the modules whose headers its .c or .h includes, by a path
relative to its own folder. Prints the module graph and fails on a
cycle."""
import os
import re
import sys

src = os.path.normpath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "src"))
deps = {}
for folder, _, names in sorted(os.walk(src)):
    for name in sorted(names):
        base, ext = os.path.splitext(name)
        if ext not in (".c", ".h"):
            continue
        mod = os.path.relpath(os.path.join(folder, base), src)
        with open(os.path.join(folder, name)) as f:
            incs = re.findall(r'^#include "([\w./]+)\.h"', f.read(), re.M)
        for i in incs:
            target = os.path.normpath(os.path.join(folder, i))
            dep = os.path.relpath(target, src)
            if dep != mod and os.path.exists(target + ".h"):
                deps.setdefault(mod, set()).add(dep)
        deps.setdefault(mod, set())

state = {}


def visit(m, path):
    if state.get(m) == "done":
        return
    if state.get(m) == "open":
        cycle = path[path.index(m):] + [m]
        sys.exit("include cycle: " + " -> ".join(cycle))
    state[m] = "open"
    for d in sorted(deps.get(m, ())):
        visit(d, path + [m])
    state[m] = "done"


for m in sorted(deps):
    visit(m, [])
for m in sorted(deps):
    print(f"{m}: {' '.join(sorted(deps[m])) or '-'}")
print(f"includes ok: {len(deps)} modules, no cycle")
