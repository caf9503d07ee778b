#!/usr/bin/env python3
"""check_exports.py LIB HEADER FORMER: libsalvo exports exactly its public
API, no more and no less: every function and object salvo.h declares
SALVO_EXTERN (salvo__parallel_former under its exported name,
salvo_parallel), and the former names former.c keeps exported."""
import os
import re
import subprocess
import sys

lib, header, former = sys.argv[1:4]
out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                     capture_output=True, text=True).stdout
exported = {line.split()[-1] for line in out.splitlines()} - {"_init", "_fini"}


def declared_in(path):
    text = re.sub(r"/\*.*?\*/", "", open(path).read(), flags=re.S)
    names = set()
    # A declaration runs from SALVO_EXTERN at a line's start to its ';'.
    for decl in re.findall(r"^SALVO_EXTERN\b([^;]*);", text, re.M):
        asm = re.search(r'__asm__\("(\w+)"\)', decl)
        if asm:
            names.add(asm.group(1))
            continue
        names.add(re.search(r"(\w+)\s*[(\[]", decl).group(1))
    return names


# salvo.h and the parts it includes from include/salvo/ (not the
# adapters, which are header-only).
parts = [os.path.join(os.path.dirname(header), "salvo", f) for f in
         sorted(os.listdir(os.path.join(os.path.dirname(header), "salvo")))
         if f.endswith(".h")]
declared = declared_in(header) | declared_in(former)
for p in parts:
    declared |= declared_in(p)
if declared != exported:
    print("declared but not exported:", sorted(declared - exported))
    print("exported but not declared:", sorted(exported - declared))
    sys.exit(1)
print(f"exports ok: {len(exported)} symbols, each declared in salvo.h")
