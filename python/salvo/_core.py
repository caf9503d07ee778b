"""The core both clients share (as httpx's BaseClient): a client's
options (client_options), the verbs, and ClientCore, the native client
with the request defaults it merges into each request (_args.build makes
the request itself). Nothing here waits: the sync layer (_client.py) and
the async one (_async.py) only add how they wait."""
from __future__ import annotations

import os
from _thread import allocate_lock  # threading.Lock, without threading's 8 ms
from collections.abc import Mapping

from . import _salvo
from ._auth import is_flow
from ._fields import _line
from ._models import state_for
from ._args import (USE_CLIENT_DEFAULT, _header_list, _header_pairs,
                    _timeout, build)

# typing costs 18 ms of import (measured) that no caller needs at run
# time: the names are for the checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple, Union
    HeaderTypes = Union[Mapping[str, str], Sequence[Tuple[str, str]], None]
    ParamTypes = Union[Mapping[str, Any], Sequence[Tuple[str, Any]], None]


def client_options(*, transport: Any = "auto", **kw: Any) -> Dict[str, Any]:
    """Keyword options of _salvo.Client from httpx-style ones (_options);
    an HTTPTransport's replace the client's own, as in httpx."""
    if not isinstance(transport, str):
        from ._transports import transport_options
        kw.update(transport_options(transport))
        transport = "auto"
    return _options(transport=transport, **kw)


def _http_version(http1: bool, http2: bool) -> int:
    """salvo_config.http_version for httpx's pair: HTTP/1.1 only by
    default, ALPN's choice with http2=True, prior knowledge with
    http1=False. The default pair leaves the choice to libsalvo when
    SALVO_HTTP_VERSION is set, as a C client's SALVO_HTTP_AUTO does: the
    suites' native-h2 run is then over HTTP/2."""
    if not http1:
        return 3
    if http2 or os.environ.get("SALVO_HTTP_VERSION"):
        return 0
    return 1


def _options(*, headers: HeaderTypes = None, auth: Any = None,
                   timeout: Any = USE_CLIENT_DEFAULT, verify: Any = True,
                   http2: bool = False, follow_redirects: bool = True,
                   concurrency: Optional[int] = None, limits: Any = None,
                   max_retries: Optional[int] = None,
                   rate_limit: Optional[float] = None, cookies: Any = True,
                   transport: str = "auto", proxy: Any = None,
                   cert: Any = None, trust_env: Any = None,
                   http1: bool = True, proxies: Any = None,
                   app: Any = None, mounts: Any = None,
                   **more: Any) -> Dict[str, Any]:
    """Keyword options of _salvo.Client from httpx-style ones. `verify` is
    a bool, the path of a CA bundle or of a hashed CA directory; `cert`
    (mutual TLS) the path of a PEM file with the client certificate and
    its key, or a (certificate, key) or (certificate, key, password)
    tuple; `http2=False` (httpx's default)
    speaks HTTP/1.1 only, True lets TLS negotiate HTTP/2; `timeout` is
    seconds or a Timeout; `limits` a Limits (its max_connections is the
    concurrency, max_keepalive_connections max_idle, keepalive_expiry
    idle_timeout); `cookies` False turns the jar off (a mapping of
    cookies to send is ClientCore's). `transport`: "auto" (salvo's own
    transport, HTTP/1.1 and HTTP/2; libcurl for proxies), "native" or
    "libcurl"; `proxy` a URL or a salvo.Proxy, or httpx 0.23's `proxies`
    naming one for every URL; `http1=False, http2=True` is HTTP/2 with
    prior knowledge, as HTTPTransport takes it."""
    if app is not None or mounts is not None:
        raise TypeError("app= and mounts= are not supported: salvo sends "
                        "every request over the network, through one "
                        "transport (give proxy= for a proxy)")
    if not http1 and not http2:
        raise ValueError("http1 and http2 cannot both be False")
    if proxies is not None:
        if proxy is not None:
            raise TypeError("give proxy= or proxies=, not both")
        proxy = _one_proxy(proxies)
    if trust_env:  # False is what salvo does anyway
        raise TypeError("trust_env=True is not supported: salvo reads no "
                        "proxy, certificate or .netrc settings from the "
                        "environment; give proxy=, verify= or auth=")
    opts: Dict[str, Any] = {"follow_redirects": follow_redirects,
                            "cookies": cookies is not False,
                            "http_version": _http_version(http1, http2),
                            "transport": transport}  # salvo_transport_parse
    hdrs = _header_list(headers)
    if hdrs:
        opts["headers"] = hdrs
        ua = [v for k, v in _header_pairs(headers)
              if k.lower() == "user-agent"]
        if ua and type(ua[0]) is str:  # (obs-text goes in the line only)
            opts["user_agent"] = ua[0].strip()
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
        opts["timeout"] = 0.0 if timeout is None else timeout  # 0: none
    elif timeout is not USE_CLIENT_DEFAULT:  # None: no limit, as httpx
        t = _timeout(timeout)
        opts["timeout"] = 0.0 if t is None else t
    if isinstance(verify, (str, os.PathLike)):
        verify = os.fspath(verify)
        opts["ca_path" if os.path.isdir(verify) else "ca_file"] = verify
    elif isinstance(verify, bool):
        opts["verify"] = verify
    else:
        raise TypeError("verify must be True, False or the path of a CA "
                        "bundle; an ssl.SSLContext is not supported")
    if cert is not None:
        opts.update(_cert_options(cert))
    if limits is not None:
        if limits.max_connections is not None:
            opts["concurrency"] = limits.max_connections
        if limits.max_keepalive_connections is not None:
            opts["max_idle"] = limits.max_keepalive_connections
        # httpx's expiry, 5 s unless given: None is no limit (libsalvo's
        # 0), and 0 expires a connection at once, which is keeping none.
        expiry = limits.keepalive_expiry
        if expiry is not None and expiry == 0:
            opts["max_idle"] = 0
        elif expiry is not None:
            opts["idle_timeout"] = expiry
    if concurrency is not None:
        opts["concurrency"] = concurrency
    if max_retries is not None:
        opts["max_retries"] = max_retries
    if rate_limit is not None:
        opts["rate_limit"] = rate_limit
    if proxy is not None:
        opts["proxy"] = getattr(proxy, "_salvo_url", None) or str(proxy)
    opts.update(more)
    return opts


