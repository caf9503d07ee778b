#!/usr/bin/env python3
"""aiohttp ClientSession with TCPConnector(limit=C).
usage: aiohttp_bench.py C URLFILE   prints one JSON line."""
import asyncio
import json
import sys
import time

import aiohttp


async def main(c, urls):
    ok = failed = size = 0
    connector = aiohttp.TCPConnector(limit=c, ssl=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one(url):
            nonlocal ok, failed, size
            try:
                async with session.get(url) as r:
                    body = await r.read()
                    size += len(body)
                    ok += r.status == 200
                    failed += r.status != 200
            except aiohttp.ClientError:
                failed += 1

        t0 = time.monotonic()
        await asyncio.gather(*(one(u) for u in urls))
        return ok, failed, size, time.monotonic() - t0


if __name__ == "__main__":
    c = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        urls = [line.strip() for line in f if line.strip()]
    ok, failed, size, dt = asyncio.run(main(c, urls))
    print(json.dumps({"ok": ok, "failed": failed, "bytes": size,
                      "seconds": dt}))
    sys.exit(1 if failed else 0)
