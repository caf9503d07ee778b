"""The parallel block on an event loop (async-client.md): asyncio or any
loop with add_reader (uvloop). The block's descriptor wakes the loop; no
thread waits."""
from __future__ import annotations

import asyncio
from collections import deque

from . import _salvo
from ._args import USE_CLIENT_DEFAULT, read_async_content
from ._flows import Flow, args_of, run_flow_async
from ._core import ClientCore, Verbs, block_request, block_state
from ._exceptions import CancelledError
from ._models import Request
from ._response import AsyncResponse, outcome

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    from typing import Any, Deque, Dict, List, Optional, Set

__all__ = ["AsyncClient", "AsyncParallel", "AsyncPending"]


class AsyncPending:
    """A submitted request. `await pending.get_response()` waits for its
    response; `await pending` returns the pending itself, so that
    `await parallel.get(url)` (as the reference writes it) works too."""

    __slots__ = ("_parallel", "_id", "_stream", "_outcome", "_state", "_f")

    def __init__(self, parallel: "AsyncParallel", id_: int,
                 stream: bool, state: Any = None) -> None:
        self._parallel = parallel
        self._id = id_
        self._stream = stream
        self._outcome: Any = None
        self._state = state  # its response's (Response.request), or None
        self._f: Any = None  # its Auth flow (a Flow, _id its current), or None

    def __await__(self):
        return self._self().__await__()

    async def _self(self) -> "AsyncPending":
        return self

    async def get_response(self) -> AsyncResponse:
        while self._outcome is None:
            raw = await self._parallel._wait(self._id)
            if self._outcome is None and \
                    not self._parallel._went_on(self, raw):
                self._parallel._settle(self, raw)  # not by another waiter
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome

    def cancel(self) -> None:
        """Cancels the request (its response then raises CancelledError)."""
        if self._outcome is None and self._parallel._b is not None:
            self._parallel._b._cancel(self._id)


class AsyncParallel(Verbs):
    """`async with client.parallel() as parallel:` submit with get/post/...
    (no await needed), collect with `await pending.get_response()` or
    `await parallel.next_response()`. Leaving the block cancels what is
    still pending. A block belongs to the event loop that opened it."""

    def __init__(self, client: Optional[ClientCore],
                 response_type: type = AsyncResponse) -> None:
        self._client = client
        # The client's headers as the block opens: its requests take these.
        self._headers = list(client._headers._items) if client else None
        self._response_type = response_type
        self._b: Optional[_salvo.Parallel] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._fd = -1
        self._ready: Dict[int, Any] = {}  # collected, not yet claimed
        # Each await of a request has its own future: cancelling one
        # await (not one shielded) must not cancel the others' futures.
        self._by_id: Dict[int, List[asyncio.Future]] = {}
        self._next: Deque[asyncio.Future] = deque()
        self._pending: Dict[int, AsyncPending] = {}
        self._dropped: Set[int] = set()  # cancelled: freed when they come

    async def __aenter__(self) -> "AsyncParallel":
        self._open()
        return self

    def _open(self) -> None:
        self._b = _salvo.Parallel(self._client._native() if self._client
                               else None, self._response_type)
        self._loop = asyncio.get_running_loop()
        self._fd = self._b._fd()
        self._loop.add_reader(self._fd, self._on_ready)

    async def __aexit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._b is None:
            return
        # The reader goes before the descriptor: a number reused by another
        # descriptor would otherwise wake this callback for ever.
        self._loop.remove_reader(self._fd)
        b, self._b = self._b, None
        b.close()
        waiting = [f for futs in self._by_id.values() for f in futs]
        for fut in waiting + list(self._next):
            if not fut.done():
                fut.cancel()
        self._by_id.clear()
        self._next.clear()
        self._ready.clear()
        self._dropped.clear()

    def _on_ready(self) -> None:
        """The loop saw the descriptor readable: hand out what is ready."""
        while self._b is not None:
            raw = self._b._poll()
            if raw is None:
                return
            rid = raw._id
            if rid in self._dropped:  # its await was cancelled
                self._dropped.discard(rid)
                continue
            futs = [f for f in self._by_id.pop(rid, ()) if not f.done()]
            while not futs and self._next:
                cand = self._next.popleft()
                if not cand.done():
                    futs = [cand]
            for fut in futs:
                fut.set_result(raw)
            if not futs:
                self._ready[rid] = raw

    async def _wait(self, id_: Optional[int]) -> Any:
        """The raw response of id_ (None: the next to complete)."""
        if self._b is None:
            raise _salvo.ClosedError("the parallel block is closed")
        if id_ is not None and id_ in self._ready:
            return self._ready.pop(id_)
        if id_ is None and self._ready:
            first = next(iter(self._ready))
            return self._ready.pop(first)
        fut = self._loop.create_future()
        if id_ is None:
            self._next.append(fut)
        else:
            self._by_id.setdefault(id_, []).append(fut)
        try:
            return await fut
        except asyncio.CancelledError:
            if id_ is not None:
                # The await of one request was cancelled: so is the
                # request, on the wire, and nothing of it is kept.
                # (asyncio.shield keeps it: its inner await goes on.)
                self._abandon(id_, arrived=fut.done() and
                              not fut.cancelled())
            elif fut.done() and not fut.cancelled():
                raw = fut.result()  # "the next" came: the next waiter's
                self._ready[raw._id] = raw
            raise

    def _abandon(self, id_: int, arrived: bool) -> None:
        p = self._pending.pop(id_, None)
        if p is not None:
            p._outcome = CancelledError(
                "its await was cancelled: so was the request",
                code="ECANCELED")
        # Other awaits of it wake to that outcome.
        for other in self._by_id.pop(id_, ()):
            if not other.done():
                other.set_result(None)
        if not arrived and self._b is not None:
            self._b._cancel(id_)
            self._dropped.add(id_)

    def _went_on(self, p: AsyncPending, raw: Any) -> bool:
        """Whether raw went to p's Auth flow, which sent its next request
        (p waits for that one now), rather than being p's outcome."""
        f = p._f
        if f is None:
            return False
        if raw._error:
            f.failed()
            return False
        raw._extra = p._state
        if f.took(raw):
            return False
        self._pending.pop(p._id, None)
        p._id = f.current
        p._state = self._state_of(f.sent)
        self._pending[p._id] = p
        return True

    def _settle(self, p: AsyncPending, raw: Any) -> None:
        self._pending.pop(p._id, None)
        if p._state is not None and raw._extra is None:
            raw._extra = p._state
        try:
            p._outcome = outcome(raw)
        except Exception as e:
            p._outcome = e

    def request(self, method: str, url: str, **kwargs: Any) -> AsyncPending:
        if self._b is None:
            raise _salvo.ClosedError("the parallel block is closed")
        args, flow = block_request(self._client, self._headers, method, url,
                                   kwargs)
        if flow is None:
            return self._submit_args(args)
        f = Flow(flow, args, lambda a: self._b._submit(**a))
        p = AsyncPending(self, f.current, args["stream"],
                         self._state_of(f.sent))
        p._f = f
        self._pending[p._id] = p
        return p

    def _state_of(self, args: Dict[str, Any]) -> Any:
        """The state a response of args starts with (Response.request)."""
        return block_state(self._client, self._headers, args)

    def _submit_args(self, args: Dict[str, Any]) -> AsyncPending:
        """Submits a request the extension's way (_args.build's keywords)."""
        pid = self._b._submit(**args)
        p = AsyncPending(self, pid, args["stream"], self._state_of(args))
        self._pending[pid] = p
        return p


    async def next_response(self) -> AsyncResponse:
        """The next response to complete; raises its error if it failed."""
        if not self.has_pending_responses:
            raise RuntimeError("no pending responses")
        while True:
            raw = await self._wait(None)
            p = self._pending.get(raw._id) or \
                AsyncPending(self, raw._id, False)
            if not self._went_on(p, raw):
                break
        self._settle(p, raw)
        return await p.get_response()

    @property
    def has_pending_responses(self) -> bool:
        return self._b is not None and (self._b._pending > 0 or
                                        bool(self._ready))


