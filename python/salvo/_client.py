"""The parallel block (parallel-block.md) and plain requests, synchronous."""
from __future__ import annotations

import os
from functools import partial
from _thread import allocate_lock  # threading.Lock, without threading's 8 ms

from . import _salvo
from ._args import USE_CLIENT_DEFAULT
from ._flows import FlowPending, args_of, next_with_flows, run_flow
from ._core import ClientCore, Verbs, block_request, block_state
from ._exceptions import HTTPError
from ._models import Request
from ._response import Response

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    from typing import Any, Dict, Optional

__all__ = ["Client", "Parallel", "Pending", "parallel", "request", "get",
           "post", "put", "patch", "delete", "head", "options"]


Pending = _salvo.Pending  # get_response(timeout=None), cancel(): in C


class Parallel(_salvo.Parallel):
    """A parallel block: requests go out at once, responses are collected
    by handle or as they complete, errors surface only on collection, and
    leaving the block cancels what is still pending. A block belongs to
    one thread at a time (make one per thread); its waits release the GIL,
    so other threads run meanwhile.

    get/post/put/patch/delete/head/options/request return a Pending at
    once; next_response(timeout=None) returns the next response to
    complete (or raises its error); has_pending_responses says whether
    one is still to come. Those run in C; a request with keywords has
    them checked and converted here first (_request_slow)."""

    def __init__(self, client: Optional["Client"] = None) -> None:
        super().__init__(client._native() if client else None, Response)
        self._client = client
        # The client's headers as the block opens: its requests take these.
        self._headers = list(client._headers._items) if client else None
        # Its requests whose Auth flows are under way, by current id.
        self._live: Optional[Dict[int, FlowPending]] = None
        if client is not None and not client._plain:
            # The client's defaults (base_url, params, cookies, hooks) go
            # into every request: the verbs take the path that merges them.
            for verb in ("get", "post", "put", "patch", "delete", "head",
                         "options"):
                setattr(self, verb, partial(self._request_slow,
                                            verb.upper()))
            self.request = self._request_slow

    def _request_slow(self, method: str, url: str, **kwargs: Any) -> Pending:
        args, flow = block_request(self._client, self._headers, method, url,
                                   kwargs)
        if flow is not None:
            return self._flow_pending(flow, args)
        return self._submit_kept(args)

    def _submit_kept(self, args: Any) -> Pending:
        """Submits a request; its response's state is ready on its
        Pending: the request (Response.request)."""
        p = self._submit(**args, pending=True)
        p._extra = block_state(self._client, self._headers, args)
        return p

    def _flow_pending(self, auth: Any, args: Any) -> FlowPending:
        """A request whose Auth flow sees its responses: from the first,
        the block's next_response goes on with a flow's requests rather
        than hand their responses over."""
        if self._live is None:
            self._live = {}
            native = super().next_response
            self.next_response = partial(next_with_flows, native,
                                         self._live)
        return FlowPending(auth, args, self._submit_kept, self._live)


