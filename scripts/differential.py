#!/usr/bin/env python3
"""differential.py BUILD [N] [SEED]: the same bytes through both transports.

Mutates N responses (default 3000) of the conformance corpus
(tests/conformance/responses.jsonl) with SEED (default 1): bytes changed,
dropped, doubled or inserted, header lines and chunked bodies put in, one
response spliced onto another. faultd (BUILD/tests/faultd, on 127.0.0.1)
sends each as it is (/wire), and the command (BUILD/salvo) fetches all of
them once per transport, 16 at a time, without retries or redirects.
Prints each case whose status, error code or body differ (the first 20,
or SHOW=K), then the count by kind; exits 1 when any differ. With KEEP=1
faultd keeps each connection open after the bytes (/wire?keep=1), so that
what a response leaves behind meets the next request on it. With
REQUESTS=1 it is the requests that vary instead (paths, queries, params,
methods, headers, bodies, a redirect on the way), and what faultd's /echo
saw of each is compared: the method, the target, the headers (but
User-Agent), the body. EXTRA="..." adds options of the command to both
runs (-u user:pass, -H 'X: 1', --compressed, -X POST...). With H2=1
the responses are HTTP/2 ones instead (run it with /usr/bin/python3,
which has Debian's python3-h2): status, fields and trailers made up from
a pool of names and values (pseudo-headers out of place, connection-
specific fields, whitespace, controls, Content-Length against the DATA),
served over prior knowledge by a server of its own on 127.0.0.1. With
FRONT=1 (and REQUESTS=1) the varied requests go over HTTP/2 with prior
knowledge to tests/h2front.py in front of faultd, which passes each on to
faultd as HTTP/1.1: what the two transports send over HTTP/2, compared.

A difference is a lead, not a verdict: docs/design.md names the ones left
(libcurl 7.88 hides the bytes behind them). Run it under load too (busy
loops beside it): a swapped pair of answers, the same case differing
between two runs, is only seen there."""
import base64
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEEP = os.environ.get("KEEP") == "1"
REQUESTS = os.environ.get("REQUESTS") == "1"
TIMEOUT = "2" if KEEP else "5"  # a body only a close would end: waited for
SPECIAL = b"\r\n \t:;0129aAfF-+\x00\x7f\x80\xff\x0b\x0c\"\\,=xX"
LINES = [b"Content-Length: 3\r\n", b"Content-Length: 0\r\n",
         b"Content-Length: 5, 5\r\n", b"Content-Length: +5\r\n",
         b"Content-Length: 99999999999999999999\r\n",
         b"Transfer-Encoding: chunked\r\n",
         b"Transfer-Encoding: gzip, chunked\r\n",
         b"Transfer-Encoding: chunked, identity\r\n",
         b"Transfer-Encoding: identity\r\n", b"Content-Encoding: gzip\r\n",
         b"Connection: close\r\n", b" folded\r\n", b"\tfolded\r\n",
         b"X: a\rb\r\n", b"Trailer: X\r\n", b"Content-Length:  5 \r\n",
         b"Set-Cookie: a=b\r\n", b"Location: /x\r\n", b"X-Null: a\x00b\r\n",
         b"Content-Encoding: identity\r\n", b"Content-Encoding: br\r\n"]
CHUNKED = [b"5\r\nhello\r\n0\r\n\r\n", b"5;a=b\r\nhello\r\n0\r\n\r\n",
           b"0\r\n\r\n", b"5\r\nhel", b"ff\r\nx\r\n0\r\n\r\n",
           b"5 \r\nhello\r\n0\r\n\r\n", b"0\r\nX: y\r\n\r\n", b"-1\r\n\r\n",
           b"0x5\r\nhello\r\n0\r\n\r\n", b"5\nhello\n0\n\n",
           b"00000000000000005\r\nhello\r\n0\r\n\r\n"]


def mutate(rnd, wire, corpus):
    w = bytearray(wire)
    for _ in range(rnd.randint(1, 3)):
        kind, i = rnd.randrange(7), rnd.randrange(len(w) + 1)
        if kind == 0 and w:
            w[min(i, len(w) - 1)] = rnd.choice(SPECIAL)
        elif kind == 1 and w:
            del w[min(i, len(w) - 1)]
        elif kind == 2:
            w[i:i] = bytes([rnd.choice(SPECIAL)])
        elif kind == 3:
            at = w.find(b"\r\n") + 2 if b"\r\n" in w else i
            w[at:at] = rnd.choice(LINES)
        elif kind == 4 and b"\r\n\r\n" in w:
            w[w.find(b"\r\n\r\n") + 4:] = rnd.choice(CHUNKED)
        elif kind == 5 and len(w) > 4:
            j = rnd.randrange(len(w))
            w[j:j] = w[j:j + rnd.randint(1, 8)]
        elif kind == 6:
            other = rnd.choice(corpus)[0]
            w = w[:i] + other[rnd.randrange(len(other) + 1):]
    return bytes(w)


