#!/usr/bin/env python3
"""Drives the real salvo binary against faultd: output, input handling,
ordering, files, progress, summary, exit codes, memory."""
import argparse
import base64
import json
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import dnsd
import nginxd

HERE = os.path.dirname(os.path.abspath(__file__))
from nginxd import Nginx
from h2conn import start_front

ARGS = None
# The native-h2 run: faultd through tests/h2front.py, over HTTP/2.
H2 = os.environ.get("SALVO_HTTP_VERSION") == "2-prior-knowledge"


class Faultd:
    def __init__(self, path, *extra):
        self.proc = subprocess.Popen([path, "--port", "0", *extra],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.port = int(line.split()[1])
        self.front = None
        if H2:
            # Over HTTP/2, as the C suites' native-h2 run: tests/h2front.py
            # asks faultd, and relays /_stats byte for byte.
            self.front, self.port = start_front(self.port)
        self.base = f"http://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base + path

    def stats(self):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            c.request("GET", "/_stats")
            return json.loads(c.getresponse().read())
        finally:
            c.close()

    def stop(self):
        for p in (self.front, self.proc):
            if p:
                p.kill()
                p.wait()
                p.stdout.close()


def salvo(*args, stdin=None, timeout=60):
    p = subprocess.run([ARGS.salvo, *args], input=stdin, capture_output=True,
                       text=True, timeout=timeout)
    return p


def lines(out):
    """Every stdout line must be one JSON object."""
    result = []
    for line in out.splitlines():
        obj = json.loads(line)
        assert isinstance(obj, dict), line
        result.append(obj)
    return result


def urlopen_reset(sv):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", sv.port, timeout=5)
    c.request("GET", "/_reset")
    c.getresponse().read()
    c.close()


class WithFaultd(unittest.TestCase):
    """A faultd for the class's tests, and a scratch directory."""
    FAULTD_ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.srv = Faultd(ARGS.faultd, *cls.FAULTD_ARGS)
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.tmp.cleanup()

    def url(self, path):
        return self.srv.url(path)


class CliTest(WithFaultd):
    def test_one_json_line_per_input(self):
        urls = [self.url(f"/json/{i}") for i in range(20)]
        p = salvo(*urls)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = lines(p.stdout)
        self.assertEqual(len(out), 20)
        for o in out:
            self.assertEqual(o["status"], 200)
            self.assertIsNone(o["error"])
            self.assertEqual(o["attempts"], 1)
            self.assertEqual(o["http_version"], "2" if H2 else "1.1")
            self.assertGreater(o["elapsed_ms"], 0)
            # index is the argument's (or line's) number, from 1; key is
            # always a string.
            self.assertEqual(o["body"]["id"], o["index"] - 1)
            self.assertEqual(o["key"], str(o["index"]))
            self.assertEqual(o["url"], urls[o["index"] - 1])
        self.assertEqual(sorted(o["index"] for o in out),
                         list(range(1, 21)))

    def test_input_from_file_and_stdin_with_bad_lines(self):
        text = "\n".join([
            "# a comment",
            "",
            self.url("/json/1"),
            json.dumps({"url": self.url("/echo"), "method": "PUT",
                        "json": {"a": [1, 2]}, "key": "put",
                        "params": {"q": "x y", "n": 3},
                        "headers": {"X-Test": "yes"}}),
            "{not json",
            json.dumps({"method": "GET"}),
            json.dumps({"url": self.url("/json/2"), "hedaers": {}}),
            json.dumps({"url": self.url("/echo"), "body": "raw",
                        "params": [["a", "1"], ["b", "2"]],
                        "headers": ["X-Other: 2"]}),
            "   " + self.url("/json/3") + "   ",
        ]) + "\n"
        path = os.path.join(self.tmp.name, "in.txt")
        with open(path, "w") as f:
            f.write(text)
        for args, stdin in ((["-i", path], None), ([], text),
                            (["-i", "-"], text)):
            p = salvo(*args, stdin=stdin)
            self.assertEqual(p.returncode, 1)  # bad lines fail the run
            out = lines(p.stdout)
            self.assertEqual(len(out), 4)
            errs = p.stderr.splitlines()
            self.assertTrue(any("input line 5:" in e and "not JSON" in e
                                for e in errs), p.stderr)
            self.assertTrue(any("input line 6:" in e and "no \"url\"" in e
                                for e in errs), p.stderr)
            self.assertTrue(any("input line 7:" in e and "hedaers" in e
                                for e in errs), p.stderr)
            by_key = {o["key"]: o for o in out}
            echo = by_key["put"]["body"]
            self.assertEqual(echo["method"], "PUT")
            self.assertEqual(json.loads(echo["body"]), {"a": [1, 2]})
            self.assertEqual(echo["query"], "q=x%20y&n=3")
            self.assertEqual(echo["headers"]["x-test"], "yes")
            self.assertEqual(echo["headers"]["content-type"],
                             "application/json")
            other = [o for o in out if o["url"].endswith("/echo")
                     and o["key"] != "put"][0]["body"]
            self.assertEqual(other["method"], "POST")
            self.assertEqual(other["query"], "a=1&b=2")
            self.assertEqual(other["body"], "raw")
            self.assertEqual(other["headers"]["x-other"], "2")

    def test_errors_and_exit_codes(self):
        p = salvo(self.url("/json/1"), "http://127.0.0.1:1/", "ftp://x/",
                  "--retries", "0")
        self.assertEqual(p.returncode, 1)
        out = {o["index"]: o for o in lines(p.stdout)}
        self.assertEqual(out[2]["error"]["code"], "ECONNECT")
        self.assertIsNone(out[2]["status"])
        self.assertEqual(out[3]["error"]["code"], "EINVAL")
        self.assertIn("ftp", out[3]["error"]["message"])
        # 4xx and 5xx fail the run unless --fail-status says otherwise.
        p = salvo(self.url("/status/404"), "--retries", "0")
        self.assertEqual(p.returncode, 1)
        p = salvo(self.url("/status/404"), "--fail-status", "5xx")
        self.assertEqual(p.returncode, 0)
        p = salvo(self.url("/status/503"), "--fail-status", "none",
                  "--retries", "0")
        self.assertEqual(p.returncode, 0)
        p = salvo(self.url("/status/301"), "--no-location")
        self.assertEqual(p.returncode, 0)
        for bad in (["--concurrency", "0"], ["--rate", "fast"],
                    ["--body", "xml"], ["--no-such-option"],
                    ["--timeout", "-1"], ["-i", "x", self.url("/")],
                    ["--output-dir", "/dev/null"], ["--output-dir", ""],
                    ["-H", "no colon"]):
            p = salvo(*bad, self.url("/json/1"))
            self.assertEqual(p.returncode, 2, bad)
            self.assertTrue(p.stderr, bad)
        # An input that cannot be read, after options that allocate: exit
        # status 2 and nothing left allocated (LeakSanitizer's exit status
        # where the command is built with it).
        p = salvo("-H", "X-A: b", "-d", "x", "-d", "y", "--json", "1",
                  "--json", "2", "-u", "a:b", "-u", "c:d", "-i",
                  "/nonexistent/input")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("cannot read /nonexistent/input", p.stderr)
        # A second --cert drops the password the first carried (read
        # after its copy was freed, under ASan a use-after-free); a --pass
        # stays.
        p = salvo("--cert", "/nonexistent:pw", "--cert", "", "-q",
                  self.url("/json/1"))
        self.assertEqual(p.returncode, 0, p.stderr)
        p = salvo("--cert", "/nonexistent:x", "--pass", "pw", "--cert",
                  "/nonexistent", "-q", self.url("/json/1"))
        self.assertEqual(p.returncode, 0, p.stderr)
        p = salvo("--resume", "/nonexistent/resume", "-o",
                  "/nonexistent/dir/out", self.url("/json/1"))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("cannot write /nonexistent/dir/out", p.stderr)
        p = salvo("--help")
        self.assertEqual(p.returncode, 0)
        for opt in ("--concurrency", "--rate", "--output-dir", "--ordered",
                    "--cookie-jar", "Exit status"):
            self.assertIn(opt, p.stdout)
        self.assertEqual(salvo("--version").returncode, 0)

    def test_man_page_documents_every_option(self):
        """The option table (through --help) and the man page the build
        wrote from it name the same options, and the man page gives the
        defaults --help prints, which come from salvo_config_init."""
        import re
        helptext = salvo("--help").stdout
        in_help = {}
        for m in re.finditer(r"^\s+(?:-\w, )?--([\w.-]+)(.*(?:\n {27}.*)*)",
                             helptext, re.M):
            d = re.search(r"\(default ([^)]*)\)", m.group(2).replace(
                "\n", " ").replace(" " * 27, ""))
            in_help[m.group(1)] = d.group(1) if d else None
        # The page the build made from docs/salvo.1.in and options.def.
        man = os.path.join(os.path.dirname(os.path.abspath(ARGS.salvo)),
                           "salvo.1")
        with open(man) as f:
            text = f.read()
        opts_section = text.split(".SH OPTIONS")[1].split(".SH EXIT")[0]
        entries = {}
        for block in opts_section.split(".TP\n")[1:]:
            head, _, body = block.partition("\n")
            for name in re.findall(r"\\-\\-([\w.\\-]+)", head):
                entries[name.replace("\\-", "-")] = body.replace("\\-", "-")
        self.assertEqual(sorted(in_help), sorted(entries))
        for name, dflt in in_help.items():
            if dflt:
                body = " ".join(entries[name].split())
                self.assertRegex(body, r"default[^.]*" + re.escape(dflt),
                                 f"--{name}: man page lacks default {dflt}")

    def test_ordered(self):
        delays = [300, 200, 100, 0, 250, 50]
        urls = [self.url(f"/delay/{d}") for d in delays]
        p = salvo(*urls, "-c", "10")
        got = [o["index"] for o in lines(p.stdout)]
        self.assertNotEqual(got, list(range(1, 7)))  # completion order
        self.assertEqual(got[0], 4)
        p = salvo(*urls, "-c", "10", "--ordered")
        self.assertEqual([o["index"] for o in lines(p.stdout)],
                         list(range(1, 7)))
        # Many more than the reorder buffer, with a slow head.
        text = self.url("/delay/200") + "\n" + "\n".join(
            self.url(f"/json/{i}") for i in range(1, 500)) + "\n"
        p = salvo("-c", "8", "--ordered", "--body", "none", stdin=text)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([o["index"] for o in lines(p.stdout)],
                         list(range(1, 501)))

    def test_body_modes_and_headers(self):
        u = self.url("/raw?hex=00ff41&ct=application/octet-stream")
        p = salvo(u, "--body", "base64", "--headers")
        o = lines(p.stdout)[0]
        self.assertEqual(base64.b64decode(o["body"]), b"\x00\xffA")
        names = [h[0].lower() for h in o["headers"]]  # HTTP/2: lowercase
        self.assertIn("content-type", names)
        p = salvo(self.url("/latin1"), "--body", "text")
        self.assertEqual(lines(p.stdout)[0]["body"], "café crème brûlée\n")
        p = salvo(self.url("/notjson"))
        o = lines(p.stdout)[0]
        self.assertEqual(o["body"], '{"a": 1,\n oops}')
        self.assertIn("line 2", o["body_parse_error"])
        # Only what says it is JSON is parsed: text is text, no error.
        p = salvo(self.url("/status/200"), self.url("/raw?hex=5b315d&ct="
                  "application/problem%2Bjson"), "--ordered")
        text, problem = lines(p.stdout)
        self.assertEqual(text["body"], "status 200\n")
        self.assertNotIn("body_parse_error", text)
        self.assertEqual(problem["body"], [1])
        # A JSON body is copied as it was written, less the whitespace
        # between its tokens: numbers keep their text, strings their
        # spaces.
        raw = b' { "a" : [ 1 , 2.50e1 ,\t"x  y" ] ,\r\n"b":true } '
        p = salvo(self.url("/raw?ct=application/json&hex=" + raw.hex()))
        self.assertIn(',"body":{"a":[1,2.50e1,"x  y"],"b":true}}',
                      p.stdout)
        p = salvo(self.url("/json/5"), "--body", "none")
        self.assertNotIn("body", lines(p.stdout)[0])
        p = salvo(self.url("/cookies/set?a=1&b=2"), "--headers")
        hdrs = lines(p.stdout)[0]["headers"]
        self.assertEqual([v for n, v in hdrs if n.lower() == "set-cookie"],
                         ["a=1; Path=/", "b=2; Path=/"])

    def test_request_options_reach_the_server(self):
        p = salvo(self.url("/echo"), "-X", "PATCH", "-H", "X-A: 1",
                  "-H", "X-B: 2", "-A", "tester/1", "--bearer", "tok")
        e = lines(p.stdout)[0]["body"]
        self.assertEqual(e["method"], "PATCH")
        self.assertEqual(e["headers"]["x-a"], "1")
        self.assertEqual(e["headers"]["x-b"], "2")
        self.assertEqual(e["headers"]["user-agent"], "tester/1")
        self.assertEqual(e["headers"]["authorization"], "Bearer tok")
        p = salvo(self.url("/echo"), "-d", "a=1&b=2", "-u", "me:pw")
        e = lines(p.stdout)[0]["body"]
        self.assertEqual(e["method"], "POST")
        self.assertEqual(e["body"], "a=1&b=2")
        self.assertEqual(e["headers"]["content-type"],
                         "application/x-www-form-urlencoded")
        self.assertEqual(e["headers"]["authorization"],
                         "Basic " + base64.b64encode(b"me:pw").decode())
        # Userinfo in the URL is the request's credentials (RFC 9110
        # 11.6.1 via the client's basic scheme); the line printed for it
        # has none.
        u = "http://urlme:urlpw@127.0.0.1:%d/echo" % self.srv.port
        o = lines(salvo(u).stdout)[0]
        self.assertEqual(o["body"]["headers"]["authorization"],
                         "Basic " + base64.b64encode(b"urlme:urlpw").decode())
        self.assertEqual(o["url"], self.url("/echo"))
        p = salvo(self.url("/echo"), "-d", "x", "-H",
                  "Content-Type: text/plain")
        e = lines(p.stdout)[0]["body"]
        self.assertEqual(e["headers"]["content-type"], "text/plain")
        data = os.path.join(self.tmp.name, "body.json")
        with open(data, "w") as f:
            f.write('{"from": "file"}')
        p = salvo(self.url("/echo"), "--json", "@" + data)
        e = lines(p.stdout)[0]["body"]
        self.assertEqual(json.loads(e["body"]), {"from": "file"})
        self.assertEqual(e["headers"]["content-type"], "application/json")
        self.assertEqual(e["headers"]["accept"], "application/json")
        # -d @FILE sends the file's bytes, NULs included, never cut short.
        blob = os.path.join(self.tmp.name, "blob.bin")
        with open(blob, "wb") as f:
            f.write(b"\0ab\0" * 1000)
        p = salvo(self.url("/echo"), "-d", "@" + blob, "-X", "PUT")
        self.assertEqual(lines(p.stdout)[0]["body"]["body_len"], 4000)
        with open(blob, "wb") as f:
            f.write(b'{"a": "\0"}')
        p = salvo(self.url("/echo"), "--json", "@" + blob)
        self.assertEqual(p.returncode, 2)
        self.assertIn("NUL", p.stderr)
        p = salvo(self.url("/redirect/2"))
        o = lines(p.stdout)[0]
        self.assertTrue(o["final_url"].endswith("/redirect/0"))
        p = salvo(self.url("/redirect/2"), "--no-location")
        self.assertEqual(lines(p.stdout)[0]["status"], 302)
        # -L is curl's "follow", which is the default anyway.
        p = salvo(self.url("/redirect/2"), "-L")
        self.assertEqual(lines(p.stdout)[0]["status"], 200)
        p = salvo(self.url("/redirect/2"), "--location")
        self.assertEqual(lines(p.stdout)[0]["status"], 200)

    def test_compression_only_when_asked(self):
        p = salvo(self.url("/echo"))
        self.assertNotIn("accept-encoding",
                         lines(p.stdout)[0]["body"]["headers"])
        p = salvo(self.url("/echo"), self.url("/gzip"), "--compressed",
                  "--ordered", "--body", "text")
        echo, gz = lines(p.stdout)
        self.assertIn("gzip", json.loads(echo["body"])["headers"]
                      ["accept-encoding"])
        self.assertEqual(gz["body"], "compressed hello\n")

    def test_flow_options(self):
        urls = [self.url(f"/json/{i}") for i in range(26)]
        t0 = time.time()
        p = salvo(*urls, "--rate", "50/s")
        dt = time.time() - t0
        self.assertEqual(p.returncode, 0)
        # The limit holds: 25 intervals of 20 ms at least. (How close to
        # the rate it runs is bench/'s business.)
        self.assertGreater(dt, 0.45)
        p = salvo(self.url("/flaky?key=cli1&fail=1&status=429"),
                  "--retry-status", "429")
        o = lines(p.stdout)[0]
        self.assertEqual((o["status"], o["attempts"]), (200, 2))
        p = salvo(self.url("/flaky?key=cli2&fail=1&status=503"),
                  "--retry-status", "none")
        self.assertEqual(lines(p.stdout)[0]["attempts"], 1)
        p = salvo(self.url("/hang"), "--timeout", "0.2", "--deadline", "0.5")
        o = lines(p.stdout)[0]
        self.assertEqual(o["error"]["code"], "ETIMEDOUT")
        self.assertIn("deadline", o["error"]["message"])
        p = salvo(self.url("/bytes/5000"), "--max-body", "1k")
        self.assertEqual(lines(p.stdout)[0]["error"]["code"], "ETOOBIG")

    def test_summary(self):
        path = os.path.join(self.tmp.name, "summary.json")
        p = salvo(self.url("/json/1"), self.url("/json/2"),
                  self.url("/status/500"), "http://127.0.0.1:1/",
                  "--retries", "0", "--summary-json", path)
        self.assertEqual(p.returncode, 1)
        self.assertIn("4 requests", p.stderr)
        self.assertIn("2xx 2", p.stderr)
        self.assertIn("5xx 1", p.stderr)
        self.assertIn("ECONNECT 1", p.stderr)
        self.assertIn("p99", p.stderr)
        with open(path) as f:
            s = json.load(f)
        self.assertEqual(s["requests"], 4)
        self.assertEqual(s["failed"], 2)
        self.assertEqual(s["status"], {"2xx": 2, "5xx": 1})
        self.assertEqual(s["errors"], {"ECONNECT": 1})
        for k in ("p50", "p90", "p99", "max"):
            self.assertIn(k, s["latency_ms"])
        self.assertLessEqual(s["latency_ms"]["p50"], s["latency_ms"]["max"])
        p = salvo(self.url("/json/1"), "-q")
        self.assertEqual(p.stderr, "")

    def test_output_dir_stays_inside(self):
        out = os.path.join(self.tmp.name, "out")
        os.mkdir(out)
        outside = os.path.join(self.tmp.name, "evil")
        link = os.path.join(out, "linked")
        os.symlink(os.path.join(self.tmp.name, "target"), link)
        reqs = [
            {"url": self.url("/bytes/100"), "key": "../evil"},
            {"url": self.url("/bytes/101"), "key": "/etc/passwd-salvo"},
            {"url": self.url("/bytes/102"), "key": ".hidden"},
            {"url": self.url("/bytes/103"), "key": ".."},
            {"url": self.url("/bytes/104"), "key": "a/../../b"},
            {"url": self.url("/bytes/105?x=1")},
            {"url": self.url("/json/%2e%2e")},
            {"url": self.url("/bytes/106"), "key": "linked"},
            {"url": self.url("/status/404"), "key": "missing"},
        ]
        text = "".join(json.dumps(r) + "\n" for r in reqs)
        p = salvo("--output-dir", out, "--retries", "0", stdin=text)
        res = {o["index"] - 1: o for o in lines(p.stdout)}
        self.assertEqual(len(res), len(reqs))
        # Nothing outside the directory, nothing through the link.
        self.assertFalse(os.path.exists(outside))
        self.assertFalse(os.path.exists("/etc/passwd-salvo"))
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name,
                                                     "target")))
        self.assertEqual(res[7]["error"]["code"], "EWRITE")
        for i in range(7):
            f = res[i]["file"]
            self.assertEqual(os.path.dirname(os.path.abspath(f)),
                             os.path.abspath(out), f)
            self.assertFalse(os.path.basename(f).startswith("."))
            self.assertEqual(os.path.getsize(f), res[i]["size"])
        self.assertEqual(res[0]["size"], 100)
        self.assertTrue(res[5]["file"].endswith("/6-105"))
        self.assertNotIn("file", res[8])  # a 404 writes no file
        files = set(os.listdir(out))
        self.assertEqual(len(files), 8)  # 7 bodies and the symlink

    def test_output_dir_names_never_collide(self):
        """Keys that would make one file name get two (a/b and a_b, two
        long keys alike at first); a key given twice in one run is
        refused, not written over; a file of an earlier run is written
        over."""
        out = os.path.join(self.tmp.name, "collide")
        long_a, long_b = "k" * 300 + "a", "k" * 300 + "b"
        reqs = [("a/b", 10), ("a_b", 11), ("a b", 12), (long_a, 13),
                (long_b, 14), ("dup", 15), ("dup", 16)]
        text = "".join(json.dumps({"url": self.url(f"/bytes/{n}"),
                                   "key": k}) + "\n" for k, n in reqs)
        p = salvo("--output-dir", out, "--retries", "0", "-c", "1",
                  stdin=text)
        res = {o["index"] - 1: o for o in lines(p.stdout)}
        files = [res[i].get("file") for i in range(6)]
        self.assertEqual(len(set(files)), 6, files)
        for i in range(6):
            self.assertEqual(os.path.getsize(files[i]), reqs[i][1])
        self.assertEqual(os.path.basename(files[1]), "a_b")
        self.assertEqual(res[6]["error"]["code"], "EWRITE")
        self.assertIn("another result of this run", res[6]["error"]["message"])
        self.assertEqual(os.path.getsize(files[5]), 15)  # not written over
        # The next run writes over this run's files.
        text = json.dumps({"url": self.url("/bytes/20"), "key": "a_b"}) + "\n"
        p = salvo("--output-dir", out, stdin=text)
        self.assertIsNone(lines(p.stdout)[0]["error"])
        self.assertEqual(os.path.getsize(files[1]), 20)

    def test_cookie_jar(self):
        jar = os.path.join(self.tmp.name, "jar.txt")
        p = salvo(self.url("/cookies/set?sid=42"), "--cookie-jar", jar)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(jar) as f:
            self.assertIn("sid", f.read())
        p = salvo(self.url("/echo"), "--cookie-jar", jar)
        self.assertEqual(lines(p.stdout)[0]["body"]["headers"]["cookie"],
                         "sid=42")
        p = salvo(self.url("/echo"))
        self.assertNotIn("cookie", lines(p.stdout)[0]["body"]["headers"])

    def test_progress_line_only_on_a_terminal(self):
        urls = [self.url("/delay/150") for _ in range(6)]
        # A pipe: no progress line, only the summary.
        p = salvo(*urls, "-c", "2")
        self.assertNotIn("\r", p.stderr)
        self.assertNotIn("req/s  ", p.stderr)
        # A pseudo-terminal as stderr: redrawn lines.
        master, slave = pty.openpty()
        t0 = time.time()
        proc = subprocess.Popen([ARGS.salvo, *urls, "-c", "2"],
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        seen = b""
        while True:
            r, _, _ = select.select([master], [], [], 10)
            if not r:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        proc.wait(timeout=10)
        elapsed = time.time() - t0
        os.close(master)
        text = seen.decode()
        self.assertIn("\r\x1b[K", text)
        self.assertIn("/6 (", text)  # done/total
        self.assertIn("req/s", text)
        draws = text.count("\r\x1b[K")
        # At least 0.45 s of work (the server's delays): at most 10 redraws
        # a second, plus the last and the clearing one.
        self.assertGreaterEqual(draws, 3)
        self.assertLessEqual(draws, 10 * elapsed + 2,
                             f"{draws} redraws in {elapsed:.2f} s")
        self.assertIn("6 requests", text)
        # -q: nothing at all.
        master, slave = pty.openpty()
        proc = subprocess.Popen([ARGS.salvo, *urls[:2], "-q"],
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        proc.wait(timeout=10)
        r, _, _ = select.select([master], [], [], 0.2)
        quiet = b""
        if r:
            try:
                quiet = os.read(master, 4096)
            except OSError:
                pass
        os.close(master)
        self.assertEqual(quiet, b"")

    def test_progress_counts_a_file_then_reads_it_all(self):
        """With a progress line, a regular input file is counted first
        (through stdio) and then read from the start by the command's own
        reader: every line once, the total right."""
        path = os.path.join(self.tmp.name, "count.txt")
        with open(path, "w") as f:
            f.write("# counted out\n")
            for i in range(1500):
                f.write(self.url(f"/json/{i}") + "\n")
        for how in ("-i", "<"):
            master, slave = pty.openpty()
            args = [ARGS.salvo, "-c", "8"] + (["-i", path] if how == "-i"
                                              else [])
            with open(path) as stdin:
                proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                        stderr=slave, stdin=stdin)
                os.close(slave)
                out, _ = proc.communicate(timeout=60)
            seen = b""
            while select.select([master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            os.close(master)
            self.assertEqual(proc.returncode, 0, how)
            got = sorted(o["index"] for o in lines(out.decode()))
            self.assertEqual(got, list(range(2, 1502)), how)
            self.assertIn(b"/1500 (", seen, how)

    def wait_inflight(self, n, limit=30):
        """Until the server has n requests in flight (its own record)."""
        t0 = time.time()
        while self.srv.stats()["inflight"] < n:
            self.assertLess(time.time() - t0, limit, "requests never came")
            time.sleep(0.02)

    def test_interrupt(self):
        """Each request cut short by SIGINT gets its line, ECANCELED; what
        completed keeps its result."""
        urls = [self.url("/json/1")] + [self.url("/hang")] * 5
        proc = subprocess.Popen([ARGS.salvo, *urls, "--ordered"],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        # The command writes each result as it completes: the first line
        # is /json/1's, in before the interrupt (a busy machine may take
        # its time over it).
        first = proc.stdout.readline()
        self.wait_inflight(5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        out = first + out
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("interrupted: 5 requests cancelled", err)
        res = lines(out)
        self.assertEqual([o["index"] for o in res], list(range(1, 7)))
        self.assertEqual(res[0]["status"], 200)
        for o in res[1:]:
            self.assertEqual(o["error"]["code"], "ECANCELED")
            self.assertIsNone(o["status"])

    def test_shards_split_by_origin(self):
        """4 shards run as 4 processes at once do what one run does: the
        same results, each request sent once, each origin in one shard."""
        servers = [self.srv] + [Faultd(ARGS.faultd) for _ in range(7)]
        try:
            for sv in servers:
                urlopen_reset(sv)
            path = os.path.join(self.tmp.name, "shard-urls.txt")
            with open(path, "w") as f:
                for i in range(400):
                    f.write(servers[i % 8].url(f"/flaky?key=s{i}&fail=0")
                            + "\n")
            procs = [subprocess.Popen(
                [ARGS.salvo, "-i", path, "-q", "--shard", f"{k}/4", "-o",
                 os.path.join(self.tmp.name, f"shard{k}.jsonl")])
                for k in range(4)]
            for p in procs:
                self.assertEqual(p.wait(timeout=120), 0)
            shard_of = {}
            got = []
            for k in range(4):
                with open(os.path.join(self.tmp.name,
                                       f"shard{k}.jsonl")) as f:
                    for o in lines(f.read()):
                        port = o["url"].split(":")[2].split("/")[0]
                        self.assertEqual(shard_of.setdefault(port, k), k)
                        got.append((o["key"], o["url"], o["status"]))
            counts = {}
            for sv in servers:
                for key, n in sv.stats()["keys"].items():
                    counts[key] = counts.get(key, 0) + n
            self.assertEqual(sorted(counts.values()), [1] * 400)
            one = salvo("-i", path, "-q")
            self.assertEqual(one.returncode, 0, one.stderr)
            want = [(o["key"], o["url"], o["status"])
                    for o in lines(one.stdout)]
            self.assertEqual(sorted(got), sorted(want))
            self.assertGreater(len(shard_of), 1)
            bad = salvo("--shard", "4/4", self.url("/json/1"))
            self.assertEqual(bad.returncode, 2)
            self.assertIn("--shard", bad.stderr)
        finally:
            for sv in servers[1:]:
                sv.stop()

    def test_resume_after_interrupt(self):
        """An interrupted run resumed into its own output file: the file
        ends with one line per input, and no request that had finished is
        sent again (the server counts what the resumed run sends)."""
        urls = [self.url(f"/delay/150?i={i}") for i in range(60)]
        path = os.path.join(self.tmp.name, "resume-urls.txt")
        out = os.path.join(self.tmp.name, "resume-out.jsonl")
        with open(path, "w") as f:
            f.write("\n".join(urls) + "\n")
        urlopen_reset(self.srv)
        proc = subprocess.Popen([ARGS.salvo, "-i", path, "-c", "10", "-q",
                                 "-o", out], stderr=subprocess.PIPE,
                                text=True)
        t0 = time.time()
        # A guard against a hang, not a speed bound: 25 requests of 150 ms
        # at concurrency 10 take about 0.4 s.
        while (seen := self.srv.stats()["requests"]) < 25:
            waited = time.time() - t0
            self.assertLess(waited, 60, f"only {seen} of 25 requests came "
                            f"in {waited:.1f} s")
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
        with open(out) as f:
            first = lines(f.read())
        finished = [o for o in first if not o["error"]]
        self.assertTrue(0 < len(finished) < 60, len(finished))
        urlopen_reset(self.srv)
        p = salvo("-i", path, "-c", "10", "--resume", out, "-o", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"{len(finished)} done before (--resume)", p.stderr)
        self.assertEqual(self.srv.stats()["requests"], 60 - len(finished))
        with open(out) as f:
            final = lines(f.read())
        self.assertEqual(sorted(int(o["key"]) for o in final),
                         list(range(1, 61)))
        self.assertTrue(all(o["status"] == 200 for o in final))
        # A missing file is an empty past: everything runs.
        p = salvo("--resume", os.path.join(self.tmp.name, "none.jsonl"),
                  self.url("/json/1"))
        self.assertEqual(len(lines(p.stdout)), 1)

    def test_secrets_never_printed(self):
        p = salvo("-u", "user:PASSSECRET", self.url("/redirect/1"),
                  "http://u:URLSECRET@127.0.0.1:%d/redirect/1" % self.srv.port,
                  "--bearer", "TOKENSECRET", "-x",
                  "http://pu:PROXYSECRET@127.0.0.1:1", "--retries", "0",
                  "--fail-status", "none")
        for secret in ("PASSSECRET", "URLSECRET", "TOKENSECRET",
                       "PROXYSECRET"):
            self.assertNotIn(secret, p.stdout + p.stderr)
        p = salvo("-u", "user:PASSSECRET", self.url("/redirect/1"))
        o = lines(p.stdout)[0]
        self.assertEqual(o["final_url"], self.url("/redirect/0"))
        self.assertNotIn("PASSSECRET", p.stdout + p.stderr)

    def test_crlf_options_are_refused(self):
        urlopen_reset(self.srv)
        for opt in (["-A", "ua\r\nX-Injected: 1"],
                    ["--bearer", "t\r\nX-Injected: 1"],
                    ["-u", "u:p\nX-Injected: 1"],
                    ["-H", "X-A: 1\r\nX-Injected: 1"],
                    ["-x", "http://a\r\nb:1"]):
            p = salvo(*opt, self.url("/echo"))
            self.assertEqual(p.returncode, 2, opt)
            self.assertIn("CR or LF", p.stderr, opt)
            self.assertEqual(p.stdout, "")
        # Refused before any request: the server saw none.
        self.assertEqual(self.srv.stats()["requests"], 0)

    def test_write_errors_fail_the_run(self):
        text = "".join(self.url(f"/json/{i}") + "\n" for i in range(2000))
        with open("/dev/full", "w") as full:
            p = subprocess.run([ARGS.salvo, "-q"], input=text, stdout=full,
                               stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("No space left", p.stderr)
        p = salvo("-q", "-o", "/dev/full", self.url("/json/1"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("/dev/full", p.stderr)
        p = salvo("-q", "--summary-json", "/dev/full", self.url("/json/1"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("/dev/full", p.stderr)

    def test_output_is_valid_utf8(self):
        bad = [b"\xed\xa0\x80", b"\xe0\x80\x80", b"\xf4\x90\x80\x80",
               b"\xc0\xaf", b"\xff"]
        text = b"".join(self.srv.base.encode() + b"/x" + b + b"\n"
                        for b in bad) + self.srv.base.encode() + \
            b"/caf\xc3\xa9\n"
        p = subprocess.run([ARGS.salvo, "-q", "--fail-status", "none"],
                           input=text, capture_output=True, timeout=60)
        out = p.stdout.decode("utf-8")  # strict: raises on a bad byte
        urls = [o["url"] for o in lines(out)]
        self.assertEqual(len(urls), 6)
        self.assertTrue(any(u.endswith("/caf\u00e9") for u in urls))
        for u in urls:
            if "caf" not in u:
                self.assertIn("\ufffd", u)

    def test_nul_byte_rejects_the_line(self):
        text = (self.url("/json/1") + "\0" + "/evil\n" +
                self.url("/json/2") + "\n")
        p = salvo(stdin=text)
        self.assertEqual(p.returncode, 1)
        self.assertIn("input line 1: a NUL byte", p.stderr)
        out = lines(p.stdout)
        self.assertEqual([o["index"] for o in out], [2])

    def test_url_without_scheme_is_http(self):
        bare = "127.0.0.1:%d/json/3" % self.srv.port
        p = salvo(bare)
        self.assertEqual(p.returncode, 0, p.stderr)
        o = lines(p.stdout)[0]
        self.assertEqual(o["body"]["id"], 3)
        self.assertEqual(o["url"], "http://" + bare)
        p = salvo(stdin=json.dumps({"url": bare, "key": 7}) + "\n")
        o = lines(p.stdout)[0]
        self.assertEqual((o["key"], o["status"]), ("7", 200))

    def test_input_lines_read_as_they_come(self):
        """A line is run as soon as it arrives on a pipe, before the next
        is written; CRLF endings, a line longer than the command's read
        block (64 KiB) and a last line without a newline all read whole."""
        proc = subprocess.Popen([ARGS.salvo, "-q"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE)
        try:
            def result():
                r, _, _ = select.select([proc.stdout], [], [], 30)
                self.assertTrue(r, "no result while the input stays open")
                return json.loads(proc.stdout.readline())
            first = self.url("/json/1")
            proc.stdin.write((first + "\n").encode())
            proc.stdin.flush()
            self.assertEqual(result()["url"], first)
            big = "b" * 100_000
            proc.stdin.write((self.url("/json/2") + "\r\n" +
                              json.dumps({"url": self.url("/echo"),
                                          "body": big}) + "\n" +
                              self.url("/json/4")).encode())
            proc.stdin.close()
            out = [json.loads(line) for line in proc.stdout]
            self.assertEqual(proc.wait(timeout=30), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        by_index = {o["index"]: o for o in out}
        self.assertEqual(sorted(by_index), [2, 3, 4])
        self.assertEqual(by_index[2]["url"], self.url("/json/2"))
        self.assertEqual(by_index[2]["body"]["id"], 2)
        self.assertEqual(by_index[3]["body"]["body"], big)
        self.assertEqual(by_index[4]["url"], self.url("/json/4"))
        self.assertEqual(by_index[4]["body"]["id"], 4)

    def test_non_blocking_stdin_is_waited_for(self):
        """A pipe handed over non-blocking (O_NONBLOCK, as some shells and
        supervisors leave it) is empty for a while, not at its end: the
        line that comes later is still run."""
        r, w = os.pipe()
        os.set_blocking(r, False)
        proc = subprocess.Popen([ARGS.salvo, "-q"], stdin=r,
                                stdout=subprocess.PIPE)
        os.close(r)
        try:
            os.write(w, (self.url("/json/1") + "\n").encode())
            ready, _, _ = select.select([proc.stdout], [], [], 30)
            self.assertTrue(ready, "no result for the first line")
            first = json.loads(proc.stdout.readline())
            time.sleep(0.2)  # the pipe stays empty, and open
            os.write(w, (self.url("/json/2") + "\n").encode())
            os.close(w)
            w = -1
            rest = [json.loads(line) for line in proc.stdout]
            self.assertEqual(proc.wait(timeout=30), 0)
        finally:
            if w >= 0:
                os.close(w)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual([first["index"]] + [o["index"] for o in rest],
                         [1, 2])

    def test_non_blocking_stdout_is_waited_for(self):
        """Output to a pipe handed over non-blocking, read slowly: when the
        pipe is full the command waits for room (EAGAIN is not a failed
        write), and every result arrives whole."""
        urls = [self.url(f"/bytes/200?i={i}") for i in range(1500)]
        r, w = os.pipe()
        os.set_blocking(w, False)
        proc = subprocess.Popen([ARGS.salvo, "-q", "-c", "16", "--body",
                                 "base64"], stdin=subprocess.PIPE, stdout=w,
                                stderr=subprocess.PIPE)
        os.close(w)
        proc.stdin.write(("\n".join(urls) + "\n").encode())
        proc.stdin.close()
        try:
            time.sleep(1)  # the pipe's 64 KiB fill long before this
            data = b""
            while True:
                chunk = os.read(r, 65536)
                if not chunk:
                    break
                data += chunk
            err = proc.stderr.read().decode()
            self.assertEqual(proc.wait(timeout=30), 0, err)
        finally:
            os.close(r)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out = lines(data.decode())
        self.assertEqual(sorted(o["index"] for o in out),
                         list(range(1, 1501)))
        self.assertTrue(all(o["status"] == 200 for o in out))

    def test_every_url_printed_as_given_whatever_came_before(self):
        """The command passes its URL buffers from line to line: at -c 1
        every buffer serves many lines, long after short, short after
        long, across refused lines. Each result's url is its own line's,
        with http:// added and userinfo cut, nothing of another's."""
        port = self.srv.port
        want, text = {}, []
        for i in range(120):
            pad = "p" * (i * 37 % 3000)
            kind = i % 6
            if kind == 0:
                url = self.url(f"/json/{i}?pad={pad}")
                text.append(url)
            elif kind == 1:
                url = f"127.0.0.1:{port}/json/{i}"
                text.append(url)
                url = "http://" + url
            elif kind == 2:
                url = self.url(f"/json/{i}")
                text.append(json.dumps({"url": url, "key": f"k{i}"}))
            elif kind == 3:
                text.append(f"http://u:URLSECRET@127.0.0.1:{port}/json/{i}"
                            f"?{pad}")
                url = f"http://127.0.0.1:{port}/json/{i}?{pad}"
            elif kind == 4:
                text.append(json.dumps({"url": self.url(f"/json/{i}?{pad}"),
                                        "bogus": 1}))  # refused
                continue
            else:
                url = self.url(f"/json/{i}")
                text.append(url)
            want[len(text)] = url
        p = salvo("-c", "1", stdin="\n".join(text) + "\n")
        self.assertEqual(p.returncode, 1)  # the refused lines
        self.assertNotIn("URLSECRET", p.stdout + p.stderr)
        out = lines(p.stdout)
        self.assertEqual(len(out), len(want))
        for o in out:
            self.assertEqual(o["url"], want[o["index"]], o["index"])
            self.assertEqual(o["status"], 200, o)

    def test_output_dir_is_created(self):
        d = os.path.join(self.tmp.name, "made", "here")
        p = salvo("--output-dir", d, self.url("/bytes/10"))
        self.assertEqual(p.returncode, 0, p.stderr)
        o = lines(p.stdout)[0]
        self.assertEqual(os.path.getsize(o["file"]), 10)
        p = salvo("--output-dir", "/dev/null/x", self.url("/bytes/10"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("cannot create", p.stderr)

    def test_memory_stays_flat(self):
        """Input is read as slots free up: 200,000 lines at concurrency 256
        stay far under 64 MiB (the 1,000,000-line run is in bench/)."""
        n = 200000 if not ARGS.sanitized else 20000
        path = os.path.join(self.tmp.name, "many.txt")
        with open(path, "w") as f:
            for i in range(n):
                f.write(f"{self.srv.base}/json/{i}\n")
        outp = os.path.join(self.tmp.name, "many.jsonl")
        t0 = time.time()
        proc = subprocess.Popen([ARGS.salvo, "-i", path, "-c", "256",
                                 "--body", "none", "-o", outp, "-q"])
        _, status, usage = os.wait4(proc.pid, 0)
        dt = time.time() - t0
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        with open(outp) as f:
            count = sum(1 for _ in f)
        self.assertEqual(count, n)
        rss_mib = usage.ru_maxrss / 1024
        print(f"\n{n} lines at concurrency 256: {dt:.1f} s, "
              f"peak RSS {rss_mib:.1f} MiB", file=sys.stderr)
        if not ARGS.sanitized:
            self.assertLess(rss_mib, 64)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def threads_waiting(pid):
    """Each thread of pid: its name, the kernel function it sleeps in and
    its system call (number and arguments, /proc's syscall file)."""
    out = []
    for tid in sorted(os.listdir(f"/proc/{pid}/task")):
        fields = []
        for name in ("comm", "wchan", "syscall"):
            try:
                with open(f"/proc/{pid}/task/{tid}/{name}") as f:
                    fields.append(f.read().strip())
            except OSError as e:
                fields.append(f"({name}: {e.strerror})")
        out.append(f"{tid} " + " | ".join(fields))
    return "; ".join(out)


class CliOptionsTest(WithFaultd):
    """Each option of the command shown to do what it says, by what the
    servers recorded (peaks, arrival times, requests, headers) or what
    could only come from the option."""

    FAULTD_ARGS = ("--log-starts",)

    def run_urls(self, *args, urls=(), timeout=60):
        p = salvo(*args, stdin="\n".join(urls) + "\n", timeout=timeout)
        return p, lines(p.stdout)

    def test_per_host_caps_each_origin(self):
        urlopen_reset(self.srv)
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
        urlopen_reset(self.srv)
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
        urlopen_reset(self.srv)
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
        urlopen_reset(self.srv)
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
        urlopen_reset(self.srv)
        p = salvo("-q", "-c", "1", "--queue-timeout", "0.3", "--ordered",
                  self.url("/delay/1500"), self.url("/json/1"))
        out = lines(p.stdout)
        self.assertEqual(out[0]["status"], 200)
        self.assertEqual(out[1]["error"]["code"], "ETIMEDOUT", out[1])
        self.assertEqual(out[1]["attempts"], 0)
        self.assertEqual(self.srv.stats()["requests"], 1)

    def test_transport(self):
        """--transport picks the transport: a refused connection is told in
        each one's words; an unknown name is a usage error."""
        msgs = {}
        for t in ("native", "libcurl"):
            p = salvo("-q", "--retries", "0", "--transport", t,
                      "http://127.0.0.1:1/")
            o = lines(p.stdout)[0]
            self.assertEqual(o["error"]["code"], "ECONNECT")
            msgs[t] = o["error"]["message"]
        self.assertIn("Couldn't connect", msgs["libcurl"])
        self.assertNotEqual(msgs["native"], msgs["libcurl"])
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
        urlopen_reset(self.srv)
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
    ap = argparse.ArgumentParser()
    ap.add_argument("--salvo", required=True)
    ap.add_argument("--faultd", required=True)
    ap.add_argument("--sanitized", action="store_true")
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
