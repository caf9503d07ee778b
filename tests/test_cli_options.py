#!/usr/bin/env python3
"""Each flow and connection option of the command shown to do what it
says, against faultd, nginx and a DNS server of the tests' own."""
import os
import signal
import subprocess
import time

import dnsd
import nginxd
from cli_common import (ARGS, H2, HERE, Faultd, WithFaultd, lines, main,
                        salvo, threads_waiting)
from nginxd import Nginx


class CliOptionsTest(WithFaultd):
    """Each option of the command shown to do what it says, by what the
    servers recorded (peaks, arrival times, requests, headers) or what
    could only come from the option."""

    FAULTD_ARGS = ("--log-starts",)

    def run_urls(self, *args, urls=(), timeout=60):
        p = salvo(*args, stdin="\n".join(urls) + "\n", timeout=timeout)
        return p, lines(p.stdout)

    def test_per_host_caps_each_origin(self):
        self.srv.reset()
        other = Faultd(ARGS.faultd)
        try:
            urls = [self.srv.url("/delay/150"), other.url("/delay/150")] * 6
            p, out = self.run_urls("-q", "--per-host", "2", "-c", "10",
                                   urls=urls)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(len(out), 12)
            for sv in (self.srv, other):
                self.assertEqual(sv.stats()["inflight_peak"], 2)
        finally:
            other.stop()

    def starts_s(self, sv):
        return sorted(t / 1e6 for t in sv.stats()["starts"])

    def test_burst_and_per_host_rate(self):
        # --rate 5 --burst 4: four go at once (in one 100 ms window at the
        # server), the rest at the rate: 8 take at least (8-4-0.5)/5 s.
        self.srv.reset()
        p, _ = self.run_urls("-q", "--rate", "5", "--burst", "4",
                             urls=[self.srv.url(f"/json/{i}")
                                   for i in range(8)])
        self.assertEqual(p.returncode, 0, p.stderr)
        t = self.starts_s(self.srv)
        self.assertEqual(len(t), 8)
        self.assertLess(t[3] - t[0], 0.1, t)
        self.assertGreater(t[-1] - t[0], 0.6, t)
        # --per-host-rate 10: one origin's five starts span at least
        # (5-1-0.5)/10 s; the limiter's exact pacing is tests/unit's.
        self.srv.reset()
        p, _ = self.run_urls("-q", "--per-host-rate", "10",
                             urls=[self.srv.url(f"/json/{i}")
                                   for i in range(5)])
        self.assertEqual(p.returncode, 0, p.stderr)
        t = self.starts_s(self.srv)
        self.assertGreater(t[-1] - t[0], 0.3, t)

    def test_io_threads(self):
        """--io-threads 3: the process runs three I/O threads (the
        kernel's count of its tasks, beside the main thread and any of
        libcurl's resolver threads)."""
        def tasks(n):
            # The last run's request must have left faultd first: its
            # count would let this one be signalled before it installed
            # its handler (a SIGINT then lost where the test's parent
            # ignores it, as a background job's does).
            t0 = time.time()
            while self.srv.stats()["inflight"] > 0:
                self.assertLess(time.time() - t0, 30)
                time.sleep(0.01)
            before = self.srv.stats()["requests"]
            # SIGINT as the default action in the child, whatever this
            # process's parent set: a signal that came before the handler
            # then ends the run instead of being lost (a hung test).
            proc = subprocess.Popen([ARGS.salvo, "-q", "--io-threads", str(n),
                                     self.srv.url("/hang")],
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL,
                                    preexec_fn=lambda: signal.signal(
                                        signal.SIGINT, signal.SIG_DFL))
            try:
                # This run's request, counted as it arrived (not one left
                # in flight by an earlier test).
                t0 = time.time()
                while True:
                    st = self.srv.stats()
                    if st["requests"] > before and st["inflight"] >= 1:
                        break
                    self.assertLess(time.time() - t0, 30)
                    time.sleep(0.01)
                return len(os.listdir(f"/proc/{proc.pid}/task"))
            finally:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    # Where each thread waits, read before the kill, so
                    # that a hang says where it is.
                    where = threads_waiting(proc.pid)
                    proc.kill()  # so that no later test counts its request
                    proc.wait()
                    self.fail(f"--io-threads {n}: still running 30 s after "
                              f"SIGINT; its threads: {where}")
        self.srv.reset()
        one = tasks(1)
        self.assertEqual(tasks(3) - one, 2)
        p = salvo("--io-threads", "0", self.url("/json/1"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("io-threads", p.stderr)

    def test_connect_timeout(self):
        """faultd takes the TCP connection and never answers a TLS
        handshake (it waits for an HTTP head): the connection is not set
        up until --connect-timeout ends it (the default is 10 s). A full
        listen queue, tried first, let a busy machine's kernel complete
        the connection now and then."""
        p = salvo("-q", "--retries", "0", "--connect-timeout", "0.5", "-k",
                  f"https://127.0.0.1:{self.srv.port}/")
        o = lines(p.stdout)[0]
        self.assertEqual(o["error"]["code"], "ETIMEDOUT", o)
        self.assertLess(o["elapsed_ms"], 5000, o)

    def test_queue_timeout(self):
        """-c 1 --queue-timeout 0.3: the request still queued when the
        first is slow ends unsent (no attempt; the server saw one)."""
        self.srv.reset()
        p = salvo("-q", "-c", "1", "--queue-timeout", "0.3", "--ordered",
                  self.url("/delay/1500"), self.url("/json/1"))
        out = lines(p.stdout)
        self.assertEqual(out[0]["status"], 200)
        self.assertEqual(out[1]["error"]["code"], "ETIMEDOUT", out[1])
        self.assertEqual(out[1]["attempts"], 0)
        self.assertEqual(self.srv.stats()["requests"], 1)

    def test_max_idle_and_idle_timeout(self):
        """--max-idle 0 keeps no connection (three requests one after
        another, three connections faultd counts; one by default);
        --idle-timeout 1 retires the connection that waited 1.6 s for the
        next start (--rate 37/m), 5 keeps it. Bad values: usage errors.
        Over HTTP/2 faultd counts tests/h2front.py's connections."""
        for args, want in ((["--max-idle", "0"], 3), ([], 1)):
            self.srv.reset()
            p = salvo("-q", "-c", "1", *args, *[self.url("/json/1")] * 3)
            self.assertEqual(p.returncode, 0, p.stderr)
            if not H2:
                self.assertEqual(self.srv.stats()["conns_total"], want, args)
        for limit, want in (("1", 2), ("5", 1)):
            self.srv.reset()
            p = salvo("-q", "-c", "1", "--rate", "37/m", "--idle-timeout",
                      limit, self.url("/json/1"), self.url("/json/2"))
            self.assertEqual(p.returncode, 0, p.stderr)
            if not H2:
                self.assertEqual(self.srv.stats()["conns_total"], want, limit)
        for opt, bad in (("--max-idle", "-1"), ("--idle-timeout", "-1"),
                         ("--idle-timeout", "soon")):
            p = salvo(opt, bad, self.url("/json/1"))
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(opt, p.stderr)

    def test_transport(self):
        """--transport picks the transport: what faultd saw says which one
        sent the request (libcurl writes the Content-Type it is given
        before its own Content-Length, the native transport after). A
        refused connection is told in the same words by both; an unknown
        name is a usage error."""
        msgs, order = {}, {}
        for t in ("native", "libcurl"):
            p = salvo("-q", "--retries", "0", "--transport", t,
                      "http://127.0.0.1:1/")
            o = lines(p.stdout)[0]
            self.assertEqual(o["error"]["code"], "ECONNECT")
            msgs[t] = o["error"]["message"]
            p = salvo("-q", "--transport", t, "-d", "a=1", self.url("/echo"))
            names = list(lines(p.stdout)[0]["body"]["headers"])
            order[t] = [n for n in names if n.startswith("content-")]
        self.assertEqual(msgs["native"], msgs["libcurl"])
        self.assertEqual(msgs["native"], "Failed to connect to 127.0.0.1 "
                         "port 1: Connection refused")
        self.assertEqual(order["native"], ["content-length", "content-type"])
        self.assertEqual(order["libcurl"], ["content-type", "content-length"])
        p = salvo("--transport", "carrier-pigeon", self.url("/json/1"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("carrier-pigeon", p.stderr)

    def test_http_versions_over_cleartext(self):
        """--http2 on http:// asks for an upgrade (RFC 7540 3.2's h2c, which
        faultd declines); --http1.1 does not."""
        for opt, want in (("--http2", True), ("--http1.1", False)):
            o = lines(salvo("-q", opt, self.url("/echo")).stdout)[0]
            self.assertEqual(o["status"], 200)
            self.assertEqual("upgrade" in o["body"]["headers"], want, opt)

    def test_tls_options(self):
        """Against nginx with a certificate of this run's own CA: refused
        without --cacert, accepted with it or with -k/--insecure; --http2
        and --http1.1 choose what ALPN settles."""
        ng = Nginx(self.tmp.name)
        try:
            u = ng.url("/")
            o = lines(salvo("-q", "--retries", "0", u).stdout)[0]
            self.assertEqual(o["error"]["code"], "ETLS", o)
            for args in (["--cacert", ng.ca], ["-k"], ["--insecure"]):
                o = lines(salvo("-q", *args, u).stdout)[0]
                self.assertEqual(o["status"], 200, (args, o))
            o = lines(salvo("-q", "--cacert", ng.ca, "--http2", u).stdout)[0]
            self.assertEqual(o["http_version"], "2", o)
            o = lines(salvo("-q", "--cacert", ng.ca, "--http1.1",
                            u).stdout)[0]
            self.assertEqual(o["http_version"], "1.1", o)
        finally:
            ng.stop()

    def test_client_certificates(self):
        """--cert/--key/--pass present a client certificate nginx verifies
        (it names the subject); without one nginx answers 400. --capath
        verifies with a hashed directory; --tlsv1.3 refuses a server that
        stops at 1.2, which --tlsv1.2 (the default) speaks to. The
        password is never printed."""
        ng = Nginx(self.tmp.name)
        try:
            f, u = ng.file, ng.url("/", port=ng.mtls_port)
            pw = nginxd.KEY_PASSWORD
            for args in (["--cert", f("client.pem"), "--key", f("client.key")],
                         ["-E", f("client-both.pem")],
                         ["--cert", f("client.pem"), "--key",
                          f("client-enc.key"), "--pass", pw],
                         ["--cert", f("client.pem") + ":" + pw, "--key",
                          f("client-enc.key")]):
                o = lines(salvo("-q", "--cacert", ng.ca, *args, u).stdout)[0]
                self.assertEqual((o["status"], o["body"]),
                                 (200, "CN=salvo client"), (args, o))
            o = lines(salvo("-q", "--cacert", ng.ca, u).stdout)[0]
            self.assertEqual(o["status"], 400, o)
            r = salvo("--retries", "0", "--cacert", ng.ca, "--cert",
                      f("client.pem"), "--key", f("client-enc.key"),
                      "--pass", "not-" + pw, u)
            o = lines(r.stdout)[0]
            self.assertEqual(o["error"]["code"], "ETLS", o)
            self.assertIn("client-enc.key", o["error"]["message"])
            self.assertNotIn("not-" + pw, r.stdout + r.stderr)
            o = lines(salvo("-q", "--capath", f("capath"),
                            ng.url("/")).stdout)[0]
            self.assertEqual(o["status"], 200, o)
            t12 = ng.url("/", port=ng.tls12_port)
            o = lines(salvo("-q", "--cacert", ng.ca, "--tlsv1.2",
                            t12).stdout)[0]
            self.assertEqual(o["body"], "TLSv1.2", o)
            o = lines(salvo("-q", "--retries", "0", "--cacert", ng.ca,
                            "--tlsv1.3", t12).stdout)[0]
            self.assertEqual(o["error"]["code"], "ETLS", o)
            o = lines(salvo("-q", "--cacert", ng.ca, "--tlsv1.3",
                            ng.url("/proto")).stdout)[0]
            self.assertEqual(o["body"], "TLSv1.3", o)
        finally:
            ng.stop()

    def test_dns_servers(self):
        """--dns-servers: names of a zone only tests/dnsd.py knows reach
        faultd, each looked up once; a name it does not know is EDNS for
        its own line alone. With libcurl forced it is a usage error."""
        dns = dnsd.Dnsd()
        try:
            port = self.srv.port
            urls = [f"http://n{i}.salvo.test:{port}/json/{i}"
                    for i in range(5)]
            urls.append(f"http://nx-none.salvo.test:{port}/json/9")
            r = salvo("--retries", "0", "--dns-servers", dns.servers, *urls)
            if os.environ.get("SALVO_TRANSPORT") == "libcurl":
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("dns_servers", r.stderr)
                return
            out = sorted(lines(r.stdout), key=lambda o: o["index"])
            self.assertEqual([o["status"] for o in out[:5]], [200] * 5, out)
            self.assertEqual(out[5]["error"]["code"], "EDNS", out[5])
            self.assertIn("nx-none.salvo.test", out[5]["error"]["message"])
            self.assertEqual(dns.queries("n3.salvo.test"), 1)
            r = salvo("--dns-servers", "127.0.0.1:99999", urls[0])
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("dns_servers entry 0", r.stderr)
        finally:
            dns.stop()

    def test_http2_prior_knowledge(self):
        """--http2-prior-knowledge speaks HTTP/2 at once on http://, to a
        server that speaks nothing else (tests/h2d.py, python3-h2)."""
        h2d = subprocess.Popen(["/usr/bin/python3",
                                os.path.join(HERE, "h2d.py")],
                               stdout=subprocess.PIPE, text=True)
        try:
            port = int(h2d.stdout.readline().split()[1])
            o = lines(salvo("-q", "--http2-prior-knowledge",
                            f"http://127.0.0.1:{port}/ok").stdout)[0]
            self.assertEqual((o["status"], o["http_version"], o["body"]),
                             (200, "2", "ok"), o)
        finally:
            h2d.kill()
            h2d.wait()
            h2d.stdout.close()

    def test_proxy_and_resolve(self):
        """-x: the request goes to the proxy, whatever its host (one that
        resolves nowhere); --resolve: a name pinned to an address."""
        self.srv.reset()
        o = lines(salvo("-q", "-x", self.srv.base,
                        "http://nowhere.invalid/json/2").stdout)[0]
        self.assertEqual((o["status"], o["body"]["id"]), (200, 2), o)
        o = lines(salvo("-q", "--resolve",
                        f"pinned.invalid:{self.srv.port}:127.0.0.1",
                        f"http://pinned.invalid:{self.srv.port}/json/3")
                  .stdout)[0]
        self.assertEqual((o["status"], o["body"]["id"]), (200, 3), o)
        self.assertEqual(self.srv.stats()["requests"], 2)


if __name__ == "__main__":
    main()
