"""httpx's authentication classes: salvo.Auth flows (a generator that may
see the response and send the request again) and salvo.DigestAuth (RFC
7616), against faultd's /digest, which computes the answer itself with
OpenSSL and counts every request it got under its key. curl --digest
agrees with the route (MD5, SHA-256, with and without -sess)."""
import asyncio

import pytest

import salvo


def digest_url(srv, key, **q):
    q.setdefault("key", key)
    return srv.url("/digest?" + "&".join(f"{k}={v}" for k, v in q.items()))


def sent(srv, key):
    return srv.stats()["keys"].get(key, 0)


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256",
                                       "SHA-256-sess", "SHA-512-256",
                                       "SHA-512-256-sess", "SHA", "SHA-512"])
def test_digest_answers_the_challenge_then_at_once(srv, algorithm):
    """RFC 7616 3.3: a 401 with a Digest challenge is answered with the
    response the server computes too; the challenge is kept, so that the
    next request answers it at once, its nonce count one more (3.4: nc
    counts the requests made with that nonce)."""
    auth = salvo.DigestAuth("user", "pass")
    with salvo.Client() as c:
        r = c.get(digest_url(srv, "a", algorithm=algorithm), auth=auth)
        assert r.status_code == 200, r.text
        assert r.json()["nc"] == "00000001"
        assert r.json()["algorithm"] == algorithm
        assert [h.status_code for h in r.history] == [401]
        assert "Digest" in r.history[0].headers["www-authenticate"]
        assert sent(srv, "a") == 2  # the challenge's request, and answered
        r = c.get(digest_url(srv, "b", algorithm=algorithm), auth=auth)
        assert (r.status_code, r.json()["nc"], r.history) == (
            200, "00000002", [])
        assert sent(srv, "b") == 1  # no challenge needed this time


def test_libsalvo_digest_by_option(srv):
    """libsalvo's own Digest (auth_scheme=1, salvo_config's
    SALVO_AUTH_DIGEST, as the command's --digest), given by name with the
    client's credentials, with no Python flow: the first request answered
    after its 401, the next at once from the kept challenge."""
    with salvo.Client(auth=("user", "pass"), auth_scheme=1) as c:
        for key in ("lib1", "lib2"):
            r = c.get(digest_url(srv, key, algorithm="SHA-256"))
            assert (r.status_code, r.json()["algorithm"]) == (200, "SHA-256")
            assert r.history == []
    keys = srv.stats()["keys"]
    assert (keys["lib1"], keys["lib2"]) == (2, 1)
    with pytest.raises(ValueError, match="auth_scheme"):
        salvo.Client(auth_scheme=1)


def test_digest_uri_is_the_target_sent(srv):
    """RFC 7616 3.4: uri is the request-target; a URL with bytes outside
    ASCII goes percent-encoded, and the answer names it so (faultd
    compares the two)."""
    with salvo.Client() as c:
        r = c.get(digest_url(srv, "u") + "&x=éü",
                  auth=salvo.DigestAuth("user", "pass"))
    assert r.status_code == 200, r.text
    assert r.json()["uri"].endswith("&x=%C3%A9%C3%BC")


def test_digest_without_qop_and_a_stale_nonce(srv):
    """A challenge without qop is answered in RFC 2069's form (no nc, no
    cnonce); a kept challenge the server no longer takes (a new nonce)
    is answered again, once."""
    with salvo.Client(auth=salvo.DigestAuth("user", "pass")) as c:
        r = c.get(digest_url(srv, "q", qop=""))
        assert (r.status_code, r.json()["nc"]) == (200, "")
        r = c.get(digest_url(srv, "n", nonce="fresh"))
        assert r.status_code == 200 and len(r.history) == 1
        assert sent(srv, "n") == 2


