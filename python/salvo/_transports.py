"""httpx's HTTPTransport, AsyncHTTPTransport and Proxy, as what they are
to salvo: options of the client they are given to. httpx's documented
use, `httpx.Client(transport=httpx.HTTPTransport(retries=1))`, then
configures the client's libsalvo transport; requests are not sent
through the object by hand."""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    from typing import Any, Dict, Optional

__all__ = ["HTTPTransport", "AsyncHTTPTransport", "Proxy"]

_UNSET: Any = object()


class Proxy:
    """httpx's Proxy: a proxy URL, with credentials (auth=(user,
    password), sent to the proxy only) and no headers of its own. The
    password is never shown (repr)."""

    def __init__(self, url: Any, *, auth: Optional[tuple] = None,
                 headers: Any = None, ssl_context: Any = None) -> None:
        from urllib.parse import quote, urlsplit
        if headers:
            raise ValueError("Proxy(headers=...) is not supported: libsalvo "
                             "sends the proxy no headers of the caller's")
        if ssl_context is not None:
            raise ValueError("Proxy(ssl_context=...) is not supported")
        self.url = str(url)
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https", "socks5", "socks5h") or \
                not parts.hostname:
            raise ValueError(f"a proxy URL must be http://, https://, "
                             f"socks5:// or socks5h:// with a host, not "
                             f"{parts.scheme or 'no scheme'}://")
        if auth is None and parts.username is not None:
            auth = (parts.username, parts.password or "")
        if auth is not None and not (isinstance(auth, tuple) and
                                     len(auth) == 2):
            raise TypeError("Proxy's auth must be a (username, password) "
                            "tuple")
        self.auth = auth
        self.headers: Dict[str, str] = {}
        host = parts.netloc.rpartition("@")[2]
        cred = "" if auth is None else \
            f"{quote(auth[0], safe='')}:{quote(auth[1], safe='')}@"
        # The URL libsalvo is given, credentials in it (libcurl's form).
        self._salvo_url = f"{parts.scheme}://{cred}{host}"

    def __repr__(self) -> str:
        auth = "" if self.auth is None else \
            f", auth=({self.auth[0]!r}, '********')"
        host = self.url.rpartition("@")[2] if "@" in self.url else self.url
        if "://" not in host:
            host = self.url.split("://")[0] + "://" + host
        return f"Proxy({host!r}{auth})"


class HTTPTransport:
    """httpx's HTTPTransport, given to a client as `transport=`: verify,
    cert, http1, http2, limits, proxy and retries become the client's
    options (they replace the client's own, as the transport's do in
    httpx). retries counts attempts again after a failure to connect or a
    connection lost before an answer, for requests that may go twice
    (libsalvo's max_retries, which httpx's connection retries are the
    first of); a status is not retried (retry_statuses=[]), as httpx
    retries none. uds, local_address and socket_options are refused:
    libsalvo connects over TCP from the system's choice of address."""

    def __init__(self, verify: Any = True, cert: Any = None,
                 trust_env: Any = _UNSET, http1: bool = True,
                 http2: bool = False, limits: Any = None,
                 proxy: Any = None, uds: Optional[str] = None,
                 local_address: Optional[str] = None, retries: int = 0,
                 socket_options: Any = None) -> None:
        for name, v in (("uds", uds), ("local_address", local_address),
                        ("socket_options", socket_options)):
            if v is not None:
                raise ValueError(f"HTTPTransport({name}=...) is not "
                                 f"supported: libsalvo connects over TCP "
                                 f"from an address the system picks")
        if trust_env is not _UNSET and trust_env:
            raise TypeError("trust_env=True is not supported: salvo reads "
                            "no certificate settings from the environment")
        if not http1 and not http2:
            raise ValueError("http1 and http2 cannot both be False")
        if not isinstance(retries, int) or isinstance(retries, bool) or \
                retries < 0:
            raise ValueError(f"retries must be an int >= 0, not {retries!r}")
        # http2 alone is HTTP/2 with prior knowledge on http:// (h2c), as
        # httpx's transport speaks it; with http1, TLS negotiates.
        self._options: Dict[str, Any] = {
            "verify": verify, "http2": http2, "max_retries": retries,
            "retry_statuses": []}
        if not http1:
            self._options["http_version"] = 3
        if cert is not None:
            self._options["cert"] = cert
        if limits is not None:
            self._options["limits"] = limits
        if proxy is not None:
            self._options["proxy"] = proxy
        self.retries = retries

    def handle_request(self, request: Any) -> Any:
        raise NotImplementedError("a salvo transport configures its client; "
                                  "send requests with the client")

    def close(self) -> None:
        """Nothing to close: the client owns the connections."""

    def __enter__(self) -> HTTPTransport:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncHTTPTransport(HTTPTransport):
    """httpx's AsyncHTTPTransport, for AsyncClient(transport=...): as
    HTTPTransport."""

    async def handle_async_request(self, request: Any) -> Any:
        raise NotImplementedError("a salvo transport configures its client; "
                                  "send requests with the client")

    async def aclose(self) -> None:
        """Nothing to close: the client owns the connections."""

    async def __aenter__(self) -> AsyncHTTPTransport:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


def transport_options(transport: Any) -> Dict[str, Any]:
    """A client's transport= as client_options' keywords: a name (auto,
    native, libcurl) as it is, an HTTPTransport's options."""
    if isinstance(transport, HTTPTransport):
        return dict(transport._options)
    if isinstance(transport, str):
        return {"transport": transport}
    raise TypeError(f"transport must be a salvo.HTTPTransport or one of "
                    f"'auto', 'native', 'libcurl', not "
                    f"{type(transport).__name__} (salvo sends requests "
                    f"itself: a transport of one's own is not supported)")
