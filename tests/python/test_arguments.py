"""Arguments are taken as given or refused with the error httpx would
raise, naming the argument: never cut short at a NUL, wrapped around,
turned into NUL bytes, split into characters or silently ignored."""
import asyncio
import json

import pytest

import salvo


@pytest.mark.parametrize("where", ["url", "param name", "param value",
                                   "header name", "header value",
                                   "header bytes", "password", "user agent", "url list"])
def test_nul_is_refused_not_cut(srv, where):
    url = srv.url("/echo")
    with salvo.Client() as c:
        with pytest.raises(ValueError, match="NUL") as e:
            if where == "url":
                c.get(url + "\0/evil")
            elif where == "param name":
                c.get(url, params={"a\0b": "1"})
            elif where == "param value":
                c.get(url, params={"a": "1\0tail"})
            elif where == "header name":
                c.get(url, headers={"X-A\0": "1"})
            elif where == "header value":
                c.get(url, headers={"X-A": "1\0tail"})
            elif where == "header bytes":
                c.get(url, headers={"X-A": b"1\0tail"})
            elif where == "password":
                salvo.Client(auth=("user", "pass\0word"))
            elif where == "user agent":
                salvo.Client(headers={"User-Agent": "a\0b"})
            else:
                salvo.parallel_requests([url, url + "\0x"])
    # Nothing reached the server with a truncated value.
    assert srv.stats()["requests"] == 0, e.value


def test_numbers_out_of_range():
    with pytest.raises(OverflowError, match="max_retries"):
        salvo.Client(max_retries=2 ** 32)
    with pytest.raises(OverflowError, match="concurrency"):
        salvo.Client(concurrency=-2 ** 40)
    with pytest.raises(ValueError, match="NaN"):
        salvo.Client(rate_limit=float("nan"))


def test_wrong_types_name_the_argument(srv):
    url = srv.url("/echo")
    cases = [
        (lambda c: c.post(url, data=123), "data"),
        (lambda c: c.post(url, content=12.5), "content"),
        (lambda c: c.get(url, headers={"X-A": 1}), "header value"),
        (lambda c: c.get(url, params={"a": object()}), "query parameter"),
        (lambda c: c.get(url, params=5), "params"),  # (a str: a query)
        (lambda c: c.get(url, timeout="5"), "timeout"),
        (lambda c: c.request(5, url), "method"),
        (lambda c: c.get(url, heaaders={}), "no argument 'heaaders'"),
        (lambda c: salvo.get(url, verfy=False), "no argument 'verfy'"),
    ]
    with salvo.Client() as c:
        for call, name in cases:
            with pytest.raises(TypeError, match=name):
                call(c)
    with pytest.raises(TypeError, match="cookies"):
        salvo.Client(cookies=5)
    with pytest.raises(TypeError, match="concurrency"):
        salvo.Client(concurrency="8")
    with pytest.raises(TypeError, match="verify"):
        salvo.Client(verify=object())
    with pytest.raises(TypeError, match="keys"):
        salvo.parallel_requests([url, url], keys="ab")
    assert srv.stats()["requests"] == 0


def test_what_is_sent_is_what_was_given(srv):
    """A NUL in a body, a number as a param, and a header value given as
    bytes sent as those bytes (faultd's /echo copies them into its body;
    it once received them as UTF-8 of their Latin-1 reading, \xc3\xa9)."""
    with salvo.Client() as c:
        r = c.post(srv.url("/echo"), content=b"a\0b", params={"p": 0},
                   headers=[("X-Bytes", b"caf\xe9")])
    assert b'"x-bytes":"caf\xe9"' in r.content
    e = json.loads(r.content.decode("latin-1"))
    assert e["body_len"] == 3
    assert e["query"] == "p=0"


def test_body_coding_errors_say_what_they_are(srv):
    """A corrupt gzip body is httpx's DecodingError, with a message about
    the body (it once said "malformed response header line")."""
    wire = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: 12\r\n\r\n\x1f\x8b\x08\x00garbage!")
    with salvo.Client(max_retries=0) as c:
        with pytest.raises(salvo.DecodingError, match="gzip") as e:
            c.get(srv.url("/wire"), headers={"X-Wire": wire.hex()})
    assert e.value.code == "EDECODE"


