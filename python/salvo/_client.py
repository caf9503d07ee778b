"""The parallel block (parallel-block.md) and plain requests, synchronous."""
from __future__ import annotations

import json as jsonlib
import os
import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import urlencode

from . import _salvo
from ._models import Response, wrap

__all__ = ["Client", "Parallel", "Pending", "parallel", "request", "get",
           "post", "put", "patch", "delete", "head", "options"]

HeaderTypes = Union[Mapping[str, str], Sequence[Tuple[str, str]], None]
ParamTypes = Union[Mapping[str, Any], Sequence[Tuple[str, Any]], None]


def _header_list(headers: HeaderTypes) -> Optional[List[str]]:
    if not headers:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [f"{k}: {v}" for k, v in items]


def _param_list(params: ParamTypes) -> Optional[List[Tuple[str, Any]]]:
    """(name, value) pairs; a value None sends the name alone, a list
    sends the name once per item."""
    if not params:
        return None
    items = params.items() if isinstance(params, Mapping) else params
    out: List[Tuple[str, Any]] = []
    for k, v in items:
        for one in (v if isinstance(v, (list, tuple)) else [v]):
            out.append((str(k), None if one is None else
                        ("true" if one is True else "false" if one is False
                         else str(one))))
    return out


def build(method: str, url: str, *, params: ParamTypes = None,
          headers: HeaderTypes = None, json: Any = None, data: Any = None,
          content: Union[bytes, str, None] = None,
          timeout: Optional[float] = None, stream: bool = False,
          key: Optional[str] = None) -> Dict[str, Any]:
    """The arguments of _salvo.Batch.submit for one request."""
    hdrs = _header_list(headers) or []
    body: Optional[bytes] = None
    names = {h.split(":", 1)[0].strip().lower() for h in hdrs}
    if json is not None:
        body = jsonlib.dumps(json, separators=(",", ":")).encode()
        if "content-type" not in names:
            hdrs.append("Content-Type: application/json")
    elif data is not None:
        if isinstance(data, Mapping):
            body = urlencode(data, doseq=True).encode()
            if "content-type" not in names:
                hdrs.append("Content-Type: application/x-www-form-urlencoded")
        else:
            body = data.encode() if isinstance(data, str) else bytes(data)
    elif content is not None:
        body = content.encode() if isinstance(content, str) else bytes(content)
    return {"method": method.upper(), "url": str(url),
            "params": _param_list(params), "headers": hdrs or None,
            "body": body, "timeout": float(timeout) if timeout else 0.0,
            "key": key, "stream": bool(stream)}


def client_options(*, headers: HeaderTypes = None,
                   auth: Optional[Tuple[str, str]] = None,
                   timeout: Optional[float] = None, verify: Any = True,
                   http2: bool = False, follow_redirects: bool = True,
                   concurrency: Optional[int] = None,
                   max_retries: Optional[int] = None,
                   rate_limit: Optional[float] = None, cookies: bool = True,
                   transport: str = "auto",
                   **more: Any) -> Dict[str, Any]:
    """Keyword options of _salvo.Client from httpx-style ones. `verify` is
    a bool or the path of a CA bundle; `http2=False` (httpx's default)
    speaks HTTP/1.1 only, True lets TLS negotiate HTTP/2. `transport`:
    "auto" (salvo's own HTTP/1.1 transport, libcurl for HTTP/2 and
    proxies), "native" or "libcurl"."""
    kinds = {"auto": 0, "libcurl": 1, "native": 2}
    if transport not in kinds:
        raise ValueError(f"transport must be one of {sorted(kinds)}, "
                         f"not {transport!r}")
    opts: Dict[str, Any] = {"follow_redirects": follow_redirects,
                            "cookies": cookies,
                            "http_version": 0 if http2 else 1,
                            "transport": kinds[transport]}
    if headers:
        opts["headers"] = _header_list(headers)
        ua = [h for h in opts["headers"] if h.lower().startswith("user-agent:")]
        if ua:
            opts["user_agent"] = ua[0].split(":", 1)[1].strip()
    if auth:
        opts["username"], opts["password"] = auth
    if timeout is not None:
        opts["timeout"] = float(timeout)
    if isinstance(verify, str):
        opts["ca_file"] = verify
    else:
        opts["verify"] = bool(verify)
    if concurrency is not None:
        opts["concurrency"] = int(concurrency)
    if max_retries is not None:
        opts["max_retries"] = int(max_retries)
    if rate_limit is not None:
        opts["rate_limit"] = float(rate_limit)
    opts.update(more)
    return opts