def test_digest_wrong_password_gives_the_401_once(srv):
    """A wrong password: the second 401 is the answer (no loop); the
    caller sees it with the first in its history."""
    with salvo.Client() as c:
        r = c.get(digest_url(srv, "w", **{"pass": "other"}),
                  auth=salvo.DigestAuth("user", "pass"))
        assert r.status_code == 401 and len(r.history) == 1
        assert r.text == "digest: wrong response\n"
    assert sent(srv, "w") == 2


def test_digest_sends_a_post_body_again(srv):
    """The flow's second request is the whole request: a POST's body goes
    with it (the caller asked for authentication, which httpx resends
    the same way); the route counts its bytes."""
    with salvo.Client() as c:
        r = c.post(digest_url(srv, "p"), content=b"x" * 1000,
                   auth=salvo.DigestAuth("user", "pass"))
    assert r.status_code == 200 and r.json()["body_len"] == 1000
    assert sent(srv, "p") == 2


def test_digest_auth_int_alone_is_refused(srv):
    """qop=auth-int (a digest of the body) is not supported: a
    ProtocolError naming it, and nothing sent after the challenge."""
    with salvo.Client() as c:
        with pytest.raises(salvo.ProtocolError, match="auth-int"):
            c.get(digest_url(srv, "i", qop="auth-int"),
                  auth=salvo.DigestAuth("user", "pass"))
    assert sent(srv, "i") == 1


def test_digest_on_an_async_client_and_send(srv):
    """AsyncClient runs the flow's async form; send() runs it too."""
    async def main():
        async with salvo.AsyncClient() as c:
            r = await c.get(digest_url(srv, "x"),
                            auth=salvo.DigestAuth("user", "pass"))
            assert r.status_code == 200 and len(r.history) == 1
            req = c.build_request("GET", digest_url(srv, "y"))
            r = await c.send(req, auth=salvo.DigestAuth("user", "pass"))
            assert r.status_code == 200
    asyncio.run(main())
    assert (sent(srv, "x"), sent(srv, "y")) == (2, 2)
    with salvo.Client() as c:
        r = c.send(c.build_request("GET", digest_url(srv, "z")),
                   auth=salvo.DigestAuth("user", "pass"))
        assert r.status_code == 200
    assert sent(srv, "z") == 2


