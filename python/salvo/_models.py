"""Responses and headers."""
from __future__ import annotations

import asyncio
import datetime
import json as jsonlib
from typing import AsyncIterator, Iterator, List, Optional, Tuple

from . import _salvo
from ._exceptions import HTTPStatusError, error_for

__all__ = ["Headers", "Response"]

_CHUNK = 65536


class Headers:
    """Response headers: case-insensitive lookups, repeats kept in order."""

    def __init__(self, items: List[Tuple[str, str]]) -> None:
        self._items = items

    def __getitem__(self, name: str) -> str:
        values = self.get_list(name)
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        values = self.get_list(name)
        return ", ".join(values) if values else default

    def get_list(self, name: str) -> List[str]:
        """Every value of `name`, in the order received."""
        lower = name.lower()
        return [v for k, v in self._items if k.lower() == lower]

    def multi_items(self) -> List[Tuple[str, str]]:
        return list(self._items)

    def items(self) -> List[Tuple[str, str]]:
        seen, out = set(), []
        for k, _ in self._items:
            if k.lower() not in seen:
                seen.add(k.lower())
                out.append((k, self[k]))
        return out

    def keys(self) -> List[str]:
        return [k for k, _ in self.items()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.get_list(name))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.items())

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class Response:
    """An HTTP response: status, headers, body.

    A response from a request made with stream=True has its body pulled by
    the caller: read(), stream() (an iterator of chunks), raw(), close().
    """

    def __init__(self, raw: "_salvo.Response", *, streamed: bool = False
                 ) -> None:
        self._raw = raw
        self._streamed = streamed
        self._content: Optional[bytes] = None
        self._headers: Optional[Headers] = None

    @property
    def status_code(self) -> int:
        return self._raw.status

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self._raw.headers)
        return self._headers

    @property
    def url(self) -> str:
        return self._raw.url

    @property
    def http_version(self) -> str:
        v = self._raw.http_version
        return f"HTTP/{v}" if v else ""

    @property
    def elapsed(self) -> datetime.timedelta:
        return datetime.timedelta(seconds=self._raw.elapsed)

    @property
    def key(self) -> Optional[str]:
        return self._raw.key

    @property
    def attempts(self) -> int:
        return self._raw.attempts

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def content(self) -> bytes:
        if self._content is None:
            self._content = self.read()
        return self._content

    @property
    def text(self) -> str:
        if not self._streamed:
            return self._raw.text
        return self.content.decode(self._charset(), errors="replace")

    def _charset(self) -> str:
        ctype = self.headers.get("content-type", "") or ""
        for part in ctype.split(";")[1:]:
            k, _, v = part.strip().partition("=")
            if k.lower() == "charset" and v:
                return v.strip('"')
        return "utf-8"

    def json(self, **kwargs):
        return jsonlib.loads(self.content, **kwargs)

    def raise_for_status(self) -> "Response":
        if 400 <= self.status_code < 600:
            kind = "Client" if self.status_code < 500 else "Server"
            raise HTTPStatusError(
                f"{kind} error '{self.status_code}' for url '{self.url}'",
                code=f"HTTP{self.status_code}", url=self.url, response=self)
        return self

    # ---- the body, pulled -------------------------------------------------

    def _check(self, n):
        if isinstance(n, int):  # a negative salvo error code
            raise error_for(_salvo.errname(n), "reading the body failed",
                            self.url)
        return n

    def read(self) -> bytes:
        """The whole body (what is left of it, for a streamed one)."""
        if self._content is not None:
            return self._content
        if not self._streamed:
            self._content = self._raw.body
            return self._content
        self._content = b"".join(self.stream())
        return self._content

    def stream(self, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        """The body in chunks as they arrive (its memory stays flat)."""
        if not self._streamed:
            yield self.read()
            return
        while True:
            chunk = self._check(self._raw.read(chunk_size, True))
            if not chunk:
                return
            yield chunk

    iter_bytes = stream
    raw = stream

    def close(self) -> None:
        """Abandons the rest of a streamed body (its connection closes)."""
        self._raw.close()

    def __enter__(self) -> "Response":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


class AsyncResponse(Response):
    """A Response whose body methods are coroutines (async-client.md):
    await read(), async for chunk in stream(), await close()."""

    async def read(self) -> bytes:  # type: ignore[override]
        if self._content is not None:
            return self._content
        if not self._streamed:
            self._content = self._raw.body
            return self._content
        parts = [c async for c in self.stream()]
        self._content = b"".join(parts)
        return self._content

    async def stream(  # type: ignore[override]
            self, chunk_size: int = _CHUNK) -> AsyncIterator[bytes]:
        if not self._streamed:
            yield await self.read()
            return
        loop = asyncio.get_running_loop()
        fd = self._raw.read_fd()
        while True:
            chunk = self._raw.read(chunk_size, False)
            if chunk is None:  # nothing yet: wait on the loop
                fut = loop.create_future()
                loop.add_reader(fd, lambda: fut.done() or fut.set_result(None))
                try:
                    await fut
                finally:
                    loop.remove_reader(fd)
                continue
            chunk = self._check(chunk)
            if not chunk:
                return
            yield chunk

    aiter_bytes = stream
    raw = stream  # type: ignore[assignment]

    @property
    def content(self) -> bytes:
        if self._content is None:
            if self._streamed:
                raise RuntimeError("await response.read() first: the body "
                                   "is streamed")
            self._content = self._raw.body
        return self._content

    async def close(self) -> None:  # type: ignore[override]
        self._raw.close()

    async def __aenter__(self) -> "AsyncResponse":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


def wrap(raw, streamed: bool = False, cls=Response) -> Response:
    """A response, or the exception its error means (raised by the
    caller)."""
    if raw.error:
        raise error_for(raw.error_name, raw.error_message, raw.url)
    return cls(raw, streamed=streamed)

