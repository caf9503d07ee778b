"""api_fuzz.py BASE SEED N: the package's whole surface called N times
with arguments drawn at random (SEED) from a pool of the wrong and the
extreme: NULs, lone surrogates, huge and negative numbers, NaN, bytes
where str goes, mappings that fail when read, objects whose __str__
raises, URLs that are not. A call may answer or raise any exception; the
interpreter must not crash, leak into another request, or hang (a call
that takes 40 s ends the run with every thread's stack). Run by
tests/python_asan.sh on the extension built with AddressSanitizer, so
that a bad read or free in the C below is a report, not luck. BASE is
faultd's http://127.0.0.1:PORT."""
import asyncio
import faulthandler
import io
import gc
import random
import sys

import salvo


class Weird:
    """An argument that fails whichever way it is read."""

    def __str__(self):
        raise RuntimeError("str fails")

    def __len__(self):
        return -1

    def __iter__(self):
        raise ValueError("iter fails")

    def items(self):
        return [(1, 2)]


class BadMap(dict):
    def items(self):
        raise KeyError("items fails")


class OddFlow(salvo.Auth):
    """An Auth flow that yields what is not a request, sets a header no
    request may carry, fails midway, or sends again and again."""

    def __init__(self, how):
        self.how = how

    def auth_flow(self, request):
        if self.how == 0:
            yield "not a request"
        elif self.how == 1:
            request.headers["X-Odd"] = "a\r\nb"
            yield request
        elif self.how == 2:
            yield request
            raise RuntimeError("the flow failed")
        else:
            for _ in range(3):
                yield request


def pools(base):
    urls = [base + p for p in ("/echo", "/json/1", "/bytes/100000",
                               "/redirect/2", "/delay/50", "/status/500",
                               "/gzip", "/chunked", "/close", "/\udcff",
                               "/é", "/echo?a=\0", "/digest",
                               "/digest?qop=auth-int&algorithm=SHA-256-sess",
                               "/flaky?key=f&fail=1&status=401")]
    urls += ["ftp://x/", "http://", "://", "http://[::1",
             "http://127.0.0.1:1/"]
    values = [None, 0, -1, 1, 2 ** 31, 2 ** 63, -2 ** 63, 2 ** 64, 10 ** 30,
              1e308, float("nan"), float("inf"), -0.5, 0.001, "",
              "x" * 70000, "\0", "a\0b", "\udcff", "é", "a\r\nb", b"bytes",
              b"\xff\x00", bytearray(b"ba"), memoryview(b"mv"), [], [1, 2],
              [("a", "b")], [("a",)], [["a", "b"]], (), {}, {"a": None},
              {"a": [1, None]}, {"a": "\udcff"}, {"\udcff": "v"}, {1: 2},
              {"a": b"\xff"}, {"a": b"caf\xe9\x00"}, {b"\xe9": b"v"},
              [("Cookie", b"\xe9")], {"a": object()}, object(), lambda *a: 1,
              True, False, Weird(), BadMap(a=1), salvo.Timeout(0.01),
              salvo.Headers({"a": "b"}), salvo.BasicAuth("u", "\udcff"),
              ("u",), ("u", "p", "x"), ("u", None),
              salvo.DigestAuth("user", "pass"), salvo.DigestAuth("é", b"\xff"),
              OddFlow(0), OddFlow(1), OddFlow(2), OddFlow(3),
              salvo.HTTPTransport(retries=1), salvo.HTTPTransport(
                  http1=False, http2=True, limits=salvo.Limits(
                      max_connections=1)),
              salvo.Proxy("http://u:p@127.0.0.1:1"),
              {"all://": "http://127.0.0.1:1"}, {"http://": None},
              io.BytesIO(b"file"), iter([b"a", "b"]), (b"p" for _ in "ab"),
              {"f": ("a\r\n.txt", b"x", None, {"X": "1\r\n"})},
              {"f": (None, b"x")}, {"f": ("a", b"x", "text/\n")}]
    return urls, values + urls


# Not drawn: rate_limit and max_retries, whose small and large values
# make a run wait as long as it was asked to (1,000 s a request at 0.001
# a second), which is not a hang.
CLIENT = ["headers", "auth", "timeout", "verify", "http2",
          "follow_redirects", "concurrency", "limits", "cookies",
          "transport", "proxy", "cert", "base_url",
          "params", "event_hooks", "default_encoding", "max_redirects",
          "per_host", "deadline", "queue_timeout", "user_agent",
          "io_threads", "retry_statuses", "dns_servers", "resolve",
          "max_body", "trust_env", "proxies", "http1", "app", "mounts"]
REQUEST = ["params", "headers", "cookies", "auth", "json", "data", "content",
           "files", "timeout", "follow_redirects", "extensions", "stream",
           "key", "idempotent"]
ONE_CALL = ["concurrency", "keys", "parse_func", "return_type", "params",
            "headers", "method", "json", "data", "return_exceptions",
            "timeout", "cookies"]


