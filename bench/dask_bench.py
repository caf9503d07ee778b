"""salvo.dask on a LocalCluster of W worker processes (1 thread each):
every URL of a file, S shards. Prints one JSON line like salvo_bench's:
ok, failed, seconds (the run, not the cluster's start)."""
import json
import sys
import time

import distributed

import salvo.dask


def main():
    path, workers, shards = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(path) as f:
        urls = [line.strip() for line in f if line.strip()]
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                  processes=True,
                                  # its dashboard on loopback, a free port (the
                                  # default, None, is 0.0.0.0:8787)
                                  dashboard_address="127.0.0.1:0",
                                  silence_logs=40) as cluster, \
            distributed.Client(cluster):
        t0 = time.monotonic()
        records = salvo.dask.parallel_requests(
            urls, shards=shards, value="none", concurrency=128).compute()
        dt = time.monotonic() - t0
    ok = sum(1 for r in records if r["status"] == 200)
    print(json.dumps({"ok": ok, "failed": len(records) - ok,
                      "seconds": dt}))


if __name__ == "__main__":
    main()
