"""Exceptions, named as httpx names them so that their users know them.

HTTPError
├── RequestError                  a request could not be completed
│   ├── TransportError
│   │   ├── ConnectError          refused, unreachable, DNS, TLS
│   │   ├── ReadError             reset or closed mid-response, too large
│   │   ├── RemoteProtocolError   a malformed response
│   │   ├── ProxyError
│   │   └── TimeoutException      a timeout or the deadline
│   │       └── ReadTimeout       no byte of a streamed body within it
│   ├── TooManyRedirects
│   ├── InvalidURL                the request itself was bad
│   ├── DecodingError             the body's coding could not be undone, or
│   │                             it is not what was asked for (JSON)
│   └── CancelledError            cancelled before it completed
└── HTTPStatusError               from Response.raise_for_status()

ClosedError (a RuntimeError, from the extension): a client or parallel
block used after it was closed, or whose client was closed.

Each carries salvo's error name (`.code`, e.g. "ETIMEDOUT") and the URL.
"""
from __future__ import annotations

from . import _salvo

__all__ = [
    "HTTPError", "RequestError", "TransportError", "ConnectError",
    "ReadError", "RemoteProtocolError", "ProxyError", "TimeoutException",
    "ReadTimeout",
    "TooManyRedirects", "InvalidURL", "DecodingError", "CancelledError",
    "HTTPStatusError", "ParallelRequestsError", "StreamConsumed",
    "CookieConflict",
]


class HTTPError(Exception):
    """Base of every salvo error."""

    def __init__(self, message: str, *, code: str = "", url: str = "",
                 response=None) -> None:
        super().__init__(message)
        self.code = code
        self.url = url
        self.response = response


class RequestError(HTTPError):
    """The request could not be completed."""


class TransportError(RequestError):
    """The network failed it."""


class ConnectError(TransportError):
    """Connection refused, host unreachable or unknown, TLS failure."""


class ReadError(TransportError):
    """The connection was reset or closed mid-response, or the body was
    larger than max_body."""


class RemoteProtocolError(TransportError):
    """The server sent something that is not HTTP."""


class ProxyError(TransportError):
    """The proxy refused or failed the tunnel."""


class TimeoutException(TransportError):
    """A timeout (connect, attempt, queue) or the deadline ran out."""


class ReadTimeout(TimeoutException):
    """No byte of a streamed body came within the timeout (httpx's read
    timeout): counted from the body's last piece, never while the reader
    leaves the stream full."""


class TooManyRedirects(RequestError):
    """More redirects than allowed, or one to a bad URL."""


class InvalidURL(RequestError):
    """The request itself was bad: its URL, a header, an option."""


class DecodingError(RequestError):
    """The body's Content-Encoding could not be undone (corrupt, cut
    short, unsupported), as httpx.DecodingError; or the body is not what
    the return type needs (JSON)."""


class CancelledError(RequestError):
    """Cancelled (its block closed, or salvo cancelled it) before it
    completed."""


class HTTPStatusError(HTTPError):
    """raise_for_status() on a 4xx or 5xx response."""


class ParallelRequestsError(HTTPError):
    """Some requests of parallel_requests() failed. `results` has every
    result, in the shape a successful call returns (failed entries being
    their exceptions); `errors` the failures alone, as (index or key,
    exception) pairs."""

    def __init__(self, message: str, results, errors) -> None:
        super().__init__(message)
        self.results = results
        self.errors = errors


# Each error's class by its kind (salvo.h's SALVO_ERRNO_MAP), so that the
# mapping comes from the one list the C library has.
_BY_KIND = {
    "INVALID": InvalidURL,
    "CONNECT": ConnectError,
    "TIMEOUT": TimeoutException,
    "PROTOCOL": RemoteProtocolError,
    "READ": ReadError,
    "PROXY": ProxyError,
    "REDIRECT": TooManyRedirects,
    "DECODE": DecodingError,
    "CANCEL": CancelledError,
    "OTHER": RequestError,
}
_BY_CODE = {name: _BY_KIND[kind] for name, _, _, kind in _salvo.ERRORS}


def error_for(code: str, message: str, url: str,
              response=None, cls=None) -> RequestError:
    """The exception for one of salvo's error names (cls: a narrower one
    the caller knows the error to be, such as ReadTimeout)."""
    cls = cls or _BY_CODE.get(code, RequestError)
    where = f"{code}, {url}" if url else code
    return cls(f"{message} ({where})", code=code, url=url,
               response=response)


class StreamConsumed(RuntimeError):
    """A streamed body read after it was iterated: its bytes went to the
    iterator (httpx's name)."""

    def __init__(self) -> None:
        super().__init__(
            "Attempted to read or stream content, but the content has "
            "already been streamed.")


class CookieConflict(KeyError):
    """Cookies.get() of a name held for several domains or paths."""