class Fuzz:
    def __init__(self, base, seed):
        self.rnd = random.Random(seed)
        self.urls, self.values = pools(base)

    def v(self):
        return self.rnd.choice(self.values)

    def kw(self, names, most=2):
        return {self.rnd.choice(names): self.v()
                for _ in range(self.rnd.randint(0, most))}

    @staticmethod
    def call(f, *a, **k):
        try:
            return f(*a, **k)
        except Exception as e:  # any answer but a crash will do
            return e

    def body(self, r):
        if not isinstance(r, salvo.Response):
            return
        ops = [lambda: list(r.iter_bytes(self.v())),
               lambda: list(r.iter_lines()), r.read,
               lambda: r.json(**self.kw(["object_hook", "x"])),
               lambda: setattr(r, "encoding", self.v()), lambda: r.text,
               r.close, lambda: r.headers.get(self.v()),
               lambda: (r.request, r.history, r.cookies, r.links, r.url,
                         r.next_request, r.extensions),
               # A redirect's response outliving the one it led to, read
               # after that one was closed or dropped.
               lambda: [(h.request, h.history, h.text, h.headers, h.url,
                         h._hop(self.v()), list(h.iter_bytes()))
                        for h in r.history]]
        for _ in range(self.rnd.randint(0, 3)):
            self.call(self.rnd.choice(ops))

    def client(self):
        c = self.call(salvo.Client, **self.kw(CLIENT, 3))
        if isinstance(c, Exception):
            return
        for _ in range(self.rnd.randint(1, 3)):
            method = self.rnd.choice(["GET", "POST", "get", self.v()])
            self.body(self.call(c.request, method, self.v(),
                                **self.kw(REQUEST, 3)))
        if self.rnd.random() < 0.3:
            self.call(setattr, c, self.rnd.choice(
                ["headers", "timeout", "auth", "follow_redirects"]), self.v())
            self.body(self.call(c.get, self.rnd.choice(self.urls)))
        if self.rnd.random() < 0.3:
            self.cookies(c)
        if self.rnd.random() < 0.5:
            c.close()
            self.call(lambda: dict(c.cookies))

    def cookies(self, c):
        """The client's jar read and written with drawn values, and raw
        lines straight to the extension."""
        jar = c.cookies
        for _ in range(self.rnd.randint(1, 4)):
            self.call(self.rnd.choice([
                lambda: jar.set(self.v(), self.v(), domain=self.v(),
                                path=self.v()),
                lambda: jar.set(str(self.v()), str(self.v()),
                                domain=str(self.v())),
                lambda: c._native().cookie_set(self.v()),
                lambda: c._native().cookie_set("\t".join(
                    str(self.v()) for _ in range(7))),
                lambda: dict(jar), lambda: jar.delete(self.v()),
                lambda: jar.clear(domain=self.v()),
                lambda: setattr(c, "cookies", self.v())]))

    def block(self):
        with salvo.Client(timeout=2) as c, c.parallel() as p:
            pend = [self.call(p.request, self.rnd.choice(["GET", self.v()]),
                              self.v(), **self.kw(REQUEST))
                    for _ in range(self.rnd.randint(1, 5))]
            for x in pend:
                if self.rnd.random() < 0.3:
                    self.call(getattr(x, "cancel", int))
                if self.rnd.random() < 0.5 and hasattr(x, "get_response"):
                    self.body(self.call(x.get_response, timeout=self.v()))
            self.call(p.next_response,
                      timeout=self.rnd.choice([0, 0.01, None, self.v()]))

    def models(self):
        self.call(salvo._salvo.redirect_next, self.v(), self.v(),
                  self.rnd.choice([301, 303, 307, 200, self.v()]), self.v())
        u = self.call(salvo.URL, self.rnd.choice(self.urls + [self.v()]))
        if isinstance(u, salvo.URL):
            self.call(u.join, self.v())
            self.call(u.copy_with, **self.kw(["scheme", "host", "port",
                                              "path", "query", "fragment"]))
            self.call(u.copy_merge_params, self.v())
            self.call(self.rnd.choice([u.copy_set_param, u.copy_add_param]),
                      self.v(), self.v())
            self.call(u.copy_remove_param, self.v())
            self.call(lambda: (u.raw, u.userinfo, u.raw_host))
        h = self.call(salvo.Headers, self.v())
        if isinstance(h, salvo.Headers):
            self.call(h.__setitem__, self.v(), self.v())
            self.call(h.get_list, self.v())
            self.call(h.__delitem__, self.v())
            self.call(setattr, h, "encoding", self.rnd.choice(
                ["utf-8", "ascii", "latin-1", "no-such", self.v()]))
            self.call(lambda: (h.raw, h.encoding, h.items()))
        q = self.call(salvo.QueryParams, self.v())
        if isinstance(q, salvo.QueryParams):
            self.call(self.rnd.choice([q.set, q.add]), self.v(), self.v())
            self.call(q.remove, self.v())
        self.call(salvo.Cookies, self.v())
        self.call(salvo.Timeout, self.v(), **self.kw(["connect", "read"]))
        self.call(salvo.Limits, **self.kw(["max_connections",
                                           "keepalive_expiry"]))
        # Responses made by hand, and the extension's constructor bare.
        r = self.call(self.rnd.choice([salvo.Response, salvo.AsyncResponse]),
                      self.rnd.choice([200, 404, self.v()]),
                      **self.kw(["headers", "content", "text", "html",
                                 "json", "request", "history", "stream",
                                 "default_encoding"], 3))
        if isinstance(r, salvo.Response):
            self.body(r)
        self.call(salvo._salvo.Response, self.v(), self.v(), self.v(),
                  self.v())

    def async_client(self):
        async def main():
            async with salvo.AsyncClient(**self.kw(CLIENT, 1)) as ac:
                rs = await asyncio.gather(
                    *[ac.request(self.rnd.choice(["GET", "POST"]), self.v(),
                                 **self.kw(REQUEST)) for _ in range(3)],
                    return_exceptions=True)
                for r in rs:
                    if isinstance(r, salvo.AsyncResponse):
                        await r.aread()
        self.call(asyncio.run, main())

    def send(self):
        with salvo.Client() as c:
            req = self.call(c.build_request, self.rnd.choice(["GET", self.v()]),
                            self.v(), **self.kw(REQUEST[:9]))
            self.body(self.call(c.send, req,
                                stream=self.rnd.random() < 0.5))

    def after_close(self):
        """Each object used after its owner closed, and a body read from
        two threads at once."""
        import threading
        c = salvo.Client(timeout=2)
        p = c.parallel()
        pend = self.call(p.get, self.rnd.choice(self.urls))
        r = self.call(c.get, self.rnd.choice(self.urls), stream=True)
        if self.rnd.random() < 0.5:
            t = [threading.Thread(target=self.call,
                                  args=(lambda: list(r.iter_bytes()),))
                 for _ in range(2)] if isinstance(r, salvo.Response) else []
            for x in t:
                x.start()
            for x in t:
                x.join()
        (c.close if self.rnd.random() < 0.5 else p.close)()
        self.call(getattr(pend, "get_response", int))
        self.call(p.next_response, timeout=0)
        self.call(p.get, self.rnd.choice(self.urls))
        self.call(c.get, self.rnd.choice(self.urls))
        self.body(r)
        c.close()

    def hooks(self):
        def hook(x):
            if self.rnd.random() < 0.5:
                raise RuntimeError("a hook failed")
            return self.v()
        c = self.call(salvo.Client, event_hooks={"request": [hook],
                                                 "response": [hook]},
                      auth=self.rnd.choice([None, hook, self.v()]))
        if isinstance(c, salvo.Client):
            self.body(self.call(c.get, self.rnd.choice(self.urls)))
            c.close()

    def session(self):
        s = self.call(salvo.ParallelRequests, **self.kw(CLIENT, 2))
        if isinstance(s, Exception):
            return
        for _ in range(2):
            self.call(s.request, [self.rnd.choice(self.urls)] * 3,
                      **self.kw(ONE_CALL, 2))
        s.close()
        self.call(asyncio.run, salvo.parallel_requests_async(
            [self.rnd.choice(self.urls)] * 2, **self.kw(ONE_CALL, 2)))

    def async_block(self):
        async def main():
            async with salvo.AsyncClient(timeout=2) as ac:
                async with ac.parallel() as p:
                    pend = [self.call(p.request, "GET", self.v(),
                                      **self.kw(REQUEST))
                            for _ in range(3)]
                    for x in pend:
                        if hasattr(x, "get_response") and \
                                self.rnd.random() < 0.5:
                            try:
                                r = await x.get_response()
                                await r.aread()
                            except Exception:
                                pass
        self.call(asyncio.run, main())

    def one_call(self):
        urls = [self.rnd.choice(self.urls) for _ in range(3)]
        self.call(salvo.parallel_requests, self.rnd.choice([urls, self.v()]),
                  **self.kw(ONE_CALL, 3))

    def single(self):
        self.call(salvo.get, self.v(), **self.kw(
            REQUEST + ["verify", "cert", "proxy", "proxies", "trust_env"]))

    def one(self):
        """One drawn use; clients and models are drawn more often."""
        self.rnd.choice([self.client, self.client, self.client, self.block,
                         self.one_call, self.models, self.models,
                         self.async_client, self.send, self.single,
                         self.after_close, self.hooks, self.session,
                         self.async_block])()


def main():
    base, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    f = Fuzz(base, seed)
    for i in range(n):
        faulthandler.dump_traceback_later(40, exit=True)
        f.one()
        if i % 50 == 0:
            gc.collect()
    faulthandler.cancel_dump_traceback_later()
    print(f"api_fuzz: {n} calls with seed {seed}, no crash")


if __name__ == "__main__":
    main()
