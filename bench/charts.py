#!/usr/bin/python3
"""Draws what bench.py measured (its results JSON) as charts next to
RESULTS.md, with Debian's python3-matplotlib:

  charts/cpu-<workload>.png   CPU per request by client, median and range
  charts/rss-<workload>.png   peak RSS by client
  charts/extras.png           connections per second and 10,000-connection
                              RSS, when the run measured them

Usage: charts.py RESULTS_JSON OUT_DIR"""
import json
import os
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def colour(name):
    if name.startswith("salvo"):
        return "#c0392b" if "[baseline]" not in name else "#e6a39b"
    if "ceiling" in name:
        return "#7f8c8d"
    return "#2e86c1"


def bars(path, title, unit, rows, ranges=None):
    """A horizontal bar per client (salvo's in red, the ceilings grey),
    smallest first, with its min-max when given. When the largest is over
    twenty times the smallest the axis is logarithmic: on a linear one
    httpx's 1,600 us leaves the clients within 2x of wrk as slivers, where
    a reader wants to compare them."""
    rows = sorted(rows, key=lambda r: r[1])
    names = [r[0] for r in rows]
    vals = [r[1] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(rows) + 1.2))
    err = None
    if ranges:
        lo = [max(0.0, v - ranges[n][0]) for n, v in zip(names, vals)]
        hi = [max(0.0, ranges[n][1] - v) for n, v in zip(names, vals)]
        err = [lo, hi]
    ax.barh(names, vals, xerr=err, color=[colour(n) for n in names],
            capsize=3)
    for i, (n, v) in enumerate(zip(names, vals)):
        end = max(v, ranges[n][1]) if ranges else v  # past its range bar
        ax.text(end, i, f" {v:.1f}", va="center", fontsize=8)
    if vals and vals[0] > 0 and vals[-1] / vals[0] > 20:
        ax.set_xscale("log")
        unit += ", log scale"
    ax.set_xlabel(unit)
    # Long workload names wrap rather than run off the figure.
    ax.set_title("\n".join(textwrap.fill(t, 70) for t in title.split("\n")),
                 fontsize=10)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    report = json.load(open(src))
    made = []
    for key, w in report.get("workloads", {}).items():
        table = w["table"]
        cpu = [(n, r["cpu_us"]["median"]) for n, r in table.items()
               if r.get("cpu_us")]
        rng = {n: (r["cpu_us"]["min"], r["cpu_us"]["max"])
               for n, r in table.items() if r.get("cpu_us")}
        if cpu:
            p = os.path.join(out, f"cpu-{key}.png")
            bars(p, w["title"] + "\nCPU per request (lower is better)",
                 "µs of CPU per request (median, min-max)", cpu, rng)
            made.append(p)
        rss = [(n, r["rss_mib"]) for n, r in table.items() if r.get("rss_mib")]
        if rss:
            p = os.path.join(out, f"rss-{key}.png")
            bars(p, w["title"] + "\npeak RSS", "MiB", rss)
            made.append(p)
    tenk = report.get("extras", {}).get("10k")
    if isinstance(tenk, dict) and tenk:
        rows = [(n, v["opened_per_s"]) for n, v in tenk.items()
                if isinstance(v, dict) and v.get("opened_per_s")]
        if rows:
            p = os.path.join(out, "connections.png")
            bars(p, "10,000 connections\nopened per second (higher is "
                 "better)", "connections per second", rows)
            made.append(p)
    for p in made:
        print(p)


if __name__ == "__main__":
    main()