def _one_proxy(proxies: Any) -> Any:
    """httpx 0.23's proxies=: a URL or a Proxy, or a mapping of URL
    patterns to them, which salvo takes when it names one proxy for every
    URL ("all://", or both "http://" and "https://")."""
    if not isinstance(proxies, Mapping):
        return proxies
    keys, values = set(proxies), list(proxies.values())
    urls = {getattr(v, "_salvo_url", None) or str(v) for v in values}
    if (keys - {"all://", "http://", "https://"} or None in values or
            len(urls) != 1 or
            not ("all://" in keys or {"http://", "https://"} <= keys)):
        raise ValueError("proxies: salvo takes one proxy for every URL "
                         "({'all://': url}, or the same for 'http://' and "
                         "'https://'), not one per scheme or host")
    return values[0]


def _cert_options(cert: Any) -> Dict[str, str]:
    """httpx's cert=: a file, or (file, key) or (file, key, password)."""
    if isinstance(cert, (str, os.PathLike)):
        cert = (cert,)
    if not (isinstance(cert, tuple) and 1 <= len(cert) <= 3):
        raise TypeError("cert must be a path, or a (certificate, key) or "
                        "(certificate, key, password) tuple; "
                        f"{type(cert).__name__} is not supported")
    names = ("client_cert", "client_key", "client_key_password")
    return {n: os.fspath(v) if n != names[2] else v
            for n, v in zip(names, cert) if v is not None}


