"""URL, QueryParams and the configuration objects an httpx user passes
(Timeout, Limits): the parts of httpx's model a client's code touches,
on the standard library's urllib.parse."""
from __future__ import annotations

import re
from urllib.parse import (parse_qsl, quote, unquote, unquote_plus, urlsplit,
                          urlunsplit)

from ._params import _each, _param_value

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    from typing import Any, Dict, Iterator, List, Optional, Tuple

__all__ = ["URL", "QueryParams", "Timeout", "Limits"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class QueryParams:
    """An immutable multi-dict of query parameters, as httpx's: str()
    is the query as a request sends it; merge() gives a new one where the
    other's names replace this one's."""

    def __init__(self, params: Any = None) -> None:
        items: List[Tuple[str, str]] = []
        if params is None:
            pass
        elif isinstance(params, QueryParams):
            items = list(params._items)
        elif isinstance(params, str):
            items = parse_qsl(params.lstrip("?"), keep_blank_values=True)
        else:
            pairs = params.items() if hasattr(params, "items") else params
            items = [(str(k), _param_value(one)) for k, one in _each(pairs)]
        self._items = items

    def multi_items(self) -> List[Tuple[str, str]]:
        return list(self._items)

    def items(self) -> List[Tuple[str, str]]:
        seen: Dict[str, str] = {}
        for k, v in self._items:
            seen.setdefault(k, v)
        return list(seen.items())

    def keys(self) -> List[str]:
        return [k for k, _ in self.items()]

    def get(self, key: str, default: Any = None) -> Any:
        for k, v in self._items:
            if k == key:
                return v
        return default

    def get_list(self, key: str) -> List[str]:
        return [v for k, v in self._items if k == key]

    def values(self) -> List[str]:
        """Each name's first value, as httpx's."""
        return [v for _, v in self.items()]

    def _with(self, items: List[Tuple[str, str]]) -> "QueryParams":
        out = QueryParams()
        out._items = items
        return out

    def set(self, key: str, value: Any = None) -> "QueryParams":
        """A new QueryParams where key has value alone, at its first
        place (or last, when new)."""
        key, value = str(key), _param_value(value)
        items = [(k, v) for k, v in self._items if k != key]
        # The first of key's places: no key comes before it to remove.
        at = next((i for i, (k, _) in enumerate(self._items) if k == key),
                  len(items))
        items.insert(at, (key, value))
        return self._with(items)

    def add(self, key: str, value: Any = None) -> "QueryParams":
        """A new QueryParams with value added to key's."""
        return self._with(self._items + [(str(key), _param_value(value))])

    def remove(self, key: str) -> "QueryParams":
        """A new QueryParams without key."""
        return self._with([(k, v) for k, v in self._items if k != str(key)])

    def update(self, params: Any = None) -> None:
        raise RuntimeError("QueryParams are immutable since 0.18.0. Use `q "
                           "= q.merge(...)` to create an updated copy.")

    def merge(self, other: Any = None) -> "QueryParams":
        """As httpx's: other's names replace this one's values where they
        stand; new names follow."""
        by: Dict[str, List[str]] = {}
        for k, v in self._items:
            by.setdefault(k, []).append(v)
        theirs: Dict[str, List[str]] = {}
        for k, v in QueryParams(other)._items:
            theirs.setdefault(k, []).append(v)
        by.update(theirs)
        out = QueryParams()
        out._items = [(k, v) for k, vs in by.items() for v in vs]
        return out

    def __getitem__(self, key: str) -> str:
        for k, v in self._items:
            if k == key:
                return v
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return any(k == key for k, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def __bool__(self) -> bool:
        return bool(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QueryParams):
            try:
                other = QueryParams(other)
            except (TypeError, ValueError):
                return NotImplemented
        return sorted(self._items) == sorted(other._items)

    def __str__(self) -> str:
        # As the request sends them (a space as %20, as httpx 0.24 on).
        return "&".join(_encode_pair(k, v) for k, v in self._items)

    def __repr__(self) -> str:
        return f"QueryParams({str(self)!r})"


class URL:
    """A URL as httpx's: its parts (scheme, host, port, path, query as
    bytes, params, fragment), join() for a relative reference,
    copy_with() and copy_merge_params(); equal to its string."""

    __slots__ = ("_s", "_p")

    def __init__(self, url: Any = "", **parts: Any) -> None:
        if isinstance(url, URL):
            url = url._s
        if not isinstance(url, str):
            raise TypeError(f"a URL must be str or URL, not "
                            f"{type(url).__name__}")
        self._s = url
        self._p = urlsplit(url)
        if self._p.netloc:
            self._normalize()
        if parts:
            other = self.copy_with(**parts)
            self._s, self._p = other._s, other._p

    def _normalize(self) -> None:
        """As httpx's: the scheme and host in lower case, the scheme's
        default port not written (RFC 3986 6.2.2.1, 6.2.3); a port that
        is not one is an InvalidURL."""
        p = self._p
        try:
            port = p.port
        except ValueError as e:
            from ._exceptions import InvalidURL
            raise InvalidURL(f"invalid port in {self._shown()!r}: {e}") \
                from None
        user, at, hostport = p.netloc.rpartition("@")
        if hostport.startswith("["):
            host = hostport.partition("]")[0] + "]"
        else:
            host = hostport.partition(":")[0]
        if port is not None and port != _DEFAULT_PORTS.get(p.scheme.lower()):
            host += f":{port}"
        scheme, netloc = p.scheme.lower(), user + at + host.lower()
        if (scheme, netloc) != (p.scheme, p.netloc):
            self._s = urlunsplit((scheme, netloc, p.path, p.query,
                                  p.fragment))
            self._p = urlsplit(self._s)

    @property
    def scheme(self) -> str:
        return self._p.scheme

    @property
    def host(self) -> str:
        return (self._p.hostname or "")

    @property
    def port(self) -> Optional[int]:
        """The port when it is not the scheme's default, as httpx."""
        p = self._p.port
        return None if p == _DEFAULT_PORTS.get(self.scheme) else p

    @property
    def netloc(self) -> bytes:
        """host[:port], as httpx's (the userinfo is not part of it)."""
        return self._p.netloc.rpartition("@")[2].encode()

    @property
    def raw_scheme(self) -> bytes:
        return self.scheme.encode("ascii")

    @property
    def raw_host(self) -> bytes:
        """The host as bytes: IDNA for a name that is not ASCII."""
        try:
            return self.host.encode("ascii")
        except UnicodeEncodeError:
            return self.host.encode("idna")

    @property
    def raw(self) -> Tuple[bytes, bytes, Optional[int], bytes]:
        """(raw_scheme, raw_host, port, raw_path), as httpx's RawURL."""
        return (self.raw_scheme, self.raw_host, self.port, self.raw_path)

    @property
    def userinfo(self) -> bytes:
        """"user:password" as the URL writes it (percent-encoded)."""
        return self._p.netloc.rpartition("@")[0].encode() \
            if "@" in self._p.netloc else b""

    @property
    def username(self) -> str:
        """The user name, percent-decoded (as httpx)."""
        return unquote(self._p.username or "")

    @property
    def password(self) -> str:
        """The password, percent-decoded (as httpx)."""
        return unquote(self._p.password or "")

    @property
    def path(self) -> str:
        """The path, percent-decoded (as httpx); raw_path is as sent."""
        return unquote(self._p.path or "/")

    @property
    def query(self) -> bytes:
        return self._p.query.encode()

    @property
    def params(self) -> QueryParams:
        return QueryParams(self._p.query)

    @property
    def raw_path(self) -> bytes:
        q = self._p.query
        return ((self._p.path or "/") + ("?" + q if q else "")).encode()

    @property
    def fragment(self) -> str:
        return self._p.fragment

    @property
    def is_absolute_url(self) -> bool:
        return bool(self.scheme and self._p.netloc)

    @property
    def is_relative_url(self) -> bool:
        return not self.is_absolute_url

    def copy_with(self, **parts: Any) -> "URL":
        p = self._p
        scheme = parts.pop("scheme", p.scheme)
        netloc = parts.pop("netloc", None)
        host = parts.pop("host", None)
        port = parts.pop("port", p.port)
        path = parts.pop("path", p.path)
        query = parts.pop("query", p.query)
        params = parts.pop("params", None)
        fragment = parts.pop("fragment", p.fragment)
        if parts:
            raise TypeError(f"URL.copy_with() got unexpected parts: "
                            f"{sorted(parts)}")
        if isinstance(netloc, bytes):
            netloc = netloc.decode()
        if netloc is None:
            h = host if host is not None else (p.hostname or "")
            if ":" in h and not h.startswith("["):
                h = f"[{h}]"
            userinfo = p.netloc.rpartition("@")[0] if "@" in p.netloc else ""
            netloc = (f"{userinfo}@" if userinfo else "") + h + \
                (f":{port}" if port is not None else "")
        if isinstance(query, bytes):
            query = query.decode()
        if params is not None:
            query = str(QueryParams(params))
        return URL(urlunsplit((scheme, netloc, path, query, fragment)))

    def copy_merge_params(self, params: Any) -> "URL":
        """The URL with params merged into its query as httpx merges them
        (a name given replaces the URL's values of it, where they stand;
        new names follow). What is not replaced stays byte for byte; what
        is added is percent-encoded as libsalvo encodes params."""
        return self.copy_with(query=_merge_query(
            self._p.query, QueryParams(params).multi_items()))

    def copy_set_param(self, key: str, value: Any = None) -> "URL":
        return self.copy_with(params=self.params.set(key, value))

    def copy_add_param(self, key: str, value: Any = None) -> "URL":
        return self.copy_with(params=self.params.add(key, value))

    def copy_remove_param(self, key: str) -> "URL":
        return self.copy_with(params=self.params.remove(key))

    def join(self, url: Any) -> "URL":
        """RFC 3986 5.2's reference resolution, as httpx's join."""
        from urllib.parse import urljoin
        ref = str(url)
        if not ref:  # the base without its fragment (RFC 3986 5.2.2)
            return self.copy_with(fragment="")
        return URL(urljoin(self._s, ref))

    def __str__(self) -> str:
        return self._s

    def __repr__(self) -> str:
        return f"URL({self._shown()!r})"

    def _shown(self) -> str:
        """The URL with its password as "[secure]" (httpx's repr): a
        secret is not shown where a URL is."""
        p = self._p
        if p.password is None:
            return self._s
        user = p.netloc.rpartition("@")[0].partition(":")[0]
        return urlunsplit((p.scheme, f"{user}:[secure]@"
                           f"{p.netloc.rpartition('@')[2]}", p.path,
                           p.query, p.fragment))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (URL, str)):
            return self._s == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._s)


