"""The clients measured side by side (salvo's library, command and
package, curl, libcurl, Python peers) and the ceilings (wrk, h2load), and
one workload run over them in interleaved rounds."""
import json
import os
import random
import re
import shutil
import statistics
import subprocess

from common import HERE, PY, run_once, summarize, url_file


class Client:
    """name, how to run it over (urls file, n, c, tls), and its share of N
    (slow peers run fewer requests; figures are per request)."""

    def __init__(self, name, build, share=1.0, max_c=None, counts=None):
        self.name, self.build, self.share = name, build, share
        self.h1_ok = False
        self.max_c = max_c
        self.counts = counts  # parses the number of requests done


def json_count(r):
    try:
        return json.loads(r["out"].strip().splitlines()[-1])["ok"]
    except (ValueError, IndexError, KeyError):
        return 0


def clients(build, baseline=None, only=None):
    """Every client; with `baseline` (another build) its salvo library
    (both patterns), command and Python package too, run in the same
    rounds; `only` keeps the clients whose names contain one of its
    words."""
    out = all_clients(build)
    if baseline:
        for k in all_clients(baseline):
            if k.name.startswith(("salvo (library)", "salvo (library, "
                                  "submit all)", "salvo (CLI",
                                  "salvo (Python")):
                k.name += " [baseline]"
                out.append(k)
    if only:
        out = [k for k in out if any(w in k.name for w in only)]
    return out


def all_clients(build):
    sb = os.path.join(build, "bench", "salvo_bench")
    cb = os.path.join(build, "bench", "curl_multi_bench")
    cli = os.path.join(build, "salvo")

    # tls: False, True (HTTP/2 by ALPN) or "h1" (HTTPS with HTTP/1.1).
    def h1(tls, flag):
        return [flag] if tls == "h1" else []

    def salvo_lib(f, n, c, tls, *extra):
        return [sb, "-c", str(c), "-i", f, *extra] + \
            (["-k"] if tls else []) + h1(tls, "--h1")

    def salvo_cli(f, n, c, tls):
        return [cli, "-c", str(c), "-i", f, "-o", "/dev/null", "-q",
                "--body", "none", "--retries", "0"] + \
            (["-k"] if tls else []) + h1(tls, "--http1.1")

    def curl_par(f, n, c, tls):
        cfg = f + ".curl"
        if not os.path.exists(cfg):
            with open(f) as src, open(cfg, "w") as dst:
                for line in src:
                    dst.write(f'url = "{line.strip()}"\noutput = "/dev/null"\n')
        return ["curl", "--parallel", "--parallel-max", str(min(c, 300)),
                "--no-progress-meter", "-s", "-K", cfg,
                "-w", "%{http_code}\\n"] + (["-k"] if tls else []) + \
            h1(tls, "--http1.1")

    def libcurl_loop(f, n, c, tls):
        return [cb, "-c", str(c), "-i", f] + (["-k"] if tls else []) + \
            h1(tls, "--h1")

    def httpx_(f, n, c, tls):
        return [PY, os.path.join(HERE, "httpx_bench.py"), str(c), f] + \
            (["--h2"] if tls else [])

    def aiohttp_(f, n, c, tls):
        return [PY, os.path.join(HERE, "aiohttp_bench.py"), str(c), f]

    # The Python package as its users import it: from the build tree.
    pyenv = python_env(build)

    def salvo_py(f, n, c, tls, *extra):
        return ["env", *pyenv, PY,
                os.path.join(HERE, "salvo_py_bench.py"), str(c), f,
                *(["--h2"] if tls else []), *extra]

    def requests_(f, n, c, tls):
        return [PY, os.path.join(HERE, "requests_bench.py"), str(c), f]

    def curl_count(r):
        return sum(1 for line in r["out"].splitlines() if line == "200")

    out = [
        Client("salvo (library)", salvo_lib, counts=json_count),
        # The reference's own pattern: every request submitted, then each
        # response collected; and the same through the libcurl transport.
        Client("salvo (library, submit all)",
               lambda f, n, c, tls: salvo_lib(f, n, c, tls, "--all"),
               counts=json_count),
        Client("salvo (library, submit all, libcurl transport)",
               lambda f, n, c, tls: salvo_lib(f, n, c, tls, "--all",
                                              "--transport", "libcurl"),
               counts=json_count),
        Client("salvo (CLI)", salvo_cli, counts=None),
        # Its default output: each JSON body in its JSON line.
        Client("salvo (CLI, JSON bodies)",
               lambda f, n, c, tls: [x for x in salvo_cli(f, n, c, tls)
                                     if x not in ("--body", "none")],
               counts=None),
        Client("curl --parallel", curl_par, max_c=300, counts=curl_count),
        Client("libcurl multi loop", libcurl_loop, counts=json_count),
    ]
    for k in out:
        k.h1_ok = True  # speaks HTTP/1.1 over TLS when asked
    if os.path.exists(os.path.join(build, "python", "salvo")):
        out.append(Client("salvo (Python, one call)", salvo_py,
                          counts=json_count))
        out.append(Client("salvo (Python, parallel block)",
                          lambda f, n, c, tls: salvo_py(f, n, c, tls,
                                                        "--block"),
                          counts=json_count))
    if has_module("requests"):
        out.append(Client("requests (threads)", requests_, share=0.05,
                          max_c=64, counts=json_count))
    if has_module("aiohttp"):
        out.append(Client("aiohttp", aiohttp_, share=0.2, counts=json_count))
    if has_module("httpx"):
        out.append(Client("httpx", httpx_, share=0.05, counts=json_count))
    return out


