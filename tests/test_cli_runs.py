#!/usr/bin/env python3
"""The command's runs against faultd: the progress line, interrupts,
shards and --resume, secrets, write errors, the bytes it writes, input
and output that come and go as they will, and memory that stays flat."""
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

from cli_common import ARGS, Faultd, WithFaultd, lines, main, salvo


class CliRunTest(WithFaultd):
    """A run from its first line read to its last written."""

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
                sv.reset()
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
        self.srv.reset()
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
        self.srv.reset()
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

    def test_resume_after_a_line_cut_short(self):
        """A run killed in the middle of writing a line (SIGKILL, a full
        disk) leaves half a line at the end: --resume counts the whole
        lines only, sends the cut one's request again, and the file ends
        with one whole line per input."""
        path = os.path.join(self.tmp.name, "cut-urls.txt")
        out = os.path.join(self.tmp.name, "cut-out.jsonl")
        with open(path, "w") as f:
            f.write("".join(self.url(f"/json/{i}") + "\n" for i in range(3)))
        p = salvo("-i", path, "--ordered", "-o", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out) as f:
            whole = f.read().splitlines(keepends=True)
        with open(out, "w") as f:  # the third line cut in its middle
            f.write(whole[0] + whole[1] + whole[2][:20])
        self.srv.reset()
        p = salvo("-i", path, "--resume", out, "-o", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("2 done before (--resume)", p.stderr)
        self.assertEqual(self.srv.stats()["requests"], 1)
        with open(out) as f:
            final = lines(f.read())
        self.assertEqual(sorted(o["key"] for o in final), ["1", "2", "3"])

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
        self.srv.reset()
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


if __name__ == "__main__":
    main()