def test_unknown_charset_of_a_streamed_body(srv):
    """A streamed body's text with a charset Python does not know falls
    back to UTF-8 (as httpx does), never LookupError."""
    url = srv.url("/raw?hex=6869e282ac&ct=text/plain;charset=x-unheard-of")
    with salvo.Client() as c:
        with c.parallel() as par:
            r = par.get(url, stream=True).get_response()
            assert r.text == "hi\u20ac"


def test_waits_check_their_timeout(srv):
    with salvo.Client() as c, c.parallel() as par:
        p = par.get(srv.url("/json/1"))
        with pytest.raises(ValueError, match="timeout"):
            p.get_response(-1)
        with pytest.raises(TypeError, match="timeout"):
            p.get_response(timeout="soon")
        with pytest.raises(TypeError):
            p.get_response(1, 2)
        with pytest.raises(TypeError):
            par.next_response(wait=1)
        assert p.get_response(timeout=10).status_code == 200


@pytest.mark.parametrize("kwargs, names", [
    ({"headers": {"X-A": "b\r\nX-Injected: 1"}}, 'header "X-A"'),
    ({"headers": [("X-B", "1"), ("X C", "2")]}, 'headers[1] "X C"'),
    ({"resolve": ["nonsense"]}, 'resolve[0] "nonsense"'),
])
def test_refused_configuration_names_it(kwargs, names):
    """A configuration salvo refuses says which entry: read from the
    lists handed to the library before they are freed (they were read
    after, which AddressSanitizer saw and which could crash)."""
    with pytest.raises(ValueError, match="bad configuration") as e:
        salvo.Client(**kwargs)
    assert names in str(e.value)


def test_malformed_header_hides_its_value(srv):
    """A header whose name is malformed ("Authorization : ...", a space
    before the colon) is refused without its value in the message: it is
    often a credential."""
    hdr = {"Authorization ": "Bearer TOKENSECRET"}
    with pytest.raises(ValueError) as e:
        salvo.Client(headers=hdr)
    assert "TOKENSECRET" not in str(e.value)
    assert '"Authorization "' in str(e.value)
    with salvo.Client() as c:
        with pytest.raises(Exception) as e:
            c.get(srv.url("/echo"), headers=hdr)
        assert "TOKENSECRET" not in str(e.value), e.value
    assert srv.stats()["requests"] == 0


@pytest.mark.parametrize("stream", [False, True])
def test_chunk_size_refused_or_taken_as_given(srv, stream):
    """chunk_size is None or a positive int: 0 or less is refused, not
    looped on forever (it was, yielding empty chunks); a size far over the
    body reads only the bytes that came (it asked the allocator for the
    size at each read: 1 TiB here)."""
    url = srv.url("/bytes/100000")
    with salvo.Client() as c:
        for bad, exc in ((0, ValueError), (-1, ValueError), (1.5, TypeError),
                         ("4", TypeError), (True, TypeError)):
            r = c.get(url, stream=stream)
            with pytest.raises(exc, match="chunk_size"):
                next(r.iter_bytes(bad))
            r.close()
        r = c.get(url, stream=stream)
        assert [len(b) for b in r.iter_bytes(2 ** 40)] == [100000]
        r = c.get(url, stream=stream)
        sizes = [len(b) for b in r.iter_bytes(30000)]
        assert sizes == [30000, 30000, 30000, 10000]

    async def main():
        async with salvo.AsyncClient() as ac:
            r = await ac.get(url, stream=stream)
            with pytest.raises(ValueError, match="chunk_size"):
                await r.aiter_bytes(0).__anext__()
            await r.aclose()
            r = await ac.get(url, stream=stream)
            return [len(b) async for b in r.aiter_bytes(2 ** 40)]
    assert asyncio.run(main()) == [100000]
