"""The one-call form (parallel-requests-howto.md): many requests, results
in input order (or by key), with concurrency, rate limit, retries,
timeouts, headers, per-URL params, return types and a parse callback; and
a session that keeps cookies and connections across batches."""
from __future__ import annotations

import enum
from collections.abc import Mapping

from . import _salvo
from ._client import Client
from ._args import USE_CLIENT_DEFAULT, _param_list, build
from ._core import ClientCore
from ._flows import Flow
from ._exceptions import (DecodingError, HTTPError, HTTPStatusError,
                          ParallelRequestsError, error_for)
from ._response import Response

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    from typing import Any, Callable, Dict, List, Optional, Sequence, Union

__all__ = ["ReturnType", "parallel_requests", "parallel_requests_async",
           "ParallelRequests"]


class ReturnType(str, enum.Enum):
    """What each result is: parsed JSON (the default), text, bytes, or the
    whole Response."""
    JSON = "json"
    TEXT = "text"
    CONTENT = "content"
    RESPONSE = "response"


class _Plan:
    """Everything checked before a request is sent."""

    def __init__(self, urls: Union[str, Sequence[str]], *, keys=None,
                 params=None, headers=None, method="GET", json=None,
                 data=None, return_type: Union[str, ReturnType] = "json",
                 parse_func: Optional[Callable[[Any], Any]] = None,
                 return_exceptions: bool = False,
                 timeout: Any = USE_CLIENT_DEFAULT) -> None:
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        n = len(self.urls)
        if keys is not None:
            if isinstance(keys, (str, bytes)):
                raise TypeError("keys must be a sequence of keys, one per "
                                "URL, not a string")
            keys = list(keys)
            if len(keys) != n:
                raise ValueError(f"{len(keys)} keys for {n} URLs: give one "
                                 f"key per URL")
            seen = set()
            for k in keys:
                if k in seen:
                    raise ValueError(f"duplicate key {k!r}")
                seen.add(k)
        self.keys = keys
        # Per URL, or one value for all (the common case: no list made).
        if isinstance(params, Mapping) or params is None:
            self.params_all, self.params_each = params, None
        else:
            self.params_all, self.params_each = None, list(params)
            if len(self.params_each) != n:
                raise ValueError(f"{len(self.params_each)} params for {n} "
                                 f"URLs: give one dict per URL, or one for "
                                 f"all")
        self.json_each = (list(json) if isinstance(json, list) and
                          len(json) == n and n > 1 else None)
        self.json_all = None if self.json_each is not None else json
        self.data_each = (list(data) if isinstance(data, list) and
                          len(data) == n and n > 1 else None)
        self.data_all = None if self.data_each is not None else data
        # A list of one mapping per URL is per URL; a list of pairs is
        # headers for all, as a request takes them.
        self.headers_each = _each(headers, n, "headers", lambda h: h is None
                                  or isinstance(h, Mapping))
        self.headers = None if self.headers_each is not None else headers
        self.method_each = _each(method, n, "method",
                                 lambda m: isinstance(m, str))
        self.method = "GET" if self.method_each is not None else method
        self.timeout = timeout
        try:
            self.return_type = ReturnType(return_type)
        except ValueError:
            raise ValueError(f"return_type {return_type!r}: one of json, "
                             f"text, content, response") from None
        self.parse_func = parse_func
        self.return_exceptions = return_exceptions
        # The client it runs on, when that has request defaults to merge
        # (base_url, params, cookies to send, hooks): set by the runner.
        self.client: Any = None
        # The Auth flows under way (a DigestAuth's 401 answered), by index.
        self.flows: Dict[int, Flow] = {}
        if self.return_type is ReturnType.JSON:
            import json as jsonlib  # imported when first needed: 16 ms
            self._loads = jsonlib.loads

    def _params(self, i: int):
        return self.params_all if self.params_each is None else \
            self.params_each[i]

    def _method(self, i: int) -> str:
        return self.method if self.method_each is None else \
            self.method_each[i]

    def run(self, batch: "_salvo.Parallel", concurrency: int) -> List[Any]:
        """Every request, the raw results in input order (bytes for a
        success, when bodies are what is asked for; else the Response):
        in one C loop when the bodies are the same for every URL, else one
        by one."""
        if self.json_each is not None or self.data_each is not None or \
                self.headers_each is not None or \
                self.method_each is not None or self.client is not None:
            return _one_by_one(batch, self)
        common = build(self.method, "", headers=self.headers,
                       json=self.json_all, data=self.data_all,
                       timeout=self.timeout)
        params = None
        if self.params_each is not None:
            params = [_param_list(p) for p in self.params_each]
        elif self.params_all:
            params = [_param_list(self.params_all)] * len(self.urls)
        return batch._run(self.urls, method=common["method"],
                         headers=common["headers"], body=common["body"],
                         timeout=common["timeout"], params=params,
                         window=max(64, 4 * concurrency),
                         bodies=self.return_type in (ReturnType.JSON,
                                                     ReturnType.CONTENT))

    def submit(self, batch: "_salvo.Parallel", i: int) -> int:
        kw = dict(params=self._params(i),
                  headers=self.headers if self.headers_each is None else
                  self.headers_each[i],
                  json=self.json_all if self.json_each is None else
                  self.json_each[i],
                  data=self.data_all if self.data_each is None else
                  self.data_each[i],
                  timeout=self.timeout)
        if self.client is not None:
            args = self.client._prepare(self._method(i), self.urls[i], kw)
            flow = args.pop("_flow", None)
            if flow is None:
                return batch._submit(**args)
            f = self.flows[i] = Flow(flow, args,
                                     lambda a: batch._submit(**a))
            return f.current
        return batch._submit(**build(self._method(i), self.urls[i], **kw))

    def took(self, i: int, raw: Any) -> Optional[int]:
        """raw came for request i: the id of the request its Auth flow
        sends next, or None when raw is its result."""
        f = self.flows.pop(i, None)
        if f is None:
            return None
        if raw._error:
            f.failed()
            return None
        if f.took(raw):
            return None
        self.flows[i] = f
        return f.current

    def convert(self, raw: Any, url: Optional[str] = None) -> Any:
        """A result: the value asked for, or the exception it failed
        with. `raw` is a Response, or the body of a success (bytes) when
        Parallel._run was asked for bodies."""
        if raw.__class__ is bytes:
            return self._value(raw, url)
        if raw._error:
            return error_for(raw._error_name, raw._error_message, raw.url,
                             raw=raw)
        rt = self.return_type
        try:
            status = raw.status_code
            if rt is ReturnType.RESPONSE:
                value: Any = raw
            elif status >= 400:
                return HTTPStatusError(
                    f"status {status} for url '{raw.url}'",
                    code=f"HTTP{status}", url=raw.url, response=raw)
            elif rt is ReturnType.TEXT:
                value = raw.text
            else:
                return self._value(raw.content, raw.url)
            return self.parse_func(value) if self.parse_func else value
        except Exception as e:  # the parse callback's: this result only
            return e

    def _value(self, body: bytes, url: Optional[str]) -> Any:
        """JSON or bytes from a successful body, through parse_func."""
        try:
            value: Any = body
            if self.return_type is ReturnType.JSON:
                try:
                    value = self._loads(body)
                except ValueError as e:
                    return DecodingError(f"body is not JSON: {e}",
                                         code="EPARSE", url=url or "")
            return self.parse_func(value) if self.parse_func else value
        except Exception as e:  # the parse callback's: this result only
            return e

    def convert_all(self, raws: List[Any]) -> List[Any]:
        """Every result, in place. The common cases (bytes asked for, or
        JSON, without a parse callback) touch each success once."""
        conv, urls = self.convert, self.urls
        rt = self.return_type
        if self.parse_func is None and rt is ReturnType.CONTENT:
            for i, r in enumerate(raws):
                if r.__class__ is not bytes:
                    raws[i] = conv(r, urls[i])
        elif self.parse_func is None and rt is ReturnType.JSON:
            loads = self._loads
            for i, r in enumerate(raws):
                if r.__class__ is bytes:
                    try:
                        raws[i] = loads(r)
                        continue
                    except ValueError:
                        pass
                raws[i] = conv(r, urls[i])
        else:
            for i, r in enumerate(raws):
                raws[i] = conv(r, urls[i])
        return raws

    def finish(self, results: List[Any]) -> Union[List[Any], Dict[Any, Any]]:
        for i, r in enumerate(results):
            if isinstance(r, HTTPError):
                self._give_request(r, i)
        shaped = dict(zip(self.keys, results)) if self.keys else results
        if self.return_exceptions:
            return shaped
        errors = [((self.keys[i] if self.keys else i), r)
                  for i, r in enumerate(results)
                  if isinstance(r, BaseException)]
        if errors:
            raise ParallelRequestsError(
                f"{len(errors)} of {len(results)} requests failed; "
                f"the error has every result (.results) and the failures "
                f"(.errors)", shaped, errors)
        return shaped


    def _give_request(self, e: HTTPError, i: int) -> None:
        """e's request (httpx's exc.request), where its response has none
        made: the URL went bare, in C."""
        src = e.response if e.response is not None else e._raw
        if e._request is None and (src is None or
                                   src._first_request() is None):
            from ._models import Request
            e._request = Request(self._method(i), self.urls[i],
                                 params=self._params(i))


