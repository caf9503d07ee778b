"""Servers for the Python suite: faultd on a free port of 127.0.0.1,
started once, stopped at the end. The package under test is the one built
into a build directory's python/ (PYTHONPATH), never the source folder."""
import http.client
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))  # nginxd, the suites' nginx
from h2conn import start_front  # noqa: E402  (tests/, put on the path above)


def _faultd_path():
    env = os.environ.get("SALVO_FAULTD")
    if env:
        return env
    for b in ("gcc", "release"):
        p = os.path.join(ROOT, "build", b, "tests", "faultd")
        if os.path.exists(p):
            return p
    raise RuntimeError("no faultd: build the project first")


class Faultd:
    def __init__(self, *extra):
        self.proc = subprocess.Popen([_faultd_path(), "--port", "0", *extra],
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline().split()[1])
        self.front = None
        if os.environ.get("SALVO_HTTP_VERSION") == "2-prior-knowledge":
            # Over HTTP/2, as the C suites' native-h2 run: tests/h2front.py
            # asks faultd, and relays /_stats byte for byte.
            self.front, self.port = start_front(self.port)
        self.base = f"http://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base + path

    def _get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", path)
            return json.loads(c.getresponse().read())
        finally:
            c.close()

    def stats(self):
        return self._get("/_stats")

    def reset(self):
        return self._get("/_reset")

    def wait_stat(self, field, want, limit=10.0):
        import time
        t0 = time.monotonic()
        while self.stats()[field] != want and time.monotonic() - t0 < limit:
            time.sleep(0.01)
        return self.stats()[field]

    def stop(self):
        for p in (self.front, self.proc):
            if p:
                p.kill()
                p.wait()
                p.stdout.close()


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