def python_env(build):
    """The environment that loads the build's Python package. A sanitized
    build's extension needs the sanitizer's runtime preloaded into Debian's
    interpreter (as tests/python_asan.sh does); leaks are not checked, the
    interpreter keeps objects to its exit by design."""
    env = [f"PYTHONPATH={os.path.join(build, 'python')}"]
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            cache = f.read()
    except OSError:
        return env
    m = re.search(r"^SALVO_SANITIZE:\w+=(.*)$", cache, re.M)
    if m and "address" in m.group(1):
        rt = subprocess.run(["clang", "-print-file-name=libclang_rt.asan-x86_64.so"],
                            capture_output=True, text=True).stdout.strip()
        env += [f"LD_PRELOAD={rt}", "ASAN_OPTIONS=detect_leaks=0"]
    return env


def has_module(name):
    return subprocess.run([PY, "-c", f"import {name}"],
                          capture_output=True).returncode == 0


# ---- workloads -----------------------------------------------------------


def ceiling_runs(nginx, workload, n, c, seconds):
    """wrk and h2load: the fastest this server can be asked."""
    res = []
    if workload["tls"] == "h1":
        if shutil.which("h2load"):
            cmd = ["h2load", "--h1", "-n", str(n), "-c", str(min(c, n)),
                   f"{nginx.base(True)}/{workload['path']}/1"]
            res.append(("h2load --h1 (ceiling)", cmd, n, h2load_count))
        return res
    if workload["tls"]:
        if shutil.which("h2load"):
            # One connection, or as many as the server's streams need.
            conns = workload.get("h2_conns", 1)
            streams = min(c // conns, 1024)
            cmd = ["h2load", "-n", str(n), "-c", str(conns), "-m",
                   str(streams), f"{nginx.base(True, workload.get('streams'))}"
                   f"/{workload['path']}/1"]
            res.append(("h2load (ceiling)", cmd, n, h2load_count))
        return res
    if shutil.which("wrk"):
        cmd = ["wrk", "-t1", f"-c{c}", f"-d{seconds}s",
               f"{nginx.base()}/{workload['path']}/1"]
        res.append(("wrk -t1 (ceiling)", cmd, None, wrk_count))
    if shutil.which("h2load"):
        cmd = ["h2load", "--h1", "-n", str(n), "-c", str(min(c, n)),
               f"{nginx.base()}/{workload['path']}/1"]
        res.append(("h2load --h1 (ceiling)", cmd, n, h2load_count))
    return res


def wrk_count(r):
    m = re.search(r"(\d+) requests in", r["out"])
    return int(m.group(1)) if m else 0


def h2load_count(r):
    m = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) "
                  r"succeeded", r["out"])
    return int(m.group(2)) if m else 0


