#!/usr/bin/env python3
"""httpx AsyncClient, concurrency bounded by a semaphore (and the pool).
usage: httpx_bench.py C URLFILE [--h2]   prints one JSON line."""
import asyncio
import json
import sys
import time

import httpx


async def main(c, urls, h2):
    limits = httpx.Limits(max_connections=c, max_keepalive_connections=c)
    sem = asyncio.Semaphore(c)
    ok = failed = size = 0

    async with httpx.AsyncClient(limits=limits, verify=False, http2=h2,
                                 timeout=60) as client:
        async def one(url):
            nonlocal ok, failed, size
            async with sem:
                try:
                    r = await client.get(url)
                    size += len(r.content)
                    ok += r.status_code == 200
                    failed += r.status_code != 200
                except httpx.HTTPError:
                    failed += 1

        t0 = time.monotonic()
        await asyncio.gather(*(one(u) for u in urls))
        return ok, failed, size, time.monotonic() - t0


if __name__ == "__main__":
    c = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        urls = [line.strip() for line in f if line.strip()]
    ok, failed, size, dt = asyncio.run(main(c, urls, "--h2" in sys.argv))
    print(json.dumps({"ok": ok, "failed": failed, "bytes": size,
                      "seconds": dt}))
    sys.exit(1 if failed else 0)
