"""Cancellation as asyncio users expect it: a cancelled await cancels its
request on the wire (faultd sees the connection close) and nothing of it
is held; Ctrl-C in a synchronous call cancels what that call started.
Every check is the server's: faultd's /hang never answers, so a request
to it stops being in flight only when its connection closes; its count of
requests in flight drops to zero while the client process still lives.
Left running, the request would stay in flight until the 30 s attempt
timeout. (Open connections are not counted: a completed request's
connection rightly stays in the pool.)"""
import asyncio
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import salvo

CLOSE_WITHIN = 1.0  # seconds: the server sees the connection close


def closed_within(srv, started: float) -> float:
    """Waits for faultd to count no request in flight (a /hang request
    ends only when its connection closes); the seconds it took since
    `started`, failing past CLOSE_WITHIN with the measured value."""
    left = srv.wait_stat("inflight", 0, 10)
    took = time.monotonic() - started
    assert left == 0, f"{left} request(s) still in flight after {took:.2f} s"
    assert took < CLOSE_WITHIN, f"closed after {took:.3f} s"
    return took


def test_cancelled_await_of_a_request(srv):
    async def main():
        async with salvo.AsyncClient() as client:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.get(srv.url("/hang")), 0.2)
            t0 = time.monotonic()
            assert srv.stats()["inflight"] <= 1
            closed_within(srv, t0)
            # Nothing of it is held: the block has no response waiting.
            par = client._single
            await asyncio.sleep(0.05)
            assert not par._ready and not par._by_id and not par._dropped
            assert par._b._pending == 0  # the block's own count
    asyncio.run(main())


def test_cancelled_await_of_a_pending(srv):
    async def main():
        async with salvo.AsyncClient() as client:
            async with client.parallel() as par:
                slow = par.get(srv.url("/hang"))
                quick = par.get(srv.url("/json/1"))
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(slow.get_response(), 0.2)
                closed_within(srv, time.monotonic())
                # The block goes on; the cancelled one says so.
                assert (await quick.get_response()).json()["id"] == 1
                with pytest.raises(salvo.CancelledError):
                    await slow.get_response()
    asyncio.run(main())


def test_cancelled_one_call_form(srv):
    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(salvo.parallel_requests_async(
                [srv.url("/hang")] * 4, concurrency=4), 0.3)
        closed_within(srv, time.monotonic())
    asyncio.run(main())


INTERRUPTED = textwrap.dedent("""
    import signal, sys, time, salvo
    signal.signal(signal.SIGINT, signal.default_int_handler)
    url, how = sys.argv[1], sys.argv[2]
    client = salvo.Client()
    print("waiting", flush=True)
    try:
        if how == "request":
            client.get(url)
        elif how == "pending":
            with client.parallel() as par:
                p = par.get(url)
                try:
                    p.get_response()
                finally:
                    # Still open here: what was cancelled, the interrupt
                    # did, not the block's close.
                    print("pending", par._pending, flush=True)
        else:
            salvo.parallel_requests([url] * 3, concurrency=3)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        time.sleep(30)  # alive: the connections close by the cancel alone
""")


@pytest.mark.parametrize("how", ["request", "pending", "one-call"])
def test_ctrl_c_cancels_what_the_call_started(srv, how):
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED,
                             srv.url("/hang"), how],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "waiting"
        want = 3 if how == "one-call" else 1
        assert srv.wait_stat("inflight", want, 10) == want
        time.sleep(0.2)  # the call is waiting in the extension
        proc.send_signal(signal.SIGINT)
        lines = []
        while not lines or lines[-1] != "interrupted":
            line = proc.stdout.readline()
            assert line, f"the child ended early: {lines}"
            lines.append(line.strip())
        closed_within(srv, time.monotonic())
        if how == "pending":
            assert lines[0] == "pending 0"
        assert proc.poll() is None  # the process lives on
    finally:
        proc.kill()
        proc.wait()