class Bearer(salvo.Auth):
    """The httpx documentation's own example of a custom scheme."""

    def __init__(self, token):
        self.token = token

    def auth_flow(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def test_an_auth_subclass_everywhere(srv):
    """An Auth subclass that sets a header works as a request's auth, a
    client's, a block's request's and the one-call form's."""
    def seen(r):
        return r.json()["headers"]["authorization"]
    with salvo.Client() as c:
        assert seen(c.get(srv.url("/echo"), auth=Bearer("t1"))) == \
            "Bearer t1"
    with salvo.Client(auth=Bearer("t2")) as c:
        assert seen(c.get(srv.url("/echo"))) == "Bearer t2"
        with c.parallel() as p:
            assert seen(p.get(srv.url("/echo")).get_response()) == \
                "Bearer t2"
    out = salvo.parallel_requests([srv.url("/echo")], auth=Bearer("t3"))
    assert out[0]["headers"]["authorization"] == "Bearer t3"


class Refresh(salvo.Auth):
    """A flow that looks at the response: on a 401 it gets a new token
    and sends the request again (one of httpx's documented uses)."""

    requires_response_body = True

    def __init__(self):
        self.bodies = []

    def auth_flow(self, request):
        request.headers["X-Token"] = "old"
        response = yield request
        self.bodies.append(response.content)
        if response.status_code == 401:
            request.headers["X-Token"] = "new"
            yield request


def test_a_flow_sees_the_response_and_sends_again(srv):
    """The first answer (faultd's 401) reaches the flow, body read even
    when streaming (requires_response_body); the request it yields again
    is sent; the 401 is the final response's history, as httpx keeps it."""
    url = srv.url("/flaky?key=r&fail=1&status=401")
    flow = Refresh()
    with salvo.Client() as c:
        with c.stream("GET", url, auth=flow) as r:
            assert r.status_code == 200 and r.read() == b"ok\n"
            assert [h.status_code for h in r.history] == [401]
    assert flow.bodies == [b"flaky\n"]
    assert sent(srv, "r") == 2


def test_a_flow_that_fails_closes_and_raises(srv):
    """An exception in a flow reaches the caller; nothing more is sent."""
    class Broken(salvo.Auth):
        def auth_flow(self, request):
            yield request
            raise ValueError("no token")
    with salvo.Client() as c:
        with pytest.raises(ValueError, match="no token"):
            c.get(srv.url("/flaky?key=b&fail=1&status=401"), auth=Broken())
    assert sent(srv, "b") == 1


def test_digest_shared_by_threads_counts_each_request_once(srv):
    """RFC 7616 3.4: nc counts the requests sent with a nonce, and a
    server may refuse a count it saw before (a replay). One DigestAuth
    used by 8 threads at once sends 80 different counts after the
    challenge's 1, and faultd accepted every one."""
    import threading
    auth = salvo.DigestAuth("user", "pass")
    seen = []
    with salvo.Client(auth=auth) as c:
        assert c.get(digest_url(srv, "t0")).json()["nc"] == "00000001"

        def work():
            for _ in range(10):
                r = c.get(digest_url(srv, "t"))
                seen.append((r.status_code, r.json()["nc"]))
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert {s for s, _ in seen} == {200}
    assert sorted(int(nc, 16) for _, nc in seen) == list(range(2, 82))
    assert sent(srv, "t") == 80


def test_the_flow_protocol_by_hand(srv):
    """httpx's Auth protocol driven by hand, as a transport of one's own
    would: the base flow yields the request as it is; BasicAuth's sets
    its header; the sync and async forms read the bodies they are asked
    for; DigestAuth's first request carries nothing and its second the
    answer to the 401 given back to it."""
    req = salvo.Request("GET", srv.url("/digest?key=h"))
    for auth in (salvo.Auth(), salvo.BasicAuth("u", "p"),
                 salvo.DigestAuth("user", "pass")):
        assert auth.requires_request_body is False
        assert auth.requires_response_body is False
    assert next(salvo.Auth().auth_flow(req)) is req
    sent_req = next(salvo.BasicAuth("u", "p").sync_auth_flow(req))
    assert sent_req.headers["authorization"] == "Basic dTpw"

    class Reads(salvo.Auth):
        requires_request_body = True
        requires_response_body = True
    log = []
    fake = FakeMessage(log, "request")
    flow = Reads().sync_auth_flow(fake)
    assert next(flow) is fake
    with pytest.raises(StopIteration):
        flow.send(FakeMessage(log, "response"))

    async def drive():
        flow = Reads().async_auth_flow(fake)
        assert await flow.__anext__() is fake
        with pytest.raises(StopAsyncIteration):
            await flow.asend(FakeMessage(log, "response"))
    asyncio.run(drive())
    assert log == ["request read", "response read", "request aread",
                   "response aread"]

    req = salvo.Request("GET", srv.url("/digest?key=h"))  # Basic's is on
    flow = salvo.DigestAuth("user", "pass").sync_auth_flow(req)
    first = next(flow)
    assert "authorization" not in first.headers
    with salvo.Client() as c:
        challenge = c.send(first)
        assert challenge.status_code == 401
        second = flow.send(challenge)
        assert second.headers["authorization"].startswith("Digest ")
        assert c.send(second).status_code == 200


class FakeMessage:
    """A request or response for the protocol alone: its reads logged."""

    def __init__(self, log, what):
        self.log, self.what = log, what

    def read(self):
        self.log.append(f"{self.what} read")

    async def aread(self):
        self.log.append(f"{self.what} aread")


@pytest.mark.parametrize("challenge,why", [
    ('Digest nonce="n"', "no realm or no nonce"),
    ('Digest realm="r, nonce="n"', "no realm or no nonce"),
    ('Digest realm="r", nonce="n", algorithm=MD4', "'MD4' is not supported"),
    ('Digest realm="r", nonce="n", qop="auth-int"', "auth-int"),
])
def test_a_hostile_challenge_is_a_protocol_error(srv, challenge, why):
    """A Digest challenge that cannot be answered (no nonce, a quote left
    open, an algorithm or qop salvo does not do) is a ProtocolError that
    says why, and nothing is sent after it."""
    wire = (b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: " +
            challenge.encode() + b"\r\nContent-Length: 0\r\n\r\n")
    with salvo.Client() as c:
        with pytest.raises(salvo.ProtocolError, match=why):
            c.get(srv.url("/wire"), headers={"X-Wire": wire.hex()},
                  auth=salvo.DigestAuth("user", "pass"))
    assert srv.stats()["requests"] == 1


def test_challenges_the_flow_does_not_take(srv):
    """A 401 with only a Basic challenge, or a Digest one whose answer the
    server still refuses (the same 401 again), is the response: the flow
    answers a Digest challenge once; an escaped quote in a value is the
    quote (RFC 9110 5.6.4)."""
    for challenge, sent_n in (('Basic realm="x"', 1),
                              ('Digest realm="a\\"b", nonce="n"', 2)):
        srv.reset()
        wire = (b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: " +
                challenge.encode() + b"\r\nContent-Length: 0\r\n\r\n")
        with salvo.Client() as c:
            r = c.get(srv.url("/wire"), headers={"X-Wire": wire.hex()},
                      auth=salvo.DigestAuth("user", "pass"))
        assert r.status_code == 401 and len(r.history) == sent_n - 1
        assert srv.stats()["requests"] == sent_n
        if sent_n == 2:
            assert 'realm="a\\"b"' in r.request.headers["authorization"]


def test_digest_in_blocks_and_the_one_call_form(srv):
    """A flow runs whole in a parallel block too: each DigestAuth request
    answers its 401, collected by get_response() or next_response()
    (which hands over only the flows' last responses, with a plain
    request among them), sync and async, and in the one-call form; faultd
    counts two requests a key."""
    auth = salvo.DigestAuth
    with salvo.Client() as c:
        with c.parallel() as p:
            ps = [p.get(digest_url(srv, f"s{i}"), auth=auth("user", "pass"))
                  for i in range(4)]
            plain = p.get(srv.url("/json/1"))
            got = [p.next_response() for _ in range(3)]
            rest = [x.get_response() for x in ps] + [plain.get_response()]
            assert not p.has_pending_responses
    assert all(r.status_code == 200 for r in got + rest)
    assert sorted(len(r.history) for r in rest) == [0, 1, 1, 1, 1]
    assert all(r.history[0].request.url == r.request.url for r in rest[:4])
    assert "authorization" not in rest[0].history[0].request.headers

    async def main():
        async with salvo.AsyncClient(auth=auth("user", "pass")) as c:
            async with c.parallel() as p:
                xs = [p.get(digest_url(srv, f"a{i}")) for i in range(3)]
                first = await p.next_response()
                rest = [await x.get_response() for x in xs]
        return [first] + rest
    out = asyncio.run(main())
    assert [r.status_code for r in out] == [200] * 4
    urls = [digest_url(srv, f"o{i}") for i in range(3)]
    assert [r["user"] for r in salvo.parallel_requests(
        urls, auth=auth("user", "pass"))] == ["user"] * 3
    urls = [digest_url(srv, f"q{i}") for i in range(2)]
    assert [r.status_code for r in asyncio.run(
        salvo.parallel_requests_async(urls, auth=auth("user", "pass"),
                                      return_type="response"))] == [200] * 2
    keys = srv.stats()["keys"]
    assert [keys[k] for k in ["s0", "s3", "a0", "a2", "o0", "o2", "q1"]] == [
        2] * 7


def test_a_flow_on_the_default_client(srv):
    """salvo.get and salvo.parallel() run an Auth flow as a client does
    (before, the default client left it out: no Authorization at all)."""
    r = salvo.get(digest_url(srv, "d"), auth=salvo.DigestAuth("user", "pass"))
    assert r.status_code == 200 and len(r.history) == 1
    with salvo.parallel() as p:
        e = p.get(srv.url("/echo"), auth=Bearer("t")).get_response().json()
    assert e["headers"]["authorization"] == "Bearer t"


def test_an_auth_function_everywhere(srv):
    """httpx's auth= function of the Request, on a client, a block, the
    default client (salvo.get) and a bare block (salvo.parallel()): the
    last two once left it out without a word."""
    def token(request):
        request.headers["Authorization"] = "Token fn"
        return request

    def seen(r):
        return r.json()["headers"].get("authorization")
    url = srv.url("/echo")
    assert seen(salvo.get(url, auth=token)) == "Token fn"
    assert seen(salvo.post(url, auth=token, content=b"x")) == "Token fn"
    with salvo.parallel() as p:
        assert seen(p.get(url, auth=token).get_response()) == "Token fn"
    with salvo.Client() as c, c.parallel() as p:
        assert seen(c.get(url, auth=token)) == "Token fn"
        assert seen(p.get(url, auth=token).get_response()) == "Token fn"


def test_challenges_drawn_at_random_are_answered_or_refused():
    """The challenge parser is salvo's own, so it is fuzzed: 3,000
    WWW-Authenticate values drawn from the characters that matter (quotes,
    backslashes, commas, '=', spaces, controls, non-ASCII) around Digest's
    parameter names. Each is answered (an Authorization that names the
    realm and nonce it read) or refused with a ProtocolError; nothing
    else escapes, and the flow sends at most once more."""
    import random
    rnd = random.Random(7)
    junk = ['"', '\\', ',', '=', ' ', '\t', '\x7f', 'é', ';', 'a', '0']
    names = ["realm", "nonce", "qop", "algorithm", "opaque", "stale", "x"]
    values = ['"r"', '"n"', 'auth', '"auth,auth-int"', '"auth-int"', 'MD5',
              'SHA-256-sess', 'SHA-512', 'MD4', '"a\\"b"', '"open', '', 'x y']

    def draw():
        params = [f"{rnd.choice(names)}={rnd.choice(values)}"
                  for _ in range(rnd.randint(0, 6))]
        if rnd.random() < 0.7:
            params += ['realm="r"', 'nonce="n"']
            rnd.shuffle(params)
        v = rnd.choice(["Digest ", "digest ", 'Basic realm="b", Digest ',
                        "Digest", ""]) + ", ".join(params)
        for _ in range(rnd.randint(0, 3)):  # a byte or two out of place
            at = rnd.randint(0, len(v))
            v = v[:at] + rnd.choice(junk) + v[at:]
        return v

    class Challenge:
        status_code = 401

        def __init__(self, value):
            self.headers = salvo.Headers([("WWW-Authenticate", value)])
    answered = refused = 0
    for _ in range(3000):
        value = draw()
        flow = salvo.DigestAuth("u", "p").sync_auth_flow(
            salvo.Request("GET", "http://a.test/p?q"))
        next(flow)
        try:
            again = flow.send(Challenge(value))
        except StopIteration:
            continue  # no Digest challenge in it: the 401 stands
        except salvo.ProtocolError:
            refused += 1
            continue
        assert again.headers["authorization"].startswith("Digest ")
        with pytest.raises(StopIteration):
            flow.send(Challenge(value))
        answered += 1
    assert answered > 100 and refused > 100, (answered, refused)
