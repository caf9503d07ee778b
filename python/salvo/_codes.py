"""httpx's codes: the HTTP status codes by name, as an IntEnum, with
lower-case aliases (codes.not_found), each code's phrase, and the
class checks httpx gives it (codes.is_error(404))."""
from __future__ import annotations

import enum
from http import HTTPStatus

__all__ = ["codes"]


class _Codes(enum.IntEnum):
    """Status codes: `codes.NOT_FOUND == 404`, `codes(404).phrase`,
    `codes.get_reason_phrase(404)`, `codes.is_client_error(404)`; the
    names and phrases of Python's http.HTTPStatus (httpx's own)."""

    def __new__(cls, value: int, phrase: str = "") -> "_Codes":
        obj = int.__new__(cls, value)
        obj._value_ = value
        obj.phrase = phrase  # type: ignore[attr-defined]
        return obj

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def get_reason_phrase(cls, value: int) -> str:
        try:
            return cls(value).phrase  # type: ignore[attr-defined]
        except ValueError:
            return ""

    # The class checks, by range (httpx's): codes.is_error(404).
    is_informational = classmethod(lambda cls, v: 100 <= v <= 199)
    is_success = classmethod(lambda cls, v: 200 <= v <= 299)
    is_redirect = classmethod(lambda cls, v: 300 <= v <= 399)
    is_client_error = classmethod(lambda cls, v: 400 <= v <= 499)
    is_server_error = classmethod(lambda cls, v: 500 <= v <= 599)
    is_error = classmethod(lambda cls, v: 400 <= v <= 599)


# The members: the standard library's names and phrases (httpx's list).
codes = _Codes("codes", [(s.name, (s.value, s.phrase)) for s in HTTPStatus],
               module=__name__)
codes.__doc__ = _Codes.__doc__


# codes.ok, codes.not_found: plain ints, as httpx has them.
for _c in codes:
    setattr(codes, _c.name.lower(), int(_c))
del _c
