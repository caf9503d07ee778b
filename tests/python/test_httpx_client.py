"""httpx's client as the oracle, for what httpx lets a caller change on a
client after making it (headers, timeout, follow_redirects, auth), for
build_request()/send(), salvo.stream(), a response's is_closed and
is_stream_consumed, and its history. Each test checks what faultd saw."""
import asyncio
import os

import pytest

import salvo


def seen(r):
    return r.json()["headers"]


def test_client_headers_changed_after_it_was_made(srv):
    """httpx: client.headers is a mutable Headers whose changes reach the
    requests made after them; a request's own header of the same name
    wins; Response.request.headers shows what went, the client's
    included."""
    with salvo.Client(headers={"X-Keep": "k", "X-Gone": "g",
                               "X-Swap": "old"}) as c:
        assert dict(c.headers) == {"x-keep": "k", "x-gone": "g",
                                   "x-swap": "old"}
        h = seen(c.get(srv.url("/echo")))
        assert (h["x-keep"], h["x-gone"], h["x-swap"]) == ("k", "g", "old")
        c.headers["X-Swap"] = "new"
        c.headers["X-Token"] = "t1"
        del c.headers["X-Gone"]
        r = c.get(srv.url("/echo"), headers={"X-Own": "o"})
        h = seen(r)
        assert (h["x-keep"], h["x-swap"], h["x-token"], h["x-own"]) == (
            "k", "new", "t1", "o")
        assert "x-gone" not in h  # given at first, deleted since: not sent
        req = dict(r.request.headers)
        assert (req["x-keep"], req["x-swap"], req["x-own"]) == (
            "k", "new", "o") and "x-gone" not in req
        # The request's own header replaces the client's of its name.
        assert seen(c.get(srv.url("/echo"),
                          headers={"X-Token": "mine"}))["x-token"] == "mine"
        c.headers["User-Agent"] = "agent/2"
        assert seen(c.get(srv.url("/echo")))["user-agent"] == "agent/2"
        # Set whole: the old ones go.
        c.headers = {"X-Only": "1"}
        h = seen(c.get(srv.url("/echo")))
        assert h["x-only"] == "1" and "x-keep" not in h
        assert "x-token" not in h


def test_client_headers_unchanged_show_on_the_request(srv):
    """Response.request.headers holds the client's headers with the
    request's own, as httpx's does (they were sent, but not listed)."""
    with salvo.Client(headers={"X-Client": "c"}) as c:
        r = c.get(srv.url("/echo"), headers={"X-Req": "r"})
        assert seen(r)["x-client"] == "c"
        assert (r.request.headers["x-client"],
                r.request.headers["x-req"]) == ("c", "r")


def test_a_block_takes_the_client_headers_it_opened_with(srv):
    """salvo's rule (docs/python.md): a parallel block's requests carry
    the client's headers as they were when the block opened."""
    with salvo.Client(headers={"X-V": "1"}) as c:
        with c.parallel() as par:
            c.headers["X-V"] = "2"
            before = par.get(srv.url("/echo")).get_response()
        with c.parallel() as par:
            after = par.get(srv.url("/echo")).get_response()
    assert (seen(before)["x-v"], seen(after)["x-v"]) == ("1", "2")


def test_timeout_redirects_and_auth_set_on_the_client(srv):
    with salvo.Client() as c:
        t = c.timeout
        assert isinstance(t, salvo.Timeout) and t.read == 30.0
        assert c.follow_redirects is True and c.auth is None
        assert c.max_redirects == 10
        c.timeout = 0.3
        with pytest.raises(salvo.TimeoutException):
            c.get(srv.url("/delay/3000"))
        # A request's own timeout wins over the client's.
        assert c.get(srv.url("/delay/500"), timeout=10).status_code == 200
        assert c.timeout.read == 0.3
        c.follow_redirects = False
        assert c.get(srv.url("/redirect/1")).status_code == 302
        assert c.get(srv.url("/redirect/1"),
                     follow_redirects=True).status_code == 200
        c.auth = ("user", "pw")
        assert seen(c.get(srv.url("/echo")))["authorization"] == \
            "Basic dXNlcjpwdw=="
        # Refused when set, as a request refuses it, not at each request.
        with pytest.raises(TypeError, match="timeout"):
            c.timeout = "soon"
        with pytest.raises(TypeError):
            c.auth = 42
        with pytest.raises(ValueError, match="when making the client"):
            c.timeout = salvo.Timeout(5.0, connect=1.0)
        assert c.timeout.read == 0.3


