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


def _check(name: str, value: str) -> None:
    """A name and value a Cookie field can carry (RFC 6265 4.1.1), or
    TypeError or ValueError naming which is not. The value is not
    named: a cookie's value may be a secret."""
    for what, v in (("name", name), ("value", value)):
        if not isinstance(v, str):
            raise TypeError(f"a cookie {what} must be str, not "
                            f"{type(v).__name__}")
        if any(c in v for c in ";\r\n\t\0") or (what == "name" and (
                "=" in v or not v.strip())):
            shown = repr(v) if what == "name" else "of cookie " + repr(name)
            raise ValueError(f"cookie {what} {shown} cannot be sent in a "
                             f"Cookie field")


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
        here = url.raw_path.decode().partition("?")[0] or "/"  # as sent
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
        path = request.url.raw_path.decode().partition("?")[0] or "/"

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
        _check(name, value)
        self._c[(name, domain, path)] = value

    @staticmethod
    def _same_domain(kept: str, asked: str) -> bool:
        return kept == asked

    def _find(self, name: Optional[str], domain: Optional[str],
              path: Optional[str]) -> List[Tuple[Tuple[str, str, str], str]]:
        """The (key, value) pairs of the cookies asked for (None: any
        name, domain or path), read from one look at the cookies."""
        return [(k, v) for k, v in self._c.items()
                if (name is None or k[0] == name) and
                (domain is None or self._same_domain(k[1], domain)) and
                (path is None or k[2] == path)]

    def _drop(self, keys: List[Tuple[str, str, str]]) -> None:
        for k in keys:
            del self._c[k]

    def get(self, name: str, default: Any = None,
            domain: Optional[str] = None, path: Optional[str] = None) -> Any:
        found = self._find(name, domain, path)
        if len(found) > 1:
            from ._exceptions import CookieConflict
            raise CookieConflict(f"Multiple cookies exist with name={name}")
        return found[0][1] if found else default

    def delete(self, name: str, domain: Optional[str] = None,
               path: Optional[str] = None) -> None:
        self._drop([k for k, _ in self._find(name, domain, path)])

    def clear(self, domain: Optional[str] = None,
              path: Optional[str] = None) -> None:
        self._drop([k for k, _ in self._find(None, domain, path)])

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
        found = self._find(name, None, None)
        if not found:
            raise KeyError(name)
        self._drop([k for k, _ in found])

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k[0] for k in self._c))

    def __len__(self) -> int:
        return len(self._c)

    def __bool__(self) -> bool:
        return bool(self._c)

    def __repr__(self) -> str:
        return f"<Cookies[{', '.join(f'{k}={v}' for k, v in self.items())}]>"


class ClientCookies(Cookies):
    """A client's cookies, as httpx's client.cookies: those given to it
    without a domain, sent with every request, and the client's jar in
    libsalvo, read afresh at each look (what servers set, and what was set
    here with a domain). set(name, value) without a domain keeps the
    cookie here; with one, libsalvo's jar stores it, for that domain and
    its subdomains, as httpx's jar does. A domain given to get, delete
    or clear matches with or without its leading '.'."""

    def __init__(self, client: Any, jar: bool = True) -> None:
        import weakref
        # Weakly: the client holds this, and a cycle would keep its I/O
        # thread running until the collector ran.
        self._client = weakref.ref(client)
        self._jar = jar
        self._given: Dict[Tuple[str, str, str], str] = {}

    def _native(self) -> Any:
        client = self._client()
        if client is None:
            from . import _salvo
            raise _salvo.ClosedError("the client is closed")
        return client._native()

    @property
    def _c(self) -> Dict[Tuple[str, str, str], str]:  # type: ignore
        got = dict(self._given)
        for line in self._lines():
            f = line.split("\t")
            got[(f[5], f[0], f[2])] = f[6]
        return got

    def _lines(self) -> List[str]:
        if not self._jar:
            return []
        text = self._native().cookie_lines()
        return [ln[len("#HttpOnly_"):] if ln.startswith("#HttpOnly_") else ln
                for ln in text.split("\n") if ln.count("\t") == 6]

    def set(self, name: str, value: str, domain: str = "",
            path: str = "/") -> None:
        _check(name, value)
        if not domain:
            self._given[(name, "", path)] = value
            return
        if not self._jar:
            raise ValueError("this client keeps no cookies (cookies=False): "
                             "a cookie for a domain has no jar to go to")
        if not path.startswith("/") or any(c in domain + path
                                           for c in "\t\r\n\0"):
            raise ValueError(f"a cookie for domain {domain!r}, path {path!r}:"
                             f" the path must start with '/', and neither "
                             f"may hold a control")
        self._store(name, value, "." + domain.lstrip("."), path, 0)

    def _store(self, name: str, value: str, domain: str, path: str,
               expires: int) -> None:
        sub = "TRUE" if domain.startswith(".") else "FALSE"
        self._native().cookie_set(
            f"{domain}\t{sub}\t{path}\tFALSE\t{expires}\t{name}\t{value}")

    @staticmethod
    def _same_domain(kept: str, asked: str) -> bool:
        return kept.lstrip(".") == asked.lstrip(".")

    def _drop(self, keys: List[Tuple[str, str, str]]) -> None:
        for k in keys:
            if k in self._given:
                del self._given[k]
            else:  # a past expiry removes it (RFC 6265 5.3 step 11)
                self._store(k[0], "", k[1], k[2], 1)

    def clear(self, domain: Optional[str] = None,
              path: Optional[str] = None) -> None:
        if domain is None and path is None:
            self._given.clear()
            if self._jar:
                self._native().clear_cookies()
            return
        super().clear(domain, path)

    def _add(self, cookies: Any) -> None:
        for (name, domain, path), value in Cookies(cookies)._c.items():
            self.set(name, value, domain, path)

    def _replace(self, cookies: Any) -> None:
        Cookies(cookies)  # refused before anything is cleared
        self.clear()
        self._add(cookies)

    def _header_value(self) -> str:
        """The cookies sent with every request: those without a domain
        (the jar adds its own in libsalvo)."""
        return "; ".join(f"{k[0]}={v}" for k, v in self._given.items())
