"""The measurements beside the workloads: system calls, rate accuracy,
many names, 10,000 connections, 1 GiB, the command's memory, scale-out,
and the profiles (perf, callgrind)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from common import (HERE, PY, die_with_parent, pin, run_once, summarize,
                    url_file)
from peers import (clients, h2load_count, has_module, json_count,
                   python_env, wrk_count)


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


def callgrind_total(cmd, out):
    """The instructions callgrind counts over one run of cmd, and its
    annotation (self cost by function)."""
    subprocess.run(["valgrind", "--tool=callgrind",
                    f"--callgrind-out-file={out}", *cmd],
                   capture_output=True, timeout=1800)
    ann = subprocess.run(["callgrind_annotate", "--inclusive=no", out],
                         capture_output=True, text=True).stdout
    m = re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", ann)
    return (int(m.group(1).replace(",", "")) if m else 0), ann


def callgrind_profile(nginx, workdir, build, n, c, log):
    """Instructions a request, marginal: each client makes n requests and
    then 2n, and the difference over n is what one more request costs,
    start-up and the first connections left out. Counts, not seconds, so
    they repeat on a busy machine. h2load is counted two ways: sending one
    URL over and over (its default), and reading the same URL file the
    salvo clients read (-i), which is the same work: a line read, a URL
    parsed, a request built, a request."""
    if not shutil.which("valgrind"):
        return {}
    sb = os.path.join(build, "bench", "salvo_bench")
    base = f"{nginx.base()}/json/1"
    runs = [
        ("salvo (library)", lambda f, k: [sb, "-c", str(c), "-i", f]),
        ("salvo (library, submit all)",
         lambda f, k: [sb, "-c", str(c), "-i", f, "--all"]),
        ("salvo (library, --compressed)",
         lambda f, k: [sb, "-c", str(c), "-i", f, "--compressed"]),
        ("salvo (CLI, JSON bodies)",
         lambda f, k: [os.path.join(build, "salvo"), "-c", str(c), "-i", f,
                       "-o", "/dev/null", "-q", "--retries", "0"]),
        ("libcurl multi loop",
         lambda f, k: [os.path.join(build, "bench", "curl_multi_bench"),
                       "-c", str(c), "-i", f])]
    if shutil.which("h2load"):
        runs += [("h2load --h1, one URL",
                  lambda f, k: ["h2load", "--h1", "-n", str(k), "-c", str(c),
                                base]),
                 ("h2load --h1 -i, the URL file",
                  lambda f, k: ["h2load", "--h1", "-n", str(k), "-c", str(c),
                                "-i", f])]
    out = {}
    for i, (name, cmd) in enumerate(runs):
        counts = []
        for k in (n, 2 * n):
            f = url_file(workdir, nginx.base(), "json", k)
            cg = os.path.join(workdir, f"callgrind.{i}.{k}")
            total, ann = callgrind_total(cmd(f, k), cg)
            counts.append(total)
        top = []
        for line in ann.splitlines():
            mm = re.match(r"\s*([\d,]+) \(\s*([\d.]+)%\)\s+(\S+)", line)
            if mm and "PROGRAM TOTALS" not in line and len(top) < 15:
                top.append((mm.group(3), float(mm.group(2))))
        per = (counts[1] - counts[0]) / n
        out[name] = {"instructions_per_request": per,
                     "instructions_total": counts, "top": top}
        log(f"  {name}: {per:,.0f} instructions a request (marginal)")
    return out
