"""httpx's exceptions, with httpx's hierarchy: code written for httpx
names them in except clauses, where a name that does not exist raises
AttributeError as another error passes. The timeouts salvo can tell
apart are raised as httpx's: a lookup or connect too slow is
ConnectTimeout, a wait in the queue too long is PoolTimeout, on both
transports."""
import os
import socket
import time

import pytest

import salvo

# httpx 0.23's tree, from its documentation: each class and its parent.
HTTPX_TREE = {
    "RequestError": "HTTPError", "TransportError": "RequestError",
    "TimeoutException": "TransportError",
    "ConnectTimeout": "TimeoutException", "ReadTimeout": "TimeoutException",
    "WriteTimeout": "TimeoutException", "PoolTimeout": "TimeoutException",
    "NetworkError": "TransportError", "ConnectError": "NetworkError",
    "ReadError": "NetworkError", "WriteError": "NetworkError",
    "CloseError": "NetworkError", "ProtocolError": "TransportError",
    "LocalProtocolError": "ProtocolError",
    "RemoteProtocolError": "ProtocolError", "ProxyError": "TransportError",
    "UnsupportedProtocol": "TransportError",
    "DecodingError": "RequestError", "TooManyRedirects": "RequestError",
    "HTTPStatusError": "HTTPError", "StreamConsumed": "StreamError",
    "StreamClosed": "StreamError", "ResponseNotRead": "StreamError",
    "RequestNotRead": "StreamError",
}


def test_every_httpx_exception_with_its_parent():
    for name, parent in HTTPX_TREE.items():
        assert issubclass(getattr(salvo, name), getattr(salvo, parent)), name
        assert name in salvo.__all__
    assert issubclass(salvo.StreamError, RuntimeError)


