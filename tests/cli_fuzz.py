#!/usr/bin/env python3
"""cli_fuzz.py --salvo BIN --faultd BIN [--seed S] [--runs N]: the command
run N times with options and input lines drawn at random (S, else the
time; printed, and SALVO_FUZZ_SEED gives it again) from a pool of the
right, the wrong and the extreme, against a faultd of its own on
127.0.0.1. Whatever the draw, the command must end by itself (each run
has 60 s), exit with one of its statuses (0, 1, 2, 130: never a signal
or a sanitizer's report) and write only JSON lines. Run in the ASan
build (tests/CMakeLists.txt), where a bad read is a report; its first
runs found `--output-dir ''` reading past the empty name."""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time


def pools(base, tmp):
    opts = {
        "--body": ["json", "text", "base64", "none", "", "x"],
        "--headers": None, "--ordered": None, "-q": None,
        "--output-dir": [f"{tmp}/od", "", "/nonexistent/x", "/dev/null"],
        "--summary-json": [f"{tmp}/s.json", "/dev/full", ""],
        "--shard": ["0/2", "1/1", "2/2", "x", "-1/3", "0/0", "0/4294967296"],
        "--fail-status": ["4xx,5xx", "none", "5xx", "zzz"],
        "-c": ["1", "0", "-1", "100000", "x", "4294967296"],
        "--per-host": ["1", "0", "-5"],
        # No rate under one a second: the run would wait as asked.
        "--rate": ["10", "100/m", "0", "x/s", "1e300", "nan"],
        "--burst": ["0", "5", "-1"], "--io-threads": ["1", "2", "0", "1000"],
        "--retry-status": ["429", "none", "", "abc", "99999"],
        "--timeout": ["0.5", "-1", "nan", "inf", "1e400"],
        "--connect-timeout": ["0", "1", "x"], "--deadline": ["0", "1", "-3"],
        "--queue-timeout": ["0", "0.1"],
        "-X": ["GET", "POST", "", "G ET", "\x7f", "PATCH"],
        "-H": ["X: 1", "X:", "Bad Header", ": v", "Host: x", "X: a\x01b",
               "Content-Length: 5", "Cookie: a=b", "Authorization : t"],
        "-d": ["a=1", "@/nonexistent", "@/dev/null", ""],
        "--json": ['{"a":1}', "nope", "@/dev/null", ""],
        "-u": ["u:p", "u", ":", ""], "--bearer": ["t", ""], "-A": ["x", ""],
        "--http1.1": None, "--http2": None, "--http2-prior-knowledge": None,
        "--transport": ["auto", "native", "libcurl", "zz"],
        "--compressed": None, "--location": None, "--no-location": None,
        "--max-body": ["0", "10", "-1", "1k", "x"],
        "--resolve": ["a.test:80:127.0.0.1", "bad", "a:b:c:d", ""],
        "--dns-servers": ["127.0.0.1:1", "x", ""], "--insecure": None,
        "--cacert": ["/nonexistent", "/dev/null"], "--capath": ["/", ""],
        "--cert": ["/nonexistent:pw", ""], "--key": ["/dev/null"],
        "--pass": ["p"], "--tlsv1.3": None,
        "--cookie-jar": [f"{tmp}/jar", "/nonexistent/j"],
        "--proxy": [base, "http://127.0.0.1:1", "x://y"],
        "--resume": [f"{tmp}/prev.jsonl", "/nonexistent"],
    }
    lines = [base + p for p in ("/json/1", "/echo", "/bytes/5000",
                                "/redirect/3", "/status/404", "/gzip",
                                "/\udcff", "/wire?hex=485454502f312e3120"
                                "323030204f4b0d0a0d0a")]
    lines += [
        json.dumps({"url": base + "/echo", "method": "POST",
                    "json": {"a": [1, 2]}}),
        json.dumps({"url": base + "/echo", "headers": {"X": "1"},
                    "params": {"a": "b"}}),
        json.dumps({"url": base + "/echo", "key": "../../etc/x"}),
        json.dumps({"url": base + "/echo", "key": ""}),
        json.dumps({"url": base + "/echo", "body": "\u0000x"}),
        json.dumps({"url": base + "/json/2", "key": "k1"}),
        json.dumps({"url": base + "/json/3", "key": "k1"}),
        '{"url": 5}', "{", "[]", "null", "ftp://x/", "http://", "# comment",
        "", "\x00", "http://127.0.0.1:1/"]
    return opts, lines


def one(rnd, salvo, opts, lines):
    """A run's verdict: None, or what was wrong."""
    args = []
    for _ in range(rnd.randint(0, 7)):
        o = rnd.choice(list(opts))
        args += [o] if opts[o] is None else [o, rnd.choice(opts[o])]
    given = [rnd.choice(lines) for _ in range(rnd.randint(0, 8))]
    stdin = "\n".join(given).encode("utf-8", "surrogateescape")
    cmd = [salvo, "--timeout", "3", "--retries", "0", *args, "-i", "-"]
    try:
        p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return f"no end in 60 s: {args} {given}"
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode not in (0, 1, 2, 130) or "Sanitizer" in err or \
            "runtime error" in err:
        return f"exit {p.returncode}: {args} {given}\n{err[-3000:]}"
    for line in p.stdout.splitlines():
        try:
            json.loads(line)
        except ValueError:
            return f"not a JSON line {line[:200]!r}: {args} {given}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--salvo", required=True)
    ap.add_argument("--faultd", required=True)
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--seed", type=int,
                    default=int(os.environ.get("SALVO_FUZZ_SEED",
                                               time.time())))
    a = ap.parse_args()
    print(f"cli_fuzz: seed {a.seed} (SALVO_FUZZ_SEED={a.seed} repeats it)",
          flush=True)
    fd = subprocess.Popen([a.faultd, "--port", "0"], stdout=subprocess.PIPE,
                          text=True)
    tmp = tempfile.mkdtemp(prefix="salvo-cli-fuzz-")
    try:
        base = f"http://127.0.0.1:{int(fd.stdout.readline().split()[1])}"
        with open(f"{tmp}/prev.jsonl", "w") as f:
            f.write('{"key": "k1", "status": 200}\n')
        opts, lines = pools(base, tmp)
        rnd = random.Random(a.seed)
        bad = [w for w in (one(rnd, a.salvo, opts, lines)
                           for _ in range(a.runs)) if w]
    finally:
        fd.kill()
        fd.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    for w in bad:
        print(w)
    print(f"cli_fuzz: {a.runs} runs, {len(bad)} wrong")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
