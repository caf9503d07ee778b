"""client.cookies as httpx users read and change it: the cookies servers
set are there to read, one set with a domain goes where that domain
matches (RFC 6265 5.1.3, 5.4), one deleted is no longer sent. Evidence is
what faultd's /echo saw in the Cookie field; names are pinned to
127.0.0.1 (resolve=) so that a domain can match one host and not
another."""
import asyncio

import pytest

import salvo

NAMES = ("a.example.test", "b.example.test", "other.test")


def pinned(srv, **kw):
    return salvo.Client(resolve=[f"{n}:{srv.port}:127.0.0.1" for n in NAMES],
                        **kw)


def sent(client, srv, host="127.0.0.1"):
    """The Cookie field a request to host carried, as a sorted list."""
    got = client.get(f"http://{host}:{srv.port}/echo").json()["headers"]
    return sorted(p for p in got.get("cookie", "").split("; ") if p)


def test_reads_what_servers_set(srv):
    """httpx's client.cookies after a response set some: the same names,
    values and (host-only) domain."""
    with salvo.Client() as c:
        assert dict(c.cookies) == {} and not c.cookies
        c.get(srv.url("/cookies/set?flavour=oat&size=big"))
        assert dict(c.cookies) == {"flavour": "oat", "size": "big"}
        assert c.cookies["flavour"] == "oat"
        assert c.cookies.get("size", domain="127.0.0.1", path="/") \
            == "big"
        assert c.cookies.get("size", domain="elsewhere.test") is None
        assert len(c.cookies) == 2 and "size" in c.cookies
        # changed by the server: read afresh
        c.get(srv.url("/cookies/set?flavour=rye"))
        assert c.cookies["flavour"] == "rye"


def test_set_with_a_domain_goes_where_it_matches(srv):
    """A cookie set with a domain is the jar's: sent to that domain and
    its subdomains, as httpx's jar sends it, and nowhere else."""
    with pinned(srv) as c:
        c.cookies.set("tok", "t1", domain="example.test")
        c.cookies.set("here", "1", domain="a.example.test", path="/echo")
        assert sent(c, srv, "a.example.test") == ["here=1", "tok=t1"]
        assert sent(c, srv, "b.example.test") == ["tok=t1"]
        assert sent(c, srv, "other.test") == []
        assert c.cookies.get("tok", domain="example.test") == "t1"
        assert c.cookies.get("tok", domain=".example.test") == "t1"
        # replaced, then deleted, by name, domain and path
        c.cookies.set("tok", "t2", domain="example.test")
        assert sent(c, srv, "b.example.test") == ["tok=t2"]
        c.cookies.delete("tok")
        assert sent(c, srv, "a.example.test") == ["here=1"]
        del c.cookies["here"]
        assert sent(c, srv, "a.example.test") == []
        with pytest.raises(KeyError):
            del c.cookies["here"]


def test_without_a_domain_sent_everywhere(srv):
    """httpx's client.cookies["name"] = value (no domain) goes with every
    request, with the jar's own after it in one field."""
    with pinned(srv, cookies={"given": "g"}) as c:
        c.cookies["mine"] = "m"
        c.get(f"http://a.example.test:{srv.port}/cookies/set?srv=s")
        assert sent(c, srv, "a.example.test") == ["given=g", "mine=m",
                                                  "srv=s"]
        assert sent(c, srv, "other.test") == ["given=g", "mine=m"]
        assert dict(c.cookies) == {"given": "g", "mine": "m", "srv": "s"}


def test_server_set_cookie_deleted_and_cleared(srv):
    with salvo.Client() as c:
        c.get(srv.url("/cookies/set?a=1&b=2&c=3"))
        c.cookies.delete("a")
        assert sent(c, srv) == ["b=2", "c=3"]
        c.cookies.clear(domain="127.0.0.1")
        assert sent(c, srv) == [] and dict(c.cookies) == {}
        c.get(srv.url("/cookies/set?d=4"))
        c.cookies["e"] = "5"
        c.cookies.clear()
        assert sent(c, srv) == [] and not c.cookies


def test_replaced_whole(srv):
    """httpx's client.cookies = {...}: what was there goes, the jar's
    too."""
    with pinned(srv) as c:
        c.get(srv.url("/cookies/set?old=1"))
        jar = salvo.Cookies({"x": "1"})
        jar.set("y", "2", domain="other.test")
        c.cookies = jar
        assert sent(c, srv) == ["x=1"]
        assert sent(c, srv, "other.test") == ["x=1", "y=2"]
        with pytest.raises(TypeError):
            c.cookies = 42
        assert dict(c.cookies) == {"x": "1", "y": "2"}  # left as it was


def test_refused_without_a_word_of_the_value(srv):
    """A value a Cookie field cannot carry is a ValueError that names the
    cookie and not its value (a value may be a secret); nothing is
    stored."""
    with salvo.Client() as c:
        for name, value in (("n", "s3cr3t;admin=1"), ("n", "s3cr3t\r\nX: 1"),
                            ("n", "s3cr3t\tx"), ("a=b", "s3cr3t")):
            with pytest.raises(ValueError) as e:
                c.cookies.set(name, value, domain="127.0.0.1")
            assert "s3cr3t" not in str(e.value)
        with pytest.raises(ValueError, match="path"):
            c.cookies.set("n", "v", domain="127.0.0.1", path="relative")
        assert sent(c, srv) == [] and dict(c.cookies) == {}


def test_no_jar(srv):
    """cookies=False: nothing servers set is kept, and a cookie for a
    domain has nowhere to go; one without a domain is still sent."""
    with salvo.Client(cookies=False) as c:
        c.get(srv.url("/cookies/set?a=1"))
        assert dict(c.cookies) == {}
        with pytest.raises(ValueError, match="cookies=False"):
            c.cookies.set("b", "2", domain="127.0.0.1")
        c.cookies["c"] = "3"
        assert sent(c, srv) == ["c=3"]


def test_closed_client(srv):
    c = salvo.Client()
    cookies = c.cookies
    c.close()
    with pytest.raises(salvo.ClosedError):
        dict(cookies)


def test_parents_client_after_fork(srv):
    """In a child, a client made before fork() has no I/O thread: its jar
    is refused at once (ClosedError), never waited for."""
    import os
    import time
    with salvo.Client() as c:
        c.get(srv.url("/cookies/set?a=1"))
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                dict(c.cookies)
            except salvo.ClosedError:
                code = 0
            except BaseException:
                code = 2
            os._exit(code)
        deadline = time.monotonic() + 30
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                pytest.fail("the child hung on its parent's cookie jar")
            time.sleep(0.01)
        assert os.waitstatus_to_exitcode(status) == 0
        assert dict(c.cookies) == {"a": "1"}  # the parent's, untouched


def test_async_client(srv):
    async def main():
        async with salvo.AsyncClient() as c:
            await c.get(srv.url("/cookies/set?a=1"))
            assert dict(c.cookies) == {"a": "1"}
            c.cookies.set("b", "2", domain="127.0.0.1")
            r = await c.get(srv.url("/echo"))
            return r.json()["headers"]["cookie"]
    assert sorted(asyncio.run(main()).split("; ")) == ["a=1", "b=2"]
