"""The models a response and a request are made of: Headers, Request,
and the per-response state the Python layer keeps (the responses
themselves are _response.py's)."""
from __future__ import annotations

from collections.abc import MutableMapping

from ._fields import _bytes, _obs, _Obs, _text, _unline


TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    from typing import Any, Dict, Iterator, List, Optional, Tuple

__all__ = ["Headers", "Request"]

_SECRET_FIELDS = ("authorization", "proxy-authorization")


class Headers(MutableMapping):
    """Headers as httpx's: a case-insensitive multi-dict, in the order
    received. h["name"] joins a repeated field's values with ", ";
    get_list() keeps them apart; keys(), items() and multi_items() give
    names in lower case; raw the names as sent. Mutable, for the headers a
    caller builds (h["X"] = "1" replaces every "x")."""

    _enc: Optional[str] = None  # an encoding the caller set

    def __init__(self, items: Any = None) -> None:
        if items is None:
            self._items: List[Tuple[str, str]] = []
        elif isinstance(items, Headers):  # its encoding too, as httpx's
            self._items, self._enc = list(items._items), items._enc
        elif isinstance(items, list) and all(
                type(i) is tuple for i in items):
            # The extension's list (its obs-text values as bytes), or the
            # caller's pairs, which may be bytes too (httpx's raw form).
            self._items = [i if type(i[0]) is str and type(i[1]) is str
                           else (_text(i[0]), _text(i[1])) for i in items]
        else:
            pairs = items.items() if hasattr(items, "items") else items
            self._items = [(_text(k), _text(v)) for k, v in pairs]

    def __getitem__(self, name: str) -> str:
        values = self.get_list(name)
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def __setitem__(self, name: str, value: str) -> None:
        lower = name.lower()
        kept = [(k, v) for k, v in self._items if k.lower() != lower]
        self._items = kept + [(_text(name), _text(value))]

    def __delitem__(self, name: str) -> None:
        lower = name.lower()
        kept = [(k, v) for k, v in self._items if k.lower() != lower]
        if len(kept) == len(self._items):
            raise KeyError(name)
        self._items = kept

    def get(self, name: str, default: Any = None) -> Any:
        values = self.get_list(name)
        return ", ".join(values) if values else default

    def get_list(self, name: str, split_commas: bool = False) -> List[str]:
        """Every value of `name`, in the order received (split at commas
        too when asked, as httpx's)."""
        lower = name.lower()
        values = [v for k, v in self._items if k.lower() == lower]
        if not split_commas:
            return values
        return [p.strip() for v in values for p in v.split(",")]

    def multi_items(self) -> List[Tuple[str, str]]:
        """Every (name, value) in the order received, names in lower case
        (as httpx gives them); repeats stay apart."""
        return [(k.lower(), v) for k, v in self._items]

    def items(self) -> List[Tuple[str, str]]:
        """(name, value) per name, lower case, a repeated name's values
        joined with ", " (as httpx gives them)."""
        seen, out = set(), []
        for k, _ in self._items:
            if k.lower() not in seen:
                seen.add(k.lower())
                out.append((k.lower(), self[k]))
        return out

    def keys(self) -> List[str]:
        return [k for k, _ in self.items()]

    def values(self) -> List[str]:
        return [v for _, v in self.items()]

    @property
    def raw(self) -> List[Tuple[bytes, bytes]]:
        """(name, value) as bytes: as received, or as they are sent."""
        return [(_bytes(k), _bytes(v)) for k, v in self._items]

    @property
    def encoding(self) -> str:
        """How the values' bytes are read, as httpx says it: "ascii" when
        they all are, "utf-8" when they all are that, else "iso-8859-1"
        (each value that is not UTF-8 is read as Latin-1)."""
        if self._enc is not None:
            return self._enc
        if all(k.isascii() and v.isascii() for k, v in self._items):
            return "ascii"
        if any(type(v) is _Obs for _, v in self._items):
            return "iso-8859-1"
        return "utf-8"

    @encoding.setter
    def encoding(self, value: str) -> None:
        """Reads every value's bytes again with `value` (a codec name);
        UnicodeDecodeError when one is not in it. The bytes sent and
        given as raw stay."""
        items = []
        for k, v in self._items:
            b = _bytes(v)
            t = b.decode(value)
            items.append((k, t if t.encode("utf-8") == b
                          else _obs(t, b)))
        self._items = items
        self._enc = value

    def _raw_str(self) -> List[Tuple[str, str]]:
        """(name, value) as sent, names in their own case."""
        return list(self._items)

    def copy(self) -> "Headers":
        return Headers(self)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.get_list(name))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def __eq__(self, other: object) -> bool:
        try:
            other = Headers(other)
        except (TypeError, ValueError):
            return NotImplemented
        return sorted(self.multi_items()) == sorted(other.multi_items())

    def __repr__(self) -> str:
        """As httpx's: names in lower case, a dict when none repeats, and
        the credentials of Authorization and Proxy-Authorization shown as
        "[secure]" (the repr showed them)."""
        items = [(k, "[secure]" if k in _SECRET_FIELDS else str(v))
                 for k, v in self.multi_items()]
        one = dict(items)
        enc = "" if self.encoding == "ascii" else f", encoding={self.encoding!r}"
        return f"Headers({one if len(one) == len(items) else items!r}{enc})"


