#!/usr/bin/env python3
"""The salvo Python package, as its users write it.
usage: salvo_py_bench.py C URLFILE [--h2] [--block]   prints one JSON line.

Default: the one-call form, parallel_requests(urls, concurrency=C,
return_type="content"). --block: the parallel block, every request
submitted at once, then next_response() until none is pending (the
reference's own pattern)."""
import json
import sys
import time

import salvo


def one_call(c, urls, h2):
    t0 = time.monotonic()
    out = salvo.parallel_requests(urls, concurrency=c, return_type="content",
                                  verify=False, http2=h2, max_retries=0,
                                  return_exceptions=True)
    dt = time.monotonic() - t0
    sizes = [len(r) for r in out if r.__class__ is bytes]
    return len(sizes), len(out) - len(sizes), sum(sizes), dt


def block(c, urls, h2):
    ok = failed = size = 0
    with salvo.Client(concurrency=c, verify=False, http2=h2,
                      max_retries=0) as client:
        t0 = time.monotonic()
        with client.parallel() as parallel:
            for u in urls:
                parallel.get(u)
            while parallel.has_pending_responses:
                try:
                    r = parallel.next_response()
                    size += len(r.content)
                    ok += r.status_code == 200
                except salvo.HTTPError:
                    failed += 1
        return ok, failed, size, time.monotonic() - t0


if __name__ == "__main__":
    c = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        urls = f.read().split()  # one URL per line
    run = block if "--block" in sys.argv else one_call
    ok, failed, size, dt = run(c, urls, "--h2" in sys.argv)
    print(json.dumps({"ok": ok, "failed": failed, "bytes": size,
                      "seconds": dt}))
    sys.exit(1 if failed else 0)
