"""Servers for the Python suite: faultd on a free port of 127.0.0.1,
started once, stopped at the end. The package under test is the one built
into a build directory's python/ (PYTHONPATH), never the source folder."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))  # nginxd, the suites' nginx
import faultdproc  # noqa: E402  (tests/, put on the path above)


def _faultd_path():
    env = os.environ.get("SALVO_FAULTD")
    if env:
        return env
    for b in ("gcc", "release"):
        p = os.path.join(ROOT, "build", b, "tests", "faultd")
        if os.path.exists(p):
            return p
    raise RuntimeError("no faultd: build the project first")


class Faultd(faultdproc.Faultd):
    """The suite's faultd, from the build (SALVO_FAULTD, else build/)."""

    def __init__(self, *extra):
        super().__init__(_faultd_path(), *extra)


@pytest.fixture(scope="session")
def server():
    s = Faultd()
    yield s
    s.stop()


@pytest.fixture()
def srv(server):
    server.reset()
    return server


@pytest.fixture(scope="session")
def nginx():
    """nginx with TLS, mutual TLS and a TLS 1.2-only server (nginxd.py)."""
    import nginxd
    n = nginxd.Nginx()
    yield n
    n.stop()
    subprocess.run(["rm", "-rf", n.dir], check=False)


def raw_url(srv, body: bytes, ctype: str = "text/plain") -> str:
    from urllib.parse import quote
    return srv.url(f"/raw?hex={body.hex()}&ct={quote(ctype)}")
