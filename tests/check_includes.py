#!/usr/bin/env python3
"""src/ has no include cycles between modules: a module is a .c file and its
header; it depends on the modules whose headers its .c or .h includes.
Prints the module graph and fails on a cycle."""
import os
import re
import sys

src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "src")
deps = {}
for name in sorted(os.listdir(src)):
    base, ext = os.path.splitext(name)
    if ext not in (".c", ".h"):
        continue
    with open(os.path.join(src, name)) as f:
        incs = re.findall(r'^#include "([\w.]+)\.h"', f.read(), re.M)
    deps.setdefault(base, set()).update(
        i for i in incs if i != base and os.path.exists(
            os.path.join(src, i + ".h")))

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
