"""Exceptions, named as httpx names them so that their users know them.

HTTPError
├── RequestError                  a request could not be completed
│   ├── TransportError
│   │   ├── TimeoutException      the attempt's limit or the deadline
│   │   │   ├── ConnectTimeout    a lookup or a connect took too long
│   │   │   ├── ReadTimeout       no byte of a streamed body within it
│   │   │   ├── WriteTimeout      (never raised: the attempt's limit)
│   │   │   └── PoolTimeout       waited too long in the queue for a slot
│   │   ├── NetworkError
│   │   │   ├── ConnectError      refused, unreachable, DNS, TLS
│   │   │   ├── ReadError         reset or closed mid-response, too large
│   │   │   ├── WriteError        (never raised: a ReadError)
│   │   │   └── CloseError        (never raised)
│   │   ├── ProtocolError
│   │   │   ├── LocalProtocolError  (never raised: an InvalidURL)
│   │   │   └── RemoteProtocolError a malformed response
│   │   │       └── IncompleteResponse  the answer ended before it was
│   │   │                               whole (a ReadError too)
│   │   ├── ProxyError
│   │   └── UnsupportedProtocol   no http:// or https:// (an InvalidURL too)
│   ├── TooManyRedirects          more redirects than max_redirects
│   │   ├── UnsupportedRedirect   to a scheme salvo does not fetch (an
│   │   │                         UnsupportedProtocol too)
│   │   └── InvalidRedirect       to a Location that is no URL to follow
│   │                             (a RemoteProtocolError too)
│   ├── InvalidURL                the request itself was bad
│   ├── DecodingError             the body's coding could not be undone, or
│   │                             it is not what was asked for (JSON)
│   └── CancelledError            cancelled before it completed
└── HTTPStatusError               from Response.raise_for_status()

StreamError (a RuntimeError): StreamConsumed, StreamClosed, and
ResponseNotRead, RequestNotRead (never raised: salvo reads a body on
first use).

The classes httpx has and salvo never raises are here so that code
written for httpx, `except httpx.WriteTimeout` among them, runs: an
except clause naming a class that does not exist raises AttributeError
the moment another error passes through it.

ClosedError (a RuntimeError, from the extension): a client or parallel
block used after it was closed, or whose client was closed.

Each carries salvo's error name (`.code`, e.g. "ETIMEDOUT"), the URL,
and httpx's `.request`: the request that failed.
"""
from __future__ import annotations

import re

from . import _salvo

__all__ = [
    "HTTPError", "RequestError", "TransportError", "TimeoutException",
    "ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout",
    "NetworkError", "ConnectError", "ReadError", "WriteError", "CloseError",
    "ProtocolError", "LocalProtocolError", "RemoteProtocolError",
    "ProxyError", "UnsupportedProtocol", "IncompleteResponse",
    "TooManyRedirects", "UnsupportedRedirect", "InvalidRedirect", "InvalidURL", "DecodingError", "CancelledError",
    "HTTPStatusError", "ParallelRequestsError", "StreamError",
    "StreamConsumed", "StreamClosed", "ResponseNotRead", "RequestNotRead",
    "CookieConflict",
]


class HTTPError(Exception):
    """Base of every salvo error. `request` is the request that failed,
    as httpx's (RuntimeError when there is none to give: a bare URL
    submitted to a block)."""

    def __init__(self, message: str, *, code: str = "", url: str = "",
                 response=None, request=None) -> None:
        super().__init__(message)
        self.code = code
        self.url = url
        self.response = response
        self._request = request
        self._raw = None  # the failed response, which knows its request

    @property
    def request(self):
        req = self._request
        if req is None:
            src = self.response if self.response is not None else self._raw
            if src is None:
                raise RuntimeError("The .request property has not been "
                                   "set.")
            req = self._request = src.request
        return req

    @request.setter
    def request(self, request) -> None:
        self._request = request


class RequestError(HTTPError):
    """The request could not be completed."""


class TransportError(RequestError):
    """The network failed it."""


class TimeoutException(TransportError):
    """A timeout (connect, attempt, queue) or the deadline ran out."""


class ConnectTimeout(TimeoutException):
    """Looking up the host or connecting to it took longer than the
    client's connect timeout."""


class ReadTimeout(TimeoutException):
    """No byte of a streamed body came within the timeout (httpx's read
    timeout): counted from the body's last piece, never while the reader
    leaves the stream full."""


class WriteTimeout(TimeoutException):
    """httpx's; never raised: salvo bounds sending with the attempt's
    limit (TimeoutException)."""


class PoolTimeout(TimeoutException):
    """The request waited longer than queue_timeout for a slot (httpx's
    wait for a connection from its pool); it was never sent."""


class NetworkError(TransportError):
    """The connection failed: connecting, or reading the response."""


class ConnectError(NetworkError):
    """Connection refused, host unreachable or unknown, TLS failure."""


class ReadError(NetworkError):
    """The connection was reset or closed mid-response, or the body was
    larger than max_body."""


class WriteError(NetworkError):
    """httpx's; never raised: a connection that fails while the request
    is sent is a ReadError."""


