#!/usr/bin/env python3
"""requests, with one Session per worker thread and C threads.
usage: requests_bench.py C URLFILE   prints one JSON line."""
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

local = threading.local()


def fetch(url):
    s = getattr(local, "s", None)
    if s is None:
        s = local.s = requests.Session()
    r = s.get(url, verify=False, timeout=60)
    return r.status_code, len(r.content)


if __name__ == "__main__":
    c = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        urls = [line.strip() for line in f if line.strip()]
    t0 = time.monotonic()
    with ThreadPoolExecutor(c) as pool:
        out = list(pool.map(fetch, urls))
    dt = time.monotonic() - t0
    ok = sum(1 for st, _ in out if st == 200)
    print(json.dumps({"ok": ok, "failed": len(out) - ok,
                      "bytes": sum(n for _, n in out), "seconds": dt}))
    sys.exit(0 if ok == len(out) else 1)