def test_build_request_and_send(srv):
    """httpx: build_request merges the client's defaults into a Request;
    send sends it as it is, with the request hooks run on it; a Request
    made by hand is sent as it is too."""
    hooked = []
    with salvo.Client(base_url=srv.url("/echo"), params={"p": "1"},
                      headers={"X-C": "c"}, cookies={"s": "1"},
                      event_hooks={"request": [hooked.append]}) as c:
        req = c.build_request("POST", "/sub", json={"a": 1},
                              headers={"X-R": "r"}, timeout=5)
        assert (req.method, str(req.url)) == ("POST",
                                              srv.url("/echo/sub?p=1"))
        assert (req.headers["x-c"], req.headers["x-r"], req.headers["cookie"],
                req.content, req.extensions) == ("c", "r", "s=1", b'{"a":1}',
                                                 {"timeout": 5})
        assert hooked == []  # hooks are send()'s
        e = c.send(req).json()
        assert hooked == [req]
        assert (e["method"], e["target"], e["body"]) == (
            "POST", "/echo/sub?p=1", '{"a":1}')
        assert (e["headers"]["x-c"], e["headers"]["x-r"],
                e["headers"]["cookie"]) == ("c", "r", "s=1")
        mine = salvo.Request("GET", srv.url("/json/7"), headers={"X-M": "m"})
        r = c.send(mine)
        assert r.json() == {"id": 7, "name": "item 7"}
        assert r.request is mine  # the very one sent, as httpx's
        # A hand-made request carries the client's headers as they are.
        del c.headers["X-C"]
        c.headers["X-New"] = "n"
        h = c.send(salvo.Request("GET", srv.url("/echo"))).json()["headers"]
        assert "x-c" not in h and h["x-new"] == "n"
        r = c.send(c.build_request("GET", srv.url("/redirect/1")),
                   follow_redirects=False)
        assert r.status_code == 302
        with pytest.raises(TypeError, match="send"):
            c.build_request("GET", "/x", follow_redirects=True)


def test_a_request_made_with_httpx_arguments(srv):
    """httpx's Request takes params, cookies, data, files and json as a
    client's request does: faultd sees the same target, Cookie, body and
    Content-Type as from client.post with those arguments."""
    with salvo.Client() as c:
        for kw in ({"params": {"a": "b"}, "json": {"k": [1, "é"]},
                    "cookies": {"c": "d"}},
                   {"data": {"f": "1 2"}, "headers": {"X-H": "h"}},
                   {"files": {"up": ("a.txt", b"hi", "text/plain")}},
                   {"content": "é"}):
            url = srv.url("/echo?z=1")
            mine = c.send(salvo.Request("POST", url, **kw)).json()
            theirs = c.post(url, **kw).json()
            for e in (mine, theirs):  # multipart boundaries differ
                ct = e["headers"].get("content-type", "")
                if ct.startswith("multipart/"):
                    b = ct.split("boundary=")[1]
                    e["body"] = e["body"].replace(b, "B")
                    e["headers"]["content-type"] = ct.replace(b, "B")
            assert mine == theirs
        e = c.send(salvo.Request("POST", srv.url("/echo"), params=[
            ("a", "1"), ("a", "2")], json={"k": 1})).json()
        assert (e["target"], e["body"]) == ("/echo?a=1&a=2", '{"k":1}')
        assert e["headers"]["content-type"] == "application/json"