class Request:
    """A request as httpx's: method, url (a URL), headers (the request's
    own, merged with the client's), content (the body's bytes). Made by
    the client; what a response's `request` is, and what event hooks
    receive. Made by the caller (for Client.send) with httpx's
    arguments: params merged into the URL, cookies into a Cookie header,
    and a body from content, data (a form), files (multipart) or json,
    its Content-Type set as a client's request sets it."""

    __slots__ = ("method", "url", "headers", "content", "extensions")

    def __init__(self, method: str, url: Any, *, params: Any = None,
                 headers: Any = None, cookies: Any = None,
                 content: Any = None, data: Any = None, files: Any = None,
                 json: Any = None,
                 extensions: Optional[Dict[str, Any]] = None) -> None:
        from ._urls import URL
        if params is not None or cookies is not None or data is not None \
                or files is not None or json is not None or \
                isinstance(content, str):
            from ._args import build
            made = Request._from_args(build(
                method, url, params=params, headers=headers, cookies=cookies,
                content=content, data=data, files=files, json=json))
            url, headers, content = made.url, made.headers, made.content
        self.method = method.upper()
        self.url = url if isinstance(url, URL) else URL(url)
        self.headers = Headers(headers)
        self.content = content or b""
        self.extensions = extensions or {}

    def read(self) -> bytes:
        return self.content

    async def aread(self) -> bytes:
        return self.content

    @classmethod
    def _from_args(cls, args: Dict[str, Any],
                   client: Any = ()) -> "Request":
        """The request the extension was given (_args.build's keywords),
        with the client's headers (name, value) it went with: the
        request's own replace those of the same name, and an empty value
        (libsalvo's "send none") shows as no header."""
        from ._urls import URL
        url = URL(args["url"])
        if args.get("params"):
            url = url.copy_merge_params(
                [(k, "" if v is None else v) for k, v in args["params"]])
        own = [_unline(h) for h in args.get("headers") or ()]
        named = {k.lower() for k, _ in own}
        hdrs = [(k, v) for k, v in client if k.lower() not in named] + own
        return cls(args["method"], url,
                   headers=[(k, v) for k, v in hdrs if v.strip()],
                   content=args.get("body"))

    def _redirected(self, method: str, url: Any, same: Any = None,
                    keeps_body: Any = None) -> "Request":
        """The request a redirect sent on, as libsalvo sent it: to `url`
        with `method`; the caller's headers, but Authorization, Cookie
        and Host only to this request's own origin; the body only while
        the method stays (307, 308). same and keeps_body, when libsalvo
        said them (redirect_next), are taken as given."""
        from ._urls import URL
        url = URL(url)

        def origin(u: Any) -> Any:
            return (u.scheme, u.host, u.port)
        if same is None:
            same = origin(url) == origin(self.url)
        if keeps_body is None:
            keeps_body = method == self.method
        hdrs = [(k, v) for k, v in self.headers.multi_items()
                if same or k.lower() not in ("authorization", "cookie",
                                             "host")]
        return Request(method, url, headers=hdrs,
                       content=self.content if keeps_body else None)

    def __repr__(self) -> str:
        return f"<Request({self.method!r}, {self.url._shown()!r})>"


class _State:
    """What the Python layer keeps per response (in the C object's one
    spare slot, made on first need): an encoding set by the caller, the
    client's default, the request as the caller made it and the one sent
    last (after redirects), the client's headers it went with, how much of
    a streamed body was read, whether it was consumed by iterating,
    whether it was closed (or read to its end), for a redirect's
    response, the response it led to and its place there, and the
    responses an Auth flow saw before it."""

    __slots__ = ("encoding", "default_encoding", "request", "downloaded",
                 "consumed", "client_headers", "closed", "hop", "final",
                 "before")

    def __init__(self) -> None:
        self.encoding: Optional[str] = None
        self.default_encoding: Any = "utf-8"
        self.request: Any = None
        self.downloaded = 0
        self.consumed = False
        self.client_headers: Any = ()
        self.closed = False
        # A redirect's response: the response it led to, and its index.
        self.hop: Any = None
        self.final: Any = None  # after redirects: the request sent last
        # The responses an Auth flow had before this one (a 401 answered).
        self.before: Any = ()


def state_for(args: Dict[str, Any], client_headers: Any,
              default_encoding: Any) -> _State:
    """A response's state as a client makes it: the request as submitted
    (made into a Request when asked for), the client's headers it went
    with, the client's default encoding."""
    st = _State()
    st.default_encoding = default_encoding
    st.request = args
    st.client_headers = client_headers
    return st


def _state(r: Any) -> _State:
    st = r._extra
    if st is None:
        st = r._extra = _State()
    return st
