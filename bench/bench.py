#!/usr/bin/env python3
"""salvo against its peers, side by side in one run.

Starts nginx on 127.0.0.1 (one worker pinned to CPU 0, access log off), runs
every client pinned to CPU 1 over the same URLs, interleaved in rounds, and
reports medians and min-max of requests/s and of client CPU per request
(user + sys of the client process / N: the figure that survives a noisy
machine), peak RSS and connections opened. See bench/README.md.
"""
import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def raise_nofile():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def die_with_parent():
    """preexec_fn: the server gets SIGKILL when the bench process dies,
    however it dies."""
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG


def pin(cpu):
    """taskset prefix, or nothing on a one-CPU machine."""
    if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > 1:
        return ["taskset", "-c", str(cpu)]
    return []


class Nginx:
    def __init__(self, workers_conns=20000):
        self.dir = tempfile.mkdtemp(prefix="salvo-bench-")
        self.workers_conns = workers_conns
        d = self.dir
        subprocess.run(
            f"cd {d} && openssl req -x509 -newkey ec -pkeyopt "
            "ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out "
            "cert.pem -days 2 -subj /CN=127.0.0.1 "
            "-addext subjectAltName=IP:127.0.0.1",
            shell=True, check=True, capture_output=True)
        os.makedirs(f"{d}/www")
        os.makedirs(f"{d}/tmp")
        with open(f"{d}/www/16k.bin", "wb") as f:
            f.write(bytes((i * 7) % 251 for i in range(16384)))
        # 1 GiB of zeros, sparse: nginx reads it from the page cache.
        with open(f"{d}/www/1g.bin", "wb") as f:
            f.truncate(1 << 30)
        # A free port can be taken between the probe and nginx's bind:
        # nginx then exits, and starts again on new ports.
        for _ in range(8):
            self.port, self.tls_port = free_port(), free_port()
            # HTTPS again, with 128 streams a connection: 1,024 at once
            # then take 8 connections (`h2-8`).
            self.tls128_port = free_port()
            # More origins (ports) of the same server, for the scale-out
            # runs: requests spread over I/O threads and shards by origin.
            self.extra_ports = [free_port() for _ in range(8)]
            if self._try_start(d):
                return
        raise RuntimeError(f"nginx did not start, see {d}/error.log")

    def _try_start(self, d):
        """True once nginx holds both ports (its pid file says so), False
        when it exited."""
        echo = "/usr/lib/nginx/modules/ngx_http_echo_module.so"
        self.has_slow = os.path.exists(echo)
        slow = ("location /slow/ { echo_sleep 1; echo ok; }"
                if self.has_slow else "")
        locations = f"""
  location = /nginx_status {{ stub_status; }}
  location ~ ^/json/(\\d+)$ {{
    default_type application/json;
    return 200 '{{"id":$1,"name":"item $1"}}';
  }}
  location ~ ^/16k/ {{ root {d}/www; try_files /16k.bin =404; }}
  location = /bytes/1073741824 {{ root {d}/www; try_files /1g.bin =404; }}
  {slow}
"""

        def tls_server(port, streams):
            return f"""server {{
  listen 127.0.0.1:{port} ssl http2 backlog=8192;
  http2_max_concurrent_streams {streams};
  ssl_certificate {d}/cert.pem;
  ssl_certificate_key {d}/key.pem;
  {locations}
 }}"""
        conf = f"""
{"load_module " + echo + ";" if self.has_slow else ""}
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65000;
error_log {d}/error.log error;
pid {d}/nginx.pid;
events {{ worker_connections {self.workers_conns}; multi_accept on; }}
http {{
 access_log off;
 keepalive_requests 100000000;
 keepalive_timeout 300s;
 client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp;
 fastcgi_temp_path {d}/tmp; uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
 server {{ listen 127.0.0.1:{self.port} backlog=8192;
  {" ".join(f"listen 127.0.0.1:{p} backlog=8192;" for p in self.extra_ports)}
  {locations} }}
 {tls_server(self.tls_port, 1024)}
 {tls_server(self.tls128_port, 128)}
}}
"""
        with open(f"{d}/nginx.conf", "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen(
            [*pin(0), "/usr/sbin/nginx", "-p", d, "-c", f"{d}/nginx.conf"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent)
        for _ in range(1500):  # 30 s: a busy machine is slow to start it
            if self.proc.poll() is not None:
                return False
            try:
                if os.path.exists(f"{d}/nginx.pid"):
                    for p in (self.tls_port, self.tls128_port):
                        socket.create_connection(("127.0.0.1", p),
                                                 0.1).close()
                    socket.create_connection(("127.0.0.1", self.port),
                                             0.1).close()
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"nginx did not start, see {d}/error.log")

    def base(self, tls=False, streams=None):
        """The server's URL: HTTPS when tls, on the port that allows 128
        streams a connection when streams is 128."""
        if tls and streams == 128:
            return f"https://127.0.0.1:{self.tls128_port}"
        return (f"https://127.0.0.1:{self.tls_port}" if tls else
                f"http://127.0.0.1:{self.port}")

    def accepts(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(b"GET /nginx_status HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        s.close()
        m = re.search(rb"requests\s*\n\s*(\d+)", data)
        return int(m.group(1)) if m else -1

    def cpu(self):
        """Seconds of CPU nginx has used (one process, on its own core):
        a run during which it grows by its wall time was bound by the
        server, not by the client."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                st = f.read().rsplit(")", 1)[1].split()
            return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_once(cmd, nginx, timeout=900, cpu=1):
    """One measured run on CPU 1: the client's CPU (user + sys) and peak
    RSS as GNU time reports them, and the connections nginx accepted
    meanwhile. Linux carries a parent's peak RSS over fork and exec, so
    wait4 from this Python process would report Python's size for small
    clients; time(1) forks them from a small process instead. Outputs go to
    files, so a chatty client never blocks on a full pipe."""
    before = nginx.accepts() if nginx else 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as tm:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%x %M", "-o", tm.name,
             *(pin(cpu) if cpu is not None else []), *cmd],
            stdout=out, stderr=err)
        # wait4 on time(1) counts the client it reaped, to the microsecond.
        _, _, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        text, etext = out.read().decode(), err.read().decode()
        fields = tm.read().split()[-2:]
    rc, rss = (int(fields[0]), int(fields[1])) if len(fields) == 2 else (-1, 0)
    conns = (nginx.accepts() - before - 1) if nginx else None
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_kib": rss, "conns": conns, "out": text, "err": etext,
            "rc": rc}


# ---- clients -------------------------------------------------------------


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


def url_file(workdir, base, path, n):
    f = os.path.join(workdir, f"urls-{path.strip('/')}-{n}-{abs(hash(base))}")
    if not os.path.exists(f):
        with open(f, "w") as out:
            for i in range(n):
                out.write(f"{base}/{path.strip('/')}/{i}\n")
    return f


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


def summarize(samples):
    vals = sorted(samples)
    return {"median": statistics.median(vals), "min": vals[0],
            "max": vals[-1]}


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


# ---- extra measurements --------------------------------------------------


def syscalls_per_request(nginx, workdir, build, n, c, log):
    """strace -c -f over one run of each client."""
    if not shutil.which("strace"):
        return {}
    out = {}
    for k in clients(build):
        nn = max(1, int(n * k.share))
        f = url_file(workdir, nginx.base(), "json", nn)
        cmd = k.build(f, nn, min(c, k.max_c or c), False)
        trace = os.path.join(workdir, "strace.txt")
        r = run_once(["strace", "-f", "-c", "-o", trace, *cmd], None)
        total = 0
        top = []
        with open(trace) as t:
            for line in t:
                parts = line.split()
                if len(parts) >= 5 and parts[0] == "100.00":
                    total = int(parts[3])
                elif len(parts) >= 5 and re.match(r"^\d+\.\d+$", parts[0]):
                    calls = int(parts[3])
                    top.append((calls, parts[-1]))
        top.sort(reverse=True)
        out[k.name] = {"per_request": total / nn,
                       "top": [(name, calls / nn) for calls, name in top[:4]]}
        log(f"  {k.name}: {total / nn:.1f} syscalls/request "
            f"({', '.join(f'{nm} {v:.1f}' for nm, v in out[k.name]['top'])})")
    for name, cmd, per in (
            ("wrk -t1", ["wrk", "-t1", f"-c{c}", "-d2s",
                         f"{nginx.base()}/json/1"], None),):
        if not shutil.which(cmd[0]):
            continue
        trace = os.path.join(workdir, "strace.txt")
        r = run_once(["strace", "-f", "-c", "-o", trace, *cmd], None)
        done = wrk_count(r)
        with open(trace) as t:
            total = next((int(line.split()[3]) for line in t
                          if line.startswith("100.00")), 0)
        out[name] = {"per_request": total / max(done, 1), "top": []}
        log(f"  {name}: {total / max(done, 1):.1f} syscalls/request")
    return out


def rate_accuracy(build, rates, secs, log):
    """salvo_bench with --rate R against faultd, which logs every start
    (ms). Achieved rate over the run; the largest number of starts in any
    10 ms window (a token bucket of burst 1 allows 1 + R * 0.01)."""
    faultd = os.path.join(build, "tests", "faultd")
    sb = os.path.join(build, "bench", "salvo_bench")
    out = {}
    for rate in rates:
        srv = subprocess.Popen([*pin(0), faultd, "--port", "0",
                                "--log-starts"], stdout=subprocess.PIPE,
                               text=True, preexec_fn=die_with_parent)
        port = int(srv.stdout.readline().split()[1])
        n = int(rate * secs)
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            for i in range(n):
                f.write(f"http://127.0.0.1:{port}/json/{i}\n")
        r = run_once([sb, "-c", "256", "-i", f.name, "--rate", str(rate)],
                     None)
        os.unlink(f.name)
        stats = json.loads(subprocess.run(
            ["curl", "-s", f"http://127.0.0.1:{port}/_stats"],
            capture_output=True, text=True).stdout)
        srv.kill()
        srv.wait()
        starts = sorted(stats["starts"])  # µs, kernel receive times
        achieved = (len(starts) - 1) / ((starts[-1] - starts[0]) / 1e6) \
            if len(starts) > 1 and starts[-1] > starts[0] else 0
        worst, j = 0, 0
        for i, t in enumerate(starts):
            while starts[j] <= t - 10000:
                j += 1
            worst = max(worst, i - j + 1)
        out[rate] = {"asked": rate, "achieved": achieved,
                     "error_pct": 100 * (achieved - rate) / rate,
                     "max_in_10ms": worst, "allowed_in_10ms": 1 + rate * 0.01,
                     "cpu_s": r["cpu"], "wall_s": r["wall"]}
        log(f"  rate {rate}/s: achieved {achieved:.1f}/s "
            f"({out[rate]['error_pct']:+.2f}%), busiest 10 ms: {worst} "
            f"starts, client CPU {r['cpu']:.2f} s over {r['wall']:.1f} s")
    return out


def time_wait_sockets():
    """TCP sockets in TIME_WAIT on this machine (/proc/net/sockstat)."""
    try:
        with open("/proc/net/sockstat") as f:
            m = re.search(r"^TCP:.* tw (\d+)", f.read(), re.M)
        return int(m.group(1)) if m else 0
    except OSError:
        return 0


def settle_time_wait(log, most=1000, wait=75):
    """Waits (up to `wait` s) until at most `most` sockets are in TIME_WAIT.
    The connections the runs before closed stay there for 60 s, and
    loopback has 28,232 ports: 10,000 new connections among 20,000 to
    30,000 of them spend their CPU finding a free port (measured: 1.35 s
    of salvo's CPU and 6,770 opened a second right after the other
    workloads, 0.75 to 0.82 s and 9,900 to 11,200 a minute later)."""
    start = time.time()
    while time_wait_sockets() > most and time.time() - start < wait:
        time.sleep(1)
    waited = time.time() - start
    if waited >= 1:
        log(f"  (waited {waited:.0f} s for TIME_WAIT sockets to go: "
            f"{time_wait_sockets()} left)")


def ten_thousand_connections(nginx, workdir, build, log, n=10000):
    """n one-second requests at concurrency n: n connections opened at
    once. Each request sleeps 1 s in nginx, so the time beyond that second
    is what opening n connections (and closing them) cost; the rate is n
    over that time. "bare sockets" does the same with no HTTP client
    (connect_floor.c): the most this machine lets any client reach."""
    if not nginx.has_slow:
        log("  skipped: nginx echo module missing")
        return {}
    f = url_file(workdir, nginx.base(), "slow", n)
    sb = os.path.join(build, "bench", "salvo_bench")
    cb = os.path.join(build, "bench", "curl_multi_bench")
    out = {}
    for name, cmd in (
            ("salvo (native)", [sb, "-c", str(n), "-i", f, "--all"]),
            ("salvo (libcurl transport)", [sb, "-c", str(n), "-i", f,
                                           "--all", "--transport",
                                           "libcurl"]),
            ("libcurl multi loop", [cb, "-c", str(n), "-i", f]),
            ("h2load --h1 (ceiling)", ["h2load", "--h1", "-n", str(n), "-c",
                                       str(n), f"{nginx.base()}/slow/1"]),
            ("bare sockets (floor)", [
                os.path.join(build, "bench", "connect_floor"), "-p",
                nginx.base().rsplit(":", 1)[1], "-n", str(n), "-c", str(n),
                "-u", "/slow/1"])):
        if name.startswith("h2load") and not shutil.which("h2load"):
            continue
        settle_time_wait(log)
        cpu0 = nginx.cpu()
        r = run_once(cmd, nginx, timeout=300)
        server = nginx.cpu() - cpu0
        if name.startswith("h2load"):
            ok = h2load_count(r)
            res = {"ok": ok, "failed": n - ok}
        else:
            res = json.loads(r["out"].strip().splitlines()[-1]) \
                if r["out"] else {}
        opening = max(r["wall"] - 1.0, 1e-3)
        out[name] = {"concurrency": n, "ok": res.get("ok"),
                     "failed": res.get("failed"), "seconds": r["wall"],
                     "opened_per_s": n / opening,
                     "connections": r["conns"],
                     "rss_mib": r["rss_kib"] / 1024, "cpu_s": r["cpu"],
                     "server_cpu_s": server}
        log(f"  {name}: {res.get('ok')} ok, {res.get('failed')} failed in "
            f"{r['wall']:.2f} s over {r['conns']} connections: "
            f"{n / opening:.0f} opened/s, rss {r['rss_kib'] / 1024:.1f} MiB, "
            f"cpu {r['cpu']:.2f} s, nginx's cpu {server:.2f} s")
    return out


def big_download(nginx, build, log, rounds=3):
    """1 GiB over HTTPS + HTTP/2 (one stream, flow control's pace), read
    by salvo's pull stream while 1,000 small requests share its
    connection, against curl and h2load fetching the same, in interleaved
    rounds (the first download after nginx starts runs slow, whoever
    makes it): MB/s, CPU and peak RSS (flat memory: the windows bound
    what is buffered)."""
    size = 1 << 30
    base = nginx.base(tls=True)
    url = f"{base}/bytes/{size}"
    sb = os.path.join(build, "bench", "stream_bench")
    runs = [("salvo (pull stream, 1,000 requests beside it)",
             [sb, base, str(size), "--insecure", "--others", "1000"])]
    if shutil.which("curl"):
        runs.append(("curl --http2", ["curl", "-sk", "--http2", "-o",
                                      "/dev/null", url]))
    if shutil.which("h2load"):
        runs.append(("h2load (ceiling)", ["h2load", "-n", "1", "-c", "1",
                                          url]))
    run_once(runs[-1][1], nginx, timeout=300)  # warm-up, not counted
    samples = {}
    for rnd in range(rounds):
        for name, cmd in runs:
            r = run_once(cmd, nginx, timeout=300)
            res = {}
            if name.startswith("salvo") and r["out"]:
                res = json.loads(r["out"].strip().splitlines()[-1])
            s = samples.setdefault(name, {"rc": [], "mb_per_s": [],
                                          "cpu_s": [], "rss_mib": [],
                                          "others_done_s": []})
            s["rc"].append(r["rc"])
            s["mb_per_s"].append(size / r["wall"] / 1e6)
            s["cpu_s"].append(r["cpu"])
            s["rss_mib"].append(r["rss_kib"] / 1024)
            if res.get("others_done_s") is not None:
                s["others_done_s"].append(res["others_done_s"])
            log(f"  round {rnd + 1} {name}: rc {r['rc']}, {r['wall']:.2f} s "
                f"({size / r['wall'] / 1e6:.0f} MB/s), cpu {r['cpu']:.2f} s, "
                f"peak rss {r['rss_kib'] / 1024:.1f} MiB"
                + (f", the 1,000 beside it done at "
                   f"{res['others_done_s']:.2f} s"
                   if res.get("others_done_s") is not None else ""))
    out = {}
    for name, s in samples.items():
        out[name] = {"rc": max(s["rc"]), "mb_per_s": summarize(s["mb_per_s"]),
                     "cpu_s": summarize(s["cpu_s"]),
                     "rss_mib": max(s["rss_mib"]),
                     "others_done_s": summarize(s["others_done_s"])
                     if s["others_done_s"] else None}
    return out


def scale_out(nginx, workdir, build, n, log, rounds=3):
    """One process against two I/O threads against a 2-worker Dask
    LocalCluster, over 8 origins (ports) of the one nginx; not pinned:
    the clients may use both CPUs, which nginx shares."""
    f = os.path.join(workdir, f"scale-urls-{n}")
    with open(f, "w") as out:
        for i in range(n):
            out.write(f"http://127.0.0.1:{nginx.extra_ports[i % 8]}"
                      f"/json/{i}\n")
    sb = os.path.join(build, "bench", "salvo_bench")
    runs = [("one process, 1 I/O thread", [sb, "-c", "256", "-i", f]),
            ("one process, 2 I/O threads", [sb, "-c", "256", "-i", f,
                                            "--io-threads", "2"])]
    if has_module("distributed"):
        runs.append(("Dask LocalCluster, 2 worker processes",
                     ["env", *python_env(build), PY,
                      os.path.join(HERE, "dask_bench.py"), f, "2", "16"]))
    res = {}
    for _ in range(rounds):
        for name, cmd in runs:
            r = run_once(cmd, nginx, cpu=None)
            done = json_count(r)
            if done != n:
                log(f"  {name}: {done}/{n} ok: {r['err'][-300:]}")
            s = res.setdefault(name, {"rps": [], "cpu_us": [], "rss": []})
            s["rps"].append(done / r["wall"])
            s["cpu_us"].append(r["cpu"] / max(done, 1) * 1e6)
            s["rss"].append(r["rss_kib"] / 1024)
    out = {}
    for name, s in res.items():
        out[name] = {"rps": summarize(s["rps"]),
                     "cpu_us": summarize(s["cpu_us"]),
                     "rss_mib": max(s["rss"])}
        log(f"  {name}: {out[name]['rps']['median']:.0f} req/s, "
            f"{out[name]['cpu_us']['median']:.1f} CPU us/req")
    return out


def perf_profile(nginx, workdir, build, n, c, log):
    """Where the CPU of the native path goes, by library (perf, sampled on
    CPU 1), plain HTTP/1.1 and HTTPS with HTTP/1.1, submit-all pattern."""
    if not shutil.which("perf"):
        return {}
    sb = os.path.join(build, "bench", "salvo_bench")
    out = {}
    for name, tls in (("http", False), ("https", "h1")):
        f = url_file(workdir, nginx.base(tls), "json", n)
        data = os.path.join(workdir, "perf.data")
        cmd = [sb, "-c", str(c), "-i", f, "--all"] + \
            (["-k", "--h1"] if tls else [])
        r = subprocess.run(["perf", "record", "-F", "9999", "-o", data, "--",
                            *pin(1), *cmd], capture_output=True)
        if r.returncode:
            log(f"  perf failed: {r.stderr.decode()[-200:]}")
            return out
        rep = subprocess.run(["perf", "report", "-i", data, "--sort", "dso",
                              "--stdio", "--no-children"],
                             capture_output=True, text=True).stdout
        shares = {}
        for line in rep.splitlines():
            m = re.match(r"\s*([\d.]+)%\s+(\S+)", line)
            if m:
                shares[m.group(2)] = float(m.group(1))
        syms = subprocess.run(["perf", "report", "-i", data, "--sort",
                               "dso,sym", "--stdio", "--no-children"],
                              capture_output=True, text=True).stdout
        top = []
        for line in syms.splitlines():
            m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(\S+)", line)
            if m and len(top) < 15:
                top.append((m.group(2), m.group(3), float(m.group(1))))
        out[name] = {"by_library": shares, "top": top}
        log(f"  {name}: " + ", ".join(f"{k} {v:.1f}%" for k, v in
                                      sorted(shares.items(),
                                             key=lambda kv: -kv[1])[:6]))
    return out


def cli_memory(nginx, workdir, build, n, log):
    f = url_file(workdir, nginx.base(), "json", n)
    cli = os.path.join(build, "salvo")
    r = run_once([cli, "-c", "256", "-i", f, "-o", "/dev/null", "-q",
                  "--body", "none"], nginx, timeout=1800)
    out = {"lines": n, "rss_mib": r["rss_kib"] / 1024, "seconds": r["wall"],
           "rc": r["rc"], "cpu_us": r["cpu"] / n * 1e6}
    log(f"  {n} URLs through the CLI at concurrency 256: peak RSS "
        f"{out['rss_mib']:.1f} MiB, {r['wall']:.1f} s, rc {r['rc']}")
    return out


def many_names(nginx, workdir, build, n, log):
    """n distinct names from a DNS server of the run's own (tests/dnsd.py),
    one in 50 answered 2 s late, through the command at concurrency n:
    whether every request completes, and how the others' latencies look
    beside the slow names' (a lookup holds up only its own requests)."""
    sys.path.insert(0, os.path.join(HERE, "..", "tests"))
    import dnsd
    dns = dnsd.Dnsd()
    try:
        f = os.path.join(workdir, "names.txt")
        with open(f, "w") as out:
            for i in range(n):
                name = f"slow2000-n{i}" if i % 50 == 0 else f"n{i}"
                out.write(f"http://{name}.salvo.test:{nginx.port}/json/1\n")
        cli = os.path.join(build, "salvo")
        r = run_once([cli, "-c", str(n), "-i", f, "--dns-servers",
                      dns.servers, "--body", "none", "-q"], nginx,
                     timeout=600)
        lat = {"slow": [], "quick": []}
        ok = 0
        for line in r["out"].splitlines():
            o = json.loads(line)
            ok += o.get("status") == 200
            kind = "slow" if "slow2000" in o["url"] else "quick"
            lat[kind].append(o["elapsed_ms"])
        res = {"names": n, "ok": ok, "seconds": r["wall"],
               "queries": sum(1 for _ in open(dns.log))}
        for kind, v in lat.items():
            v.sort()
            if v:
                res[kind] = {"n": len(v), "p50_ms": v[len(v) // 2],
                             "p99_ms": v[int(len(v) * 0.99)],
                             "max_ms": v[-1]}
        log(f"  {n} names: {ok} ok in {r['wall']:.2f} s; quick "
            f"{res.get('quick')}, slow {res.get('slow')}")
        return res
    finally:
        dns.stop()


def callgrind_profile(nginx, workdir, build, n, c, log):
    """Instructions per request, salvo vs the libcurl loop, and salvo's top
    functions: counts, not seconds, so they repeat on a busy machine."""
    if not shutil.which("valgrind"):
        return {}
    f = url_file(workdir, nginx.base(), "json", n)
    out = {}
    for name, binary, extra in (
            ("salvo (library)", "salvo_bench", []),
            ("salvo (library, --compressed)", "salvo_bench",
             ["--compressed"]),
            ("libcurl multi loop", "curl_multi_bench", [])):
        cg = os.path.join(workdir, f"callgrind.{binary}{len(extra)}")
        subprocess.run(["valgrind", "--tool=callgrind",
                        f"--callgrind-out-file={cg}",
                        os.path.join(build, "bench", binary), "-c", str(c),
                        "-i", f, *extra], capture_output=True, timeout=1800)
        ann = subprocess.run(["callgrind_annotate", "--inclusive=no", cg],
                             capture_output=True, text=True).stdout
        total = 0
        m = re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", ann)
        if m:
            total = int(m.group(1).replace(",", ""))
        top = []
        for line in ann.splitlines():
            mm = re.match(r"\s*([\d,]+) \(\s*([\d.]+)%\)\s+(\S+)", line)
            if mm and "PROGRAM TOTALS" not in line and len(top) < 15:
                top.append((mm.group(3), float(mm.group(2))))
        out[name] = {"instructions_per_request": total / n, "top": top}
        log(f"  {name}: {total / n:,.0f} instructions/request")
    return out


# ---- report --------------------------------------------------------------


def fmt_table(title, table, ref="salvo (library)"):
    lines = [f"### {title}", "",
             "| client | N | requests/s (median, min–max) | CPU µs/request "
             "(median, min–max) | ratio to salvo | peak RSS MiB | "
             "connections |",
             "|---|---:|---|---|---:|---:|---:|"]
    ref_cpu = table.get(ref, {}).get("cpu_us", {}).get("median")
    for name, s in sorted(table.items(), key=lambda kv: kv[1]["cpu_us"]["median"]):
        ratio = (f"{s['cpu_us']['median'] / ref_cpu:.2f}×"
                 if ref_cpu else "")
        lines.append(
            f"| {name} | {s['n']:,} | {s['rps']['median']:,.0f} "
            f"({s['rps']['min']:,.0f}–{s['rps']['max']:,.0f}) | "
            f"{s['cpu_us']['median']:.1f} ({s['cpu_us']['min']:.1f}–"
            f"{s['cpu_us']['max']:.1f}) | {ratio} | {s['rss_mib']:.1f} | "
            f"{s['conns']:.0f} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiplies every N (0.01 for a quick look)")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny N, one round, no extras: proves it runs")
    ap.add_argument("--extras",
                    default="syscalls,rate,dns,10k,big,cli,profile,perf,"
                    "scale")
    ap.add_argument("--workloads",
                    default="h1-64,h1-1024,h1-64-eq,h1-1024-eq,h1s,h2-64,h2,"
                    "h2-8,16k")
    ap.add_argument("--charts", default=os.path.join(HERE, "charts"),
                    help="where charts.py draws the figures (not with "
                    "--smoke)")
    ap.add_argument("--json", default=os.path.join(HERE, "out",
                                                   "results.json"))
    ap.add_argument("--baseline", help="another build directory whose salvo "
                    "library and command run in the same rounds (old "
                    "against new)")
    ap.add_argument("--clients", help="comma-separated words: only the "
                    "clients whose names contain one (wrk and h2load only "
                    "when one word is 'ceiling')")
    args = ap.parse_args()
    raise_nofile()
    scale = 0.002 if args.smoke else args.scale
    rounds = 1 if args.smoke else args.rounds
    extras = [] if args.smoke else args.extras.split(",")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    workloads = {
        "h1-64": {"title": "20,000 small JSON GETs, HTTP/1.1, C=64",
                  "path": "json", "n": 20000, "c": 64, "tls": False},
        "h1-1024": {"title": "20,000 small JSON GETs, HTTP/1.1, C=1024",
                    "path": "json", "n": 20000, "c": 1024, "tls": False},
        "h1-64-eq": {"title": "small JSON GETs, HTTP/1.1, C=64, as many "
                     "as wrk made in 1 s",
                     "path": "json", "n": 20000, "c": 64, "tls": False,
                     "equal": True},
        "h1-1024-eq": {"title": "small JSON GETs, HTTP/1.1, C=1024, as "
                       "many as wrk made in 1 s",
                       "path": "json", "n": 20000, "c": 1024, "tls": False,
                       "equal": True},
        "h1s": {"title": "20,000 small JSON GETs, HTTPS + HTTP/1.1 "
                "(keep-alive), C=64",
                "path": "json", "n": 20000, "c": 64, "tls": "h1"},
        "h2-64": {"title": "20,000 small JSON GETs, HTTPS + HTTP/2, one "
                  "connection, 64 streams",
                  "path": "json", "n": 20000, "c": 64, "tls": True},
        "h2": {"title": "20,000 small JSON GETs, HTTPS + HTTP/2, C=256",
               "path": "json", "n": 20000, "c": 256, "tls": True},
        "h2-8": {"title": "20,000 small JSON GETs, HTTPS + HTTP/2, 8 "
                 "connections (C=1024, a server allowing 128 streams each)",
                 "path": "json", "n": 20000, "c": 1024, "tls": True,
                 "streams": 128, "h2_conns": 8},
        "16k": {"title": "50,000 GETs of 16 KiB, HTTP/1.1, C=64",
                "path": "16k", "n": 50000, "c": 64, "tls": False},
    }
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="salvo-bench-work-")
    nginx = Nginx()
    report = {"machine": machine(), "workloads": {}, "extras": {}}
    try:
        for key in filter(None, args.workloads.split(",")):
            wl = dict(workloads[key])
            wl["n"] = max(10, int(wl["n"] * scale))
            if wl.get("equal"):  # a fraction of wrk's count (--smoke)
                wl["equal"] = scale
            log(f"== {wl['title']} (N={wl['n']})")
            report["workloads"][key] = {
                "title": wl["title"],
                "table": run_workload(
                    nginx, workdir, wl, rounds, args.build, log,
                    1 if args.smoke or wl.get("equal") else 5,
                    args.baseline,
                    args.clients.split(",") if args.clients else None)}
        if "syscalls" in extras:
            log("== system calls per request (strace -c -f), C=64")
            report["extras"]["syscalls"] = syscalls_per_request(
                nginx, workdir, args.build, int(20000 * scale), 64, log)
        if "rate" in extras:
            log("== rate limit accuracy")
            report["extras"]["rate"] = rate_accuracy(
                args.build, [100, 1000, 10000], 3, log)
        if "dns" in extras:
            log("== 5,000 names through a local DNS server")
            report["extras"]["dns"] = many_names(
                nginx, workdir, args.build, int(5000 * scale), log)
        if "10k" in extras:
            log("== 10,000 concurrent connections")
            report["extras"]["10k"] = ten_thousand_connections(
                nginx, workdir, args.build, log)
        if "big" in extras:
            log("== 1 GiB over HTTPS + HTTP/2")
            report["extras"]["big"] = big_download(nginx, args.build, log,
                                                   1 if args.smoke else 3)
        if "cli" in extras:
            log("== CLI memory over 1,000,000 URLs")
            report["extras"]["cli"] = cli_memory(
                nginx, workdir, args.build, int(1000000 * scale), log)
        if "profile" in extras:
            log("== callgrind: instructions per request, C=64")
            report["extras"]["profile"] = callgrind_profile(
                nginx, workdir, args.build, int(20000 * scale), 64, log)
        if "scale" in extras:
            log("== scale-out: threads and Dask workers, 8 origins")
            report["extras"]["scale"] = scale_out(
                nginx, workdir, args.build, int(200000 * scale), log,
                1 if args.smoke else 3)
        if "perf" in extras:
            sc = os.path.join(args.build, "bench", "syscall_cost")
            if os.path.exists(sc):
                r = run_once([sc], None)
                report["extras"]["syscall_ns"] = json.loads(
                    r["out"])["ns_per_call"]
                log(f"== one system call's entry and exit: "
                    f"{report['extras']['syscall_ns']:.1f} ns")
            log("== perf: the native path by library, C=64")
            report["extras"]["perf"] = perf_profile(
                nginx, workdir, args.build, int(20000 * scale), 64, log)
    finally:
        nginx.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1)
    for key, w in report["workloads"].items():
        print(fmt_table(w["title"], w["table"]))
    if not args.smoke and args.charts:
        # Debian's python3-matplotlib (make bench installs it).
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "charts.py"),
                        args.json, args.charts], check=False)
    if args.smoke:
        bad = [name for w in report["workloads"].values()
               for name, s in w["table"].items()
               if s["ok_min"] < s["n"] and "ceiling" not in name]
        if bad:
            log(f"smoke run: incomplete runs: {bad}")
            sys.exit(1)
        log("bench smoke run: ok")


def machine():
    info = {"cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            info["cpu"] = m.group(1) if m else "?"
    except OSError:
        pass
    info["kernel"] = os.uname().release
    return info


if __name__ == "__main__":
    main()
