"""Sharded runs under Dask distributed.

    from distributed import Client
    import salvo.dask

    with Client("tcp://scheduler:8786"):
        bag = salvo.dask.parallel_requests(urls, shards=64,
                                           output="results/",
                                           per_host_rate=10)
        for record in bag.compute():
            ...

Requests are split into shards by origin (scheme, host, port), with the
same hash as the command's ``--shard I/N`` (``shard_of``): every request
to one origin is in one shard, and a shard runs as one task, through the
one salvo session of the worker process that runs it. ``per_host`` and
``per_host_rate`` therefore hold across the whole cluster; ``concurrency``
and ``rate_limit`` are per task.

With ``output``, each shard's records are written to
``output/shard-SSSSS-of-NNNNN.jsonl`` atomically (a temporary file, then a
rename), and a shard whose file exists is read back instead of run: a
rerun after a failure (or after completion) sends only what no shard file
holds, and a task that Dask runs again after its worker died writes its
file whole or not at all. The output holds every input exactly once.
Requests themselves are at least once: a worker that dies mid-shard has
sent some of them, and the shard is sent again.

Imported only when Dask is installed (Debian: python3-dask,
python3-distributed).
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
from typing import Any, Dict, Iterable, List, Optional, Tuple

try:
    import dask
    import dask.bag as db
except ImportError as exc:  # pragma: no cover - depends on the machine
    raise ImportError("salvo.dask needs Dask: install python3-dask and "
                      "python3-distributed") from exc

from . import _salvo
from ._oneshot import ParallelRequests

__all__ = ["parallel_requests", "shard_of", "read_output"]

_REQUEST_FIELDS = ("url", "key", "method", "params", "headers", "json",
                   "data")
_VALUES = ("text", "json", "none")


def shard_of(url: str, shards: int) -> int:
    """The shard (0 to shards - 1) of url's origin; ValueError for a URL
    salvo refuses. The same function as the command's ``--shard``."""
    return _salvo.url_shard(url, shards)


def _record_of(item: Any, index: Any) -> Dict[str, Any]:
    """A request dict from a URL or a dict, keyed by its own key or by its
    position in the input."""
    if isinstance(item, str):
        return {"url": item, "key": str(index)}
    if not isinstance(item, dict) or "url" not in item:
        raise ValueError(f"a request is a URL or a dict with 'url', not "
                         f"{item!r:.80}")
    extra = set(item) - set(_REQUEST_FIELDS)
    if extra:
        raise ValueError(f"unknown request fields {sorted(extra)}")
    rec = dict(item)
    rec["key"] = str(rec.get("key", index))
    return rec


def _shard_or_first(url: str, shards: int) -> int:
    # A URL salvo refuses is shard 0's, as in the command: exactly one task
    # reports it (as InvalidURL).
    try:
        return shard_of(url, shards)
    except ValueError:
        return 0


# ---- on the workers --------------------------------------------------------

_sessions: Dict[str, ParallelRequests] = {}
_sessions_lock = threading.Lock()


def _session(options: Dict[str, Any]) -> ParallelRequests:
    """The worker process's session for these options: one client, its
    connections and cookies, for every task the process runs."""
    name = json.dumps(options, sort_keys=True, default=repr)
    with _sessions_lock:
        s = _sessions.get(name)
        if s is None:
            s = _sessions[name] = ParallelRequests(**options)
        return s


def _value(resp: Any, kind: str) -> Tuple[Any, Optional[str]]:
    if kind == "none":
        return None, None
    if kind == "json":
        try:
            return resp.json(), None
        except ValueError as exc:
            return None, f"DecodingError: {exc}"
    return resp.text, None


def _fetch(recs: List[Dict[str, Any]], options: Dict[str, Any],
           value: str) -> List[Dict[str, Any]]:
    """Runs one shard's requests with the one-call form; a record per
    request, in input order."""
    session = _session(options)
    out: Dict[str, Dict[str, Any]] = {}
    # The one-call form takes one method, headers and body per call, so
    # requests are grouped by them (a plain list of URLs is one group).
    groups: Dict[str, List[Dict[str, Any]]] = {}
    for r in recs:
        sig = json.dumps([r.get("method", "GET"), r.get("headers"),
                          r.get("json"), r.get("data")], sort_keys=True)
        groups.setdefault(sig, []).append(r)
    for group in groups.values():
        first = group[0]
        kw: Dict[str, Any] = {"method": first.get("method", "GET"),
                              "return_type": "response",
                              "return_exceptions": True}
        for f in ("headers", "json", "data"):
            if first.get(f) is not None:
                kw[f] = first[f]
        if any(r.get("params") for r in group):
            kw["params"] = [r.get("params") or {} for r in group]
        try:
            results = session.request([r["url"] for r in group],
                                      keys=[r["key"] for r in group], **kw)
        except ValueError as exc:  # e.g. a duplicate key: all of them fail
            results = {r["key"]: exc for r in group}
        for r in group:
            res = results[r["key"]]
            rec = {"key": r["key"], "url": r["url"], "status": None,
                   "error": None, "value": None}
            if isinstance(res, BaseException):
                resp = getattr(res, "response", None)
                rec["error"] = f"{type(res).__name__}: {res}"
                if resp is not None:
                    rec["status"] = resp.status_code
            else:
                rec["status"] = res.status_code
                rec["value"], rec["error"] = _value(res, value)
            out[r["key"]] = rec
    return [out[r["key"]] for r in recs]


