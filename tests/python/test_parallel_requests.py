"""API 2: the one-call form of parallel-requests-howto.md, every example
run against faultd, with what the originals promised and did not do."""
import asyncio
import json

import pytest

import salvo
from salvo import ReturnType, parallel_requests, parallel_requests_async


def test_basic_repeated_with_concurrency(srv):
    results = parallel_requests(urls=[srv.url("/delay/100")] * 5,
                                concurrency=3, return_type="text")
    assert results == ["ok\n"] * 5
    assert srv.stats()["inflight_peak"] == 3  # capped, no rate limit set


def test_keys(srv):
    results = parallel_requests(
        urls=[srv.url("/json/1"), srv.url("/json/2")], keys=["cpython", "pypy"])
    assert list(results) == ["cpython", "pypy"]
    assert results["pypy"]["name"] == "item 2"


def test_parse_func_and_its_failures(srv):
    def extract(resp):
        return {"name": resp["name"]}
    results = parallel_requests(
        urls=[srv.url("/json/1"), srv.url("/json/2")], parse_func=extract)
    assert results == [{"name": "item 1"}, {"name": "item 2"}]

    def picky(resp):
        if resp["id"] == 2:
            raise KeyError("no")
        return resp["id"]
    out = parallel_requests(urls=[srv.url("/json/1"), srv.url("/json/2")],
                            parse_func=picky, return_exceptions=True)
    assert out[0] == 1 and isinstance(out[1], KeyError)


def test_return_types(srv):
    u = srv.url("/json/7")
    assert parallel_requests([u])[0]["id"] == 7
    assert parallel_requests([u], return_type="text")[0].startswith('{"id":7')
    assert parallel_requests([u], return_type="content")[0].startswith(b"{")
    r = parallel_requests([u], return_type=ReturnType.RESPONSE)[0]
    assert r.status_code == 200 and r.json()["id"] == 7
    assert "content-type" in r.headers
    # JSON whatever the content type, with where it failed.
    out = parallel_requests([srv.url("/notjson"), srv.url("/status/200")],
                            return_exceptions=True)
    assert isinstance(out[0], salvo.DecodingError)
    assert "line 2" in str(out[0])
    assert out[0].url == srv.url("/notjson") and out[0].code == "EPARSE"


def test_params_per_url_reach_the_server(srv):
    results = parallel_requests(
        urls=[srv.url("/echo"), srv.url("/echo")],
        params=[{"ref": "main"}, {}])
    assert results[0]["query"] == "ref=main"
    assert results[1]["query"] == ""
    one_for_all = parallel_requests(urls=[srv.url("/echo")] * 2,
                                    params={"page": 2})
    assert [r["query"] for r in one_for_all] == ["page=2", "page=2"]


def test_headers_and_method_per_url(srv):
    """headers and method, like params, one per URL (a list of mappings, a
    list of methods) or one for all (a mapping or list of pairs, a str):
    docs/python.md said so, and a list of dicts was a TypeError."""
    url = srv.url("/echo")
    out = parallel_requests([url] * 3, method=["GET", "POST", "DELETE"],
                            headers=[{"X-A": "1"}, None, {"X-A": b"\xe9"}],
                            return_type="content")
    seen = [json.loads(o.decode("latin-1")) for o in out]
    assert [e["method"] for e in seen] == ["GET", "POST", "DELETE"]
    assert [e["headers"].get("x-a") for e in seen] == ["1", None, "\xe9"]
    out = parallel_requests([url] * 2, headers=[("X-A", "1"), ("X-B", "2")])
    assert all((e["headers"]["x-a"], e["headers"]["x-b"]) == ("1", "2")
               for e in out)
    before = srv.stats()["requests"]
    with pytest.raises(ValueError, match="1 method for 2 URLs"):
        parallel_requests([url] * 2, method=["GET"])
    with pytest.raises(ValueError, match="3 headers for 2 URLs"):
        parallel_requests([url] * 2, headers=[{}, {}, {}])
    assert srv.stats()["requests"] == before


def test_combined_options(srv):
    results = parallel_requests(
        urls=[srv.url("/flaky?key=c1&fail=1"), srv.url("/echo")],
        keys=["flaky", "echo"], concurrency=3, max_retries=2, timeout=10,
        rate_limit=10, headers={"User-Agent": "MyApp/1.0",
                                "Accept": "application/vnd.github.v3+json"},
        return_type="text")
    assert results["flaky"] == "ok\n"
    assert srv.stats()["keys"]["c1"] == 2  # retried once
    import json
    echo = json.loads(results["echo"])
    assert echo["headers"]["user-agent"] == "MyApp/1.0"
    assert echo["headers"]["accept"] == "application/vnd.github.v3+json"


def test_failures_keep_every_result(srv):
    urls = [srv.url("/json/1"), "http://127.0.0.1:1/", srv.url("/json/3")]
    with pytest.raises(salvo.ParallelRequestsError) as e:
        parallel_requests(urls, max_retries=0)
    assert e.value.results[0]["id"] == 1 and e.value.results[2]["id"] == 3
    assert isinstance(e.value.results[1], salvo.ConnectError)
    assert [i for i, _ in e.value.errors] == [1]
    out = parallel_requests(urls, max_retries=0, return_exceptions=True,
                            keys=["a", "b", "c"])
    assert out["a"]["id"] == 1 and isinstance(out["b"], salvo.ConnectError)


def test_bad_arguments_send_nothing(srv):
    with pytest.raises(ValueError, match="duplicate key"):
        parallel_requests([srv.url("/json/1")] * 2, keys=["k", "k"])
    with pytest.raises(ValueError, match="keys"):
        parallel_requests([srv.url("/json/1")] * 2, keys=["k"])
    with pytest.raises(ValueError, match="params"):
        parallel_requests([srv.url("/json/1")] * 2, params=[{}])
    assert srv.stats()["requests"] == 0


def test_async_version(srv):
    async def fetch():
        return await parallel_requests_async(
            urls=[srv.url("/json/1"), srv.url("/json/2")], concurrency=5)
    assert [r["id"] for r in asyncio.run(fetch())] == [1, 2]


def test_session_keeps_cookies_across_batches(srv):
    async def run():
        async with salvo.ParallelRequests(concurrency=5) as client:
            await client.request(urls=[srv.url("/cookies/set?sid=42")],
                                 return_type="text")
            return await client.request(urls=[srv.url("/echo")])
    echo = asyncio.run(run())[0]
    assert echo["headers"]["cookie"] == "sid=42"
    with salvo.ParallelRequests() as client:
        client.request([srv.url("/cookies/set?x=1")], return_type="text")
        assert client.request([srv.url("/echo")])[0]["headers"]["cookie"] \
            == "x=1"
    # A new call is a new session: no cookies.
    assert "cookie" not in parallel_requests([srv.url("/echo")])[0]["headers"]


def test_rate_limit_holds_at_any_concurrency(srv):
    import time
    t0 = time.monotonic()
    parallel_requests([srv.url("/json/1")] * 11, concurrency=100,
                      rate_limit=20)
    assert time.monotonic() - t0 >= 0.45  # 10 intervals of 50 ms at least
