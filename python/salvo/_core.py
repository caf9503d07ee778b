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
    """A request's limit per attempt: seconds, None, or an httpx-style
    Timeout (its read/write/pool limit; a connect limit of its own is the
    client's to set)."""
    if v is None:
        return None
    if hasattr(v, "_attempt") and hasattr(v, "connect"):  # a Timeout
        t = v._attempt()
        if v.connect is not None and v.connect != t:
            raise ValueError("a connect timeout per request is not "
                             "supported: set Timeout(connect=...) on the "
                             "client")
        return t
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, a Timeout or "
                        f"None, not {type(v).__name__}")
    return float(v)


class BasicAuth:
    """httpx's BasicAuth(username, password): the same as the tuple."""

    __slots__ = ("username", "password")

    def __init__(self, username: Any, password: Any) -> None:
        self.username, self.password = username, password


def basic_auth_header(auth: Any, what: str = "auth") -> str:
    """The Authorization field of (username, password) or a BasicAuth."""
    if hasattr(auth, "username") and hasattr(auth, "password"):
        auth = (auth.username, auth.password)
    if not (isinstance(auth, tuple) and len(auth) == 2):
        raise TypeError(f"{what} must be a (username, password) tuple, a "
                        f"salvo.BasicAuth or a function of the request; "
                        f"{type(auth).__name__} is not supported")
    import base64
    u, p = (x.encode() if isinstance(x, str) else bytes(x) for x in auth)
    return "Authorization: Basic " + base64.b64encode(u + b":" + p).decode()