def run_workload(nginx, workdir, wl, rounds, build, log, wrk_seconds=5,
                 baseline=None, only=None):
    results = {}
    cl = clients(build, baseline, only)
    if wl["tls"] == "h1":
        cl = [k for k in cl if k.h1_ok]
    base = nginx.base(wl["tls"], wl.get("streams"))
    ceilings = ([] if only and "ceiling" not in only else
                ceiling_runs(nginx, wl, wl["n"], wl["c"], wrk_seconds))
    order = [("client", k) for k in cl] + [("ceiling", c) for c in ceilings]
    lead = None
    if wl.get("equal"):
        # Equal work: wrk cannot stop at a count, so the others make as
        # many requests as wrk made in this round, over as many
        # connections. Each connection's set-up is then shared by as many
        # requests for every client; at C=1024 it is 4 to 5 us a request
        # of a 20,000-request run and under 2 in wrk's second.
        lead = next((o for o in order if o[0] == "ceiling" and
                     o[1][0].startswith("wrk")), None)
        if lead:
            order.remove(lead)
    for rnd in range(rounds):
        random.Random(rnd).shuffle(order)
        n_round = wl["n"]
        for kind, item in ([lead] if lead else []) + order:
            if kind == "client":
                k = item
                n = max(1, int(n_round * k.share))
                f = url_file(workdir, base, wl["path"], n)
                c = min(wl["c"], k.max_c) if k.max_c else wl["c"]
                r = run_once(k.build(f, n, c, wl["tls"]), nginx)
                done = k.counts(r) if k.counts else (n if r["rc"] == 0 else 0)
                name = k.name + (f" (C={c})" if c != wl["c"] else "")
            else:
                if lead and item[2] is not None:  # h2load: wrk's count too
                    item = next(x for x in ceiling_runs(
                        nginx, wl, n_round, wl["c"], wrk_seconds)
                        if x[0] == item[0])
                name, cmd, n, counter = item
                r = run_once(cmd, nginx)
                done = counter(r)
                n = done if n is None else n
                if lead and item is lead[1] and done:
                    n_round = max(1, int(done * wl["equal"]))
            if done != n or done == 0:
                log(f"  {name}: {done}/{n} ok, rc {r['rc']}: "
                    f"{r['err'][-300:]}")
            per = max(done, 1)
            s = results.setdefault(name, {"rps": [], "cpu_us": [], "rss": [],
                                          "conns": [], "n": [], "ok": []})
            s["n"].append(n)
            s["rps"].append(done / r["wall"])
            s["cpu_us"].append(r["cpu"] / per * 1e6)
            s["rss"].append(r["rss_kib"])
            s["conns"].append(r["conns"])
            s["ok"].append(done)
            log(f"  round {rnd + 1} {name}: {done / r['wall']:.0f} req/s, "
                f"{r['cpu'] / per * 1e6:.1f} us/req, rss "
                f"{r['rss_kib'] / 1024:.1f} MiB, conns {r['conns']}")
    table = {}
    for name, s in results.items():
        table[name] = {"n": int(statistics.median(s["n"])),
                       "rps": summarize(s["rps"]),
                       "cpu_us": summarize(s["cpu_us"]),
                       "rss_mib": max(s["rss"]) / 1024,
                       "conns": statistics.median(s["conns"]),
                       "ok_min": min(s["ok"])}
    return table