def test_send_streamed_and_salvo_stream(srv):
    """is_stream_consumed and is_closed as httpx sets them: a response
    read whole is both; a streamed one is neither until its body is read
    (or it is closed)."""
    with salvo.Client() as c:
        r = c.get(srv.url("/json/1"))
        assert r.is_closed and r.is_stream_consumed
        r = c.send(c.build_request("GET", srv.url("/bytes/200000")),
                   stream=True)
        assert not r.is_closed and not r.is_stream_consumed
        assert sum(len(b) for b in r.iter_bytes()) == 200000
        assert r.is_closed and r.is_stream_consumed
        r = c.get(srv.url("/bytes/200000"), stream=True)
        r.close()
        assert r.is_closed
    with salvo.stream("GET", srv.url("/bytes/1000")) as r:
        assert not r.is_closed
        assert len(r.read()) == 1000
    assert r.is_closed


def test_async_client_settings_and_send(srv):
    async def main():
        async with salvo.AsyncClient(base_url=srv.url("/echo")) as c:
            c.headers["X-A"] = "a"
            c.follow_redirects = False
            req = c.build_request("GET", "/x")
            r = await c.send(req)
            assert r.request is req
            async with c.parallel() as par:
                p = par.get("/y")
                r2 = await p.get_response()
            r3 = await c.get(srv.url("/redirect/1"))
            return seen(r)["x-a"], seen(r2)["x-a"], r3.status_code
    assert asyncio.run(main()) == ("a", "a", 302)


def test_trust_env_false_is_what_salvo_does(srv, monkeypatch):
    """salvo reads no proxy from the environment (docs/python.md):
    trust_env=False is taken, True refused by name; a proxy variable
    that leads nowhere changes nothing on either transport."""
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:1")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:1")
    for transport in ("native", "libcurl"):
        with salvo.Client(trust_env=False, transport=transport) as c:
            assert c.get(srv.url("/json/1")).status_code == 200
    with pytest.raises(TypeError, match="trust_env=True"):
        salvo.Client(trust_env=True)


def test_a_function_as_the_client_auth(srv):
    """httpx takes a function as a client's auth, as a request's: it is
    given each request and returns it, its headers changed."""
    def sign(req):
        req.headers["X-Signed"] = req.method + " " + req.url.path
        return req
    with salvo.Client(auth=sign) as c:
        assert c.auth is sign
        assert seen(c.get(srv.url("/echo")))["x-signed"] == "GET /echo"
        # A request's own auth wins.
        h = seen(c.get(srv.url("/echo"), auth=("u", "p")))
        assert "x-signed" not in h and h["authorization"].startswith("Basic")


def test_history_is_every_redirect_followed(srv):
    """httpx: Response.history lists the redirect responses, oldest first,
    each with its status, headers, URL, request and the history before
    it; Response.request is the request sent last. A streamed response
    has its history, redirects and final URL too (they were the first
    request's: 0 redirects, the URL asked for)."""
    with salvo.Client() as c:
        r = c.get(srv.url("/redirect/2"))
        assert r.redirects == 2 and str(r.url) == srv.url("/redirect/0")
        assert [(h.status_code, str(h.url), h.headers["location"],
                 h.is_redirect, h.content, len(h.history))
                for h in r.history] == [
            (302, srv.url("/redirect/2"), "/redirect/1", True, b"", 0),
            (302, srv.url("/redirect/1"), "/redirect/0", True, b"", 1)]
        assert str(r.history[1].history[0].url) == srv.url("/redirect/2")
        assert [str(h.request.url) for h in r.history] == [
            srv.url("/redirect/2"), srv.url("/redirect/1")]
        assert str(r.request.url) == srv.url("/redirect/0")
        with c.stream("GET", srv.url("/redirect/2")) as s:
            assert (s.redirects, str(s.url), len(s.history)) == (
                2, srv.url("/redirect/0"), 2)
            assert s.read()
        assert c.get(srv.url("/echo")).history == []
        assert c.get(srv.url("/redirect/2"),
                     follow_redirects=False).history == []
        # RFC 9110 15.4.4: after a 303 the POST goes on as a GET, without
        # its body; the hop answered the POST.
        r = c.post(srv.url("/redirect-to?status=303&url=/echo"),
                   content=b"payload")
        assert (r.json()["method"], r.request.method, r.request.content) == (
            "GET", "GET", b"")
        hop = r.history[0]
        assert (hop.status_code, hop.request.method,
                hop.request.content) == (303, "POST", b"payload")
        # A hop outlives its response, its client and a collection.
        del r
    import gc
    gc.collect()
    assert hop.status_code == 303 and hop.history == []


