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
import re
import shutil
import subprocess
import sys
import tempfile

from common import HERE, ROOT, Nginx, raise_nofile, run_once
from extras import (big_download, callgrind_profile, cli_memory, many_names,
                    perf_profile, rate_accuracy, scale_out,
                    syscalls_per_request, ten_thousand_connections)
from peers import run_workload


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


def fmt_profile(prof):
    """The marginal instructions a request, each against both of h2load's
    readings (one URL over and over; the same URL file)."""
    refs = [prof.get(k, {}).get("instructions_per_request") for k in
            ("h2load --h1, one URL", "h2load --h1 -i, the URL file")]
    lines = ["### Instructions a request (callgrind, marginal, C=64)", "",
             "| client | instructions | to h2load, one URL | to h2load -i |",
             "|---|---:|---:|---:|"]
    for name, v in prof.items():
        per = v["instructions_per_request"]
        ratios = [f"{per / r:.2f}×" if r else "" for r in refs]
        lines.append(f"| {name} | {per:,.0f} | {ratios[0]} | {ratios[1]} |")
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
    if report["extras"].get("profile"):
        print(fmt_profile(report["extras"]["profile"]))
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
