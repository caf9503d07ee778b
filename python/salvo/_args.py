"""A request's arguments, checked and converted for the extension, with
no I/O (as h11 keeps protocol apart from it): headers and params as
lists, bodies as bytes (JSON, forms, multipart files), cookies and
credentials as fields, timeouts as seconds. build() makes the keywords of
_salvo.Parallel._submit; Client, AsyncClient, blocks and the one-call
form all go through it."""
from __future__ import annotations

from collections.abc import Mapping

from ._auth import basic_auth_value, is_flow
from ._fields import _joined, _line, _text
from ._params import _each, _param_value

# typing costs 18 ms of import (measured) that no caller needs at run
# time: the names are for the checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (Any, Dict, Iterator, List, Optional, Sequence,
                        Tuple, Union)
    HeaderTypes = Union[Mapping[str, str], Sequence[Tuple[str, str]], None]
    ParamTypes = Union[Mapping[str, Any], Sequence[Tuple[str, Any]], None]


def _pairs(obj: Any, what: str) -> Iterator[Tuple[Any, Any]]:
    """(name, value) pairs of a mapping or a sequence of pairs, as httpx
    takes headers and params; a string, or an item that is not a pair,
    is a TypeError naming `what`."""
    if isinstance(obj, (str, bytes)) or not (
            isinstance(obj, Mapping) or hasattr(obj, "__iter__")):
        raise TypeError(f"{what} must be a mapping or a sequence of "
                        f"(name, value) pairs, not {type(obj).__name__}")
    for item in obj.items() if isinstance(obj, Mapping) else obj:
        try:
            k, v = item
        except (TypeError, ValueError):
            raise TypeError(f"{what} must be a mapping or a sequence of "
                            "(name, value) pairs") from None
        yield k, v


def _header_pairs(headers: HeaderTypes) -> List[Tuple[str, str]]:
    """(name, value) pairs of headers as httpx takes them, each a str."""
    if headers is None:  # (most requests: no _pairs' checks)
        return []
    return [(_text(k, "a header name"), _text(v, "a header value"))
            for k, v in _pairs(headers, "headers")]


def _header_list(headers: HeaderTypes) -> Optional[List[str]]:
    if headers is None:
        return None
    return [_line(k, v) for k, v in _header_pairs(headers)] or None


def _param_list(params: ParamTypes) -> Optional[List[Tuple[str, Any]]]:
    """(name, value) pairs; a value None sends "name=" (as httpx), a
    list sends the name once per item."""
    if params is None:
        return None
    if isinstance(params, (str, bytes)):  # a query, as httpx takes it
        from urllib.parse import parse_qsl
        q = params.decode("utf-8", "strict") if isinstance(params, bytes) \
            else params
        params = parse_qsl(q.lstrip("?"), keep_blank_values=True)
    out: List[Tuple[str, Any]] = []
    for k, one in _each(_pairs(params, "params")):
        if not isinstance(k, str):
            raise TypeError(f"a query parameter name must be str, not "
                            f"{type(k).__name__}")
        out.append((k, _param_value(one)))
    return out or None


def _json_bytes(value: Any) -> bytes:
    """A json= body, a request's or a made response's: compact UTF-8."""
    import json as jsonlib  # imported when first used: 16 ms
    return jsonlib.dumps(value, separators=(",", ":")).encode()


def _bytes(v: Any, what: str) -> bytes:
    """A body given as str (UTF-8) or bytes-like; nothing else, so that an
    int never becomes that many NUL bytes."""
    if isinstance(v, str):
        return v.encode()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    raise TypeError(f"{what} must be str or bytes, not {type(v).__name__}")


def _piece(p: Any) -> bytes:
    """One piece of an iterable content=: bytes-like only, as httpx's."""
    if isinstance(p, (bytes, bytearray, memoryview)):
        return bytes(p)
    raise TypeError(f"content's pieces must be bytes, not {type(p).__name__}")


def _content(v: Any) -> bytes:
    """A request's content=, as httpx takes it: str (UTF-8), bytes-like,
    a file opened for bytes (read from where it stands), or an iterable
    of bytes. Read whole here: libsalvo sends a body with its length
    (where httpx sends an iterable's chunked)."""
    if isinstance(v, (str, bytes, bytearray, memoryview)):
        return _bytes(v, "content")
    if hasattr(v, "read"):
        data = v.read()
        if not isinstance(data, bytes):
            raise TypeError(f"content: a file must be opened for bytes "
                            f"('rb'); its read() gave {type(data).__name__}")
        return data
    if hasattr(v, "__aiter__") and not hasattr(v, "__iter__"):
        raise TypeError("content: an async iterable is read by "
                        "AsyncClient's request() and stream() only")
    if hasattr(v, "__iter__") and not isinstance(v, Mapping):
        return b"".join(_piece(p) for p in v)
    raise TypeError(f"content must be str, bytes, a file or an iterable of "
                    f"bytes, not {type(v).__name__}")


