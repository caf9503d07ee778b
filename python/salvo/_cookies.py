"""Cookies: httpx's mapping of cookie names to values, with a domain and
a path per cookie. A client's cookies= seeds every request's Cookie field
(the client's jar, in libsalvo, then adds what servers set); a response's
cookies are those its Set-Cookie fields set."""
from __future__ import annotations

from collections.abc import MutableMapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    from typing import Any, Dict, Iterator, List, Optional, Tuple

__all__ = ["Cookies"]


class Cookies(MutableMapping):
    """name -> value; set(name, value, domain="", path="/") keeps where it
    belongs; get(name, domain=, path=) finds it; CookieConflict (a
    KeyError) when a name is in several domains or paths and none was
    named."""

    def __init__(self, cookies: Any = None) -> None:
        # (name, domain, path) -> value, in the order set
        self._c: Dict[Tuple[str, str, str], str] = {}
        if cookies is None:
            return
        if isinstance(cookies, Cookies):
            self._c = dict(cookies._c)
            return
        items = cookies.items() if hasattr(cookies, "items") else cookies
        if not hasattr(items, "__iter__") or isinstance(items, (str, bytes)):
            raise TypeError(f"cookies must be a mapping of names to values, "
                            f"a Cookies or (name, value) pairs, not "
                            f"{type(cookies).__name__}")
        for k, v in items:
            self.set(k, v)

    def extract_cookies(self, response: Any) -> None:
        """Takes the cookies response's Set-Cookie fields set, with RFC
        6265's defaults (5.3): the request's host when no Domain is given
        (5.2.3), and its path up to the last "/" when no Path is (5.1.4).
        A field without "name=" is ignored, as the RFC says."""
        url = response.url
        host = (url.host or "").lower()
        here = url.path or "/"
        default_path = here[:here.rfind("/")] if here.rfind("/") > 0 else "/"
        for f in response.headers.get_list("set-cookie"):
            pair, _, attrs = f.partition(";")
            name, eq, value = pair.partition("=")
            if not eq or not name.strip():
                continue
            domain, path = host, default_path
            for a in attrs.split(";"):
                k, _, v = a.strip().partition("=")
                if k.lower() == "domain" and v.strip().lstrip("."):
                    domain = v.strip().lstrip(".").lower()
                elif k.lower() == "path" and v.strip().startswith("/"):
                    path = v.strip()
            try:
                self.set(name.strip(), value.strip().strip('"'), domain,
                         path)
            except ValueError:
                continue  # a value a Cookie field cannot carry: not kept

    def set_cookie_header(self, request: Any) -> None:
        """Sets request's Cookie field to the cookies its URL matches (RFC
        6265 5.4: the domain, the host or one of its parents; the path, a
        prefix at a "/"), longest paths first; none: no field set."""
        host = (request.url.host or "").lower()
        path = request.url.path or "/"

        def matches(domain: str, p: str) -> bool:
            on_host = not domain or host == domain or \
                host.endswith("." + domain)
            return on_host and (path == p or (path.startswith(p) and (
                p.endswith("/") or path[len(p)] == "/")))
        sent = sorted((k for k in self._c if matches(k[1], k[2])),
                      key=lambda k: -len(k[2]))
        if sent:
            request.headers["Cookie"] = "; ".join(
                f"{k[0]}={self._c[k]}" for k in sent)

    def set(self, name: str, value: str, domain: str = "",
            path: str = "/") -> None:
        for what, v in (("name", name), ("value", value)):
            if not isinstance(v, str):
                raise TypeError(f"a cookie {what} must be str, not "
                                f"{type(v).__name__}")
            if any(c in v for c in ";\r\n\0") or (what == "name" and (
                    "=" in v or not v.strip())):
                raise ValueError(f"cookie {what} {v!r} cannot be sent in a "
                                 f"Cookie field")
        self._c[(name, domain, path)] = value

    def _find(self, name: str, domain: Optional[str],
              path: Optional[str]) -> List[Tuple[str, str, str]]:
        return [k for k in self._c if k[0] == name and
                (domain is None or k[1] == domain) and
                (path is None or k[2] == path)]

    def get(self, name: str, default: Any = None,
            domain: Optional[str] = None, path: Optional[str] = None) -> Any:
        found = self._find(name, domain, path)
        if len(found) > 1:
            from ._exceptions import CookieConflict
            raise CookieConflict(f"Multiple cookies exist with name={name}")
        return self._c[found[0]] if found else default

    def delete(self, name: str, domain: Optional[str] = None,
               path: Optional[str] = None) -> None:
        for k in self._find(name, domain, path):
            del self._c[k]

    def clear(self, domain: Optional[str] = None,
              path: Optional[str] = None) -> None:
        for k in [k for k in self._c if (domain is None or k[1] == domain)
                  and (path is None or k[2] == path)]:
            del self._c[k]

    def _header_value(self) -> str:
        """The pairs as a Cookie field's value (RFC 6265 5.4)."""
        return "; ".join(f"{k[0]}={v}" for k, v in self._c.items())

    def __getitem__(self, name: str) -> str:
        v = self.get(name)
        if v is None:
            raise KeyError(name)
        return v

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        if not self._find(name, None, None):
            raise KeyError(name)
        self.delete(name)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k[0] for k in self._c))

    def __len__(self) -> int:
        return len(self._c)

    def __bool__(self) -> bool:
        return bool(self._c)

    def __repr__(self) -> str:
        return f"<Cookies[{', '.join(f'{k}={v}' for k, v in self.items())}]>"
