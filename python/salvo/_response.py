"""Responses, as httpx's: ResponseCore (status, headers, text, the
status check, what both share), Response (its body iterated) and
AsyncResponse (its body awaited), all extending the extension's C
Response."""
from __future__ import annotations

import codecs

from . import _salvo
from ._chunks import (_CHUNK, _Chunker, _chunk_size, _LineDecoder, _read_size,
                      _slices, _TextChunker)
from ._exceptions import HTTPStatusError, ReadTimeout, error_for
from ._models import Headers, Request, _state

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    import datetime
    from typing import Any, AsyncIterator, Dict, Iterator, List, Optional

__all__ = ["Response", "AsyncResponse"]

_REDIRECTS = (301, 302, 303, 307, 308)


class ResponseCore(_salvo.Response):
    """What Response and AsyncResponse share, with httpx's names and
    meanings: status (and its classes), reason_phrase, headers, url,
    encoding and text, JSON, cookies, links, the status check.
    status_code, content, key and attempts are read in C (the extension's
    Response, which this extends); a response is made by a block, or by
    its caller (Response(status_code, ...), whole). How a streamed body
    is pulled (iterated or awaited) is the subclasses'."""

    __slots__ = ()

    def __new__(cls, status_code: int, *, headers: Any = None,
                content: Any = None, text: Optional[str] = None,
                html: Optional[str] = None, json: Any = None,
                stream: Any = None, request: Any = None,
                extensions: Any = None, history: Any = None,
                default_encoding: Any = "utf-8") -> Any:
        """httpx's Response(status_code, ...): a response made by the
        caller, whole (libsalvo's salvo_response_new). content is bytes or
        str; text=, html= and json= (written compact, as a Request's) set
        their Content-Type as httpx does, and a body its Content-Length;
        request= gives it its request and URL, history= the responses
        before it. stream= and extensions= are refused: a made body is
        whole, and its HTTP version is 1.1."""
        if stream is not None or extensions:
            raise TypeError("Response(stream=...) and extensions= are not "
                            "supported: a made response's body is whole")
        from ._args import response_parts
        lines, body = response_parts(headers, content, text, html, json)
        url = None if request is None else str(request.url)
        self = super().__new__(cls, status_code, lines, body, url)
        st = _state(self)
        st.request = request
        st.default_encoding = default_encoding
        if history:
            st.before = list(history)
        return self

    @property
    def headers(self) -> Headers:
        h = self._headers
        if h is None:
            h = self._headers = Headers(self._header_list)
        return h

    @property
    def url(self) -> Any:
        """The URL fetched last (after redirects), as a salvo.URL."""
        from ._urls import URL
        return URL(_salvo.Response.url.__get__(self))

    @property
    def http_version(self) -> str:
        v = self._http_version
        return f"HTTP/{v}" if v else ""

    @property
    def reason_phrase(self) -> str:
        """The standard phrase of the status (RFC 9110 15), as httpx gives
        it when the server's own is not at hand; "" for an unknown one."""
        from http import HTTPStatus
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @property
    def extensions(self) -> Dict[str, Any]:
        """httpx's: the HTTP version and reason phrase, as bytes."""
        return {"http_version": self.http_version.encode(),
                "reason_phrase": self.reason_phrase.encode()}

    @property
    def elapsed(self) -> datetime.timedelta:
        import datetime
        return datetime.timedelta(seconds=self._elapsed)

    @property
    def request(self) -> Any:
        """The request this answers (a salvo.Request), when it was built
        by the client (single requests, and block requests with keyword
        arguments); RuntimeError otherwise, as httpx raises. After
        redirects, the one sent last: its method and URL, and the
        caller's headers as libsalvo sent them there."""
        first = self._first_request()
        if first is None:
            raise RuntimeError("The request instance has not been set on "
                               "this response.")
        st = self._extra
        if self._method is None or (st.hop is not None and not st.hop[1]):
            return first  # no redirect before it
        if st.final is None:
            st.final = first._redirected(self._method, self.url)
        return st.final

    def _first_request(self) -> Any:
        """The request as the caller made it (before any redirect)."""
        st = self._extra
        req = st.request if st is not None else None
        if isinstance(req, dict):  # the arguments it was submitted with
            req = st.request = Request._from_args(req, st.client_headers)
        return req

    @property
    def history(self) -> List[Any]:
        """httpx's list of the responses before this one, oldest first:
        those an Auth flow answered (a Digest challenge's 401, read), then
        the redirects followed, each with its status, headers, URL and
        request (the method and URL sent there), and its own history, the
        ones before it. A redirect's body is empty: salvo reads past it
        without keeping it."""
        st = self._extra
        if st is not None and st.hop is not None:  # a hop: those before it
            root, n = st.hop
        else:
            root, n = self, self._redirects
        before = list(root._extra.before) if root._extra is not None else []
        return before + [root._hop_at(i) for i in range(n)]

    def _hop_at(self, i: int) -> "ResponseCore":
        """The i-th redirect's response, of this one's class, keeping this
        one alive (and nothing here refers to it: no cycle)."""
        h = self._hop(i)
        hst = _state(h)
        hst.hop = (self, i)
        hst.request = self._first_request()
        if self._extra is not None:
            hst.default_encoding = self._extra.default_encoding
        return h

    @property
    def next_request(self) -> Any:
        """httpx's: the request a redirect not followed would make next
        (follow_redirects=False), else None: where libsalvo's redirect
        rules send it (salvo_redirect_next: its method, its URL, whether
        the body and the caller's Authorization, Cookie and Host go
        along)."""
        if not self.has_redirect_location:
            return None
        try:
            req = self.request
        except RuntimeError:
            return None
        nxt = _salvo.redirect_next(str(req.url), req.method,
                                   self.status_code, self.headers["location"])
        if nxt is None:
            return None
        url, method, keeps_body, same = nxt
        return req._redirected(method, url, same, keeps_body)

    @property
    def redirects(self) -> int:
        """Redirects followed to get here."""
        return self._redirects

    # ---- the status, by class -------------------------------------------

    @property
    def is_informational(self) -> bool:
        return 100 <= self.status_code < 200

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def is_redirect(self) -> bool:
        """Any 3xx, as httpx 0.23's (has_redirect_location says whether
        it says where to go)."""
        return 300 <= self.status_code <= 399

    @property
    def has_redirect_location(self) -> bool:
        return self.status_code in _REDIRECTS and "location" in self.headers

    @property
    def is_client_error(self) -> bool:
        return 400 <= self.status_code < 500

    @property
    def is_server_error(self) -> bool:
        return 500 <= self.status_code < 600

    @property
    def is_error(self) -> bool:
        return 400 <= self.status_code < 600

    def raise_for_status(self) -> "ResponseCore":
        """Returns the response when it is a 2xx; raises HTTPStatusError for
        any other (1xx, 3xx, 4xx, 5xx), with httpx's message. A response
        made by hand without a request has no URL to name: RuntimeError,
        as httpx raises."""
        if not _salvo.Response.url.__get__(self) and \
                self._first_request() is None:
            raise RuntimeError("Cannot call `raise_for_status` as the request "
                               "instance has not been set on this response.")
        if self.is_success:
            return self
        code = self.status_code
        kind = ("Informational response" if code < 200 else
                "Redirect response" if code < 400 else
                "Client error" if code < 500 else
                "Server error" if code < 600 else "Invalid status code")
        msg = (f"{kind} '{code} {self.reason_phrase}' for url "
               f"'{self.url}'")
        if self.has_redirect_location:
            msg += f"\nRedirect location: '{self.headers['location']}'"
        msg += ("\nFor more information check: https://developer.mozilla.org"
                f"/en-US/docs/Web/HTTP/Status/{code}")
        raise HTTPStatusError(msg, code=f"HTTP{code}", url=str(self.url),
                              response=self)

    # ---- text -------------------------------------------------------------

    @property
    def charset_encoding(self) -> Optional[str]:
        """The charset Content-Type names, in lower case (as httpx gives
        it), or None."""
        ctype = self.headers.get("content-type", "") or ""
        for part in ctype.split(";")[1:]:
            k, _, v = part.strip().partition("=")
            if k.strip().lower() == "charset" and v.strip():
                return v.strip().strip('"').strip("'").lower()
        return None

    @property
    def encoding(self) -> str:
        """How text is decoded (as httpx): what the caller set, else the
        charset of Content-Type when Python knows it, else the client's
        default_encoding (a name, or a function of the body), else
        UTF-8."""
        st = self._extra
        if st is not None and st.encoding is not None:
            return st.encoding
        cs = self.charset_encoding
        if cs is not None:
            try:
                codecs.lookup(cs)
                return cs
            except LookupError:
                pass
        d = st.default_encoding if st is not None else "utf-8"
        if callable(d):
            d = d(self.content) or "utf-8"
        return d

    @encoding.setter
    def encoding(self, value: str) -> None:
        codecs.lookup(value)  # LookupError now rather than at .text
        _state(self).encoding = value

    @property
    def text(self) -> str:
        st = self._extra
        if not self._streamed and (st is None or (
                st.encoding is None and st.default_encoding == "utf-8")):
            return self._text  # decoded by libsalvo, from its charset
        return self.content.decode(self.encoding, errors="replace")

    def json(self, **kwargs: Any) -> Any:
        import json  # imported when first used: 16 ms
        return json.loads(self.content, **kwargs)

    @property
    def num_bytes_downloaded(self) -> int:
        """Body bytes taken so far (after decoding: salvo undoes content
        codings as it reads)."""
        if self._streamed and self._content is None:
            return self._extra.downloaded if self._extra is not None else 0
        return len(self.content)

    @property
    def cookies(self) -> Any:
        """The cookies this response sets (its Set-Cookie fields), as a
        salvo.Cookies; the client's jar keeps them across requests."""
        from ._cookies import Cookies
        jar = Cookies()
        jar.extract_cookies(self)
        return jar

    @property
    def links(self) -> Dict[str, Dict[str, str]]:
        """The Link header (RFC 8288) by rel, or by URL when it has none,
        as httpx parses it."""
        out: Dict[str, Dict[str, str]] = {}
        for link in _parse_links(self.headers.get("link")):
            out[link.get("rel") or link.get("url")] = link
        return out

    def _check(self, n):
        if isinstance(n, int):  # a negative salvo error code
            name, url = _salvo.errname(n), str(self.url)
            if name == "ETIMEDOUT":
                raise error_for(name, "no byte of the body came within the "
                                "timeout", url, cls=ReadTimeout, raw=self)
            why = self._error_message  # the transfer's, once it failed
            raise error_for(name, "reading the body failed" +
                            (f": {why}" if why else ""), url, raw=self)
        return n

    def _took(self, chunk: bytes) -> bytes:
        _state(self).downloaded += len(chunk)
        return chunk

    @property
    def is_stream_consumed(self) -> bool:
        """Whether the body was read or its iterating began (httpx's):
        always, for a response that was not streamed."""
        st = self._extra
        return (not self._streamed or self._content is not None or
                (st is not None and st.consumed))

    @property
    def is_closed(self) -> bool:
        """Whether the response is done with its connection (httpx's):
        always, for one that was not streamed; a streamed one once its
        body was read to the end or it was closed."""
        st = self._extra
        return (not self._streamed or self._content is not None or
                (st is not None and st.closed))

    def _ended(self) -> None:
        _state(self).closed = True

    def _consumed_check(self) -> None:
        """Before a streamed body is read: httpx's errors for one iterated
        already, or closed unread."""
        st = self._extra
        if st is not None and self._content is None and (
                st.consumed or st.closed):
            from ._exceptions import StreamClosed, StreamConsumed
            raise StreamConsumed() if st.consumed else StreamClosed()

    def __repr__(self) -> str:
        return f"<Response [{self.status_code} {self.reason_phrase}]>"