async def read_async_content(kw: Dict[str, Any]) -> None:
    """An async iterable content= in kw read into bytes, for
    AsyncClient (its pieces checked as _content's)."""
    c = kw.get("content")
    if c is not None and hasattr(c, "__aiter__"):
        kw["content"] = b"".join([_piece(p) async for p in c])


class _UseClientDefault:
    """httpx's USE_CLIENT_DEFAULT: an argument left to the client (where
    None means "no limit")."""

    def __repr__(self) -> str:
        return "USE_CLIENT_DEFAULT"


USE_CLIENT_DEFAULT: Any = _UseClientDefault()


def _timeout(v: Any) -> Optional[float]:
    """A request's limit per attempt: seconds, None, or an httpx-style
    Timeout (its read/write/pool limit; a connect limit of its own is the
    client's to set)."""
    if v is None:
        return None
    if hasattr(v, "_attempt") and hasattr(v, "connect"):  # a Timeout
        t = v._attempt()
        if v.connect is not None and v.connect != t:
            raise ValueError("a connect timeout per request, or set on a "
                             "client after it was made, is not supported: "
                             "give Timeout(connect=...) when making the "
                             "client")
        return t
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, a Timeout or "
                        f"None, not {type(v).__name__}")
    return float(v)


def _form_param(v: Any) -> str:
    """A field's name or a filename inside its quotes, as HTML5 (and
    httpx) write it: a quote %22, a backslash doubled, and each control
    but ESC as %XX, so that no name can end the quotes or the line."""
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    return "".join(
        "%22" if c == '"' else "\\\\" if c == "\\" else
        f"%{ord(c):02X}" if ord(c) < 0x20 and c != "\x1b" else c
        for c in str(v))


def _file_field(f: Any) -> Tuple[Any, Any, Any, Any]:
    """(filename, content, content type, headers) of one files= value,
    as httpx reads it: a file, bytes or str, or a tuple (filename,
    content[, content_type[, headers]]); the type guessed from the
    filename when not given, none for a filename None."""
    import os
    ctype, extra = None, {}
    if isinstance(f, tuple):
        if not 2 <= len(f) <= 4:
            raise TypeError("files: a tuple is (filename, content[, "
                            "content_type[, headers]])")
        ctype = f[2] if len(f) > 2 else None
        extra = f[3] if len(f) > 3 else {}
        filename, f = f[0], f[1]
    else:
        filename = os.path.basename(str(getattr(f, "name", "upload")))
    if ctype is None and filename:
        import mimetypes
        ctype = mimetypes.guess_type(str(filename))[0] or \
            "application/octet-stream"
    return filename, f, ctype, extra


