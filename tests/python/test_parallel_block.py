"""API 1, synchronous: the parallel block of parallel-block.md, plain
requests, responses, errors and streaming; proven from faultd's
records."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import salvo


def test_two_requests_in_parallel(srv):
    """The reference's first example: both in flight at once."""
    with salvo.parallel() as parallel:
        pending_one = parallel.get(srv.url("/delay/200"))
        pending_two = parallel.get(srv.url("/delay/200"))
        response_one = pending_one.get_response()
        response_two = pending_two.get_response()
    assert response_one.status_code == response_two.status_code == 200
    assert response_one.text == "ok\n"
    assert srv.stats()["inflight_peak"] == 2


def test_next_response_as_completed(srv):
    with salvo.parallel() as parallel:
        for counter in range(1, 10):
            parallel.get(srv.url(f"/delay/{(10 - counter) * 30}"))
        order = []
        while parallel.has_pending_responses:
            r = parallel.next_response()
            order.append(str(r.url))
    assert len(order) == 9
    # Completion order: the shortest delay first.
    assert order[0].endswith("/delay/30") and order[-1].endswith("/delay/270")


def test_errors_only_at_collection(srv):
    with salvo.parallel() as parallel:
        bad = parallel.get("ftp://127.0.0.1/")          # no error here
        refused = parallel.get("http://127.0.0.1:1/")
        fine = parallel.get(srv.url("/json/1"))
        assert fine.get_response().json() == {"id": 1, "name": "item 1"}
        with pytest.raises(salvo.InvalidURL) as e:
            bad.get_response()
        assert e.value.code == "EINVAL" and e.value.url == "ftp://127.0.0.1/"
        with pytest.raises(salvo.ConnectError) as e:
            refused.get_response()
        assert e.value.code == "ECONNECT"
        assert isinstance(e.value, salvo.TransportError)
        assert isinstance(e.value, salvo.RequestError)
        assert isinstance(e.value, salvo.HTTPError)


def test_leaving_the_block_cancels(srv):
    """1,000 requests in flight are cancelled when the block ends: the
    server sees every connection go."""
    c = salvo.Client(concurrency=1000)
    base = srv.stats()["conns_open"]
    par = c.parallel()
    with par:
        for _ in range(1000):
            par.get(srv.url("/hang"))
        assert srv.wait_stat("inflight", 1000, 30) == 1000
        t0 = time.monotonic()
    dt = time.monotonic() - t0
    print(f"1,000 in flight cancelled in {dt * 1000:.1f} ms")
    assert srv.wait_stat("inflight", 0, 10) == 0
    assert srv.wait_stat("conns_open", base, 10) == base
    assert dt < 1.0, f"closing took {dt:.3f} s (about 0.02 s idle)"
    c.close()


def test_client_options_reach_the_server(srv):
    with salvo.Client(headers={"X-Team": "salvo"}, auth=("me", "pw"),
                      timeout=5) as client:
        with client.parallel() as parallel:
            echo = parallel.post(srv.url("/echo"), params={"q": "a b"},
                                 json={"n": 1}).get_response().json()
    assert echo["method"] == "POST"
    assert echo["query"] == "q=a%20b"
    assert echo["headers"]["x-team"] == "salvo"
    assert echo["headers"]["authorization"].startswith("Basic ")
    assert echo["headers"]["content-type"] == "application/json"
    assert echo["body"] == '{"n":1}'


def test_response(srv):
    r = salvo.get(srv.url("/cookies/set?a=1&b=2"))
    assert r.status_code == 200 and r.is_success
    assert r.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert r.headers["SET-COOKIE"] == "a=1; Path=/, b=2; Path=/"
    assert r.http_version == (
        "HTTP/2" if os.environ.get("SALVO_HTTP_VERSION") else "HTTP/1.1")
    assert r.elapsed.total_seconds() > 0
    assert r.url == srv.url("/cookies/set?a=1&b=2")
    r = salvo.get(srv.url("/status/404"))
    assert not r.is_success
    with pytest.raises(salvo.HTTPStatusError) as e:
        r.raise_for_status()
    assert e.value.response is r
    assert salvo.get(srv.url("/latin1")).text == "café crème brûlée\n"


