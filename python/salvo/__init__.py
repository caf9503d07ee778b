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
                      parallel, patch, post, put, request)
from ._exceptions import (CancelledError, ConnectError, DecodingError,
                          HTTPError, HTTPStatusError, InvalidURL,
                          ParallelRequestsError, ProxyError, ReadError,
                          RemoteProtocolError, RequestError, TimeoutException,
                          TooManyRedirects, TransportError)
from ._models import AsyncResponse, Headers, Response
from ._oneshot import (ParallelRequests, ReturnType, parallel_requests,
                       parallel_requests_async)
from ._salvo import ClosedError
from ._salvo import VERSION as __version__

_LAZY = {"AsyncClient", "AsyncParallel", "AsyncPending"}


def __getattr__(name: str):
    # The async API loads asyncio (65 ms of CPU, measured): a program
    # that never asks for it does not pay for it.
    if name in _LAZY:
        from . import _async
        value = getattr(_async, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'salvo' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _LAZY)

__all__ = [
    "AsyncClient", "AsyncParallel", "AsyncPending", "AsyncResponse",
    "CancelledError", "Client", "ClosedError", "ConnectError", "DecodingError", "HTTPError",
    "HTTPStatusError", "Headers", "InvalidURL", "Parallel",
    "ParallelRequests", "ParallelRequestsError", "Pending", "ProxyError",
    "ReadError", "RemoteProtocolError", "RequestError", "Response",
    "ReturnType", "TimeoutException", "TooManyRedirects", "TransportError",
    "delete", "get", "head", "options", "parallel", "parallel_requests",
    "parallel_requests_async", "patch", "post", "put", "request",
]