def _parse_links(value: Optional[str]) -> List[Dict[str, str]]:
    links: List[Dict[str, str]] = []
    if not value:
        return links
    for val in _split_links(value):
        url, _, params = val.partition(";")
        link = {"url": url.strip("<> '\"")}
        for param in params.split(";"):
            key, eq, v = param.partition("=")
            if not eq:
                continue
            link[key.strip(" '\"")] = v.strip(" '\"")
        links.append(link)
    return links


def _split_links(value: str) -> List[str]:
    """The comma-separated links of a Link header (commas inside <...> or
    quotes do not split)."""
    out, cur, depth, quote = [], "", 0, False
    for ch in value:
        if ch == '"':
            quote = not quote
        elif ch == "<" and not quote:
            depth += 1
        elif ch == ">" and not quote:
            depth -= 1
        if ch == "," and not quote and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _text_pieces(r: ResponseCore, chunks: Iterator[bytes],
                 size: Optional[int] = None) -> Iterator[str]:
    dec = codecs.getincrementaldecoder(r.encoding)(errors="replace")
    text = _TextChunker(size)
    for c in chunks:
        yield from text.feed(dec.decode(c))
    yield from text.feed(dec.decode(b"", True))
    yield from text.flush()


class Response(ResponseCore):
    """An HTTP response. One from a request made with stream=True has its
    body pulled by the caller: read(), iter_bytes()/iter_text()/
    iter_lines()/iter_raw() (or stream(), salvo's name), close()."""

    __slots__ = ()

    def _read_stream(self) -> bytes:
        """What `content` reads for a streamed body: all of it."""
        self._consumed_check()
        return b"".join(self._pull(_CHUNK))

    def _pull(self, chunk_size: int) -> Iterator[bytes]:
        while True:
            chunk = self._check(self._read(chunk_size, True))
            if not chunk:
                self._ended()
                return
            yield self._took(chunk)

    def read(self) -> bytes:
        """The whole body (what is left of it, for a streamed one);
        StreamConsumed when it was already iterated."""
        return self.content

    def iter_bytes(self, chunk_size: Optional[int] = None) -> Iterator[bytes]:
        """The body in chunks (of chunk_size bytes when given) as they
        arrive; memory stays flat for a streamed body, which can then be
        iterated once. An empty body gives no chunk."""
        chunk_size = _chunk_size(chunk_size)
        if not self._streamed or self._content is not None:
            yield from _slices(self.content, chunk_size)
            return
        self._consumed_check()
        _state(self).consumed = True
        ch = _Chunker(chunk_size)
        for piece in self._pull(_read_size(chunk_size)):
            yield from ch.feed(piece)
        yield from ch.flush()

    def stream(self, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        """salvo's name for iter_bytes, chunks as they come."""
        return self.iter_bytes(None if chunk_size == _CHUNK else chunk_size)

    def iter_raw(self, chunk_size: Optional[int] = None) -> Iterator[bytes]:
        """As iter_bytes: salvo undoes content codings as it reads, so the
        raw bytes are the decoded ones."""
        return self.iter_bytes(chunk_size)

    raw = iter_raw

    def iter_text(self, chunk_size: Optional[int] = None) -> Iterator[str]:
        """The body as text, decoded with `encoding`: in pieces as they
        come, or of chunk_size characters (the last may be shorter)."""
        yield from _text_pieces(self, self.iter_bytes(), chunk_size)

    def iter_lines(self) -> Iterator[str]:
        """The body's lines, without their endings."""
        dec = _LineDecoder()
        for t in self.iter_text():
            yield from dec.decode(t)
        yield from dec.flush()

    def close(self) -> None:
        """Abandons the rest of a streamed body (its connection closes)."""
        self._close()
        self._ended()

    def __enter__(self) -> "Response":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncResponse(ResponseCore):
    """A response whose body methods are coroutines (async-client.md):
    await read(), async for chunk in stream(), await close(); and by
    httpx's names aread(), aiter_bytes(), aiter_text(), aiter_lines(),
    aiter_raw(), aclose()."""

    __slots__ = ()

    def _read_stream(self) -> bytes:
        raise RuntimeError("await response.aread() first: the body is "
                           "streamed")

    async def aread(self) -> bytes:
        if not self._streamed or self._content is not None:
            return self.content
        self._consumed_check()
        parts = [c async for c in self._apull(_CHUNK)]
        self._content = b"".join(parts)
        return self._content

    read = aread

    async def _apull(self, chunk_size: int) -> AsyncIterator[bytes]:
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
                self._ended()
                return
            yield self._took(chunk)

    async def aiter_bytes(self, chunk_size: Optional[int] = None
                          ) -> AsyncIterator[bytes]:
        chunk_size = _chunk_size(chunk_size)
        if not self._streamed or self._content is not None:
            for c in _slices(self.content, chunk_size):
                yield c
            return
        self._consumed_check()
        _state(self).consumed = True
        ch = _Chunker(chunk_size)
        async for piece in self._apull(_read_size(chunk_size)):
            for c in ch.feed(piece):
                yield c
        for c in ch.flush():
            yield c

    async def stream(self, chunk_size: int = _CHUNK) -> AsyncIterator[bytes]:
        async for c in self.aiter_bytes(
                None if chunk_size == _CHUNK else chunk_size):
            yield c

    def aiter_raw(self, chunk_size: Optional[int] = None
                  ) -> AsyncIterator[bytes]:
        """As aiter_bytes (salvo undoes content codings as it reads)."""
        return self.aiter_bytes(chunk_size)

    raw = aiter_raw

    async def aiter_text(self, chunk_size: Optional[int] = None
                         ) -> AsyncIterator[str]:
        dec = codecs.getincrementaldecoder(self.encoding)(errors="replace")
        text = _TextChunker(chunk_size)
        async for c in self.aiter_bytes():
            for t in text.feed(dec.decode(c)):
                yield t
        for t in text.feed(dec.decode(b"", True)) + text.flush():
            yield t

    async def aiter_lines(self) -> AsyncIterator[str]:
        dec = _LineDecoder()
        async for t in self.aiter_text():
            for line in dec.decode(t):
                yield line
        for line in dec.flush():
            yield line

    async def aclose(self) -> None:
        self._close()
        self._ended()

    close = aclose

    async def __aenter__(self) -> "AsyncResponse":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


def outcome(raw: ResponseCore) -> ResponseCore:
    """A collected response, or the exception its error means raised."""
    if raw._error:
        raise error_for(raw._error_name, raw._error_message,
                        _salvo.Response.url.__get__(raw), raw=raw)
    return raw


_salvo.set_error_factory(error_for)
