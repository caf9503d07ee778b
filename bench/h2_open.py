#!/usr/bin/python3
"""How fast a burst gets the HTTP/2 connections it needs from a server
that allows few streams a connection and answers a round trip late.

tests/h2d.py (cleartext, prior knowledge) allows 8 streams a connection
and sends its preface D ms after a connection opens, as a distant
server's arrives a round trip after the client's requests went. The
command sends N requests to /slow?ms=200 at once (--retries 0). Printed
for each build: the wall time, the requests answered, the connections
the server took, and the most of them that waited for their preface at
the same time (1 when connections are opened one after another).

  python3 bench/h2_open.py [--build DIR] [--baseline DIR] [--n N,...]
                           [--delay MS,...]
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
H2D = os.path.join(ROOT, "tests", "h2d.py")


def one(cli, n, delay):
    srv = subprocess.Popen(["/usr/bin/python3", H2D, "--max-streams", "8",
                            "--preface-delay", str(delay)],
                           stdout=subprocess.PIPE, text=True)
    try:
        port = int(srv.stdout.readline().split()[1])
        base = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as d:
            urls, out = os.path.join(d, "urls"), os.path.join(d, "out")
            with open(urls, "w") as f:
                f.write(f"{base}/slow?ms=200\n" * n)
            t0 = time.monotonic()
            subprocess.run([cli, "--http2-prior-knowledge", "-c", str(n),
                            "-i", urls, "-o", out, "-q", "--retries", "0"],
                           check=False, timeout=120)
            wall = time.monotonic() - t0
            with open(out) as f:
                ok = sum(json.loads(line)["status"] == 200 for line in f)
            # The counters, over HTTP/2 too (urllib speaks only 1.1); h2d
            # sends them with no Content-Type, so they come as text.
            stats = subprocess.run(
                [cli, "--http2-prior-knowledge", "-q", "--body", "text"],
                input=f"{base}/_stats\n", capture_output=True, text=True,
                timeout=30).stdout
        body = json.loads(json.loads(stats.splitlines()[-1])["body"])
        return {"seconds": wall, "ok": ok,
                "connections": body["connections"] - 1,  # the stats' own
                "peak_prefacing": body["peak_prefacing"]}
    finally:
        srv.kill()
        srv.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--baseline", help="another build, measured beside it")
    ap.add_argument("--n", default="64,256")
    ap.add_argument("--delay", default="50,100")
    args = ap.parse_args()
    builds = [("this build", args.build)]
    if args.baseline:
        builds.insert(0, ("baseline", args.baseline))
    print("| build | requests | preface delay | seconds | answered | "
          "connections | at once, waiting for a preface |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n in (int(x) for x in args.n.split(",")):
        for delay in (int(x) for x in args.delay.split(",")):
            for name, build in builds:
                r = one(os.path.join(build, "salvo"), n, delay)
                print(f"| {name} | {n} | {delay} ms | {r['seconds']:.2f} | "
                      f"{r['ok']} | {r['connections']} | "
                      f"{r['peak_prefacing']} |", flush=True)


if __name__ == "__main__":
    main()
