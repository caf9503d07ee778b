"""The package's whole public surface, each name used as a user would,
against faultd: every verb on every object that has the verbs (the server
records the method), the response's attributes and body iterators, the
headers' views, the pendings' cancel, the one-call form's return types and
the proxy's error. tests/check_coverage.py lists any public name no test
touches."""
import asyncio

import pytest

import salvo

def each_verb(obj, url, **kw):
    """Every verb of obj (a module, client or block), by name, so that a
    reader (and tests/check_coverage.py) sees each called."""
    return {"get": obj.get(url, **kw), "post": obj.post(url, **kw),
            "put": obj.put(url, **kw), "patch": obj.patch(url, **kw),
            "delete": obj.delete(url, **kw), "head": obj.head(url, **kw),
            "options": obj.options(url, **kw)}


def method_seen(r):
    """The method the server read (HEAD has no body: its status says)."""
    return r.json()["method"] if r.content else "HEAD"


def test_module_verbs(srv):
    for verb, r in each_verb(salvo, srv.url("/echo")).items():
        assert r.status_code == 200
        assert method_seen(r) == verb.upper()
    assert salvo.request("PURGE", srv.url("/echo")).json()["method"] == "PURGE"


def test_client_verbs_and_state(srv):
    with salvo.Client() as client:
        assert not client.is_closed
        for verb, r in each_verb(client, srv.url("/echo")).items():
            assert method_seen(r) == verb.upper()
    assert client.is_closed
    with pytest.raises(salvo.ClosedError):
        client.get(srv.url("/echo"))


def test_parallel_verbs_pendings_and_cancel(srv):
    with salvo.Client() as client:
        par = client.parallel()
        assert isinstance(par, salvo.Parallel)
        with par:
            pend = each_verb(par, srv.url("/echo"))
            assert all(isinstance(p, salvo.Pending) for p in pend.values())
            hung = par.get(srv.url("/hang"))
            assert srv.wait_stat("inflight", 1) == 1
            hung.cancel()
            with pytest.raises(salvo.CancelledError):
                hung.get_response()
            for verb, p in pend.items():
                assert method_seen(p.get_response()) == verb.upper()
            assert not par.closed
        assert par.closed
        assert srv.wait_stat("inflight", 0) == 0  # the cancel closed it


def test_response_attributes(srv):
    r = salvo.get(srv.url("/flaky?key=surface&fail=1"), key="k1")
    assert isinstance(r, salvo.Response)
    assert (r.status_code, r.attempts, r.key) == (200, 2, "k1")
    assert r.content == r.read()
    assert r.extensions == {"http_version": r.http_version.encode(),
                            "reason_phrase": b"OK"}
    h = r.headers
    assert isinstance(h, salvo.Headers)
    assert ("content-type", h["Content-Type"]) in h.items()
    assert "content-type" in h.keys()
    assert len(h.multi_items()) == len(h)
    with salvo.get(srv.url("/bytes/70000"), stream=True) as r:
        body = b"".join(r.iter_bytes())
    assert len(body) == 70000
    with salvo.get(srv.url("/bytes/5000"), stream=True) as r:
        assert len(b"".join(r.raw())) == 5000


def test_async_surface(srv):
    async def main():
        async with salvo.AsyncClient() as client:
            assert not client.is_closed
            calls = each_verb(client, srv.url("/echo"))
            for verb, r in zip(calls, await asyncio.gather(*calls.values())):
                assert isinstance(r, salvo.AsyncResponse)
                assert method_seen(r) == verb.upper()
            async with client.parallel() as par:
                assert isinstance(par, salvo.AsyncParallel)
                pend = each_verb(par, srv.url("/echo"))
                assert all(isinstance(p, salvo.AsyncPending)
                           for p in pend.values())
                hung = par.get(srv.url("/hang"))
                hung.cancel()
                with pytest.raises(salvo.CancelledError):
                    await hung.get_response()
                for verb, p in pend.items():
                    r = await p.get_response()
                    assert (method_seen(r), r.attempts) == (verb.upper(), 1)
            r = await client.get(srv.url("/bytes/70000"), stream=True)
            assert len(await r.aread()) == 70000
            r = await client.get(srv.url("/bytes/9000"), stream=True)
            assert sum([len(c) async for c in r.aiter_bytes()]) == 9000
            r = await client.get(srv.url("/bytes/3000"), stream=True)
            assert sum([len(c) async for c in r.raw()]) == 3000
            await r.aclose()
            r = await client.get(srv.url("/json/4"))
            assert r.content == await r.read()
        assert client.is_closed
    asyncio.run(main())


def test_return_types(srv):
    urls = [srv.url("/json/1"), srv.url("/json/2")]
    rt = salvo.ReturnType
    assert salvo.parallel_requests(urls, return_type=rt.JSON)[1]["id"] == 2
    assert '"id":1' in salvo.parallel_requests(urls,
                                               return_type=rt.TEXT)[0]
    assert salvo.parallel_requests(urls, return_type=rt.CONTENT)[0] \
        .startswith(b"{")


def test_proxy_error(srv):
    """A proxy that refuses the tunnel (faultd answers CONNECT with 404):
    ProxyError, and no status of the proxy's passed off as the origin's."""
    with salvo.Client(proxy=srv.base, max_retries=0, verify=False) as c:
        with pytest.raises(salvo.ProxyError) as e:
            c.get("https://127.0.0.1:1/")
    assert "CONNECT" in str(e.value)
