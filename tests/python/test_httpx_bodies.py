"""What a request sends, as httpx sends it, against faultd (whose /echo
copies what it received into its body): forms and files, a body from a
file or an iterable, header values given as bytes, proxies, and the
request a response keeps; and a body's text in the chunks httpx gives."""
import asyncio
import os

import pytest

import salvo
from conftest import raw_url


def test_files_multipart(srv):
    e = salvo.post(srv.url("/echo"), data={"field": "v"},
                   files={"upload": ("a.txt", b"hello file", "text/plain")}
                   ).json()
    ctype = e["headers"]["content-type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    body = e["body"]
    assert 'name="field"\r\n\r\nv\r\n' in body
    assert 'name="upload"; filename="a.txt"' in body
    assert "Content-Type: text/plain\r\n\r\nhello file\r\n" in body


def test_content_from_a_file_or_an_iterable(srv, tmp_path):
    """content= takes what httpx's takes: a file opened for bytes (read
    from where it stands), an iterable of bytes, an async iterable on
    AsyncClient; faultd records the body and the Content-Length it came
    with. What it cannot send is a TypeError naming why, before any
    request goes."""
    import io
    f = tmp_path / "up.bin"
    f.write_bytes(b"0123456789")

    def sent(r):
        e = r.json()
        return e["body"], e["headers"].get("content-length")
    with salvo.Client() as c, open(f, "rb") as fh:
        fh.seek(4)
        assert sent(c.post(srv.url("/echo"), content=fh)) == ("456789", "6")
        assert sent(c.put(srv.url("/echo"), content=io.BytesIO(b"xyz"))) \
            == ("xyz", "3")
        assert sent(c.post(srv.url("/echo"), content=(
            p for p in (b"a", bytearray(b"b"), memoryview(b"c"))))) \
            == ("abc", "3")
        assert sent(c.post(srv.url("/echo"), content=[])) == ("", "0")
        before = srv.stats()["requests"]
        with open(f) as text:
            with pytest.raises(TypeError, match="opened for bytes"):
                c.post(srv.url("/echo"), content=text)
        with pytest.raises(TypeError, match="pieces must be bytes, not str"):
            c.post(srv.url("/echo"), content=iter(["s"]))
        for bad in (5, {"a": 1}):
            with pytest.raises(TypeError, match="content must be"):
                c.post(srv.url("/echo"), content=bad)
        assert srv.stats()["requests"] == before

    async def pieces():
        yield b"x"
        yield b"y"

    async def main():
        async with salvo.AsyncClient() as c:
            r = await c.post(srv.url("/echo"), content=pieces())
            async with c.stream("POST", srv.url("/echo"),
                                content=pieces()) as s:
                await s.aread()
            with pytest.raises(TypeError, match="async iterable"):
                c.build_request("POST", srv.url("/echo"), content=pieces())
            return sent(r), sent(s)
    assert asyncio.run(main()) == (("xy", "2"), ("xy", "2"))


def test_form_values_and_params_as_httpx_writes_them(srv):
    """Form fields (urlencoded and multipart) and query values written as
    httpx writes them: True "true", None empty (they went as "True" and
    "None"; a query's None as the name alone); a query given as a str."""
    e = salvo.post(srv.url("/echo"), data={"b": True, "n": None, "i": 1,
                                           "l": ["x y", False]}).json()
    assert e["body"] == "b=true&n=&i=1&l=x+y&l=false"
    e = salvo.get(srv.url("/echo"), params={"b": False, "n": None}).json()
    assert e["query"] == "b=false&n="
    for q in ("a=1&b=x+y", b"a=1&b=x+y", "?a=1&b=x%20y"):
        assert salvo.get(srv.url("/echo"), params=q).json()["query"] == \
            "a=1&b=x%20y"
    e = salvo.post(srv.url("/echo"), data={"b": True, "n": None},
                   files={"f": ("a.txt", b"x")}).json()
    assert 'name="b"\r\n\r\ntrue\r\n' in e["body"]
    assert 'name="n"\r\n\r\n\r\n' in e["body"]


def test_multipart_names_escaped_and_types_guessed(srv):
    """files= as httpx writes it (RFC 7578 4.2, HTML5's escaping): a
    quote, CR or LF in a name or filename is %-escaped, so no part can
    end its quotes or its line and forge a header or a part; the type is
    guessed from the filename; (None, content) has neither; a fourth
    item is the part's own headers, refused with a CR or LF in them."""
    e = salvo.post(srv.url("/echo"), files=[
        ('f"\r\nX-Evil: 1', ('a"b\\c\r\n.json', b"1")),
        ("g", (None, b"2")),
        ("h", ("t.csv", b"3", None, {"X-Part": "p"}))]).json()
    body = e["body"]
    assert "\r\nX-Evil" not in body
    assert ('name="f%22%0D%0AX-Evil: 1"; filename="a%22b\\\\c%0D%0A.json"'
            '\r\nContent-Type: application/json\r\n\r\n1\r\n') in body
    assert 'name="g"\r\n\r\n2\r\n' in body
    assert ('name="h"; filename="t.csv"\r\nX-Part: p\r\n'
            'Content-Type: text/csv\r\n\r\n3\r\n') in body
    before = srv.stats()["requests"]
    for bad in (("a", b"x", "text/plain\r\nX: 1"),
                ("a", b"x", None, {"X": "1\r\nY: 2"})):
        with pytest.raises(ValueError, match="without CR, LF"):
            salvo.post(srv.url("/echo"), files={"f": bad})
    assert srv.stats()["requests"] == before


def test_proxies_http1_app_and_mounts(srv):
    """httpx 0.23's proxies= (one proxy for every URL), its http1=, and
    what salvo cannot do (app=, mounts=, a proxy per scheme or host),
    refused by name before any request. A proxy on port 1 refuses the
    connection: the request went to it, not to faultd."""
    url = srv.url("/json/1")
    for proxies in ("http://127.0.0.1:1", {"all://": "http://127.0.0.1:1"},
                    {"http://": "http://127.0.0.1:1",
                     "https://": "http://127.0.0.1:1"}):
        with pytest.raises(salvo.ConnectError, match="port 1"):
            salvo.get(url, proxies=proxies, max_retries=0)
        with salvo.Client(proxies=proxies, max_retries=0) as c:
            with pytest.raises(salvo.ConnectError, match="port 1"):
                c.get(url)
    assert srv.stats()["requests"] == 0
    for proxies in ({"http://": "http://127.0.0.1:1"},
                    {"all://example.com": "http://127.0.0.1:1"},
                    {"http://": "http://a:1", "https://": "http://b:1"}):
        with pytest.raises(ValueError, match="one proxy for every URL"):
            salvo.Client(proxies=proxies)
    with pytest.raises(TypeError, match="not both"):
        salvo.Client(proxy="http://a:1", proxies="http://a:1")
    for kw in ({"app": object()}, {"mounts": {}}):
        with pytest.raises(TypeError, match="app= and mounts="):
            salvo.Client(**kw)
    with pytest.raises(ValueError, match="both be False"):
        salvo.Client(http1=False)
    assert salvo.get(url, verify=False, trust_env=False).status_code == 200
    # httpx's default pair is HTTP/1.1; in the suites' native-h2 run
    # (SALVO_HTTP_VERSION) it leaves the choice to libsalvo, as a C client
    # left at SALVO_HTTP_AUTO does, and the suite runs over HTTP/2.
    want = "HTTP/2" if os.environ.get("SALVO_HTTP_VERSION") else "HTTP/1.1"
    with salvo.Client(http1=True) as c:
        assert c.get(url).http_version == want


def test_header_bytes_as_given_and_as_received(srv):
    """A header value given as bytes goes byte for byte, on every path a
    request's headers take (the client's, the request's, merged with
    cookies, through a hook); headers give back the bytes received as
    raw, and read them as httpx's `encoding` says: UTF-8 when they are,
    else Latin-1 (RFC 9110 5.5: obs-text). faultd's /echo copies the
    bytes it received into its body."""
    seen = []
    hooks = {"request": [lambda req: seen.append(req.headers["cookie"])]}
    with salvo.Client(headers={"X-C": b"c\xe9"}) as c:
        for value, wire in ((b"caf\xe9", b"caf\xe9"),
                            (b"caf\xc3\xa9", b"caf\xc3\xa9"),
                            ("caf\xe9", b"caf\xc3\xa9")):
            for kw in ({}, {"cookies": {"a": "b"}}, {"auth": ("u", "p")}):
                r = c.get(srv.url("/echo"), headers={"X-T": value}, **kw)
                assert b'"x-t":"' + wire + b'"' in r.content, (value, kw)
                assert b'"x-c":"c\xe9"' in r.content
                assert (b"X-T", wire) in r.request.headers.raw
        c.event_hooks = hooks
        r = c.get(srv.url("/echo"), headers={"Cookie": b"x=\xe9"},
                  cookies={"a": "b"})
        assert b'"cookie":"x=\xe9; a=b"' in r.content
        assert seen == ["x=\xe9; a=b"]  # event_hooks set as httpx sets it
        assert r.request.headers["cookie"] == "x=\xe9; a=b"
        assert r.request.headers.encoding == "iso-8859-1"
    r = salvo.get(raw_url(srv, b"hi", b"text/caf\xe9"))
    h = r.headers
    assert h["content-type"] == "text/caf\xe9" and h.encoding == "iso-8859-1"
    raw = [(k.lower(), v) for k, v in h.raw]  # (HTTP/2's are lower case)
    assert (b"content-type", b"text/caf\xe9") in raw
    with pytest.raises(UnicodeDecodeError):
        h.encoding = "utf-8"
    assert h.encoding == "iso-8859-1"  # unchanged by the refusal
    h = salvo.get(raw_url(srv, b"hi", "text/caf\xe9")).headers
    assert h["content-type"] == "text/caf\xe9" and h.encoding == "utf-8"
    h.encoding = "latin-1"
    assert h["content-type"] == "text/caf\xc3\xa9" and h.encoding == "latin-1"
    assert h.copy().encoding == "latin-1" and h.copy() == h
    assert (b"content-type", b"text/caf\xc3\xa9") in \
        [(k.lower(), v) for k, v in h.raw]
    assert salvo.get(srv.url("/json/1")).headers.encoding == "ascii"
    made = salvo.Response(200, headers=[("X-A", b"caf\xe9")])
    assert made.headers.raw[0] == (b"X-A", b"caf\xe9")
    assert salvo.Headers({"X-A": b"caf\xe9"})["x-a"] == "caf\xe9"
    # A list of bytes pairs, httpx's raw form: Headers(h.raw) is h again
    # (its names stayed bytes, and a lookup raised AttributeError).
    h = salvo.Headers([(b"X-A", b"caf\xe9"), ("x-a", "b")])
    assert h.get_list("x-a") == ["caf\xe9", "b"]
    assert salvo.Headers(h.raw) == h and salvo.Headers(h.raw).raw == h.raw


def test_default_client_keeps_the_request(srv):
    """salvo.get/post (the default client) give the request as sent:
    its headers, params and body, not only its method and URL."""
    r = salvo.post(srv.url("/echo"), headers={"X-T": "a"},
                   params={"q": "1"}, content=b"body")
    req = r.request
    assert (req.method, str(req.url)) == ("POST", srv.url("/echo?q=1"))
    assert req.headers["x-t"] == "a" and req.content == b"body"
    assert str(salvo.get(srv.url("/echo")).request.url) == srv.url("/echo")


def test_iter_text_chunk_size_counts_characters(srv):
    """httpx's iter_text(chunk_size) and aiter_text(chunk_size) give
    chunks of that many characters, the last shorter; salvo gave chunks
    of that many bytes, decoded (16 or 17 characters of 33 bytes of é)."""
    text = "é" * 400 + "x"
    url = raw_url(srv, text.encode(), "text/plain; charset=utf-8")
    want = [33] * 12 + [5]
    with salvo.Client() as c:
        with c.stream("GET", url) as r:
            chunks = list(r.iter_text(chunk_size=33))
        assert [len(t) for t in chunks] == want and "".join(chunks) == text
        # A body read whole is chunked the same way.
        assert [len(t) for t in c.get(url).iter_text(33)] == want

    async def main():
        async with salvo.AsyncClient() as c:
            r = await c.get(url, stream=True)
            return [t async for t in r.aiter_text(chunk_size=33)]
    chunks = asyncio.run(main())
    assert [len(t) for t in chunks] == want and "".join(chunks) == text
    with pytest.raises(ValueError):
        list(salvo.Response(200, content=b"x").iter_text(chunk_size=0))


def test_two_bodies_refused(srv):
    """json= with data= (or content= with either) is two bodies: httpx
    sends one and drops the other without a word, and salvo sent the JSON.
    A TypeError names them, before anything is sent; files= with data= is
    one multipart body, as in httpx."""
    for kw in ({"json": {"a": 1}, "data": {"b": "2"}},
               {"content": b"x", "json": 1},
               {"files": {"f": b"x"}, "json": 1}):
        with pytest.raises(TypeError, match="takes one body"):
            salvo.post(srv.url("/echo"), **kw)
    e = salvo.post(srv.url("/echo"), data={"a": "1"},
                   files={"f": ("f.txt", b"x")}).json()
    assert 'name="a"\r\n\r\n1\r\n' in e["body"]
    assert srv.stats()["requests"] == 1