def _encode_pair(k: str, v: Optional[str]) -> str:
    # Everything but RFC 3986's unreserved characters, as url.c encodes.
    return quote(k, safe="") + ("" if v is None else "=" + quote(v, safe=""))


def _merge_query(raw: str, params: List[Tuple[str, Any]]) -> str:
    new: Dict[str, List[Any]] = {}
    for k, v in params:
        new.setdefault(k, []).append(v)
    out: List[str] = []
    for piece in raw.split("&") if raw else ():
        name = unquote_plus(piece.partition("=")[0])
        if name not in new:
            out.append(piece)
        elif new[name] is not None:  # its first place takes the new values
            out += [_encode_pair(name, v) for v in new[name]]
            new[name] = None
    for k, vs in new.items():
        if vs is not None:
            out += [_encode_pair(k, v) for v in vs]
    return "&".join(out)


def with_params(url: str, pairs: List[Tuple[str, Optional[str]]]) -> str:
    """url with (name, value) pairs merged into its query (a value None
    is a name alone, as libsalvo sends it), keeping its fragment."""
    p = urlsplit(url)
    return urlunsplit(p._replace(query=_merge_query(p.query, pairs)))


# RFC 3986 3.1's scheme, then "//": what makes a URL absolute here.
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def merge_url(base_url: Optional[URL], url: Any) -> str:
    """A request's URL against a client's base_url, as httpx merges them:
    a relative URL is appended to the base's path (a leading "/" does not
    make it absolute), an absolute one (a scheme and "//" at its start)
    is used as it is. A "://" further on, as in "x?next=http://y", is a
    relative URL's."""
    s = str(url)
    if base_url is None or _ABSOLUTE.match(s):
        return s
    base = str(base_url)
    if not base.endswith("/"):
        base += "/"
    return base + s.lstrip("/")


