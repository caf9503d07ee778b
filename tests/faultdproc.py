"""faultd as a process of a Python-side test (the command's suites and
the package's): started on a free port of 127.0.0.1, reached through
tests/h2front.py over HTTP/2 in the native-h2 run, its counters read and
reset over HTTP, killed at the end."""
import http.client
import json
import os
import subprocess
import time

from h2conn import start_front


class Faultd:
    def __init__(self, path, *extra):
        self.proc = subprocess.Popen([path, "--port", "0", *extra],
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
