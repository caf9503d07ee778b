"""salvo: many HTTP requests at once, fast, with well-defined results.

Two APIs, both on libsalvo's I/O thread:

The parallel block::

    with salvo.parallel() as parallel:
        one = parallel.get("https://example.com/1")
        two = parallel.get("https://example.com/2")
        r1, r2 = one.get_response(), two.get_response()

    async with salvo.AsyncClient().parallel() as parallel:
        pending = parallel.get("https://example.com/1")
        r = await pending.get_response()

The one-call form::

    results = salvo.parallel_requests(urls, concurrency=16, keys=names,
                                      max_retries=2, rate_limit=10)
"""
from ._client import (Client, Parallel, Pending, delete, get, head, options,
                      parallel, patch, post, put, request, stream)
from ._args import USE_CLIENT_DEFAULT
from ._auth import Auth, BasicAuth, DigestAuth
from ._exceptions import (CancelledError, CloseError, ConnectError,
                          ConnectTimeout, CookieConflict, DecodingError,
                          HTTPError, HTTPStatusError, InvalidURL,
                          LocalProtocolError, NetworkError,
                          ParallelRequestsError, PoolTimeout, ProtocolError,
                          ProxyError, ReadError, ReadTimeout,
                          RemoteProtocolError, RequestError, RequestNotRead,
                          ResponseNotRead, IncompleteResponse, StreamClosed,
                          StreamConsumed, StreamError, TimeoutException,
                          InvalidRedirect, TooManyRedirects, TransportError,
                          UnsupportedProtocol, UnsupportedRedirect,
                          WriteError, WriteTimeout)
from ._models import Headers, Request
from ._response import AsyncResponse, Response
from ._oneshot import (ParallelRequests, ReturnType, parallel_requests,
                       parallel_requests_async)
from ._salvo import ClosedError
from ._salvo import VERSION as __version__

# Loaded when first asked for: the async API loads asyncio (65 ms of CPU,
# measured), the URL model urllib.parse; a program that never asks for
# them does not pay for them.
_LAZY = {"AsyncClient": "_async", "AsyncParallel": "_async",
         "AsyncPending": "_async", "URL": "_urls", "QueryParams": "_urls",
         "Timeout": "_urls", "Limits": "_urls", "Cookies": "_cookies",
         "codes": "_codes", "HTTPTransport": "_transports",
         "AsyncHTTPTransport": "_transports", "Proxy": "_transports"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module("." + _LAZY[name], __name__),
                        name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'salvo' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "AsyncClient", "AsyncHTTPTransport", "AsyncParallel", "AsyncPending",
    "AsyncResponse", "HTTPTransport", "Proxy",
    "Auth", "BasicAuth", "CancelledError", "DigestAuth", "Client", "CloseError", "ConnectTimeout",
    "CookieConflict", "Cookies", "LocalProtocolError", "NetworkError",
    "PoolTimeout", "ProtocolError", "RequestNotRead", "ResponseNotRead",
    "StreamClosed", "StreamError", "UnsupportedProtocol", "WriteError",
    "WriteTimeout",
    "Limits", "QueryParams", "Request", "StreamConsumed", "Timeout", "URL",
    "codes", "USE_CLIENT_DEFAULT", "ClosedError", "ConnectError",
    "DecodingError", "HTTPError", "HTTPStatusError", "Headers", "InvalidURL",
    "Parallel", "ParallelRequests", "ParallelRequestsError", "Pending",
    "ProxyError", "ReadError", "RemoteProtocolError", "RequestError",
    "Response", "ReturnType", "ReadTimeout", "IncompleteResponse",
    "InvalidRedirect", "UnsupportedRedirect",
    "TimeoutException",
    "TooManyRedirects", "TransportError", "delete", "get", "head", "options",
    "parallel", "parallel_requests", "parallel_requests_async", "patch",
    "post", "put", "request", "stream",
]
