"""The parallel block on an event loop (async-client.md): asyncio or any
loop with add_reader (uvloop). The block's descriptor wakes the loop; no
thread waits."""
from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Deque, Dict, Optional

from . import _salvo
from ._client import Client, _Verbs, build
from ._models import AsyncResponse, wrap

__all__ = ["AsyncClient", "AsyncParallel", "AsyncPending"]


class AsyncPending:
    """A submitted request. `await pending.get_response()` waits for its
    response; `await pending` returns the pending itself, so that
    `await parallel.get(url)` (as the reference writes it) works too."""

    __slots__ = ("_parallel", "_id", "_stream", "_outcome")

    def __init__(self, parallel: "AsyncParallel", id_: int,
                 stream: bool) -> None:
        self._parallel = parallel
        self._id = id_
        self._stream = stream
        self._outcome: Any = None

    def __await__(self):
        return self._self().__await__()

    async def _self(self) -> "AsyncPending":
        return self

    async def get_response(self) -> AsyncResponse:
        if self._outcome is None:
            raw = await self._parallel._wait(self._id)
            self._parallel._settle(self, raw)
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome

    def cancel(self) -> None:
        """Cancels the request (its response then raises CancelledError)."""
        if self._outcome is None and self._parallel._b is not None:
            self._parallel._b.cancel(self._id)


class AsyncParallel(_Verbs):
    """`async with client.parallel() as parallel:` submit with get/post/...
    (no await needed), collect with `await pending.get_response()` or
    `await parallel.next_response()`. Leaving the block cancels what is
    still pending. A block belongs to the event loop that opened it."""

    def __init__(self, client: Optional[Client]) -> None:
        self._client = client
        self._b: Optional[_salvo.Batch] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._fd = -1
        self._ready: Dict[int, Any] = {}  # collected, not yet claimed
        self._by_id: Dict[int, asyncio.Future] = {}
        self._next: Deque[asyncio.Future] = deque()
        self._pending: Dict[int, AsyncPending] = {}

    async def __aenter__(self) -> "AsyncParallel":
        self._open()
        return self

    def _open(self) -> None:
        self._b = _salvo.Batch(self._client._native() if self._client
                               else None)
        self._loop = asyncio.get_running_loop()
        self._fd = self._b.fd()
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
        for fut in list(self._by_id.values()) + list(self._next):
            if not fut.done():
                fut.cancel()
        self._by_id.clear()
        self._next.clear()

    def _on_ready(self) -> None:
        """The loop saw the descriptor readable: hand out what is ready."""
        while self._b is not None:
            raw = self._b.poll()
            if raw is None:
                return
            fut = self._by_id.pop(raw.id, None)
            while fut is None and self._next:
                cand = self._next.popleft()
                if not cand.done():
                    fut = cand
            if fut is not None and not fut.done():
                fut.set_result(raw)
            else:
                self._ready[raw.id] = raw

    async def _wait(self, id_: Optional[int]) -> Any:
        """The raw response of id_ (None: the next to complete)."""
        if self._b is None:
            raise RuntimeError("the parallel block is closed")
        if id_ is not None and id_ in self._ready:
            return self._ready.pop(id_)
        if id_ is None and self._ready:
            first = next(iter(self._ready))
            return self._ready.pop(first)
        fut = self._loop.create_future()
        if id_ is None:
            self._next.append(fut)
        else:
            self._by_id[id_] = fut
        try:
            return await fut
        except asyncio.CancelledError:
            # The task was cancelled, not the request: if its response
            # arrived meanwhile it stays for a later collection.
            if id_ is not None:
                self._by_id.pop(id_, None)
            if fut.done() and not fut.cancelled():
                raw = fut.result()
                self._ready[raw.id] = raw
            raise

    def _settle(self, p: AsyncPending, raw: Any) -> None:
        self._pending.pop(p._id, None)
        try:
            p._outcome = wrap(raw, p._stream, AsyncResponse)
        except Exception as e:
            p._outcome = e

    def request(self, method: str, url: str, **kwargs: Any) -> AsyncPending:
        if self._b is None:
            raise RuntimeError("the parallel block is closed")
        pid = self._b.submit(**build(method, url, **kwargs))
        p = AsyncPending(self, pid, kwargs.get("stream", False))
        self._pending[pid] = p
        return p


    async def next_response(self) -> AsyncResponse:
        """The next response to complete; raises its error if it failed."""
        if not self.has_pending_responses:
            raise RuntimeError("no pending responses")
        raw = await self._wait(None)
        p = self._pending.get(raw.id) or AsyncPending(self, raw.id, False)
        self._settle(p, raw)
        return await p.get_response()

    @property
    def has_pending_responses(self) -> bool:
        return self._b is not None and (self._b.pending > 0 or
                                        bool(self._ready))


class AsyncClient(Client):
    """As Client, for event loops: `async with client.parallel()`, and
    `await client.get(url)` (usable with asyncio.gather)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._async_single: Optional[AsyncParallel] = None

    def parallel(self) -> AsyncParallel:  # type: ignore[override]
        return AsyncParallel(self)

    def _async_shared(self) -> AsyncParallel:
        loop = asyncio.get_running_loop()
        par = self._async_single
        if par is None or par._loop is not loop or par._b is None:
            par = self._async_single = AsyncParallel(self)
            par._open()
        return par

    async def request(self, method: str, url: str,  # type: ignore[override]
                      **kw: Any) -> AsyncResponse:
        return await self._async_shared().request(method, url,
                                                  **kw).get_response()


    async def aclose(self) -> None:
        if self._async_single is not None:
            self._async_single.close()
            self._async_single = None
        self.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
