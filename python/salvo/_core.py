"""The sans-I/O core both clients share (as httpx and h11 keep protocol
apart from I/O): the arguments of a request checked and converted for
the extension (build), a client's options (client_options), the verbs,
and the native client a Client or an AsyncClient holds. Nothing here
waits: the sync layer (_client.py) and the async one (_async.py) only
add how they wait."""
from __future__ import annotations

from _thread import allocate_lock  # threading.Lock, without threading's 8 ms
from collections.abc import Mapping

from . import _salvo

# typing costs 18 ms of import (measured) that no caller needs at run
# time: the names are for the checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple, Union
    HeaderTypes = Union[Mapping[str, str], Sequence[Tuple[str, str]], None]
    ParamTypes = Union[Mapping[str, Any], Sequence[Tuple[str, Any]], None]


def _text(v: Any, what: str) -> str:
    """A header name or value: str, or bytes (Latin-1, as sent)."""
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.decode("latin-1")
    raise TypeError(f"{what} must be str or bytes, not "
                    f"{type(v).__name__}")


def _header_list(headers: HeaderTypes) -> Optional[List[str]]:
    if headers is None:
        return None
    if isinstance(headers, (str, bytes)):
        raise TypeError("headers must be a mapping or a sequence of "
                        "(name, value) pairs, not a string")
    items = headers.items() if isinstance(headers, Mapping) else headers
    out = []
    for item in items:
        try:
            k, v = item
        except (TypeError, ValueError):
            raise TypeError("headers must be a mapping or a sequence of "
                            "(name, value) pairs") from None
        out.append(f"{_text(k, 'a header name')}: "
                   f"{_text(v, 'a header value')}")
    return out or None


def _param_value(v: Any) -> Optional[str]:
    """A query value as httpx writes it: str, int, float, bool or None
    (a name alone)."""
    if v is None:
        return None
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, (str, int, float)):
        return str(v)
    raise TypeError(f"a query parameter value must be str, int, float, bool "
                    f"or None, not {type(v).__name__}")


def _param_list(params: ParamTypes) -> Optional[List[Tuple[str, Any]]]:
    """(name, value) pairs; a value None sends the name alone, a list
    sends the name once per item."""
    if params is None:
        return None
    if isinstance(params, (str, bytes)):
        raise TypeError("params must be a mapping or a sequence of "
                        "(name, value) pairs, not a string")
    items = params.items() if isinstance(params, Mapping) else params
    out: List[Tuple[str, Any]] = []
    for k, v in items:
        if not isinstance(k, str):
            raise TypeError(f"a query parameter name must be str, not "
                            f"{type(k).__name__}")
        for one in (v if isinstance(v, (list, tuple)) else [v]):
            out.append((k, _param_value(one)))
    return out or None


def _bytes(v: Any, what: str) -> bytes:
    """A body given as str (UTF-8) or bytes-like; nothing else, so that an
    int never becomes that many NUL bytes."""
    if isinstance(v, str):
        return v.encode()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    raise TypeError(f"{what} must be str or bytes, not {type(v).__name__}")


def _timeout(v: Any) -> Optional[float]:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, not "
                        f"{type(v).__name__}")
    return float(v)


def build(method: str, url: str, *, params: ParamTypes = None,
          headers: HeaderTypes = None, json: Any = None, data: Any = None,
          content: Union[bytes, str, None] = None,
          timeout: Optional[float] = None, stream: bool = False,
          key: Optional[str] = None) -> Dict[str, Any]:
    """The arguments of _salvo.Parallel._submit for one request."""
    if not isinstance(method, str):
        raise TypeError(f"method must be str, not {type(method).__name__}")
    hdrs = _header_list(headers) or []
    body: Optional[bytes] = None
    names = {h.split(":", 1)[0].strip().lower() for h in hdrs}
    if json is not None:
        import json as jsonlib  # imported when first used: 16 ms
        body = jsonlib.dumps(json, separators=(",", ":")).encode()
        if "content-type" not in names:
            hdrs.append("Content-Type: application/json")
    elif data is not None:
        if isinstance(data, Mapping):
            from urllib.parse import urlencode
            body = urlencode(data, doseq=True).encode()
            if "content-type" not in names:
                hdrs.append("Content-Type: application/x-www-form-urlencoded")
        else:
            body = _bytes(data, "data (a dict of form fields, str or bytes)")
    elif content is not None:
        body = _bytes(content, "content")
    t = _timeout(timeout)
    return {"method": method.upper(), "url": url if isinstance(url, str)
            else str(url), "params": _param_list(params),
            "headers": hdrs or None, "body": body,
            "timeout": t if t else 0.0, "key": key, "stream": bool(stream)}


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
    opts: Dict[str, Any] = {"follow_redirects": follow_redirects,
                            "cookies": cookies,
                            "http_version": 0 if http2 else 1,
                            "transport": transport}  # salvo_transport_parse
    hdrs = _header_list(headers)
    if hdrs:
        opts["headers"] = hdrs
        ua = [h for h in hdrs if h.lower().startswith("user-agent:")]
        if ua:
            opts["user_agent"] = ua[0].split(":", 1)[1].strip()
    if auth is not None:
        if not (isinstance(auth, tuple) and len(auth) == 2):
            raise TypeError("auth must be a (username, password) tuple; "
                            "other auth objects are not supported")
        opts["username"], opts["password"] = auth
    t = _timeout(timeout)
    if t is not None:
        opts["timeout"] = t
    if isinstance(verify, str):
        opts["ca_file"] = verify
    elif isinstance(verify, bool):
        opts["verify"] = verify
    else:
        raise TypeError("verify must be True, False or the path of a CA "
                        "bundle; an ssl.SSLContext is not supported")
    if concurrency is not None:
        opts["concurrency"] = concurrency
    if max_retries is not None:
        opts["max_retries"] = max_retries
    if rate_limit is not None:
        opts["rate_limit"] = rate_limit
    opts.update(more)
    return opts


class Verbs:
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


class ClientCore:
    """What a Client and an AsyncClient have alike: the native client (a
    connection pool, a cookie jar and an I/O thread), its options, its
    cookies and its end. The subclasses add the block single requests use
    and how a request is waited for."""

    def __init__(self, **options: Any) -> None:
        self._c: Optional[_salvo.Client] = _salvo.Client(
            **client_options(**options))
        self._lock = allocate_lock()

    def _native(self) -> _salvo.Client:
        if self._c is None:
            raise _salvo.ClosedError("the client is closed")
        return self._c

    def clear_cookies(self) -> None:
        """Forgets every cookie the client holds."""
        self._native().clear_cookies()

    def _close_native(self) -> None:
        if self._c is not None:
            c, self._c = self._c, None
            c.close()

    @property
    def is_closed(self) -> bool:
        return self._c is None

