"""Responses and headers."""
from __future__ import annotations

import codecs

from . import _salvo
from ._exceptions import HTTPStatusError, error_for

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    import datetime
    from typing import AsyncIterator, Iterator, List, Optional, Tuple

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
        """Every (name, value) in the order received, names in lower case
        (as httpx gives them); repeats stay apart."""
        return [(k.lower(), v) for k, v in self._items]

    def items(self) -> List[Tuple[str, str]]:
        """(name, value) per name, lower case, a repeated name's values
        joined with ", " (as httpx gives them)."""
        seen, out = set(), []
        for k, _ in self._items:
            if k.lower() not in seen:
                seen.add(k.lower())
                out.append((k.lower(), self[k]))
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


class ResponseCore(_salvo.Response):
    """What Response and AsyncResponse share: status, headers, text, JSON,
    the status check. status_code, content, url, key and attempts are read
    in C (the extension's Response, which this extends); a response is
    made by a block, never by its caller. How a streamed body is pulled
    (iterated or awaited) is the subclasses'."""

    __slots__ = ()

    @property
    def headers(self) -> Headers:
        h = self._headers
        if h is None:
            h = self._headers = Headers(self._header_list)
        return h

    @property
    def http_version(self) -> str:
        v = self._http_version
        return f"HTTP/{v}" if v else ""

    @property
    def elapsed(self) -> datetime.timedelta:
        import datetime
        return datetime.timedelta(seconds=self._elapsed)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        if not self._streamed:
            return self._text  # decoded by libsalvo, from its charset
        return self.content.decode(self._charset(), errors="replace")

    def _charset(self) -> str:
        """The charset of Content-Type when Python knows it, else UTF-8
        (as httpx falls back), so that text never raises LookupError."""
        ctype = self.headers.get("content-type", "") or ""
        for part in ctype.split(";")[1:]:
            k, _, v = part.strip().partition("=")
            if k.lower() == "charset" and v:
                try:
                    return codecs.lookup(v.strip('"')).name
                except LookupError:
                    break
        return "utf-8"

    def json(self, **kwargs):
        import json  # imported when first used: 16 ms
        return json.loads(self.content, **kwargs)

    def raise_for_status(self) -> "Response":
        if 400 <= self.status_code < 600:
            kind = "Client" if self.status_code < 500 else "Server"
            raise HTTPStatusError(
                f"{kind} error '{self.status_code}' for url '{self.url}'",
                code=f"HTTP{self.status_code}", url=self.url, response=self)
        return self

    def _check(self, n):
        if isinstance(n, int):  # a negative salvo error code
            raise error_for(_salvo.errname(n), "reading the body failed",
                            self.url)
        return n

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


class Response(ResponseCore):
    """An HTTP response. One from a request made with stream=True has its
    body pulled by the caller: read(), stream() (an iterator of chunks),
    close()."""

    __slots__ = ()

    def _read_stream(self) -> bytes:
        """What `content` reads for a streamed body: all of it."""
        return b"".join(self.stream())

    def read(self) -> bytes:
        """The whole body (what is left of it, for a streamed one)."""
        return self.content

    def stream(self, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        """The body in chunks as they arrive (its memory stays flat)."""
        if not self._streamed or self._content is not None:
            yield self.content
            return
        while True:
            chunk = self._check(self._read(chunk_size, True))
            if not chunk:
                return
            yield chunk

    iter_bytes = stream
    raw = stream

    def close(self) -> None:
        """Abandons the rest of a streamed body (its connection closes)."""
        self._close()

    def __enter__(self) -> "Response":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class AsyncResponse(ResponseCore):
    """A response whose body methods are coroutines (async-client.md):
    await read(), async for chunk in stream(), await close(); aread,
    aiter_bytes and aclose are the same, by httpx's names."""

    __slots__ = ()

    def _read_stream(self) -> bytes:
        raise RuntimeError("await response.read() first: the body is "
                           "streamed")

    async def read(self) -> bytes:
        if not self._streamed or self._content is not None:
            return self.content
        parts = [c async for c in self.stream()]
        self._content = b"".join(parts)
        return self._content

    async def stream(self,
                     chunk_size: int = _CHUNK) -> AsyncIterator[bytes]:
        if not self._streamed or self._content is not None:
            yield self.content
            return
        import asyncio  # loaded already: this runs on its loop
        loop = asyncio.get_running_loop()
        fd = self._read_fd()
        while True:
            chunk = self._read(chunk_size, False)
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

    aread = read
    aiter_bytes = stream
    raw = stream

    async def close(self) -> None:
        self._close()

    aclose = close

    async def __aenter__(self) -> "AsyncResponse":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


def outcome(raw: ResponseCore) -> ResponseCore:
    """A collected response, or the exception its error means raised."""
    if raw._error:
        raise error_for(raw._error_name, raw._error_message, raw.url)
    return raw


_salvo.set_error_factory(error_for)