class CloseError(NetworkError):
    """httpx's; never raised: closing a connection never fails a
    request."""


class ProtocolError(TransportError):
    """Either side broke HTTP."""


class LocalProtocolError(ProtocolError):
    """httpx's; never raised: salvo refuses a request it could not send
    properly before sending it (InvalidURL)."""


class RemoteProtocolError(ProtocolError):
    """The server sent something that is not HTTP."""


class ProxyError(TransportError):
    """The proxy refused or failed the tunnel."""


class InvalidURL(RequestError):
    """The request itself was bad: its URL, a header, an option."""


class IncompleteResponse(RemoteProtocolError, ReadError):
    """The server ended its answer before it was whole: it closed the
    connection (before any answer, in the head or in the body) or reset
    the request's HTTP/2 stream. httpx raises RemoteProtocolError for it
    ("Server disconnected without sending a response"), which code
    written for httpx catches to try again; it is a ReadError too, as
    salvo raised it before. A TCP reset stays a ReadError, as in httpx."""


class UnsupportedProtocol(TransportError, InvalidURL):
    """A URL that does not start with http:// or https:// (another scheme,
    or none), as httpx raises it; an InvalidURL too, as salvo raised it
    before, so that either except clause takes it."""


class TooManyRedirects(RequestError):
    """More redirects than allowed; its subclasses, a redirect salvo does
    not follow."""


class UnsupportedRedirect(UnsupportedProtocol, TooManyRedirects):
    """A redirect to a URL of a scheme salvo does not fetch (ftp:,
    mailto:): httpx's UnsupportedProtocol, which a crawler catches to skip
    a link, and a TooManyRedirects, as salvo raised it before."""


class InvalidRedirect(RemoteProtocolError, TooManyRedirects):
    """A redirect whose Location salvo cannot follow (no URL, no host, or
    two Locations that differ): the server's fault, httpx's
    RemoteProtocolError ("Invalid URL in location header"), and a
    TooManyRedirects, as salvo raised it before."""


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


# libsalvo's words for an answer the server ended before it was whole,
# the same on both transports (h1.c, native/exchange.c, native/h2.c,
# curl/errors.c); a streamed body's failure quotes them after words of
# its own.
_CLOSED = re.compile(
    "Empty reply from server|connection closed before any response|"
    "connection closed in the middle of the headers|"
    "connection closed before the end of the body|"
    "the server closed a reused connection without a response|"
    "the server closed the HTTP/2 connection|"
    r"HTTP/2 stream \d+ was reset: ")

# libsalvo's words for a URL that names no scheme it fetches (url.c's
# SALVO__URL_UNSUPPORTED, which a redirect's refusal quotes too).
_UNSUPPORTED = "unsupported scheme "
_NOT_HTTP = (_UNSUPPORTED, "malformed URL: no scheme in ")


def _timeout_class(message: str) -> type:
    """The timeout an ETIMEDOUT's message names: connecting (a lookup or
    a connect, which both transports word as libcurl does), waiting in
    the queue (libsalvo's engine), or else the attempt or the deadline.
    tests/python/test_exceptions.py holds both transports to the words."""
    if message.startswith(("Connection timed out after",
                           "Resolving timed out after")):
        return ConnectTimeout
    if message.endswith("in the queue for a slot (queue_timeout)"):
        return PoolTimeout
    return TimeoutException


def error_for(code: str, message: str, url: str,
              response=None, cls=None, raw=None) -> RequestError:
    """The exception for one of salvo's error names (cls: a narrower one
    the caller knows the error to be, such as ReadTimeout; raw: the
    response that failed, whose request the exception gives)."""
    cls = cls or _BY_CODE.get(code, RequestError)
    if cls is TimeoutException:
        cls = _timeout_class(message)
    elif cls is InvalidURL and message.startswith(_NOT_HTTP):
        cls = UnsupportedProtocol
    elif cls is ReadError and _CLOSED.search(message):
        cls = IncompleteResponse
    elif cls is TooManyRedirects and not message.startswith("Maximum ("):
        cls = (UnsupportedRedirect if "(" + _UNSUPPORTED in message
               else InvalidRedirect)
    where = f"{code}, {url}" if url else code
    e = cls(f"{message} ({where})", code=code, url=url, response=response)
    e._raw = raw
    return e


class StreamError(RuntimeError):
    """A body used in a way its state does not allow (httpx's)."""


class StreamConsumed(StreamError):
    """A streamed body read after it was iterated: its bytes went to the
    iterator (httpx's name)."""

    def __init__(self) -> None:
        super().__init__(
            "Attempted to read or stream content, but the content has "
            "already been streamed.")


class CookieConflict(KeyError):
    """Cookies.get() of a name held for several domains or paths."""


class StreamClosed(StreamError):
    """A streamed body read after it was closed unread (httpx's name)."""

    def __init__(self) -> None:
        super().__init__("Attempted to read or stream content, but the "
                         "stream has been closed.")


class ResponseNotRead(StreamError):
    """httpx's; never raised: salvo reads a streamed body on first use of
    content or text."""


class RequestNotRead(StreamError):
    """httpx's; never raised: a request's body is bytes, read already."""