class AsyncClient(ClientCore, Verbs):
    """A client for event loops: `async with client.parallel()`, and
    `await client.get(url)` (usable with asyncio.gather). The options, the
    cookies and the request building are Client's (ClientCore); only the
    waiting is the loop's."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._single: Optional[AsyncParallel] = None

    def parallel(self) -> AsyncParallel:
        return AsyncParallel(self)

    def _shared(self) -> AsyncParallel:
        """The block single requests use, on the running loop."""
        loop = asyncio.get_running_loop()
        par = self._single
        if par is None or par._loop is not loop or par._b is None:
            par = self._single = AsyncParallel(self)
            # Single requests take the client's headers as they are at
            # each request, not as this block opened.
            par._headers = None
            par._open()
        return par

    async def request(self, method: str, url: Any,
                      **kw: Any) -> AsyncResponse:
        """One request, with httpx's arguments; awaited. Event hooks are
        awaited too (httpx's AsyncClient takes coroutine functions)."""
        await read_async_content(kw)
        args = self._prepare(method, url, kw, hooks=False)
        if self._hooks["request"]:
            req = Request._from_args(args, self._headers._items)
            for hook in self._hooks["request"]:
                await hook(req)
            self._take_headers(args, req)
        return await self._send_built(self._shared(), args)

    async def _send_built(self, par: AsyncParallel,
                          args: Dict[str, Any]) -> AsyncResponse:
        """The response to the extension's arguments, the response hooks
        awaited on it; through its Auth flow when it has one."""
        flow = args.pop("_flow", None)
        if flow is not None:
            return await run_flow_async(
                flow, Request._from_args(args),
                lambda q: self._send_built(par, args_of(q, args)))
        sent = args.pop("_request", None)  # send()'s Request
        # Its state comes with it: the block's pending carried it.
        r = await par._submit_args(args).get_response()
        if sent is not None:
            r._extra.request = sent
        for hook in self._hooks["response"]:
            await hook(r)
        return r

    async def send(self, request: Any, *, stream: bool = False,
                   auth: Any = USE_CLIENT_DEFAULT,
                   follow_redirects: Any = USE_CLIENT_DEFAULT
                   ) -> AsyncResponse:
        """httpx's send, awaited: a salvo.Request sent as it is; the event
        hooks are awaited as for request()."""
        for hook in self._hooks["request"]:
            await hook(request)
        return await self._send_built(self._shared(), self._send_args(
            request, stream, auth, follow_redirects))

    def stream(self, method: str, url: Any, **kw: Any) -> "_AStreamed":
        """`async with client.stream("GET", url) as r:` (httpx's): the
        response with its body still to pull, closed at the end."""
        return _AStreamed(self, method, url, kw)

    async def aclose(self) -> None:
        if self._single is not None:
            self._single.close()
            self._single = None
        self._close_native()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


class _AStreamed:
    """The async context manager of AsyncClient.stream."""

    __slots__ = ("_args", "_r")

    def __init__(self, client: AsyncClient, method: str, url: Any,
                 kw: Any) -> None:
        self._args = (client, method, url, kw)
        self._r: Any = None

    async def __aenter__(self) -> AsyncResponse:
        client, method, url, kw = self._args
        self._r = await client.request(method, url, stream=True, **kw)
        return self._r

    async def __aexit__(self, *exc: Any) -> None:
        await self._r.aclose()
