"""A query parameter's value as httpx writes it, and a list of values as
one pair each: shared by the request builder (_args) and the URL types
(_urls), which the builder imports only when a URL already has a
query."""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    from typing import Any, Iterable, Iterator, Tuple


def _param_value(v: Any) -> str:
    """A query value (or a form field's) as httpx writes it: str, int,
    float, bool ("true", "false") or None (empty: "name=")."""
    if v is None:
        return ""
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, (str, int, float)):
        return str(v)
    raise TypeError(f"a query parameter value must be str, int, float, bool "
                    f"or None, not {type(v).__name__}")


def _each(pairs: Iterable[Tuple[Any, Any]]) -> Iterator[Tuple[Any, Any]]:
    """(name, value) for each value of pairs, a list or tuple standing for
    one pair per item, as httpx takes params and form fields."""
    for k, v in pairs:
        for one in (v if isinstance(v, (list, tuple)) else [v]):
            yield k, one
