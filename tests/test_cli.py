#!/usr/bin/env python3
"""Drives the real salvo binary against faultd: one JSON line per input,
input handling, errors and exit codes, the man page, order, body modes,
what request options send, the summary, --output-dir, the cookie jar.
(test_cli_runs.py: a run's life; test_cli_options.py: each flow and
connection option.)"""
import base64
import json
import os
import time
import urllib.parse

from cli_common import ARGS, H2, WithFaultd, lines, main, salvo


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
            '{"url": "%s", "url": "%s"}' % (self.url("/json/4"),
                                             self.url("/json/5")),
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
            # A field twice: which was meant, the line does not say.
            self.assertTrue(any("input line 8:" in e and "given twice" in e
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
        # A UTF-8 byte order mark before the first line is not part of it
        # (it made the URL's scheme unknown); a CRLF ending neither.
        with open(path, "wb") as f:
            f.write(b"\xef\xbb\xbf" + self.url("/json/1").encode() + b"\r\n")
        p = salvo("-i", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(lines(p.stdout)[0]["status"], 200)

    def test_errors_and_exit_codes(self):
        p = salvo(self.url("/json/1"), "http://127.0.0.1:1/", "ftp://x/",
                  "--retries", "0")
        self.assertEqual(p.returncode, 1)
        out = {o["index"]: o for o in lines(p.stdout)}
        self.assertEqual(out[2]["error"]["code"], "ECONNECT")
        self.assertIsNone(out[2]["status"])
        self.assertEqual(out[3]["error"]["code"], "EINVAL")
        self.assertIn("ftp", out[3]["error"]["message"])
        # A line without a scheme gets curl's http://, even with a "://"
        # further on (it was taken for a scheme, "127.0.0.1:N/echo?next=
        # http", and refused); "http:/" names the slash it lacks.
        p = salvo("--retries", "0", "127.0.0.1:%d/echo?next=http://y/"
                  % self.srv.port, "http:/127.0.0.1/")
        out = {o["index"]: o for o in lines(p.stdout)}
        self.assertEqual((out[1]["status"], out[1]["body"]["query"]),
                         (200, "next=http://y/"), out[1])
        self.assertEqual(out[2]["error"]["code"], "EINVAL")
        self.assertIn("one '/' after \"http:\"", out[2]["error"]["message"])
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
        # application/json in any case, with parameters or without, and
        # a +json suffix (RFC 6839), are JSON; a longer type is not.
        types = {"application/json;charset=utf-8": [1],
                 "Application/JSON": [1],
                 "application/json ; q=1": [1],
                 "application/vnd.api+JSON": [1],
                 "application/jsonp": "[1]",
                 "application/json-seq": "[1]",
                 "application/jso": "[1]"}
        p = salvo(*(self.url("/raw?hex=5b315d&ct=" + urllib.parse.quote(t))
                    for t in types), "--ordered")
        self.assertEqual([o["body"] for o in lines(p.stdout)],
                         list(types.values()))
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

    def test_long_strings_escaped_whole(self):
        # Strings past 64 KiB are escaped a piece at a time: a piece ends
        # before a UTF-8 sequence, never inside one, so the text reads as
        # it was sent (pieces of 65,536 bytes fall on the 'é' of each
        # 5-byte pattern's second byte here).
        unit = "é\x01\"\\"
        raw = unit.encode()
        p = salvo(self.url(f"/raw?hex={raw.hex()}&repeat=40000"),
                  "--body", "text")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(lines(p.stdout)[0]["body"], unit * 40000)
        # A URL of 70 KB is printed as it was given.
        url = self.url("/status/200?q=" + "é%22" * 14000)
        p = salvo(url, "--body", "none")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(lines(p.stdout)[0]["url"], url)

    def test_digest(self):
        """--digest: the first URL goes without credentials and its 401's
        challenge is answered once (faultd's /digest checks the answer and
        counts 2 requests); the next, in turn (-c 1), answers the kept
        challenge at once (1); --basic undoes it, and the 401 is then the
        result; --digest without -u is a usage error."""
        url = self.url("/digest?user=me&pass=pw&algorithm=SHA-256&key=")
        p = salvo("-c", "1", "-u", "me:pw", "--digest", url + "cd1",
                  url + "cd2")
        got = sorted((r["key"], r["status"], r["body"]["algorithm"])
                     for r in lines(p.stdout))
        self.assertEqual(got, [("1", 200, "SHA-256"), ("2", 200, "SHA-256")])
        p = salvo("-u", "me:pw", "--digest", "--basic", url + "cd3")
        self.assertEqual(lines(p.stdout)[0]["status"], 401)
        keys = self.srv.stats()["keys"]
        self.assertEqual([keys.get(k) for k in ("cd1", "cd2", "cd3")],
                         [2, 1, 1])
        p = salvo("--digest", url + "cd4")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--digest: give the credentials with -u", p.stderr)

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


if __name__ == "__main__":
    main()