def _shard_path(output: str, shard: int, shards: int) -> str:
    return os.path.join(output, f"shard-{shard:05d}-of-{shards:05d}.jsonl")


def _write_atomic(path: str, records: List[Dict[str, Any]]) -> None:
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".shard-", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for rec in records:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read_shard(path: str) -> List[Dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _run_shards(pairs: Iterable[Tuple[int, List[Dict[str, Any]]]],
                shards: int, output: Optional[str], options: Dict[str, Any],
                value: str) -> List[Dict[str, Any]]:
    """One Dask task: the shards of a partition, each run or read back."""
    out: List[Dict[str, Any]] = []
    for shard, recs in pairs:
        path = _shard_path(output, shard, shards) if output else None
        if path and os.path.exists(path):
            out.extend(_read_shard(path))
            continue
        records = _fetch(list(recs), options, value)
        if path:
            _write_atomic(path, records)
        out.extend(records)
    return out


def _tag_partition(part: Iterable[Any], index: int,
                   shards: int) -> List[Dict[str, Any]]:
    out = []
    for i, item in enumerate(part):
        rec = _record_of(item, f"{index}-{i}")
        rec["_shard"] = _shard_or_first(rec["url"], shards)
        out.append(rec)
    return out


def _untag(pair: Tuple[int, List[Dict[str, Any]]]):
    shard, recs = pair
    return shard, [{k: v for k, v in r.items() if k != "_shard"}
                   for r in recs]


# ---- on the caller's side --------------------------------------------------


def _default_shards() -> int:
    try:
        from distributed import get_client
        workers = get_client().scheduler_info()["workers"].values()
        return max(4, 4 * sum(w.get("nthreads", 1) for w in workers))
    except (ImportError, ValueError):
        return 16


def parallel_requests(requests: Any, *, shards: Optional[int] = None,
                      output: Optional[str] = None, value: str = "text",
                      **options: Any) -> "db.Bag":
    """Runs many requests as sharded Dask tasks; returns a Dask bag of
    result records ``{"key", "url", "status", "error", "value"}``
    (compute it, or write it on).

    requests: an iterable or a Dask bag of URLs, or of dicts with "url"
    and optionally "key", "method", "params", "headers", "json", "data".
    A request without a key is keyed by its position ("12" in an iterable,
    "partition-position" in a bag); keys must be unique.

    shards: how many (default: 4 per worker thread of the current
    distributed client, else 16). output: a folder for the JSONL shard
    files (made if missing), which also makes reruns resume. value: what
    a record's value is: "text" (the default), "json" or "none".
    options: the one-call form's client options (concurrency, per_host,
    per_host_rate, rate_limit, max_retries, timeout, headers, ...), per
    worker session; per-host limits hold cluster-wide.

    status is the HTTP status when a response came (4xx and 5xx included,
    with error None); error is "ExceptionName: message" when none did.
    """
    if value not in _VALUES:
        raise ValueError(f"value must be one of {_VALUES}, not {value!r}")
    n = int(shards) if shards else _default_shards()
    if n < 1:
        raise ValueError("shards must be at least 1")
    if output:
        os.makedirs(output, exist_ok=True)
    if isinstance(requests, db.Bag):
        parts = requests.to_delayed()
        tagged = db.from_delayed([dask.delayed(_tag_partition)(p, i, n)
                                  for i, p in enumerate(parts)])
        grouped = tagged.groupby(lambda r: r["_shard"],
                                 npartitions=min(n, max(1, len(parts))),
                                 shuffle="tasks").map(_untag)
    else:
        groups: Dict[int, List[Dict[str, Any]]] = {}
        seen = set()
        for i, item in enumerate(requests):
            rec = _record_of(item, i)
            if rec["key"] in seen:
                raise ValueError(f"duplicate key {rec['key']!r}")
            seen.add(rec["key"])
            groups.setdefault(_shard_or_first(rec["url"], n), []).append(rec)
        pairs = sorted(groups.items())
        if not pairs:
            return db.from_sequence([], npartitions=1)
        grouped = db.from_sequence(pairs, npartitions=len(pairs))
    return grouped.map_partitions(_run_shards, n, output, dict(options),
                                  value)


def read_output(output: str) -> List[Dict[str, Any]]:
    """Every record of an output folder's finished shards."""
    out: List[Dict[str, Any]] = []
    for name in sorted(os.listdir(output)):
        if name.startswith("shard-") and name.endswith(".jsonl"):
            out.extend(_read_shard(os.path.join(output, name)))
    return out
