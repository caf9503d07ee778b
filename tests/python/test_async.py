"""API 1, asynchronous (async-client.md, the async part of
parallel-block.md, concurrent-requests-example.md), on asyncio and uvloop."""
import asyncio

import pytest

import salvo


async def two_in_parallel(srv):
    client = salvo.AsyncClient()
    async with client.parallel() as parallel:
        pending_one = await parallel.get(srv.url("/delay/200"))  # as written
        pending_two = parallel.get(srv.url("/delay/200"))         # or not
        response_one = await pending_one.get_response()
        response_two = await pending_two.get_response()
    await client.aclose()
    assert response_one.status_code == response_two.status_code == 200
    assert srv.stats()["inflight_peak"] == 2


@pytest.mark.asyncio
async def test_async_parallel_block(srv):
    await two_in_parallel(srv)


def test_async_parallel_block_on_uvloop(srv):
    uvloop = pytest.importorskip("uvloop")
    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(two_in_parallel(srv))
    finally:
        loop.close()


@pytest.mark.asyncio
async def test_next_response_and_errors(srv):
    async with salvo.AsyncClient(max_retries=0) as client:
        async with client.parallel() as parallel:
            parallel.get(srv.url("/delay/150"))
            parallel.get("http://127.0.0.1:1/")
            parallel.get(srv.url("/json/1"))
            got, errors = [], []
            while parallel.has_pending_responses:
                try:
                    got.append((await parallel.next_response()).status_code)
                except salvo.ConnectError as e:
                    errors.append(e.code)
    assert sorted(got) == [200, 200]
    assert errors == ["ECONNECT"]


@pytest.mark.asyncio
async def test_gather_and_post(srv):
    """concurrent-requests-example.md, against a real server."""
    async with salvo.AsyncClient() as client:
        responses = await asyncio.gather(*[
            client.get(srv.url(f"/delay/{100 + i}")) for i in range(20)])
        assert [r.url for r in responses] == [
            srv.url(f"/delay/{100 + i}") for i in range(20)]
        assert srv.stats()["inflight_peak"] == 20  # all at once
        r = await client.post(srv.url("/echo"), json={"name": "salvo"})
        assert r.json()["body"] == '{"name":"salvo"}'


@pytest.mark.asyncio
async def test_async_streaming(srv):
    async with salvo.AsyncClient() as client:
        r = await client.get(srv.url("/bytes/3000000"), stream=True)
        try:
            n = 0
            async for chunk in r.stream():
                n += len(chunk)
        finally:
            await r.close()
        assert n == 3000000
        r = await client.get(srv.url("/json/4"), stream=True)
        assert (await r.read()).startswith(b'{"id":4')


@pytest.mark.asyncio
async def test_async_stream_that_stalls_is_a_read_timeout(srv):
    """As the sync iterator (test_httpx.py): a body that stops coming
    raises ReadTimeout from the async iterator, and the loop goes on."""
    async with salvo.AsyncClient(timeout=1, max_retries=0) as client:
        r = await client.get(srv.url("/drip/2?interval=10000"), stream=True)
        try:
            with pytest.raises(salvo.ReadTimeout):
                async for _ in r.aiter_bytes():
                    pass
        finally:
            await r.close()
        r = await client.get(srv.url("/json/5"))
        assert r.json()["id"] == 5


@pytest.mark.asyncio
async def test_a_shielded_await_keeps_the_request(srv):
    """A cancelled await cancels its request (test_cancellation.py);
    asyncio.shield is how a caller waits a while without giving it up:
    the request goes on and its response can still be collected, by
    every await of it."""
    async with salvo.AsyncClient() as client:
        async with client.parallel() as parallel:
            p = parallel.get(srv.url("/delay/300"))
            inner = asyncio.ensure_future(p.get_response())
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(inner), 0.05)
            r = await p.get_response()
            assert r.status_code == 200
            assert (await inner) is r


@pytest.mark.asyncio
async def test_cancelling_one_await_wakes_the_others(srv):
    async with salvo.AsyncClient() as client:
        async with client.parallel() as parallel:
            p = parallel.get(srv.url("/hang"))
            other = asyncio.ensure_future(p.get_response())
            await asyncio.sleep(0.01)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(p.get_response(), 0.05)
            with pytest.raises(salvo.CancelledError):
                await asyncio.wait_for(other, 5)


@pytest.mark.asyncio
async def test_leaving_the_async_block_cancels(srv):
    base = srv.stats()["conns_open"]
    async with salvo.AsyncClient() as client:
        async with client.parallel() as parallel:
            for _ in range(50):
                parallel.get(srv.url("/hang"))
            while srv.stats()["inflight"] < 50:
                await asyncio.sleep(0.01)
    assert srv.wait_stat("conns_open", base, 10) == base
