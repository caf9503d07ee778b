#!/usr/bin/env python3
"""check_coverage.py SRCDIR PYDIR: every public name is exercised by a
test. Lists, and fails on, any

- function or object salvo.h declares SALVO_EXTERN that no C test, unit
  test or example run by ctest calls (the former names of former.c count
  through test_core's test_former_names);
- command option (cli/options.def) that tests/test_cli*.py never pass,
  in its long or its short form;
- name of the Python package (salvo.__all__, and the public methods and
  properties of its classes) that no test under tests/python uses.

A use is the name in the tests' text: a call, an attribute, an option.
It is a floor, not a proof: it finds what no test touches at all."""
import inspect
import os
import re
import sys

src, pydir = sys.argv[1:3]


def read_all(paths):
    text = ""
    for p in paths:
        with open(p, errors="replace") as f:
            text += f.read() + "\n"
    return text


def files(d, ext):
    out = []
    for root, _, names in os.walk(d):
        out += [os.path.join(root, n) for n in names if n.endswith(ext)]
    return sorted(out)


missing = []

# C: SALVO_EXTERN declarations of salvo.h.
inc = os.path.join(src, "include")
header = re.sub(r"/\*.*?\*/", "", "".join(
    open(p).read() for p in [os.path.join(inc, "salvo.h")] + sorted(
        os.path.join(inc, "salvo", f) for f in os.listdir(
            os.path.join(inc, "salvo")) if f.endswith(".h"))), flags=re.S)
c_names = set()
for decl in re.findall(r"^SALVO_EXTERN\b([^;]*);", header, re.M):
    m = re.search(r"(\w+)\s*[(\[]", decl)
    if m and not m.group(1).startswith("salvo__"):
        c_names.add(m.group(1))
# Function-like macros of the API (salvo_config_init...) count as names too.
c_names |= set(re.findall(r"^#define (salvo_\w+)\(", header, re.M))
c_tests = read_all(files(os.path.join(src, "tests"), ".c") +
                   files(os.path.join(src, "examples"), ".c"))
# A macro of the API that expands to a name (SALVO_NO_VALUE, salvo_urls_init)
# uses that name wherever the macro is used.
aliases = {}
for macro, body in re.findall(r"^#define (\w+)(?:\([^)]*\))?\s+(.*)$", header,
                              re.M):
    for n in re.findall(r"\b(salvo_\w+)\b", body):
        aliases.setdefault(n, []).append(macro)
for n in sorted(c_names):
    if not any(re.search(r"\b%s\b" % w, c_tests)
               for w in [n] + aliases.get(n, [])):
        missing.append(f"C function {n}")

# The command's options.
opts = open(os.path.join(src, "cli/options.def")).read()
cli_tests = read_all([os.path.join(src, "tests", f) for f in (
    "test_cli.py", "test_cli_runs.py", "test_cli_options.py")])
for long_, short in re.findall(r'^OPT\(\s*\w+,\s*"([^"]+)",\s*(\'.\'|0)', opts,
                               re.M):
    used = re.search(r'"--%s(=|")' % re.escape(long_), cli_tests)
    if short != "0":
        used = used or re.search(r'"-%s"' % re.escape(short[1]), cli_tests)
    if not used:
        missing.append(f"command option --{long_}")

# Python: the package's public surface.
sys.path.insert(0, pydir)
import salvo  # noqa: E402

py_tests = read_all(files(os.path.join(src, "tests/python"), ".py"))
seen = set()
for name in salvo.__all__:
    if not re.search(r"\b%s\b" % name, py_tests):
        missing.append(f"Python salvo.{name}")
    obj = getattr(salvo, name)
    if not inspect.isclass(obj) or issubclass(obj, BaseException):
        continue
    # An enum's members (salvo.codes' 62, and their lower-case aliases)
    # are its data: its methods are checked.
    data = {m for m in getattr(obj, "__members__", {})}
    data |= {m.lower() for m in data}
    for attr, _ in inspect.getmembers(obj):
        if attr.startswith("_") or (obj.__name__, attr) in seen or \
                attr in data:
            continue
        seen.add((obj.__name__, attr))
        # Inherited from a builtin (dict, str...) or enum: not salvo's.
        if any(attr in vars(b) for b in obj.__mro__
               if b.__module__ in ("builtins", "enum", "collections.abc")):
            continue
        if not re.search(r"\.%s\b" % attr, py_tests):
            missing.append(f"Python salvo.{name}.{attr}")

for m in missing:
    print(f"not exercised by any test: {m}")
print(f"{len(c_names)} C names, {len(re.findall(r'^OPT', opts, re.M))} "
      f"options, {len(salvo.__all__)} Python names checked; "
      f"{len(missing)} not exercised")
sys.exit(1 if missing else 0)