def test_history_requests_show_what_went_to_another_origin(srv):
    """Across origins the caller's Authorization does not go (libsalvo's
    rule, as httpx's), and the request a response shows says so: what
    /echo saw and what Response.request claims agree."""
    other = srv.url("/echo").replace("127.0.0.1", "localhost")
    with salvo.Client(headers={"Authorization": "Bearer t0k"}) as c:
        r = c.get(srv.url(f"/redirect-to?status=307&url={other}"))
        assert "authorization" not in seen(r)
        assert "authorization" not in r.request.headers
        assert str(r.request.url) == other
        assert r.history[0].request.headers["authorization"] == "Bearer t0k"


def test_history_async(srv):
    async def main():
        async with salvo.AsyncClient() as c:
            r = await c.get(srv.url("/redirect/2"))
            assert [h.status_code for h in r.history] == [302, 302]
            assert isinstance(r.history[0], salvo.AsyncResponse)
            async with c.stream("GET", srv.url("/redirect/1")) as s:
                assert [str(h.url) for h in s.history] == [
                    srv.url("/redirect/1")]
                await s.aread()
    asyncio.run(main())


def test_next_request_follows_by_hand(srv):
    """httpx: with follow_redirects=False, next_request is the request
    the redirect would make; sent in a loop, it gets where following
    would. A 303 after a POST goes on as a GET without the body, a 307
    keeps both (RFC 9110 15.4); faultd's /echo says what came."""
    with salvo.Client(follow_redirects=False) as c:
        r = c.get(srv.url("/redirect/2"))
        hops = 0
        while r.next_request is not None:
            r = c.send(r.next_request)
            hops += 1
        assert (hops, r.status_code, str(r.url)) == (
            2, 200, srv.url("/redirect/0"))
        assert r.next_request is None
        for status, method, body in ((303, "GET", ""), (307, "POST", "x")):
            r = c.post(srv.url(f"/redirect-to?status={status}&url=/echo"),
                       content=b"x")
            nxt = r.next_request
            assert (nxt.method, str(nxt.url)) == (method, srv.url("/echo"))
            e = c.send(nxt).json()
            assert (e["method"], e["body"]) == (method, body)


def test_block_responses_carry_their_request(srv):
    """docs/python.md: a block request made with keywords or client
    defaults has its Request on its response (method, URL with params,
    the client's headers as the block opened, the request's own), through
    get_response() and next_response(), sync and async; a bare URL on a
    plain client carries none (RuntimeError, httpx's unset request)."""
    url = srv.url("/echo")
    with salvo.Client(headers={"X-C": "c"}) as c:
        with c.parallel() as p:
            a = p.post(url, params={"q": "1"}, headers={"X-R": "r"},
                       content=b"hi")
            p.get(url, params={"q": "2"})
            ra = a.get_response()
            rb = p.next_response()
    assert (ra.request.method, str(ra.request.url)) == ("POST", url + "?q=1")
    assert (ra.request.headers["x-c"], ra.request.headers["x-r"],
            ra.request.content) == ("c", "r", b"hi")
    assert ra.json()["headers"]["x-r"] == "r"
    assert str(rb.request.url) == url + "?q=2"
    with salvo.parallel() as p:
        r = p.get(url).get_response()
        with pytest.raises(RuntimeError):
            r.request

    async def main():
        async with salvo.AsyncClient(headers={"X-C": "c"}) as c:
            async with c.parallel() as p:
                x = p.get(url, params={"q": "3"})
                return await x.get_response()
    r = asyncio.run(main())
    assert str(r.request.url) == url + "?q=3"
    assert r.request.headers["x-c"] == "c"


