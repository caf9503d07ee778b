"""The loops that run an Auth flow (_auth.py): for single requests, sync
and async, each request the flow yields sent and each response given
back to it; and a parallel block's, whose flow runs to its first request
(the block collects responses in C). libsalvo sends what a flow
yields."""
from __future__ import annotations

from ._models import Request, _state

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    from typing import Any, Awaitable, Callable, Dict, List

__all__ = ["args_of", "first_request", "run_flow", "run_flow_async"]


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
    none = [h for h in base.get("headers") or ()
            if not h.split(":", 1)[1].strip()
            and h.split(":", 1)[0].strip().lower() not in named]
    out = dict(base)
    out.update(method=request.method, url=str(request.url), params=None,
               headers=[f"{k}: {v}" for k, v in own] + none or None,
               body=request.content or None)
    return out


def first_request(auth: Any, request: Any) -> Any:
    """The request a flow sends first (a parallel block's requests, which
    are collected in C: the flow does not see their responses)."""
    flow = auth.sync_auth_flow(request)
    try:
        return next(flow)
    finally:
        flow.close()


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