class Client(ClientCore, Verbs):
    """A configured client: a connection pool, a cookie jar and its own I/O
    thread. Options follow httpx (headers, auth, timeout, verify, http2,
    follow_redirects) plus salvo's flow control (concurrency, max_retries,
    rate_limit, and any libsalvo option by name). A context manager. A
    client may be shared by any number of threads, each with its own
    blocks; closing it must not race with their use."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._single: Optional[Parallel] = None

    def parallel(self) -> Parallel:
        return Parallel(self)

    def _shared(self) -> Parallel:
        """The block single requests use: it lives with the client, so a
        streamed body can be read after the call returns."""
        with self._lock:
            if self._single is None:
                self._single = Parallel(self)
                # Single requests take the client's headers as they are
                # at each request, not as this block opened.
                self._single._headers = None
            return self._single

    def request(self, method: str, url: Any, **kw: Any) -> Response:
        """One request, with httpx's arguments (params, headers, cookies,
        auth, json, data, content, files, timeout, follow_redirects) and
        salvo's (stream, key, max_retries, idempotent); its response, or
        the exception its error means."""
        par = self._shared()
        if self._plain and not kw:
            try:
                r = par.request(method, url).get_response()
            except HTTPError as e:  # its request is exc.request (httpx's)
                if e._raw is not None:
                    self._adopt(e._raw, method, url)
                raise
            return self._adopt(r, method, url)
        return self._send_built(par, self._prepare(method, url, kw))

    def _send_built(self, par: Parallel, args: Any) -> Response:
        """The response to the extension's arguments, the response hooks
        run on it; through its Auth flow when it has one (each request
        the flow yields sent, each response given back to it)."""
        flow = args.pop("_flow", None)
        if flow is not None:
            return run_flow(flow, Request._from_args(args), lambda q:
                            self._send_built(par, args_of(q, args)))
        sent = args.pop("_request", None)  # send()'s Request
        # Its state comes with it: the block's Pending carried it.
        r = par._submit_kept(args).get_response()
        if sent is not None:
            r._extra.request = sent
        for hook in self._hooks["response"]:
            hook(r)
        return r

    def stream(self, method: str, url: Any, **kw: Any) -> "_Streamed":
        """httpx's streaming request: `with client.stream("GET", url) as
        r:` gives the response with its body still to pull (iter_bytes,
        iter_lines...), and closes it at the end of the block."""
        return _Streamed(self, method, url, kw)

    def send(self, request: Any, *, stream: bool = False,
             auth: Any = USE_CLIENT_DEFAULT,
             follow_redirects: Any = USE_CLIENT_DEFAULT) -> Response:
        """httpx's send: a salvo.Request (from build_request, or made by
        the caller) sent as it is; the event hooks run as for request()."""
        for hook in self._hooks["request"]:
            hook(request)
        return self._send_built(self._shared(), self._send_args(
            request, stream, auth, follow_redirects))

    def close(self) -> None:
        if self._single is not None:
            self._single.close()
            self._single = None
        self._close_native()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _Streamed:
    """The context manager of Client.stream."""

    __slots__ = ("_args", "_r")

    def __init__(self, client: Any, method: str, url: Any,
                 kw: Any) -> None:
        self._args = (client, method, url, kw)
        self._r: Any = None

    def __enter__(self) -> Response:
        client, method, url, kw = self._args
        self._r = client.request(method, url, stream=True, **kw)
        return self._r

    def __exit__(self, *exc: Any) -> None:
        self._r.close()


# ---- the default client -----------------------------------------------------

def parallel() -> Parallel:
    """A parallel block on the default client (libsalvo's, made on first
    use, remade in a child after fork)."""
    return Parallel(None)


# The top-level functions' options that are a client's in libsalvo.
_CLIENT_ONLY = ("verify", "cert", "proxy", "proxies", "trust_env")


class _DefaultClient(Verbs):
    """The verbs on the default client, through one block per process (a
    child after fork gets its own: its parent's block is of no use
    there)."""

    def __init__(self) -> None:
        self._lock = allocate_lock()
        self._par: Optional[Parallel] = None
        self._pid = 0

    def request(self, method: str, url: str, **kw: Any) -> Response:
        """One request on the default client; with a client's option
        (verify, cert, proxy or proxies, trust_env), on a client made for
        it, as httpx's top-level functions make one each call."""
        own = {k: kw.pop(k) for k in _CLIENT_ONLY if k in kw}
        if own:
            c = Client(**own)
            if kw.get("stream"):  # its response keeps c's block alive
                return c.request(method, url, **kw)
            with c:
                return c.request(method, url, **kw)
        with self._lock:
            if self._par is None or self._pid != os.getpid():
                self._par = parallel()
                self._pid = os.getpid()
            par = self._par
        try:
            r = par.request(method, url, **kw).get_response()
        except HTTPError as e:  # its request is exc.request (httpx's)
            if e._raw is not None:
                _bare(e._raw, method, url)
            raise
        return _bare(r, method, url)


def _bare(r: Any, method: str, url: Any) -> Any:
    """r with its request, when it was a bare URL submitted in C (no
    arguments to make it from)."""
    from ._models import _state
    st = _state(r)
    if st.request is None:
        st.request = {"method": method, "url": str(url)}
    return r


def stream(method: str, url: Any, **kw: Any) -> "_Streamed":
    """httpx's salvo.stream: `with salvo.stream("GET", url) as r:`, a
    streamed request on the default client."""
    return _Streamed(_default, method, url, kw)


_default = _DefaultClient()
request = _default.request
get, post, put = _default.get, _default.post, _default.put
patch, delete = _default.patch, _default.delete
head, options = _default.head, _default.options
