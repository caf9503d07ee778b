"""The loops that run an Auth flow (_auth.py): for single requests, sync
and async, each request the flow yields sent and each response given
back to it; and a parallel block's, whose flow runs to its first request
(the block collects responses in C). libsalvo sends what a flow
yields."""
from __future__ import annotations

import time

from ._fields import _line, _unline
from ._models import Request, _state

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    from typing import Any, Awaitable, Callable, Dict, List

__all__ = ["Flow", "FlowPending", "args_of", "next_with_flows",
           "run_flow", "run_flow_async"]


def args_of(request: Any, base: Dict[str, Any]) -> Dict[str, Any]:
    """The extension's arguments for a request a flow yielded: base's
    (timeout, key, stream...) with the request's method, URL, headers and
    body."""
    if not isinstance(request, Request):
        raise TypeError(f"an Auth flow must yield a salvo.Request, not "
                        f"{type(request).__name__}")
    own = request.headers._raw_str()
    named = {k.lower() for k, _ in own}
    # base's "Name:" (libsalvo sends no such header) a Request cannot show
    none = [_line(k, v) for k, v in map(_unline, base.get("headers") or ())
            if not v and k.lower() not in named]
    out = dict(base)
    out.update(method=request.method, url=str(request.url), params=None,
               headers=[_line(k, v) for k, v in own] + none or None,
               body=request.content or None)
    return out


def _end(timeout: Any) -> Any:
    """When a wait of timeout seconds (None: no limit) ends."""
    return None if timeout is None else time.monotonic() + timeout


def _left(end: Any) -> Any:
    """The seconds left until end (None: no limit)."""
    return None if end is None else max(0.0, end - time.monotonic())


def _drain(r: Any) -> None:
    """A response the flow answered, done with: a streamed body read (the
    history keeps it, as httpx's), or abandoned where reading it would
    need an await (a block on an event loop)."""
    if not r._streamed or r._content is not None:
        return
    if type(r).read is getattr(type(r), "aread", None):
        r._close()
        r._ended()
    else:
        r.read()


def _keep_history(r: Any, history: List[Any]) -> None:
    if history:
        _state(r).before = list(history)


def run_flow(auth: Any, request: Any, send: Callable[[Any], Any]) -> Any:
    """The last response of auth's flow for request, each request it
    yields sent with send; the responses before it read and in its
    history (as httpx keeps them)."""
    flow = auth.sync_auth_flow(request)
    history: List[Any] = []
    try:
        request = next(flow)
        while True:
            r = send(request)
            try:
                request = flow.send(r)
            except StopIteration:
                _keep_history(r, history)
                return r
            r.read()
            _keep_history(r, history)
            history.append(r)
    finally:
        flow.close()


async def run_flow_async(auth: Any, request: Any,
                         send: Callable[[Any], Awaitable[Any]]) -> Any:
    """run_flow on an event loop: the flow's async form, send awaited."""
    flow = auth.async_auth_flow(request)
    history: List[Any] = []
    try:
        request = await flow.__anext__()
        while True:
            r = await send(request)
            try:
                request = await flow.asend(r)
            except StopAsyncIteration:
                _keep_history(r, history)
                return r
            await r.aread()
            _keep_history(r, history)
            history.append(r)
    finally:
        await flow.aclose()


class Flow:
    """An Auth flow over a block's requests: each request it yields is
    submitted with submit(args) (the block's: an id, or a Pending), and
    each response the block collects for the current one goes back to
    it by took(), until it ends with its last."""

    __slots__ = ("_flow", "_args", "_submit", "current", "sent", "_history",
                 "final")

    def __init__(self, auth: Any, args: Dict[str, Any],
                 submit: Callable[[Dict[str, Any]], Any]) -> None:
        self._args, self._submit = args, submit
        self._history: List[Any] = []
        self.final: Any = None
        self._flow = auth.sync_auth_flow(Request._from_args(args))
        try:
            self._send(next(self._flow))
        except BaseException:
            self._flow.close()
            raise

    def _send(self, request: Any) -> None:
        self.sent = args_of(request, self._args)  # the current's arguments
        self.current = self._submit(self.sent)

    def took(self, r: Any) -> bool:
        """r, the current request's response (not an error), given to the
        flow: True when it is the last (then final), False when the flow
        sent another (then current)."""
        try:
            nxt = self._flow.send(r)
        except StopIteration:
            _keep_history(r, self._history)
            self.final = r
            return True
        except BaseException:
            self._flow.close()
            raise
        _drain(r)
        _keep_history(r, self._history)
        self._history.append(r)
        self._send(nxt)
        return False

    def failed(self) -> None:
        """The current request failed (its error is the outcome): the
        flow ends."""
        self._flow.close()


class FlowPending:
    """A sync block's request whose Auth flow sees its responses (a
    DigestAuth's 401 answered in the block): the flow goes on as the
    block's calls collect them, by get_response() or next_response().
    live maps the current request's id to it, for next_response."""

    __slots__ = ("_f", "_live")

    def __init__(self, auth: Any, args: Dict[str, Any],
                 submit: Callable[[Dict[str, Any]], Any],
                 live: Dict[int, "FlowPending"]) -> None:
        self._live = live
        self._f = Flow(auth, args, submit)
        live[self._f.current._id] = self

    def _took(self, r: Any) -> bool:
        self._live.pop(self._f.current._id, None)
        done = self._f.took(r)
        if not done:
            self._live[self._f.current._id] = self
        return done

    def _failed(self) -> None:
        self._live.pop(self._f.current._id, None)
        self._f.failed()

    def get_response(self, timeout: Any = None) -> Any:
        """The flow's last response (its history the ones before), or the
        error of the request that failed; TimeoutError when timeout
        seconds pass first."""
        end = _end(timeout)
        while self._f.final is None:
            left = _left(end)
            try:
                r = self._f.current.get_response(left)
            except TimeoutError:
                raise
            except BaseException:
                self._failed()
                raise
            self._took(r)
        return self._f.final

    def cancel(self) -> None:
        """Cancels the request the flow is waiting on, and the flow."""
        self._f.current.cancel()
        self._failed()


def next_with_flows(native_next: Callable[[Any], Any],
                    live: Dict[int, FlowPending], timeout: Any = None) -> Any:
    """A block's next_response when it has flows: a response a flow goes
    on from is not the caller's; the one it ends with is."""
    end = _end(timeout)
    while True:
        left = _left(end)
        r = native_next(left)
        fp = live.get(r._id)
        if fp is None or fp._took(r):
            return r
