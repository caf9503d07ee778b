"""Object lifetimes in the extension: whatever order a program closes or
drops clients, blocks and responses in, from whatever thread, the
interpreter never crashes, and a closed object says so with ClosedError."""
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import salvo

# Closing a client while a block made from it is open, then using the
# block: before the extension kept its objects alive by reference, this
# ended in SIGSEGV or a double free every time.
CRASH = textwrap.dedent("""
    import salvo, sys
    url = sys.argv[1]
    for _ in range(30):
        c = salvo.Client()
        par = c.parallel()
        p = par.get(url)
        c.close()
        for touch in (lambda: par.get(url), p.get_response,
                      lambda: par.has_pending_responses, par.close):
            try:
                touch()
            except salvo.ClosedError:
                pass
        with salvo.Client() as c2:
            par2 = c2.parallel()
        par2.close()
    print("alive")
""")


def test_close_client_then_use_block(srv):
    p = subprocess.run([sys.executable, "-c", CRASH, srv.url("/delay/50")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == "alive"


def test_closed_objects_say_so(srv):
    base = srv.stats()["conns_open"]  # other tests' pooled connections
    c = salvo.Client()
    par = c.parallel()
    pending = par.get(srv.url("/delay/2000"))
    c.close()
    with pytest.raises(salvo.ClosedError, match="client was closed"):
        pending.get_response()
    with pytest.raises(salvo.ClosedError):
        par.get(srv.url("/json/1"))
    with pytest.raises(salvo.ClosedError):
        c.parallel()
    with pytest.raises(salvo.ClosedError):
        c.get(srv.url("/json/1"))
    par.close()  # closing twice is fine
    c.close()
    assert issubclass(salvo.ClosedError, RuntimeError)
    # The cancelled request's connection went with the client.
    assert srv.wait_stat("conns_open", base) == base


def test_responses_outlive_their_client(srv):
    with salvo.Client() as c:
        r = c.get(srv.url("/json/7"))
        par = c.parallel()
        s = par.get(srv.url("/endless"), stream=True).get_response()
    assert r.json() == {"id": 7, "name": "item 7"}
    assert r.headers["content-type"] == "application/json"
    # The stream of a closed block ends with its error, never a crash.
    with pytest.raises(salvo.RequestError):
        s.read()


def test_close_from_another_thread_wakes_the_waiter(srv):
    """A thread waiting on a block (the GIL released, the block pinned)
    while another closes its client: the waiter gets ClosedError within a
    wait slice, and the close waits for it before freeing anything."""
    c = salvo.Client()
    par = c.parallel()
    pending = par.get(srv.url("/hang"))
    seen = []

    def wait():
        try:
            pending.get_response()
        except Exception as e:  # noqa: BLE001 - recorded for the assert
            seen.append(e)

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.2)  # let it block in the extension
    c.close()
    t.join(10)
    assert not t.is_alive()
    assert isinstance(seen[0], salvo.ClosedError), seen


def test_a_dropped_block_is_collected(srv):
    """A block never closed, its pendings never collected, is a cycle (the
    block holds its outstanding pendings, each pending its block): the
    garbage collector frees it, which closes it and cancels what it had
    out, as leaving `with` would."""
    import gc
    c = salvo.Client()
    par = c.parallel()
    for _ in range(5):
        par.get(srv.url("/hang"))
    assert srv.wait_stat("inflight", 5) == 5
    del par
    gc.collect()
    assert srv.wait_stat("inflight", 0) == 0
    assert not gc.garbage
    c.close()


def test_a_pending_keeps_its_outcome(srv):
    with salvo.Client() as c:
        with c.parallel() as par:
            a = par.get(srv.url("/json/1"))
            b = par.get(srv.url("/status/503"))
            first = a.get_response()
            assert a.get_response() is first  # the same, not a new one
            got = []
            while par.has_pending_responses:
                try:
                    got.append(par.next_response())
                except salvo.HTTPError as e:
                    got.append(e)
            # next_response settled b: its pending answers the same.
            assert b.get_response() is got[0]
            assert got[0].status_code == 503
        # Settled before the block closed: still there after.
        assert a.get_response() is first
        assert repr(a).endswith("settled>")


STRESS = textwrap.dedent("""
    import gc, random, sys, threading, salvo
    url, rounds = sys.argv[1], int(sys.argv[2])
    big = url.rsplit("/", 2)[0] + "/bytes/200000"
    rng = random.Random(7)
    for n in range(rounds):
        c = salvo.Client(concurrency=8)
        blocks = [c.parallel() for _ in range(3)]
        pendings = [b.get(url) for b in blocks for _ in range(2)]
        stream = blocks[0].get(big, stream=True)
        # A pending whose block nobody else holds: it keeps the block.
        orphan = c.parallel().get(url)
        def use(b, p):
            try:
                p.get_response(timeout=0.05)
            except Exception:
                pass
            try:
                b.get(url)
            except Exception:
                pass
        def read():
            try:
                r = stream.get_response()
                for _ in r.stream(4096):
                    pass
            except Exception:
                pass
        def shut(x):
            try:
                x.close()
            except Exception:
                pass
        def single():
            try:
                c.get(url)
                c.clear_cookies()
            except Exception:
                pass
        def dropped():
            # A block left unclosed, its pendings outstanding: a cycle
            # (block, pendings) that only the collector frees.
            try:
                b = c.parallel()
                b.get(url)
                b.get(url, params={"q": "1"})
            except Exception:
                pass
        jobs = [lambda b=b, p=p: use(b, p)
                for b, p in zip(blocks * 2, pendings)]
        jobs.append(lambda: use(blocks[1], orphan))
        jobs += [lambda b=b: shut(b) for b in blocks]
        jobs += [read, single, dropped, lambda: gc.collect(0),
                 lambda: shut(c)]
        rng.shuffle(jobs)
        ts = [threading.Thread(target=j) for j in jobs]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        c.close()
    print("rounds", rounds)
""")


def test_close_in_random_order_from_threads(srv):
    """Clients and blocks closed from several threads in random order while
    requests run and other threads wait and submit. Run here on the
    ordinary build; tests/python_asan.sh runs it under AddressSanitizer
    for 1,000 rounds."""
    p = subprocess.run([sys.executable, "-c", STRESS, srv.url("/delay/20"),
                        "60"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "rounds 60" in p.stdout


def stress_script() -> str:
    return STRESS