def _multipart(data: Any, files: Any) -> Tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578) of form fields and files, as
    httpx encodes `files=` (_file_field's), names and filenames escaped
    as _form_param writes them."""
    import os
    boundary = os.urandom(16).hex()
    out = []
    items = files.items() if isinstance(files, Mapping) else files
    for name, one in _each(data.items() if isinstance(data, Mapping) else ()):
        value = one if isinstance(one, bytes) else _param_value(one)
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; '
                   f'name="{_form_param(name)}"\r\n\r\n'.encode() +
                   _bytes(value, "a form field") + b"\r\n")
    for name, f in items:
        filename, f, ctype, extra = _file_field(f)
        head = f'Content-Disposition: form-data; name="{_form_param(name)}"'
        if filename is not None:
            head += f'; filename="{_form_param(filename)}"'
        fields = dict(extra)
        if ctype is not None and not any(
                k.lower() == "content-type" for k in fields):
            fields["Content-Type"] = ctype
        for k, v in fields.items():
            if any(c in f"{k}{v}" for c in "\r\n\0"):
                raise ValueError(f"files: the headers of {name!r} must be "
                                 f"str without CR, LF or NUL")
            head += f"\r\n{k}: {v}"
        content = f.read() if hasattr(f, "read") else f
        out.append(f"--{boundary}\r\n{head}\r\n\r\n".encode() +
                   _bytes(content, "a file's content") + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def _two_bodies(content: Any, json: Any, data: Any, files: Any) -> None:
    """Refuses a request given more than one body (httpx sends one of
    them and drops the others without a word)."""
    given = [n for n, v in (("content", content), ("json", json),
                            ("data", data), ("files", files))
             if v is not None]
    raise TypeError(f"a request takes one body: {', '.join(given)} were "
                    f"given (files= takes its form fields as data=)")


def build(method: str, url: Any, *, params: ParamTypes = None,
          headers: HeaderTypes = None, cookies: Any = None, auth: Any = None,
          json: Any = None, data: Any = None,
          content: Union[bytes, str, None] = None, files: Any = None,
          timeout: Any = USE_CLIENT_DEFAULT,
          follow_redirects: Optional[bool] = None,
          extensions: Optional[Dict[str, Any]] = None, stream: bool = False,
          key: Optional[str] = None, max_retries: Optional[int] = None,
          idempotent: bool = False, **unknown: Any) -> Dict[str, Any]:
    """The arguments of _salvo.Parallel._submit for one request, from
    httpx's request arguments (and salvo's key, max_retries,
    idempotent)."""
    if unknown:  # named as the caller's call, not as this function
        raise TypeError(f"a request takes no argument "
                        f"{', '.join(map(repr, sorted(unknown)))}")
    if not isinstance(method, str):
        raise TypeError(f"method must be str, not {type(method).__name__}")
    if extensions:
        raise ValueError(f"request extensions are not supported "
                         f"({', '.join(sorted(extensions))})")
    if ((content is not None) + (json is not None) +
            (data is not None or files is not None) > 1):
        _two_bodies(content, json, data, files)
    pairs = _header_pairs(headers)
    body: Optional[bytes] = None
    names = {k.lower() for k, _ in pairs}
    ctype = None
    if files is not None:
        body, ctype = _multipart(data or {}, files)
    elif json is not None:
        body, ctype = _json_bytes(json), "application/json"
    elif data is not None:
        if isinstance(data, Mapping):
            from urllib.parse import urlencode
            # Each value as httpx writes it: True "true", None "".
            body = urlencode([(k, _param_value(one))
                              for k, one in _each(data.items())]).encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            body = _bytes(data, "data (a dict of form fields, str or bytes)")
    elif content is not None:
        body = _content(content)
    if ctype and "content-type" not in names:
        pairs.append(("Content-Type", ctype))
    if cookies:
        from ._cookies import Cookies
        value = Cookies(cookies)._header_value()
        mine = [p for p in pairs if p[0].lower() == "cookie"]
        if mine:  # one Cookie field (RFC 6265 5.4): the caller's first
            pairs.remove(mine[0])
            value = _joined(mine[0][1], "; " + value)
        pairs.append(("Cookie", value))
    if auth is not None and not callable(auth) and not is_flow(auth):
        pairs = [p for p in pairs if p[0].lower() != "authorization"]
        pairs.append(("Authorization", basic_auth_value(auth)))
    hdrs = [_line(k, v) for k, v in pairs]
    # The extension's timeout: 0 the client's, negative none (None, as
    # httpx), else seconds.
    t = 0.0 if timeout is USE_CLIENT_DEFAULT else _timeout(timeout)
    t = -1.0 if t is None else t
    url = url if isinstance(url, str) else str(url)
    plist = _param_list(params)
    if plist and "?" in url:
        # As httpx: the params replace the URL's own of the same name.
        from ._urls import with_params
        url = with_params(url, plist)
        plist = None
    out = {"method": method.upper(), "url": url, "params": plist,
           "headers": hdrs or None, "body": body,
           "timeout": t, "key": key, "stream": bool(stream)}
    if follow_redirects is not None:
        out["follow_redirects"] = bool(follow_redirects)
    if max_retries is not None:
        out["max_retries"] = max_retries
    if idempotent:
        out["idempotent"] = True
    return out


def response_parts(headers: Any, content: Any, text: Any, html: Any,
                   json: Any) -> Tuple[List[str], bytes]:
    """A response made by hand (salvo.Response(...)): its header lines
    and body, as httpx makes them: text, html and json set their
    Content-Type, and a body its Content-Length."""
    pairs = _header_pairs(headers)
    lines = [_line(k, v) for k, v in pairs]
    ctype = None
    if json is not None:
        body = _json_bytes(json)
        ctype = "application/json"
    elif html is not None or text is not None:
        body = _bytes(html if html is not None else text, "text")
        ctype = ("text/html" if html is not None else "text/plain") + \
            "; charset=utf-8"
    elif content is not None:
        body = _bytes(content, "content")
    else:
        return lines, b""
    names = {k.lower() for k, _ in pairs}
    if "content-length" not in names:
        lines.append(f"Content-Length: {len(body)}")
    if ctype and "content-type" not in names:
        lines.append(f"Content-Type: {ctype}")
    return lines, body
