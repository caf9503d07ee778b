"""A body's bytes in the chunks a caller asks for, and its text in
lines: the pieces Response and AsyncResponse iterate with."""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only
    from typing import Any, Iterator, List, Optional

_CHUNK = 65536


def _chunk_size(size: Any) -> Optional[int]:
    """chunk_size as httpx takes it: None (the pieces as they come) or a
    positive int. Anything else is refused, never looped on."""
    if size is None:
        return None
    if not isinstance(size, int) or isinstance(size, bool):
        raise TypeError(f"chunk_size must be a positive int or None, not "
                        f"{type(size).__name__}")
    if size <= 0:
        raise ValueError(f"chunk_size must be positive, not {size}")
    return size


def _read_size(size: Optional[int]) -> int:
    """What one read of a streamed body asks for: at most _CHUNK, so that
    a large chunk_size costs only the bytes that came."""
    return min(size, _CHUNK) if size else _CHUNK


class _Chunker:
    """Pieces into chunks of exactly `size` bytes (the last may be
    shorter), or as they come when size is None; never an empty one.
    Each byte is copied once into the buffer and once out."""

    __slots__ = ("size", "buf")

    def __init__(self, size: Optional[int]) -> None:
        self.size = size
        self.buf = bytearray()

    def feed(self, piece: bytes) -> Iterator[bytes]:
        if self.size is None:
            if piece:
                yield piece
            return
        buf, size = self.buf, self.size
        buf += piece
        n = len(buf) - len(buf) % size
        if not n:
            return
        with memoryview(buf) as mv:
            out = [bytes(mv[i:i + size]) for i in range(0, n, size)]
        del buf[:n]
        yield from out

    def flush(self) -> Iterator[bytes]:
        if self.buf:
            yield bytes(self.buf)
            self.buf = bytearray()


class _TextChunker:
    """Text into chunks of exactly `size` characters (the last may be
    shorter), as httpx's iter_text(chunk_size) gives them, or as it comes
    when size is None; never an empty one."""

    __slots__ = ("size", "buf")

    def __init__(self, size: Optional[int]) -> None:
        self.size = _chunk_size(size)
        self.buf = ""

    def feed(self, text: str) -> List[str]:
        if self.size is None:
            return [text] if text else []
        buf, size = self.buf + text, self.size
        n = len(buf) - len(buf) % size
        self.buf = buf[n:]
        return [buf[i:i + size] for i in range(0, n, size)]

    def flush(self) -> List[str]:
        rest, self.buf = self.buf, ""
        return [rest] if rest else []


def _slices(content: bytes, size: Optional[int]) -> Iterator[bytes]:
    """A body read whole, in chunks of `size` bytes (or as one)."""
    if not content:
        return
    if size is None:
        yield content
        return
    for i in range(0, len(content), size):
        yield content[i:i + size]


class _LineDecoder:
    """Lines from text pieces as str.splitlines() finds them (httpx's
    rule: \\n, \\r\\n, \\r and the other Unicode line boundaries),
    without their endings; a \\r at a piece's end waits for a \\n."""

    def __init__(self) -> None:
        self.buf = ""

    def decode(self, text: str) -> List[str]:
        lines = (self.buf + text).splitlines(keepends=True)
        self.buf = ""
        # The last line waits when not ended yet, or ended by a \r that a
        # \n may follow.
        if lines and (lines[-1].endswith("\r") or
                      lines[-1].splitlines()[0] == lines[-1]):
            self.buf = lines.pop()
        return [ln.splitlines()[0] for ln in lines]

    def flush(self) -> List[str]:
        rest, self.buf = self.buf, ""
        return [rest.splitlines()[0]] if rest else []