def test_http_transport_configures_the_client(srv):
    """httpx's documented `transport=httpx.HTTPTransport(retries=N)`:
    a connection lost before an answer is tried again N times (faultd
    counts each request under its key), and no status is retried, as
    httpx retries none (the client's own default retries a 503)."""
    def seen(key):
        return srv.stats()["keys"].get(key, 0)
    with salvo.Client(transport=salvo.HTTPTransport(retries=2)) as c:
        assert c.get(srv.url("/flaky?key=t2&fail=2&mode=close")).text == \
            "ok\n"
        assert seen("t2") == 3
        assert c.get(srv.url("/flaky?key=t3&fail=1&status=503"))\
            .status_code == 503
        assert seen("t3") == 1
    with salvo.Client(transport=salvo.HTTPTransport(retries=1)) as c:
        with pytest.raises(salvo.TransportError):
            c.get(srv.url("/flaky?key=t1&fail=2&mode=close"))
        assert seen("t1") == 2
    with salvo.Client() as c:  # salvo's own default retries statuses
        assert c.get(srv.url("/flaky?key=d1&fail=1&status=503")).text == \
            "ok\n"
        assert seen("d1") == 2
    with salvo.HTTPTransport() as t:
        with pytest.raises(NotImplementedError):
            t.handle_request(salvo.Request("GET", srv.url("/ok")))


def test_http_transport_refuses_what_salvo_cannot_do(srv):
    for kw in ({"uds": "/tmp/sock"}, {"local_address": "0.0.0.0"},
               {"socket_options": [(1, 2, 3)]}):
        with pytest.raises(ValueError, match=next(iter(kw))):
            salvo.HTTPTransport(**kw)
    with pytest.raises(ValueError, match="retries"):
        salvo.HTTPTransport(retries=-1)
    with pytest.raises(ValueError, match="both"):
        salvo.HTTPTransport(http1=False, http2=False)
    with pytest.raises(TypeError, match="trust_env"):
        salvo.HTTPTransport(trust_env=True)
    with pytest.raises(TypeError, match="transport"):
        salvo.Client(transport=object())


def test_async_http_transport_h2_only(srv):
    """http1=False, http2=True: HTTP/2 with prior knowledge to an
    http:// URL, as httpx's transport speaks it; faultd speaks HTTP/1.1
    only, so the request fails rather than falling back."""
    async def main():
        async with salvo.AsyncHTTPTransport(http1=False, http2=True) as t:
            with pytest.raises(NotImplementedError):
                await t.handle_async_request(salvo.Request("GET", "/"))
            async with salvo.AsyncClient(transport=t) as c:
                await c.get(srv.url("/ok"))
    if os.environ.get("SALVO_HTTP_VERSION"):
        pytest.skip("the suite's own HTTP version overrides the client's")
    with pytest.raises(salvo.TransportError):
        asyncio.run(main())


def test_proxy_object_keeps_its_password(srv):
    """httpx's Proxy(url, auth=...): the credentials reach libsalvo in
    the URL it is given, and no repr shows the password."""
    p = salvo.Proxy("http://127.0.0.1:9/", auth=("u", "pa:ss@"))
    assert p._salvo_url == "http://u:pa%3Ass%40@127.0.0.1:9"
    assert "pa:ss" not in repr(p) and "u" in repr(p)
    q = salvo.Proxy("http://me:s3cret@127.0.0.1:9")
    assert q.auth == ("me", "s3cret") and "s3cret" not in repr(q)
    with pytest.raises(ValueError, match="scheme|proxy URL"):
        salvo.Proxy("ftp://x")
    with pytest.raises(ValueError, match="headers"):
        salvo.Proxy("http://127.0.0.1:9", headers={"X": "1"})
    # Through a proxy that is not there: the error names the proxy's
    # port, not its credentials.
    with salvo.Client(proxy=p, timeout=5) as c:
        with pytest.raises(salvo.ConnectError) as e:
            c.get(srv.url("/ok"))
        assert "port 9" in str(e.value) and "pa" not in str(e.value)