class _Verbs:
    """get/post/put/patch/delete/head/options, each request(METHOD, ...):
    for a block they return the pending, for a client the response (an
    awaitable one for an async client)."""

    def request(self, method: str, url: str, **kw: Any) -> Any:
        raise NotImplementedError

    def get(self, url: str, **kw: Any) -> Any:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> Any:
        return self.request("PUT", url, **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        return self.request("PATCH", url, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.request("DELETE", url, **kw)

    def head(self, url: str, **kw: Any) -> Any:
        return self.request("HEAD", url, **kw)

    def options(self, url: str, **kw: Any) -> Any:
        return self.request("OPTIONS", url, **kw)


class Pending:
    """A submitted request: get_response() waits for it and returns its
    Response, or raises its error."""

    __slots__ = ("_parallel", "_id", "_stream", "_outcome")

    def __init__(self, parallel: "Parallel", id_: int, stream: bool) -> None:
        self._parallel = parallel
        self._id = id_
        self._stream = stream
        self._outcome: Any = None

    def get_response(self, timeout: Optional[float] = None) -> Response:
        if self._outcome is None:
            raw = self._parallel._batch().get(
                self._id, -1.0 if timeout is None else timeout)
            if raw is None:
                raise TimeoutError("no response within the timeout")
            self._parallel._settle(self, raw)
        return self._parallel._result(self)

    def cancel(self) -> None:
        """Cancels the request (its response then raises CancelledError)."""
        if self._outcome is None:
            self._parallel._batch().cancel(self._id)


class Parallel(_Verbs):
    """A parallel block: requests go out at once, responses are collected
    by handle or as they complete, errors surface only on collection, and
    leaving the block cancels what is still pending. A block belongs to
    one thread at a time (make one per thread); its waits release the GIL,
    so other threads run meanwhile."""

    def __init__(self, client: Optional["Client"] = None) -> None:
        self._client = client
        self._b: Optional[_salvo.Batch] = _salvo.Batch(
            client._native() if client else None)
        self._waiting: Dict[int, Pending] = {}

    def _batch(self) -> _salvo.Batch:
        if self._b is None:
            raise RuntimeError("the parallel block is closed")
        return self._b

    def request(self, method: str, url: str, **kwargs: Any) -> Pending:
        stream = kwargs.get("stream", False)
        if kwargs:
            pid = self._batch().submit(**build(method, url, **kwargs))
        else:  # the common case, without building a dict
            pid = self._batch().submit(method, url)
        p = Pending(self, pid, stream)
        self._waiting[pid] = p
        return p


    def _settle(self, p: Pending, raw: Any) -> None:
        self._waiting.pop(p._id, None)
        try:
            p._outcome = wrap(raw, p._stream)
        except Exception as e:  # raised on collection only
            p._outcome = e

    def _result(self, p: Pending) -> Response:
        if isinstance(p._outcome, BaseException):
            raise p._outcome
        return p._outcome

    def next_response(self, timeout: Optional[float] = None) -> Response:
        """The next response to complete; raises its error if it failed."""
        raw = self._batch().next(-1.0 if timeout is None else timeout)
        if raw is None:
            if not self.has_pending_responses:
                raise RuntimeError("no pending responses")
            raise TimeoutError("no response within the timeout")
        p = self._waiting.get(raw.id)
        if p is None:  # collected behind our back: wrap it alone
            p = Pending(self, raw.id, False)
        self._settle(p, raw)
        return self._result(p)

    @property
    def has_pending_responses(self) -> bool:
        return self._b is not None and self._b.pending > 0

    def close(self) -> None:
        """Cancels everything still pending."""
        if self._b is not None:
            b, self._b = self._b, None
            b.close()

    def __enter__(self) -> "Parallel":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Client(_Verbs):
    """A configured client: a connection pool, a cookie jar and its own I/O
    thread. Options follow httpx (headers, auth, timeout, verify, http2,
    follow_redirects) plus salvo's flow control (concurrency, max_retries,
    rate_limit, and any libsalvo option by name). A context manager. A
    client may be shared by any number of threads, each with its own
    blocks; closing it must not race with their use."""

    def __init__(self, **options: Any) -> None:
        self._c: Optional[_salvo.Client] = _salvo.Client(
            **client_options(**options))
        self._single: Optional[Parallel] = None
        self._lock = threading.Lock()

    def _native(self) -> _salvo.Client:
        if self._c is None:
            raise RuntimeError("the client is closed")
        return self._c

    def parallel(self) -> Parallel:
        return Parallel(self)

    def _shared(self) -> Parallel:
        """The block single requests use: it lives with the client, so a
        streamed body can be read after the call returns."""
        with self._lock:
            if self._single is None:
                self._single = Parallel(self)
            return self._single

    def request(self, method: str, url: str, **kw: Any) -> Response:
        return self._shared().request(method, url, **kw).get_response()


    def clear_cookies(self) -> None:
        self._native().clear_cookies()

    def close(self) -> None:
        if self._single is not None:
            self._single.close()
            self._single = None
        if self._c is not None:
            c, self._c = self._c, None
            c.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ---- the default client -----------------------------------------------------

def parallel() -> Parallel:
    """A parallel block on the default client (libsalvo's, made on first
    use, remade in a child after fork)."""
    return Parallel(None)


class _DefaultClient(_Verbs):
    """The verbs on the default client, through one block per process (a
    child after fork gets its own: its parent's block is of no use
    there)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._par: Optional[Parallel] = None
        self._pid = 0

    def request(self, method: str, url: str, **kw: Any) -> Response:
        """One request on the default client."""
        with self._lock:
            if self._par is None or self._pid != os.getpid():
                self._par = parallel()
                self._pid = os.getpid()
            par = self._par
        return par.request(method, url, **kw).get_response()


_default = _DefaultClient()
request = _default.request
get, post, put = _default.get, _default.post, _default.put
patch, delete = _default.patch, _default.delete
head, options = _default.head, _default.options