def test_single_requests_and_exceptions(srv):
    with salvo.Client(max_retries=0, timeout=0.3) as client:
        assert client.get(srv.url("/json/2")).json()["id"] == 2
        with pytest.raises(salvo.TimeoutException) as e:
            client.get(srv.url("/hang"))
        assert e.value.code == "ETIMEDOUT"
        with pytest.raises(salvo.RemoteProtocolError):
            client.get(srv.url("/garbage"))
        with pytest.raises(salvo.ReadError):
            client.get(srv.url("/reset/1000"))
        # A streamed body cut after its head came: the error says why.
        with client.stream("GET", srv.url("/reset/100000")) as r:
            with pytest.raises(salvo.ReadError,
                               match="reading the body failed: .+ .EIO"):
                r.read()
        with pytest.raises(salvo.TooManyRedirects):
            salvo.Client(max_redirects=1).get(srv.url("/redirect/3"))


def test_streaming_keeps_memory_flat(srv):
    """1 GiB pulled through stream() in a child process: its peak RSS
    stays far under 64 MiB. The peak is the child's own (VmHWM of its
    memory map): getrusage would report at least this pytest process's
    size, which Linux carries over fork and exec, and which Dask's tests
    make large."""
    code = textwrap.dedent(f"""
        import salvo
        with salvo.Client() as c:
            r = c.get({srv.url('/bytes/1073741824')!r}, stream=True)
            n = sum(len(chunk) for chunk in r.stream())
            r.close()
        with open("/proc/self/status") as f:
            hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM"))
        print(n, hwm)
    """)
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=300, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    n, rss = map(int, out.stdout.split())
    print(f"1 GiB streamed in {time.monotonic() - t0:.2f} s, "
          f"peak RSS {rss / 1024:.1f} MiB")
    assert n == 1 << 30
    assert rss < 64 * 1024


def test_stream_close_stops_the_transfer(srv):
    base = srv.stats()["conns_open"]
    with salvo.Client() as c:
        r = c.get(srv.url("/endless"), stream=True)
        it = r.stream()
        assert len(next(it)) > 0
        r.close()
        assert srv.wait_stat("conns_open", base, 10) == base
        with pytest.raises(salvo.CancelledError):
            next(it)


def test_ctrl_c_while_waiting(srv):
    """SIGINT interrupts a wait: KeyboardInterrupt, promptly."""
    # A process started in the background inherits SIGINT ignored, and
    # Python then leaves it so: the child asks for the usual handler.
    code = textwrap.dedent(f"""
        import signal, sys, time, salvo
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with salvo.parallel() as par:
            p = par.get({srv.url('/hang')!r})
            print("waiting", flush=True)
            try:
                p.get_response()
            except KeyboardInterrupt:
                print("interrupted", time.monotonic(), flush=True)
                sys.exit(0)
        sys.exit(1)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "waiting"
    srv.wait_stat("inflight", 1, 10)
    time.sleep(0.2)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    line = proc.stdout.readline().split()
    proc.wait(timeout=10)
    assert proc.returncode == 0
    assert line[0] == "interrupted"
    took = float(line[1]) - sent
    print(f"KeyboardInterrupt {took * 1000:.0f} ms after SIGINT")
    assert took < 1.5, f"{took:.3f} s (the wait checks every 0.1 s)"


def test_fork_after_use(srv):
    assert salvo.get(srv.url("/json/1")).status_code == 200
    pid = os.fork()
    if pid == 0:
        try:
            ok = salvo.get(srv.url("/json/2")).json()["id"] == 2
            os._exit(0 if ok else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert salvo.get(srv.url("/json/3")).json()["id"] == 3


@pytest.mark.parametrize("transport", ["auto", "native", "libcurl"])
def test_transport_choice(srv, transport):
    """Each transport gives the same response, gzip decoded, headers and
    redirect count alike; an unknown name is a ValueError before anything
    is sent."""
    with salvo.Client(transport=transport) as client:
        with client.parallel() as parallel:
            plain = parallel.get(srv.url("/redirect/1"))
            gz = parallel.get(srv.url("/gzip"))
            echo = plain.get_response()
            assert echo.status_code == 200
            assert echo.json()["path"] == "/redirect/0"
            assert gz.get_response().text == "compressed hello\n"
    with pytest.raises(ValueError):
        salvo.Client(transport="carrier pigeon")


def test_resolve_pins_names(srv):
    """Client(resolve=[...]) reaches names that no resolver knows, as
    curl's --resolve; the name is what the Host header says."""
    pin = f"api.example.test:{srv.port}:127.0.0.1"
    with salvo.Client(resolve=[pin]) as client:
        r = client.get(f"http://api.example.test:{srv.port}/echo")
        assert r.json()["headers"]["host"] == f"api.example.test:{srv.port}"
    with pytest.raises(ValueError, match="resolve"):
        salvo.Client(resolve=["no port here"])