class Verbs:
    """get/post/put/patch/delete/head/options, each request(METHOD, ...):
    for a block they return the pending, for a client the response (an
    awaitable one for an async client)."""

    def request(self, method: str, url: str, **kw: Any) -> Any:
        """One request. Keywords, as httpx's: params, headers, cookies,
        auth, json, data, content, files, timeout, follow_redirects,
        extensions; and salvo's: stream, key, max_retries, idempotent."""
        raise NotImplementedError

    def get(self, url: str, **kw: Any) -> Any:
        """request("GET", url, **kw): its keywords are request()'s."""
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        """request("POST", url, **kw): its keywords are request()'s."""
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> Any:
        """request("PUT", url, **kw): its keywords are request()'s."""
        return self.request("PUT", url, **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        """request("PATCH", url, **kw): its keywords are request()'s."""
        return self.request("PATCH", url, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        """request("DELETE", url, **kw): its keywords are request()'s."""
        return self.request("DELETE", url, **kw)

    def head(self, url: str, **kw: Any) -> Any:
        """request("HEAD", url, **kw): its keywords are request()'s."""
        return self.request("HEAD", url, **kw)

    def options(self, url: str, **kw: Any) -> Any:
        """request("OPTIONS", url, **kw): its keywords are request()'s."""
        return self.request("OPTIONS", url, **kw)


def block_request(c: Any, headers: Any, method: str, url: Any,
                  kwargs: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
    """A block request's extension arguments and its Auth flow (or None):
    the client c's defaults merged in, or, on the default client (c
    None), the arguments as given."""
    if c is not None:
        args = c._prepare(method, url, kwargs, headers=headers)
        return args, args.pop("_flow", None)
    auth = kwargs.get("auth")
    args = build(method, url, **kwargs)  # (which leaves these two)
    if is_flow(auth):
        return args, auth
    if callable(auth):
        _through(args, (), (), auth)
    return args, None


def _through(args: Dict[str, Any], headers: Any, hooks: Any,
             fn: Any) -> None:
    """The Request of args (with the client's headers) given to each
    request hook, then to an auth function, which may return another;
    the headers it ends with go back into args."""
    from ._models import Request
    req = Request._from_args(args, headers)
    for hook in hooks:
        hook(req)
    if fn is not None:
        req = fn(req) or req
    ClientCore._take_headers(args, req)


def block_state(c: Any, headers: Any, args: Dict[str, Any]) -> Any:
    """The state a block request's response starts with: its request,
    the headers the block took from the client, the client's encoding."""
    heads = headers if headers is not None else \
        c._headers._items if c is not None else ()
    return state_for(args, heads, c._default_encoding if c else "utf-8")


def _hooks_of(event_hooks: Any) -> Dict[str, List[Any]]:
    """httpx's event_hooks, each list copied."""
    hooks = dict(event_hooks or {})
    unknown = set(hooks) - {"request", "response"}
    if unknown:
        raise ValueError(f"event_hooks: no hook named {sorted(unknown)} "
                         f"(there are 'request' and 'response')")
    return {"request": list(hooks.get("request", ())),
            "response": list(hooks.get("response", ()))}


class ClientCore:
    """What a Client and an AsyncClient have alike: the native client (a
    connection pool, a cookie jar and an I/O thread), its options, and the
    request defaults httpx's clients take (base_url, params, cookies to
    send, event hooks, default_encoding), merged into each request here.
    The subclasses add the block single requests use and how a request is
    waited for."""

    def __init__(self, *, base_url: Any = None, params: Any = None,
                 cookies: Any = True, event_hooks: Any = None,
                 default_encoding: Any = "utf-8", headers: HeaderTypes = None,
                 **options: Any) -> None:
        self._c: Optional[_salvo.Client] = None
        self._hooks = _hooks_of(event_hooks)
        if base_url is not None and base_url != "":
            from ._urls import base_url_of
            self._base_url: Any = base_url_of(base_url)
        else:
            self._base_url = None
        self._params = params or None
        self._default_encoding = default_encoding
        # A function or an Auth flow as the client's auth (httpx takes
        # them) goes with each request, as a request's own does:
        # libsalvo's is a user and a password.
        a = options.get("auth")
        auth_fn = options.pop("auth") if callable(a) or is_flow(a) else None
        self._c = _salvo.Client(**client_options(
            cookies=cookies is not False, headers=headers, **options))
        from ._cookies import ClientCookies
        self._cookies = ClientCookies(self, jar=cookies is not False)
        if cookies is not True and cookies is not False and \
                cookies is not None:
            self._cookies._add(cookies)
        from ._models import Headers
        # The headers the native client was made with; client.headers is
        # a copy, and a change to it goes with each request from then on
        # (_with_client_headers).
        self._sent_headers = _header_pairs(headers)
        self._headers = Headers(list(self._sent_headers))
        self._given = {k: options[k] for k in ("timeout", "follow_redirects",
                                               "auth", "max_redirects")
                       if k in options}
        # timeout, follow_redirects and auth set on the client after it
        # was made: each request takes them as its own unless it has its
        # own.
        self._later: Dict[str, Any] = {}
        if auth_fn is not None:
            self._later["auth"] = auth_fn
        self._lock = allocate_lock()

    def _native(self) -> _salvo.Client:
        if self._c is None:
            raise _salvo.ClosedError("the client is closed")
        return self._c

    @property
    def _plain(self) -> bool:
        """No default to merge: requests go to the extension as given."""
        return (self._base_url is None and not self._params and
                not self._cookies._given and not self._hooks["request"] and
                not self._hooks["response"] and
                self._default_encoding == "utf-8" and not self._later and
                self._headers._items == self._sent_headers)

    @property
    def headers(self) -> Any:
        """The headers sent with every request (a mutable salvo.Headers),
        as given to the client: libsalvo's own User-Agent, Accept and
        Accept-Encoding are not listed, but one set here replaces it and
        one deleted from here after being given is not sent. A change
        applies to the requests made after it; a parallel block takes
        them as they are when it opens."""
        return self._headers

    @headers.setter
    def headers(self, value: HeaderTypes) -> None:
        from ._models import Headers
        self._headers = Headers(_header_pairs(value))

    @property
    def timeout(self) -> Any:
        """The requests' timeout, a salvo.Timeout (settable)."""
        from ._urls import Timeout
        if "timeout" in self._later:
            return Timeout(self._later["timeout"])
        d = _salvo.config_defaults()
        t = self._given.get("timeout", USE_CLIENT_DEFAULT)
        if t is USE_CLIENT_DEFAULT:
            return Timeout(d["timeout"] or None,
                           connect=d["connect_timeout"] or None)
        if isinstance(t, Timeout):
            return t
        return Timeout(t, connect=d["connect_timeout"] or None)

    @timeout.setter
    def timeout(self, value: Any) -> None:
        self._set_later("timeout", value)

    @property
    def follow_redirects(self) -> bool:
        return bool(self._later.get("follow_redirects",
                                    self._given.get("follow_redirects",
                                                    True)))

    @follow_redirects.setter
    def follow_redirects(self, value: bool) -> None:
        self._later["follow_redirects"] = bool(value)

    @property
    def auth(self) -> Any:
        return self._later.get("auth", self._given.get("auth"))

    @auth.setter
    def auth(self, value: Any) -> None:
        self._set_later("auth", value)

    def _set_later(self, name: str, value: Any) -> None:
        """A request option set on the client: refused here, as a request
        would refuse it, not at each request after."""
        build("GET", "http://localhost/", **{name: value})
        self._later[name] = value

    @property
    def max_redirects(self) -> int:
        return int(self._given.get("max_redirects",
                                   _salvo.config_defaults()["max_redirects"]))

    @property
    def trust_env(self) -> bool:
        """False: salvo reads no proxy, CA or .netrc setting from the
        environment (trust_env=True is refused)."""
        return False

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
        """The client's cookies, as httpx's client.cookies: those without
        a domain, sent with every request, and the jar's (what servers
        set, and what was set here with a domain), read afresh at each
        look."""
        return self._cookies

    @cookies.setter
    def cookies(self, value: Any) -> None:
        self._cookies._replace(value)

    @property
    def event_hooks(self) -> Dict[str, List[Any]]:
        """{"request": [...], "response": [...]}: the functions each
        request and each response is given to, in order; settable, as
        httpx's."""
        return self._hooks

    @event_hooks.setter
    def event_hooks(self, value: Any) -> None:
        self._hooks = _hooks_of(value)

    def _prepare(self, method: str, url: Any, kw: Dict[str, Any],
                 hooks: bool = True,
                 headers: Optional[List[Tuple[str, str]]] = None
                 ) -> Dict[str, Any]:
        """The extension's arguments of a request with the client's
        defaults merged in (httpx's rules: a relative URL joined to
        base_url, the request's params and cookies over the client's).
        An Auth flow is left to the caller, under "_flow" (_flows.py runs
        it)."""
        if self._base_url is not None:
            from ._urls import merge_url
            url = merge_url(self._base_url, url)
        if self._params:
            from ._urls import QueryParams
            kw["params"] = QueryParams(self._params).merge(
                kw.get("params")).multi_items()
        if self._cookies._given:
            from ._cookies import Cookies
            merged = Cookies()
            merged._c = dict(self._cookies._given)
            merged.update(Cookies(kw.get("cookies")))
            kw["cookies"] = merged
        self._take_later(kw)
        if headers is None:  # a block's are those it opened with
            headers = self._headers._items
        kw["headers"] = self._with_client_headers(kw.get("headers"), headers)
        auth = kw.get("auth")
        flow = auth if is_flow(auth) else None
        fn = auth if callable(auth) and flow is None else None
        args = build(method, url, **kw)
        if fn is not None or (hooks and self._hooks["request"]):
            _through(args, headers, self._hooks["request"] if hooks else (),
                     fn)
        if flow is not None:
            args["_flow"] = flow
        return args

    def _take_later(self, kw: Dict[str, Any]) -> None:
        """The options set on the client after it was made, into a
        request's keywords where it has none of its own (its timeout=None
        is "no limit", its own)."""
        for k, v in self._later.items():
            mine = kw.get(k, USE_CLIENT_DEFAULT)
            if mine is USE_CLIENT_DEFAULT or (mine is None and k != "timeout"):
                kw[k] = v

    def _with_client_headers(self, own: Any,
                             client: List[Tuple[str, str]]) -> Any:
        """A request's headers, own, with the client's where those differ
        from the ones the native client was made with (libsalvo adds
        those): the client's (but those the request names itself), an
        empty value for each the native client has and the client's no
        longer do ("Name:", which libsalvo sends nothing for), then the
        request's."""
        if client == self._sent_headers:
            return own
        mine = _header_pairs(own)
        named = {k.lower() for k, _ in mine}
        out = [(k, v) for k, v in client if k.lower() not in named]
        named.update(k.lower() for k, _ in out)
        out += [(k, "") for k, _ in self._sent_headers
                if k.lower() not in named]
        return out + mine

    def build_request(self, method: str, url: Any, **kw: Any) -> Any:
        """httpx's build_request: a salvo.Request with the client's
        defaults merged in (base_url, params, headers, cookies), for
        send(). Its timeout, when given here or set on the client, is in
        its extensions; auth and follow_redirects are send()'s."""
        for name in ("auth", "follow_redirects", "stream"):
            if name in kw:
                raise TypeError(f"build_request() takes no {name!r}: give "
                                f"it to send()")
        timeout = kw.pop("timeout", self._later.get("timeout",
                                                    USE_CLIENT_DEFAULT))
        args = self._prepare(method, url, kw, hooks=False)
        args.pop("_flow", None)  # send() runs it
        from ._models import Request
        req = Request._from_args(args, self._headers._items)
        if timeout is not USE_CLIENT_DEFAULT:
            _timeout(timeout)  # refused here, as a request refuses it
            req.extensions["timeout"] = timeout
        return req

    def _send_args(self, request: Any, stream: bool, auth: Any,
                   follow_redirects: Any) -> Dict[str, Any]:
        """The extension's arguments of a salvo.Request, sent as it is
        (build_request merged the client's defaults; one made by the
        caller gets only the client's headers, which libsalvo adds), with
        auth and follow_redirects as send() takes them: the client's
        unless given. The request hooks ran already."""
        if auth is USE_CLIENT_DEFAULT:
            auth = self._later.get("auth")
        if follow_redirects is USE_CLIENT_DEFAULT:
            follow_redirects = self._later.get("follow_redirects")
        flow = auth if is_flow(auth) else None
        if callable(auth) and flow is None:
            request = auth(request) or request
            auth = None
        headers = self._with_client_headers(request.headers._raw_str(),
                                            self._headers._items)
        args = build(request.method, str(request.url), headers=headers,
                     content=request.content or None,
                     timeout=request.extensions.get(
                         "timeout", self._later.get("timeout",
                                                    USE_CLIENT_DEFAULT)),
                     auth=None if flow else auth,
                     follow_redirects=follow_redirects, stream=stream)
        if flow is not None:
            args["_flow"] = flow
        else:  # its response's request is this one, as httpx's
            args["_request"] = request
        return args

    @staticmethod
    def _take_headers(args: Dict[str, Any], req: Any) -> None:
        """The headers a hook or an auth function left on the Request,
        back into the extension's arguments."""
        args["headers"] = [_line(k, v)
                           for k, v in req.headers._raw_str()] or None

    def _adopt(self, r: Any, method: str, url: Any) -> Any:
        """A response of this client's plain path (a bare URL, submitted
        in C): its state as a request with arguments gets it from its
        Pending (block_state)."""
        r._extra = state_for({"method": method, "url": str(url)},
                             self._headers._items, self._default_encoding)
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
