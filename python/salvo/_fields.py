"""A header field's name or value as the Python layer keeps it: text, and
the bytes it is sent as or came as. A str is sent as UTF-8; bytes that
are UTF-8 are read as it; bytes that are not (obs-text, RFC 9110 5.5)
are kept beside the Latin-1 text httpx reads them as, and sent as they
came. Shared by Headers (_models), the request builder (_args) and the
flows, which turn pairs into the extension's lines and back."""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    from typing import Any, Tuple


class _Obs(str):
    """A header name or value whose bytes are not UTF-8 (obs-text, RFC
    9110 5.5): its text as read (Latin-1, one character a byte, as httpx
    reads it, unless the caller set another encoding), and its bytes,
    which are sent and given as raw."""

    raw: bytes


def _obs(text: str, raw: bytes) -> str:
    o = _Obs(text)
    o.raw = raw
    return o


def _text(v: Any, what: str = "a header name or value") -> str:
    """A header name or value as Headers keeps it: a str as given; bytes
    as their text when they are UTF-8, else as _Obs."""
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return _obs(v.decode("latin-1"), v)
    raise TypeError(f"{what} must be str or bytes, not {type(v).__name__}")


def _bytes(v: str) -> bytes:
    """The bytes of a header name or value: _Obs's own, a str's UTF-8."""
    return v.raw if type(v) is _Obs else v.encode("utf-8")


def _unline(h: Any) -> Tuple[str, str]:
    """(name, value) of a _line, each without its outer whitespace."""
    if isinstance(h, bytes):
        k, v = h.split(b":", 1)
        return _text(k.strip()), _text(v.strip(b" \t"))
    k, v = h.split(":", 1)
    return k.strip(), v.strip()


def _joined(v: str, more: str) -> str:
    """v without its outer whitespace, then more; v's own bytes kept when
    it is _Obs."""
    if type(v) is _Obs:
        raw = v.raw.strip(b" \t")
        return _obs(raw.decode("latin-1") + more, raw + more.encode("utf-8"))
    return v.strip() + more


def _line(k: str, v: str) -> Any:
    """The extension's header line: bytes when a part is _Obs, so that
    those go as given."""
    if type(k) is _Obs or type(v) is _Obs:
        return _bytes(k) + b": " + _bytes(v)
    return f"{k}: {v}"