PIECES = ["a", "/", "%", "%2F", "%41", "%zz", "?", "#", "&", "=", " ", "\u00e9",
          "\t", ";", "..", ".", "//", "~", "+", "[", "]", "@", ":", "'", '"',
          "<", ">", "{", "}", "|", "\\", "^", "`", "%00", "\u2603", "\x7f"]
NAMES = ["X-A", "x-b", "Accept", "User-Agent", "Host", "Content-Type",
         "Cookie", "Accept-Encoding", "Referer", "Authorization", "Te",
         "Connection", "Expect", "Content-Length", "Transfer-Encoding",
         "X Bad", "X:Colon", "", "X-\u00e9"]
VALUES = ["v", "", " lead", "trail ", "a,b", "x\ty", "\u00e9", "%41",
          "100-continue", "close", "chunked", "5", "gzip", "a" * 300]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get",
           "FOO", "X Y", ""]


def pieces(rnd, pool, n):
    """Up to n of pool's pieces drawn by rnd, joined."""
    return "".join(rnd.choice(pool) for _ in range(rnd.randint(0, n)))


def request(rnd, base):
    """A request line of the command's input, its parts drawn by rnd."""
    def text(n):
        return pieces(rnd, PIECES, n)
    r = {"url": base + "/echo/" + text(8)}
    if rnd.random() < .5:
        r["url"] += "?" + text(8)
    if rnd.random() < .3:  # to /echo by way of a redirect
        r["url"] = (base + "/redirect-to?status="
                    + rnd.choice(["301", "302", "303", "307", "308"])
                    + "&url=" + urllib.parse.quote(r["url"], safe=""))
    if rnd.random() < .3:
        r["method"] = rnd.choice(METHODS)
    if rnd.random() < .5:
        r["headers"] = {rnd.choice(NAMES): rnd.choice(VALUES)
                        for _ in range(rnd.randint(1, 3))}
    if rnd.random() < .3:
        r["params"] = {text(4): text(4) for _ in range(rnd.randint(1, 2))}
    if rnd.random() < .2:
        r["body"] = text(10)
    elif rnd.random() < .1:
        r["json"] = {"k": text(5)}
    return r


H2 = os.environ.get("H2") == "1"
FRONT = os.environ.get("FRONT") == "1"
H2_BYTES = "aZ0-_ :;,=\"\t\x00\x01\x7f\x80\xe9\xff/%.~!#$&'*+^`|"
H2_NAMES = ["x-a", "content-length", "content-type", "set-cookie",
            "location", "content-encoding", "connection", "te",
            "transfer-encoding", "keep-alive", "upgrade", "trailer", "vary",
            ":status", ":path", ":foo", "X-Up", "x a", "", "\xe9", "x\x00"]
H2_STATUS = ["200", "200", "200", "204", "304", "404", "100", "103", "101",
             "2000", "20", "abc", "099", "600", "", "200 "]


def h2_case(rnd):
    """A made-up HTTP/2 response: (head, body, trailers or None), fields
    as (name, value) strings of bytes up to 0xff."""
    def text(n):
        return pieces(rnd, H2_BYTES, n)

    def field():
        name = rnd.choice(H2_NAMES) if rnd.random() < 0.5 else text(6)
        return name, rnd.choice(["ok", "", " v", "v ", "5", "-1", "1,1",
                                 "gzip", "a=1; Path=/", "/x", text(8)])
    body = rnd.choice(["", "ok", "x" * rnd.randint(0, 50), text(10)])
    head = [(":status", rnd.choice(H2_STATUS))] if rnd.random() < 0.9 else []
    for _ in range(rnd.randint(0, 4)):
        head.insert(rnd.randint(0, len(head)), field())
    if rnd.random() < 0.3:
        head.append(("content-length",
                     str(len(body) + rnd.choice([0, 0, 1, -1]))))
    trailers = ([field() for _ in range(rnd.randint(1, 2))]
                if rnd.random() < 0.2 else None)
    return head, body, trailers


def h2_serve(cases):
    """A server on 127.0.0.1 answering /case/K over HTTP/2 with prior
    knowledge, as cases[K][0] says (what python3-h2 will not send resets
    the stream): its port."""
    import socket
    import threading
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import h2.events
    from h2conn import server_connection

    def latin(fields):
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in fields]

    def answer(conn, sid, case):
        head, body, trailers = case
        try:
            conn.send_headers(sid, latin(head),
                              end_stream=not body and not trailers)
            if body:
                conn.send_data(sid, body.encode("latin-1"),
                               end_stream=not trailers)
            if trailers:
                conn.send_headers(sid, latin(trailers), end_stream=True)
        except Exception:  # refused by python3-h2 itself
            conn.reset_stream(sid)

    def serve(sock):
        conn = server_connection()
        conn.initiate_connection()
        try:
            sock.sendall(conn.data_to_send())
            while data := sock.recv(65536):
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        path = dict(ev.headers)[b":path"].decode()
                        answer(conn, ev.stream_id,
                               cases[path.split("/")[-1]][0])
                sock.sendall(conn.data_to_send())
        except Exception:
            pass  # the client went, or python3-h2 ended the connection
        finally:
            sock.close()

    ls = socket.create_server(("127.0.0.1", 0))

    def accept():
        while True:
            s, _ = ls.accept()
            threading.Thread(target=serve, args=(s,), daemon=True).start()
    threading.Thread(target=accept, daemon=True).start()
    return ls.getsockname()[1]