@pytest.fixture()
def unanswered():
    """A port whose SYNs go unanswered: a listener never accepting, its
    queue full (Linux drops a SYN then), so a connect waits out its
    limit on 127.0.0.1."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(lsock.getsockname())
        fillers.append(s)
    time.sleep(0.2)
    yield lsock.getsockname()[1]
    for s in fillers:
        s.close()
    lsock.close()


@pytest.mark.parametrize("transport", ["native", "libcurl"])
@pytest.mark.parametrize("timeout", [salvo.Timeout(10, connect=0.3), 0.3])
def test_connect_too_slow_is_connect_timeout(unanswered, transport, timeout):
    """The connect's limit, or the attempt's (timeout=0.3: as httpx's
    Client(timeout=0.3)) running out while it connects."""
    with salvo.Client(timeout=timeout, max_retries=0,
                      transport=transport) as c:
        t0 = time.monotonic()
        with pytest.raises(salvo.ConnectTimeout) as e:
            c.get(f"http://127.0.0.1:{unanswered}/")
        took = time.monotonic() - t0
    assert e.value.code == "ETIMEDOUT"
    assert isinstance(e.value, salvo.TimeoutException)
    assert took < 5, f"the limit was 0.3 s; the request took {took}"


@pytest.mark.parametrize("transport", ["native", "libcurl"])
def test_queue_wait_too_long_is_pool_timeout(srv, transport):
    """One slot, taken by a slow request: the next waits in the queue
    past queue_timeout, and is never sent (faultd saw one request)."""
    with salvo.Client(concurrency=1, queue_timeout=0.2, max_retries=0,
                      transport=transport) as c:
        with c.parallel() as p:
            slow = p.get(srv.url("/delay/1500"))
            late = p.get(srv.url("/echo"))
            with pytest.raises(salvo.PoolTimeout) as e:
                late.get_response()
            assert slow.get_response().status_code == 200
    assert e.value.code == "ETIMEDOUT"
    assert srv.stats()["requests"] == 1


def test_attempt_limit_is_timeout_exception(srv):
    """The attempt's own limit (no byte of the answer in time) is the
    base class: salvo's limit bounds the whole attempt, which httpx has no
    class for."""
    with salvo.Client(timeout=0.3, max_retries=0) as c:
        with pytest.raises(salvo.TimeoutException) as e:
            c.get(srv.url("/delay/3000"))
    assert type(e.value) is salvo.TimeoutException


def test_a_url_not_http_is_unsupported_protocol(srv):
    """Another scheme, or none, is httpx's UnsupportedProtocol (httpx's
    crawlers catch it to skip a link), and an InvalidURL as salvo raised
    it before; on the plain, block and async paths. A URL that is bad
    otherwise stays InvalidURL alone."""
    import asyncio
    for url in ("ftp://127.0.0.1/x", "mailto:a@b", "127.0.0.1/a"):
        with pytest.raises(salvo.UnsupportedProtocol) as e:
            salvo.get(url)
        assert isinstance(e.value, salvo.InvalidURL), url
        assert e.value.code == "EINVAL" and e.value.url == url
    with salvo.Client() as c, c.parallel() as par:
        p = par.get("ftp://127.0.0.1/x")
        with pytest.raises(salvo.UnsupportedProtocol):
            p.get_response()

    async def main():
        async with salvo.AsyncClient() as c:
            await c.get("gopher://127.0.0.1/")
    with pytest.raises(salvo.UnsupportedProtocol):
        asyncio.run(main())
    with pytest.raises(salvo.InvalidURL) as e:
        salvo.get("http://[::1")
    assert type(e.value) is salvo.InvalidURL


@pytest.mark.parametrize("transport", ["native", "libcurl"])
def test_a_server_that_closes_is_remote_protocol_error(srv, transport):
    """A server that closes before its answer is whole (no answer, a head
    or a body cut short) is httpx's RemoteProtocolError ("Server
    disconnected without sending a response"), which code written for
    httpx catches to try again, and a ReadError as salvo raised it
    before; a streamed body cut short too. Over HTTP/2 the server's
    close reaches the client as the stream's reset (tests/h2front.py),
    which httpx raises as RemoteProtocolError too. A TCP reset stays
    ReadError."""
    h1 = not os.environ.get("SALVO_HTTP_VERSION")
    paths = ["/close", "/short/100"]
    if h1:  # HTTP/1.1's bytes
        paths.append("/wire?hex=" + b"HTTP/1.1 200 OK\r\nContent-Le".hex())
    with salvo.Client(max_retries=0, transport=transport) as c:
        for path in paths:
            with pytest.raises(salvo.RemoteProtocolError) as e:
                c.get(srv.url(path))
            assert type(e.value) is salvo.IncompleteResponse, path
            assert isinstance(e.value, salvo.ReadError), path
            assert e.value.code == "EIO", path
        with c.stream("GET", srv.url("/short/300000")) as r:
            assert r.status_code == 200
            with pytest.raises(salvo.IncompleteResponse):
                for _ in r.iter_bytes():
                    pass
        with pytest.raises(salvo.ReadError) as e:
            c.get(srv.url("/reset/1000"))
        assert isinstance(e.value, salvo.RemoteProtocolError) != h1, e.value


@pytest.mark.parametrize("transport", ["native", "libcurl"])
def test_a_redirect_not_followed_says_why(srv, transport):
    """A redirect to a scheme salvo does not fetch is httpx's
    UnsupportedProtocol (a crawler catches it to skip a link), one whose
    Location is no URL to follow is RemoteProtocolError (httpx: "Invalid
    URL in location header"), and more than max_redirects is
    TooManyRedirects alone; each is a TooManyRedirects as salvo raised
    it before. The Location is quoted as the server sent it."""
    from urllib.parse import quote

    def fails(location, **kw):
        with salvo.Client(transport=transport, **kw) as c:
            with pytest.raises(salvo.TooManyRedirects) as e:
                c.get(srv.url("/redirect-to?url=" + quote(location, safe="")))
        assert e.value.code == "EREDIRECT"
        return e.value
    for location in ("ftp://127.0.0.1/x", "mailto:a@b", "javascript:x()"):
        e = fails(location)
        assert type(e) is salvo.UnsupportedRedirect, location
        assert isinstance(e, salvo.UnsupportedProtocol), location
        assert f'"{location}"' in str(e), e
    for location in ("http://[::1", "http://", "http:x"):
        e = fails(location)
        assert type(e) is salvo.InvalidRedirect, location
        assert isinstance(e, salvo.RemoteProtocolError), location
    e = fails("/redirect/3", max_redirects=2)
    assert type(e) is salvo.TooManyRedirects
    assert srv.stats()["requests"] == 9  # each Location refused unsent


def test_the_exception_names_its_request(srv):
    """httpx's own example, `except httpx.RequestError as exc:
    print(exc.request.url)`, and `exc.request` of an HTTPStatusError: the
    request that failed, its method and URL, on every path a request is
    made by (the default client, a client's plain and keyword paths, the
    async client). salvo's exceptions had no `request`: the handler
    itself raised AttributeError."""
    import asyncio
    refused = "http://127.0.0.1:1/x"

    def failed(call):
        with pytest.raises(salvo.HTTPError) as info:
            call()
        return info.value.request

    req = failed(lambda: salvo.get(refused))
    assert (req.method, str(req.url)) == ("GET", refused)
    req = failed(lambda: salvo.post(refused, json={"a": 1}))
    assert (req.method, req.headers["content-type"]) == ("POST",
                                                         "application/json")
    with salvo.Client() as c:
        assert failed(lambda: c.delete(refused)).method == "DELETE"
        req = failed(lambda: c.put(refused, params={"a": "1"}))
        assert (req.method, str(req.url)) == ("PUT", refused + "?a=1")
        url = srv.url("/status/503")
        req = failed(lambda: c.get(url).raise_for_status())
        assert (req.method, str(req.url)) == ("GET", url)

    async def main():
        async with salvo.AsyncClient() as c:
            try:
                await c.patch(refused, content=b"x")
            except salvo.ConnectError as exc:
                return exc.request
    req = asyncio.run(main())
    assert (req.method, str(req.url)) == ("PATCH", refused)
    # The one-call form's failures, each with its own request.
    with pytest.raises(salvo.ParallelRequestsError) as info:
        salvo.parallel_requests([refused, srv.url("/status/404")],
                                method="PUT", params={"a": "1"})
    assert [(k, x.request.method, str(x.request.url)) for k, x in
            info.value.errors] == [(0, "PUT", refused + "?a=1"),
                                   (1, "PUT", srv.url("/status/404?a=1"))]
    # Made by hand, as httpx's: request= given, else RuntimeError.
    with pytest.raises(RuntimeError):
        salvo.ConnectError("x").request
    r = salvo.Request("GET", "http://h/")
    assert salvo.ConnectError("x", request=r).request is r