def _multipart(data: Any, files: Any) -> Tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578) of form fields and files, as
    httpx encodes `files=`: each file a file object, bytes or str, or a
    tuple (filename, content[, content_type])."""
    import os
    boundary = os.urandom(16).hex()
    out = []
    items = files.items() if isinstance(files, Mapping) else files
    for name, v in (data.items() if isinstance(data, Mapping) else ()):
        for one in (v if isinstance(v, (list, tuple)) else [v]):
            out.append(f'--{boundary}\r\nContent-Disposition: form-data; '
                       f'name="{name}"\r\n\r\n'.encode() +
                       _bytes(str(one) if not isinstance(one, (str, bytes))
                              else one, "a form field") + b"\r\n")
    for name, f in items:
        ctype = "application/octet-stream"
        if isinstance(f, tuple):
            if not 2 <= len(f) <= 3:
                raise TypeError("files: a tuple is (filename, content[, "
                                "content_type])")
            if len(f) == 3:
                ctype = f[2]
            filename, f = f[0], f[1]
        else:
            filename = os.path.basename(str(getattr(f, "name", "upload")))
        content = f.read() if hasattr(f, "read") else f
        out.append((f'--{boundary}\r\nContent-Disposition: form-data; '
                    f'name="{name}"; filename="{filename}"\r\n'
                    f'Content-Type: {ctype}\r\n\r\n').encode() +
                   _bytes(content, "a file's content") + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def build(method: str, url: Any, *, params: ParamTypes = None,
          headers: HeaderTypes = None, cookies: Any = None, auth: Any = None,
          json: Any = None, data: Any = None,
          content: Union[bytes, str, None] = None, files: Any = None,
          timeout: Any = None, follow_redirects: Optional[bool] = None,
          extensions: Optional[Dict[str, Any]] = None, stream: bool = False,
          key: Optional[str] = None, max_retries: Optional[int] = None,
          idempotent: bool = False) -> Dict[str, Any]:
    """The arguments of _salvo.Parallel._submit for one request, from
    httpx's request arguments (and salvo's key, max_retries,
    idempotent)."""
    if not isinstance(method, str):
        raise TypeError(f"method must be str, not {type(method).__name__}")
    if extensions:
        raise ValueError(f"request extensions are not supported "
                         f"({', '.join(sorted(extensions))})")
    hdrs = _header_list(headers) or []
    body: Optional[bytes] = None
    names = {h.split(":", 1)[0].strip().lower() for h in hdrs}
    if files is not None:
        body, ctype = _multipart(data or {}, files)
        if "content-type" not in names:
            hdrs.append(f"Content-Type: {ctype}")
    elif json is not None:
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
    if cookies:
        from ._cookies import Cookies
        value = Cookies(cookies)._header_value()
        mine = [h for h in hdrs if h.lower().startswith("cookie:")]
        if mine:  # one Cookie field (RFC 6265 5.4): the caller's first
            hdrs.remove(mine[0])
            value = mine[0].split(":", 1)[1].strip() + "; " + value
        hdrs.append("Cookie: " + value)
    if auth is not None and not callable(auth):
        hdrs = [h for h in hdrs if not h.lower().startswith("authorization:")]
        hdrs.append(basic_auth_header(auth))
    t = _timeout(timeout)
    out = {"method": method.upper(), "url": url if isinstance(url, str)
           else str(url), "params": _param_list(params),
           "headers": hdrs or None, "body": body,
           "timeout": t if t else 0.0, "key": key, "stream": bool(stream)}
    if follow_redirects is not None:
        out["follow_redirects"] = bool(follow_redirects)
    if max_retries is not None:
        out["max_retries"] = max_retries
    if idempotent:
        out["idempotent"] = True
    return out


def client_options(*, headers: HeaderTypes = None, auth: Any = None,
                   timeout: Any = None, verify: Any = True,
                   http2: bool = False, follow_redirects: bool = True,
                   concurrency: Optional[int] = None, limits: Any = None,
                   max_retries: Optional[int] = None,
                   rate_limit: Optional[float] = None, cookies: Any = True,
                   transport: str = "auto", proxy: Optional[str] = None,
                   **more: Any) -> Dict[str, Any]:
    """Keyword options of _salvo.Client from httpx-style ones. `verify` is
    a bool or the path of a CA bundle; `http2=False` (httpx's default)
    speaks HTTP/1.1 only, True lets TLS negotiate HTTP/2; `timeout` is
    seconds or a Timeout; `limits` a Limits (its max_connections is the
    concurrency); `cookies` False turns the jar off (a mapping of
    cookies to send is ClientCore's). `transport`: "auto" (salvo's own
    HTTP/1.1 transport, libcurl for HTTP/2 and proxies), "native" or
    "libcurl"."""
    opts: Dict[str, Any] = {"follow_redirects": follow_redirects,
                            "cookies": cookies is not False,
                            "http_version": 0 if http2 else 1,
                            "transport": transport}  # salvo_transport_parse
    hdrs = _header_list(headers)
    if hdrs:
        opts["headers"] = hdrs
        ua = [h for h in hdrs if h.lower().startswith("user-agent:")]
        if ua:
            opts["user_agent"] = ua[0].split(":", 1)[1].strip()
    if auth is not None:
        if hasattr(auth, "username") and hasattr(auth, "password"):
            auth = (auth.username, auth.password)
        if not (isinstance(auth, tuple) and len(auth) == 2):
            raise TypeError("a client's auth must be a (username, password) "
                            "tuple or a salvo.BasicAuth; "
                            f"{type(auth).__name__} is not supported")
        opts["username"], opts["password"] = auth
    if hasattr(timeout, "_attempt") and hasattr(timeout, "connect"):
        if timeout.connect is not None:
            opts["connect_timeout"] = float(timeout.connect)
        timeout = timeout._attempt()
        opts["timeout"] = -1.0 if timeout is None else timeout
    else:
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
    if limits is not None and limits.max_connections is not None:
        opts["concurrency"] = limits.max_connections
    if concurrency is not None:
        opts["concurrency"] = concurrency
    if max_retries is not None:
        opts["max_retries"] = max_retries
    if rate_limit is not None:
        opts["rate_limit"] = rate_limit
    if proxy is not None:
        opts["proxy"] = str(proxy)
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
    connection pool, a cookie jar and an I/O thread), its options, and the
    request defaults httpx's clients take (base_url, params, cookies to
    send, event hooks, default_encoding), merged into each request here.
    The subclasses add the block single requests use and how a request is
    waited for."""

    def __init__(self, *, base_url: Any = None, params: Any = None,
                 cookies: Any = True, event_hooks: Any = None,
                 default_encoding: Any = "utf-8", **options: Any) -> None:
        self._c: Optional[_salvo.Client] = None
        send_cookies = None
        if cookies is not True and cookies is not False and \
                cookies is not None:
            from ._cookies import Cookies
            send_cookies = Cookies(cookies)
        hooks = dict(event_hooks or {})
        unknown = set(hooks) - {"request", "response"}
        if unknown:
            raise ValueError(f"event_hooks: no hook named {sorted(unknown)} "
                             f"(there are 'request' and 'response')")
        if base_url is not None and base_url != "":
            from ._urls import base_url_of
            self._base_url: Any = base_url_of(base_url)
        else:
            self._base_url = None
        self._params = params or None
        self._cookies = send_cookies
        self._hooks = {"request": list(hooks.get("request", ())),
                       "response": list(hooks.get("response", ()))}
        self._default_encoding = default_encoding
        self._c = _salvo.Client(**client_options(
            cookies=cookies is not False, **options))
        self._lock = allocate_lock()

    def _native(self) -> _salvo.Client:
        if self._c is None:
            raise _salvo.ClosedError("the client is closed")
        return self._c

    @property
    def _plain(self) -> bool:
        """No default to merge: requests go to the extension as given."""
        return (self._base_url is None and not self._params and
                not self._cookies and not self._hooks["request"] and
                not self._hooks["response"] and
                self._default_encoding == "utf-8")

    @property
    def base_url(self) -> Any:
        from ._urls import URL
        return self._base_url if self._base_url is not None else URL("")

    @property
    def params(self) -> Any:
        from ._urls import QueryParams
        return QueryParams(self._params)

    @property
    def cookies(self) -> Any:
        """The cookies given to the client to send with every request
        (what servers set is in the client's jar, in libsalvo)."""
        if self._cookies is None:
            from ._cookies import Cookies
            self._cookies = Cookies()
        return self._cookies

    @property
    def event_hooks(self) -> Dict[str, List[Any]]:
        return self._hooks

    def _prepare(self, method: str, url: Any, kw: Dict[str, Any],
                 hooks: bool = True) -> Dict[str, Any]:
        """The extension's arguments of a request with the client's
        defaults merged in (httpx's rules: a relative URL joined to
        base_url, the request's params and cookies over the client's)."""
        if self._base_url is not None:
            from ._urls import merge_url
            url = merge_url(self._base_url, url)
        if self._params:
            from ._urls import QueryParams
            kw["params"] = QueryParams(self._params).merge(
                kw.get("params")).multi_items()
        if self._cookies:
            from ._cookies import Cookies
            merged = Cookies(self._cookies)
            merged.update(Cookies(kw.get("cookies")))
            kw["cookies"] = merged
        auth = kw.get("auth")
        args = build(method, url, **kw)
        if callable(auth) or (hooks and self._hooks["request"]):
            req = self._request_of(args)
            for hook in self._hooks["request"] if hooks else ():
                hook(req)
            if callable(auth):
                req = auth(req) or req
            args["headers"] = [f"{k}: {v}" for k, v in req.headers._raw_str()]
        return args

    @staticmethod
    def _request_of(args: Dict[str, Any]) -> Any:
        from ._models import Request
        from ._urls import URL
        url = URL(args["url"])
        if args.get("params"):
            url = url.copy_merge_params(
                [(k, "" if v is None else v) for k, v in args["params"]])
        hdrs = [h.split(":", 1) for h in args.get("headers") or ()]
        return Request(args["method"], url,
                       headers=[(k.strip(), v.strip()) for k, v in hdrs],
                       content=args.get("body"))

    def _adopt(self, r: Any, method: str, url: Any,
               args: Optional[Dict[str, Any]]) -> Any:
        """A response of this client: its request and the client's default
        encoding recorded on it."""
        from ._models import _state
        st = _state(r)
        st.default_encoding = self._default_encoding
        # Made into a Request when asked for (Response.request).
        st.request = args if args is not None else {"method": method,
                                                    "url": str(url)}
        return r

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