def seen(body):
    """What /echo says it saw, as compared: the client's own User-Agent
    aside."""
    if not body:
        return body
    try:
        echo = json.loads(base64.b64decode(body))
        headers = {k: v for k, v in echo["headers"].items()
                   if k != "user-agent"}
        return json.dumps([echo["method"], echo["target"], headers,
                           echo["body"]], sort_keys=True)
    except (ValueError, KeyError, TypeError):
        return body


def fetch(build, transport, lines):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as f:
        f.write("\n".join(lines) + "\n")
        f.flush()
        out = subprocess.run(
            [os.path.join(build, "salvo"), "--transport", transport,
             "--retries", "0", "-L" if REQUESTS else "--no-location",
             "--body", "base64", "-q",
             "-c", "16", "--timeout", TIMEOUT, "-i", f.name]
            + (["--http2-prior-knowledge"] if H2 or FRONT else [])
            + os.environ.get("EXTRA", "").split(),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            check=False).stdout
    got = {}
    for line in out.splitlines():
        r = json.loads(line)
        e = r.get("error") or {}
        got[r["key"]] = (r.get("status"), e.get("code"), r.get("body"),
                         e.get("message"))
    return got


def main(build, n=3000, seed=1):
    # Stopped: faultd is stopped too (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rnd = random.Random(seed)
    with open(os.path.join(ROOT, "tests/conformance/responses.jsonl")) as f:
        corpus = [(json.loads(l)["wire"].encode("latin-1"),
                   json.loads(l).get("method", "GET")) for l in f]
    faultd = subprocess.Popen([os.path.join(build, "tests/faultd"),
                               "--port", "0"], stdout=subprocess.PIPE,
                              text=True)
    front = None
    try:
        port = int(faultd.stdout.readline().split()[1])
        if FRONT:
            front = subprocess.Popen(
                ["/usr/bin/python3", os.path.join(ROOT, "tests/h2front.py"),
                 "--upstream", str(port)], stdout=subprocess.PIPE, text=True)
            port = int(front.stdout.readline().split()[1])
        cases, lines = {}, []
        h2_port = h2_serve(cases) if H2 else 0
        for k in range(n):
            if H2:
                cases[str(k)] = (h2_case(rnd), "GET")
                r = {"url": f"http://127.0.0.1:{h2_port}/case/{k}"}
            elif REQUESTS:
                r = request(rnd, f"http://127.0.0.1:{port}")
                cases[str(k)] = (json.dumps(r), r.get("method", "GET"))
            else:
                wire, method = rnd.choice(corpus)
                wire = mutate(rnd, wire, corpus)
                cases[str(k)] = (wire, method)
                r = {"url": f"http://127.0.0.1:{port}/wire"
                            + ("?keep=1" if KEEP else ""), "method": method,
                     "headers": {"X-Wire": wire.hex()}}
            r["key"] = str(k)
            lines.append(json.dumps(r))
        native = fetch(build, "native", lines)
        curl = fetch(build, "libcurl", lines)
    finally:
        for p in (front, faultd):
            if p:
                p.kill()
                p.wait()
    kinds, shown = collections.Counter(), int(os.environ.get("SHOW", "20"))
    for k, (wire, method) in cases.items():
        a, b = native.get(k), curl.get(k)
        if REQUESTS and a is None and b is None:
            continue  # refused by the command itself, alike
        if REQUESTS and a and b:
            a, b = (a[0], a[1], seen(a[2]), a[3]), (b[0], b[1], seen(b[2]), b[3])
        # An HTTP/2 stream that fails after its head was whole (DATA
        # against a 304, past Content-Length, malformed trailers): the
        # native transport has its status and the body so far; libcurl
        # 7.88 has neither when the failing frame came in the same read
        # as the head (it hands them over after that read). So with an
        # error on both, the errors are compared, not what came before.
        if H2 and a and b and a[1] and b[1]:
            a, b = (None, a[1], None, a[3]), (None, b[1], None, b[3])
        if a is None or b is None or a[:3] != b[:3]:
            a, b = a or ("missing",) * 4, b or ("missing",) * 4
            kinds[(a[1] or a[0], b[1] or b[0])] += 1
            if shown:
                shown -= 1
                print(k, method, repr(wire[:300]))
                print("   native :", a[0], a[1], a[3] or a[2])
                print("   libcurl:", b[0], b[1], b[3] or b[2])
    print(f"{sum(kinds.values())} of {n} differ (seed {seed})")
    for (x, y), count in kinds.most_common():
        print(f"  {count}  native {x}, libcurl {y}")
    return 1 if kinds else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], *map(int, sys.argv[2:4])))
