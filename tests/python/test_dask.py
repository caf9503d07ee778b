"""salvo.dask on a distributed.LocalCluster of 2 worker processes, against
40 faultd origins (one port each): every input once, per-host limits that
hold across the cluster, a killed worker, and a rerun that sends
nothing. Evidence is faultd's: requests, per-key times, peaks."""
import json
import os
import subprocess
import signal
import time

import pytest

from conftest import Faultd

distributed = pytest.importorskip("distributed")
import salvo.dask  # noqa: E402

ORIGINS = 40


@pytest.fixture(scope="module")
def origins():
    servers = [Faultd() for _ in range(ORIGINS)]
    yield servers
    for s in servers:
        s.stop()


@pytest.fixture(scope="module")
def cluster():
    # Two worker processes, one thread each: the machine has two cores.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                  processes=True,
                                  # its dashboard on loopback, a free port (the
                                  # default, None, is 0.0.0.0:8787)
                                  dashboard_address="127.0.0.1:0",
                                  silence_logs=40) as c:
        with distributed.Client(c) as client:
            yield c, client


def reset(origins):
    for s in origins:
        s.reset()


def total_requests(origins):
    return sum(s.stats()["requests"] for s in origins)


def test_every_input_once(origins, cluster, tmp_path):
    """20,000 URLs over 40 origins: each result once, each request sent
    once, each origin's requests all from one place (its peak never above
    per_host)."""
    reset(origins)
    urls = [origins[i % ORIGINS].url(f"/json/{i}") for i in range(20000)]
    bag = salvo.dask.parallel_requests(urls, shards=8, output=str(tmp_path),
                                       value="json", concurrency=64,
                                       per_host=2)
    records = bag.compute()
    assert len(records) == 20000
    assert sorted(int(r["key"]) for r in records) == list(range(20000))
    assert all(r["status"] == 200 and r["error"] is None for r in records)
    assert all(r["value"]["id"] == int(r["key"]) for r in records)
    assert total_requests(origins) == 20000
    for s in origins:
        peaks = [h["peak"] for h in s.stats()["hosts"].values()]
        assert max(peaks) <= 2, peaks
    assert len(salvo.dask.read_output(str(tmp_path))) == 20000

    # A rerun after completion reads the shards back and sends nothing.
    reset(origins)
    again = salvo.dask.parallel_requests(urls, shards=8,
                                         output=str(tmp_path),
                                         value="json").compute()
    assert sorted(r["key"] for r in again) == sorted(r["key"]
                                                    for r in records)
    assert total_requests(origins) == 0


def test_per_host_rate_holds_cluster_wide(origins, cluster):
    """per_host_rate=20/s, burst 1: the server's own clock sees no origin
    get requests faster, although 2 workers run 8 shards at once."""
    reset(origins)
    use = origins[:8]
    urls = [use[i % 8].url(f"/flaky?key=o{i % 8}&fail=0") for i in range(160)]
    bag = salvo.dask.parallel_requests(urls, shards=4, per_host_rate=20,
                                       concurrency=16)
    records = bag.compute()
    assert all(r["status"] == 200 for r in records), records[:3]
    for i, s in enumerate(use):
        times = sorted(s.stats()["key_times"][f"o{i}"])
        assert len(times) == 20
        # 20 starts at 20/s with a bucket of 1.5 tokens: at least 18.5
        # intervals of 50 ms between the first and the last. Twenty, not
        # ten: a first request that reaches the server late (a busy
        # machine held it 60 ms once) shortens the span by its delay, and
        # the longer span keeps that inside the 10% allowed, while an
        # origin given twice the rate still falls far short.
        span = times[-1] - times[0]
        assert span >= 18.5 * 50 * 0.9, (i, times)


def test_killed_worker_loses_nothing(origins, cluster, tmp_path):
    """A worker process killed mid-run: Dask runs its shards again, and
    the output still holds every input exactly once."""
    c, client = cluster
    reset(origins)
    urls = [origins[i % ORIGINS].url(f"/delay/20?i={i}") for i in range(2000)]
    bag = salvo.dask.parallel_requests(urls, shards=16, output=str(tmp_path),
                                       value="none", concurrency=8)
    future = client.compute(bag)
    # Kill one worker as soon as a first shard is written and most are not.
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:
        done = [n for n in os.listdir(tmp_path) if n.endswith(".jsonl")]
        if done:
            break
        time.sleep(0.01)
    # A guard against a hang (the wait above), not a speed bound.
    assert 0 < len(done) < 16, (done, time.monotonic() - t0)
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    os.kill(victim, signal.SIGKILL)
    records = future.result(timeout=240)
    keys = sorted(int(r["key"]) for r in records)
    assert keys == list(range(2000))
    files = salvo.dask.read_output(str(tmp_path))
    assert sorted(int(r["key"]) for r in files) == list(range(2000))
    assert all(r["status"] == 200 for r in files)
    # Requests are at least once: the killed worker's shard went twice.
    assert total_requests(origins) >= 2000


def test_shard_of_matches_the_command():
    """One origin, one shard, whatever the path; bad URLs are ValueError;
    and the very shards the command's --shard I/N runs: each run of the
    command (next to the package in the build tree) answers exactly the
    URLs shard_of gives its shard, every URL in one run."""
    a = salvo.dask.shard_of("http://Shard.Test/a", 7)
    assert a == salvo.dask.shard_of("http://shard.test:80/b?c", 7)
    assert 0 <= a < 7
    with pytest.raises(ValueError):
        salvo.dask.shard_of("ftp://x/", 7)
    cli = os.path.join(os.path.dirname(salvo.__file__), "..", "..", "salvo")
    if not os.path.exists(cli):
        pytest.skip("the command is not built beside the package")
    # Closed ports refuse at once: each URL is answered with an error line
    # that names it, and nothing leaves the machine.
    urls = [f"http://127.0.0.1:{port}/p{port % 3}" for port in range(1, 41)]
    urls += [f"https://127.0.0.1:{port}/" for port in range(1, 11)]
    seen = []
    for i in range(4):
        p = subprocess.run([cli, "--shard", f"{i}/4", "--retries", "0",
                            "-c", "50"], input="\n".join(urls) + "\n",
                           capture_output=True, text=True, timeout=60)
        got = {json.loads(line)["url"] for line in p.stdout.splitlines()}
        want = {u for u in urls if salvo.dask.shard_of(u, 4) == i}
        assert got == want, (i, p.stderr[-300:])
        seen += got
    assert sorted(seen) == sorted(urls)


def test_bag_of_request_dicts(origins, cluster, tmp_path):
    """A Dask bag in (the shuffle path), with dicts: own keys, methods and
    bodies reach the server; records come back keyed."""
    import dask.bag as db
    reset(origins)
    reqs = [{"url": origins[i % 5].url("/echo"), "key": f"k{i}",
             "method": "POST", "json": {"n": 1}} for i in range(300)]
    reqs += [origins[i % 5].url(f"/status/{404 if i % 2 else 200}")
             for i in range(10)]
    bag = db.from_sequence(reqs, npartitions=4)
    records = salvo.dask.parallel_requests(bag, shards=3, value="json",
                                           output=str(tmp_path)).compute()
    assert len(records) == 310
    by_key = {r["key"]: r for r in records}
    assert len(by_key) == 310
    assert by_key["k7"]["value"]["method"] == "POST"
    assert by_key["k7"]["value"]["body"] == '{"n":1}'
    statuses = sorted(r["status"] for r in records if not
                      r["key"].startswith("k"))
    assert statuses == [200] * 5 + [404] * 5
    assert total_requests(origins) == 310