def base_url_of(base_url: Any) -> Optional[URL]:
    if base_url is None or base_url == "":
        return None
    u = URL(base_url)
    if not u.is_absolute_url:
        raise ValueError(f"base_url must be an absolute URL, not {u}")
    return u


class Timeout:
    """httpx's Timeout: Timeout(5.0), Timeout(5.0, connect=2.0),
    Timeout(connect=..., read=..., write=..., pool=...), Timeout(None).
    salvo bounds a whole attempt with one limit and the connect with
    another: the attempt's is the largest of read, write and pool (each
    defaulting to the first argument), connect is connect_timeout."""

    __slots__ = ("connect", "read", "write", "pool")

    _UNSET: Any = object()

    def __init__(self, timeout: Any = _UNSET, *, connect: Any = _UNSET,
                 read: Any = _UNSET, write: Any = _UNSET,
                 pool: Any = _UNSET) -> None:
        if isinstance(timeout, Timeout):
            self.connect, self.read = timeout.connect, timeout.read
            self.write, self.pool = timeout.write, timeout.pool
            return
        unset = Timeout._UNSET
        if isinstance(timeout, tuple):  # (connect, read, write, pool)
            connect, read, write, pool = timeout
            timeout = unset
        if timeout is unset and unset in (connect, read, write, pool):
            raise ValueError("httpx.Timeout must either include a default, or "
                             "set all four parameters explicitly.")
        d = None if timeout is unset else timeout
        self.connect = d if connect is unset else connect
        self.read = d if read is unset else read
        self.write = d if write is unset else write
        self.pool = d if pool is unset else pool
        for name in self.__slots__:
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or
                                  not isinstance(v, (int, float))):
                raise TypeError(f"Timeout {name} must be a number of seconds "
                                f"or None, not {type(v).__name__}")

    def _attempt(self) -> Optional[float]:
        """salvo's per-attempt limit: None when none of read, write and
        pool is limited."""
        vals = [v for v in (self.read, self.write, self.pool) if v is not None]
        if len(vals) < 3:
            return None
        return float(max(vals))

    def as_dict(self) -> Dict[str, Optional[float]]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeout) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        d = self.as_dict()
        if len(set(d.values())) == 1:
            return f"Timeout(timeout={self.connect})"
        return "Timeout(" + ", ".join(f"{k}={v}" for k, v in d.items()) + ")"


class Limits:
    """httpx's Limits. max_connections is salvo's concurrency (requests
    in flight, and so connections over HTTP/1.1); max_keepalive_connections
    the idle connections kept (libsalvo's max_idle; None: twice the
    concurrency, at least 16); keepalive_expiry the seconds one may stay
    idle and still be used (idle_timeout; None: no limit)."""

    __slots__ = ("max_connections", "max_keepalive_connections",
                 "keepalive_expiry")

    def __init__(self, *, max_connections: Optional[int] = None,
                 max_keepalive_connections: Optional[int] = None,
                 keepalive_expiry: Optional[float] = 5.0) -> None:
        self.max_connections = max_connections
        self.max_keepalive_connections = max_keepalive_connections
        self.keepalive_expiry = keepalive_expiry

    def __repr__(self) -> str:
        return (f"Limits(max_connections={self.max_connections}, "
                f"max_keepalive_connections="
                f"{self.max_keepalive_connections}, "
                f"keepalive_expiry={self.keepalive_expiry})")