def _each(value: Any, n: int, name: str, one: Callable[[Any], bool]
          ) -> Optional[List[Any]]:
    """value as one per URL (a list or tuple whose items are each `one`),
    checked to have n of them; None when it is one value for all."""
    if not isinstance(value, (list, tuple)) or not value or \
            not all(one(v) for v in value):
        return None
    if len(value) != n:
        raise ValueError(f"{len(value)} {name} for {n} URLs: give one per "
                         f"URL, or one for all")
    return list(value)


def _one_by_one(b: "_salvo.Parallel", plan: _Plan) -> List[Any]:
    n = len(plan.urls)
    raws: List[Any] = [None] * n
    index: Dict[int, int] = {}
    nxt = 0
    while nxt < n or index:
        while nxt < n and len(index) < 4096:
            index[plan.submit(b, nxt)] = nxt
            nxt += 1
        raw = b._next()
        i = index.pop(raw._id)
        again = plan.took(i, raw)
        if again is None:
            raws[i] = raw
        else:
            index[again] = i
    return raws


def _run(client: ClientCore, plan: _Plan, concurrency: int) -> Any:
    if not client._plain:
        plan.client = client
    b = _salvo.Parallel(client._native(), Response)
    try:
        return plan.finish(plan.convert_all(plan.run(b, concurrency)))
    finally:
        b.close()


