"""Every ```python block of README.md runs as written: the same text,
with its example.com hosts pointed at faultd's /echo/ (which answers any
path with JSON), in a fresh interpreter. A snippet that needs an edit to
run (a missing import, a coroutine never run) fails here."""
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT


def _blocks():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"^```python\n(.*?)^```$", text, re.M | re.S)


def test_the_readme_has_python_blocks():
    assert len(_blocks()) >= 1


@pytest.mark.parametrize("n", range(len(_blocks())))
def test_readme_block_runs(srv, n):
    code = re.sub(r"https://(api\.)?example\.com/", srv.url("/echo/"),
                  _blocks()[n])
    assert "example.com" not in code
    run = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, f"README block {n + 1}:\n{run.stderr}"
    # The requests reached the server: nothing was skipped.
    assert srv.stats()["requests"] >= code.count(srv.url("/echo/"))