async def _run_async(client: ClientCore, plan: _Plan, concurrency: int) -> Any:
    from ._async import AsyncParallel  # asyncio: only for its users
    if not client._plain:
        plan.client = client
    par = AsyncParallel(client, Response)
    par._open()
    try:
        n = len(plan.urls)
        results: List[Any] = [None] * n
        index: Dict[int, int] = {}
        window = max(1024, 4 * concurrency)
        nxt = 0
        while nxt < n or index:
            while nxt < n and len(index) < window:
                index[plan.submit(par._b, nxt)] = nxt
                nxt += 1
            raw = await par._wait(None)
            i = index.pop(raw._id)
            again = plan.took(i, raw)
            if again is None:
                results[i] = plan.convert(raw)
            else:
                index[again] = i
        return plan.finish(results)
    finally:
        par.close()


def _split(kw: Dict[str, Any]):
    plan_kw = {k: kw.pop(k) for k in list(kw)
               if k in ("keys", "params", "headers", "method", "json", "data",
                        "return_type", "parse_func", "return_exceptions")}
    if "timeout" in kw:
        plan_kw["timeout"] = kw["timeout"]
    return plan_kw, kw


def parallel_requests(urls: Union[str, Sequence[str]], **kw: Any) -> Any:
    """Runs every request and returns the results in input order (a list),
    or by key (a dict in key order) when `keys` is given. Nothing is sent
    when the arguments do not fit (ValueError). A failure never drops the
    other results: the call raises ParallelRequestsError carrying all of
    them, or with return_exceptions=True returns them, failures as their
    exceptions. Concurrency is capped whether or not a rate limit is set;
    Retry-After is honoured; only idempotent methods are retried."""
    plan_kw, client_kw = _split(dict(kw))
    plan = _Plan(urls, **plan_kw)
    with Client(**client_kw) as client:
        return _run(client, plan, client_kw.get("concurrency") or 100)


async def parallel_requests_async(urls: Union[str, Sequence[str]],
                                  **kw: Any) -> Any:
    """parallel_requests for event loops: the same arguments and results;
    the loop is never blocked."""
    plan_kw, client_kw = _split(dict(kw))
    plan = _Plan(urls, **plan_kw)
    client = Client(**client_kw)
    try:
        return await _run_async(client, plan,
                                client_kw.get("concurrency") or 100)
    finally:
        client.close()


class ParallelRequests:
    """A session for the one-call form: its client's cookies and
    connections carry over from one request() batch to the next. Use it
    with `with` (request() returns the results) or `async with` (request()
    is awaited)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._client = Client(**options)
        self._async = False

    def request(self, urls: Union[str, Sequence[str]], **kw: Any) -> Any:
        plan = _Plan(urls, **kw)
        conc = self._options.get("concurrency") or 100
        if self._async:
            return _run_async(self._client, plan, conc)
        return _run(self._client, plan, conc)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "ParallelRequests":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> "ParallelRequests":
        self._async = True
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()

